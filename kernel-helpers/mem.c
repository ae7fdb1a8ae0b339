// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/uio.h>

#include "kh.h"

int kh_mem_open(pid_t pid, int flags)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/*
 * process_vm_readv copies straight from the task's pages; it cannot read
 * what the task itself could not (PROT_NONE, write-only), so those bytes
 * come through /proc/PID/mem, which may.
 */
ssize_t kh_mem_read(pid_t pid, int memfd, uint64_t addr, void *buf,
		    size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)addr, len };
	size_t done = 0;
	ssize_t n;

	n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n > 0)
		done = n;
	while (done < len) {
		if (memfd < 0)
			return done ? (ssize_t)done : -EFAULT;
		n = pread(memfd, (char *)buf + done, len - done, addr + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return done ? (ssize_t)done : (n < 0 ? -errno : -EIO);
		done += n;
	}
	return done;
}
