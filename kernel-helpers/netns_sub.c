// SPDX-License-Identifier: MIT
/* Which network namespace a socket was made in (a copy of the tree's). */
#include <linux/sockios.h>

#include "kh.h"
#include "kh_ns.h"

int kh_sock_netns_ino(int sk, unsigned long *ino)
{
	return kh_nsfd_ioctl_ino(sk, SIOCGSKNS, ino);
}
