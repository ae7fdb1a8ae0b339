// SPDX-License-Identifier: MIT
/*
 * The tree root's own namespaces, one row per kind: a kind with a row is
 * saved to the container's ns file (when the root's differs from ours)
 * and every process of the tree must share the root's.  Kinds without a
 * row are refused by check_namespaces() in capture.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/utsname.h>
#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "crfs/array.h"
#include "crfs/ns.h"
#include "kh_ns.h"
#include "snapshot.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct net_ctx {
	struct snapshot *s;
	pid_t root;
	struct crfs_ns *ns;
	struct kh_sysctl *sys;
	size_t nsys;
	struct kh_rules rules;
	bool walked;		/* sys read already (netns_prefetch_start) */
	int host_fd;		/* our network namespace */
	int host_nsid;		/* what the tree's calls it */
};

static int read_uts(void *arg)
{
	struct crfs_ns *ns = arg;
	struct utsname u;

	if (uname(&u))
		return -errno;
	snprintf(ns->hostname, sizeof(ns->hostname), "%s", u.nodename);
	snprintf(ns->domainname, sizeof(ns->domainname), "%s", u.domainname);
	ns->uts = true;
	return 0;
}

static int capture_time(struct snapshot *s, pid_t root, struct crfs_ns *ns)
{
	struct kh_timens t;
	int ret = kh_timens_offsets(root, &t);

	(void)s;
	if (ret)
		return ret;
	ns->monotonic = (struct crfs_ns_offset){ t.mono_sec, t.mono_nsec };
	ns->boottime = (struct crfs_ns_offset){ t.boot_sec, t.boot_nsec };
	ns->time = true;
	return 0;
}

static int capture_uts(struct snapshot *s, pid_t root, struct crfs_ns *ns)
{
	(void)s;
	return kh_in_ns(root, "uts", CLONE_NEWUTS, read_uts, ns);
}

/* lo is made by every new namespace; any other device is refused */
static int net_links(struct net_ctx *c, int sk, int *lo)
{
	struct kh_link *l = NULL;
	size_t n = 0, i;
	int ret = kh_rtnl_links(sk, &l, &n);

	/* after the dump, which numbers the namespaces of veth peers */
	ret = ret ?: kh_rtnl_nsid(sk, c->host_fd, &c->host_nsid);

	for (i = 0; !ret && i < n; i++) {
		if (!strcmp(l[i].name, "lo") && !l[i].kind[0]) {
			*lo = l[i].index;
			c->ns->lo_up = l[i].flags & IFF_UP;
			c->ns->lo_mtu = l[i].mtu;
			continue;
		}
		ret = netdev_inside(c->s, c->root, c->ns, &l[i]);
		if (ret <= 0)
			continue;
		ret = 0;
		if (!strcmp(l[i].kind, "veth")) {
			ret = veth_inside(c->s, c->root, c->ns, &l[i],
					  c->host_nsid);
			continue;
		}
		snapshot_report(c->s, "process %d: network namespace: device %s (%s) is not supported: only lo, dummy, bridge and veth are restored",
				c->root, l[i].name, l[i].kind[0] ? l[i].kind : "physical");
	}
	if (!ret)
		netdev_resolve(c->s, c->root, c->ns);
	free(l);
	return ret;
}

/* what an address was configured with (the rest the kernel reports) */
#define ADDR_FLAGS	(IFA_F_NODAD | IFA_F_HOMEADDRESS | IFA_F_PERMANENT | \
			 IFA_F_MANAGETEMPADDR | IFA_F_NOPREFIXROUTE | \
			 IFA_F_MCAUTOJOIN)

