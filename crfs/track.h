/* SPDX-License-Identifier: MIT */
/*
 * Dirty-page tracking of a container (ctl "track"): which pages each
 * process wrote since the last freeze, so that the next freeze can present
 * only those and point the rest into the previous checkpoint (the base).
 */
#ifndef CRFS_TRACK_H
#define CRFS_TRACK_H

#include <stddef.h>
#include <sys/types.h>

#include "crfs/format.h"

struct track_proc {
	pid_t pid;
	int pidfd;		/* this process, not a later one of its pid */
	int uffd;		/* its write-protect userfaultfd, or -1 */
	struct crfs_page_run *base;	/* its pages in the base image */
	size_t nbase;
	struct track_range {	/* the mappings registered on uffd */
		uint64_t start, end;
	} *armed;
	size_t narmed;
	struct track_range *pending;	/* registered, to protect yet */
	size_t npending;
	bool seen;		/* captured by the freeze under way */
	bool take;		/* pre-dump: its written set to take */
};

struct track {
	char base_id[33];	/* the base: the last freeze of the tree */
	int depth;		/* the base's ancestors (0: a full image) */
	struct track_proc *procs;
	size_t nprocs;
	char *parent;		/* "parent PATH": the next freeze is relative */
};

struct container;
struct snapshot;
/* ctl "track": on a frozen container, its snapshot becomes the base */
int track_start(struct container *c);
void track_end(struct container *c);
/* capture.c: procs[idx]'s runs unchanged since the base point into it
 * (if the freeze is incremental); tracking goes on from now */
int track_capture(struct snapshot *s, int idx);
/*
 * A pre-dump splits track_capture: track_arm while the tree is stopped
 * (tracking begun for a process new since, mappings made since
 * registered), track_take once it runs (the written set taken and
 * cleared in one walk, runs pointed at the base): the take's walk over
 * all memory does not stop the tree.
 */
int track_arm(struct snapshot *s, int idx);
int track_take(struct snapshot *s, int idx);
/* ns spent in track_capture since start (CRFS_FREEZE_PROFILE) */
extern unsigned long long track_capture_ns;
/* capture.c: ns spent listing page runs (pagemap, PAGEMAP_SCAN) */
extern unsigned long long page_runs_ns;
unsigned long long track_now_ns(void);
/* CRFS_FREEZE_PROFILE's finer phases, ns since start */
struct freeze_prof {
	unsigned long long maps;	/* /proc/PID/maps read */
	unsigned long long take;	/* written set taken and cleared */
	unsigned long long clean;	/* runs less the written set */
	unsigned long long rewrite;	/* runs pointed into the base */
	unsigned long long arm;		/* mappings registered, protected */
	unsigned long long policies;	/* mappings' NUMA policies asked */
	unsigned long long threads;	/* threads asked (remote syscalls) */
	unsigned long long mapdata;	/* objects of deleted mappings read */
	unsigned long long rest[9];	/* freeze.c's capture_rest, per step */
};
extern struct freeze_prof fprof;
/*
 * A pre-dump registers what it arms while the tree is stopped; where
 * tracking began with it (the first round, a process new or exec'd
 * since) it protects that here, after the tree runs again and before
 * its pages are read (kh_dirty_protect); elsewhere the take did.  A
 * range that fails to protect counts as written, which is never wrong.
 */
void track_protect(struct container *c);
/* the freeze succeeded: its snapshot is the base now */
int track_rebase(struct container *c);

#endif
