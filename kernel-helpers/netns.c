// SPDX-License-Identifier: MIT
/*
 * rtnetlink for a network namespace's own configuration: its devices,
 * addresses and routes (dumps), the loopback device's state and MTU and
 * its addresses (requests, acknowledged one at a time).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/if_link.h>
#include <linux/if_addr.h>
#include <linux/fib_rules.h>
#include <linux/netlink.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>
#include <linux/net_namespace.h>
#include <linux/veth.h>

#include "crfs/array.h"
#include "kh_ns.h"

struct req {
	struct nlmsghdr h;
	union {
		struct ifinfomsg ifi;
		struct ifaddrmsg ifa;
		struct rtmsg rtm;
		struct nfgenmsg nfg;
	};
	char attrs[2048];
};

typedef int (*msg_fn)(struct nlmsghdr *h, void *arg);

int kh_rtnl_open(void)
{
	int sk = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	return sk < 0 ? -errno : sk;
}

static void add_attr(struct req *r, int type, const void *data, size_t len)
{
	struct rtattr *a = (void *)((char *)r + NLMSG_ALIGN(r->h.nlmsg_len));

	a->rta_type = type;
	a->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/* sends r, then reads replies up to NLMSG_DONE or the ack: fn per message */
static int talk(int sk, struct req *r, msg_fn fn, void *arg)
{
	static char buf[32768];
	struct nlmsghdr *h;
	ssize_t len;
	int ret = 0;

	r->h.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	r->h.nlmsg_seq = 1;
	if (send(sk, r, r->h.nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		len = recv(sk, buf, sizeof(buf), 0);
		if (len < 0)
			return -errno;
		for (h = (void *)buf; NLMSG_OK(h, (size_t)len);
		     h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return ret;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				return e->error ?: ret;
			}
			if (!ret && fn)
				ret = fn(h, arg);
		}
	}
}

struct list {
	void *items;
	size_t n, size;
};

static void *list_add(struct list *l)
{
	char *p = array_room(l->items, l->n, l->size);

	if (!p)
		return NULL;
	l->items = p;
	memset(p + l->n * l->size, 0, l->size);
	return p + l->n++ * l->size;
}

static void copy_blob(unsigned char *dst, size_t max, int *len,
		      const struct rtattr *a)
{
	size_t n = RTA_PAYLOAD(a);

	/* too long for us: -1, so a caller compares it with nothing */
	*len = n > max ? -1 : (int)n;
	if (n <= max)
		memcpy(dst, RTA_DATA(a), n);
}

static void on_linkinfo(struct kh_link *k, const struct rtattr *n)
{
	if (n->rta_type == IFLA_INFO_KIND)
		strncpy(k->kind, RTA_DATA(n), sizeof(k->kind) - 1);
	else if (n->rta_type == IFLA_INFO_SLAVE_KIND)
		strncpy(k->slave_kind, RTA_DATA(n), sizeof(k->slave_kind) - 1);
	else if (n->rta_type == IFLA_INFO_DATA)
		copy_blob(k->data, sizeof(k->data), &k->data_len, n);
	else if (n->rta_type == IFLA_INFO_SLAVE_DATA)
		copy_blob(k->slave, sizeof(k->slave), &k->slave_len, n);
}

