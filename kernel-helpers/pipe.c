// SPDX-License-Identifier: MIT
/*
 * The bytes queued in a pipe or FIFO, without taking them: tee(2) them
 * into a pipe of our own and read that.  The frozen container still finds
 * every byte where it was.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static bool listed(pid_t pid, const pid_t *pids, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

/* does a process not in pids (nor we) hold pipe:[ino]? */
bool kh_pipe_held_outside(uint64_t ino, const pid_t *pids, size_t n)
{
	char want[40], path[64], link[64];
	struct dirent *p, *f;
	bool found = false;
	DIR *proc, *fds;
	ssize_t len;

	snprintf(want, sizeof(want), "pipe:[%lu]", ino);
	proc = opendir("/proc");
	while (proc && !found && (p = readdir(proc))) {
		pid_t pid = atoi(p->d_name);

		if (pid <= 0 || pid == getpid() || listed(pid, pids, n))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd", pid);
		fds = opendir(path);
		while (fds && !found && (f = readdir(fds))) {
			len = readlinkat(dirfd(fds), f->d_name, link,
					 sizeof(link) - 1);
			if (len < 0)
				continue;
			link[len] = '\0';
			found = !strcmp(link, want);
		}
		if (fds)
			closedir(fds);
	}
	if (proc)
		closedir(proc);
	return found;
}
