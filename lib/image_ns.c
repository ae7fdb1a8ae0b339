// SPDX-License-Identifier: MIT
/*
 * ns: the container's namespaces, one "key value" per line.  Repeated
 * lines (addr, sysctl) keep their order; the rest appear at most once.
 * Addresses are written as ip(8) writes them, so a person can compare.
 */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "crfs/ns.h"
#include "crfs/array.h"

static int render_uts(struct strbuf *sb, const struct crfs_ns *ns)
{
	if (!ns->uts)
		return 0;
	return sb_printf(sb, "uts 1\nhostname ") ?:
	       sb_put_escaped(sb, ns->hostname) ?:
	       sb_printf(sb, "\ndomainname ") ?:
	       sb_put_escaped(sb, ns->domainname) ?: sb_printf(sb, "\n");
}

static int render_idmap(struct strbuf *sb, const char *key,
		       const struct crfs_ns_idmap *m, size_t n)
{
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < n; i++)
		ret = sb_printf(sb, "%s %u %u %u\n", key, m[i].inside,
				m[i].outside, m[i].count);
	return ret;
}

static int render_user(struct strbuf *sb, const struct crfs_ns *ns)
{
	if (!ns->user)
		return 0;
	return sb_printf(sb, "user 1\nuser_owner %u\nsetgroups %s\n",
			 ns->user_owner,
			 ns->setgroups_deny ? "deny" : "allow") ?:
	       render_idmap(sb, "uid_map", ns->uid_map, ns->nuid_map) ?:
	       render_idmap(sb, "gid_map", ns->gid_map, ns->ngid_map);
}

static int render_time(struct strbuf *sb, const struct crfs_ns *ns)
{
	if (!ns->time)
		return 0;
	return sb_printf(sb, "time 1\nmonotonic %lld %ld\nboottime %lld %ld\n",
			 ns->monotonic.sec, ns->monotonic.nsec,
			 ns->boottime.sec, ns->boottime.nsec);
}

static int render_addr(struct strbuf *sb, const struct crfs_ns_addr *a)
{
	char txt[INET6_ADDRSTRLEN];

	if (!inet_ntop(a->family, a->addr, txt, sizeof(txt)))
		return -EINVAL;
	if (a->dev[0])
		return sb_printf(sb, "%s %s %s %s/%d scope %d flags %#x\n",
				 a->on_dev ? "dev_addr" : a->outside ?
				 "peer_addr" : "veth_addr", a->dev,
				 a->family == AF_INET ? "inet" : "inet6", txt,
				 a->prefix, a->scope, a->flags);
	return sb_printf(sb, "addr %s %s/%d scope %d flags %#x\n",
			 a->family == AF_INET ? "inet" : "inet6", txt,
			 a->prefix, a->scope, a->flags);
}

static int render_link(struct strbuf *sb, const char *pfx,
		       const struct crfs_ns_link *l)
{
	const unsigned char *m = l->mac;

	return sb_printf(sb, " %sname %s %smtu %u %sstate %s %smac %02x:%02x:%02x:%02x:%02x:%02x",
			 pfx, l->name, pfx, l->mtu, pfx, l->up ? "up" : "down",
			 pfx, m[0], m[1], m[2], m[3], m[4], m[5]);
}

static int render_veth(struct strbuf *sb, const struct crfs_ns_veth *v)
{
	return sb_printf(sb, "veth") ?: render_link(sb, "", &v->in) ?:
	       render_link(sb, "peer_", &v->out) ?:
	       sb_printf(sb, " peer_master %s\n",
			 v->out.master[0] ? v->out.master : "-");
}

static int put_ip(struct strbuf *sb, const char *key, int family,
		  const unsigned char *a, bool has)
{
	char txt[INET6_ADDRSTRLEN];

	if (!has)
		return sb_printf(sb, " %s -", key);
	if (!inet_ntop(family, a, txt, sizeof(txt)))
		return -EINVAL;
	return sb_printf(sb, " %s %s", key, txt);
}

