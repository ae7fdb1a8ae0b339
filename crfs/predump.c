// SPDX-License-Identifier: MIT
/*
 * Pre-dump (ctl "predump"): a round of iterative pre-copy.  The tree is
 * stopped only while each process's mappings are read and mappings made
 * since are registered for tracking (track.c); then it runs on, TCP
 * connections and all.  As it runs, and before the ctl write returns,
 * its page runs are listed and its written set is taken and cleared pte
 * by pte (track_take): each page's state is that of the moment its pte
 * was walked, and a write after it is in the next round's set.  Then
 * its pages are copied out of the running processes.  A page written
 * during that copy may be torn in the image, but tracking saw the
 * write: the next round or the final freeze copies it again, and no
 * later image ever points at it.  A page not written since the take
 * holds the same bytes when copied as then.
 *
 * So a pre-dump image holds memory only (PID/maps, pages, pages.idx,
 * image saying "predump") and is valid only as the parent of a later
 * image, which crfs-restore checks; given one alone it refuses it.
 *
 * What relatives share copy-on-write is not pointed at here (capture.c
 * asks no donors): the relative's pages are read later, as it runs, and
 * may be other bytes than ours by then.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container.h"
#include "kh.h"
#include "track.h"

static int refused(struct container *c, int err, const char *why)
{
	snprintf(c->error, sizeof(c->error), "predump: %s", why);
	return -err;
}

static int predump_check(struct container *c)
{
	int ret;

	container_refresh(c);
	if (c->snap)
		return refused(c, EBUSY, "a snapshot is held or the container is frozen; release it (or thaw) first");
	ret = container_need_tree(c, "predump");
	if (ret)
		return ret;
	/* a chain reads its parents' pages raw (restore/chain.c) */
	if (c->zstd)
		return refused(c, EINVAL, "pre-dumps of zstd-compressed images are not supported yet (compress none first)");
	return 0;
}

int container_predump(struct container *c)
{
	long t0 = container_now_us(), t1, t2, t3;
	bool fresh = !c->track;
	int ret = predump_check(c);

	if (ret)
		return ret;
	ret = predump_stop(c);
	if (ret) {
		if (c->track)
			track_end(c);	/* its pages were protected anew */
		container_refresh(c);
		return ret;
	}
	/* held like a post-dump snapshot: 'release' drops it */
	c->snap->postdump = true;
	/* what a freeze would refuse, the final freeze says */
	sb_free(&c->snap->unsupported);
	sb_init(&c->snap->unsupported);
	/* tracked from this stop (new mappings were registered as listed) */
	t1 = container_now_us();
	if (fresh)
		ret = track_start(c);
	t2 = container_now_us();
	resume_tree(c);
	t3 = container_now_us();
	/* the walks over all memory, as the tree runs, before any copy */
	ret = ret ?: predump_finish(c->snap, c->root);
	/* its runs, listed just now, are the next round's base */
	ret = ret ?: track_rebase(c);
	if (!ret)
		track_protect(c);
	if (getenv("CRFS_FREEZE_PROFILE"))
		fprintf(stderr, "crfs: predump round: stopped %.1f ms: listed %.1f ms, tracking %s %.1f ms, resume %.1f ms; then taken, protected %.1f ms\n",
			(t3 - t0) / 1e3, (t1 - t0) / 1e3,
			fresh ? "started" : "armed", (t2 - t1) / 1e3,
			(t3 - t2) / 1e3, (container_now_us() - t3) / 1e3);
	if (ret) {
		snapshot_free(c->snap);
		c->snap = NULL;
		if (c->track)
			track_end(c);
		if (!fresh || !c->error[0])
			snprintf(c->error, sizeof(c->error),
				 "predump: dirty tracking or the page list failed: %s (tracking ended)",
				 strerror(-ret));
		return ret;
	}
	c->frozen_us = t3 - t0;	/* the tree ran again at t3 */
	c->gen++;
	return 0;
}

/*
 * Bytes of the running process.  A page it unmapped since the stop (or
 * all of them, once it exited) reads as zeros: tracking never finds such
 * a page clean later (a mapping made again is not registered, all of it
 * counts as written), so no image points at those zeros.  A page still
 * mapped that cannot be read fails the copy.
 */
ssize_t predump_mem_read(struct proc_snap *p, uint64_t addr, void *buf,
			 size_t n)
{
	size_t done = 0, skip;
	ssize_t got;

	while (done < n) {
		got = kh_mem_read(p->pid, p->memfd, addr + done,
				  (char *)buf + done, n - done);
		if (got > 0) {
			done += got;
			continue;
		}
		if (!kh_task_gone(p->pid) && kh_addr_mapped(p->pid, addr + done))
			return got < 0 ? got : -EIO;
		skip = 4096 - (addr + done) % 4096;
		if (skip > n - done)
			skip = n - done;
		memset((char *)buf + done, 0, skip);
		done += skip;
	}
	return done;
}
