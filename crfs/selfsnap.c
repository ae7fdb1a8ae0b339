// SPDX-License-Identifier: MIT
/*
 * A snapshot asked for from inside the tree: a thread of it writes
 * 'snapshot' to its container's ctl.  That thread sits in our FUSE write
 * and cannot stop there (FUSE waits for our answer killably), so it is
 * seized and interrupted while it waits, the write is answered, and the
 * thread stops on its way back to user mode, before it runs another
 * instruction.  The snapshot is taken after the answer (container_deferred,
 * from the loop), and the tree goes on: for the writer, in the original as
 * in a restore of the image, the write returns once the snapshot exists.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container.h"
#include "kh.h"
#include "crfs/array.h"

/* tid is a thread of a process of c's tree (the root or below it) */
bool container_has_task(struct container *c, pid_t tid)
{
	struct kh_stat st;
	pid_t p;
	int depth;

	if (kh_tgid(tid, &p))
		return false;
	for (depth = 0; p > 1 && depth < 4096; depth++) {
		if (p == c->root)
			return true;
		if (kh_proc_stat(p, &st))
			return false;
		p = st.ppid;
	}
	return false;
}

int container_inside(struct container *c, const char *cmd, pid_t tid)
{
	size_t n = strcspn(cmd, "\n");
	pid_t *nt;
	int ret;

	if (c->state != C_RUNNING || !tid || !container_has_task(c, tid))
		return 0;
	if (n == 6 && !strncmp(cmd, "freeze", 6)) {
		snprintf(c->error, sizeof(c->error),
			 "freeze: written by thread %d of the tree, which would stay frozen inside its write: write 'snapshot'",
			 tid);
		return -EDEADLK;
	}
	if (n != 8 || strncmp(cmd, "snapshot", 8) || c->snap || c->self_tid)
		return 0;	/* the usual command, or its refusal */
	nt = array_room(c->tids, c->ntids, sizeof(*nt));
	if (!nt)
		return -ENOMEM;
	c->tids = nt;
	c->error[0] = '\0';
	ret = kh_seize_nowait(tid);
	if (ret) {
		snprintf(c->error, sizeof(c->error),
			 "snapshot: cannot stop thread %d, which asked for it: %s",
			 tid, strerror(-ret));
		return ret;
	}
	c->tids[c->ntids++] = tid;
	c->self_tid = tid;
	return 1;
}

void container_deferred(struct registry *r)
{
	struct container *c;
	pid_t tid;
	int ret;

	for (c = r->head; c; c = c->next) {
		if (!c->self_tid)
			continue;
		tid = c->self_tid;
		c->self_tid = 0;
		if (r->forget)
			r->forget(r, c);
		ret = kh_wait_interrupt(tid);
		if (ret) {
			snprintf(c->error, sizeof(c->error),
				 "snapshot: thread %d, which asked for it, did not stop: %s",
				 tid, strerror(-ret));
			drop_tree(c);
			continue;
		}
		container_snapshot(c);
		if (r->forget)
			r->forget(r, c);
	}
}