static int render_route(struct strbuf *sb, const struct crfs_ns_route *r)
{
	char txt[INET6_ADDRSTRLEN];

	if (!inet_ntop(r->family, r->dst, txt, sizeof(txt)))
		return -EINVAL;
	return sb_printf(sb, "route %s %s/%d",
			 r->family == AF_INET ? "inet" : "inet6", txt,
			 r->dst_len) ?:
	       put_ip(sb, "via", r->family, r->gateway, r->has_gateway) ?:
	       put_ip(sb, "src", r->family, r->prefsrc, r->has_prefsrc) ?:
	       sb_printf(sb, " dev %s metric %u scope %d proto %d\n",
			 r->dev[0] ? r->dev : "-", r->metric, r->scope,
			 r->protocol);
}

static int render_net(struct strbuf *sb, const struct crfs_ns *ns)
{
	size_t i;
	int ret;

	if (!ns->net)
		return 0;
	ret = sb_printf(sb, "net 1\nlo_state %s\nlo_mtu %u\n",
			ns->lo_up ? "up" : "down", ns->lo_mtu);
	for (i = 0; !ret && i < ns->nveths; i++)
		ret = render_veth(sb, &ns->veths[i]);
	ret = ret ?: render_ns_devs(sb, ns);
	for (i = 0; !ret && i < ns->naddrs; i++)
		ret = render_addr(sb, &ns->addrs[i]);
	for (i = 0; !ret && i < ns->nroutes; i++)
		ret = render_route(sb, &ns->routes[i]);
	for (i = 0; !ret && i < ns->nsysctls; i++)
		ret = sb_printf(sb, "sysctl ") ?:
		      sb_put_escaped(sb, ns->sysctls[i].key) ?:
		      sb_printf(sb, " ") ?:
		      sb_put_escaped(sb, ns->sysctls[i].value) ?:
		      sb_printf(sb, "\n");
	return ret;
}

int render_ns(struct strbuf *sb, const struct crfs_ns *ns)
{
	return render_user(sb, ns) ?: render_time(sb, ns) ?:
	       render_uts(sb, ns) ?:
	       render_net(sb, ns);
}

static int parse_name(struct crfs_text *t, char *val, char *dst)
{
	char *s;
	int ret = unescape(val, &s);

	if (ret)
		return text_error(t, "bad name");
	if (strlen(s) > CRFS_NS_NAME_LEN) {
		free(s);
		return text_error(t, "name longer than %d bytes",
				  CRFS_NS_NAME_LEN);
	}
	strcpy(dst, s);
	free(s);
	return 0;
}

/* a device name as the kernel takes it (IFNAMSIZ, no '/' or space) */
static bool dev_name(const char *s, char *dst)
{
	size_t n = strlen(s);

	if (n > 15 || strchr(s, '/') || strchr(s, ' ') || !strcmp(s, ".") ||
	    !strcmp(s, ".."))
		return false;
	memcpy(dst, s, n + 1);
	return true;
}

static int parse_mac(const char *s, unsigned char *m)
{
	unsigned int v[6];
	char end;
	int i;

	if (!s || sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3],
			 &v[4], &v[5], &end) != 6)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		if (v[i] > 255)
			return -EINVAL;
		m[i] = v[i];
	}
	return 0;
}

/* "[peer_]name N [peer_]mtu N [peer_]state up|down [peer_]mac M" */
static int parse_link(char **cur, const char *pfx, struct crfs_ns_link *l)
{
	static const char *const keys[] = { "name", "mtu", "state", "mac" };
	char *k, *v, want[16];
	int i, n;

	for (i = 0; i < 4; i++) {
		k = tok_next(cur);
		v = tok_next(cur);
		snprintf(want, sizeof(want), "%s%s", pfx, keys[i]);
		if (!k || !v || strcmp(k, want))
			return -EINVAL;
		if ((i == 0 && !(dev_name(v, l->name) && *v)) ||
		    (i == 1 && (parse_int(v, &n) || n <= 0)) ||
		    (i == 2 && strcmp(v, "up") && strcmp(v, "down")) ||
		    (i == 3 && parse_mac(v, l->mac)))
			return -EINVAL;
		if (i == 1)
			l->mtu = n;
		if (i == 2)
			l->up = !strcmp(v, "up");
	}
	return 0;
}

