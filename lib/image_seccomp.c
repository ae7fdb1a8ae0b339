// SPDX-License-Identifier: MIT
/*
 * PID/task/TID/seccomp: a thread's seccomp mode and filter chain.
 *
 *	mode M			0 none, 1 strict, 2 filter (as /proc status)
 *	filters N		how many programs follow
 *	filter FLAGS LEN	per program, oldest first: its flags (hex)
 *	CODE JT JF K		and LEN instructions, fixed-width hex
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crfs/format.h"

/* The only flag the kernel reports back (PTRACE_SECCOMP_GET_METADATA) */
#define FILTER_FLAG_LOG		(1u << 1)	/* SECCOMP_FILTER_FLAG_LOG */

int render_seccomp(struct strbuf *sb, const struct crfs_thread *th)
{
	const struct crfs_bpf_insn *in;
	size_t i, k;
	int ret;

	ret = sb_printf(sb, "mode %d\nfilters %zu\n", th->seccomp_mode,
			th->nfilters);
	for (i = 0; !ret && i < th->nfilters; i++) {
		ret = sb_printf(sb, "filter 0x%x %u\n", th->filters[i].flags,
				th->filters[i].len);
		for (k = 0; !ret && k < th->filters[i].len; k++) {
			in = &th->filters[i].insns[k];
			ret = sb_printf(sb, "%04x %02x %02x %08x\n", in->code,
					in->jt, in->jf, in->k);
		}
	}
	return ret;
}

void free_seccomp(struct crfs_thread *th)
{
	size_t i;

	for (i = 0; i < th->nfilters; i++)
		free(th->filters[i].insns);
	free(th->filters);
	th->filters = NULL;
	th->nfilters = 0;
}

static int hex_field(const char *s, size_t width, uint64_t *v)
{
	char *end;

	if (!s || strlen(s) != width ||
	    strspn(s, "0123456789abcdef") != width)
		return -EINVAL;
	*v = strtoull(s, &end, 16);
	return 0;
}

static int parse_insn(struct crfs_text *t, struct crfs_bpf_insn *in)
{
	char line[64], *cur = line;
	uint64_t code, jt, jf, k;
	int ret = text_next_line(t, line, sizeof(line));

	if (ret <= 0)
		return ret ?: text_error(t, "a filter ends early");
	if (hex_field(tok_next(&cur), 4, &code) ||
	    hex_field(tok_next(&cur), 2, &jt) ||
	    hex_field(tok_next(&cur), 2, &jf) ||
	    hex_field(tok_next(&cur), 8, &k) || tok_next(&cur))
		return text_error(t, "want 'CODE JT JF K' (4, 2, 2, 8 hex digits)");
	*in = (struct crfs_bpf_insn){ (uint16_t)code, (uint8_t)jt, (uint8_t)jf,
				      (uint32_t)k };
	return 0;
}

static int parse_filter(struct crfs_text *t, struct crfs_seccomp_filter *f)
{
	char line[64], *cur = line;
	uint64_t flags, len;
	uint32_t i;
	int ret = text_next_line(t, line, sizeof(line));

	if (ret <= 0)
		return ret ?: text_error(t, "fewer filters than 'filters' says");
	if (strcmp(tok_next(&cur) ?: "", "filter") ||
	    parse_u64(tok_next(&cur), &flags) || parse_u64(tok_next(&cur), &len) ||
	    tok_next(&cur))
		return text_error(t, "want 'filter FLAGS LEN'");
	if (flags & ~(uint64_t)FILTER_FLAG_LOG)
		return text_error(t, "unknown filter flags 0x%lx", flags);
	if (!len || len > CRFS_SECCOMP_MAX_INSNS)
		return text_error(t, "filter of %lu instructions (1..%d)", len,
				  CRFS_SECCOMP_MAX_INSNS);
	f->flags = flags;
	f->insns = calloc(len, sizeof(*f->insns));
	if (!f->insns)
		return text_error(t, "out of memory");
	f->len = len;
	for (i = 0, ret = 0; !ret && i < len; i++)
		ret = parse_insn(t, &f->insns[i]);
	return ret;
}

static int parse_head(struct crfs_text *t, const char *key, uint64_t *v)
{
	char line[64], *cur = line;
	int ret = text_next_line(t, line, sizeof(line));

	if (ret <= 0)
		return ret ?: text_error(t, "no '%s' line", key);
	if (strcmp(tok_next(&cur) ?: "", key) || parse_u64(tok_next(&cur), v) ||
	    tok_next(&cur))
		return text_error(t, "want '%s N'", key);
	return 0;
}

int parse_seccomp(struct crfs_text *t, struct crfs_thread *th)
{
	char line[8];
	uint64_t mode, n;
	size_t i;
	int ret;

	ret = parse_head(t, "mode", &mode);
	ret = ret ?: parse_head(t, "filters", &n);
	if (ret)
		return ret;
	/* strict mode and filters exclude each other in the kernel */
	if (mode > 2 || (mode == 2) != (n > 0) ||
	    n > CRFS_SECCOMP_MAX_INSNS)
		return text_error(t, "mode %lu with %lu filters", mode, n);
	th->seccomp_mode = mode;
	th->filters = calloc(n ?: 1, sizeof(*th->filters));
	if (!th->filters)
		return text_error(t, "out of memory");
	th->nfilters = n;
	for (i = 0; !ret && i < n; i++)
		ret = parse_filter(t, &th->filters[i]);
	if (!ret && text_next_line(t, line, sizeof(line)) != 0)
		ret = text_error(t, "more than %lu filters", n);
	if (ret)
		free_seccomp(th);
	return ret;
}
