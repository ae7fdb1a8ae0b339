/* SPDX-License-Identifier: MIT */
/*
 * A process's pages, from PID/pages or PID/pages.zst (page_src.c): the
 * only place that knows which.
 */
#ifndef CRFS_PAGE_SRC_H
#define CRFS_PAGE_SRC_H

#include <stdbool.h>
#include <stdint.h>

struct image;
struct proc_image;

/* at load: picks the file (both or neither refused), sets p->pages_path,
 * and decompresses a pages.zst of total bytes (p->pages_map) */
int page_src_load(struct image *img, struct proc_image *p, uint64_t total,
		  bool *zst, char *err, size_t errlen);
/* an fd to pread the pages at their offsets (open(2) flags) */
int page_src_open(const struct proc_image *p, int flags);
/* in a process of the tree: keep what page_src_open needs above top
 * (returns the new top), then drop it once its helpers are open */
int page_src_keep_fds(struct image *img, int top);
void page_src_drop_fds(struct image *img);

#endif
