// SPDX-License-Identifier: MIT
/*
 * PID/guards: the guard pages of the process's mappings (madvise
 * MADV_GUARD_INSTALL: a touch faults with SIGSEGV, no page is there), one
 * range a line, "START END" in hex, page-aligned, in address order, none
 * overlapping the next, each inside one mapping of PID/maps that is
 * neither the vDSO nor vvar nor vsyscall (a run over two mappings is two
 * lines, which touch).  No file: no guard pages.
 */
#include <errno.h>
#include <stdlib.h>

#include "crfs/format.h"

#define PAGE_MASK_ 4095ULL

int render_guards(struct strbuf *sb, const struct crfs_guard *g, size_t n)
{
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < n; i++)
		ret = sb_printf(sb, "0x%lx 0x%lx\n", (unsigned long)g[i].start,
				(unsigned long)g[i].end);
	return ret;
}

/* the mapping [start, end) lies in, if one may hold guard pages */
static bool in_mapping(const struct crfs_vma *v, size_t nv, uint64_t start,
		       uint64_t end)
{
	size_t i;

	for (i = 0; i < nv; i++)
		if (v[i].start <= start && end <= v[i].end)
			return v[i].kind != VMA_VDSO && v[i].kind != VMA_VVAR &&
			       v[i].kind != VMA_VVAR_VCLOCK &&
			       v[i].kind != VMA_VSYSCALL;
	return false;
}

/* one line: its range, checked against the one before (prev) */
static int guard_line(struct crfs_text *t, char *cur, const struct crfs_vma *v,
		      size_t nv, uint64_t prev, bool first,
		      struct crfs_guard *g)
{
	char *a = tok_next(&cur), *b = tok_next(&cur);

	if (!b || tok_next(&cur) || parse_u64(a, &g->start) ||
	    parse_u64(b, &g->end))
		return text_error(t, "want 'START END'");
	if ((g->start | g->end) & PAGE_MASK_ || g->start >= g->end ||
	    g->end > CRFS_USER_END)
		return text_error(t, "0x%lx-0x%lx is not a range of whole pages",
				  (unsigned long)g->start, (unsigned long)g->end);
	if (!first && g->start < prev)
		return text_error(t, "0x%lx: ranges out of order or overlapping",
				  (unsigned long)g->start);
	if (!in_mapping(v, nv, g->start, g->end))
		return text_error(t, "0x%lx-0x%lx is not inside one mapping of maps that may have guard pages",
				  (unsigned long)g->start, (unsigned long)g->end);
	return 0;
}

int parse_guards(struct crfs_text *t, const struct crfs_vma *v, size_t nv,
		 struct crfs_guard **g, size_t *n)
{
	struct crfs_guard one, *ng;
	char line[128];
	int ret;

	*g = NULL;
	*n = 0;
	while ((ret = text_next_line(t, line, sizeof(line))) > 0) {
		ret = guard_line(t, line, v, nv, *n ? (*g)[*n - 1].end : 0,
				 !*n, &one);
		ng = ret ? NULL : realloc(*g, (*n + 1) * sizeof(*ng));
		if (!ng) {
			ret = ret ?: -ENOMEM;
			break;
		}
		*g = ng;
		ng[(*n)++] = one;
	}
	if (ret < 0) {
		free(*g);
		*g = NULL;
		*n = 0;
	}
	return ret;
}
