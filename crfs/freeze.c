// SPDX-License-Identifier: MIT
/*
 * Freeze: PTRACE_SEIZE + PTRACE_INTERRUPT every thread of every process of
 * the tree, again and again until a pass finds nobody new (a task may fork
 * or clone while we work), then capture the snapshot.  All ptrace work runs
 * on the daemon's single FUSE thread, which is the tracer for the whole
 * freeze.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "container.h"
#include "track.h"
#include "snapshot.h"
#include "kh.h"
#include "crfs/array.h"

static bool in_list(const pid_t *l, int n, pid_t p)
{
	int i;

	for (i = 0; i < n; i++)
		if (l[i] == p)
			return true;
	return false;
}

static int push(pid_t **l, int *n, pid_t p)
{
	pid_t *nl = array_room(*l, *n, sizeof(**l));

	if (!nl)
		return -ENOMEM;
	*l = nl;
	nl[(*n)++] = p;
	return 0;
}

/*
 * A task has one tracer: one traced already (by a debugger or strace in
 * the tree or outside) cannot be seized, and its tracer's hold on it could
 * not be restored anyway.  Says so by name when that is why.
 */
static void traced_why(pid_t pid, pid_t tid, char *why, size_t len)
{
	char path[64], *buf, *at;
	long tracer = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	if (kh_read_file(path, &buf, NULL))
		return;
	at = strstr(buf, "\nTracerPid:");
	if (at)
		tracer = strtol(at + 11, NULL, 10);
	free(buf);
	if (tracer > 0)
		snprintf(why, len, "process %d (thread %d) is traced by process %ld (ptrace); a traced task cannot be checkpointed",
			 pid, tid, tracer);
}

/*
 * A process whose main thread has exited while others run on is not a
 * zombie: it is read through one of its live threads (kh_via), its leader
 * is neither traced nor captured (restore makes it exit again).
 */
static int zombie_leader_via(pid_t pid, char *why, size_t len)
{
	pid_t live;

	if (kh_via(pid) != pid || !(live = kh_leader_live_tid(pid)))
		return 0;
	if (!kh_via_set(pid, live))
		return 0;
	snprintf(why, len, "process %d: its main thread has exited while other threads run on (a zombie leader): too many such processes",
		 pid);
	return -EOPNOTSUPP;
}

/* One pass over the tree; *added counts tasks seized for the first time. */
static int seize_pass(struct container *c, pid_t **procs, int *nprocs,
		      int *added, char *why, size_t len)
{
	pid_t *tids, *kids;
	int i, k, nt, nk, ret = 0;

	*nprocs = 0;
	ret = push(procs, nprocs, c->root);
	for (i = 0; !ret && i < *nprocs; i++) {
		pid_t pid = (*procs)[i];

		ret = zombie_leader_via(pid, why, len);
		if (ret)
			break;
		if (kh_via(pid) == pid && kh_task_gone(pid))
			continue;	/* a zombie cannot be traced, nor needs it */
		if (!in_list(c->tids, c->ntids, pid) &&
		    cgroup_frozen(pid, why, len)) {
			ret = -EBUSY;
			break;
		}
		if (kh_proc_tids(pid, &tids, &nt))
			continue;
		for (k = 0; !ret && k < nt; k++) {
			if (in_list(c->tids, c->ntids, tids[k]))
				continue;
			ret = vfork_settle(c, pid, tids[k]) ?: kh_seize(tids[k]);
			/* a task that exited since we listed it is no loss */
			if (ret && kh_task_gone(tids[k])) {
				ret = 0;
				continue;
			}
			if (ret == -EPERM)
				traced_why(pid, tids[k], why, len);
			ret = ret ?: push(&c->tids, &c->ntids, tids[k]);
			(*added)++;
		}
		free(tids);
		if (ret || kh_proc_children(pid, &kids, &nk))
			continue;
		for (k = 0; !ret && k < nk; k++)
			ret = push(procs, nprocs, kids[k]);
		free(kids);
	}
	return ret;
}

