/* SPDX-License-Identifier: MIT */
/* The container's own namespaces, made again before any file is opened. */
#ifndef CRFS_RESTORE_NS_H
#define CRFS_RESTORE_NS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "image.h"

/*
 * crfs-restore itself moves into new namespaces of each kind the image's
 * ns file has and configures them: the sockets it opens next and the tree
 * it forks are born inside.
 */
int ns_restore(struct image *img, char *err, size_t errlen);
struct crfs_ns;
/* net state ns into the namespace we are in; does the image have file name */
int ns_restore_net(const struct crfs_ns *ns, char *err, size_t errlen);
bool ns_image_has(const struct image *img, const char *name);
/*
 * netns_sub.c: the tree's network namespaces other than the root's, made
 * after ns_restore (prepare); each process enters its own right after it
 * is forked (enter, child_fail on error); done closes what prepare held.
 */
int netns_sub_prepare(struct image *img, char *err, size_t errlen);
void netns_sub_enter(const struct image *img, int idx, int err_fd);
void netns_sub_done(void);

/*
 * userns.c: the tree's own user namespace and the namespaces it owns (see
 * there).  prepare makes them all (nothing without a user namespace);
 * join enters the one of type nstype instead of unsharing a new one (1),
 * or says there is none (0); helper_pid is the process whose
 * time_for_children is the tree's (0: ours); release ends that helper.
 * clone_root clones the root of a tree with a pid namespace inside (1:
 * done, *pid its pid, 0 in the root, or -errno; 0: ours to do); the root
 * calls enter_root first thing; each process keeps the user namespace open
 * past its descriptor clean-up (keep_fd: the last fd to keep), joins it
 * with join_user, and has its ids translated by fill_creds.
 */
struct crfs_ns;
struct crfs_creds;
struct rst_creds;
int userns_prepare(const struct image *img, const struct crfs_ns *ns,
		   char *err, size_t errlen);
int userns_join(int nstype, char *err, size_t errlen);
pid_t userns_helper_pid(void);
void userns_release(void);
int userns_clone_root(uint64_t flags, pid_t *pid);
void userns_enter_root(int err_fd);
int userns_keep_fd(int last, int err_fd);
void userns_join_user(const struct crfs_creds *c, int err_fd);
void userns_fill_creds(struct rst_creds *d, const struct crfs_creds *c);

/* veth.c: the pairs, made down, then configured and up at the end */
struct crfs_ns;
int veth_create(int sk, const struct crfs_ns *ns, int host_fd, char *err,
		size_t errlen);
int veth_finish(int sk, int host_sk, const struct crfs_ns *ns, char *err,
		size_t errlen);
/* netdev.c: the devices with nothing outside, made and configured down
 * (before the sysctls that name them), then up with their addresses */
int netdev_create(int sk, const struct crfs_ns *ns, char *err, size_t errlen);
int netdev_finish(int sk, const struct crfs_ns *ns, char *err, size_t errlen);

#endif
