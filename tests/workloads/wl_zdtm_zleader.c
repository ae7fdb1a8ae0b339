/* SPDX-License-Identifier: MIT */
/*
 * zdtm's zombie_leader: the main thread has exited (pthread_exit) while
 * another thread of the process runs on.  The thread prints READY, waits
 * for SIGUSR1 and checks that it still is a thread of the same process
 * (getpid), with its own tid, beside a leader that /proc shows as a
 * zombie, and that the process is its parent's child still.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include "wl_common.h"

static pid_t pid, ppid;
static pid_t tid_before;

/* the state letter of /proc/self/task/TID/stat */
static char task_state(pid_t tid)
{
	char path[64], buf[512], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	f = fopen(path, "r");
	if (!f)
		return '?';
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	return p && p[1] == ' ' ? p[2] : '?';
}

static void *worker(void *arg)
{
	sigset_t set;
	int sig, m;

	(void)arg;
	tid_before = (pid_t)syscall(SYS_gettid);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	/* the leader's exit shows once it is a zombie */
	while (task_state(pid) != 'Z')
		usleep(1000);
	wl_ready();
	sigwait(&set, &sig);
	m = wl_mark();
	if (getpid() != pid || getppid() != ppid)
		wl_fail("zleader", "pid %d ppid %d, want %d %d", getpid(),
			getppid(), pid, ppid);
	if ((pid_t)syscall(SYS_gettid) != tid_before)
		wl_fail("zleader", "tid %ld, want %d", syscall(SYS_gettid),
			tid_before);
	if (task_state(pid) != 'Z')
		wl_fail("zleader", "the leader's state is %c, want Z",
			task_state(pid));
	wl_verdict("zleader", m);
	exit(wl_done());
}

int main(void)
{
	sigset_t set;
	pthread_t t;

	pid = getpid();
	ppid = getppid();
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (pthread_create(&t, NULL, worker, NULL))
		wl_die("pthread_create");
	pthread_exit(NULL);
}
