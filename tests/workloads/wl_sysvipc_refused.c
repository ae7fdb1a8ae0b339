// SPDX-License-Identifier: MIT
/*
 * wl_sysvipc_refused: SysV state crfs must refuse by name.  A semaphore
 * set changed by semop while we hold SEM_UNDO adjustments (a semop with
 * SEM_UNDO: they cannot be read), a
 * message queue a process outside the tree sent to (an orphan that exits:
 * the queue is not only ours), a shared memory segment we created but do
 * not attach, and one of which we unmapped a part of the attach (P).
 * Prints "IDS msg Q sem S shm M P" and READY; SIGUSR1 removes them all.
 */
#include <signal.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/mman.h>
#include <sys/shm.h>

#include "wl_common.h"

static int q = -1, s = -1, m = -1, part = -1;

static void cleanup(void)
{
	if (q >= 0)
		msgctl(q, IPC_RMID, NULL);
	if (s >= 0)
		semctl(s, 0, IPC_RMID);
	if (m >= 0)
		shmctl(m, IPC_RMID, NULL);
	if (part >= 0)
		shmctl(part, IPC_RMID, NULL);
}

/* an orphan, so no process of our tree, sends to the queue and exits */
static void outsider_sends(void)
{
	struct { long type; char c; } msg = { 1, 'x' };
	pid_t p = fork();

	if (p < 0)
		wl_die("fork");
	if (!p) {
		if (fork() == 0)
			_exit(msgsnd(q, &msg, 1, 0) ? 1 : 0);
		_exit(0);
	}
	waitpid(p, NULL, 0);
	/* we receive it: the queue is used by both */
	if (msgrcv(q, &msg, 1, 0, 0) != 1)
		wl_die("msgrcv");
}

static void setup(void)
{
	struct sembuf op = { .sem_num = 0, .sem_op = 1, .sem_flg = SEM_UNDO };
	char *at;

	atexit(cleanup);
	q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	s = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
	m = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	if (q < 0 || s < 0 || m < 0)
		wl_die("msgget/semget/shmget");
	if (semop(s, &op, 1))
		wl_die("semop");
	part = shmget(IPC_PRIVATE, 2 * 4096, IPC_CREAT | 0600);
	at = part < 0 ? (void *)-1 : shmat(part, NULL, 0);
	if (at == (void *)-1 || munmap(at + 4096, 4096))
		wl_die("shmat/munmap part");
	outsider_sends();
}

int main(void)
{
	sigset_t set;
	int sig;

	wl_own_session();
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	setup();
	printf("IDS msg %d sem %d shm %d %d\n", q, s, m, part);
	wl_ready();
	sigwait(&set, &sig);
	wl_pass("refused.removed");
	return wl_done();
}
