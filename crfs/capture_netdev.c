// SPDX-License-Identifier: MIT
/*
 * Devices of the tree's network namespace that depend on nothing outside
 * it, one row per link kind: dummy, bridge, veth pairs with both ends
 * inside, tun/tap (its descriptors are files, files_tun.c), macvlan on a
 * device of the namespace.  Each is saved with its name, index, MTU, MAC, flags and master;
 * a kind's own attributes (IFLA_INFO_DATA) are compared with those of one
 * made new in a fresh namespace: what differs is saved if restore sets it
 * at creation, ignored if it is state the kernel keeps (timers, ids), and
 * refused by name otherwise.  A bridge port's attributes are compared with
 * a new port's in the same way, and refused if they differ.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>

#include "crfs/array.h"
#include "crfs/ns.h"
#include "kh_ns.h"
#include "snapshot.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

enum { REFUSE, SAVE, IGNORE };

struct attr_rule {
	int type;
	const char *name;
	int what;
};

/* IFLA_BR_*: settable ones by name, then the kernel's state */
static const struct attr_rule bridge_rules[] = {
	{ 1, "forward_delay", SAVE }, { 2, "hello_time", SAVE },
	{ 3, "max_age", SAVE }, { 4, "ageing_time", SAVE },
	{ 5, "stp_state", SAVE }, { 6, "priority", SAVE },
	/* per-port VLAN tables are not saved */
	{ 7, "vlan_filtering", REFUSE }, { 8, "vlan_protocol", SAVE },
	{ 9, "group_fwd_mask", SAVE }, { 20, "group_address", SAVE },
	{ 22, "mcast_router", SAVE }, { 23, "mcast_snooping", SAVE },
	{ 24, "mcast_query_use_ifaddr", SAVE }, { 25, "mcast_querier", SAVE },
	{ 26, "mcast_hash_elasticity", SAVE }, { 27, "mcast_hash_max", SAVE },
	{ 28, "mcast_last_member_count", SAVE },
	{ 29, "mcast_startup_query_count", SAVE },
	{ 30, "mcast_last_member_interval", SAVE },
	{ 31, "mcast_membership_interval", SAVE },
	{ 32, "mcast_querier_interval", SAVE },
	{ 33, "mcast_query_interval", SAVE },
	{ 34, "mcast_query_response_interval", SAVE },
	{ 35, "mcast_startup_query_interval", SAVE },
	{ 36, "nf_call_iptables", SAVE }, { 37, "nf_call_ip6tables", SAVE },
	{ 38, "nf_call_arptables", SAVE }, { 39, "vlan_default_pvid", SAVE },
	{ 41, "vlan_stats_enabled", SAVE }, { 42, "mcast_stats_enabled", SAVE },
	{ 43, "mcast_igmp_version", SAVE }, { 44, "mcast_mld_version", SAVE },
	{ 45, "vlan_stats_per_port", SAVE }, { 46, "multi_boolopt", SAVE },
	{ 49, "fdb_max_learned", SAVE },
	{ 10, "root_id", IGNORE }, { 11, "bridge_id", IGNORE },
	{ 12, "root_port", IGNORE }, { 13, "root_path_cost", IGNORE },
	{ 14, "topology_change", IGNORE },
	{ 15, "topology_change_detected", IGNORE },
	{ 16, "hello_timer", IGNORE }, { 17, "tcn_timer", IGNORE },
	{ 18, "topology_change_timer", IGNORE }, { 19, "gc_timer", IGNORE },
	{ 21, "fdb_flush", IGNORE }, { 40, "pad", IGNORE },
	{ 47, "mcast_querier_state", IGNORE },
	{ 48, "fdb_n_learned", IGNORE },
	{ 0, NULL, REFUSE },
};

