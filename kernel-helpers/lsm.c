// SPDX-License-Identifier: MIT
/*
 * A task's LSM label (AppArmor profile, SELinux context), as
 * /proc/PID/attr/current shows it.  Without an LSM that has labels the
 * read fails with EINVAL: every task is alike, "" is given.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kh.h"

int kh_lsm_label(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/attr/current", kh_via(pid));
	*buf = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0) {
		*buf = '\0';
		return errno == EINVAL ? 0 : -errno;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}
