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

/* the device's flags read, and set to them with IFF_UP as up, where set */
static int link_flags(const char *name, bool *up, const bool *set)
{
	struct ifreq r = { 0 };
	int sk, ret = 0;

	if (strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	strncpy(r.ifr_name, name, IFNAMSIZ - 1);
	sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sk < 0)
		return -errno;
	if (ioctl(sk, SIOCGIFFLAGS, &r) < 0) {
		ret = -errno;
		goto out;
	}
	if (up)
		*up = r.ifr_flags & IFF_UP;
	if (set) {
		r.ifr_flags = *set ? r.ifr_flags | IFF_UP : r.ifr_flags & ~IFF_UP;
		if (ioctl(sk, SIOCSIFFLAGS, &r) < 0)
			ret = -errno;
	}
out:
	close(sk);
	return ret;
}

int kh_link_is_up(const char *name, bool *up)
{
	return link_flags(name, up, NULL);
}

int kh_link_set_up(const char *name, bool up)
{
	return link_flags(name, NULL, &up);
}
