// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kh.h"

int kh_mem_open(pid_t pid, int flags)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", kh_via(pid));
	fd = open(path, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/*
 * Read through /proc/PID/mem, never process_vm_readv: the latter pins the
 * task's pages (FOLL_PIN), and a read-only pin of an anonymous page still
 * shared copy-on-write with a parent or child makes the kernel unshare it
 * first (gup_must_unshare), so a checkpoint would give every process of
 * the tree its own copy of each page it read.  /proc/PID/mem takes plain
 * references (FOLL_GET | FOLL_FORCE), leaves the sharing alone, and also
 * reads what the task itself could not (PROT_NONE, write-only).
 */
ssize_t kh_mem_read(pid_t pid, int memfd, uint64_t addr, void *buf,
		    size_t len)
{
	int fd = memfd;
	size_t done = 0;
	ssize_t n = 0, ret;

	if (fd < 0)
		fd = kh_mem_open(pid, O_RDONLY);
	if (fd < 0)
		return fd;
	while (done < len) {
		n = pread(fd, (char *)buf + done, len - done, addr + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += n;
	}
	ret = done ? (ssize_t)done : (n < 0 ? -errno : -EIO);
	if (fd != memfd)
		close(fd);
	return ret;
}

/* whether addr lies in one of pid's mappings now (its maps say so) */
bool kh_addr_mapped(pid_t pid, uint64_t addr)
{
	char path[64], line[512];
	unsigned long start, end;
	bool in = false, at_start = true;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", kh_via(pid));
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!in && fgets(line, sizeof(line), f)) {
		/* the rest of a line longer than line is no mapping's start */
		if (at_start && sscanf(line, "%lx-%lx", &start, &end) == 2)
			in = addr >= start && addr < end;
		at_start = strchr(line, '\n') != NULL;
	}
	fclose(f);
	return in;
}
