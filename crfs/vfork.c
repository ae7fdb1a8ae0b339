// SPDX-License-Identifier: MIT
/*
 * A vfork() in progress: the parent sleeps in the kernel until its child
 * (which runs on the parent's memory) calls exec or _exit.  ptrace cannot
 * stop such a parent, nor read its registers, before that: PTRACE_INTERRUPT
 * does not wake that sleep, so seizing it would wait for ever, and without
 * its registers it cannot be restored.  posix_spawn and shells vfork for
 * a few microseconds: we wait for that, a while, with the child still
 * running (a child is seized after its parent), and refuse by name a
 * vfork that lasts longer.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "container.h"
#include "kh.h"

#define VFORK_WAIT_MS 2000

int vfork_settle(struct container *c, pid_t pid, pid_t tid)
{
	int ms;

	for (ms = 0; kh_in_vfork(tid); ms++) {
		if (ms == VFORK_WAIT_MS) {
			snprintf(c->error, sizeof(c->error),
				 "freeze failed: process %d (thread %d) is waiting in vfork() for a child that has not called exec or _exit in %d s; a vfork in progress cannot be checkpointed (the parent's registers cannot be read until its child is done); the tree was left running",
				 pid, tid, VFORK_WAIT_MS / 1000);
			return -EBUSY;
		}
		usleep(1000);
	}
	return 0;
}
