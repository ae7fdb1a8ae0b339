// SPDX-License-Identifier: MIT
/* POSIX timers as /proc/PID/timers lists them (times come from the task). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kh.h"
#include "crfs/array.h"

static int notify_of(const char *how, const char *whom)
{
	int n = !strcmp(how, "none") ? SIGEV_NONE :
		!strcmp(how, "thread") ? SIGEV_THREAD : SIGEV_SIGNAL;

	return !strcmp(whom, "tid") ? n | SIGEV_THREAD_ID : n;
}

/*
 *	ID: 0
 *	signal: 12/0000000000000077
 *	notify: signal/pid.2870
 *	ClockID: 1
 */
int kh_proc_timers(pid_t pid, struct crfs_timer **out, size_t *nout)
{
	char path[64], line[256], how[16], whom[8];
	struct crfs_timer *t = NULL, *nt, cur = { .posix = true };
	unsigned long long val;
	size_t n = 0;
	int ret = 0, have = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/timers", kh_via(pid));
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (!ret && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "ID: %d", &cur.id) == 1)
			have = 1;
		else if (sscanf(line, "signal: %d/%llx", &cur.signo, &val) == 2)
			cur.sigval = val, have |= 2;
		else if (sscanf(line, "notify: %15[a-z]/%7[a-z].%d", how, whom,
				&cur.tid) == 3)
			cur.notify = notify_of(how, whom), have |= 4;
		else if (sscanf(line, "ClockID: %d", &cur.clock) == 1)
			have |= 8;
		if (have != 15)
			continue;
		nt = array_room(t, n, sizeof(*t));
		if (!nt) {
			ret = -ENOMEM;
			break;
		}
		t = nt;
		t[n++] = cur;
		have = 0;
	}
	fclose(f);
	if (ret) {
		free(t);
		return ret;
	}
	*out = t;
	*nout = n;
	return 0;
}
