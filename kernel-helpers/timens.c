// SPDX-License-Identifier: MIT
/*
 * A time namespace's clock offsets, /proc/PID/timens_offsets: what a
 * process's CLOCK_MONOTONIC and CLOCK_BOOTTIME add to the host's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kh.h"
#include "kh_ns.h"

/* "monotonic SEC NSEC" and "boottime SEC NSEC", one line each */
static int parse_offsets(const char *buf, struct kh_timens *t)
{
	const char *line = buf;
	char name[16];
	long long sec;
	long nsec;
	int found = 0;

	while (line && *line) {
		if (sscanf(line, "%15s %lld %ld", name, &sec, &nsec) != 3)
			return -EINVAL;
		if (!strcmp(name, "monotonic")) {
			t->mono_sec = sec;
			t->mono_nsec = nsec;
			found |= 1;
		} else if (!strcmp(name, "boottime")) {
			t->boot_sec = sec;
			t->boot_nsec = nsec;
			found |= 2;
		}
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
	return found == 3 ? 0 : -EINVAL;
}

int kh_timens_offsets(pid_t pid, struct kh_timens *t)
{
	char path[64], buf[256];
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/timens_offsets", kh_via(pid));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len < 0)
		return -errno;
	buf[len] = '\0';
	return parse_offsets(buf, t);
}

/*
 * For our time_for_children namespace, which the kernel lets us set only
 * after unshare(CLONE_NEWTIME) and before a process enters it; one write.
 */
int kh_timens_set_offsets(const struct kh_timens *t)
{
	return kh_timens_set_offsets_of(0, t);
}

/* pid 0: ourselves */
int kh_timens_set_offsets_of(pid_t pid, const struct kh_timens *t)
{
	char buf[128], path[64];

	snprintf(buf, sizeof(buf), "monotonic %lld %ld\nboottime %lld %ld\n",
		 t->mono_sec, t->mono_nsec, t->boot_sec, t->boot_nsec);
	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/timens_offsets", kh_via(pid));
	else
		snprintf(path, sizeof(path), "/proc/self/timens_offsets");
	return kh_write_file(path, buf);
}
