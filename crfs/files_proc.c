// SPDX-License-Identifier: MIT
/*
 * Files under /proc/PID of a process (its stat, status, mountinfo, the
 * directory itself; /proc/self/... is /proc/PID/... by then).  Such a file
 * is bound to that process: reopening the path is right only once a
 * process of the tree has that pid again, so restore opens it then.  A
 * file whose process had exited reads ESRCH: restore opens it against a
 * helper with that pid that exits at once.  A file of a live process
 * outside the tree cannot be made again.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include "files.h"
#include "kh.h"

static bool proc_dev(dev_t dev)
{
	static dev_t ours;
	struct stat st;

	if (!ours && !stat("/proc/self", &st))
		ours = st.st_dev;
	return ours && dev == ours;
}

/* one of another proc file system: a tree's own (unshare --mount-proc),
 * whose paths name the pids of its namespace */
static bool other_procfs(const struct kh_fd *f)
{
	struct statfs sf;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", f->pid, f->fd);
	return !statfs(path, &sf) && sf.f_type == PROC_SUPER_MAGIC;
}

#define DELETED " (deleted)"

/* the pid of /proc/PID[/...] on a proc file system, or 0; a dead one's
 * directory reads "/proc/PID (deleted)" */
pid_t files_proc_pid(const struct kh_fd *f)
{
	const char *p = f->link;
	char *end;
	long n;

	if (!f->st_ok || strncmp(p, "/proc/", 6) || p[6] < '1' || p[6] > '9' ||
	    (!proc_dev(f->st.st_dev) && !other_procfs(f)))
		return 0;
	n = strtol(p + 6, &end, 10);
	if ((*end && *end != '/' && strcmp(end, DELETED)) || n <= 0 ||
	    n > 4194304)
		return 0;
	return (pid_t)n;
}

static bool in_tree(struct snapshot *s, pid_t pid)
{
	size_t i;

	for (i = 0; i < s->nprocs; i++)
		if (s->procs[i].pid == pid)
			return true;
	return false;
}

/* restore re-creates a tree of its own pid namespace with other pids */
bool files_own_pid_ns(struct snapshot *s)
{
	pid_t vpid;

	return s->nprocs && !kh_ns_pid(s->procs[0].pid, &vpid, NULL) &&
	       vpid != s->procs[0].pid;
}

static bool thread_of(const char *path, pid_t pid)
{
	const char *t = strstr(path, "/task/");
	long tid;

	if (!t)
		return false;
	tid = strtol(t + 6, NULL, 10);
	return tid > 0 && tid != pid;
}

const char *files_classify_proc(struct files_ctx *c, const struct kh_fd *f,
				struct crfs_file *cf, int *err)
{
	size_t n = strlen(f->link), d = strlen(DELETED);
	bool gone = n > d && !strcmp(f->link + n - d, DELETED);
	pid_t pid = files_proc_pid(f);
	struct stat st;
	bool alive;

	if (files_own_pid_ns(c->s))
		return "a file under /proc/PID of a tree in its own pid namespace is not supported yet";
	/* before, kept as a plain file: reopened by its path at restore,
	 * it would have been another process's */
	if (!proc_dev(f->st.st_dev))
		return "a file under /proc/PID of a proc file system other than the host's is not supported";
	cf->kind = FK_PROC;
	cf->proc_pid = pid;
	cf->path = strndup(f->link, gone ? n - d : n);
	if (!cf->path) {
		*err = -ENOMEM;
		return NULL;
	}
	/* the same path of a process that is gone leads nowhere, or to the
	 * inode of another process that took the pid since */
	alive = !gone && !stat(cf->path, &st) && st.st_ino == f->st.st_ino &&
		st.st_dev == f->st.st_dev;
	cf->dead = !alive;
	/* threads come back last, in the restorer, after the files */
	if (alive && thread_of(cf->path, pid))
		return "a file under /proc/PID/task/TID of a thread other than the main one is not supported yet";
	if (alive && !in_tree(c->s, pid))
		return "a file under /proc of a process outside the container is not supported";
	return NULL;
}

/*
 * One of a live process is opened by its holders in their own tables; a
 * socket's queue, which crfs-restore fills, could not carry it.
 */
void files_proc_inflight(struct files_ctx *c)
{
	const struct queue *q;
	const struct crfs_file *f;
	size_t n, i;
	int k;

	for (n = 0; n < c->nqueues; n++) {
		q = &c->queues[n];
		for (i = 0; q->ids && i < q->q.nchunks; i++)
			for (k = 0; q->ids[i] && k < q->q.chunks[i].nfds; k++) {
				f = &c->files[q->ids[i][k] - 1];
				if (!q->ids[i][k] || f->kind != FK_PROC ||
				    f->dead || c->bad[f->id - 1])
					continue;
				c->bad[f->id - 1] = true;
				files_report(c, &c->s->fds[c->rep[f->id - 1]],
					     "a file under /proc/PID in flight in a unix socket's queue is not supported");
			}
	}
}