static int on_link(struct nlmsghdr *h, void *arg)
{
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	int len = IFLA_PAYLOAD(h);
	struct kh_link *k = list_add(arg);
	struct rtattr *a, *n;
	int nlen;

	if (!k)
		return -ENOMEM;
	k->index = ifi->ifi_index;
	k->flags = ifi->ifi_flags;
	k->link_nsid = -1;
	for (a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFLA_IFNAME)
			strncpy(k->name, RTA_DATA(a), sizeof(k->name) - 1);
		else if (a->rta_type == IFLA_MTU)
			memcpy(&k->mtu, RTA_DATA(a), sizeof(k->mtu));
		else if (a->rta_type == IFLA_LINK)
			memcpy(&k->link, RTA_DATA(a), sizeof(int));
		else if (a->rta_type == IFLA_LINK_NETNSID)
			memcpy(&k->link_nsid, RTA_DATA(a), sizeof(int));
		else if (a->rta_type == IFLA_MASTER)
			memcpy(&k->master, RTA_DATA(a), sizeof(int));
		else if (a->rta_type == IFLA_ADDRESS && RTA_PAYLOAD(a) == 6)
			memcpy(k->mac, RTA_DATA(a), 6);
		if (a->rta_type != IFLA_LINKINFO)
			continue;
		nlen = RTA_PAYLOAD(a);
		for (n = RTA_DATA(a); RTA_OK(n, nlen); n = RTA_NEXT(n, nlen))
			on_linkinfo(k, n);
	}
	return 0;
}

static int dump(int sk, int type, int family, msg_fn fn, size_t size,
		void **out, size_t *n)
{
	struct req r = { 0 };
	struct list l = { NULL, 0, size };
	int ret;

	r.h.nlmsg_type = type;
	r.h.nlmsg_flags = NLM_F_DUMP;
	r.h.nlmsg_len = NLMSG_LENGTH(type == RTM_GETLINK ? sizeof(r.ifi) :
				     type == RTM_GETADDR ? sizeof(r.ifa) :
				     sizeof(r.rtm));
	r.ifa.ifa_family = family;	/* first byte of each header */
	ret = talk(sk, &r, fn, &l);
	if (ret) {
		free(l.items);
		return ret;
	}
	*out = l.items;
	*n = l.n;
	return 0;
}

int kh_rtnl_links(int sk, struct kh_link **out, size_t *n)
{
	return dump(sk, RTM_GETLINK, AF_UNSPEC, on_link, sizeof(**out),
		    (void **)out, n);
}

int kh_rtnl_link_by_name(int sk, const char *name, struct kh_link *out)
{
	struct kh_link *l;
	size_t n, i;
	int ret = kh_rtnl_links(sk, &l, &n);

	if (ret)
		return ret;
	ret = -ENODEV;
	for (i = 0; ret && i < n; i++)
		if (!strcmp(l[i].name, name)) {
			*out = l[i];
			ret = 0;
		}
	free(l);
	return ret;
}

static void on_addr_attr(struct kh_addr *k, struct rtattr *a)
{
	size_t n = RTA_PAYLOAD(a) < 16 ? RTA_PAYLOAD(a) : 16;
	struct ifa_cacheinfo ci;

	switch (a->rta_type) {
	case IFA_LOCAL:
		memcpy(k->addr, RTA_DATA(a), n);
		break;
	case IFA_ADDRESS:
		memcpy(k->peer_addr, RTA_DATA(a), n);
		if (k->family == AF_INET6)
			memcpy(k->addr, RTA_DATA(a), n);
		break;
	case IFA_FLAGS:
		memcpy(&k->flags, RTA_DATA(a), sizeof(k->flags));
		break;
	case IFA_LABEL:
		snprintf(k->label, sizeof(k->label), "%s",
			 (char *)RTA_DATA(a));
		break;
	case IFA_CACHEINFO:
		memcpy(&ci, RTA_DATA(a), sizeof(ci));
		k->valid = ci.ifa_valid;
		k->preferred = ci.ifa_prefered;
		break;
	}
}

static int on_addr(struct nlmsghdr *h, void *arg)
{
	struct ifaddrmsg *ifa = NLMSG_DATA(h);
	int len = IFA_PAYLOAD(h);
	struct kh_addr *k = list_add(arg);
	struct rtattr *a;

	if (!k)
		return -ENOMEM;
	k->family = ifa->ifa_family;
	k->index = ifa->ifa_index;
	k->prefix = ifa->ifa_prefixlen;
	k->scope = ifa->ifa_scope;
	k->flags = ifa->ifa_flags;
	k->valid = k->preferred = ~0U;
	for (a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len))
		on_addr_attr(k, a);
	/* IPv4 has IFA_ADDRESS (the peer) apart from IFA_LOCAL */
	k->peer = k->family == AF_INET && memcmp(k->addr, k->peer_addr, 4);
	return 0;
}

