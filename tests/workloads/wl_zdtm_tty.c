/* SPDX-License-Identifier: MIT */
/*
 * Controlling terminals as CRIU's zdtm tty00, tty02 and tty03 check them:
 *
 *	tty.noctty	a session leader (we) with a pty slave opened O_NOCTTY:
 *			still nobody's controlling terminal (TIOCGSID: ENOTTY)
 *	tty.ctty	a child's session whose controlling terminal is a pty
 *			it holds no descriptor of (it closed the slave; we
 *			hold the master): the master names the child's
 *			session and foreground group (TIOCGSID, TIOCGPGRP)
 *	tty.hangup	then we close the master: the kernel hangs up the
 *			child's session, which gets SIGHUP and exits 0
 *
 * Usage: wl_zdtm_tty.  READY; on SIGUSR1 each is checked.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include "wl_common.h"
#include "wl_fdtable.h"
#include "wl_pty.h"

static volatile sig_atomic_t go;
static int ptm_a, pts_a, ptm_b;
static pid_t child;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void on_hup(int sig)
{
	(void)sig;
	_exit(0);
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* tty00: a new session whose terminal the slave becomes, then closed */
static void setup_child(void)
{
	char name[64], c = 0;
	int p[2], n, slave;

	ptm_b = posix_openpt(O_RDWR | O_NOCTTY);
	if (ptm_b < 0 || unlockpt(ptm_b) || ioctl(ptm_b, TIOCGPTN, &n) || pipe(p))
		wl_die("ptmx b");
	snprintf(name, sizeof(name), "/dev/pts/%d", n);
	child = fork();
	if (child < 0)
		wl_die("fork");
	if (!child) {
		signal(SIGHUP, on_hup);
		signal(SIGUSR1, SIG_IGN);
		close(ptm_b);
		close(ptm_a);
		close(pts_a);
		if (setsid() < 0)
			_exit(3);
		/* no O_NOCTTY: a session leader's first terminal is its own */
		slave = open(name, O_RDWR);
		if (slave < 0 || ioctl(slave, TIOCSPGRP, &(pid_t){ getpid() }))
			_exit(4);
		close(slave);
		if (write(p[1], &c, 1) != 1)
			_exit(5);
		for (;;)
			pause();
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1)
		wl_die("the child did not take its terminal");
	close(p[0]);
}

static void check_noctty(void)
{
	pid_t sid = 0;
	char path[64], buf[512];
	int tty_nr = -1, fd;
	ssize_t n;

	if (ioctl(pts_a, TIOCGSID, &sid) != -1 || errno != ENOTTY) {
		wl_fail("tty.noctty", "the O_NOCTTY slave is the terminal of session %d", sid);
		return;
	}
	snprintf(path, sizeof(path), "/proc/self/stat");
	fd = open(path, O_RDONLY);
	n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	if (n > 0) {
		buf[n] = 0;
		sscanf(strrchr(buf, ')') + 2, "%*c %*d %*d %*d %d", &tty_nr);
	}
	if (tty_nr != 0)
		wl_fail("tty.noctty", "we have a controlling terminal (tty_nr %#x)", tty_nr);
	else
		wl_pass("tty.noctty");
}

static void check_ctty(void)
{
	pid_t sid = 0, pgrp = 0;
	int st = -1;

	if (ioctl(ptm_b, TIOCGSID, &sid) || sid != child)
		wl_fail("tty.ctty", "the master's session %d (%s), want %d", sid,
			strerror(errno), child);
	else if (ioctl(ptm_b, TIOCGPGRP, &pgrp) || pgrp != child)
		wl_fail("tty.ctty", "the foreground group %d, want %d", pgrp, child);
	else
		wl_pass("tty.ctty");
	close(ptm_b);
	/* no SA_RESTART: the wait returns EINTR at the alarm */
	sigaction(SIGALRM, &(struct sigaction){ .sa_handler = on_alarm }, NULL);
	alarm(20);
	if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st))
		wl_fail("tty.hangup", "the child's status %#x, want an exit 0 on SIGHUP", st);
	else
		wl_pass("tty.hangup");
	alarm(0);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}

/* the descriptor table at READY (wl_fdtable.h) */
static struct wl_fdtable fdt0;

int main(void)
{
	signal(SIGUSR1, on_usr1);
	wl_own_session();
	ptm_a = wl_pty_pair(&pts_a, O_NOCTTY);
	setup_child();
	wl_fdt_take(&fdt0);
	wl_ready();
	while (!go)
		pause();
	wl_fdt_check("zdtm_tty.fd_table", &fdt0);
	check_noctty();
	check_ctty();
	return wl_done();
}
