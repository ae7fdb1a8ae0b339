// SPDX-License-Identifier: MIT
/*
 * Which namespace an nsfs ioctl answers with, by its inode: NS_GET_USERNS
 * and NS_GET_PARENT on /proc/PID/ns/NAME (ioctl_ns(2)), SIOCGSKNS on a
 * socket, TUNGETDEVNETNS on a tun device all return a descriptor of the
 * namespace, which only its inode names across processes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "kh.h"
#include "kh_ns.h"

int kh_ns_open(pid_t pid, const char *name)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", kh_via(pid), name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int kh_nsfd_ioctl_ino(int fd, unsigned long req, unsigned long *ino)
{
	struct stat st;
	int ns = ioctl(fd, req), ret = 0;

	if (ns < 0)
		return -errno;
	if (fstat(ns, &st))
		ret = -errno;
	else
		*ino = st.st_ino;
	close(ns);
	return ret;
}

int kh_ns_ioctl_ino(pid_t pid, const char *name, unsigned long req,
		    unsigned long *ino)
{
	int fd = kh_ns_open(pid, name), ret;

	if (fd < 0)
		return fd;
	ret = kh_nsfd_ioctl_ino(fd, req, ino);
	close(fd);
	return ret;
}
