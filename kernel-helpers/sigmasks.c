// SPDX-License-Identifier: MIT
/*
 * A task's signal sets as /proc/TID/status shows them (SigPnd, ShdPnd,
 * SigBlk, SigIgn, SigCgt), for the live view: nothing is stopped or asked.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kh.h"

static const char *const status_keys[KH_NSIGSETS] = {
	"SigPnd:", "ShdPnd:", "SigBlk:", "SigIgn:", "SigCgt:",
};

int kh_proc_sigsets(pid_t tid, uint64_t sets[KH_NSIGSETS])
{
	char path[64], line[256];
	unsigned long long v;
	int found = 0, i, ret = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		for (i = 0; i < KH_NSIGSETS; i++) {
			size_t n = strlen(status_keys[i]);

			if (strncmp(line, status_keys[i], n) ||
			    sscanf(line + n, "%llx", &v) != 1)
				continue;
			sets[i] = v;
			found |= 1 << i;
		}
	if (found != (1 << KH_NSIGSETS) - 1)
		ret = -EIO;
	fclose(f);
	return ret;
}