int kh_rtnl_addrs(int sk, struct kh_addr **out, size_t *n)
{
	return dump(sk, RTM_GETADDR, AF_UNSPEC, on_addr, sizeof(**out),
		    (void **)out, n);
}

static void on_route_attr(struct kh_route *k, struct rtattr *a)
{
	size_t n = RTA_PAYLOAD(a) < 16 ? RTA_PAYLOAD(a) : 16;

	switch (a->rta_type) {
	case RTA_TABLE:
		memcpy(&k->table, RTA_DATA(a), sizeof(int));
		break;
	case RTA_OIF:
		memcpy(&k->oif, RTA_DATA(a), sizeof(int));
		break;
	case RTA_DST:
		memcpy(k->dst, RTA_DATA(a), n);
		break;
	case RTA_GATEWAY:
		memcpy(k->gateway, RTA_DATA(a), n);
		k->has_gateway = true;
		break;
	case RTA_PREFSRC:
		memcpy(k->prefsrc, RTA_DATA(a), n);
		k->has_prefsrc = true;
		break;
	case RTA_PRIORITY:
		memcpy(&k->priority, RTA_DATA(a), sizeof(int));
		break;
	case RTA_PREF:		/* IPv6: medium unless set */
		if (*(uint8_t *)RTA_DATA(a) != 0)
			k->other = a->rta_type;
		break;
	case RTA_CACHEINFO:	/* IPv6: counters, and expiry below */
		break;
	default:
		k->other = a->rta_type;
	}
}

static int on_route(struct nlmsghdr *h, void *arg)
{
	struct rtmsg *rtm = NLMSG_DATA(h);
	int len = RTM_PAYLOAD(h);
	struct kh_route *k = list_add(arg);
	struct rtattr *a;

	if (!k)
		return -ENOMEM;
	k->family = rtm->rtm_family;
	k->table = rtm->rtm_table;
	k->protocol = rtm->rtm_protocol;
	k->type = rtm->rtm_type;
	k->dst_len = rtm->rtm_dst_len;
	k->src_len = rtm->rtm_src_len;
	k->scope = rtm->rtm_scope;
	k->tos = rtm->rtm_tos;
	k->flags = rtm->rtm_flags;
	for (a = RTM_RTA(rtm); RTA_OK(a, len); a = RTA_NEXT(a, len))
		on_route_attr(k, a);
	return 0;
}

int kh_rtnl_routes(int sk, struct kh_route **out, size_t *n)
{
	struct kh_route *v4 = NULL, *v6 = NULL, *all;
	size_t n4 = 0, n6 = 0;
	int ret;

	ret = dump(sk, RTM_GETROUTE, AF_INET, on_route, sizeof(*v4),
		   (void **)&v4, &n4);
	ret = ret ?: dump(sk, RTM_GETROUTE, AF_INET6, on_route, sizeof(*v6),
			  (void **)&v6, &n6);
	all = ret ? NULL : realloc(v4, (n4 + n6 + 1) * sizeof(*all));
	if (!ret && !all)
		ret = -ENOMEM;
	if (ret) {
		free(v4);
		free(v6);
		return ret;
	}
	if (n6)
		memcpy(all + n4, v6, n6 * sizeof(*v6));
	free(v6);
	*out = all;
	*n = n4 + n6;
	return 0;
}

static int on_rule(struct nlmsghdr *h, void *arg)
{
	struct fib_rule_hdr *f = NLMSG_DATA(h);
	int len = h->nlmsg_len - NLMSG_LENGTH(sizeof(*f));
	struct rtattr *a = (void *)((char *)f + NLMSG_ALIGN(sizeof(*f)));
	struct kh_rules *r = arg;
	uint8_t proto = RTPROT_UNSPEC;

	for (; RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == FRA_PROTOCOL)
			proto = *(uint8_t *)RTA_DATA(a);
	r->total++;
	r->foreign += proto != RTPROT_KERNEL;
	return 0;
}