/* IFLA_BRPORT_*: none is saved; the kernel's state is ignored */
static const struct attr_rule port_rules[] = {
	{ 2, "priority", REFUSE }, { 3, "cost", REFUSE },
	{ 4, "hairpin", REFUSE }, { 5, "guard", REFUSE },
	{ 6, "root_block", REFUSE }, { 7, "fastleave", REFUSE },
	{ 8, "learning", REFUSE }, { 9, "flood", REFUSE },
	{ 10, "proxy_arp", REFUSE }, { 25, "mcast_router", REFUSE },
	{ 27, "mcast_flood", REFUSE }, { 30, "bcast_flood", REFUSE },
	{ 33, "isolated", REFUSE }, { 39, "locked", REFUSE },
	{ 1, "state", IGNORE }, { 13, "root_id", IGNORE },
	{ 14, "bridge_id", IGNORE }, { 15, "designated_port", IGNORE },
	{ 16, "designated_cost", IGNORE }, { 17, "id", IGNORE },
	{ 18, "no", IGNORE }, { 19, "topology_change_ack", IGNORE },
	{ 20, "config_pending", IGNORE }, { 21, "message_age_timer", IGNORE },
	{ 22, "forward_delay_timer", IGNORE }, { 23, "hold_timer", IGNORE },
	{ 24, "flush", IGNORE }, { 26, "pad", IGNORE },
	{ 35, "mrp_ring_open", IGNORE }, { 36, "mrp_in_open", IGNORE },
	{ 38, "mcast_eht_hosts_cnt", IGNORE },
	{ 41, "mcast_n_groups", IGNORE },
	{ 0, NULL, REFUSE },
};

/*
 * A new bridge and a new port of it, as a fresh namespace shows them: the
 * port of the kind compared, since a port's default cost follows the
 * speed its kind reports.
 */
struct fresh {
	const char *port_kind;
	struct kh_link br, port;
};

static int make_fresh(void *arg)
{
	struct fresh *fr = arg;
	struct kh_newlink br = { .kind = "bridge", .name = "crfsfreshbr" };
	struct kh_newlink port = { .kind = fr->port_kind,
				   .name = "crfsfreshport" };
	struct kh_setdev d = { .master = -1 };
	struct kh_link *l = NULL;
	int sk = kh_rtnl_open(), ret;
	size_t n = 0, i;

	if (sk < 0)
		return sk;
	if (port.kind && !strcmp(port.kind, "veth"))
		port.peer = "crfsfreshpeer";
	ret = kh_rtnl_new_link(sk, &br);
	if (!ret && port.kind) {
		/* rtnetlink makes no tun device */
		ret = !strcmp(port.kind, "tun") ?
		      kh_tun_create(port.name, 0, IFF_TAP, -1, -1) :
		      kh_rtnl_new_link(sk, &port);
		d.index = if_nametoindex(port.name);
		d.master = if_nametoindex(br.name);
		ret = ret ?: kh_rtnl_set_dev(sk, &d);
	}
	ret = ret ?: kh_rtnl_links(sk, &l, &n);
	close(sk);
	for (i = 0; !ret && i < n; i++) {
		if (!strcmp(l[i].name, br.name))
			fr->br = l[i];
		if (!strcmp(l[i].name, port.name))
			fr->port = l[i];
	}
	free(l);
	return ret;
}

/* made for each bridge and port: a capture is rare, a cache needs a lock */
static struct fresh *get_fresh(const char *port_kind, int *ret)
{
	struct fresh *fr = calloc(1, sizeof(*fr));

	if (fr)
		fr->port_kind = port_kind;
	*ret = fr ? kh_in_ns(0, "net", CLONE_NEWNET, make_fresh, fr) : -ENOMEM;
	if (*ret) {
		free(fr);
		return NULL;
	}
	return fr;
}

static const struct rtattr *find_attr(const unsigned char *blob, int len,
				      int type)
{
	const struct rtattr *a;

	for (a = (const void *)blob; RTA_OK(a, len); a = RTA_NEXT(a, len))
		if ((a->rta_type & NLA_TYPE_MASK) == type)
			return a;
	return NULL;
}

static const struct attr_rule *rule_of(const struct attr_rule *r, int type)
{
	while (r->name && r->type != type)
		r++;
	return r;
}

static int save_attr(struct crfs_ns_dev *d, const struct rtattr *a)
{
	struct crfs_ns_dev_attr *x;

	if (RTA_PAYLOAD(a) > sizeof(x->val))
		return -E2BIG;
	x = array_room(d->attrs, d->nattrs, sizeof(*x));
	if (!x)
		return -ENOMEM;
	d->attrs = x;
	x = &x[d->nattrs++];
	memset(x, 0, sizeof(*x));
	x->type = a->rta_type & NLA_TYPE_MASK;
	x->len = RTA_PAYLOAD(a);
	memcpy(x->val, RTA_DATA(a), x->len);
	return 0;
}

/* an attribute's value as a number where it is one */
static void value_txt(const struct rtattr *a, char *buf, size_t len)
{
	unsigned long long v = 0;
	size_t n = a ? RTA_PAYLOAD(a) : 0;

	if (!a)
		snprintf(buf, len, "absent");
	else if (n == 1 || n == 2 || n == 4 || n == 8) {
		memcpy(&v, RTA_DATA(a), n);	/* little-endian host */
		snprintf(buf, len, "%llu", v);
	} else {
		snprintf(buf, len, "%zu bytes", n);
	}
}

