// SPDX-License-Identifier: MIT
/*
 * wl_mqueue NAME: POSIX message queues NAME-a (read-write, shared with a
 * child through fork), NAME-b (written through an O_NONBLOCK write-only
 * descriptor, read through a second one) and NAME-c (unlinked, still
 * open), with messages of several priorities and sizes (one empty).
 * READY, then on each SIGUSR1 (two rounds: after a thaw, after a
 * restore) checks attributes, flags, modes and every message in order,
 * then puts them back; after the last round the child checks its shared
 * descriptor, the queues are unlinked and the verdict printed.
 * wl_mqueue unlink NAME only removes the queues; wl_mqueue take NAME
 * receives NAME-a's first message ("top", priority 31), wl_mqueue give
 * NAME sends it back (it comes out first again); wl_mqueue hold NAME keeps
 * NAME-a open (HELD) until killed.
 */
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "wl_common.h"
#include "wl_fdtable.h"

struct m { const char *text; size_t len; unsigned int prio; };

static char big[128];
/* in the order they come out: by priority, then as sent */
static struct m msgs_a[] = {
	{ "top", 3, 31 }, { "hello", 5, 5 }, { big, sizeof(big), 5 },
	{ "low", 3, 1 }, { "", 0, 0 },
};
static struct m msgs_b[] = { { "b1", 2, 2 }, { "b2", 2, 2 } };
static struct m msgs_c[] = { { "", 0, 9 }, { "ghost", 5, 7 } };

struct q {
	const char *what;
	mqd_t fd, rd;		/* rd: the descriptor it is read through */
	long maxmsg, msgsize, flags;
	mode_t mode;
	struct m *m;
	size_t n;
};

static void refill(struct q *q)
{
	size_t i;

	for (i = 0; i < q->n; i++)
		if (mq_send(q->fd, q->m[i].text, q->m[i].len, q->m[i].prio))
			wl_die("%s: mq_send", q->what);
}

static void check_attr(struct q *q)
{
	struct mq_attr a;
	struct stat st;
	int fl = fcntl(q->fd, F_GETFL);

	if (mq_getattr(q->fd, &a) || fstat(q->fd, &st))
		wl_fail(q->what, "mq_getattr/fstat: %s", strerror(errno));
	else if (a.mq_maxmsg != q->maxmsg || a.mq_msgsize != q->msgsize ||
		 a.mq_curmsgs != (long)q->n)
		wl_fail(q->what, "attributes %ld %ld %ld", a.mq_maxmsg,
			a.mq_msgsize, a.mq_curmsgs);
	else if (a.mq_flags != (q->flags & O_NONBLOCK) ||
		 (fl & (O_ACCMODE | O_NONBLOCK)) != q->flags)
		wl_fail(q->what, "flags 0%lo, F_GETFL 0%o", a.mq_flags, fl);
	else if ((st.st_mode & 07777) != q->mode || st.st_uid != getuid())
		wl_fail(q->what, "mode 0%o owner %u", st.st_mode, st.st_uid);
}

static void check_msgs(struct q *q)
{
	char buf[256];
	unsigned int prio;
	ssize_t n;
	size_t i;

	for (i = 0; i < q->n; i++) {
		n = mq_receive(q->rd, buf, sizeof(buf), &prio);
		if (n != (ssize_t)q->m[i].len || prio != q->m[i].prio ||
		    memcmp(buf, q->m[i].text, n)) {
			wl_fail(q->what, "message %zu: %zd bytes prio %u", i,
				n, prio);
			return;
		}
	}
	if (mq_receive(q->rd, buf, sizeof(buf), &prio) >= 0 || errno != EAGAIN)
		wl_fail(q->what, "more messages than sent");
}

static void check(struct q *q, int round)
{
	int mark = wl_mark();
	char name[64];
	struct mq_attr a, nb = { .mq_flags = O_NONBLOCK }, old;

	check_attr(q);
	/* read without blocking, whatever the descriptor's own flag */
	mq_setattr(q->rd, &nb, &old);
	check_msgs(q);
	mq_setattr(q->rd, &old, &a);
	refill(q);
	snprintf(name, sizeof(name), "%s.round%d", q->what, round);
	wl_verdict(name, mark);
}

static void drain(mqd_t fd)
{
	struct mq_attr nb = { .mq_flags = O_NONBLOCK };

	mq_setattr(fd, &nb, NULL);
	while (mq_receive(fd, big, sizeof(big), NULL) >= 0)
		;
	nb.mq_flags = 0;
	mq_setattr(fd, &nb, NULL);
}

