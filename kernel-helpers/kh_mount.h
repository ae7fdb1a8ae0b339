/* SPDX-License-Identifier: MIT */
/*
 * kernel-helpers for mount namespaces (mount.c): reading a mount table,
 * copying a tmpfs out with tar(1) and back in, and the new mount API
 * (open_tree, fsopen/fsmount, mount_setattr, move_mount) that builds
 * detached mounts and attaches them in order.
 */
#ifndef CRFS_KH_MOUNT_H
#define CRFS_KH_MOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* a line of /proc/PID/mountinfo, strings unescaped */
struct kh_mount {
	int id, parent;
	unsigned int major, minor;
	char *root, *mountpoint, *opts;
	char *optional;		/* "shared:1 master:2 ..." ("" for none) */
	char *fstype, *source, *super;
};

/* pid 0: our own */
int kh_mountinfo(pid_t pid, struct kh_mount **out, size_t *n);
void kh_mountinfo_free(struct kh_mount *m, size_t n);

/*
 * The files of the mount at mountpoint (as pid's root sees it, in pid's
 * mount namespace) as a tar archive, without skip[] ("./X": the mount
 * points below it, left out whole); -EXDEV if what that path shows is not
 * device dev (hidden by another mount).
 */
int kh_mnt_tar_out(pid_t pid, const char *mountpoint, dev_t dev,
		   char *const *skip, size_t nskip, char **out, size_t *len);
/* extract tar file path (opened by fd) into the detached mount mnt_fd */
int kh_mnt_tar_in(int mnt_fd, int tar_fd);

/* a detached copy of the mount at path (not of those below it) */
int kh_mnt_clone(const char *path);
int kh_mnt_clone_at(int mnt_fd, const char *rel);
/*
 * A detached new mount of fstype: source and the super block options
 * (comma separated; "ro" is left for kh_mnt_sb_ro(): *ro says it had
 * it).  *fs_fd stays open for that; bad names an option refused.
 */
int kh_mnt_new(const char *fstype, const char *source, const char *super,
	       int *fs_fd, bool *ro, char *bad, size_t badlen);
int kh_mnt_sb_ro(int fs_fd);
/* MOUNT_ATTR_* flags of an opts string: ro,nosuid,...,relatime */
int kh_mnt_attr_flags(const char *opts, unsigned long long *attr);
/* set exactly attr (and the atime mode in it), then propagation MS_* */
int kh_mnt_set(int mnt_fd, unsigned long long attr, unsigned long prop);
int kh_mnt_attach(int mnt_fd, const char *path);
/* mnt_fd becomes our root ("/" and cwd); the old tree is detached */
int kh_mnt_pivot(int mnt_fd);

/*
 * mnt_unique.c: the never-reused id of the mount path is on, and of our
 * mount whose mountinfo id is old_id (-ENOENT: no such mount)
 */
int kh_mnt_unique_id(const char *path, uint64_t *id);
int kh_mnt_unique_of_old(int old_id, uint64_t *out);

#endif
