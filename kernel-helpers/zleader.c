// SPDX-License-Identifier: MIT
/*
 * A process whose main thread has exited (pthread_exit from main) while
 * other threads run on: the kernel keeps its leader a zombie, with no mm,
 * files, fs or namespaces of its own, so /proc/PID/{maps,mem,fd,exe,cwd,
 * ns/...} say nothing and the leader cannot be traced.  /proc/TID/ of any
 * live thread shows the same process.  The freeze names one live thread
 * per such process here; every per-process /proc path and every ptrace or
 * injected syscall meant for "the process" goes through kh_via(pid).
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "kh.h"

#define VIA_MAX 64
#define PIDFD_THREAD_ O_EXCL	/* linux/pidfd.h, 6.9 */

static struct { pid_t pid, tid; } via[VIA_MAX];
static pthread_mutex_t via_lock = PTHREAD_MUTEX_INITIALIZER;

pid_t kh_via(pid_t pid)
{
	pid_t ret = pid;
	int i;

	pthread_mutex_lock(&via_lock);
	for (i = 0; i < VIA_MAX; i++)
		if (via[i].pid == pid && pid) {
			ret = via[i].tid;
			break;
		}
	pthread_mutex_unlock(&via_lock);
	return ret;
}

/* a pidfd of the process, or of the live thread that stands for it */
int kh_pidfd_open(pid_t pid)
{
	pid_t tid = kh_via(pid);

	return (int)syscall(SYS_pidfd_open, tid,
			    tid != pid ? PIDFD_THREAD_ : 0);
}

/* the first live thread other than the leader; 0: none (not one of those) */
pid_t kh_leader_live_tid(pid_t pid)
{
	pid_t *tids, live = 0;
	int i, n;

	if (!kh_task_gone(pid) || kh_proc_tids(pid, &tids, &n))
		return 0;
	for (i = 0; i < n && !live; i++)
		if (tids[i] != pid && !kh_task_gone(tids[i]))
			live = tids[i];
	free(tids);
	return live;
}

int kh_via_set(pid_t pid, pid_t tid)
{
	int i, ret = -ENOSPC;

	pthread_mutex_lock(&via_lock);
	for (i = 0; i < VIA_MAX && ret; i++)
		if (!via[i].pid || via[i].pid == pid) {
			via[i].pid = pid;
			via[i].tid = tid;
			ret = 0;
		}
	pthread_mutex_unlock(&via_lock);
	return ret;
}

/* the freeze let tid go: a pid read through it may be reused from now */
void kh_via_forget(pid_t tid)
{
	int i;

	pthread_mutex_lock(&via_lock);
	for (i = 0; i < VIA_MAX; i++)
		if (via[i].tid == tid)
			via[i].pid = via[i].tid = 0;
	pthread_mutex_unlock(&via_lock);
}