/*
 * As tracer we collect each killed task's exit before its parent can; a
 * thread-group leader is reported only after its other threads, so poll
 * them all rather than wait for one.
 */
static void reap_killed(struct container *c)
{
	int i, st, left = c->ntids, rounds;
	pid_t r;

	for (rounds = 0; left && rounds < 10000; rounds++) {
		for (i = 0; i < c->ntids; i++) {
			if (!c->tids[i])
				continue;
			r = waitpid(c->tids[i], &st, WNOHANG | __WALL);
			if (r == 0)
				continue;
			if (r > 0 && WIFSTOPPED(st)) {
				ptrace(PTRACE_CONT, c->tids[i], 0, 0);
				continue;
			}
			c->tids[i] = 0;	/* exited, or not ours any more */
			left--;
		}
		if (left)
			usleep(1000);
	}
}

static void release(struct container *c, bool kill_them)
{
	int i;

	for (i = 0; i < c->ntids; i++)
		kh_via_forget(c->tids[i]);
	if (kill_them)
		reap_killed(c);
	else
		for (i = 0; i < c->ntids; i++)
			kh_detach(c->tids[i], 0);
	free(c->tids);
	c->tids = NULL;
	c->ntids = 0;
}

/* below the daemon's pid namespace: restore's helpers are not made there */
static bool nested(pid_t pid)
{
	pid_t inner;

	return !kh_ns_pid(pid, &inner, NULL) && inner != pid;
}

/*
 * Restore re-creates a session or process group from its leader: a process
 * of the tree, or, if the leader has exited, a helper with its pid.  A
 * leader that is alive outside the tree (or elsewhere in it, for a process
 * that left its parent's session) cannot be stood in for; nor can one of
 * a pid namespace below ours (restore refuses it: here, before a copy is
 * made that no restore takes).  The same tests as restore's
 * needs_session_helper and needs_group_stub.
 */
static void check_groups(struct snapshot *s, const pid_t *procs, int n)
{
	struct kh_stat *st = calloc(n, sizeof(*st));
	int i, k, parent;
	bool orphan_sid, stub;

	if (!st)
		return;
	for (i = 0; i < n; i++)
		kh_proc_stat(procs[i], &st[i]);
	for (i = 1; i < n; i++) {
		for (parent = 0; parent < n; parent++)
			if (procs[parent] == st[i].ppid)
				break;
		if (parent == n)
			continue;
		orphan_sid = st[i].sid != procs[i] &&
			     st[i].sid != st[parent].sid;
		if (orphan_sid && !kill(st[i].sid, 0))
			snapshot_report(s, "process %d: its session %d is led by a process that is not its parent's session's (not supported yet)",
					procs[i], st[i].sid);
		stub = !orphan_sid && st[i].pgid != procs[i] &&
		       st[i].pgid != st[parent].pgid &&
		       !in_list(procs, n, st[i].pgid);
		if (((orphan_sid && !in_list(procs, n, st[i].sid)) || stub) &&
		    nested(procs[parent]))
			snapshot_report(s, "process %d: a session or process group whose leader has exited, inside a pid namespace, is not supported yet",
					procs[i]);
		if (st[i].pgid == procs[i] || st[i].pgid == st[parent].pgid)
			continue;
		for (k = 0; k < n; k++)
			if (procs[k] == st[i].pgid && st[k].sid == st[i].sid)
				break;
		/* a leader that has exited: restore stands in for it */
		if (k == n && !kill(st[i].pgid, 0))
			snapshot_report(s, "process %d: its process group %d has no leader in the tree (not supported yet)",
					procs[i], st[i].pgid);
	}
	free(st);
}

/*
 * CRFS_FREEZE_PROFILE set: one line per freeze on stderr with the time
 * of each phase, to see what a short final freeze still spends.
 */
