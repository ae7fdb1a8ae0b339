// SPDX-License-Identifier: MIT
/*
 * wl_sysvipc [ROUNDS]: a SysV message queue (private key, owner and mode
 * changed, a raised qbytes, typed messages of several sizes, one empty) and
 * a semaphore set (a key of its own, values set with SETALL and semop
 * without SEM_UNDO, by us: the last pid of each, GETPID), both in the
 * host's IPC namespace and used only by us.  Prints "IDS msg M sem S" and
 * READY; each SIGUSR1 checks every piece of both without changing them
 * (after a thaw they must be untouched); after the last round the messages
 * are also received in order, and both objects are removed.
 *
 * With WL_MSGMNI=N (in an IPC namespace of its own that the test set up
 * so) each round also checks that kernel.msgmni of our namespace is N.
 *
 * wl_sysvipc tamper Q S: what the killed tree left changes (a message is
 * received, a semaphore raised by semop), so that a restore which kept it
 * instead of making the image's own would fail the checks.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdbool.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>

#include "wl_common.h"

#define NMSG	4
#define OWNER	1234
#define GROUP	2345
#define QBYTES	12000

static const long msg_type[NMSG] = { 5, 1, 5, 7 };
static const size_t msg_len[NMSG] = { 8, 128, 0, 3000 };
static const unsigned short sem_init[3] = { 3, 0, 17 };

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

struct msgbuf_big {
	long type;
	char text[4096];
};

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void make_msg(struct msgbuf_big *m, int i)
{
	m->type = msg_type[i];
	wl_fill(m->text, sizeof(m->text), 100 + i);
}

static void setup(int *q, int *s, key_t key)
{
	struct sembuf op = { .sem_num = 2, .sem_op = 4 };
	unsigned short sem_set[3] = { sem_init[0], sem_init[1], sem_init[2] };
	union semun u;
	struct msgbuf_big m;
	struct msqid_ds ds;
	struct semid_ds sds;
	int i;

	*q = msgget(IPC_PRIVATE, IPC_CREAT | 0640);
	if (*q < 0)
		wl_die("msgget");
	if (msgctl(*q, IPC_STAT, &ds))
		wl_die("msgctl IPC_STAT");
	ds.msg_perm.uid = OWNER;
	ds.msg_perm.gid = GROUP;
	ds.msg_qbytes = QBYTES;
	if (msgctl(*q, IPC_SET, &ds))
		wl_die("msgctl IPC_SET");
	for (i = 0; i < NMSG; i++) {
		make_msg(&m, i);
		if (msgsnd(*q, &m, msg_len[i], IPC_NOWAIT))
			wl_die("msgsnd %d", i);
	}
	*s = semget(key, 3, IPC_CREAT | IPC_EXCL | 0604);
	if (*s < 0)
		wl_die("semget");
	/* SETALL, then a semop without SEM_UNDO adds to the last one */
	sem_set[2] -= 4;
	u.array = sem_set;
	if (semctl(*s, 0, SETALL, u))
		wl_die("semctl SETALL");
	if (semop(*s, &op, 1))
		wl_die("semop");
	u.buf = &sds;
	if (semctl(*s, 0, IPC_STAT, u))
		wl_die("semctl IPC_STAT");
	sds.sem_perm.uid = OWNER;
	if (semctl(*s, 0, IPC_SET, u))
		wl_die("semctl IPC_SET");
}

static void check_msg_attr(int q)
{
	struct msqid_ds ds;
	int mark = wl_mark();

	if (msgctl(q, IPC_STAT, &ds)) {
		wl_fail("msg.attr", "msgctl(%d, IPC_STAT): %s", q,
			strerror(errno));
		return;
	}
	if (ds.msg_perm.__key != IPC_PRIVATE || (ds.msg_perm.mode & 0777) != 0640 ||
	    ds.msg_perm.uid != OWNER || ds.msg_perm.gid != GROUP ||
	    ds.msg_perm.cuid != getuid() || ds.msg_qbytes != QBYTES ||
	    ds.msg_qnum != NMSG)
		wl_fail("msg.attr", "key %x mode %o uid %u gid %u cuid %u qbytes %lu qnum %lu",
			ds.msg_perm.__key, ds.msg_perm.mode, ds.msg_perm.uid,
			ds.msg_perm.gid, ds.msg_perm.cuid, ds.msg_qbytes,
			ds.msg_qnum);
	wl_verdict("msg.attr", mark);
}

static void check_one(const char *name, int i, const struct msgbuf_big *m,
		      ssize_t n)
{
	struct msgbuf_big want;

	make_msg(&want, i);
	if (n != (ssize_t)msg_len[i] || m->type != msg_type[i] ||
	    memcmp(m->text, want.text, msg_len[i]))
		wl_fail(name, "message %d: type %ld len %zd, want %ld len %zu (or other bytes)",
			i, m->type, n, msg_type[i], msg_len[i]);
}

