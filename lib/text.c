// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crfs/format.h"

void text_init(struct crfs_text *t, const char *file, const char *buf,
	       size_t len, char *err, size_t errlen)
{
	t->p = buf;
	t->end = buf + len;
	t->lineno = 0;
	t->file = file;
	t->err = err;
	t->errlen = errlen;
	if (errlen)
		err[0] = '\0';
}

int text_error(struct crfs_text *t, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (t->lineno)
		snprintf(t->err, t->errlen, "%s:%d: %s", t->file, t->lineno,
			 msg);
	else
		snprintf(t->err, t->errlen, "%s: %s", t->file, msg);
	return -EINVAL;
}

int text_next_line(struct crfs_text *t, char *line, size_t size)
{
	const char *nl;
	size_t n;

	if (t->p >= t->end)
		return 0;
	nl = memchr(t->p, '\n', t->end - t->p);
	if (!nl) {
		t->lineno++;
		return text_error(t, "last line is not terminated (truncated?)");
	}
	n = nl - t->p;
	t->lineno++;
	if (n >= size)
		return text_error(t, "line too long");
	if (memchr(t->p, '\0', n))
		return text_error(t, "NUL byte in text");
	memcpy(line, t->p, n);
	line[n] = '\0';
	t->p = nl + 1;
	return 1;
}

char *tok_next(char **cursor)
{
	char *s = *cursor, *start;

	while (*s == ' ')
		s++;
	if (!*s) {
		*cursor = s;
		return NULL;
	}
	start = s;
	while (*s && *s != ' ')
		s++;
	if (*s)
		*s++ = '\0';
	*cursor = s;
	return start;
}

/* Strict: "0x" + hex digits, or decimal digits; nothing else. */
int parse_u64(const char *s, uint64_t *v)
{
	int base = 10;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	if (s[0] == '0' && s[1] == 'x') {
		base = 16;
		s += 2;
		if (!isxdigit((unsigned char)*s))
			return -EINVAL;
	} else if (!isdigit((unsigned char)*s)) {
		return -EINVAL;
	} else if (s[0] == '0' && s[1]) {
		base = 8;
	}
	if (strspn(s, base == 16 ? "0123456789abcdefABCDEF" : base == 8 ?
		   "01234567" : "0123456789") != strlen(s))
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, base);
	if (errno || *end)
		return -EINVAL;
	return 0;
}

int parse_int(const char *s, int *v)
{
	long long x;
	char *end;

	if (!s || !(isdigit((unsigned char)*s) ||
		    (*s == '-' && isdigit((unsigned char)s[1]))))
		return -EINVAL;
	errno = 0;
	x = strtoll(s, &end, 10);
	if (errno || *end || x < -2147483648LL || x > 2147483647LL)
		return -EINVAL;
	*v = (int)x;
	return 0;
}

int unescape(const char *s, char **out)
{
	size_t len;

	return unescape_len(s, out, &len);
}

int unescape_len(const char *s, char **out, size_t *len)
{
	char *d = malloc(strlen(s) + 1), *o = d;

	if (!d)
		return -ENOMEM;
	while (*s) {
		if (*s != '\\') {
			*o++ = *s++;
			continue;
		}
		if (s[1] < '0' || s[1] > '3' || s[2] < '0' || s[2] > '7' ||
		    s[3] < '0' || s[3] > '7') {
			free(d);
			return -EINVAL;
		}
		*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + s[3] - '0');
		s += 4;
	}
	*o = '\0';
	*out = d;
	*len = o - d;
	return 0;
}

int parse_lines(struct crfs_text *t, size_t size, line_fn fn,
		void (*drop)(void *item), void **out, size_t *nout)
{
	char line[CRFS_PATH_MAX * 8 + 512];
	size_t n = 0, cap = 0;
	char *a = NULL, *na;
	int ret;

	while ((ret = text_next_line(t, line, sizeof(line))) > 0) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			na = realloc(a, cap * size);
			if (!na) {
				ret = text_error(t, "out of memory");
				break;
			}
			a = na;
		}
		memset(a + n * size, 0, size);
		ret = fn(t, line, a, n);
		n++;
		if (ret)
			break;
	}
	if (ret) {
		while (drop && n--)
			drop(a + n * size);
		free(a);
		return ret;
	}
	*out = a;
	*nout = n;
	return 0;
}

/* the n bytes the first 2n hex digits of s spell */
int parse_hex_bytes(const char *s, void *out, size_t n)
{
	unsigned char *b = out;
	unsigned v;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)s[2 * i]) ||
		    !isxdigit((unsigned char)s[2 * i + 1]) ||
		    sscanf(s + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		b[i] = v;
	}
	return 0;
}
