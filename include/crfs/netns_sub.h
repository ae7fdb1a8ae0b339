/* SPDX-License-Identifier: MIT */
/*
 * Network namespaces of the tree other than the root's (zdtm netns_sub):
 * netns_sub lists which process is in which ("PID N" lines), netns.N holds
 * namespace N's state in the ns file's format (its net keys only).
 * Rendered and parsed by lib/image_netns_sub.c.
 */
#ifndef CRFS_NETNS_SUB_H
#define CRFS_NETNS_SUB_H

#include <stddef.h>
#include <sys/types.h>

#include "crfs/format.h"

#define CRFS_F_NETNS_SUB	"netns_sub"
#define CRFS_F_NETNS_FMT	"netns.%u"	/* N from 1 */
#define CRFS_NETNS_SUB_MAX	64		/* namespaces per tree */

struct crfs_netns_member {
	pid_t pid;
	unsigned int idx;	/* 1 .. CRFS_NETNS_SUB_MAX */
};

int render_netns_sub(struct strbuf *sb, const struct crfs_netns_member *m,
		     size_t n);
int parse_netns_sub(struct crfs_text *t, struct crfs_netns_member **m,
		    size_t *n);

#endif