/*
 * Each attribute of mine against fresh's: saved into d (NULL: none is
 * settable) or refused by name where they differ.
 */
static int compare(struct snapshot *s, pid_t root, const char *what,
		   const char *name, const unsigned char *mine, int mlen,
		   const unsigned char *fresh, int flen,
		   const struct attr_rule *rules, struct crfs_ns_dev *d)
{
	const struct rtattr *a, *f;
	const struct attr_rule *r;
	char v[32], fv[32], anon[32];
	int len = mlen, ret = 0;

	if (mlen < 0 || flen < 0) {
		snapshot_report(s, "process %d: network namespace: %s %s: its attributes are too long to compare: not supported",
				root, what, name);
		return 0;
	}
	for (a = (const void *)mine; !ret && RTA_OK(a, len);
	     a = RTA_NEXT(a, len)) {
		f = find_attr(fresh, flen, a->rta_type & NLA_TYPE_MASK);
		if (f && RTA_PAYLOAD(f) == RTA_PAYLOAD(a) &&
		    !memcmp(RTA_DATA(f), RTA_DATA(a), RTA_PAYLOAD(a)))
			continue;
		r = rule_of(rules, a->rta_type & NLA_TYPE_MASK);
		if (r->what == IGNORE)
			continue;
		if (r->what == SAVE && d) {
			ret = save_attr(d, a);
			continue;
		}
		snprintf(anon, sizeof(anon), "attribute %d",
			 a->rta_type & NLA_TYPE_MASK);
		value_txt(a, v, sizeof(v));
		value_txt(f, fv, sizeof(fv));
		snapshot_report(s, "process %d: network namespace: %s %s: %s is %s, a new one's %s: not supported",
				root, what, name, r->name ?: anon, v, fv);
	}
	return ret;
}

static int bridge_save(struct snapshot *s, pid_t root, struct crfs_ns_dev *d,
		       const struct kh_link *l)
{
	int ret;
	struct fresh *fr = get_fresh(NULL, &ret);

	if (!fr)
		return ret;
	ret = compare(s, root, "bridge", l->name, l->data, l->data_len,
		      fr->br.data, fr->br.data_len, bridge_rules, d);
	free(fr);
	return ret;
}

/*
 * IFLA_TUN_*: what kh_tun_create makes it with (owner, group, type, pi,
 * vnet_hdr, persist, multi_queue); the queue counts follow the fds
 */
static int tun_save(struct snapshot *s, pid_t root, struct crfs_ns_dev *d,
		    const struct kh_link *l)
{
	const struct rtattr *a;
	int len = l->data_len, ret = 0;

	(void)s;
	(void)root;
	for (a = (const void *)l->data; !ret && RTA_OK(a, len);
	     a = RTA_NEXT(a, len))
		if ((a->rta_type & NLA_TYPE_MASK) <= 7)
			ret = save_attr(d, a);
	return ret;
}

/*
 * IFLA_MACVLAN_*: mode, flags, broadcast queue length and cutoff are set
 * at creation; source mode's address list is not saved
 */
static int macvlan_save(struct snapshot *s, pid_t root, struct crfs_ns_dev *d,
			const struct kh_link *l)
{
	const struct rtattr *a;
	int len = l->data_len, ret = 0, type;
	unsigned int v;

	if (l->link_nsid >= 0 || !l->link) {
		snapshot_report(s, "process %d: network namespace: macvlan %s: its lower device is not in the namespace: not supported",
				root, l->name);
		return 0;
	}
	d->link_index = l->link;
	for (a = (const void *)l->data; !ret && RTA_OK(a, len);
	     a = RTA_NEXT(a, len)) {
		type = a->rta_type & NLA_TYPE_MASK;
		v = 0;
		memcpy(&v, RTA_DATA(a), RTA_PAYLOAD(a) < 4 ? RTA_PAYLOAD(a) : 4);
		if (type == IFLA_MACVLAN_MODE && v == MACVLAN_MODE_SOURCE)
			snapshot_report(s, "process %d: network namespace: macvlan %s in source mode: not supported",
					root, l->name);
		else if (type == IFLA_MACVLAN_MODE || type == IFLA_MACVLAN_FLAGS ||
			 type == IFLA_MACVLAN_BC_QUEUE_LEN || type == 9)
			ret = save_attr(d, a);	/* 9: IFLA_MACVLAN_BC_CUTOFF */
		else if (type != IFLA_MACVLAN_MACADDR_COUNT &&
			 type != IFLA_MACVLAN_BC_QUEUE_LEN_USED)
			snapshot_report(s, "process %d: network namespace: macvlan %s: attribute %d is not supported",
					root, l->name, type);
	}
	return ret;
}

