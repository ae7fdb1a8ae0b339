// SPDX-License-Identifier: MIT
/*
 * veth pairs of the new network namespace: created from inside with the
 * peer put straight into crfs-restore's first namespace (one request, so a
 * name taken there leaves nothing behind), then each end configured: the
 * inside one by our socket, the outside one by a socket opened before we
 * left, and put back on its bridge.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <arpa/inet.h>

#include "crfs/ns.h"
#include "kh_ns.h"
#include "ns.h"

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -EINVAL)

/* the old pair may still be going with its namespace (freed lazily) */
static int create(int sk, const struct crfs_ns_veth *v, int host_fd)
{
	struct timespec pause = { 0, 50 * 1000 * 1000 };
	int ret, tries = 0;

	while ((ret = kh_rtnl_new_veth(sk, v->in.name, v->out.name,
				       host_fd)) == -EEXIST && tries++ < 60)
		nanosleep(&pause, NULL);
	return ret;
}

/* the end as saved, on the index and bridge it has now */
static int config(int sk, const struct crfs_ns_link *e, bool up, char *err,
		  size_t errlen)
{
	struct kh_link l, m;
	int ret = kh_rtnl_link_by_name(sk, e->name, &l);

	if (ret)
		return ERR("veth %s: not found after its creation: %s",
			   e->name, strerror(-ret));
	l.mtu = e->mtu;
	memcpy(l.mac, e->mac, sizeof(l.mac));
	l.master = 0;
	if (e->master[0]) {
		ret = kh_rtnl_link_by_name(sk, e->master, &m);
		if (ret)
			return ERR("veth %s: its bridge %s is not there: %s",
				   e->name, e->master, strerror(-ret));
		l.master = m.index;
	}
	ret = kh_rtnl_config_link(sk, &l, up && e->up);
	return ret ? ERR("veth %s: cannot set its mtu %u, address, bridge or state: %s",
			 e->name, e->mtu, strerror(-ret)) : 0;
}

static int addrs(int sk, const struct crfs_ns *ns, const struct crfs_ns_veth *v,
		 bool outside, char *err, size_t errlen)
{
	const char *name = outside ? v->out.name : v->in.name;
	char txt[INET6_ADDRSTRLEN] = "?";
	struct kh_addr a = { 0 };
	size_t i;
	int ret = 0;

	a.index = if_nametoindex(name);
	if (outside) {
		struct kh_link l;

		ret = kh_rtnl_link_by_name(sk, name, &l);
		a.index = ret ? 0 : l.index;
	}
	for (i = 0; !ret && i < ns->naddrs; i++) {
		const struct crfs_ns_addr *x = &ns->addrs[i];

		if (x->outside != outside || strcmp(x->dev, v->in.name))
			continue;
		a.family = x->family;
		a.prefix = x->prefix;
		a.scope = x->scope;
		a.flags = x->flags;
		memcpy(a.addr, x->addr, sizeof(a.addr));
		ret = kh_rtnl_addr(sk, true, &a);
		if (ret == -EEXIST)	/* an IPv6 link-local, made again */
			ret = 0;
	}
	if (!ret)
		return 0;
	inet_ntop(a.family, a.addr, txt, sizeof(txt));
	return ERR("veth %s: cannot add address %s/%d: %s", name, txt,
		   a.prefix, strerror(-ret));
}

int veth_create(int sk, const struct crfs_ns *ns, int host_fd, char *err,
		size_t errlen)
{
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < ns->nveths; i++) {
		const struct crfs_ns_veth *v = &ns->veths[i];

		ret = create(sk, v, host_fd);
		if (ret == -EEXIST)
			return ERR("veth %s: its peer's name %s is taken in our network namespace",
				   v->in.name, v->out.name);
		if (ret)
			return ERR("veth %s: cannot create it with its peer %s: %s",
				   v->in.name, v->out.name, strerror(-ret));
		ret = config(sk, &v->in, false, err, errlen);
	}
	return ret;
}

int veth_finish(int sk, int host_sk, const struct crfs_ns *ns, char *err,
		size_t errlen)
{
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < ns->nveths; i++) {
		const struct crfs_ns_veth *v = &ns->veths[i];

		ret = config(sk, &v->in, true, err, errlen);
		ret = ret ?: config(host_sk, &v->out, true, err, errlen);
		ret = ret ?: addrs(sk, ns, v, false, err, errlen);
		ret = ret ?: addrs(host_sk, ns, v, true, err, errlen);
	}
	return ret;
}
