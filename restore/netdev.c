// SPDX-License-Identifier: MIT
/*
 * Devices of the new network namespace with nothing outside it (dummy,
 * bridge, veth pairs with both ends inside, tun/tap, macvlan on one of
 * them), one row per kind: each made
 * down at its old index with the attributes saved for its kind (a veth
 * pair in one request, from its first end), then its MTU, MAC and bridge;
 * a bridge after its ports, and only what differs, since a bridge whose
 * MTU or MAC is set stops following its ports'.  Up, with the saved
 * flags, and addresses once the sysctls are in.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>

#include "crfs/ns.h"
#include "kh_ns.h"
#include "ns.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -EINVAL)

struct built {
	unsigned char data[2048];
	size_t len;
};

/* the saved IFLA_INFO_DATA attributes, as one payload */
static int build_data(const struct crfs_ns_dev *d, struct built *b)
{
	struct rtattr *a;
	size_t i;

	b->len = 0;
	for (i = 0; i < d->nattrs; i++) {
		if (b->len + RTA_SPACE(d->attrs[i].len) > sizeof(b->data))
			return -E2BIG;
		a = (void *)(b->data + b->len);
		a->rta_type = d->attrs[i].type;
		a->rta_len = RTA_LENGTH(d->attrs[i].len);
		memcpy(RTA_DATA(a), d->attrs[i].val, d->attrs[i].len);
		b->len += RTA_SPACE(d->attrs[i].len);
	}
	return 0;
}

/* an attribute's value, u8 or u32 as the kernel sent it (def: absent) */
static long attr_num(const struct crfs_ns_dev *d, int type, long def)
{
	unsigned int v = 0;
	size_t i;

	for (i = 0; i < d->nattrs; i++)
		if (d->attrs[i].type == type && d->attrs[i].len <= sizeof(v)) {
			memcpy(&v, d->attrs[i].val, d->attrs[i].len);
			return v;
		}
	return def;
}

/*
 * rtnetlink makes no tun device: /dev/net/tun does, persistent until the
 * descriptors of the tree attach to it (restore/tun.c) and set it as it was
 */
static int make_tun(const struct crfs_ns_dev *d)
{
	unsigned int flags = attr_num(d, IFLA_TUN_TYPE, IFF_TUN);

	if (!attr_num(d, IFLA_TUN_PI, 1))
		flags |= IFF_NO_PI;
	if (attr_num(d, IFLA_TUN_VNET_HDR, 0))
		flags |= IFF_VNET_HDR;
	if (attr_num(d, IFLA_TUN_MULTI_QUEUE, 0))
		flags |= IFF_MULTI_QUEUE;
	return kh_tun_create(d->name, d->index, flags,
			     attr_num(d, IFLA_TUN_OWNER, -1),
			     attr_num(d, IFLA_TUN_GROUP, -1));
}

static const struct netdev_kind {
	const char *kind;
	bool attrs;	/* takes IFLA_INFO_DATA attributes */
	bool pair;	/* made with its peer */
	int (*make)(const struct crfs_ns_dev *d);	/* NULL: rtnetlink */
} kinds[] = {
	{ "dummy", false, false, NULL },
	{ "bridge", true, false, NULL },
	{ "veth", false, true, NULL },
	{ "tun", true, false, make_tun },
	{ "macvlan", true, false, NULL },
};

static const struct netdev_kind *kind_of(const struct crfs_ns_dev *d)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(kinds); i++)
		if (!strcmp(kinds[i].kind, d->kind))
			return &kinds[i];
	return NULL;
}

/* what the file says of each device names a device of the file */
static int check(const struct crfs_ns *ns, char *err, size_t errlen)
{
	const struct crfs_ns_dev *d, *p;
	size_t i;

	for (i = 0; i < ns->ndevs; i++) {
		d = &ns->devs[i];
		if (!kind_of(d))
			return ERR("%s: device %s of kind %s, which restore does not make",
				   CRFS_F_NS, d->name, d->kind);
		p = d->peer[0] ? crfs_ns_dev_by_name(ns, d->peer) : NULL;
		if (kind_of(d)->pair && (!p || strcmp(p->peer, d->name)))
			return ERR("%s: veth %s: its peer %s is no veth of the file naming it",
				   CRFS_F_NS, d->name, d->peer);
		p = d->master[0] ? crfs_ns_dev_by_name(ns, d->master) : NULL;
		if (d->master[0] && (!p || strcmp(p->kind, "bridge")))
			return ERR("%s: device %s: its master %s is no bridge of the file",
				   CRFS_F_NS, d->name, d->master);
		p = d->link[0] ? crfs_ns_dev_by_name(ns, d->link) : NULL;
		if (d->link[0] && !p)
			return ERR("%s: device %s: its lower device %s is no dev of the file",
				   CRFS_F_NS, d->name, d->link);
		if (d->nattrs && !kind_of(d)->attrs)
			return ERR("%s: device %s (%s) has dev_attr lines: its kind takes none",
				   CRFS_F_NS, d->name, d->kind);
	}
	for (i = 0; i < ns->naddrs; i++)
		if (ns->addrs[i].on_dev &&
		    !crfs_ns_dev_by_name(ns, ns->addrs[i].dev))
			return ERR("%s: an address of %s, which is no dev of the file",
				   CRFS_F_NS, ns->addrs[i].dev);
	return 0;
}

