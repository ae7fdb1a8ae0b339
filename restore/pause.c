// SPDX-License-Identifier: MIT
/*
 * CRFS_RESTORE_PAUSE=STEP (a debugging and test aid): crfs-restore says
 * "crfs-restore: paused at STEP" on stderr at that step and waits there
 * until it is killed, so that a test can kill it at a known point and
 * check that no half-restored process runs on.  Steps, in order: loaded
 * (the image checked, nothing made yet), spawned (the root made and
 * traced), stopped (every task's memory in place, at the restorer's
 * trap), state (registers loaded, not yet let go).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore.h"

void restore_pause(const char *step)
{
	const char *want = getenv("CRFS_RESTORE_PAUSE");

	if (!want || strcmp(want, step))
		return;
	fprintf(stderr, "crfs-restore: paused at %s\n", step);
	for (;;)
		pause();
}
