/* SPDX-License-Identifier: MIT */
#ifndef CRFS_ARRAY_H
#define CRFS_ARRAY_H

#include <malloc.h>
#include <stdlib.h>

/*
 * Room for element n of an array of size-byte elements, which may have come
 * from any malloc: the array itself while its block is big enough, else a
 * copy half as big again.  Appending one at a time stays linear where a
 * realloc() to n + 1 each time copied the whole array over and over (a
 * container of 10,000 sockets took seconds).  NULL, the array untouched,
 * if out of memory.
 */
static inline void *array_room(void *p, size_t n, size_t size)
{
	size_t want = (n + 1) * size;

	if (p && malloc_usable_size(p) >= want)
		return p;
	return realloc(p, want + want / 2 + 8 * size);
}

#endif
