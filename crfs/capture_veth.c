// SPDX-License-Identifier: MIT
/*
 * A veth pair between the tree's network namespace and ours: the inside
 * end is seen from a thread in the namespace, the outside end (its name,
 * state, MTU, MAC, bridge and addresses) from ours.  A pair with both ends
 * inside, or its peer in a third namespace, is refused.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <linux/if_addr.h>

#include "crfs/array.h"
#include "crfs/ns.h"
#include "kh_ns.h"
#include "snapshot.h"

static void set_end(struct crfs_ns_link *e, const struct kh_link *l)
{
	snprintf(e->name, sizeof(e->name), "%s", l->name);
	e->mtu = l->mtu;
	e->up = l->flags & IFF_UP;
	memcpy(e->mac, l->mac, sizeof(e->mac));
}

int veth_inside(struct snapshot *s, pid_t root, struct crfs_ns *ns,
		const struct kh_link *l, int host_nsid)
{
	struct crfs_ns_veth *v;

	if (l->link_nsid < 0 || l->link_nsid != host_nsid) {
		snapshot_report(s, "process %d: network namespace: veth %s has its peer %s: not supported (only a peer in crfs's namespace)",
				root, l->name, l->link_nsid < 0 ?
				"inside too" : "in another namespace");
		return 0;
	}
	v = array_room(ns->veths, ns->nveths, sizeof(*v));
	if (!v)
		return -ENOMEM;
	ns->veths = v;
	v = &v[ns->nveths++];
	memset(v, 0, sizeof(*v));
	set_end(&v->in, l);
	v->in_index = l->index;
	v->out_index = l->link;
	return 0;
}

static const struct kh_link *by_index(const struct kh_link *l, size_t n,
				      int index)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (l[i].index == index)
			return &l[i];
	return NULL;
}

static int outside_end(struct snapshot *s, pid_t root, struct crfs_ns_veth *v,
		       const struct kh_link *l, size_t n)
{
	const struct kh_link *o = by_index(l, n, v->out_index), *m;

	if (!o || strcmp(o->kind, "veth")) {
		snapshot_report(s, "process %d: network namespace: the peer of veth %s is not found in ours",
				root, v->in.name);
		return 0;
	}
	set_end(&v->out, o);
	if (!o->master)
		return 0;
	m = by_index(l, n, o->master);
	if (!m || strcmp(m->kind, "bridge"))
		snapshot_report(s, "process %d: network namespace: the peer %s of veth %s is enslaved to a device that is not a bridge: not supported",
				root, o->name, v->in.name);
	else
		snprintf(v->out.master, sizeof(v->out.master), "%s", m->name);
	return 0;
}

static int outside_addr(struct snapshot *s, pid_t root, struct crfs_ns *ns,
			const struct crfs_ns_veth *v, const struct kh_addr *k)
{
	struct crfs_ns_addr *a;

	if (k->valid != ~0U || k->preferred != ~0U || k->peer) {
		snapshot_report(s, "process %d: network namespace: an address of %s (outside end of veth %s) has a lifetime or a peer: not supported",
				root, v->out.name, v->in.name);
		return 0;
	}
	a = array_room(ns->addrs, ns->naddrs, sizeof(*a));
	if (!a)
		return -ENOMEM;
	ns->addrs = a;
	a = &a[ns->naddrs++];
	memset(a, 0, sizeof(*a));
	a->family = k->family;
	a->prefix = k->prefix;
	a->scope = k->scope;
	a->flags = k->flags & (IFA_F_NODAD | IFA_F_PERMANENT |
			       IFA_F_NOPREFIXROUTE);
	memcpy(a->addr, k->addr, sizeof(a->addr));
	snprintf(a->dev, sizeof(a->dev), "%s", v->in.name);
	a->outside = true;
	return 0;
}

int veth_outside(struct snapshot *s, pid_t root, struct crfs_ns *ns)
{
	struct kh_link *l = NULL;
	struct kh_addr *k = NULL;
	size_t n = 0, na = 0, i, j;
	int sk, ret;

	if (!ns->nveths)
		return 0;
	sk = kh_rtnl_open();
	if (sk < 0)
		return sk;
	ret = kh_rtnl_links(sk, &l, &n);
	ret = ret ?: kh_rtnl_addrs(sk, &k, &na);
	close(sk);
	for (i = 0; !ret && i < ns->nveths; i++) {
		ret = outside_end(s, root, &ns->veths[i], l, n);
		for (j = 0; !ret && j < na; j++)
			if (k[j].index == ns->veths[i].out_index)
				ret = outside_addr(s, root, ns, &ns->veths[i],
						   &k[j]);
	}
	free(l);
	free(k);
	return ret;
}
