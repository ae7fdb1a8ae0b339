// SPDX-License-Identifier: MIT
/*
 * tun/tap: what a /dev/net/tun descriptor is attached to (through our
 * copy of it), attaching a new one again, and making a device that lives
 * on without a descriptor (persistent) at a given index.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <net/if.h>
#include <linux/if_tun.h>

#include "kh_ns.h"

/* a queue detached (TUNSETQUEUE) answers TUNGETIFF only once attached */
static int probe_detached(int fd, struct ifreq *r)
{
	struct ifreq q = { .ifr_flags = IFF_ATTACH_QUEUE };

	if (ioctl(fd, TUNSETQUEUE, &q))
		return -ENOENT;		/* never attached */
	memset(r, 0, sizeof(*r));
	if (ioctl(fd, TUNGETIFF, r))
		return -errno;
	q.ifr_flags = IFF_DETACH_QUEUE;
	return ioctl(fd, TUNSETQUEUE, &q) ? -errno : 0;
}

int kh_tun_read(int fd, struct kh_tun *t)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct ifreq r = { 0 };
	int ret;

	memset(t, 0, sizeof(*t));
	if (ioctl(fd, TUNGETIFF, &r)) {
		if (errno != EBADFD)
			return -errno;
		ret = probe_detached(fd, &r);
		if (ret == -ENOENT)
			return 0;	/* opened, never attached */
		if (ret)
			return ret;
		t->detached = true;
	}
	t->attached = true;
	snprintf(t->name, sizeof(t->name), "%s", r.ifr_name);
	/* 0x1000 here says IFF_NOFILTER, not IFF_NO_PI: the caller asks */
	t->flags = (unsigned short)r.ifr_flags & ~(IFF_NOFILTER |
						   IFF_DETACH_QUEUE);
	t->detached |= !!(r.ifr_flags & IFF_DETACH_QUEUE);
	ret = kh_nsfd_ioctl_ino(fd, TUNGETDEVNETNS, &t->netns_ino);
	if (ret)
		return ret;
	memset(&r, 0, sizeof(r));
	if (ioctl(fd, SIOCGIFHWADDR, &r) ||
	    ioctl(fd, TUNGETSNDBUF, &t->sndbuf) ||
	    ioctl(fd, TUNGETVNETHDRSZ, &t->vnet_hdr_sz))
		return -errno;
	memcpy(t->mac, r.ifr_hwaddr.sa_data, 6);
	t->readable = !t->detached && poll(&p, 1, 0) == 1;
	return 0;
}

#define TUN_KIND_FLAGS (IFF_TUN | IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | \
			IFF_MULTI_QUEUE)

int kh_tun_attach(int fd, const struct kh_tun *t, long owner, long group,
		  const char **step)
{
	struct ifreq r = { 0 };
	int persist = !!(t->flags & IFF_PERSIST);

	unsigned int idx = t->index;

	snprintf(r.ifr_name, sizeof(r.ifr_name), "%s", t->name);
	r.ifr_flags = t->flags & TUN_KIND_FLAGS;
	/* used only if TUNSETIFF makes the device */
	*step = "TUNSETIFINDEX";
	if (idx && ioctl(fd, TUNSETIFINDEX, &idx))
		return -errno;
	*step = "TUNSETIFF";
	if (ioctl(fd, TUNSETIFF, &r))
		return -errno;
	/* a device of ours (no namespace of the tree's) was made anew */
	if (t->mac_set) {
		memset(&r, 0, sizeof(r));
		r.ifr_hwaddr.sa_family = 1;	/* ARPHRD_ETHER */
		memcpy(r.ifr_hwaddr.sa_data, t->mac, 6);
		*step = "SIOCSIFHWADDR";
		if (ioctl(fd, SIOCSIFHWADDR, &r))
			return -errno;
	}
	*step = "TUNSETOWNER";
	if (owner >= 0 && ioctl(fd, TUNSETOWNER, owner))
		return -errno;
	*step = "TUNSETGROUP";
	if (group >= 0 && ioctl(fd, TUNSETGROUP, group))
		return -errno;
	/* one made with its namespace is persistent until attached */
	*step = "TUNSETPERSIST";
	if (ioctl(fd, TUNSETPERSIST, persist))
		return -errno;
	r.ifr_flags = IFF_DETACH_QUEUE;
	*step = "TUNSETQUEUE";
	if (t->detached && ioctl(fd, TUNSETQUEUE, &r))
		return -errno;
	return 0;
}

int kh_tun_create(const char *name, int index, unsigned int flags, long owner,
		  long group)
{
	struct ifreq r = { 0 };
	unsigned int idx = index;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	snprintf(r.ifr_name, sizeof(r.ifr_name), "%s", name);
	r.ifr_flags = (flags & TUN_KIND_FLAGS) | IFF_TUN_EXCL;
	if ((index && ioctl(fd, TUNSETIFINDEX, &idx)) ||
	    ioctl(fd, TUNSETIFF, &r) || ioctl(fd, TUNSETPERSIST, 1) ||
	    (owner >= 0 && ioctl(fd, TUNSETOWNER, owner)) ||
	    (group >= 0 && ioctl(fd, TUNSETGROUP, group)))
		ret = -errno;
	close(fd);
	return ret;
}
