// SPDX-License-Identifier: MIT
/*
 * Restoring into a new set of namespaces, one row per kind the ns file
 * may hold: crfs-restore unshares it (single-threaded, so for itself and
 * every process it creates after; a time namespace only for the latter)
 * and puts the saved state in.  A tree with a user namespace of its own
 * has its other namespaces made inside that one (userns.c): we enter
 * those instead of unsharing.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "crfs/ns.h"
#include "kh_ns.h"
#include "ns.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -EINVAL)

/* what must be opened before we leave our namespaces */
struct ns_ctx {
	const struct crfs_ns *ns;
	int host_fd, host_sk;	/* our network namespace, a socket in it */
};

/*
 * Only our children enter the new time namespace, and its offsets can be
 * set only before the first one does: this row comes first, before nft
 * or the tree is forked.  We stay in our own, so the files we open (an
 * absolute timerfd is armed in the host's clock, as it was saved) are
 * unaffected.
 */
static int restore_time(const struct ns_ctx *c, char *err, size_t errlen)
{
	const struct crfs_ns *ns = c->ns;
	struct kh_timens t = {
		.mono_sec = ns->monotonic.sec, .mono_nsec = ns->monotonic.nsec,
		.boot_sec = ns->boottime.sec, .boot_nsec = ns->boottime.nsec,
	};
	/* in a user namespace of the tree's, its helper made the time one */
	int ret = kh_timens_set_offsets_of(userns_helper_pid(), &t);

	if (ret)
		return ERR("time namespace: cannot set the offsets (monotonic %lld.%09ld, boottime %lld.%09ld): %s",
			   t.mono_sec, t.mono_nsec, t.boot_sec, t.boot_nsec,
			   strerror(-ret));
	return 0;
}

static int restore_uts(const struct ns_ctx *c, char *err, size_t errlen)
{
	const struct crfs_ns *ns = c->ns;

	if (sethostname(ns->hostname, strlen(ns->hostname)))
		return ERR("uts namespace: cannot set the hostname '%s': %s",
			   ns->hostname, strerror(errno));
	if (setdomainname(ns->domainname, strlen(ns->domainname)))
		return ERR("uts namespace: cannot set the domainname '%s': %s",
			   ns->domainname, strerror(errno));
	return 0;
}

static bool addr_eq(const struct kh_addr *k, const struct crfs_ns_addr *a)
{
	return !a->dev[0] && k->family == a->family && k->prefix == a->prefix &&
	       !memcmp(k->addr, a->addr, a->family == AF_INET ? 4 : 16);
}

/* drop what the kernel gave lo that it had not, then add what it had */
static int lo_addrs(int sk, int lo, const struct crfs_ns *ns, char *err,
		    size_t errlen)
{
	struct kh_addr *k, a = { .index = lo };
	char txt[INET6_ADDRSTRLEN] = "?";
	size_t n, i, j;
	int ret = kh_rtnl_addrs(sk, &k, &n);

	if (ret)
		return ERR("network namespace: cannot list addresses: %s",
			   strerror(-ret));
	for (i = 0; !ret && i < n; i++) {
		for (j = 0; j < ns->naddrs && !addr_eq(&k[i], &ns->addrs[j]);
		     j++)
			;
		if (k[i].index == lo && j == ns->naddrs)
			ret = kh_rtnl_addr(sk, false, &k[i]);
	}
	free(k);
	if (ret)
		return ERR("network namespace: cannot remove an address of lo: %s",
			   strerror(-ret));
	for (i = 0; !ret && i < ns->naddrs; i++) {
		if (ns->addrs[i].dev[0])
			continue;	/* a veth's */
		a.family = ns->addrs[i].family;
		a.prefix = ns->addrs[i].prefix;
		a.scope = ns->addrs[i].scope;
		a.flags = ns->addrs[i].flags;
		memcpy(a.addr, ns->addrs[i].addr, sizeof(a.addr));
		ret = kh_rtnl_addr(sk, true, &a);
		if (ret == -EEXIST)
			ret = 0;
	}
	if (!ret)
		return 0;
	inet_ntop(a.family, a.addr, txt, sizeof(txt));
	return ERR("network namespace: cannot add address %s/%d to lo: %s",
		   txt, a.prefix, strerror(-ret));
}

