// SPDX-License-Identifier: MIT
/*
 * wl_selfckpt CTL: a process that checkpoints itself.  On SIGUSR2 it
 * writes 'freeze' to its container's ctl (path CTL; refused: it would
 * stay frozen inside its write), then 'snapshot', which returns once the
 * snapshot is taken; it reads ctl and prints "SNAPPED freeze_id ID" (the
 * original) and goes on: it changes the second half of its memory.  On
 * SIGUSR1 it checks both halves and that the write returned in full: the
 * original and a restore of the snapshot both go on from that write.
 *
 * With "root" before CTL it runs under a child subreaper.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>

#include "wl_common.h"

#define LEN (16u << 20)

static volatile sig_atomic_t got_usr1, got_usr2;
static const char *ctl;

static void on_sig(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else
		got_usr2 = 1;
}

static void wait_for(volatile sig_atomic_t *flag)
{
	sigset_t none;

	sigemptyset(&none);
	while (!*flag)
		sigsuspend(&none);
}

static ssize_t say(const char *cmd, int *err)
{
	int fd = open(ctl, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		wl_die("open %s", ctl);
	n = write(fd, cmd, strlen(cmd));
	*err = n < 0 ? errno : 0;
	close(fd);
	return n;
}

static void show_ctl(void)
{
	char buf[4096], *p;
	int fd = open(ctl, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	p = strstr(buf, "freeze_id ");
	if (p && strstr(buf, "\npostdump "))
		printf("SNAPPED %.42s\n", p);
	else
		printf("ctl after the snapshot: %s\n", buf);
}

static int run(void)
{
	struct sigaction sa = { .sa_handler = on_sig };
	sigset_t block;
	char *m;
	ssize_t n;
	size_t off;
	int err;

	wl_own_session();
	m = mmap(NULL, LEN, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		wl_die("mmap");
	wl_fill(m, LEN, 1);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, NULL);
	wl_ready();
	wait_for(&got_usr2);

	n = say("freeze", &err);
	if (n < 0 && err == EDEADLK)
		wl_pass("freeze-from-inside-refused");
	else
		wl_fail("freeze-from-inside-refused", "write returned %zd (%s)",
			n, strerror(err));
	n = say("snapshot\n", &err);
	/* here, in the original and in a restore: the snapshot is taken */
	show_ctl();
	wl_fill(m + LEN / 2, LEN / 2, 2);
	wait_for(&got_usr1);
	if (n == 9)
		wl_pass("snapshot-write");
	else
		wl_fail("snapshot-write", "returned %zd (%s)", n, strerror(err));
	off = wl_check(m, LEN / 2, 1);
	if (off == (size_t)-1)
		wl_pass("memory-before");
	else
		wl_fail("memory-before", "differs at %zu", off);
	off = wl_check(m + LEN / 2, LEN / 2, 2);
	if (off == (size_t)-1)
		wl_pass("memory-after");
	else
		wl_fail("memory-after", "differs at %zu", off);
	return wl_done();
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 2 && !strcmp(argv[1], "root")) {
		ctl = argv[2];
		return wl_under_subreaper(run);
	}
	if (argc != 2) {
		fprintf(stderr, "usage: wl_selfckpt [root] CTL\n");
		return 2;
	}
	ctl = argv[1];
	return run();
}