/* peek (MSG_COPY) leaves the queue as it is; receive empties it */
static void check_msgs(int q, bool receive)
{
	const char *name = receive ? "msg.receive" : "msg.peek";
	struct msgbuf_big m;
	int mark = wl_mark(), i;
	ssize_t n;

	for (i = 0; i < NMSG; i++) {
		n = receive ? msgrcv(q, &m, sizeof(m.text), 0, IPC_NOWAIT) :
			      msgrcv(q, &m, sizeof(m.text), i,
				     IPC_NOWAIT | MSG_COPY);
		if (n < 0) {
			wl_fail(name, "message %d: %s", i, strerror(errno));
			return;
		}
		check_one(name, i, &m, n);
	}
	if (msgrcv(q, &m, sizeof(m.text), receive ? 0 : NMSG,
		   IPC_NOWAIT | (receive ? 0 : MSG_COPY)) >= 0)
		wl_fail(name, "a message more than %d", NMSG);
	wl_verdict(name, mark);
}

static void check_sem(int s, key_t key)
{
	struct semid_ds sds;
	union semun u = { .buf = &sds };
	unsigned short v[3];
	int mark = wl_mark();

	if (semctl(s, 0, IPC_STAT, u)) {
		wl_fail("sem.attr", "semctl(%d, IPC_STAT): %s", s,
			strerror(errno));
		return;
	}
	if (sds.sem_perm.__key != key || (sds.sem_perm.mode & 0777) != 0604 ||
	    sds.sem_perm.uid != OWNER || sds.sem_perm.gid != getgid() ||
	    sds.sem_nsems != 3)
		wl_fail("sem.attr", "key %x mode %o uid %u gid %u nsems %lu",
			sds.sem_perm.__key, sds.sem_perm.mode,
			sds.sem_perm.uid, sds.sem_perm.gid, sds.sem_nsems);
	if (semget(key, 0, 0) != s)
		wl_fail("sem.attr", "semget(key %x) gives %d, want %d", key,
			semget(key, 0, 0), s);
	wl_verdict("sem.attr", mark);
	mark = wl_mark();
	u.array = v;
	if (semctl(s, 0, GETALL, u))
		wl_fail("sem.values", "GETALL: %s", strerror(errno));
	else if (memcmp(v, sem_init, sizeof(v)))
		wl_fail("sem.values", "%u %u %u, want %u %u %u", v[0], v[1],
			v[2], sem_init[0], sem_init[1], sem_init[2]);
	wl_verdict("sem.values", mark);
	/* SETALL, then our semop: we were the last to operate on each */
	mark = wl_mark();
	for (int i = 0; i < 3; i++)
		if (semctl(s, i, GETPID) != getpid())
			wl_fail("sem.pid", "semaphore %d: GETPID %d, want %d", i,
				semctl(s, i, GETPID), getpid());
	wl_verdict("sem.pid", mark);
}

static void check_limit(void)
{
	const char *want = getenv("WL_MSGMNI");
	char buf[32] = "";
	FILE *f;

	if (!want)
		return;
	f = fopen("/proc/sys/kernel/msgmni", "r");
	if (!f || !fgets(buf, sizeof(buf), f) || atoi(buf) != atoi(want))
		wl_fail("ns.msgmni", "kernel.msgmni is '%s', want %s",
			strtok(buf, "\n") ?: "", want);
	else
		wl_pass("ns.msgmni");
	if (f)
		fclose(f);
}

static int tamper(int q, int s)
{
	struct sembuf op = { .sem_num = 1, .sem_op = 5 };
	struct msgbuf_big m;

	if (msgrcv(q, &m, sizeof(m.text), 0, IPC_NOWAIT) < 0)
		wl_die("tamper: msgrcv");
	if (semop(s, &op, 1))
		wl_die("tamper: semop");
	return 0;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 1, r, q, s;
	key_t key = 0x43520000 | (getpid() & 0xffff);
	sigset_t none;

	if (argc == 4 && !strcmp(argv[1], "tamper"))
		return tamper(atoi(argv[2]), atoi(argv[3]));
	wl_own_session();
	signal(SIGUSR1, on_usr1);
	setup(&q, &s, key);
	printf("IDS msg %d sem %d\n", q, s);
	wl_ready();
	sigemptyset(&none);
	for (r = 1; r <= rounds; r++) {
		while (!go)
			sigsuspend(&none);
		go = 0;
		check_msg_attr(q);
		check_msgs(q, false);
		check_sem(s, key);
		check_limit();
		if (r == rounds)
			check_msgs(q, true);
		printf("ROUND %d\n", r);
		fflush(stdout);
	}
	msgctl(q, IPC_RMID, NULL);
	semctl(s, 0, IPC_RMID);
	return wl_done();
}
