// SPDX-License-Identifier: MIT
/*
 * PID/mempolicy: the mappings that have a NUMA policy of their own
 * (mbind), one line each: "START MODE FLAGS NODES", START the mapping's
 * start as in PID/maps, MODE decimal, FLAGS and NODES hex.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "crfs/format.h"

bool has_vma_policies(const struct crfs_vma *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].mpol_mode)
			return true;
	return false;
}

int render_vma_policies(struct strbuf *sb, const struct crfs_vma *v, size_t n)
{
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < n; i++)
		if (v[i].mpol_mode)
			ret = sb_printf(sb, "0x%lx %d 0x%lx 0x%lx\n",
					(unsigned long)v[i].start,
					v[i].mpol_mode,
					(unsigned long)v[i].mpol_flags,
					(unsigned long)v[i].mpol_nodes);
	return ret;
}

struct crfs_vma *vma_starting_at(struct crfs_vma *v, size_t n, uint64_t start)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].start == start)
			return &v[i];
	return NULL;
}

int parse_vma_policies(struct crfs_text *t, struct crfs_vma *v, size_t n)
{
	char line[256], *cur, *tok[4];
	uint64_t start, flags, nodes;
	struct crfs_vma *m;
	int k, mode, ret;

	while ((ret = text_next_line(t, line, sizeof(line))) > 0) {
		cur = line;
		for (k = 0; k < 4; k++)
			tok[k] = tok_next(&cur);
		if (!tok[3] || tok_next(&cur) || parse_u64(tok[0], &start) ||
		    parse_int(tok[1], &mode) || mode <= 0 ||
		    parse_u64(tok[2], &flags) || parse_u64(tok[3], &nodes))
			return text_error(t, "want 'START MODE FLAGS NODES'");
		m = vma_starting_at(v, n, start);
		if (!m)
			return text_error(t, "no mapping starts at 0x%lx in maps",
					  (unsigned long)start);
		m->mpol_mode = mode;
		m->mpol_flags = flags;
		m->mpol_nodes = nodes;
	}
	return ret;
}
