/* SPDX-License-Identifier: MIT */
#ifndef CRFS_INVAL_H
#define CRFS_INVAL_H

#define FUSE_USE_VERSION 35
#include <fuse.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * Tells the kernel to forget cached attributes and pages of paths, from a
 * thread of its own: dropping a page waits for its lock, and a page being
 * read stays locked until the single daemon thread answers that READ.
 */
struct inval {
	struct fuse *fuse;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t more, done;
	char **paths;		/* the batch being worked on */
	size_t npaths;
	uint64_t queued, finished;	/* batches */
	bool stop, running;
};

int inval_start(struct inval *iv, struct fuse *fuse);
void inval_stop(struct inval *iv);
/*
 * Hands over paths (and their strings) and waits up to ms for the kernel
 * to have forgotten them; a reader holding a page makes us go on without
 * (false).
 */
bool inval_paths(struct inval *iv, char **paths, size_t n, int ms);

#endif
