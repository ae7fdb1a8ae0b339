// SPDX-License-Identifier: MIT
/*
 * POSIX message queues (FK_MQUEUE): name (path "/NAME", ghost when
 * unlinked), mode, owner, mq_maxmsg and mq_msgsize in `files`; the queued
 * messages in fdata/ID.msgs (length and priority) and fdata/ID (payloads).
 * Reading them empties the queue: kh_mq_state puts them back at once.
 * Every process of the tree is in its root's IPC namespace (ipc_ns.c), so
 * a queue is the host's or that of the tree's own namespace, which
 * crfs-restore makes before it opens files.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"

static const char *why(int err)
{
	switch (err) {
	case -EPERM:
		return "a POSIX message queue with an mq_notify registration is not supported";
	case -EBUSY:
		return "a full POSIX message queue is not supported (a sender may be blocked on it)";
	default:
		return "cannot read the POSIX message queue";
	}
}

/* two descriptions of one unlinked queue would come back as two queues */
static bool unlinked_twice(struct files_ctx *c, const struct crfs_file *cf)
{
	size_t i;

	for (i = 0; i + 1 < cf->id; i++)
		if (c->files[i].kind == FK_MQUEUE &&
		    c->files[i].ino == cf->ino && (cf->ghost || c->files[i].ghost))
			return true;
	return false;
}

static int add_msgs(struct files_ctx *c, struct crfs_file *cf,
		    struct kh_mq *q)
{
	struct strbuf sb;
	size_t len;
	char *data;
	int ret;

	cf->nmsgs = q->n;
	cf->data = q->total;
	if (!q->n)
		return 0;
	sb_init(&sb);
	ret = render_mq_msgs(&sb, q->prio, q->len, q->n);
	if (ret) {
		sb_free(&sb);
		return ret;
	}
	data = sb_steal(&sb, &len);
	ret = files_add_fdata(c, cf->id, ".msgs", data, len);
	if (ret || !q->total)
		return ret;
	ret = files_add_fdata(c, cf->id, "", q->data, q->total);
	q->data = NULL;
	return ret;
}

const char *files_classify_mqueue(struct files_ctx *c, const struct kh_fd *f,
				  struct crfs_file *cf, int *err)
{
	size_t n = strlen(f->link);
	struct kh_mq q;
	int ret;

	cf->kind = FK_MQUEUE;
	cf->ghost = n > 10 && !strcmp(f->link + n - 10, " (deleted)");
	cf->path = strndup(f->link, cf->ghost ? n - 10 : n);
	cf->ino = f->st.st_ino;
	cf->fuid = f->st.st_uid;
	cf->fgid = f->st.st_gid;
	if (!cf->path) {
		*err = -ENOMEM;
		return NULL;
	}
	if (unlinked_twice(c, cf))
		return "an unlinked POSIX message queue open through two descriptions is not supported";
	ret = kh_mq_state(f->pid, f->fd, &q);
	if (ret == -ENOMEM)
		*err = ret;
	if (ret)
		return ret == -ENOMEM ? NULL : why(ret);
	cf->mq_maxmsg = q.maxmsg;
	cf->mq_msgsize = q.msgsize;
	*err = add_msgs(c, cf, &q);
	kh_mq_free(&q);
	return NULL;
}
