/* SPDX-License-Identifier: MIT */
/* Deleted directories, FIFOs and device nodes made for a while: ghost.c */
#ifndef CRFS_RESTORE_GHOST_H
#define CRFS_RESTORE_GHOST_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "crfs/image.h"
#include "safe_path.h"

#define GHOST_MAX_DIRS 64

/* directories made for a while, in the order made */
struct ghost_dirs {
	char *made[GHOST_MAX_DIRS];
	/* made[i]'s parent was there: its atime and mtime, set again */
	bool top[GHOST_MAX_DIRS];
	struct timespec times[GHOST_MAX_DIRS][2];
	size_t n;
};

int ghost_mkdirs(struct ghost_dirs *g, const char *dir);
int ghost_mkparent(struct ghost_dirs *g, const char *path);
void ghost_rmdirs(struct ghost_dirs *g);
/* a deleted file's owner, mode and times (f->times), on fd */
int ghost_attrs(int fd, const struct crfs_file *f);
/* only its atime and mtime (f->times), on fd */
int ghost_times(int fd, const struct crfs_file *f);
/* f (a ghost) made, opened with flags, and removed: fd or -errno */
int ghost_open(const struct crfs_file *f, int flags);
/* path without " (deleted)" in buf, if it has that */
bool ghost_path(const char *path, char *buf, size_t len);
/*
 * chdir(cwd); root opened for ghost_chroot() later (-1 for "/");
 * deleted ones (" (deleted)") as ghosts
 */
int ghost_enter(const char *cwd, const char *root, const char *lock_path,
		int *root_fd);
int ghost_chroot(int fd);
/* O_TMPFILE tmp opened again (flags) under its deleted name path */
int ghost_open_named(int tmp, const char *path, int flags);
/* the same in two steps, for other names to be linked meanwhile (an
 * O_TMPFILE inode linked once can be linked again only while it has a
 * name) */
struct ghost_name {
	struct safe_dir d;
	struct timespec pts[2];
};
int ghost_name_link(struct ghost_name *n, int tmp, const char *path);
int ghost_name_open_drop(struct ghost_name *n, int tmp, int flags);

#endif
