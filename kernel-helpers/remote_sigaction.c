// SPDX-License-Identifier: MIT
/*
 * A signal's action set from inside a stopped task: its struct sigaction
 * is written to memory the task no longer uses (/proc/PID/mem, which
 * writes even where the task could not), then rt_sigaction runs there.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "kh.h"

int kh_remote_poke(struct kh_remote *r, uint64_t addr, const void *buf,
		   size_t len)
{
	int fd = kh_mem_open(r->tid, O_RDWR);
	ssize_t n;

	if (fd < 0)
		return fd;
	n = pwrite(fd, buf, len, addr);
	close(fd);
	if (n != (ssize_t)len)
		return n < 0 ? -errno : -EIO;
	return 0;
}

long kh_remote_sigaction(struct kh_remote *r, int sig, const void *ka,
			 size_t len, uint64_t scratch)
{
	long ret = kh_remote_poke(r, scratch, ka, len);

	return ret ?: kh_remote_syscall(r, __NR_rt_sigaction, sig, scratch, 0,
					8 /* sigset size */, 0, 0);
}
