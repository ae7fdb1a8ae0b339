// SPDX-License-Identifier: MIT
/*
 * mlockall(MCL_FUTURE) and MCL_ONFAULT are mm flags no /proc file shows.
 * A probe mapping made inside the task tells: it is counted in VmLck when
 * new mappings are locked, and populated at once unless MCL_ONFAULT.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kh.h"

#define PM_PRESENT	(1ULL << 63)

int kh_vm_locked_kb(pid_t pid, uint64_t *kb)
{
	return kh_status_u64(pid, "VmLck", kb);
}

int kh_page_present(pid_t pid, uint64_t addr, bool *present)
{
	uint64_t e = 0;
	int fd = kh_pagemap_open(pid), ret = 0;

	if (fd < 0)
		return fd;
	if (pread(fd, &e, sizeof(e), addr / 4096 * sizeof(e)) != sizeof(e))
		ret = -EIO;
	close(fd);
	*present = !!(e & PM_PRESENT);
	return ret;
}