/* what restore would not give back: refused by name */
static bool odd_addr(struct net_ctx *c, const struct kh_addr *k,
		     const char *dev)
{
	char txt[INET6_ADDRSTRLEN] = "?";
	const char *why = NULL;

	inet_ntop(k->family, k->addr, txt, sizeof(txt));
	if (k->valid != ~0U || k->preferred != ~0U)
		why = "has a limited lifetime";
	else if (k->peer)
		why = "has a peer address";
	else if (k->family == AF_INET && k->label[0] && strcmp(k->label, dev))
		why = "has a label of its own";
	else if (k->flags & IFA_F_TEMPORARY && k->family == AF_INET6)
		why = "is a temporary (privacy) address";
	if (why)
		snapshot_report(c->s, "process %d: network namespace: address %s/%d on %s %s: not supported",
				c->root, txt, k->prefix, dev, why);
	return why;
}

/* "" for lo, a veth's name, or NULL for a device not saved */
static const char *dev_of(const struct crfs_ns *ns, int index, int lo)
{
	size_t i;

	if (index == lo)
		return "";
	for (i = 0; i < ns->nveths; i++)
		if (ns->veths[i].in_index == index)
			return ns->veths[i].in.name;
	return netdev_name(ns, index);
}

static int net_addrs(struct net_ctx *c, int sk, int lo)
{
	struct crfs_ns_addr *a;
	struct kh_addr *k = NULL;
	const char *dev;
	size_t n = 0, i;
	int ret = kh_rtnl_addrs(sk, &k, &n);

	for (i = 0; !ret && i < n; i++) {
		dev = dev_of(c->ns, k[i].index, lo);
		if (!dev || odd_addr(c, &k[i], *dev ? dev : "lo"))
			continue;	/* its device is refused */
		a = array_room(c->ns->addrs, c->ns->naddrs, sizeof(*a));
		if (!a) {
			ret = -ENOMEM;
			break;
		}
		c->ns->addrs = a;
		a = &a[c->ns->naddrs++];
		memset(a, 0, sizeof(*a));
		a->family = k[i].family;
		a->prefix = k[i].prefix;
		a->scope = k[i].scope;
		a->flags = k[i].flags & ADDR_FLAGS;
		snprintf(a->dev, sizeof(a->dev), "%s", dev);
		a->on_dev = netdev_name(c->ns, k[i].index) != NULL;
		memcpy(a->addr, k[i].addr, sizeof(a->addr));
	}
	free(k);
	return ret;
}

/* a route of the main table restore can add again as it is */
static bool plain_route(const struct kh_route *r)
{
	return r->table == RT_TABLE_MAIN && r->type == RTN_UNICAST &&
	       !r->other && !r->tos && !r->src_len &&
	       !(r->flags & ~(RTNH_F_DEAD | RTNH_F_LINKDOWN));
}

static int save_route(struct crfs_ns *ns, const struct kh_route *k,
		      const char *dev)
{
	struct crfs_ns_route *r = array_room(ns->routes, ns->nroutes,
					     sizeof(*r));

	if (!r)
		return -ENOMEM;
	ns->routes = r;
	r = &r[ns->nroutes++];
	memset(r, 0, sizeof(*r));
	r->family = k->family;
	r->dst_len = k->dst_len;
	r->scope = k->scope;
	r->protocol = k->protocol;
	r->metric = k->priority;
	memcpy(r->dst, k->dst, sizeof(r->dst));
	memcpy(r->gateway, k->gateway, sizeof(r->gateway));
	memcpy(r->prefsrc, k->prefsrc, sizeof(r->prefsrc));
	r->has_gateway = k->has_gateway;
	r->has_prefsrc = k->has_prefsrc;
	snprintf(r->dev, sizeof(r->dev), "%s", dev);
	return 0;
}

/*
 * The kernel makes the routes of addresses and devices again; plain
 * unicast routes of the main table on lo or a veth are saved, the rest
 * refused.
 */
