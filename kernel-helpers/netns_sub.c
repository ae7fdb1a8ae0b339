// SPDX-License-Identifier: MIT
/* Which network namespace a socket of another process was made in. */
#include <errno.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/sockios.h>

#include "kh.h"
#include "kh_ns.h"

int kh_sock_netns_ino(pid_t pid, int fd, unsigned long *ino)
{
	int sk = kh_steal_fd(pid, fd), ns, ret = 0;
	struct stat st;

	if (sk < 0)
		return sk;
	ns = ioctl(sk, SIOCGSKNS);
	if (ns < 0)
		ret = -errno;
	else if (fstat(ns, &st))
		ret = -errno;
	else
		*ino = st.st_ino;
	if (ns >= 0)
		close(ns);
	close(sk);
	return ret;
}