static int parse_veth(struct crfs_text *t, char *cur, struct crfs_ns *ns)
{
	struct crfs_ns_veth *v, x = { 0 };
	char *k, *m;

	if (parse_link(&cur, "", &x.in) || parse_link(&cur, "peer_", &x.out) ||
	    !(k = tok_next(&cur)) || strcmp(k, "peer_master") ||
	    !(m = tok_next(&cur)) || tok_next(&cur) ||
	    (strcmp(m, "-") && !dev_name(m, x.out.master)))
		return text_error(t, "veth: want 'name N mtu N state S mac M' and the same with peer_, then peer_master NAME|-");
	v = array_room(ns->veths, ns->nveths, sizeof(*v));
	if (!v)
		return -ENOMEM;
	ns->veths = v;
	v[ns->nveths++] = x;
	return 0;
}

/* "KEY ADDR" or "KEY -" */
static int get_ip(char **cur, const char *key, int family, unsigned char *a,
		  bool *has)
{
	char *k = tok_next(cur), *v = tok_next(cur);

	if (!k || !v || strcmp(k, key))
		return -EINVAL;
	*has = strcmp(v, "-") != 0;
	return *has && inet_pton(family, v, a) != 1 ? -EINVAL : 0;
}

static int get_num(char **cur, const char *key, int *v, int max)
{
	char *k = tok_next(cur), *s = tok_next(cur);

	return !k || !s || strcmp(k, key) || parse_int(s, v) || *v < 0 ||
	       *v > max ? -EINVAL : 0;
}

static int parse_route(struct crfs_text *t, char *cur, struct crfs_ns *ns)
{
	char *fam = tok_next(&cur), *d = tok_next(&cur), *slash, *k, *dev;
	struct crfs_ns_route *r, x = { 0 };
	int metric;

	x.family = !fam ? -1 : !strcmp(fam, "inet") ? AF_INET :
		   !strcmp(fam, "inet6") ? AF_INET6 : -1;
	if (x.family < 0 || !d || !(slash = strchr(d, '/')))
		goto bad;
	*slash = '\0';
	if (inet_pton(x.family, d, x.dst) != 1 ||
	    parse_int(slash + 1, &x.dst_len) || x.dst_len < 0 ||
	    x.dst_len > (x.family == AF_INET ? 32 : 128) ||
	    get_ip(&cur, "via", x.family, x.gateway, &x.has_gateway) ||
	    get_ip(&cur, "src", x.family, x.prefsrc, &x.has_prefsrc) ||
	    !(k = tok_next(&cur)) || strcmp(k, "dev") ||
	    !(dev = tok_next(&cur)) ||
	    (strcmp(dev, "-") && !dev_name(dev, x.dev)) ||
	    get_num(&cur, "metric", &metric, 0x7fffffff) ||
	    get_num(&cur, "scope", &x.scope, 255) ||
	    get_num(&cur, "proto", &x.protocol, 255) || tok_next(&cur))
		goto bad;
	x.metric = metric;
	r = array_room(ns->routes, ns->nroutes, sizeof(*r));
	if (!r)
		return -ENOMEM;
	ns->routes = r;
	r[ns->nroutes++] = x;
	return 0;
bad:
	return text_error(t, "route: want 'inet|inet6 DST/LEN via GW|- src ADDR|- dev DEV|- metric N scope N proto N'");
}

static int parse_addr(struct crfs_text *t, char *cur, struct crfs_ns *ns,
		      const char *dev, bool outside)
{
	char *fam = tok_next(&cur), *a = tok_next(&cur), *slash;
	char *sk = tok_next(&cur), *sv = tok_next(&cur);
	char *fk = tok_next(&cur), *fv = tok_next(&cur);
	struct crfs_ns_addr *na, x = { 0 };
	uint64_t flags;
	int max;

	if (!fam || !a || !(slash = strchr(a, '/')) || !sk || !fk ||
	    strcmp(sk, "scope") || strcmp(fk, "flags") || tok_next(&cur) ||
	    !sv || parse_int(sv, &x.scope) || x.scope < 0 || x.scope > 255 ||
	    !fv || parse_u64(fv, &flags) || flags > 0xffffffffu)
		return text_error(t, "addr: want 'inet|inet6 ADDR/PREFIX scope N flags 0xF'");
	x.flags = flags;
	if (!dev_name(dev, x.dev))
		return text_error(t, "addr: bad device name");
	x.outside = outside;
	*slash = '\0';
	x.family = !strcmp(fam, "inet") ? AF_INET :
		   !strcmp(fam, "inet6") ? AF_INET6 : -1;
	max = x.family == AF_INET ? 32 : 128;
	if (x.family < 0 || inet_pton(x.family, a, x.addr) != 1 ||
	    parse_int(slash + 1, &x.prefix) || x.prefix < 0 ||
	    x.prefix > max)
		return text_error(t, "addr: bad address %s/%s", a, slash + 1);
	na = array_room(ns->addrs, ns->naddrs, sizeof(*na));
	if (!na)
		return -ENOMEM;
	ns->addrs = na;
	na[ns->naddrs++] = x;
	return 0;
}