static int net_routes(struct net_ctx *c, int sk, int lo)
{
	struct kh_route *r = NULL;
	const char *dev;
	size_t n = 0, i;
	int ret = kh_rtnl_routes(sk, &r, &n);

	for (i = 0; !ret && i < n; i++) {
		if (r[i].protocol == RTPROT_KERNEL)
			continue;
		dev = !r[i].oif ? "" : r[i].oif == lo ? "lo" :
		      dev_of(c->ns, r[i].oif, lo);
		if (dev && plain_route(&r[i])) {
			ret = save_route(c->ns, &r[i], dev);
			continue;
		}
		snapshot_report(c->s, "process %d: network namespace: a route (table %d, %s, /%d, protocol %d) is not supported: only unicast routes of the main table are restored",
				c->root, r[i].table,
				r[i].family == AF_INET ? "inet" : "inet6",
				r[i].dst_len, r[i].protocol);
	}
	free(r);
	return ret;
}

static void net_filters(struct net_ctx *c)
{
	static const char *const legacy[] = { "ip_tables_names",
					      "ip6_tables_names",
					      "arp_tables_names" };
	char name[64] = "", path[64], *buf;
	size_t i, len;
	int n = kh_nft_tables(name, sizeof(name));

	if (n > 0 && !kh_nft_path())
		snapshot_report(c->s, "process %d: network namespace: nftables rules (table %s) are not supported without nft(8) installed",
				c->root, name);
	else if (n > 0 && kh_nft_save(&c->ns->nft, &c->ns->nft_len))
		snapshot_report(c->s, "process %d: network namespace: nft list ruleset failed (table %s)",
				c->root, name);
	for (i = 0; i < ARRAY_SIZE(legacy); i++) {
		snprintf(path, sizeof(path), "/proc/thread-self/net/%s",
			 legacy[i]);
		if (kh_read_file(path, &buf, &len))
			continue;
		if (len)
			snapshot_report(c->s, "process %d: network namespace: iptables rules (%s) are not supported",
					c->root, legacy[i]);
		free(buf);
	}
}

static int read_net(void *arg)
{
	struct net_ctx *c = arg;
	int sk = kh_rtnl_open(), lo = -1, ret;

	if (sk < 0)
		return sk;
	c->ns->net = true;
	ret = net_links(c, sk, &lo);
	ret = ret ?: net_addrs(c, sk, lo);
	ret = ret ?: net_routes(c, sk, lo);
	ret = ret ?: kh_rtnl_rules(sk, &c->rules);
	close(sk);
	if (!ret)
		net_filters(c);
	if (ret || c->walked)
		return ret;
	return kh_sysctl_net(&c->sys, &c->nsys);
}

/* a fresh namespace: its defaults */
static int read_fresh(void *arg)
{
	struct net_ctx *c = arg;
	int sk = kh_rtnl_open(), ret;

	if (sk < 0)
		return sk;
	ret = kh_rtnl_rules(sk, &c->rules);
	close(sk);
	return ret ?: kh_sysctl_net(&c->sys, &c->nsys);
}

/* policy routing rules are not saved: only a new namespace's will do */
static void check_rules(struct net_ctx *mine, const struct net_ctx *fresh)
{
	if (mine->rules.foreign || mine->rules.total != fresh->rules.total)
		snapshot_report(mine->s, "process %d: network namespace: routing rules (ip rule) other than a new namespace's are not supported",
				mine->root);
}

static int by_key(const void *a, const void *b)
{
	return strcmp(((const struct kh_sysctl *)a)->key,
		      ((const struct kh_sysctl *)b)->key);
}

static const struct kh_sysctl *find_sysctl(const struct net_ctx *c,
					   const char *key)
{
	struct kh_sysctl k = { (char *)key, NULL };

	return c->nsys ? bsearch(&k, c->sys, c->nsys, sizeof(k), by_key) : NULL;
}

/*
 * net/ipv4/conf/DEV/KEY of a device a fresh namespace lacks (a veth) is
 * compared with what DEV would start with: .../default/KEY
 */
static const struct kh_sysctl *find_default(const struct net_ctx *c,
					    const char *key)
{
	const char *p = key;
	char buf[512];
	int i;

	for (i = 0; i < 3 && p; i++)
		p = strchr(p + 1, '/');
	if (!p || !(p = strchr(p + 1, '/')))
		return NULL;
	snprintf(buf, sizeof(buf), "%.*s/default%s",
		 (int)(strchr(strchr(strchr(key, '/') + 1, '/') + 1, '/') - key),
		 key, p);
	return find_sysctl(c, buf);
}

