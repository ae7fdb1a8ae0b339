// SPDX-License-Identifier: MIT
/*
 * wl_mqueue_refused NAME: a POSIX message queue, open by name (NAME, with
 * a message in it) and one unlinked at once; crfs must refuse both rather
 * than take "/NAME" for a file of the root directory.  READY, then on
 * SIGUSR1 checks the queue is as it was (a thaw changed nothing), unlinks
 * NAME and exits.  wl_mqueue_refused unlink NAME only removes it.
 */
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>

#include "wl_common.h"

int main(int argc, char **argv)
{
	struct mq_attr a = { .mq_maxmsg = 4, .mq_msgsize = 64 };
	char buf[64];
	sigset_t set;
	mqd_t q, anon;
	unsigned int prio;
	int sig;

	if (argc == 3 && !strcmp(argv[1], "unlink"))
		return mq_unlink(argv[2]) ? 1 : 0;
	if (argc != 2)
		return 2;
	wl_own_session();
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	q = mq_open(argv[1], O_CREAT | O_EXCL | O_RDWR, 0600, &a);
	anon = mq_open("/crfs-mq-anon", O_CREAT | O_RDWR, 0600, &a);
	if (q < 0 || anon < 0)
		wl_die("mq_open");
	mq_unlink("/crfs-mq-anon");
	if (mq_send(q, "hello", 5, 3))
		wl_die("mq_send");
	wl_ready();
	sigwait(&set, &sig);
	if (mq_receive(q, buf, sizeof(buf), &prio) != 5 || prio != 3 ||
	    memcmp(buf, "hello", 5))
		wl_fail("mqueue.thaw", "the message changed");
	else
		wl_pass("mqueue.thaw");
	mq_unlink(argv[1]);
	return wl_done();
}