int kh_rtnl_rules(int sk, struct kh_rules *r)
{
	static const int families[] = { AF_INET, AF_INET6 };
	struct req q;
	size_t i;
	int ret = 0;

	memset(r, 0, sizeof(*r));
	for (i = 0; !ret && i < 2; i++) {
		memset(&q, 0, sizeof(q));
		q.h.nlmsg_type = RTM_GETRULE;
		q.h.nlmsg_flags = NLM_F_DUMP;
		q.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct fib_rule_hdr));
		q.rtm.rtm_family = families[i];	/* fib_rule_hdr's first byte */
		ret = talk(sk, &q, on_rule, r);
		/* a kernel without IPv6 policy routing has no IPv6 rules */
		if (ret == -EAFNOSUPPORT || ret == -EOPNOTSUPP)
			ret = 0;
	}
	return ret;
}

static int on_nsid(struct nlmsghdr *h, void *arg)
{
	struct rtgenmsg *g = NLMSG_DATA(h);
	int len = h->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof(*g)));
	struct rtattr *a = (void *)((char *)g + NLMSG_ALIGN(sizeof(*g)));

	for (; RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == NETNSA_NSID)
			memcpy(arg, RTA_DATA(a), sizeof(int));
	return 0;
}

int kh_rtnl_nsid(int sk, int nsfd, int *nsid)
{
	struct req r = { 0 };

	*nsid = -1;
	r.h.nlmsg_type = RTM_GETNSID;
	r.h.nlmsg_len = NLMSG_LENGTH(NLMSG_ALIGN(sizeof(struct rtgenmsg)));
	r.ifa.ifa_family = AF_UNSPEC;	/* rtgen_family */
	add_attr(&r, NETNSA_FD, &nsfd, sizeof(nsfd));
	return talk(sk, &r, on_nsid, nsid);
}

static struct rtattr *nest_start(struct req *r, int type)
{
	struct rtattr *a = (void *)((char *)r + NLMSG_ALIGN(r->h.nlmsg_len));

	add_attr(r, type, NULL, 0);
	return a;
}

static void nest_end(struct req *r, struct rtattr *a)
{
	a->rta_len = (char *)r + r->h.nlmsg_len - (char *)a;
}

int kh_rtnl_new_veth(int sk, const char *name, const char *peer,
		     int peer_nsfd)
{
	struct ifinfomsg pi = { .ifi_family = AF_UNSPEC };
	struct rtattr *info, *data, *p;
	struct req r = { 0 };

	r.h.nlmsg_type = RTM_NEWLINK;
	r.h.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	r.h.nlmsg_len = NLMSG_LENGTH(sizeof(r.ifi));
	r.ifi.ifi_family = AF_UNSPEC;
	add_attr(&r, IFLA_IFNAME, name, strlen(name) + 1);
	info = nest_start(&r, IFLA_LINKINFO);
	add_attr(&r, IFLA_INFO_KIND, "veth", 5);
	data = nest_start(&r, IFLA_INFO_DATA);
	p = nest_start(&r, VETH_INFO_PEER);
	/* the peer's attributes follow an ifinfomsg of its own */
	memcpy(RTA_DATA(p), &pi, sizeof(pi));
	r.h.nlmsg_len += NLMSG_ALIGN(sizeof(pi));
	add_attr(&r, IFLA_IFNAME, peer, strlen(peer) + 1);
	add_attr(&r, IFLA_NET_NS_FD, &peer_nsfd, sizeof(peer_nsfd));
	nest_end(&r, p);
	nest_end(&r, data);
	nest_end(&r, info);
	return talk(sk, &r, NULL, NULL);
}

