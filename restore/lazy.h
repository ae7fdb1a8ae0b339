/* SPDX-License-Identifier: MIT */
#ifndef CRFS_LAZY_H
#define CRFS_LAZY_H

#include <stdbool.h>
#include <stddef.h>

#include "image.h"

struct restore_args;

/* crfs-restore --lazy (lazy.c): post-copy restore of private memory */
extern bool lazy_on;
int lazy_start(struct image *img, const char *pidfile, bool detach,
	       char *err, size_t errlen);
/* the handler made: before any child of the tree (-1, err said) */
int lazy_ready(char *err, size_t errlen);
void lazy_started(void);
bool lazy_vma(const struct proc_image *p, const struct crfs_vma *v,
	      bool kept, size_t r, int *nlazy);
int lazy_plan(struct image *img, bool shared);
void lazy_child_args(struct restore_args *a, const struct proc_image *p,
		     int err_fd);
int lazy_helpers(int (*helper)(void *h, int fd, int base), void *h, int base);
int lazy_keep_fd(int top);

#endif
