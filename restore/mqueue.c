// SPDX-License-Identifier: MIT
/*
 * A POSIX message queue again: made by name (an unlinked one under a
 * temporary name, unlinked once open), with its mode, owner, attributes
 * and messages, then opened with the description's flags.  A queue of
 * that name already there is replaced only when it looks like the image's
 * own leftover (the tree was killed after the checkpoint): same mode,
 * owner, mq_maxmsg, mq_msgsize and number of queued messages, and no
 * process has it open (one that had would keep the old queue).  Anything
 * else is refused by name.
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "files.h"

static int load_msgs(struct open_ctx *c, const struct crfs_file *f,
		     struct kh_mq *q)
{
	char *buf = NULL;
	size_t len;
	int ret;

	memset(q, 0, sizeof(*q));
	q->n = f->nmsgs;
	q->total = f->data;
	q->prio = calloc(q->n + 1, sizeof(*q->prio));
	q->len = calloc(q->n + 1, sizeof(*q->len));
	if (!q->prio || !q->len)
		return FAIL(c, "out of memory");
	if (!q->n)
		return 0;
	ret = read_fdata(c, f, ".msgs", &buf, &len);
	ret = ret ?: parse_mq_msgs(buf, q->n, q->total, q->prio, q->len);
	free(buf);
	if (ret)
		return FAIL(c, "%s/%s/%u.msgs: does not describe %u messages of %lu bytes",
			    c->img->dir, CRFS_D_FDATA, f->id, f->nmsgs, f->data);
	return q->total ? read_fdata(c, f, "", &q->data, &len) : 0;
}

static bool is_leftover(const struct crfs_file *f, int fd)
{
	struct mq_attr a;
	struct stat st;

	return !fstat(fd, &st) && !mq_getattr(fd, &a) &&
	       st.st_mode == f->mode && st.st_uid == f->fuid &&
	       st.st_gid == f->fgid && (uint64_t)a.mq_maxmsg == f->mq_maxmsg &&
	       (uint64_t)a.mq_msgsize == f->mq_msgsize &&
	       (uint64_t)a.mq_curmsgs == f->nmsgs;
}

static int replace_leftover(struct open_ctx *c, const struct crfs_file *f,
			    const char *name)
{
	int fd = mq_open(name, O_RDONLY | O_CLOEXEC);
	struct stat st;
	bool ok, held;

	if (fd < 0)
		return FAIL(c, "file %u: POSIX message queue %s: open: %s",
			    f->id, name, strerror(errno));
	ok = is_leftover(f, fd);
	held = ok && fstat(fd, &st) == 0 && kh_mq_held(name, st.st_dev,
							       st.st_ino);
	close(fd);
	if (!ok)
		return FAIL(c, "file %u: POSIX message queue %s exists and is not the image's",
			    f->id, name);
	if (held)
		return FAIL(c, "file %u: POSIX message queue %s exists and a process has it open",
			    f->id, name);
	if (mq_unlink(name))
		return FAIL(c, "file %u: POSIX message queue %s: unlink: %s",
			    f->id, name, strerror(errno));
	return 0;
}

static int create(const struct crfs_file *f, const char *name)
{
	struct mq_attr a = { .mq_maxmsg = f->mq_maxmsg,
			     .mq_msgsize = f->mq_msgsize };

	return mq_open(name, O_CREAT | O_EXCL | O_WRONLY | O_NONBLOCK |
		       O_CLOEXEC, 0600, &a);
}

/* the umask left aside: mode and owner set on the queue itself */
static int make_queue(struct open_ctx *c, const struct crfs_file *f,
		      const char *name)
{
	struct kh_mq q;
	int fd, ret;

	fd = create(f, name);
	if (fd < 0 && errno == EEXIST && !f->ghost) {
		ret = replace_leftover(c, f, name);
		if (ret)
			return ret;
		fd = create(f, name);
	}
	if (fd < 0)
		return FAIL(c, "file %u: POSIX message queue %s: create: %s",
			    f->id, name, strerror(errno));
	ret = load_msgs(c, f, &q);
	if (!ret && (fchmod(fd, f->mode & 07777) ||
		     fchown(fd, f->fuid, f->fgid)))
		ret = FAIL(c, "file %u: POSIX message queue %s: mode and owner: %s",
			   f->id, name, strerror(errno));
	if (!ret && kh_mq_refill(fd, &q))
		ret = FAIL(c, "file %u: POSIX message queue %s: refill: %s",
			   f->id, name, strerror(errno));
	kh_mq_free(&q);
	close(fd);
	if (ret)
		mq_unlink(name);	/* ours, half made: not left behind */
	return ret;
}

/* another description of the same named queue, made already */
static bool made_before(const struct open_ctx *c, const struct crfs_file *f)
{
	const struct crfs_file *o;

	for (o = c->img->files; o < f; o++)
		if (o->kind == FK_MQUEUE && !o->ghost && !strcmp(o->path, f->path))
			return true;
	return false;
}

int open_mqueue(struct open_ctx *c, const struct crfs_file *f)
{
	char tmp[64];
	const char *name = f->path;
	int fd = -1, ret = 0;

	/* a queue unlinked while open is made at its own name for a moment,
	 * so /proc names its descriptor as before, or at one of ours if
	 * that name is taken */
	if (f->ghost && (fd = mq_open(name, O_RDONLY | O_CLOEXEC)) >= 0)
		close(fd);
	if (f->ghost && (fd >= 0 || errno != ENOENT)) {
		snprintf(tmp, sizeof(tmp), "/crfs-restore-%d-%u", getpid(),
			 f->id);
		name = tmp;
	}
	if (f->ghost || !made_before(c, f))
		ret = make_queue(c, f, name);
	if (ret)
		return ret;
	fd = mq_open(name, f->flags & (O_ACCMODE | O_NONBLOCK));
	if (fd < 0)
		ret = FAIL(c, "file %u: POSIX message queue %s: open: %s",
			   f->id, name, strerror(errno));
	if (f->ghost)
		mq_unlink(name);
	return ret ?: place(c, f, fd);
}
