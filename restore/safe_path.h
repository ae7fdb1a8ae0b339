/* SPDX-License-Identifier: MIT */
/* Paths restore creates, replaces or unlinks: safe_path.c */
#ifndef CRFS_RESTORE_SAFE_PATH_H
#define CRFS_RESTORE_SAFE_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/*
 * 0 if restore may make or remove path's last component: every directory
 * on the way is a directory or a symlink root owns (/var/run -> /run).
 * Else -ELOOP, and why says which component, for a refusal naming it.
 */
int safe_path(const char *path, char *why, size_t len);

#define SAFE_MAX_MADE 64

/*
 * The directory path's last component is in, held open (O_PATH) for the
 * *at() calls that make, replace or remove that component: walked from /
 * one component at a time, each opened with openat2(RESOLVE_NO_SYMLINKS)
 * relative to the one before, a symlink root owns followed through a
 * descriptor of that very link.  A directory swapped for a symlink during
 * the walk is refused like one planted before; one swapped after does not
 * matter, the walk is over.
 */
struct safe_dir {
	int fd;			/* the directory; -1 when closed */
	const char *name;	/* the last component, in the caller's path */
	/* with mk: directories made on the way (0700), each in made_in[i] */
	size_t nmade;
	int made_in[SAFE_MAX_MADE];
	char *made[SAFE_MAX_MADE];
	/* the times of the directory the first one was made in */
	struct timespec top_times[2];
};

/* 0, or -errno with why naming the component (as safe_path does); mk:
 * make the directories that are missing, safe_dir_close removes them */
int safe_dir_open(struct safe_dir *d, const char *path, bool mk, char *why,
		  size_t len);
/* removes the directories made, deepest first, and closes; again is a no-op */
void safe_dir_close(struct safe_dir *d);
/* the directory's atime and mtime, kept for safe_dir_put_times */
int safe_dir_times(const struct safe_dir *d, struct timespec ts[2]);
void safe_dir_put_times(const struct safe_dir *d, const struct timespec ts[2]);
/* "/proc/self/fd/N" of fd, to reach exactly what fd holds */
const char *safe_fd_path(int fd, char *buf, size_t len);

#endif
