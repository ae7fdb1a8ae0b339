// SPDX-License-Identifier: MIT
/* netns_sub: "PID N", a process of the tree and its network namespace */
#include <errno.h>
#include <stdlib.h>

#include "crfs/netns_sub.h"

int render_netns_sub(struct strbuf *sb, const struct crfs_netns_member *m,
		     size_t n)
{
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < n; i++)
		ret = sb_printf(sb, "%d %u\n", m[i].pid, m[i].idx);
	return ret;
}

static int member_line(struct crfs_text *t, char *line, void *items, size_t i)
{
	struct crfs_netns_member *m = (struct crfs_netns_member *)items + i;
	char *rest = line, *p = tok_next(&rest), *n = tok_next(&rest);
	int pid, idx;

	if (!p || !n || tok_next(&rest) || parse_int(p, &pid) || pid <= 0 ||
	    parse_int(n, &idx) || idx < 1 || idx > CRFS_NETNS_SUB_MAX)
		return text_error(t, "bad line '%s' (want PID N, N 1..%d)",
				  line, CRFS_NETNS_SUB_MAX);
	m->pid = pid;
	m->idx = idx;
	return 0;
}

int parse_netns_sub(struct crfs_text *t, struct crfs_netns_member **m,
		    size_t *n)
{
	return parse_lines(t, sizeof(**m), member_line, NULL, (void **)m, n);
}
