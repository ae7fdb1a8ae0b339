// SPDX-License-Identifier: MIT
/*
 * A namespace of the tree kept alive by a bind mount of its file
 * (`ip netns add`, `unshare --net=FILE`): restore makes the tree's
 * namespaces anew, and the mount would go on naming the old one.  Refused
 * by name; an nsfs mount of a namespace no process of the tree is in
 * belongs to the host and is left alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snapshot.h"

/* is ino a namespace of kind some process of the tree is in, not ours? */
static bool of_tree(const pid_t *procs, int n, const char *kind,
		    unsigned int ino)
{
	unsigned int mine, theirs;
	int i;

	if (kh_ns_ino(getpid(), kind, &mine) || mine == ino)
		return false;
	for (i = 0; i < n; i++)
		if (!kh_ns_ino(procs[i], kind, &theirs) && theirs == ino)
			return true;
	return false;
}

static void check_line(struct snapshot *s, const pid_t *procs, int n,
		       const char *line)
{
	char root[64], mp[4096], kind[8];
	const char *dash = strstr(line, " - nsfs ");
	unsigned int ino;

	if (!dash || sscanf(line, "%*s %*s %*s %63s %4095s", root, mp) != 2 ||
	    sscanf(root, "%7[a-z]:[%u]", kind, &ino) != 2)
		return;
	if (ns_kind_known(kind) && of_tree(procs, n, kind, ino))
		snapshot_report(s, "process %d: its %s namespace (%s) is bind-mounted at %s: a namespace kept alive by a bind mount is not supported",
				procs[0], kind, root, mp);
}

void check_ns_mounts(struct snapshot *s, const pid_t *procs, int n)
{
	char path[64], *buf, *line, *cur;

	if (!n)
		return;
	snprintf(path, sizeof(path), "/proc/%d/mountinfo", kh_via(procs[0]));
	if (kh_read_file(path, &buf, NULL))
		return;
	for (cur = buf; (line = strsep(&cur, "\n")) && *line;)
		check_line(s, procs, n, line);
	free(buf);
}
