/* SPDX-License-Identifier: MIT */
/*
 * A process's pages, from PID/pages or PID/pages.zst (page_src.c): the
 * only place that knows which.
 */
#ifndef CRFS_PAGE_SRC_H
#define CRFS_PAGE_SRC_H

#include <stdbool.h>
#include <stddef.h>
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

/*
 * A pages.zst opened for lookups (a parent's, restore/chain.c): its
 * chunks are found by their headers at open, and decompressed into a
 * memfd laid out as pages (pzst_fd) only as pzst_fill asks for them.
 */
struct pzst;
int pzst_open(const char *path, uint64_t total, struct pzst **out, char *err,
	      size_t errlen);
int pzst_fill(struct pzst *z, uint64_t off, uint64_t len, char *err,
	      size_t errlen);
int pzst_fd(const struct pzst *z);
/* replaces the memfd, returning the old one (now the caller's) */
int pzst_set_fd(struct pzst *z, int fd);
/* the compressed file unmapped: only the memfd stays */
void pzst_drop_input(struct pzst *z);
void pzst_free(struct pzst *z);

#endif
