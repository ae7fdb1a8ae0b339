// SPDX-License-Identifier: MIT
/*
 * wl_mqueue_refused NAME: the POSIX message queues crfs refuses: NAME,
 * with an mq_notify registration (and a message), and NAME-full, full (a
 * sender could be blocked on it; draining it would let one in).  READY,
 * then on SIGUSR1 checks both are as they were (a thaw changed nothing),
 * unlinks them and exits.  wl_mqueue_refused unlink NAME only removes
 * them.
 */
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>

#include "wl_common.h"

static void unlink_all(const char *name)
{
	char full[64];

	snprintf(full, sizeof(full), "%s-full", name);
	mq_unlink(name);
	mq_unlink(full);
}

static void check(mqd_t q, const char *what, long want, int mark)
{
	struct mq_attr a;
	char buf[64];
	unsigned int prio;

	if (mq_getattr(q, &a) || a.mq_curmsgs != want)
		wl_fail(what, "%ld messages, want %ld", a.mq_curmsgs, want);
	else if (mq_receive(q, buf, sizeof(buf), &prio) != 5 || prio != 3 ||
		 memcmp(buf, "hello", 5))
		wl_fail(what, "the message changed");
	wl_verdict(what, mark);
}

int main(int argc, char **argv)
{
	struct mq_attr a = { .mq_maxmsg = 2, .mq_msgsize = 64 };
	struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL,
			       .sigev_signo = SIGUSR2 };
	char full[64];
	sigset_t set;
	mqd_t q, f;
	int sig;

	if (argc == 3 && !strcmp(argv[1], "unlink")) {
		unlink_all(argv[2]);
		return 0;
	}
	if (argc != 2 || strlen(argv[1]) > 40)
		return 2;
	wl_own_session();
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	snprintf(full, sizeof(full), "%s-full", argv[1]);
	q = mq_open(argv[1], O_CREAT | O_EXCL | O_RDWR, 0600, &a);
	f = mq_open(full, O_CREAT | O_EXCL | O_RDWR, 0600, &a);
	if (q < 0 || f < 0)
		wl_die("mq_open");
	/* registered after the send, which would fire it and end it */
	if (mq_send(q, "hello", 5, 3) || mq_notify(q, &ev) ||
	    mq_send(f, "hello", 5, 3) || mq_send(f, "hello", 5, 3))
		wl_die("mq_notify/mq_send");
	wl_ready();
	sigdelset(&set, SIGUSR2);
	sigwait(&set, &sig);
	check(q, "mqueue.notify.thaw", 1, wl_mark());
	check(f, "mqueue.full.thaw", 2, wl_mark());
	unlink_all(argv[1]);
	return wl_done();
}