static int parse_sysctl(struct crfs_text *t, char *cur, struct crfs_ns *ns)
{
	char *k = tok_next(&cur), *v = tok_next(&cur);
	struct crfs_ns_sysctl *s, x = { 0 };

	/* an empty value is an empty token */
	if (!k || unescape(v ?: "", &x.value) || unescape(k, &x.key) ||
	    strstr(x.key, "..") || x.key[0] == '/') {
		free(x.key);
		free(x.value);
		return text_error(t, "sysctl: want 'KEY VALUE'");
	}
	s = array_room(ns->sysctls, ns->nsysctls, sizeof(*s));
	if (!s) {
		free(x.key);
		free(x.value);
		return -ENOMEM;
	}
	ns->sysctls = s;
	s[ns->nsysctls++] = x;
	return 0;
}

static int parse_net_line(struct crfs_text *t, const char *key, char *cur,
			  struct crfs_ns *ns)
{
	char *v;
	int n;

	if (!strcmp(key, "addr"))
		return parse_addr(t, cur, ns, "", false);
	if (!strcmp(key, "veth"))
		return parse_veth(t, cur, ns);
	if (!strcmp(key, "route"))
		return parse_route(t, cur, ns);
	if (!strcmp(key, "veth_addr") || !strcmp(key, "peer_addr") ||
	    !strcmp(key, "dev_addr")) {
		v = tok_next(&cur);
		if (!v)
			return text_error(t, "%s: want 'DEV ...'", key);
		n = parse_addr(t, cur, ns, v, key[0] == 'p');
		if (!n && key[0] == 'd')
			ns->addrs[ns->naddrs - 1].on_dev = true;
		return n;
	}
	n = parse_ns_dev_line(t, key, cur, ns);
	if (n <= 0)
		return n;
	if (!strcmp(key, "sysctl"))
		return parse_sysctl(t, cur, ns);
	v = tok_next(&cur);
	if (!strcmp(key, "lo_state") && v && (!strcmp(v, "up") ||
					      !strcmp(v, "down"))) {
		ns->lo_up = !strcmp(v, "up");
		return 0;
	}
	if (!strcmp(key, "lo_mtu") && v && !parse_int(v, &n) && n > 0) {
		ns->lo_mtu = n;
		return 0;
	}
	return text_error(t, "unknown key or bad value: %s", key);
}

/* "SEC NSEC": a clock's offset, seconds may be negative */
static int parse_offset(struct crfs_text *t, const char *key, char *cur,
			struct crfs_ns_offset *o)
{
	char end;

	if (sscanf(cur, "%lld %ld %c", &o->sec, &o->nsec, &end) != 2 ||
	    o->nsec < 0 || o->nsec > 999999999)
		return text_error(t, "%s: want 'SEC NSEC'", key);
	return 0;
}

/* "INSIDE OUTSIDE COUNT": one extent, neither range past 2^32 */
static int parse_map(struct crfs_text *t, const char *key, char *cur,
		     struct crfs_ns_idmap *m, size_t *n)
{
	unsigned long long in, out, count;
	char end;