static int make(int sk, const struct crfs_ns *ns, const struct crfs_ns_dev *d,
		char *err, size_t errlen)
{
	struct kh_newlink n = { .kind = d->kind, .name = d->name,
				.index = d->index };
	const struct crfs_ns_dev *p = NULL;
	struct built *b;
	int ret;

	if (kind_of(d)->pair) {
		if (if_nametoindex(d->name))
			return 0;	/* made as its peer's peer */
		p = crfs_ns_dev_by_name(ns, d->peer);
		n.peer = p->name;
		n.peer_index = p->index;
	}
	if (d->link[0]) {
		n.link = if_nametoindex(d->link);
		if (!n.link)
			return ERR("network namespace: cannot create device %s: its lower device %s is not there",
				   d->name, d->link);
	}
	b = malloc(sizeof(*b));
	if (!b)
		return -ENOMEM;
	ret = kind_of(d)->make ? kind_of(d)->make(d) : 1;
	ret = ret <= 0 ? ret : build_data(d, b);
	n.data = b->data;
	n.data_len = b->len;
	ret = ret ?: kind_of(d)->make ? 0 : kh_rtnl_new_link(sk, &n);
	free(b);
	if (ret)
		return ERR("network namespace: cannot create device %s (%s, index %d%s%s): %s",
			   d->name, d->kind, d->index, p ? ", peer " : "",
			   p ? p->name : "", strerror(-ret));
	return 0;
}

/* MTU, MAC and bridge where they differ from what it has now, down */
static int config(int sk, const struct crfs_ns_dev *d, char *err,
		  size_t errlen)
{
	struct kh_setdev s = { .change = IFF_UP, .master = -1 };
	struct kh_link *now = malloc(sizeof(*now));
	int ret = now ? kh_rtnl_link_by_name(sk, d->name, now) : -ENOMEM;

	if (ret)
		goto out;
	s.index = now->index;
	s.mtu = now->mtu != d->mtu ? d->mtu : 0;
	s.mac = memcmp(now->mac, d->mac, 6) ? d->mac : NULL;
	if (d->master[0]) {
		s.master = if_nametoindex(d->master);
		ret = s.master ? 0 : -ENODEV;
	}
	ret = ret ?: kh_rtnl_set_dev(sk, &s);
out:
	free(now);
	return ret ? ERR("network namespace: device %s: cannot set its mtu %u, address or bridge %s: %s",
			 d->name, d->mtu, d->master[0] ? d->master : "-",
			 strerror(-ret)) : 0;
}

int netdev_create(int sk, const struct crfs_ns *ns, char *err, size_t errlen)
{
	size_t i;
	int ret = check(ns, err, errlen), bridges;

	/* those on a lower device after the rest */
	for (i = 0; !ret && i < ns->ndevs; i++)
		if (!ns->devs[i].link[0])
			ret = make(sk, ns, &ns->devs[i], err, errlen);
	for (i = 0; !ret && i < ns->ndevs; i++)
		if (ns->devs[i].link[0])
			ret = make(sk, ns, &ns->devs[i], err, errlen);
	/* the ports, then their bridges */
	for (bridges = 0; bridges < 2; bridges++)
		for (i = 0; !ret && i < ns->ndevs; i++)
			if ((strcmp(ns->devs[i].kind, "bridge") == 0) == bridges)
				ret = config(sk, &ns->devs[i], err, errlen);
	return ret;
}

static int addrs(int sk, const struct crfs_ns *ns, char *err, size_t errlen)
{
	char txt[INET6_ADDRSTRLEN] = "?";
	struct kh_addr a = { 0 };
	const struct crfs_ns_addr *x = NULL;
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < ns->naddrs; i++) {
		x = &ns->addrs[i];
		if (!x->on_dev)
			continue;
		a.index = if_nametoindex(x->dev);
		a.family = x->family;
		a.prefix = x->prefix;
		a.scope = x->scope;
		a.flags = x->flags;
		memcpy(a.addr, x->addr, sizeof(a.addr));
		ret = a.index ? kh_rtnl_addr(sk, true, &a) : -ENODEV;
		if (ret == -EEXIST)	/* an IPv6 link-local, made again */
			ret = 0;
	}
	if (!ret)
		return 0;
	inet_ntop(x->family, x->addr, txt, sizeof(txt));
	return ERR("network namespace: device %s: cannot add address %s/%d: %s",
		   x->dev, txt, x->prefix, strerror(-ret));
}

int netdev_finish(int sk, const struct crfs_ns *ns, char *err, size_t errlen)
{
	struct kh_setdev s = { .change = CRFS_NS_DEV_FLAGS, .master = -1 };
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < ns->ndevs; i++) {
		s.index = if_nametoindex(ns->devs[i].name);
		s.flags = ns->devs[i].flags;
		ret = s.index ? kh_rtnl_set_dev(sk, &s) : -ENODEV;
		if (ret)
			return ERR("network namespace: device %s: cannot set its flags %#x: %s",
				   ns->devs[i].name, s.flags, strerror(-ret));
	}
	return addrs(sk, ns, err, errlen);
}
