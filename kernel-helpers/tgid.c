// SPDX-License-Identifier: MIT
/* Which process a task id belongs to: /proc/TID/status's Tgid. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kh.h"

int kh_tgid(pid_t tid, pid_t *tgid)
{
	char path[64], *buf, *p;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	ret = kh_read_file(path, &buf, NULL);
	if (ret)
		return ret;
	p = strstr(buf, "\nTgid:");
	ret = p ? 0 : -EINVAL;
	if (p)
		*tgid = strtol(p + 6, NULL, 10);
	free(buf);
	return ret;
}