/* once the devices and addresses their gateways need are there */
static int add_routes(int sk, const struct crfs_ns *ns, char *err,
		      size_t errlen)
{
	char txt[INET6_ADDRSTRLEN] = "?";
	struct kh_route k;
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < ns->nroutes; i++) {
		const struct crfs_ns_route *r = &ns->routes[i];

		memset(&k, 0, sizeof(k));
		k.family = r->family;
		k.dst_len = r->dst_len;
		k.scope = r->scope;
		k.protocol = r->protocol;
		k.priority = r->metric;
		memcpy(k.dst, r->dst, sizeof(k.dst));
		memcpy(k.gateway, r->gateway, sizeof(k.gateway));
		memcpy(k.prefsrc, r->prefsrc, sizeof(k.prefsrc));
		k.has_gateway = r->has_gateway;
		k.has_prefsrc = r->has_prefsrc;
		k.oif = r->dev[0] ? (int)if_nametoindex(r->dev) : 0;
		ret = r->dev[0] && !k.oif ? -ENODEV : kh_rtnl_add_route(sk, &k);
		if (ret)
			inet_ntop(r->family, r->dst, txt, sizeof(txt));
	}
	return ret ? ERR("network namespace: cannot add the route to %s/%d: %s",
			 txt, ns->routes[i - 1].dst_len, strerror(-ret)) : 0;
}

/*
 * The MTU first (it caps the IPv6 MTU sysctl), the sysctls while lo is
 * still down (disable_ipv6 decides whether it gets ::1), then up.
 */
static int restore_net(const struct ns_ctx *c, char *err, size_t errlen)
{
	const struct crfs_ns *ns = c->ns;
	int sk = kh_rtnl_open(), lo = if_nametoindex("lo"), ret;
	size_t i;

	if (sk < 0 || !lo)
		return ERR("network namespace: cannot reach lo: %s",
			   strerror(sk < 0 ? -sk : errno));
	ret = kh_rtnl_set_link(sk, lo, false, ns->lo_mtu);
	if (ret) {
		ret = ERR("network namespace: cannot set lo's mtu %u: %s",
			  ns->lo_mtu, strerror(-ret));
		goto out;
	}
	ret = netdev_create(sk, ns, err, errlen);
	ret = ret ?: veth_create(sk, ns, c->host_fd, err, errlen);
	for (i = 0; !ret && i < ns->nsysctls; i++) {
		ret = kh_sysctl_write(ns->sysctls[i].key, ns->sysctls[i].value);
		if (ret)
			ret = ERR("network namespace: cannot set sysctl %s to '%s': %s",
				  ns->sysctls[i].key, ns->sysctls[i].value,
				  strerror(-ret));
	}
	if (!ret && ns->lo_up) {
		ret = kh_rtnl_set_link(sk, lo, true, ns->lo_mtu);
		if (ret)
			ret = ERR("network namespace: cannot bring lo up: %s",
				  strerror(-ret));
	}
	ret = ret ?: lo_addrs(sk, lo, ns, err, errlen);
	ret = ret ?: veth_finish(sk, c->host_sk, ns, err, errlen);
	ret = ret ?: netdev_finish(sk, ns, err, errlen);
	ret = ret ?: add_routes(sk, ns, err, errlen);
out:
	close(sk);
	return ret;
}

static const struct ns_kind {
	const char *name;
	int nstype;
	size_t saved;	/* offset of the bool that says the image has one */
	int (*restore)(const struct ns_ctx *c, char *err, size_t errlen);
} ns_kinds[] = {
	{ "time", CLONE_NEWTIME, offsetof(struct crfs_ns, time), restore_time },
	{ "uts", CLONE_NEWUTS, offsetof(struct crfs_ns, uts), restore_uts },
	{ "net", CLONE_NEWNET, offsetof(struct crfs_ns, net), restore_net },
};