static void profile(const unsigned long long *t, unsigned long long trk,
		    unsigned long long runs, const struct freeze_prof *f,
		    bool predump)
{
	if (!getenv("CRFS_FREEZE_PROFILE"))
		return;
	fprintf(stderr, "crfs: %s profile: stop %.1f ms, capture %.1f ms (dirty scan+rewrite %.1f ms), rest %.1f ms; page runs %.1f ms; maps %.1f, take written %.1f, clean %.1f, rewrite %.1f, arm %.1f ms; policies %.1f, threads %.1f, mapdata %.1f ms\n",
		predump ? "predump" : "freeze", (t[1] - t[0]) / 1e6,
		(t[2] - t[1]) / 1e6, trk / 1e6, (t[3] - t[2]) / 1e6,
		runs / 1e6, f->maps / 1e6, f->take / 1e6, f->clean / 1e6,
		f->rewrite / 1e6, f->arm / 1e6, f->policies / 1e6,
		f->threads / 1e6, f->mapdata / 1e6);
	if (!predump)
		fprintf(stderr, "crfs: freeze profile, rest: groups %.1f, sharing %.1f, pidns %.1f, ns mounts %.1f, sysvipc %.1f, ns %.1f, netns_sub %.1f, mounts %.1f, cgroup %.1f ms\n",
			f->rest[0] / 1e6, f->rest[1] / 1e6, f->rest[2] / 1e6,
			f->rest[3] / 1e6, f->rest[4] / 1e6, f->rest[5] / 1e6,
			f->rest[6] / 1e6, f->rest[7] / 1e6, f->rest[8] / 1e6);
}

static void prof_since(struct freeze_prof *f)
{
	f->maps = fprof.maps - f->maps;
	f->take = fprof.take - f->take;
	f->clean = fprof.clean - f->clean;
	f->rewrite = fprof.rewrite - f->rewrite;
	f->arm = fprof.arm - f->arm;
	f->policies = fprof.policies - f->policies;
	f->threads = fprof.threads - f->threads;
	f->mapdata = fprof.mapdata - f->mapdata;
}

/* everything but memory, captured for a freeze (not for a pre-dump) */
static int capture_rest(struct container *c, const pid_t *procs, int nprocs,
			unsigned long long *t)
{
	unsigned long long t0 = track_now_ns();
	int ret = 0;

	/* each step's time, for the profile */
#define STEP(x) do { x; *t++ = track_now_ns() - t0; t0 = track_now_ns(); } while (0)
	STEP(check_groups(c->snap, procs, nprocs));
	STEP(check_sharing(c->snap, procs, nprocs));
	STEP(check_pidns(c->snap, procs, nprocs));
	STEP(check_ns_mounts(c->snap, procs, nprocs));
	STEP(ret = ret ?: capture_sysvipc(c->snap, c->root, procs, nprocs));
	STEP(ret = ret ?: capture_ns(c->snap, c->root));
	STEP(ret = ret ?: capture_netns_sub(c->snap, c->root, procs, nprocs));
	STEP(ret = ret ?: capture_mounts(c->snap, c->root));
	STEP(ret = ret ?: capture_cgroup(c->snap, c->root, procs, nprocs));
#undef STEP
	return ret;
}

