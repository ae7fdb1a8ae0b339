// SPDX-License-Identifier: MIT
/*
 * A fanotify group as its fdinfo shows it: "fanotify flags:F
 * event-flags:E", then a line per mark, on an inode (with its file
 * handle, as inotify's), a mount (by mount id) or a filesystem (by
 * device).  Each mark's target becomes a path that leads to it again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crfs/format.h"
#include "kh.h"

int kh_fanotify_flags(const char *info, uint32_t *flags, uint32_t *eflags)
{
	const char *p = strstr(info, "fanotify flags:");

	if (!p || sscanf(p, "fanotify flags:%x event-flags:%x", flags,
			 eflags) != 2)
		return -EINVAL;
	return 0;
}

/* where we see the mount point pid sees as mp */
static int our_path(pid_t pid, const char *mp, char **out)
{
	char path[4200], self[64];
	int fd, ret;

	if (strchr(mp, '\\'))
		return -EINVAL;		/* an escaped name: not worth it */
	snprintf(path, sizeof(path), "/proc/%d/root%s", kh_via(pid), mp);
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(self, sizeof(self), "fd/%d", fd);
	ret = kh_proc_link(getpid(), self, out);
	close(fd);
	return ret;
}

/* a mount of pid's by mount id, or (id 0) any mount of device sdev */
static int mount_path(pid_t pid, unsigned id, unsigned long sdev,
		      char **out)
{
	char path[64], line[4096 + 256], mp[4096];
	unsigned mid, a, b;
	int ret = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/mountinfo", kh_via(pid));
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%u %*u %u:%u %*s %4095s", &mid, &a, &b,
			   mp) != 4)
			continue;
		if (id ? mid != id : (a != sdev >> 20 || b != (sdev & 0xfffff)))
			continue;
		ret = our_path(pid, mp, out);
		break;
	}
	fclose(f);
	return ret;
}

static int parse_mark(pid_t pid, const char *line,
		      struct crfs_fanotify_mark *m)
{
	const char *p = strstr(line, "mflags:");
	unsigned long sdev;
	unsigned id;
	size_t n;
	int ret;

	if (!p || sscanf(p, "mflags:%x mask:%lx ignored_mask:%lx", &m->mflags,
			 &m->mask, &m->ignored) != 3)
		return -EINVAL;
	if (!strncmp(line, "fanotify ino:", 13)) {
		m->target = FAN_T_INODE;
		ret = kh_handle_path(pid, line, &m->path);
		n = ret ? 0 : strlen(m->path);
		/* the kernel keeps a mark's inode; if it has no name now,
		 * there is nothing to mark again */
		if (n > 10 && !strcmp(m->path + n - 10, " (deleted)"))
			ret = -ESTALE;
		return ret;
	}
	if (sscanf(line, "fanotify mnt_id:%x", &id) == 1) {
		m->target = FAN_T_MOUNT;
		return mount_path(pid, id, 0, &m->path);
	}
	if (sscanf(line, "fanotify sdev:%lx", &sdev) == 1) {
		m->target = FAN_T_FS;
		return mount_path(pid, 0, sdev, &m->path);
	}
	return -EOPNOTSUPP;	/* a mark on a mount namespace, or newer */
}

int kh_fanotify_marks(pid_t pid, const char *info,
		      struct crfs_fanotify_mark **out, size_t *nout)
{
	struct crfs_fanotify_mark *m = NULL, *nm;
	const char *p = info;
	size_t n = 0;
	int ret = 0;

	while (!ret && (p = strstr(p, "\nfanotify "))) {
		p++;
		if (!strncmp(p, "fanotify flags:", 15))
			continue;
		nm = realloc(m, (n + 1) * sizeof(*m));
		if (!nm) {
			ret = -ENOMEM;
			break;
		}
		m = nm;
		memset(&m[n], 0, sizeof(m[n]));
		ret = parse_mark(pid, p, &m[n++]);
	}
	if (ret) {
		free_fanotify(m, n);
		return ret;
	}
	*out = m;
	*nout = n;
	return 0;
}