static int p_ns(struct crfs_text *t, void *o) { return parse_ns(t, o); }

static bool has_file(const struct image *img, const char *name)
{
	size_t i;

	for (i = 0; i < img->hdr.nfiles; i++)
		if (!strcmp(img->hdr.files[i].path, name))
			return true;
	return false;
}

/* the rules, by the tool that listed them, once lo is as it was */
static int restore_nft(const struct image *img, char *err, size_t errlen)
{
	char path[PATH_MAX + 8];
	int ret, st = 0;

	snprintf(path, sizeof(path), "%s/%s", img->dir, CRFS_F_NFT);
	ret = kh_nft_load(path, &st);
	if (ret == -ENOENT)
		return ERR("%s: nftables rules, but nft(8) is not installed",
			   path);
	if (ret)
		return ERR("%s: cannot run nft: %s", path, strerror(-ret));
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		return ERR("%s: nft -f failed (status %#x)", path, st);
	return 0;
}

/* a veth's outside end goes back to the namespace we start in */
static int open_host(struct ns_ctx *c, const struct crfs_ns *ns, char *err,
		     size_t errlen)
{
	size_t i, k;

	for (i = 0; i < ns->naddrs; i++) {
		if (!ns->addrs[i].dev[0] || ns->addrs[i].on_dev)
			continue;	/* lo's, or checked by netdev.c */
		for (k = 0; k < ns->nveths &&
			    strcmp(ns->addrs[i].dev, ns->veths[k].in.name); k++)
			;
		if (k == ns->nveths)
			return ERR("%s: an address of %s, which is no veth of the file",
				   CRFS_F_NS, ns->addrs[i].dev);
	}
	if (!ns->nveths)
		return 0;
	c->host_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (c->host_fd < 0)
		return ERR("cannot open our network namespace: %s",
			   strerror(errno));
	c->host_sk = kh_rtnl_open();
	if (c->host_sk < 0)
		return ERR("cannot open an rtnetlink socket: %s",
			   strerror(-c->host_sk));
	return 0;
}

/* a network namespace of the tree other than the root's (netns_sub.c) */
int ns_restore_net(const struct crfs_ns *ns, char *err, size_t errlen)
{
	struct ns_ctx c = { ns, -1, -1 };

	return restore_net(&c, err, errlen);
}

bool ns_image_has(const struct image *img, const char *name)
{
	return has_file(img, name);
}

int ns_restore(struct image *img, char *err, size_t errlen)
{
	struct crfs_ns ns = { 0 };
	struct ns_ctx c = { &ns, -1, -1 };
	size_t i;
	int ret;

	if (!has_file(img, CRFS_F_NS))
		return 0;
	ret = image_parse(img, CRFS_F_NS, p_ns, &ns, err, errlen);
	ret = ret ?: open_host(&c, &ns, err, errlen);
	ret = ret ?: userns_prepare(img, &ns, err, errlen);
	for (i = 0; !ret && i < ARRAY_SIZE(ns_kinds); i++) {
		if (!*(bool *)((char *)&ns + ns_kinds[i].saved))
			continue;
		ret = userns_join(ns_kinds[i].nstype, err, errlen);
		if (ret < 0)
			break;
		if (!ret && unshare(ns_kinds[i].nstype))
			ret = ERR("cannot create a %s namespace: %s",
				  ns_kinds[i].name, strerror(errno));
		else
			ret = ns_kinds[i].restore(&c, err, errlen);
	}
	userns_release();
	if (!ret && ns.net && has_file(img, CRFS_F_NFT))
		ret = restore_nft(img, err, errlen);
	crfs_ns_free(&ns);
	if (c.host_fd >= 0)
		close(c.host_fd);
	if (c.host_sk >= 0)
		close(c.host_sk);
	return ret;
}
