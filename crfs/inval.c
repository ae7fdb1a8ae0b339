// SPDX-License-Identifier: MIT
/* The kernel's cache of a container's files, invalidated off the loop. */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "inval.h"

static void free_paths(char **paths, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}

static void *worker(void *arg)
{
	struct inval *iv = arg;
	char **paths;
	size_t i, n;

	pthread_mutex_lock(&iv->lock);
	for (;;) {
		while (!iv->stop && iv->finished == iv->queued)
			pthread_cond_wait(&iv->more, &iv->lock);
		if (iv->stop)
			break;
		paths = iv->paths;
		n = iv->npaths;
		iv->paths = NULL;
		iv->npaths = 0;
		pthread_mutex_unlock(&iv->lock);
		for (i = 0; i < n; i++)
			fuse_invalidate_path(iv->fuse, paths[i]);
		free_paths(paths, n);
		pthread_mutex_lock(&iv->lock);
		iv->finished++;
		pthread_cond_broadcast(&iv->done);
	}
	pthread_mutex_unlock(&iv->lock);
	return NULL;
}

int inval_start(struct inval *iv, struct fuse *fuse)
{
	pthread_condattr_t ca;
	int ret;

	iv->fuse = fuse;
	pthread_mutex_init(&iv->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&iv->done, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&iv->more, NULL);
	ret = pthread_create(&iv->thread, NULL, worker, iv);
	iv->running = !ret;
	return -ret;
}

void inval_stop(struct inval *iv)
{
	if (!iv->running)
		return;
	pthread_mutex_lock(&iv->lock);
	iv->stop = true;
	pthread_cond_signal(&iv->more);
	pthread_mutex_unlock(&iv->lock);
	pthread_join(iv->thread, NULL);
	free_paths(iv->paths, iv->npaths);
	iv->running = false;
}

/* a batch not yet taken absorbs the next: the worker only ever lags one */
static int append(struct inval *iv, char **paths, size_t n)
{
	char **np;
	size_t i;

	if (!iv->paths) {
		iv->paths = paths;
		iv->npaths = n;
		return 0;
	}
	np = realloc(iv->paths, (iv->npaths + n) * sizeof(*np));
	if (!np)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		np[iv->npaths + i] = paths[i];
	iv->paths = np;
	iv->npaths += n;
	free(paths);
	return 0;
}

bool inval_paths(struct inval *iv, char **paths, size_t n, int ms)
{
	struct timespec until;
	uint64_t mine;
	bool fresh, done;

	if (!iv->running || !n) {
		free_paths(paths, n);
		return true;
	}
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&iv->lock);
	fresh = !iv->paths;
	if (append(iv, paths, n)) {
		pthread_mutex_unlock(&iv->lock);
		free_paths(paths, n);
		return true;
	}
	if (fresh)
		iv->queued++;
	mine = iv->queued;
	pthread_cond_signal(&iv->more);
	while (iv->finished < mine &&
	       pthread_cond_timedwait(&iv->done, &iv->lock, &until) != ETIMEDOUT)
		;
	done = iv->finished >= mine;
	pthread_mutex_unlock(&iv->lock);
	return done;
}
