// SPDX-License-Identifier: MIT
/*
 * Nested pid namespaces: which namespace a process is in, which is its
 * parent, and entering one for the children we fork next.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/nsfs.h>

#include "kh.h"
#include "kh_ns.h"

int kh_ns_ino(pid_t pid, const char *name, unsigned int *ino)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", kh_via(pid), name);
	if (stat(path, &st))
		return -errno;
	*ino = (unsigned int)st.st_ino;
	return 0;
}

int kh_pidns_parent_ino(pid_t pid, unsigned int *ino)
{
	unsigned long parent;
	int ret = kh_ns_ioctl_ino(pid, "pid", NS_GET_PARENT, &parent);

	if (!ret)
		*ino = (unsigned int)parent;
	return ret;
}

int kh_pidfd_wait(pid_t pid, int ms)
{
	int fd;

	for (;;) {
		fd = (int)syscall(SYS_pidfd_open, pid, 0);
		if (fd >= 0 || errno != ESRCH || ms <= 0)
			break;
		usleep(5000);
		ms -= 5;
	}
	return fd < 0 ? -errno : fd;
}

/*
 * setns() with a pidfd and CLONE_NEWPID sets pid_for_children to the
 * process's pid namespace; the process may still be on its way (its
 * parent restores in parallel), so wait for its pid.
 */
int kh_pidns_follow(pid_t pid, int ms)
{
	int fd = kh_pidfd_wait(pid, ms), ret;

	if (fd < 0)
		return fd;
	ret = setns(fd, CLONE_NEWPID) ? -errno : 0;
	close(fd);
	return ret;
}

int kh_ns_pid_at(pid_t tid, int level, pid_t *out)
{
	pid_t pids[KH_NSPID_MAX];
	int n, ret;

	ret = kh_ns_pids(tid, pids, KH_NSPID_MAX, &n);
	if (ret)
		return ret;
	if (level >= n)
		return -ERANGE;
	*out = pids[level];
	return 0;
}

#ifndef PIDFD_GET_PID_NAMESPACE
#define PIDFD_GET_PID_NAMESPACE	_IO(0xFF, 5)	/* linux/pidfd.h, 6.11 */
#endif

/* an nsfs fd of pid's pid namespace (pid as we see it, waited for) */
int kh_pidns_open_of(pid_t pid, int ms)
{
	int pfd = kh_pidfd_wait(pid, ms), fd;

	if (pfd < 0)
		return pfd;
	fd = ioctl(pfd, PIDFD_GET_PID_NAMESPACE, 0);
	if (fd < 0)
		fd = -errno;
	close(pfd);
	return fd;
}