/* what differs from a fresh namespace's; keys of refused devices drop */
static int diff_sysctls(struct net_ctx *mine, const struct net_ctx *fresh)
{
	struct crfs_ns *ns = mine->ns;
	const struct kh_sysctl *f;
	struct crfs_ns_sysctl *v;
	size_t i;

	for (i = 0; i < mine->nsys; i++) {
		f = find_sysctl(fresh, mine->sys[i].key) ?:
		    find_default(fresh, mine->sys[i].key);
		if (!f || !strcmp(f->value, mine->sys[i].value))
			continue;
		v = array_room(ns->sysctls, ns->nsysctls, sizeof(*v));
		if (!v)
			return -ENOMEM;
		ns->sysctls = v;
		v[ns->nsysctls].key = mine->sys[i].key;
		v[ns->nsysctls++].value = mine->sys[i].value;
		mine->sys[i].key = mine->sys[i].value = NULL;
	}
	return 0;
}

/*
 * Whether a socket's buffer size was set is judged (kernel-helpers/inet.c)
 * against these defaults as our namespace has them: the tree's must agree.
 */
static void check_buffer_defaults(const struct net_ctx *mine)
{
	static const char *const keys[] = {
		"net/ipv4/tcp_rmem", "net/ipv4/tcp_wmem",
		"net/core/rmem_default", "net/core/wmem_default",
	};
	const struct kh_sysctl *v;
	char path[64], *ours;
	size_t i, len;

	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		v = find_sysctl(mine, keys[i]);
		snprintf(path, sizeof(path), "/proc/sys/%s", keys[i]);
		if (!v || kh_read_file(path, &ours, &len))
			continue;
		while (len && ours[len - 1] == '\n')
			ours[--len] = '\0';
		if (strcmp(ours, v->value))
			snapshot_report(mine->s, "process %d: network namespace: sysctl %s is '%s' there, '%s' in ours: socket buffer defaults that differ are not supported",
					mine->root, keys[i], v->value, ours);
		free(ours);
	}
}

/* the component DEV of net/ipv4/conf/DEV/KEY (or neigh/DEV/KEY) is dev */
static bool of_dev(const char *key, const char *dev)
{
	const char *p = key;
	size_t n = strlen(dev);
	int i;

	for (i = 0; i < 3 && p; i++)
		p = strchr(p + 1, '/');
	return p && !strncmp(p + 1, dev, n) && p[1 + n] == '/';
}

/*
 * The outside end of a veth is made again with our defaults: per-device
 * sysctls set on it would be lost (its IPv6 MTU follows its MTU).
 */
static int check_outside_sysctls(struct snapshot *s, pid_t root,
				 const struct crfs_ns *ns, struct net_ctx *given)
{
	struct net_ctx ours = { .s = s, .root = root };
	const struct kh_sysctl *d;
	size_t i, k;
	int ret = 0;

	if (given && given->walked) {
		ours.sys = given->sys;
		ours.nsys = given->nsys;
		given->sys = NULL;
		given->nsys = 0;
	}
	if (!ns->nveths) {
		kh_sysctl_free(ours.sys, ours.nsys);
		return 0;
	}
	if (!ours.sys)
		ret = kh_sysctl_net(&ours.sys, &ours.nsys);
	for (i = 0; !ret && i < ours.nsys; i++)
		for (k = 0; k < ns->nveths; k++) {
			const struct kh_sysctl *v = &ours.sys[i];

			if (!of_dev(v->key, ns->veths[k].out.name) ||
			    !strcmp(strrchr(v->key, '/'), "/mtu"))
				continue;
			d = find_default(&ours, v->key);
			if (d && strcmp(d->value, v->value))
				snapshot_report(s, "process %d: network namespace: sysctl %s of the outside end of veth %s is '%s', not the default '%s': not supported",
						root, v->key, ns->veths[k].in.name,
						v->value, d->value);
		}
	kh_sysctl_free(ours.sys, ours.nsys);
	return ret;
}

