/* SPDX-License-Identifier: MIT */
/*
 * zdtm's zombie_leader and pthread02: the main thread has exited
 * (pthread_exit) while two other threads of the process run on.  The
 * first prints READY, waits for SIGUSR1 and checks, after freeze -> thaw
 * or checkpoint -> kill -> restore: getpid, getppid and its own tid; the
 * leader a zombie (State Z, Tgid the pid, still under /proc/self/task);
 * the thread count; its memory; its signal mask and a signal pending for
 * the process; that the second thread runs on with its tid (it joins it).
 * The last thread exits with exit(): the process's exit status is what
 * its parent's waitpid sees.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include "wl_common.h"

#define MEM_LEN (256 * 1024)

static pid_t pid, ppid;
static int in_tree;	/* its parent is checkpointed with it */
static pid_t tid_before, tid2_before;
static volatile int go2;
static char *mem;

/* the value after "key:" in /proc/self/task/TID/status, or "?" */
static void task_status(pid_t tid, const char *key, char *out, size_t len)
{
	char path[64], line[256];
	size_t n = strlen(key);
	FILE *f;

	snprintf(out, len, "?");
	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':') {
			snprintf(out, len, "%s", line + n + 1 + strspn(line + n + 1, " \t"));
			out[strcspn(out, "\n")] = '\0';
			break;
		}
	fclose(f);
}

static int leader_zombie(void)
{
	char st[64];

	task_status(pid, "State", st, sizeof(st));
	return !strcmp(st, "Z (zombie)");
}

static void check_leader(void)
{
	char st[64], tgid[32], threads[32];

	task_status(pid, "State", st, sizeof(st));
	if (strcmp(st, "Z (zombie)"))
		wl_fail("zleader", "the leader's state is '%s', want 'Z (zombie)'",
			st);
	task_status(pid, "Tgid", tgid, sizeof(tgid));
	if (atoi(tgid) != pid)
		wl_fail("zleader", "the leader's Tgid is '%s', want %d", tgid,
			pid);
	/* the leader counts until the last thread has gone */
	task_status(tid_before, "Threads", threads, sizeof(threads));
	if (atoi(threads) != 3)
		wl_fail("zleader", "Threads: %s, want 3", threads);
}

static void check_signals(void)
{
	sigset_t cur, pend;

	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	if (!sigismember(&cur, SIGUSR2) || sigismember(&cur, SIGTERM))
		wl_fail("zleader", "signal mask changed (SIGUSR2 %d, SIGTERM %d)",
			sigismember(&cur, SIGUSR2), sigismember(&cur, SIGTERM));
	sigpending(&pend);
	if (!sigismember(&pend, SIGUSR2))
		wl_fail("zleader", "SIGUSR2 sent to the process is no longer pending");
}

static void *second(void *arg)
{
	(void)arg;
	tid2_before = (pid_t)syscall(SYS_gettid);
	while (!go2)
		usleep(1000);
	if ((pid_t)syscall(SYS_gettid) != tid2_before)
		wl_fail("zleader", "second thread: tid %ld, want %d",
			syscall(SYS_gettid), tid2_before);
	return NULL;
}

static void *worker(void *arg)
{
	pthread_t t2;
	sigset_t set;
	int sig, m;

	(void)arg;
	tid_before = (pid_t)syscall(SYS_gettid);
	if (pthread_create(&t2, NULL, second, NULL))
		wl_die("pthread_create");
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	/* the leader's exit shows once it is a zombie */
	while (!leader_zombie() || !tid2_before)
		usleep(1000);
	/* pending for the process: no thread takes it, all block it */
	kill(pid, SIGUSR2);
	wl_ready();
	sigwait(&set, &sig);
	m = wl_mark();
	if (getpid() != pid || (in_tree && getppid() != ppid))
		wl_fail("zleader", "pid %d ppid %d, want %d %d", getpid(),
			getppid(), pid, ppid);
	if ((pid_t)syscall(SYS_gettid) != tid_before)
		wl_fail("zleader", "tid %ld, want %d", syscall(SYS_gettid),
			tid_before);
	check_leader();
	check_signals();
	if (wl_check(mem, MEM_LEN, pid) != (size_t)-1)
		wl_fail("zleader", "memory differs");
	go2 = 1;
	if (pthread_join(t2, NULL))
		wl_fail("zleader", "cannot join the second thread");
	wl_verdict("zleader", m);
	exit(wl_done());
}

/*
 * "raw": the leader leaves by the exit syscall itself (zdtm's pthread02
 * has it so), else by pthread_exit; "child": its parent is restored with
 * it (a root's parent is crfs-restore)
 */
int main(int argc, char **argv)
{
	sigset_t set;
	pthread_t t;

	pid = getpid();
	ppid = getppid();
	in_tree = argc > 2 && !strcmp(argv[2], "child");
	mem = malloc(MEM_LEN);
	if (!mem)
		wl_die("malloc");
	wl_fill(mem, MEM_LEN, pid);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (pthread_create(&t, NULL, worker, NULL))
		wl_die("pthread_create");
	if (argc > 1 && !strcmp(argv[1], "raw"))
		for (;;)
			syscall(SYS_exit, 0);
	pthread_exit(NULL);
}