	if (*n == CRFS_NS_MAX_EXTENTS)
		return text_error(t, "%s: more than %d lines", key,
				  CRFS_NS_MAX_EXTENTS);
	if (sscanf(cur, "%llu %llu %llu %c", &in, &out, &count, &end) != 3 ||
	    !count || in >= 1ULL << 32 || out >= 1ULL << 32 ||
	    count > 1ULL << 32 || in + count > 1ULL << 32 ||
	    out + count > 1ULL << 32 || strchr(cur, '-'))
		return text_error(t, "%s: want 'INSIDE OUTSIDE COUNT'", key);
	m[(*n)++] = (struct crfs_ns_idmap){ in, out, count };
	return 0;
}

static int parse_user_line(struct crfs_text *t, const char *key, char *cur,
			   struct crfs_ns *ns)
{
	uint64_t n;
	char *v;

	if (!strcmp(key, "uid_map"))
		return parse_map(t, key, cur, ns->uid_map, &ns->nuid_map);
	if (!strcmp(key, "gid_map"))
		return parse_map(t, key, cur, ns->gid_map, &ns->ngid_map);
	if (strcmp(key, "setgroups") && strcmp(key, "user_owner"))
		return parse_net_line(t, key, cur, ns);
	v = tok_next(&cur);
	if (!strcmp(key, "setgroups") && v &&
	    (!strcmp(v, "allow") || !strcmp(v, "deny"))) {
		ns->setgroups_deny = !strcmp(v, "deny");
		return 0;
	}
	if (!strcmp(key, "user_owner") && v && !parse_u64(v, &n) &&
	    n <= 0xffffffffu) {
		ns->user_owner = n;
		return 0;
	}
	return text_error(t, "%s: bad value", key);
}

/* the "KIND 1" line of each namespace kind */
static bool *kind_flag(struct crfs_ns *ns, const char *key)
{
	return !strcmp(key, "user") ? &ns->user :
	       !strcmp(key, "time") ? &ns->time : !strcmp(key, "uts") ?
	       &ns->uts : !strcmp(key, "net") ? &ns->net : NULL;
}

static int parse_line(struct crfs_text *t, char *line, struct crfs_ns *ns)
{
	char *cur = line, *key = tok_next(&cur), *v;
	bool *flag;

	if (!key)
		return 0;
	flag = kind_flag(ns, key);
	if (flag) {
		v = tok_next(&cur);
		if (!v || strcmp(v, "1"))
			return text_error(t, "%s: want 1", key);
		*flag = true;
		return 0;
	}
	if (!strcmp(key, "monotonic") || !strcmp(key, "boottime"))
		return parse_offset(t, key, cur, key[0] == 'm' ?
				    &ns->monotonic : &ns->boottime);
	if (!strcmp(key, "hostname") || !strcmp(key, "domainname")) {
		v = tok_next(&cur);
		return parse_name(t, v ?: "", key[0] == 'h' ? ns->hostname :
							 ns->domainname);
	}
	return parse_user_line(t, key, cur, ns);
}

int parse_ns(struct crfs_text *t, struct crfs_ns *ns)
{
	char line[8192];
	int ret = 0, more;

	memset(ns, 0, sizeof(*ns));
	while (!ret && (more = text_next_line(t, line, sizeof(line))) > 0)
		ret = parse_line(t, line, ns);
	if (!ret && more < 0)
		ret = more;
	if (ret)
		crfs_ns_free(ns);
	return ret;
}

void crfs_ns_free(struct crfs_ns *ns)
{
	size_t i;

	for (i = 0; i < ns->nsysctls; i++) {
		free(ns->sysctls[i].key);
		free(ns->sysctls[i].value);
	}
	free(ns->sysctls);
	free(ns->addrs);
	free(ns->nft);
	free(ns->veths);
	free(ns->routes);
	crfs_ns_devs_free(ns);
	ns->routes = NULL;
	ns->nroutes = 0;
	ns->veths = NULL;
	ns->nveths = 0;
	ns->sysctls = NULL;
	ns->addrs = NULL;
	ns->nft = NULL;
	ns->naddrs = ns->nsysctls = 0;
}

int crfs_idmap_inside(const struct crfs_ns_idmap *m, size_t n, uint32_t outside,
		      uint32_t *inside)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (outside >= m[i].outside &&
		    outside - m[i].outside < m[i].count) {
			*inside = m[i].inside + (outside - m[i].outside);
			return 0;
		}
	return -ENOENT;
}
