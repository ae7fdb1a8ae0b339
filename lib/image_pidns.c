// SPDX-License-Identifier: MIT
/*
 * The NSpid lists of attr (nspid) and task/TID/sigstate (nstid); the kinds
 * of namespace a namespace file (files: kind ns) may be of.
 */
#include <errno.h>
#include <string.h>

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

bool ns_kind_known(const char *kind)
{
	static const char *const kinds[] = {
		"net", "uts", "ipc", "pid", "time", "mnt", "cgroup", "user",
	};
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kind, kinds[i]))
			return true;
	return false;
}
