// SPDX-License-Identifier: MIT
/*
 * ns file lines of the devices made inside a network namespace (dummy,
 * bridge, veth pairs with both ends inside):
 *   dev KIND NAME index N mtu N flags 0xF mac M master NAME|- peer NAME|-
 *       link NAME|-
 *   dev_attr NAME TYPE HEX	(an IFLA_INFO_DATA attribute of NAME's)
 * Their addresses are dev_addr lines (lib/image_ns.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crfs/array.h"
#include "crfs/ns.h"

static int render_dev_attr(struct strbuf *sb, const char *dev,
		       const struct crfs_ns_dev_attr *a)
{
	size_t i;
	int ret = sb_printf(sb, "dev_attr %s %d ", dev, a->type);

	for (i = 0; !ret && i < a->len; i++)
		ret = sb_printf(sb, "%02x", a->val[i]);
	return ret ?: sb_printf(sb, "%s\n", a->len ? "" : "-");
}

static int render_dev(struct strbuf *sb, const struct crfs_ns_dev *d)
{
	const unsigned char *m = d->mac;
	size_t i;
	int ret;

	ret = sb_printf(sb, "dev %s %s index %d mtu %u flags %#x mac %02x:%02x:%02x:%02x:%02x:%02x master %s peer %s link %s\n",
			d->kind, d->name, d->index, d->mtu, d->flags, m[0],
			m[1], m[2], m[3], m[4], m[5],
			d->master[0] ? d->master : "-",
			d->peer[0] ? d->peer : "-", d->link[0] ? d->link : "-");
	for (i = 0; !ret && i < d->nattrs; i++)
		ret = render_dev_attr(sb, d->name, &d->attrs[i]);
	return ret;
}

int render_ns_devs(struct strbuf *sb, const struct crfs_ns *ns)
{
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < ns->ndevs; i++)
		ret = render_dev(sb, &ns->devs[i]);
	return ret;
}

/* a device name as the kernel takes it: at most 15 bytes, no '/' */
static bool name_ok(const char *s, char *dst, bool dash_none)
{
	size_t n = strlen(s);

	if (dash_none && !strcmp(s, "-")) {
		dst[0] = '\0';
		return true;
	}
	if (!n || n > 15 || strchr(s, '/') || !strcmp(s, ".") ||
	    !strcmp(s, ".."))
		return false;
	memcpy(dst, s, n + 1);
	return true;
}

/* "KEY VALUE": the value, or NULL if the key is not key */
static char *keyed(char **cur, const char *key)
{
	char *k = tok_next(cur), *v = tok_next(cur);

	return k && v && !strcmp(k, key) ? v : NULL;
}

static int parse_dev(struct crfs_text *t, char *cur, struct crfs_ns *ns)
{
	char *kind = tok_next(&cur), *name = tok_next(&cur), *v;
	struct crfs_ns_dev *d, x = { 0 };
	unsigned int m[6];
	uint64_t flags;
	int n, i;

	if (!kind || strlen(kind) >= sizeof(x.kind) || !name ||
	    !name_ok(name, x.name, false))
		goto bad;
	strcpy(x.kind, kind);
	if (!(v = keyed(&cur, "index")) || parse_int(v, &x.index) ||
	    x.index < 0 || !(v = keyed(&cur, "mtu")) || parse_int(v, &n) ||
	    n <= 0 || !(v = keyed(&cur, "flags")) || parse_u64(v, &flags) ||
	    flags & ~(uint64_t)CRFS_NS_DEV_FLAGS || !(v = keyed(&cur, "mac")) ||
	    sscanf(v, "%2x:%2x:%2x:%2x:%2x:%2x", &m[0], &m[1], &m[2], &m[3],
		   &m[4], &m[5]) != 6 || strlen(v) != 17 ||
	    !(v = keyed(&cur, "master")) || !name_ok(v, x.master, true) ||
	    !(v = keyed(&cur, "peer")) || !name_ok(v, x.peer, true) ||
	    !(v = keyed(&cur, "link")) || !name_ok(v, x.link, true) ||
	    tok_next(&cur))
		goto bad;
	x.mtu = n;
	x.flags = flags;
	for (i = 0; i < 6; i++)
		x.mac[i] = m[i];
	d = array_room(ns->devs, ns->ndevs, sizeof(*d));
	if (!d)
		return -ENOMEM;
	ns->devs = d;
	d[ns->ndevs++] = x;
	return 0;
bad:
	return text_error(t, "dev: want 'KIND NAME index N mtu N flags 0xF mac M master NAME|- peer NAME|- link NAME|-'");
}

static int parse_hex(const char *s, struct crfs_ns_dev_attr *a)
{
	size_t n = strlen(s), i;
	unsigned int b;

	if (!strcmp(s, "-"))
		return 0;
	if (n % 2 || n / 2 > sizeof(a->val))
		return -EINVAL;
	for (i = 0; i < n / 2; i++) {
		if (sscanf(s + 2 * i, "%2x", &b) != 1)
			return -EINVAL;
		a->val[i] = b;
	}
	a->len = n / 2;
	return 0;
}

static int parse_dev_attr(struct crfs_text *t, char *cur, struct crfs_ns *ns)
{
	char *name = tok_next(&cur), *type = tok_next(&cur);
	char *hex = tok_next(&cur);
	struct crfs_ns_dev_attr x = { 0 }, *a;
	struct crfs_ns_dev *d = NULL;
	size_t i;

	for (i = 0; name && i < ns->ndevs; i++)
		if (!strcmp(ns->devs[i].name, name))
			d = &ns->devs[i];
	if (!d)
		return text_error(t, "dev_attr: %s is no dev line before it",
				  name ?: "-");
	if (!type || parse_int(type, &x.type) || x.type <= 0 ||
	    x.type > 0x3fff || !hex || parse_hex(hex, &x) || tok_next(&cur))
		return text_error(t, "dev_attr: want 'NAME TYPE HEX'");
	a = array_room(d->attrs, d->nattrs, sizeof(*a));
	if (!a)
		return -ENOMEM;
	d->attrs = a;
	a[d->nattrs++] = x;
	return 0;
}

/* 1 for a key that is not one of ours */
int parse_ns_dev_line(struct crfs_text *t, const char *key, char *cur,
		      struct crfs_ns *ns)
{
	if (!strcmp(key, "dev"))
		return parse_dev(t, cur, ns);
	if (!strcmp(key, "dev_attr"))
		return parse_dev_attr(t, cur, ns);
	return 1;
}

void crfs_ns_devs_free(struct crfs_ns *ns)
{
	size_t i;

	for (i = 0; i < ns->ndevs; i++)
		free(ns->devs[i].attrs);
	free(ns->devs);
	ns->devs = NULL;
	ns->ndevs = 0;
}

const struct crfs_ns_dev *crfs_ns_dev_by_name(const struct crfs_ns *ns,
					      const char *name)
{
	size_t i;

	for (i = 0; i < ns->ndevs; i++)
		if (!strcmp(ns->devs[i].name, name))
			return &ns->devs[i];
	return NULL;
}
