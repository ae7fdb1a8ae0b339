/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the unit tests.  Header only: the Makefile compiles
 * every tests/unit/ *.c into one binary, so everything here is static inline.
 */
#ifndef CRFS_UNIT_H
#define CRFS_UNIT_H

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crfs/format.h"

#define UT_ERR_LEN	512
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* A crfs_text over a NUL-terminated string, with its message buffer. */
struct ut_text {
	struct crfs_text t;
	char err[UT_ERR_LEN];
};

static inline struct crfs_text *ut_text(struct ut_text *ut, const char *file,
					 const char *s)
{
	text_init(&ut->t, file, s, strlen(s), ut->err, sizeof(ut->err));
	return &ut->t;
}

/* Takes the text out of sb, NUL-terminated, and checks it is what len says. */
static inline char *ut_steal(struct strbuf *sb)
{
	size_t len;
	char *s = sb_steal(sb, &len);

	cr_assert_not_null(s);
	cr_assert_eq(strlen(s), len, "strbuf length %zu, text length %zu",
		     len, strlen(s));
	return s;
}

/* A parse failed as it should: -EINVAL, and a message naming file and why. */
static inline void ut_expect_einval(int ret, const struct ut_text *ut,
				    const char *file, const char *why)
{
	cr_assert_eq(ret, -EINVAL, "%s: want -EINVAL, got %d (message '%s')",
		     file, ret, ut->err);
	cr_assert(strstr(ut->err, file), "message '%s' does not name '%s'",
		  ut->err, file);
	if (why)
		cr_assert(strstr(ut->err, why),
			  "message '%s' does not mention '%s'", ut->err, why);
}

static inline char *ut_strdup(const char *s)
{
	char *d = strdup(s);

	cr_assert_not_null(d);
	return d;
}

/*
 * A copy of text where the first line starting with prefix is replaced by
 * repl (a whole line, without its newline) or dropped if repl is NULL.
 */
static inline char *ut_edit_line(const char *text, const char *prefix,
				 const char *repl)
{
	size_t plen = strlen(prefix), rlen = repl ? strlen(repl) + 1 : 0;
	const char *line = text, *next;
	char *out;

	for (;;) {
		cr_assert(*line, "no line starting with '%s' in:\n%s", prefix,
			  text);
		next = strchr(line, '\n');
		next = next ? next + 1 : line + strlen(line);
		if (!strncmp(line, prefix, plen))
			break;
		line = next;
	}
	out = malloc(strlen(text) + rlen + 1);
	cr_assert_not_null(out);
	memcpy(out, text, line - text);
	out[line - text] = '\0';
	if (repl) {
		strcat(out, repl);
		strcat(out, "\n");
	}
	strcat(out, next);
	return out;
}

static inline char *ut_concat(const char *a, const char *b)
{
	char *out = malloc(strlen(a) + strlen(b) + 1);

	cr_assert_not_null(out);
	strcpy(out, a);
	strcat(out, b);
	return out;
}

/* Small deterministic generator so that failures reproduce. */
static inline uint64_t ut_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

static inline void ut_fill(void *buf, size_t len, uint64_t seed)
{
	unsigned char *p = buf;
	size_t i;

	if (!seed)
		seed = 1;	/* xorshift is stuck at zero */
	for (i = 0; i < len; i++)
		p[i] = (unsigned char)ut_rand(&seed);
}

#endif
