// SPDX-License-Identifier: MIT
/*
 * An inotify watch on a file deleted since.  The kernel drops such a watch
 * once the inode is gone, so one still listed is on an inode something
 * holds open.  If that is a deleted file of the container (restored as an
 * unlinked file), restore watches that file again through its descriptor;
 * otherwise nothing could be watched again, and the watch is refused.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "files.h"

#define DELETED " (deleted)"

int files_inotify_deleted(struct files_ctx *c, const char *line,
			  struct crfs_inotify_watch *w)
{
	size_t n = strlen(w->path), d = strlen(DELETED), i;
	unsigned long ino, sdev;
	const struct stat *st;
	const char *p;

	if (n <= d || strcmp(w->path + n - d, DELETED))
		return 0;
	p = strstr(line, "ino:");
	if (!p || sscanf(p, "ino:%lx sdev:%lx", &ino, &sdev) != 2)
		return -EINVAL;
	for (i = 0; i < c->nfiles; i++) {
		if (c->files[i].kind != FK_DELETED || c->bad[i] ||
		    c->files[i].ino != ino)
			continue;
		st = &c->s->fds[c->rep[i]].st;
		/* the kernel's dev_t: 12 bits of major, 20 of minor */
		if (major(st->st_dev) != sdev >> 20 ||
		    minor(st->st_dev) != (sdev & 0xfffff))
			continue;
		w->path[n - d] = 0;
		w->file = c->files[i].id;
		return 0;
	}
	return -ESTALE;
}
