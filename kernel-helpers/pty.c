// SPDX-License-Identifier: MIT
/* Pseudo-terminals: index, settings, who it is the terminal of. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int kh_pty_state(pid_t pid, int fd, dev_t rdev, struct kh_pty *t)
{
	int sk = kh_steal_fd(pid, fd), tty = -1, lock = 0, ret = 0;
	struct termios tio;
	struct winsize ws;
	char path[64];

	if (sk < 0)
		return sk;
	memset(t, 0, sizeof(*t));
	t->master = kh_is_ptmx(rdev);
	if (t->master) {
		if (ioctl(sk, TIOCGPTN, &t->index) || ioctl(sk, TIOCGPTLCK, &lock)) {
			ret = -errno;
			goto out;
		}
		t->locked = lock;
		ioctl(sk, FIONREAD, &t->unread);
		snprintf(path, sizeof(path), "/dev/pts/%d", t->index);
		tty = lock ? -1 : open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	} else {
		t->index = (major(rdev) - 136) * 256 + minor(rdev);
		tty = dup(sk);
	}
	if (tty >= 0) {
		int q = 0;

		ioctl(tty, FIONREAD, &q);
		t->unread += q;
		if (!tcgetattr(tty, &tio))
			t->termios = hex(&tio, sizeof(tio));
	}
	/* only the master tells whose terminal it is, unless it is ours */
	if (t->master && ioctl(sk, TIOCGSID, &t->session))
		t->session = 0;
	if (t->master && ioctl(sk, TIOCGPGRP, &t->fg))
		t->fg = 0;
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
