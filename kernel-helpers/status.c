// SPDX-License-Identifier: MIT
/* One number of /proc/TID/status, and what is asked through it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kh.h"

int kh_status_u64(pid_t tid, const char *key, uint64_t *v)
{
	char path[64], want[64], *buf, *at;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/status", kh_via(tid));
	snprintf(want, sizeof(want), "\n%s:", key);
	ret = kh_read_file(path, &buf, NULL);
	if (ret)
		return ret;
	at = strstr(buf, want);
	ret = at && sscanf(at + strlen(want), "%lu", v) == 1 ? 0 : -EINVAL;
	free(buf);
	return ret;
}

int kh_tgid(pid_t tid, pid_t *tgid)
{
	uint64_t v;
	int ret = kh_status_u64(tid, "Tgid", &v);

	if (!ret)
		*tgid = v;
	return ret;
}