/* a veth is ours only with its peer inside too (else capture_veth.c) */
static bool veth_here(const struct kh_link *l)
{
	return l->link_nsid < 0;
}

static const struct netdev_kind {
	const char *kind;
	bool (*takes)(const struct kh_link *l);	/* NULL: always */
	int (*save)(struct snapshot *s, pid_t root, struct crfs_ns_dev *d,
		    const struct kh_link *l);
} kinds[] = {
	{ "dummy", NULL, NULL },
	{ "bridge", NULL, bridge_save },
	{ "veth", veth_here, NULL },
	{ "tun", NULL, tun_save },
	{ "macvlan", NULL, macvlan_save },
};

static int port_check(struct snapshot *s, pid_t root, const struct kh_link *l)
{
	struct fresh *fr;
	int ret;

	if (!l->master || strcmp(l->slave_kind, "bridge"))
		return 0;	/* netdev_resolve refuses other masters */
	/* kinds of the table only: the others are refused anyway */
	fr = get_fresh(l->kind, &ret);
	if (!fr)
		return ret;
	ret = compare(s, root, "bridge port", l->name, l->slave, l->slave_len,
		      fr->port.slave, fr->port.slave_len, port_rules, NULL);
	free(fr);
	return ret;
}

int netdev_inside(struct snapshot *s, pid_t root, struct crfs_ns *ns,
		  const struct kh_link *l)
{
	const struct netdev_kind *k = NULL;
	struct crfs_ns_dev *d;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(kinds); i++)
		if (!strcmp(kinds[i].kind, l->kind) &&
		    (!kinds[i].takes || kinds[i].takes(l)))
			k = &kinds[i];
	if (!k)
		return 1;
	d = array_room(ns->devs, ns->ndevs, sizeof(*d));
	if (!d)
		return -ENOMEM;
	ns->devs = d;
	d = &d[ns->ndevs++];
	memset(d, 0, sizeof(*d));
	snprintf(d->kind, sizeof(d->kind), "%s", l->kind);
	snprintf(d->name, sizeof(d->name), "%s", l->name);
	d->index = l->index;
	d->mtu = l->mtu;
	d->flags = l->flags & CRFS_NS_DEV_FLAGS;
	memcpy(d->mac, l->mac, sizeof(d->mac));
	d->master_index = l->master;
	d->peer_index = !strcmp(l->kind, "veth") ? l->link : 0;
	return (k->save ? k->save(s, root, d, l) : 0) ?: port_check(s, root, l);
}

const char *netdev_name(const struct crfs_ns *ns, int index)
{
	size_t i;

	for (i = 0; i < ns->ndevs; i++)
		if (ns->devs[i].index == index)
			return ns->devs[i].name;
	return NULL;
}

/* masters and peers by name: a master must be a bridge saved here */
void netdev_resolve(struct snapshot *s, pid_t root, struct crfs_ns *ns)
{
	const struct crfs_ns_dev *m;
	struct crfs_ns_dev *d;
	const char *p;
	size_t i, k;

	for (i = 0; i < ns->ndevs; i++) {
		d = &ns->devs[i];
		p = d->peer_index ? netdev_name(ns, d->peer_index) : NULL;
		if (p)
			snprintf(d->peer, sizeof(d->peer), "%s", p);
		p = d->link_index ? netdev_name(ns, d->link_index) : NULL;
		if (p)
			snprintf(d->link, sizeof(d->link), "%s", p);
		else if (d->link_index)
			snapshot_report(s, "process %d: network namespace: device %s: its lower device is not saved: not supported",
					root, d->name);
		if (!d->master_index)
			continue;
		for (m = NULL, k = 0; k < ns->ndevs; k++)
			if (ns->devs[k].index == d->master_index)
				m = &ns->devs[k];
		if (m && !strcmp(m->kind, "bridge"))
			snprintf(d->master, sizeof(d->master), "%s", m->name);
		else
			snapshot_report(s, "process %d: network namespace: device %s is enslaved to a device that is not a bridge of the namespace: not supported",
					root, d->name);
	}
}
