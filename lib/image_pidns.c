// SPDX-License-Identifier: MIT
/* The NSpid lists of attr (nspid) and task/TID/sigstate (nstid). */
#include <errno.h>

#include "crfs/format.h"

int render_nspid(struct strbuf *sb, const char *key, const pid_t *pids, int n)
{
	int i, ret = sb_printf(sb, "%s", key);

	for (i = 0; !ret && i < n; i++)
		ret = sb_printf(sb, " %d", pids[i]);
	return ret ?: sb_printf(sb, "\n");
}

/* pids > 0; none: a struct rendered without them (restore refuses it) */
int parse_nspid(struct crfs_text *t, const char *key, char *rest, pid_t *pids,
		int *n)
{
	char *v;
	int pid;

	*n = 0;
	while ((v = tok_next(&rest))) {
		if (*n == CRFS_NSPID_MAX || parse_int(v, &pid) || pid <= 0)
			return text_error(t, "bad value '%s' for key '%s'", v,
					  key);
		pids[(*n)++] = pid;
	}
	return 0;
}
