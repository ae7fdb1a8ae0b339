// SPDX-License-Identifier: MIT
/*
 * The bytes queued in a pipe or FIFO, without taking them: tee(2) them
 * into a pipe of our own and read that.  The frozen container still finds
 * every byte where it was.  tee keeps each buffer's packet flag (writes
 * through an O_DIRECT end, "packet mode"), and a read stops at the end of
 * such a packet: so reads that come short tell where the packets end.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crfs/array.h"
#include "kh.h"

static int copy_out(int rfd, size_t size, char **buf, size_t *len,
		    struct kh_packets *pk)
{
	char *b = malloc(size ?: 1);
	uint32_t *np;
	size_t got = 0;
	ssize_t n;

	if (!b)
		return -ENOMEM;
	while (got < size && (n = read(rfd, b + got, size - got)) > 0) {
		got += n;
		np = array_room(pk->len, pk->n, sizeof(*np));
		if (!np) {
			free(b);
			return -ENOMEM;
		}
		pk->len = np;
		pk->len[pk->n++] = n;
	}
	if (pk->n < 2) {	/* one read took it all: a byte stream */
		free(pk->len);
		pk->len = NULL;
		pk->n = 0;
	}
	*buf = b;
	*len = got;
	return 0;
}

int kh_pipe_peek(pid_t pid, int fd, char **buf, size_t *len,
		 uint32_t *pipe_size, struct kh_packets *pk)
{
	int src, p[2] = { -1, -1 }, size, ret;
	char path[64];
	ssize_t n;

	/* a fresh reader of the same pipe: works for a write end too */
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", kh_via(pid), fd);
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
	ret = copy_out(p[0], n < 0 ? 0 : n, buf, len, pk);
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

/* the pipes (by inode, sorted) of one process's fds that are in inos */
static void scan_fds(pid_t pid, const uint64_t *inos, size_t n, bool *out)
{
	char path[64], link[64];
	unsigned long long ino;
	struct dirent *f;
	const uint64_t *hit;
	uint64_t key;
	ssize_t len;
	DIR *fds;

	snprintf(path, sizeof(path), "/proc/%d/fd", kh_via(pid));
	fds = opendir(path);
	while (fds && (f = readdir(fds))) {
		len = readlinkat(dirfd(fds), f->d_name, link, sizeof(link) - 1);
		if (len < 6)
			continue;
		link[len] = '\0';
		if (sscanf(link, "pipe:[%llu]", &ino) != 1)
			continue;
		key = ino;
		hit = bsearch(&key, inos, n, sizeof(*inos), kh_cmp_u64);
		if (hit)
			out[hit - inos] = true;
	}
	if (fds)
		closedir(fds);
}

/*
 * Which of the pipes inos[] (sorted) does a process not in pids (nor we)
 * hold?  One pass over /proc, whatever the number of pipes.
 */
int kh_pipes_held_outside(const uint64_t *inos, size_t n, const pid_t *pids,
			  size_t npids, bool *out)
{
	struct dirent *p;
	DIR *proc;
	pid_t pid;

	memset(out, 0, n * sizeof(*out));
	if (!n)
		return 0;
	proc = opendir("/proc");
	if (!proc)
		return -errno;
	while ((p = readdir(proc))) {
		pid = atoi(p->d_name);
		if (pid > 0 && pid != getpid() && !listed(pid, pids, npids))
			scan_fds(pid, inos, n, out);
	}
	closedir(proc);
	return 0;
}
