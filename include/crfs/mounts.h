/* SPDX-License-Identifier: MIT */
/*
 * mounts: the mount tree of the container's own mount namespace (the
 * root's), one line per mount in the order restore attaches them (parents
 * before children, over-mounts in the order they were made), and
 * mnt/ID.tar: the files of each tmpfs that exists only inside it.
 * Rendered and parsed by lib/image_mounts.c.
 */
#ifndef CRFS_MOUNTS_H
#define CRFS_MOUNTS_H

#include <stddef.h>

#include "crfs/format.h"

#define CRFS_F_MOUNTS		"mounts"
#define CRFS_D_MNT		"mnt"		/* mnt/ID.tar */

enum crfs_mnt_kind {
	CRFS_MNT_HOST,		/* a bind of host path `host`, never copied */
	CRFS_MNT_TMPFS,		/* a tmpfs of its own, files in mnt/ID.tar */
	CRFS_MNT_FRESH,		/* proc, sysfs, mqueue, cgroup2: made anew */
	CRFS_MNT_BIND,		/* a part of mount `src` of the container */
};

struct crfs_mount {
	int id, parent;		/* as mountinfo numbered them */
	char *mountpoint;	/* as the container's root sees it */
	char *root;		/* within its file system */
	char *fstype, *source;
	char *opts;		/* per mount: rw,nosuid,nodev,noexec,relatime */
	char *super;		/* the super block's options */
	char *prop;		/* private, shared, unbindable */
	enum crfs_mnt_kind kind;
	char *host;		/* CRFS_MNT_HOST: the source, as the host sees it */
	int src;		/* CRFS_MNT_BIND: the id of the mount bound */
};

struct crfs_mounts {
	struct crfs_mount *m;
	size_t n;
};

int render_mounts(struct strbuf *sb, const struct crfs_mounts *ms);
int parse_mounts(struct crfs_text *t, struct crfs_mounts *ms);
void crfs_mounts_free(struct crfs_mounts *ms);
const char *crfs_mnt_kind_name(enum crfs_mnt_kind k);

#endif
