// SPDX-License-Identifier: MIT
/*
 * ns: the container's namespaces, one "key value" per line.  Repeated
 * lines (addr, sysctl) keep their order; the rest appear at most once.
 * Addresses are written as ip(8) writes them, so a person can compare.
 */
#include <errno.h>
#include <stdlib.h>
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

static int render_addr(struct strbuf *sb, const struct crfs_ns_addr *a)
{
	char txt[INET6_ADDRSTRLEN];

	if (!inet_ntop(a->family, a->addr, txt, sizeof(txt)))
		return -EINVAL;
	return sb_printf(sb, "addr %s %s/%d scope %d flags %#x\n",
			 a->family == AF_INET ? "inet" : "inet6", txt,
			 a->prefix, a->scope, a->flags);
}

static int render_net(struct strbuf *sb, const struct crfs_ns *ns)
{
	size_t i;
	int ret;

	if (!ns->net)
		return 0;
	ret = sb_printf(sb, "net 1\nlo_state %s\nlo_mtu %u\n",
			ns->lo_up ? "up" : "down", ns->lo_mtu);
	for (i = 0; !ret && i < ns->naddrs; i++)
		ret = render_addr(sb, &ns->addrs[i]);
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
	return render_uts(sb, ns) ?: render_net(sb, ns);
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

static int parse_addr(struct crfs_text *t, char *cur, struct crfs_ns *ns)
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
		return parse_addr(t, cur, ns);
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

static int parse_line(struct crfs_text *t, char *line, struct crfs_ns *ns)
{
	char *cur = line, *key = tok_next(&cur), *v;

	if (!key)
		return 0;
	if (!strcmp(key, "uts") || !strcmp(key, "net")) {
		v = tok_next(&cur);
		if (!v || strcmp(v, "1"))
			return text_error(t, "%s: want 1", key);
		*(!strcmp(key, "uts") ? &ns->uts : &ns->net) = true;
		return 0;
	}
	if (!strcmp(key, "hostname") || !strcmp(key, "domainname")) {
		v = tok_next(&cur);
		return parse_name(t, v ?: "", key[0] == 'h' ? ns->hostname :
							 ns->domainname);
	}
	return parse_net_line(t, key, cur, ns);
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
	ns->sysctls = NULL;
	ns->addrs = NULL;
	ns->nft = NULL;
	ns->naddrs = ns->nsysctls = 0;
}
