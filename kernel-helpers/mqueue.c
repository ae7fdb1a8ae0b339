// SPDX-License-Identifier: MIT
/*
 * POSIX message queue descriptors look like regular files named "/NAME"
 * (the path inside the mqueue file system, mounted or not): only the file
 * system type tells them from a file of the root directory.
 */
#include <stdio.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include "kh.h"

/* ipc/mqueue.c has it; Debian's linux/magic.h does not */
#ifndef MQUEUE_MAGIC
#define MQUEUE_MAGIC	0x19800202
#endif

bool kh_fd_is_mqueue(const struct kh_fd *f)
{
	char path[64];
	struct statfs sf;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", f->pid, f->fd);
	return !statfs(path, &sf) && sf.f_type == MQUEUE_MAGIC;
}
