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

#endif
