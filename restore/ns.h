/* SPDX-License-Identifier: MIT */
/* The container's own namespaces, made again before any file is opened. */
#ifndef CRFS_RESTORE_NS_H
#define CRFS_RESTORE_NS_H

#include <stddef.h>

#include "image.h"

/*
 * crfs-restore itself moves into new namespaces of each kind the image's
 * ns file has and configures them: the sockets it opens next and the tree
 * it forks are born inside.
 */
int ns_restore(struct image *img, char *err, size_t errlen);

/* veth.c: the pairs, made down, then configured and up at the end */
struct crfs_ns;
int veth_create(int sk, const struct crfs_ns *ns, int host_fd, char *err,
		size_t errlen);
int veth_finish(int sk, int host_sk, const struct crfs_ns *ns, char *err,
		size_t errlen);

#endif