/*
 * A device of kind n->kind made down at index n->index (0: the kernel's
 * choice), with n->data as its IFLA_INFO_DATA, or for a veth its peer
 * (at peer_index, in this namespace).
 */
int kh_rtnl_new_link(int sk, const struct kh_newlink *n)
{
	struct ifinfomsg pi = { .ifi_family = AF_UNSPEC };
	struct rtattr *info, *data, *p;
	struct req r = { 0 };

	if (n->data_len > sizeof(r.attrs) - 128)
		return -E2BIG;
	r.h.nlmsg_type = RTM_NEWLINK;
	r.h.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	r.h.nlmsg_len = NLMSG_LENGTH(sizeof(r.ifi));
	r.ifi.ifi_family = AF_UNSPEC;
	r.ifi.ifi_index = n->index;
	add_attr(&r, IFLA_IFNAME, n->name, strlen(n->name) + 1);
	if (n->link)
		add_attr(&r, IFLA_LINK, &n->link, sizeof(n->link));
	info = nest_start(&r, IFLA_LINKINFO);
	add_attr(&r, IFLA_INFO_KIND, n->kind, strlen(n->kind) + 1);
	if (n->peer) {
		data = nest_start(&r, IFLA_INFO_DATA);
		p = nest_start(&r, VETH_INFO_PEER);
		pi.ifi_index = n->peer_index;
		memcpy(RTA_DATA(p), &pi, sizeof(pi));
		r.h.nlmsg_len += NLMSG_ALIGN(sizeof(pi));
		add_attr(&r, IFLA_IFNAME, n->peer, strlen(n->peer) + 1);
		nest_end(&r, p);
		nest_end(&r, data);
	} else if (n->data_len) {
		add_attr(&r, IFLA_INFO_DATA, n->data, n->data_len);
	}
	nest_end(&r, info);
	return talk(sk, &r, NULL, NULL);
}

int kh_rtnl_set_dev(int sk, const struct kh_setdev *d)
{
	struct req r = { 0 };

	r.h.nlmsg_type = RTM_NEWLINK;
	r.h.nlmsg_len = NLMSG_LENGTH(sizeof(r.ifi));
	r.ifi.ifi_family = AF_UNSPEC;
	r.ifi.ifi_index = d->index;
	r.ifi.ifi_change = d->change;
	r.ifi.ifi_flags = d->flags;
	if (d->mtu)
		add_attr(&r, IFLA_MTU, &d->mtu, sizeof(d->mtu));
	if (d->mac)
		add_attr(&r, IFLA_ADDRESS, d->mac, 6);
	if (d->master >= 0)
		add_attr(&r, IFLA_MASTER, &d->master, sizeof(d->master));
	return talk(sk, &r, NULL, NULL);
}

int kh_rtnl_config_link(int sk, const struct kh_link *l, bool up)
{
	static const unsigned char zero[6];
	struct req r = { 0 };

	r.h.nlmsg_type = RTM_NEWLINK;
	r.h.nlmsg_len = NLMSG_LENGTH(sizeof(r.ifi));
	r.ifi.ifi_family = AF_UNSPEC;
	r.ifi.ifi_index = l->index;
	r.ifi.ifi_change = IFF_UP;
	r.ifi.ifi_flags = up ? IFF_UP : 0;
	add_attr(&r, IFLA_MTU, &l->mtu, sizeof(l->mtu));
	if (memcmp(l->mac, zero, 6))
		add_attr(&r, IFLA_ADDRESS, l->mac, 6);
	if (l->master)
		add_attr(&r, IFLA_MASTER, &l->master, sizeof(l->master));
	return talk(sk, &r, NULL, NULL);
}