/*
 * The sysctl walks of a freeze (the tree's network namespace, a fresh
 * one's defaults and, where the tree has devices, ours: some 600 files a
 * walk, 5-7 ms each here) need nothing of the stopped processes: a thread
 * makes them while the processes are captured (a final freeze of a
 * pre-copy is that much shorter), and capture_net takes what it read.
 */
static int ns_own(pid_t pid, const char *name, char **theirs);

struct net_prefetch {
	pthread_t t;
	pid_t root;
	int ret;
	struct net_ctx mine, fresh, ours;
};

static int walk_sysctls(void *arg)
{
	struct net_ctx *c = arg;

	c->walked = true;
	return kh_sysctl_net(&c->sys, &c->nsys);
}

/* a device of the tree's other than lo (a veth's outside end is ours) */
static bool has_devices(const struct net_ctx *c)
{
	static const char conf[] = "net/ipv4/conf/";
	const char *dev;
	size_t i;

	for (i = 0; i < c->nsys; i++) {
		if (strncmp(c->sys[i].key, conf, sizeof(conf) - 1))
			continue;
		dev = c->sys[i].key + sizeof(conf) - 1;
		if (strncmp(dev, "all/", 4) && strncmp(dev, "default/", 8) &&
		    strncmp(dev, "lo/", 3))
			return true;
	}
	return false;
}

static void *prefetch(void *arg)
{
	struct net_prefetch *p = arg;

	p->ret = kh_in_ns(p->root, "net", CLONE_NEWNET, walk_sysctls,
			  &p->mine);
	if (!p->ret) {
		p->ret = kh_in_ns(0, "net", CLONE_NEWNET, read_fresh, &p->fresh);
		p->fresh.walked = !p->ret;
	}
	if (!p->ret && has_devices(&p->mine))
		p->ret = walk_sysctls(&p->ours);
	return NULL;
}

void netns_prefetch_start(struct snapshot *s, pid_t root)
{
	struct net_prefetch *p;
	char *theirs;
	int own = ns_own(root, "net", &theirs);

	if (own < 0)
		return;
	free(theirs);
	if (!own)
		return;
	p = calloc(1, sizeof(*p));
	if (!p)
		return;		/* capture_net reads them itself */
	p->root = root;
	if (pthread_create(&p->t, NULL, prefetch, p)) {
		free(p);
		return;
	}
	s->netpf = p;
}

/* root's, waited for; NULL if none was started for it */
static struct net_prefetch *prefetch_take(struct snapshot *s, pid_t root)
{
	struct net_prefetch *p = s->netpf;

	if (!p || p->root != root)
		return NULL;
	pthread_join(p->t, NULL);
	s->netpf = NULL;
	return p;
}

static void prefetch_free(struct net_prefetch *p)
{
	if (!p)
		return;
	kh_sysctl_free(p->mine.sys, p->mine.nsys);
	kh_sysctl_free(p->fresh.sys, p->fresh.nsys);
	kh_sysctl_free(p->ours.sys, p->ours.nsys);
	free(p);
}

void netns_prefetch_drop(struct snapshot *s)
{
	if (s->netpf)
		prefetch_free(prefetch_take(s, s->netpf->root));
}

/* what the thread read, moved into mine and fresh (a failed walk: none) */
static void prefetch_use(struct net_prefetch *p, struct net_ctx *mine,
			 struct net_ctx *fresh)
{
	if (p->ret)
		return;
	mine->sys = p->mine.sys;
	mine->nsys = p->mine.nsys;
	mine->walked = true;
	fresh->sys = p->fresh.sys;
	fresh->nsys = p->fresh.nsys;
	fresh->rules = p->fresh.rules;
	fresh->walked = true;
	p->mine.sys = p->fresh.sys = NULL;
	p->mine.nsys = p->fresh.nsys = 0;
}

