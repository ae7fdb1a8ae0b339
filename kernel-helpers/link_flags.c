// SPDX-License-Identifier: MIT
/*
 * A network device's IFF_UP, by name, in the caller's network namespace:
 * crfs-send sets the host ends of a frozen tree's veths down (and its
 * caller up again on a failure) without starting ip(8), which costs a
 * process start while the tree is frozen.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "kh.h"

static int link_ioctl(const char *name, struct ifreq *r, unsigned long req)
{
	int sk, ret = 0;

	if (strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sk < 0)
		return -errno;
	if (ioctl(sk, req, r) < 0)
		ret = -errno;
	close(sk);
	return ret;
}

int kh_link_is_up(const char *name, bool *up)
{
	struct ifreq r = { 0 };
	int ret;

	strncpy(r.ifr_name, name, IFNAMSIZ - 1);
	ret = link_ioctl(name, &r, SIOCGIFFLAGS);
	if (!ret)
		*up = r.ifr_flags & IFF_UP;
	return ret;
}

int kh_link_set_up(const char *name, bool up)
{
	struct ifreq r = { 0 };
	int ret;

	strncpy(r.ifr_name, name, IFNAMSIZ - 1);
	ret = link_ioctl(name, &r, SIOCGIFFLAGS);
	if (ret)
		return ret;
	if (up)
		r.ifr_flags |= IFF_UP;
	else
		r.ifr_flags &= ~IFF_UP;
	return link_ioctl(name, &r, SIOCSIFFLAGS);
}
