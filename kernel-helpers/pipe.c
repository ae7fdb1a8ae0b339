// SPDX-License-Identifier: MIT
/*
 * The bytes queued in a pipe or FIFO, without taking them: tee(2) them
 * into a pipe of our own and read that.  The frozen container still finds
 * every byte where it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "kh.h"

static int copy_out(int rfd, size_t size, char **buf, size_t *len)
{
	char *b = malloc(size ?: 1);
	size_t got = 0;
	ssize_t n;

	if (!b)
		return -ENOMEM;
	while (got < size && (n = read(rfd, b + got, size - got)) > 0)
		got += n;
	*buf = b;
	*len = got;
	return 0;
}

int kh_pipe_peek(pid_t pid, int fd, char **buf, size_t *len,
		 uint32_t *pipe_size)
{
	int src, p[2] = { -1, -1 }, size, ret;
	char path[64];
	ssize_t n;

	/* a fresh reader of the same pipe: works for a write end too */
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	src = open(path, O_RDONLY | O_NONBLOCK);
	if (src < 0)
		return -errno;
	size = fcntl(src, F_GETPIPE_SZ);
	ret = size < 0 ? -errno : 0;
	if (!ret && pipe2(p, O_NONBLOCK))
		ret = -errno;
	if (!ret && fcntl(p[1], F_SETPIPE_SZ, size) < size)
		ret = -EIO;
	if (ret)
		goto out;
	*pipe_size = size;
	n = tee(src, p[1], INT_MAX, SPLICE_F_NONBLOCK);
	if (n < 0 && errno != EAGAIN) {
		ret = -errno;
		goto out;
	}
	ret = copy_out(p[0], n < 0 ? 0 : n, buf, len);
out:
	close(src);
	if (p[0] >= 0) {
		close(p[0]);
		close(p[1]);
	}
	return ret;
}
