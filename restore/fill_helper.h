/* SPDX-License-Identifier: MIT */
#ifndef CRFS_FILL_HELPER_H
#define CRFS_FILL_HELPER_H

#include <stddef.h>

#include "image.h"

/* fill_helper.c: the second worker of the restorers' memory fill */
int fill_helper_start(struct image *img, char *err, size_t errlen);
void fill_helper_stop(void);
int fill_keep_fd(int top);
int fill_take_fd(bool *first);

#endif
