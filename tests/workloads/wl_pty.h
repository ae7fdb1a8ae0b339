/* SPDX-License-Identifier: MIT */
/* A pseudo-terminal pair for the terminal workloads (after wl_common.h). */
#ifndef WL_PTY_H
#define WL_PTY_H

#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>

/* a master (not our terminal) unlocked, its slave opened with FLAGS */
static inline int wl_pty_pair(int *slave, int flags)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY), n;
	char name[64];

	if (m < 0 || unlockpt(m) || ioctl(m, TIOCGPTN, &n))
		wl_die("ptmx");
	snprintf(name, sizeof(name), "/dev/pts/%d", n);
	*slave = open(name, O_RDWR | flags);
	if (*slave < 0)
		wl_die("open %s", name);
	return m;
}

#endif
