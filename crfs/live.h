/* SPDX-License-Identifier: MIT */
/*
 * The live view (live.c): what a running container's directory shows,
 * read fresh from /proc at each read, without stopping anything.
 */
#ifndef CRFS_LIVE_VIEW_H
#define CRFS_LIVE_VIEW_H

#include <stdbool.h>
#include <sys/stat.h>

#include "container.h"
#include "crfs/format.h"

/* running and without a post-dump snapshot: the live view is shown */
bool live_shown(struct container *c);
/* rest: a path inside the container ("" is the directory itself);
 * -ENOENT for what the live view does not have (now) */
int live_stat(struct container *c, const char *rest, bool *dir);
/* the names directly in directory rest, in order; fn != 0 stops */
int live_list(struct container *c, const char *rest,
	      int (*fn)(void *arg, const char *name), void *arg);
/* the file's text as of now; -ENOENT/-ESRCH once its task is gone */
int live_render(struct container *c, const char *rest, struct strbuf *sb);

#endif
