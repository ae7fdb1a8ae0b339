// SPDX-License-Identifier: MIT
/* Pseudo-terminals: index, settings, who it is the terminal of. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>

#include "kh.h"

bool kh_is_ptmx(dev_t rdev)
{
	return major(rdev) == 5 && minor(rdev) == 2;
}

bool kh_is_pts(dev_t rdev)
{
	return major(rdev) >= 136 && major(rdev) <= 143;
}

static char *hex(const void *p, size_t n)
{
	const unsigned char *b = p;
	char *s = malloc(2 * n + 1);
	size_t i;

	for (i = 0; s && i < n; i++)
		sprintf(s + 2 * i, "%02x", b[i]);
	return s;
}

/* what can be read now, without waiting */
static int drain(int fd, char **buf, size_t *len)
{
	int n = 0;
	ssize_t got;

	*buf = NULL;
	*len = 0;
	if (ioctl(fd, FIONREAD, &n) || n <= 0)
		return 0;
	*buf = malloc(n);
	if (!*buf)
		return -ENOMEM;
	got = read(fd, *buf, n);
	if (got < 0) {
		free(*buf);
		*buf = NULL;
		return -errno;
	}
	*len = got;
	return 0;
}

/*
 * The terminal with no processing on the way in or out, nor echo, nor
 * signals: what is written now lands in the queues byte for byte.  Lines
 * stay lines for a canonical reader.
 */
static int quiet(int slave, const struct termios *orig)
{
	struct termios q = *orig;

	q.c_iflag = 0;
	q.c_oflag = 0;
	q.c_lflag &= ICANON;
	return tcsetattr(slave, TCSANOW, &q) ? -errno : 0;
}

/* puts the queues back: toward the slave's reader, and toward the master */
int kh_pty_refill(int master, int slave, const struct termios *orig,
		  const char *in, size_t inlen, const char *out, size_t outlen)
{
	int ret = quiet(slave, orig);

	if (!ret && inlen && write(master, in, inlen) != (ssize_t)inlen)
		ret = -EIO;
	/*
	 * The slave's line discipline takes those bytes in a worker, with
	 * whatever termios it finds then; poll() waits for that worker, so
	 * they are in, unechoed, before orig (echo and all) is back.
	 */
	if (!ret && inlen)
		poll(&(struct pollfd){ .fd = slave, .events = POLLIN }, 1, 0);
	if (!ret && outlen && write(slave, out, outlen) != (ssize_t)outlen)
		ret = -EIO;
	if (tcsetattr(slave, TCSANOW, orig) && !ret)
		ret = -errno;
	return ret;
}

/*
 * A tty's queues cannot be peeked: read them (the slave switched to
 * non-canonical so that a partial line is readable too), then write them
 * back quietly.  The container is frozen; it finds them as they were.
 */
static int take_queues(int master, int slave, struct kh_pty *t)
{
	struct termios orig, raw;
	int ret;

	if (tcgetattr(slave, &orig))
		return -errno;
	raw = orig;
	raw.c_lflag &= ~ICANON;
	raw.c_cc[VMIN] = 0;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(slave, TCSANOW, &raw))
		return -errno;
	ret = drain(slave, &t->input, &t->inlen);
	ret = ret ?: drain(master, &t->output, &t->outlen);
	if (kh_pty_refill(master, slave, &orig, t->input, t->inlen, t->output,
			  t->outlen) && !ret)
		ret = -EIO;
	return ret;
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n--)
		if (*b++)
			return false;
	return true;
}

/*
 * The master's queues, read and written back so that nothing the kernel
 * reports changes: packet mode off meanwhile (else the termios changes
 * below queue status bytes for the master's reader, TIOCPKT_NOSTOP and
 * DOSTOP, and its reads start with a status byte), the locking termios
 * of the slave cleared meanwhile (else it pins the bits quiet() clears,
 * echo among them, and the refill is echoed).  Turning packet mode on
 * clears the status, so one not yet read is refused, not lost.
 */
static int master_queues(int master, int slave, struct kh_pty *t)
{
	struct kh_ktermios zero = { 0 }, lock = { 0 };
	struct pollfd pfd = { .fd = master, .events = POLLPRI };
	int ret, off = 0, on = 1;

	if (ioctl(master, TIOCGLCKTRMIOS, &lock))
		return -errno;
	if (t->packet && poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLPRI)) {
		t->pkt_status = true;
		return 0;
	}
	if (!all_zero(&lock, sizeof(lock))) {
		t->lock = hex(&lock, sizeof(lock));
		if (!t->lock)
			return -ENOMEM;
		if (ioctl(master, TIOCSLCKTRMIOS, &zero))
			return -errno;
	}
	if (t->packet && ioctl(master, TIOCPKT, &off))
		return -errno;
	ret = take_queues(master, slave, t);
	if (t->packet && ioctl(master, TIOCPKT, &on) && !ret)
		ret = -errno;
	if (t->lock && ioctl(master, TIOCSLCKTRMIOS, &lock) && !ret)
		ret = -errno;
	return ret;
}

int kh_pty_state(pid_t pid, int fd, dev_t rdev, struct kh_pty *t)
{
	int sk = kh_steal_fd(pid, fd), tty = -1, lock = 0, pkt = 0, ret = 0;
	int excl = 0;
	struct termios tio;
	struct winsize ws;
	char path[64];

	if (sk < 0)
		return sk;
	memset(t, 0, sizeof(*t));
	t->master = kh_is_ptmx(rdev);
	if (t->master) {
		if (ioctl(sk, TIOCGPTN, &t->index) || ioctl(sk, TIOCGPTLCK, &lock) ||
		    ioctl(sk, TIOCGPKT, &pkt)) {
			ret = -errno;
			goto out;
		}
		t->locked = lock;
		t->packet = pkt;
		snprintf(path, sizeof(path), "/dev/pts/%d", t->index);
		tty = lock ? -1 : open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	} else {
		t->index = (major(rdev) - 136) * 256 + minor(rdev);
		tty = dup(sk);
	}
	if (tty >= 0 && !tcgetattr(tty, &tio))
		t->termios = hex(&tio, sizeof(tio));
	if (tty >= 0 && t->master)
		ret = master_queues(sk, tty, t);
	/* only the master tells whose terminal it is, unless it is ours */
	if (t->master && ioctl(sk, TIOCGSID, &t->session))
		t->session = 0;
	if (t->master && ioctl(sk, TIOCGPGRP, &t->fg))
		t->fg = 0;
	t->excl = !ioctl(sk, TIOCGEXCL, &excl) && excl;
	if (!ioctl(sk, TIOCGWINSZ, &ws) && asprintf(&t->winsize, "%u,%u,%u,%u",
						    ws.ws_row, ws.ws_col,
						    ws.ws_xpixel, ws.ws_ypixel) < 0)
		t->winsize = NULL;
out:
	if (tty >= 0)
		close(tty);
	close(sk);
	return ret;
}