static int stop_and_capture(struct container *c, bool predump)
{
	pid_t *procs = NULL;
	int nprocs = 0, added, ret, i;
	char why[512] = "";
	unsigned long long t[4], trk, runs;
	struct freeze_prof f;

	t[0] = track_now_ns();

	do {
		added = 0;
		ret = seize_pass(c, &procs, &nprocs, &added, why, sizeof(why));
	} while (!ret && added);
	if (!ret && !in_list(c->tids, c->ntids, kh_via(c->root)))
		ret = -ESRCH;
	if (ret) {
		if (!c->error[0])	/* vfork_settle said why */
			snprintf(c->error, sizeof(c->error),
				 "freeze failed: %s; the tree was left running",
				 why[0] ? why : strerror(-ret));
		goto fail;
	}
	c->snap = snapshot_new();
	if (!c->snap) {
		ret = -ENOMEM;
		goto fail;
	}
	c->snap->ext_unix = c->ext_unix;
	c->snap->track = c->track;
	c->snap->incremental = c->track && c->track->parent &&
			       c->track->depth < CRFS_MAX_LEVEL;
	c->snap->zstd = c->zstd;
	c->snap->predump = predump;
	if (!predump)
		netns_prefetch_start(c->snap, c->root);
	t[1] = track_now_ns();
	trk = track_capture_ns;
	runs = page_runs_ns;
	f = fprof;
	for (i = 0; !ret && i < nprocs; i++)
		ret = predump ? capture_memory_only(c->snap, procs[i]) :
				capture_process(c->snap, procs[i], c->root);
	t[2] = track_now_ns();
	trk = track_capture_ns - trk;
	runs = page_runs_ns - runs;
	prof_since(&f);
	if (!predump)
		ret = ret ?: capture_rest(c, procs, nprocs, f.rest);
	/* a pre-dump's finishes as the tree runs (predump_finish) */
	if (!predump)
		ret = ret ?: snapshot_finish(c->snap, c->root);
	if (ret) {
		snprintf(c->error, sizeof(c->error),
			 "checkpoint of the frozen tree failed: %s; the tree was left running",
			 strerror(-ret));
		goto fail;
	}
	free(c->pids);
	c->pids = procs;
	c->npids = nprocs;
	t[3] = track_now_ns();
	profile(t, trk, runs, &f, predump);
	return 0;
fail:
	if (c->snap)
		tcp_resume(c->snap);
	snapshot_free(c->snap);
	c->snap = NULL;
	release(c, false);
	free(procs);
	return ret;
}

int freeze_tree(struct container *c)
{
	return stop_and_capture(c, false);
}

/* stopped for a pre-dump: its memory listed, nothing else (predump.c) */
int predump_stop(struct container *c)
{
	return stop_and_capture(c, true);
}

/* The tree runs on; the snapshot stays (post-dump) until the caller frees
 * it. */
void resume_tree(struct container *c)
{
	struct snapshot *s = c->snap;
	size_t i;

	/* before the tasks run: a write in repair mode would fail */
	if (s)
		tcp_resume(s);
	release(c, false);
	for (i = 0; s && i < s->nprocs; i++)
		if (s->procs[i].pending_sig)
			syscall(SYS_tgkill, s->procs[i].pid, s->procs[i].pid,
				s->procs[i].pending_sig);
}

void thaw_tree(struct container *c)
{
	resume_tree(c);
	snapshot_free(c->snap);
	c->snap = NULL;
}

bool reap_tree(struct container *c)
{
	bool root_died = false;
	int i, st;

	for (i = 0; i < c->ntids; i++) {
		if (waitpid(c->tids[i], &st, WNOHANG | __WALL) <= 0 ||
		    !(WIFEXITED(st) || WIFSIGNALED(st)))
			continue;
		if (c->tids[i] == c->root)
			root_died = true;
		c->tids[i--] = c->tids[--c->ntids];
	}
	return root_died;
}

void drop_tree(struct container *c)
{
	if (c->snap)
		tcp_resume(c->snap);
	release(c, false);
	snapshot_free(c->snap);
	c->snap = NULL;
}

void kill_tree(struct container *c)
{
	int i;

	for (i = 0; i < c->npids; i++)
		kill(c->pids[i], SIGKILL);
	kill(c->root, SIGKILL);
	release(c, true);
	/* a post-dump snapshot outlives the tree: a move copies it after */
	if (c->snap && c->snap->postdump)
		return;
	if (c->snap)
		tcp_drop(c->snap);
	snapshot_free(c->snap);
	c->snap = NULL;
}
