// SPDX-License-Identifier: MIT
/*
 * /dev/net/tun descriptors: never attached, or attached to a tun/tap
 * device (TUNGETIFF through our copy of it; a detached queue found by
 * attaching it for a moment).  A device of the tree's own network
 * namespace is saved with the namespace (capture_netdev.c, kind tun); one
 * of ours is made again by the descriptor's TUNSETIFF, so only its MAC,
 * owner and group are kept and a device that is up or configured is
 * refused.  Packets queued for the program are refused.
 */
#include <errno.h>
#include <sched.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>

#include "files.h"
#include "kh_ns.h"

#define VNET_HDR_LEN	10	/* sizeof(struct virtio_net_hdr): the default */

/* /sys/class/net/NAME/KEY of our namespace, as a number */
static long sys_net(const char *name, const char *key)
{
	char path[96], *buf;
	size_t len;
	long v;

	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", name, key);
	if (kh_read_file(path, &buf, &len))
		return LONG_MIN;
	v = strtol(buf, NULL, 0);
	free(buf);
	return v;
}

/* a device of ours: made anew at restore, with what is kept here */
static const char *ours(const struct kh_tun *t, struct crfs_file *cf, int *err)
{
	const unsigned char *m = t->mac;
	char mac[24];

	if (sys_net(t->name, "flags") & IFF_UP)
		return "a tun/tap device in crfs's network namespace that is up is not supported (its addresses and routes are not saved)";
	if (sys_net(t->name, "mtu") != 1500)
		return "a tun/tap device in crfs's network namespace with an MTU of its own is not supported";
	cf->tun_index = sys_net(t->name, "ifindex");
	cf->tun_owner = sys_net(t->name, "owner");
	cf->tun_group = sys_net(t->name, "group");
	if (cf->tun_owner < -1 || cf->tun_group < -1 || cf->tun_index <= 0)
		return "a tun/tap device in crfs's network namespace went away while it was saved";
	if (!(t->flags & IFF_TAP))
		return NULL;
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1],
		 m[2], m[3], m[4], m[5]);
	cf->tun_mac = strdup(mac);
	*err = cf->tun_mac ? 0 : -ENOMEM;
	return NULL;
}

struct pi_ask {
	const char *name;
	int pi;		/* IFLA_TUN_PI: 1 with packet information */
};

static int ask_pi(void *arg)
{
	struct pi_ask *q = arg;
	const struct rtattr *a;
	struct kh_link *l = NULL;
	size_t n = 0, i;
	int sk = kh_rtnl_open(), ret, len;

	if (sk < 0)
		return sk;
	ret = kh_rtnl_links(sk, &l, &n);
	close(sk);
	for (i = 0; !ret && i < n; i++) {
		if (strcmp(l[i].name, q->name))
			continue;
		len = l[i].data_len;
		for (a = (void *)l[i].data; RTA_OK(a, len); a = RTA_NEXT(a, len))
			if (a->rta_type == IFLA_TUN_PI)
				q->pi = *(unsigned char *)RTA_DATA(a);
	}
	free(l);
	return ret;
}

/* TUNGETIFF cannot say IFF_NO_PI: rtnetlink does, where the device is */
static int no_pi(const struct kh_tun *t, pid_t root, bool in_root,
		 unsigned int *flags)
{
	struct pi_ask q = { t->name, -1 };
	int ret = in_root ? kh_in_ns(root, "net", CLONE_NEWNET, ask_pi, &q) :
			    ask_pi(&q);

	if (!ret && q.pi < 0)
		ret = -ENODEV;
	*flags = t->flags | (q.pi == 0 ? IFF_NO_PI : 0);
	return ret;
}

const char *files_classify_tun(struct files_ctx *c, const struct kh_fd *f,
			       struct crfs_file *cf, int *err)
{
	unsigned int mine = 0, roots = 0;
	struct kh_tun t;
	int fd = kh_steal_fd(f->pid, f->fd);

	if (fd < 0) {
		*err = fd;
		return NULL;
	}
	*err = kh_tun_read(fd, &t);
	close(fd);
	if (*err)
		return NULL;
	cf->kind = FK_TUN;
	if (!t.attached)
		return NULL;
	cf->ifname = strdup(t.name);
	if (!cf->ifname) {
		*err = -ENOMEM;
		return NULL;
	}
	cf->tun_detached = t.detached;
	if (t.readable)
		return "a tun/tap descriptor with packets queued for the program is not supported";
	if (t.sndbuf != INT_MAX)
		return "a tun/tap descriptor with a send buffer of its own (TUNSETSNDBUF) is not supported";
	if (t.vnet_hdr_sz != VNET_HDR_LEN)
		return "a tun/tap descriptor with a vnet header size of its own (TUNSETVNETHDRSZ) is not supported";
	kh_ns_ino(getpid(), "net", &mine);
	kh_ns_ino(c->s->procs[0].pid, "net", &roots);
	if (t.netns_ino != mine && t.netns_ino != roots)
		return "a tun/tap device in a network namespace that is neither the daemon's nor the tree's is not supported";
	*err = no_pi(&t, c->s->procs[0].pid, t.netns_ino != mine,
		     &cf->tun_flags);
	if (*err)
		return NULL;
	/* one of the tree's namespace is saved with it */
	return t.netns_ino == mine ? ours(&t, cf, err) : NULL;
}

