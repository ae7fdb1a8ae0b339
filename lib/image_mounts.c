// SPDX-License-Identifier: MIT
/*
 * mounts: one line per mount, fields as /proc/PID/mountinfo writes them
 * (strings escaped the same way), so `cat` reads it like mountinfo:
 *   ID PARENT MOUNTPOINT ROOT FSTYPE SOURCE OPTS SUPER PROP KIND HOST
 * KIND is host, tmpfs, fresh or bind; HOST is the host path of a host
 * mount, the id of the mount a bind is a part of, "-" for the others.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crfs/mounts.h"

static const char *const kind_names[] = {
	[CRFS_MNT_HOST] = "host",
	[CRFS_MNT_TMPFS] = "tmpfs",
	[CRFS_MNT_FRESH] = "fresh",
	[CRFS_MNT_BIND] = "bind",
};

const char *crfs_mnt_kind_name(enum crfs_mnt_kind k)
{
	return kind_names[k];
}

static int put_field(struct strbuf *sb, const char *s)
{
	return sb_printf(sb, " ") ?: sb_put_escaped(sb, s);
}

static int put_host(struct strbuf *sb, const struct crfs_mount *m)
{
	if (m->kind == CRFS_MNT_BIND)
		return sb_printf(sb, " %d", m->src);
	return m->host ? put_field(sb, m->host) : sb_printf(sb, " -");
}

static int render_one(struct strbuf *sb, const struct crfs_mount *m)
{
	return sb_printf(sb, "%d %d", m->id, m->parent) ?:
	       put_field(sb, m->mountpoint) ?: put_field(sb, m->root) ?:
	       put_field(sb, m->fstype) ?: put_field(sb, m->source) ?:
	       put_field(sb, m->opts) ?: put_field(sb, m->super) ?:
	       put_field(sb, m->prop) ?:
	       sb_printf(sb, " %s", kind_names[m->kind]) ?:
	       put_host(sb, m) ?:
	       sb_printf(sb, "\n");
}

int render_mounts(struct strbuf *sb, const struct crfs_mounts *ms)
{
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < ms->n; i++)
		ret = render_one(sb, &ms->m[i]);
	return ret;
}

static void drop_mount(void *p)
{
	struct crfs_mount *m = p;

	free(m->mountpoint);
	free(m->root);
	free(m->fstype);
	free(m->source);
	free(m->opts);
	free(m->super);
	free(m->prop);
	free(m->host);
}

static int parse_kind(const char *s, enum crfs_mnt_kind *k)
{
	size_t i;

	for (i = 0; s && i < sizeof(kind_names) / sizeof(kind_names[0]); i++)
		if (!strcmp(s, kind_names[i])) {
			*k = i;
			return 0;
		}
	return -EINVAL;
}

static int parse_one(struct crfs_text *t, char *line, void *items, size_t i)
{
	struct crfs_mount *m = (struct crfs_mount *)items + i;
	char **str[] = { &m->mountpoint, &m->root, &m->fstype, &m->source,
			 &m->opts, &m->super, &m->prop };
	char *cur = line, *tok;
	size_t k;

	if (parse_int(tok_next(&cur), &m->id) ||
	    parse_int(tok_next(&cur), &m->parent))
		return text_error(t, "bad mount id or parent");
	for (k = 0; k < sizeof(str) / sizeof(str[0]); k++) {
		tok = tok_next(&cur);
		if (!tok || unescape(tok, str[k]))
			return text_error(t, "mount %d: missing or bad field %zu",
					  m->id, k + 3);
	}
	if (parse_kind(tok_next(&cur), &m->kind))
		return text_error(t, "mount %d: bad kind", m->id);
	tok = tok_next(&cur);
	if (m->kind == CRFS_MNT_BIND) {
		if (parse_int(tok, &m->src))
			return text_error(t, "mount %d: a bind without the id of its mount",
					  m->id);
	} else if (!tok || (strcmp(tok, "-") && unescape(tok, &m->host))) {
		return text_error(t, "mount %d: bad host path", m->id);
	}
	if (m->kind == CRFS_MNT_HOST && (!m->host || m->host[0] != '/'))
		return text_error(t, "mount %d: a host mount without its host path",
				  m->id);
	if (m->mountpoint[0] != '/' || tok_next(&cur))
		return text_error(t, "mount %d: bad mount point or extra fields",
				  m->id);
	return 0;
}

int parse_mounts(struct crfs_text *t, struct crfs_mounts *ms)
{
	void *out;
	int ret = parse_lines(t, sizeof(struct crfs_mount), parse_one,
			      drop_mount, &out, &ms->n);

	if (!ret)
		ms->m = out;
	return ret;
}

void crfs_mounts_free(struct crfs_mounts *ms)
{
	size_t i;

	for (i = 0; i < ms->n; i++)
		drop_mount(&ms->m[i]);
	free(ms->m);
	ms->m = NULL;
	ms->n = 0;
}