int kh_rtnl_add_route(int sk, const struct kh_route *k)
{
	size_t alen = k->family == AF_INET ? 4 : 16;
	struct req r = { 0 };

	r.h.nlmsg_type = RTM_NEWROUTE;
	r.h.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	r.h.nlmsg_len = NLMSG_LENGTH(sizeof(r.rtm));
	r.rtm.rtm_family = k->family;
	r.rtm.rtm_dst_len = k->dst_len;
	r.rtm.rtm_table = RT_TABLE_MAIN;
	r.rtm.rtm_protocol = k->protocol;
	r.rtm.rtm_scope = k->scope;
	r.rtm.rtm_type = RTN_UNICAST;
	if (k->dst_len)
		add_attr(&r, RTA_DST, k->dst, alen);
	if (k->has_gateway)
		add_attr(&r, RTA_GATEWAY, k->gateway, alen);
	if (k->has_prefsrc)
		add_attr(&r, RTA_PREFSRC, k->prefsrc, alen);
	if (k->oif)
		add_attr(&r, RTA_OIF, &k->oif, sizeof(k->oif));
	add_attr(&r, RTA_PRIORITY, &k->priority, sizeof(k->priority));
	return talk(sk, &r, NULL, NULL);
}

int kh_rtnl_set_link(int sk, int index, bool up, unsigned int mtu)
{
	struct req r = { 0 };

	r.h.nlmsg_type = RTM_NEWLINK;
	r.h.nlmsg_len = NLMSG_LENGTH(sizeof(r.ifi));
	r.ifi.ifi_family = AF_UNSPEC;
	r.ifi.ifi_index = index;
	r.ifi.ifi_change = IFF_UP;
	r.ifi.ifi_flags = up ? IFF_UP : 0;
	add_attr(&r, IFLA_MTU, &mtu, sizeof(mtu));
	return talk(sk, &r, NULL, NULL);
}

int kh_rtnl_addr(int sk, bool add, const struct kh_addr *a)
{
	size_t alen = a->family == AF_INET ? 4 : 16;
	struct req r = { 0 };

	r.h.nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
	r.h.nlmsg_flags = add ? NLM_F_CREATE | NLM_F_EXCL : 0;
	r.h.nlmsg_len = NLMSG_LENGTH(sizeof(r.ifa));
	r.ifa.ifa_family = a->family;
	r.ifa.ifa_prefixlen = a->prefix;
	r.ifa.ifa_flags = a->flags & 0xff;
	r.ifa.ifa_scope = a->scope;
	r.ifa.ifa_index = a->index;
	add_attr(&r, IFA_LOCAL, a->addr, alen);
	add_attr(&r, IFA_ADDRESS, a->addr, alen);
	add_attr(&r, IFA_FLAGS, &a->flags, sizeof(a->flags));
	return talk(sk, &r, NULL, NULL);
}

struct nft_first {
	char *name;
	size_t len;
	int n;
};

static int on_table(struct nlmsghdr *h, void *arg)
{
	struct nft_first *f = arg;
	struct nfgenmsg *g = NLMSG_DATA(h);
	int len = h->nlmsg_len - NLMSG_LENGTH(sizeof(*g));
	struct rtattr *a = (void *)((char *)g + NLMSG_ALIGN(sizeof(*g)));

	for (; RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == NFTA_TABLE_NAME && !f->n)
			snprintf(f->name, f->len, "%s", (char *)RTA_DATA(a));
	f->n++;
	return 0;
}

int kh_nft_tables(char *first, size_t len)
{
	struct nft_first f = { first, len, 0 };
	struct req r = { 0 };
	int sk, ret;

	sk = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (sk < 0)
		return errno == EPROTONOSUPPORT ? 0 : -errno;
	r.h.nlmsg_type = NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_GETTABLE;
	r.h.nlmsg_flags = NLM_F_DUMP;
	r.h.nlmsg_len = NLMSG_LENGTH(sizeof(r.nfg));
	r.nfg.nfgen_family = AF_UNSPEC;
	r.nfg.version = NFNETLINK_V0;
	ret = talk(sk, &r, on_table, &f);
	close(sk);
	/* without nf_tables in the kernel there can be no rules */
	if (ret == -EOPNOTSUPP || ret == -ENOENT)
		return 0;
	return ret ?: f.n;
}
