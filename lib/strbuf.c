// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crfs/format.h"

void sb_init(struct strbuf *sb)
{
	sb->buf = NULL;
	sb->len = 0;
	sb->cap = 0;
}

void sb_free(struct strbuf *sb)
{
	free(sb->buf);
	sb_init(sb);
}

static int sb_grow(struct strbuf *sb, size_t need)
{
	size_t cap = sb->cap ? sb->cap : 256;
	char *n;

	if (sb->len + need + 1 <= sb->cap)
		return 0;
	while (cap < sb->len + need + 1)
		cap *= 2;
	n = realloc(sb->buf, cap);
	if (!n)
		return -ENOMEM;
	sb->buf = n;
	sb->cap = cap;
	return 0;
}

int sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if (sb_grow(sb, n))
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, n + 1, fmt, ap);
	va_end(ap);
	sb->len += n;
	return 0;
}

static bool needs_escape(unsigned char c)
{
	return c <= ' ' || c == '\\' || c >= 0x7f;
}

int sb_put_escaped(struct strbuf *sb, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!*p)
		return sb_printf(sb, "\\000");
	for (; *p; p++) {
		int ret = needs_escape(*p) ? sb_printf(sb, "\\%03o", *p) :
					     sb_printf(sb, "%c", *p);
		if (ret)
			return ret;
	}
	return 0;
}

/* n bytes, NULs included (as \000) */
int sb_put_escaped_len(struct strbuf *sb, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i;
	int ret = n ? 0 : sb_printf(sb, "\\000");

	for (i = 0; !ret && i < n; i++)
		ret = p[i] && !needs_escape(p[i]) ? sb_printf(sb, "%c", p[i]) :
		      sb_printf(sb, "\\%03o", p[i]);
	return ret;
}

char *sb_steal(struct strbuf *sb, size_t *len)
{
	char *b = sb->buf;

	if (!b)
		b = calloc(1, 1);
	if (len)
		*len = sb->len;
	sb_init(sb);
	return b;
}
