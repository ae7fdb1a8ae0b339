// SPDX-License-Identifier: MIT
/*
 * POSIX message queue descriptors look like regular files named "/NAME"
 * (the path inside the mqueue file system, mounted or not): only the file
 * system type tells them from a file of the root directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include "kh.h"

/* ipc/mqueue.c has it; Debian's linux/magic.h does not */
#ifndef MQUEUE_MAGIC
#define MQUEUE_MAGIC	0x19800202
#endif

bool kh_fd_is_mqueue(const struct kh_fd *f)
{
	char path[64];
	struct statfs sf;

	if (kh_fd_is_own(f))
		return false;	/* a statfs would ask the daemon, busy with us */
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", kh_via(f->pid), f->fd);
	return !statfs(path, &sf) && sf.f_type == MQUEUE_MAGIC;
}

/* reading the queue file gives "QSIZE:... NOTIFY_PID:N" */
static int notify_pid(int fd)
{
	char buf[256], *p;
	ssize_t n;

	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	p = strstr(buf, "NOTIFY_PID:");
	return p ? atoi(p + 11) : -EINVAL;
}

static int take_msgs(int fd, struct kh_mq *q, long cur)
{
	char *buf = malloc(q->msgsize ?: 1);
	ssize_t n;
	char *d;

	q->prio = calloc(cur ?: 1, sizeof(*q->prio));
	q->len = calloc(cur ?: 1, sizeof(*q->len));
	q->data = malloc(cur * q->msgsize + 1);
	if (!buf || !q->prio || !q->len || !q->data) {
		free(buf);
		return -ENOMEM;
	}
	for (d = q->data; q->n < (size_t)cur; q->n++, d += n) {
		n = mq_receive(fd, buf, q->msgsize, &q->prio[q->n]);
		if (n < 0)
			break;
		memcpy(d, buf, n);
		q->len[q->n] = n;
		q->total += n;
	}
	free(buf);
	return 0;
}

/* the messages again, in the order they came out: the same queue */
int kh_mq_refill(int fd, const struct kh_mq *q)
{
	const char *d = q->data;
	size_t i;

	for (i = 0; i < q->n; d += q->len[i], i++)
		if (mq_send(fd, d, q->len[i], q->prio[i]))
			return -errno;
	return 0;
}

/*
 * There is no peek: the queue is drained through a descriptor of our own
 * (opened through /proc, so an unlinked queue too, or one of the tree's
 * own IPC namespace) and refilled at once in the same order.  A full queue may have a sender blocked on it, which the
 * first receive would let in: refused (-EBUSY).
 */
int kh_mq_state(pid_t pid, int fd, struct kh_mq *q)
{
	struct mq_attr a;
	char path[64];
	int qfd, ret;

	memset(q, 0, sizeof(*q));
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", kh_via(pid), fd);
	qfd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (qfd < 0)
		return -errno;
	ret = notify_pid(qfd);
	ret = ret > 0 ? -EPERM : ret;
	if (!ret && mq_getattr(qfd, &a))
		ret = -errno;
	if (ret)
		goto out;
	q->maxmsg = a.mq_maxmsg;
	q->msgsize = a.mq_msgsize;
	ret = a.mq_curmsgs >= a.mq_maxmsg ? -EBUSY : 0;
	ret = ret ?: take_msgs(qfd, q, a.mq_curmsgs);
	ret = ret ?: kh_mq_refill(qfd, q);
out:
	close(qfd);
	if (ret)
		kh_mq_free(q);
	return ret;
}

void kh_mq_free(struct kh_mq *q)
{
	free(q->prio);
	free(q->len);
	free(q->data);
	memset(q, 0, sizeof(*q));
}

/*
 * Only a descriptor whose link reads as the queue's name is stat'ed: a
 * stat follows the link into whatever file system it names, and one
 * that does not answer (a hung FUSE or NFS mount) would hang us.
 */
static bool fd_is(int dir, const char *fd, const char *name, dev_t dev,
		  ino_t ino)
{
	char link[NAME_MAX + 16];
	struct stat st;
	ssize_t n = readlinkat(dir, fd, link, sizeof(link) - 1);

	if (n <= 0)
		return false;
	link[n] = '\0';
	if (strcmp(link, name) && (strncmp(link, name, strlen(name)) ||
				   strcmp(link + strlen(name), " (deleted)")))
		return false;
	return !fstatat(dir, fd, &st, 0) && st.st_dev == dev &&
	       st.st_ino == ino;
}

static bool pid_holds(const char *pid, const char *name, dev_t dev,
		      ino_t ino)
{
	struct dirent *de;
	char path[300];
	bool held = false;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%s/fd", pid);
	d = opendir(path);
	while (d && !held && (de = readdir(d)))
		held = de->d_name[0] != '.' &&
		       fd_is(dirfd(d), de->d_name, name, dev, ino);
	if (d)
		closedir(d);
	return held;
}

/* a process other than us has a descriptor of the queue /NAME (dev:ino) open */
bool kh_mq_held(const char *name, dev_t dev, ino_t ino)
{
	char self[24];
	struct dirent *de;
	bool held = false;
	DIR *d;

	snprintf(self, sizeof(self), "%d", getpid());
	d = opendir("/proc");
	while (d && !held && (de = readdir(d)))
		held = de->d_name[0] >= '1' && de->d_name[0] <= '9' &&
		       strcmp(de->d_name, self) &&
		       pid_holds(de->d_name, name, dev, ino);
	if (d)
		closedir(d);
	return held;
}
