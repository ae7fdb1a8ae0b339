/* SPDX-License-Identifier: MIT */
/*
 * The live view of a running container (docs/FORMAT.md section 6): text
 * read fresh from /proc at each read, never part of a checkpoint.
 */
#ifndef CRFS_LIVE_H
#define CRFS_LIVE_H

#include <stdbool.h>
#include <stddef.h>

#include "crfs/format.h"

/* One descriptor as PID/fds of the live view shows it. */
struct crfs_live_fd {
	int fd;
	bool cloexec;
	const char *target;	/* readlink of /proc/PID/fd/FD */
};

/* "FD TARGET CLOEXEC" lines: TARGET escaped, never a file id */
int render_live_fds(struct strbuf *sb, const struct crfs_live_fd *f,
		    size_t n);
/*
 * Removes from sb's key-value text every line whose key is one of keys:
 * what a renderer writes but the live view cannot know without stopping
 * the task.  0, or -EINVAL for text that is not key-value lines.
 */
int text_drop_keys(struct strbuf *sb, const char *const *keys, size_t n);

#endif