static int capture_net(struct snapshot *s, pid_t root, struct crfs_ns *ns)
{
	struct net_ctx mine = { .s = s, .root = root, .ns = ns };
	struct net_ctx fresh = { .s = s, .root = root, .ns = ns };
	struct net_prefetch *pf = prefetch_take(s, root);
	int ret;

	if (pf)
		prefetch_use(pf, &mine, &fresh);
	mine.host_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (mine.host_fd < 0) {
		ret = -errno;
		goto out;
	}
	ret = kh_in_ns(root, "net", CLONE_NEWNET, read_net, &mine);
	close(mine.host_fd);
	ret = ret ?: veth_outside(s, root, ns);
	ret = ret ?: check_outside_sysctls(s, root, ns,
					   pf && !pf->ret ? &pf->ours : NULL);
	if (!ret && !fresh.walked)
		ret = kh_in_ns(0, "net", CLONE_NEWNET, read_fresh, &fresh);
	if (!ret) {
		check_rules(&mine, &fresh);
		check_buffer_defaults(&mine);
	}
	ret = ret ?: diff_sysctls(&mine, &fresh);
out:
	kh_sysctl_free(mine.sys, mine.nsys);
	kh_sysctl_free(fresh.sys, fresh.nsys);
	prefetch_free(pf);
	return ret;
}

int capture_net_of(struct snapshot *s, pid_t pid, struct crfs_ns *ns)
{
	return capture_net(s, pid, ns);
}

static const struct ns_kind {
	const char *name;	/* /proc/PID/ns/NAME */
	int (*capture)(struct snapshot *s, pid_t root, struct crfs_ns *ns);
} ns_kinds[] = {
	{ "user", capture_user },
	{ "time", capture_time },
	{ "uts", capture_uts },
	{ "net", capture_net },
};

static const struct ns_kind *ns_kind(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ns_kinds); i++)
		if (!strcmp(ns_kinds[i].name, name))
			return &ns_kinds[i];
	return NULL;
}

/* 1 if pid's namespace is not ours, 0 if it is, or -errno */
static int ns_own(pid_t pid, const char *name, char **theirs)
{
	char path[32], *mine;
	int ret;

	snprintf(path, sizeof(path), "ns/%s", name);
	ret = kh_proc_link(getpid(), path, &mine);
	if (ret)
		return ret;
	ret = kh_proc_link(pid, path, theirs);
	if (!ret)
		ret = strcmp(mine, *theirs) != 0;
	free(mine);
	return ret;
}

bool ns_check(struct snapshot *s, pid_t pid, pid_t root, const char *name,
	      const char *theirs)
{
	char *rootns;
	bool same;

	if (!ns_kind(name) || ns_own(root, name, &rootns) < 0)
		return false;
	same = !strcmp(rootns, theirs);
	if (!same)
		snapshot_report(s, "process %d: in a %s namespace (%s) other than the root's (%s): not supported",
				pid, name, theirs, rootns);
	free(rootns);
	return true;
}

int capture_ns(struct snapshot *s, pid_t root)
{
	struct crfs_ns ns = { 0 };
	char *theirs;
	size_t i;
	int ret = 0, own, any = 0;

	for (i = 0; !ret && i < ARRAY_SIZE(ns_kinds); i++) {
		own = ns_own(root, ns_kinds[i].name, &theirs);
		if (own < 0)
			continue;	/* a kernel without that kind */
		free(theirs);
		if (own) {
			any = 1;
			ret = ns_kinds[i].capture(s, root, &ns);
		}
	}
	if (!ret)
		userns_check_owners(s, root);
	if (!ret && any)
		ret = RENDER(s, CRFS_F_NS, render_ns, &ns);
	if (!ret && ns.nft) {
		ret = snapshot_add(s, CRFS_F_NFT, E_TEXT, ns.nft, ns.nft_len, -1);
		ns.nft = NULL;
	}
	crfs_ns_free(&ns);
	return ret;
}