static void make(struct q *q, const char *name, int oflag)
{
	struct mq_attr a = { .mq_maxmsg = q->maxmsg, .mq_msgsize = q->msgsize };

	q->fd = mq_open(name, O_CREAT | O_EXCL | oflag, q->mode, &a);
	if (q->fd < 0)
		wl_die("mq_open %s", name);
	q->rd = q->fd;
	refill(q);
}

static void unlink_all(const char *base)
{
	const char *sfx[] = { "-a", "-b", "-c" };
	char name[64];
	int i;

	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "%s%s", base, sfx[i]);
		mq_unlink(name);
	}
}

/* the child: its q->fd is the parent's description, emptied by then */
static int child(mqd_t fd, sigset_t *set)
{
	struct mq_attr a;
	int sig;

	sigwait(set, &sig);
	if (mq_getattr(fd, &a) || a.mq_maxmsg != 8 || a.mq_curmsgs != 0 ||
	    (fcntl(fd, F_GETFL) & O_ACCMODE) != O_RDWR)
		return 1;
	return 0;
}

/* the leftover of a killed tree changed, and changed back */
static int take_give(const char *how, const char *base)
{
	char name[64], buf[128];
	mqd_t fd;
	int ret;

	snprintf(name, sizeof(name), "%s-a", base);
	fd = mq_open(name, O_RDWR | O_NONBLOCK);
	if (fd < 0)
		return 1;
	if (!strcmp(how, "take"))
		ret = mq_receive(fd, buf, sizeof(buf), NULL) != 3;
	else
		ret = mq_send(fd, "top", 3, 31) != 0;
	mq_close(fd);
	return ret;
}

/* a process outside the tree with the leftover open */
static int hold(const char *base)
{
	char name[64];

	snprintf(name, sizeof(name), "%s-a", base);
	if (mq_open(name, O_RDONLY) < 0)
		return 1;
	printf("HELD\n");
	fflush(stdout);
	for (;;)
		pause();
}

/* the descriptor table at READY (wl_fdtable.h) */
static struct wl_fdtable fdt0;

int main(int argc, char **argv)
{
	struct q qa = { "mq.a", .maxmsg = 8, .msgsize = 128, .flags = O_RDWR,
			.mode = 0640, .m = msgs_a, .n = 5 };
	struct q qb = { "mq.b", .maxmsg = 4, .msgsize = 16,
			.flags = O_WRONLY | O_NONBLOCK, .mode = 0600,
			.m = msgs_b, .n = 2 };
	struct q qc = { "mq.c", .maxmsg = 3, .msgsize = 32, .flags = O_RDWR,
			.mode = 0604, .m = msgs_c, .n = 2 };
	char name[64];
	sigset_t set;
	int r, sig, st;
	pid_t kid;

	if (argc == 3 && !strcmp(argv[1], "unlink")) {
		unlink_all(argv[2]);
		return 0;
	}
	if (argc == 3 && strlen(argv[2]) <= 40 && !strcmp(argv[1], "hold"))
		return hold(argv[2]);
	if (argc == 3 && strlen(argv[2]) <= 40 &&
	    (!strcmp(argv[1], "take") || !strcmp(argv[1], "give")))
		return take_give(argv[1], argv[2]);
	if (argc != 2 || strlen(argv[1]) > 40)
		return 2;
	wl_own_session();
	umask(0);
	memset(big, 'x', sizeof(big));
	big[7] = 0;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	snprintf(name, sizeof(name), "%s-a", argv[1]);
	make(&qa, name, O_RDWR);
	snprintf(name, sizeof(name), "%s-b", argv[1]);
	make(&qb, name, O_WRONLY | O_NONBLOCK);
	qb.rd = mq_open(name, O_RDONLY);
	snprintf(name, sizeof(name), "%s-c", argv[1]);
	make(&qc, name, O_RDWR);
	if (qb.rd < 0 || mq_unlink(name))
		wl_die("mq_open/unlink");
	kid = fork();
	if (kid < 0)
		wl_die("fork");
	if (!kid)
		exit(child(qa.fd, &set));
	wl_fdt_take(&fdt0);
	wl_ready();
	for (r = 1; r <= 2; r++) {
		sigwait(&set, &sig);
		wl_fdt_check("mqueue.fd_table", &fdt0);
		check(&qa, r);
		check(&qb, r);
		check(&qc, r);
		printf("ROUND %d\n", r);
		fflush(stdout);
	}
	/* the child's descriptor: the same description, the same queue */
	drain(qa.fd);
	kill(kid, SIGUSR1);
	if (waitpid(kid, &st, 0) != kid || !WIFEXITED(st) || WEXITSTATUS(st))
		wl_fail("mq.child", "the child's descriptor is not the queue (status %d)", st);
	else
		wl_pass("mq.child");
	unlink_all(argv[1]);
	return wl_done();
}
