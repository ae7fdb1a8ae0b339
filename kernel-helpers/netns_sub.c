// SPDX-License-Identifier: MIT
/* Which network namespace a socket of another process was made in. */
#include <errno.h>
#include <unistd.h>
#include <linux/sockios.h>

#include "kh.h"
#include "kh_ns.h"

int kh_sock_netns_ino(pid_t pid, int fd, unsigned long *ino)
{
	int sk = kh_steal_fd(pid, fd), ret;

	if (sk < 0)
		return sk;
	ret = kh_nsfd_ioctl_ino(sk, SIOCGSKNS, ino);
	close(sk);
	return ret;
}
