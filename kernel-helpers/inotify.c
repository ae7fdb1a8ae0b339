// SPDX-License-Identifier: MIT
/*
 * An inotify watch is shown as a file handle (fdinfo); the path to watch
 * again at restore is what that handle opens to.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "crfs/format.h"
#include "kh.h"

/* the mount point of a mount of device major:minor, seen by pid */
static int mount_of(pid_t pid, unsigned maj, unsigned min, char *mp,
		    size_t len)
{
	char path[64], line[4096 + 256], where[4096];
	unsigned a, b;
	FILE *f;
	int ret = -ENOENT;

	snprintf(path, sizeof(path), "/proc/%d/mountinfo", kh_via(pid));
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%*d %*d %u:%u %*s %4095s", &a, &b, where) == 3 &&
		    a == maj && b == min) {
			snprintf(mp, len, "/proc/%d/root%s", kh_via(pid), where);
			ret = 0;
			break;
		}
	fclose(f);
	return ret;
}

int kh_handle_path(pid_t pid, const char *line, char **out)
{
	unsigned long sdev;
	unsigned bytes;
	unsigned int type;
	int mfd, fd, ret;
	struct file_handle *fh;
	char mp[4200], self[64];
	const char *p;

	p = strstr(line, "sdev:");
	if (!p || sscanf(p, "sdev:%lx", &sdev) != 1)
		return -EINVAL;
	p = strstr(line, "fhandle-bytes:");
	if (!p || sscanf(p, "fhandle-bytes:%x fhandle-type:%x", &bytes, &type) != 2 ||
	    bytes > 128)
		return -EINVAL;
	p = strstr(line, "f_handle:");
	if (!p)
		return -EINVAL;
	fh = calloc(1, sizeof(*fh) + bytes);
	if (!fh)
		return -ENOMEM;
	fh->handle_bytes = bytes;
	fh->handle_type = type;
	ret = parse_hex_bytes(p + 9, fh->f_handle, bytes);
	ret = ret ?: mount_of(pid, sdev >> 20, sdev & 0xfffff, mp, sizeof(mp));
	if (ret)
		goto out;
	mfd = open(mp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mfd < 0) {
		ret = -errno;
		goto out;
	}
	fd = open_by_handle_at(mfd, fh, O_PATH | O_CLOEXEC);
	ret = fd < 0 ? -errno : 0;
	close(mfd);
	if (ret)
		goto out;
	snprintf(self, sizeof(self), "fd/%d", fd);
	ret = kh_proc_link(getpid(), self, out);
	close(fd);
out:
	free(fh);
	return ret;
}

/*
 * The bytes of events an inotify instance holds: they can only be read by
 * taking them, so a freeze that is to be thawed cannot save them
 */
int kh_inotify_queued(pid_t pid, int fd, int *bytes)
{
	int sk = kh_steal_fd(pid, fd), ret = 0;

	if (sk < 0)
		return sk;
	if (ioctl(sk, FIONREAD, bytes))
		ret = -errno;
	close(sk);
	return ret;
}

/* takes every event queued on an inotify instance of another process */
int kh_inotify_drain(pid_t pid, int fd)
{
	int sk = kh_steal_fd(pid, fd), n = 0, ret = 0;
	char buf[4096];

	if (sk < 0)
		return sk;
	/* FIONREAD first: the description may be a blocking one */
	while (!ret && !ioctl(sk, FIONREAD, &n) && n > 0)
		if (read(sk, buf, sizeof(buf)) <= 0)
			ret = -EIO;
	close(sk);
	return ret;
}
