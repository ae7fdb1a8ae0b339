// SPDX-License-Identifier: MIT
/*
 * CRFS_RESTORE_PROFILE=1 (a measuring aid): crfs-restore prints, on
 * stderr, how long each phase took and the time since it started, one
 * line per phase: "crfs-restore: profile: PHASE +X.XXX ms (Y.YYY ms)".
 * The last phase, "running", ends when the tree is let go.  Migration
 * downtime is made of these; they are measured apart so that what
 * dominates is known, not guessed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "restore.h"

static double prof_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

bool restore_profiling(void)
{
	const char *v = getenv("CRFS_RESTORE_PROFILE");

	return v && *v && *v != '0';
}

void restore_profile(const char *phase)
{
	static double start, last;
	double now;

	if (!restore_profiling())
		return;
	now = prof_ms();
	if (!start)
		start = last = now;
	fprintf(stderr, "crfs-restore: profile: %s +%.3f ms (%.3f ms)\n",
		phase, now - last, now - start);
	last = now;
}
