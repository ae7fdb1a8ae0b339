// SPDX-License-Identifier: MIT
/*
 * The executable a process runs (/proc/PID/exe), handed to PR_SET_MM_MAP.
 * One deleted since (a program upgraded while it ran) is still mapped, so
 * its bytes are in the image (mapdata/INO, crfs-restore's shared object
 * for that inode): it comes back as a file of those bytes, named as it
 * was and unlinked at once, so /proc/PID/exe reads "PATH (deleted)" again.
 * Its own file, not the mapped object: the kernel refuses an executable
 * open for writing (ETXTBSY), and crfs-restore's object is.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "restore.h"
#include "ghost.h"
#include "safe_path.h"

/* try -1: the path itself; 0, 1, ...: beside it, when that is taken */
void ghost_name(const char *path, int i, char *buf, size_t len)
{
	if (i < 0)
		snprintf(buf, len, "%s", path);
	else
		snprintf(buf, len, "%s.crfs-ghost.%d", path, i);
}

/* the deleted file's mapping, which names its object */
const struct crfs_vma *exe_mapping(const struct proc_image *p)
{
	char path[PATH_MAX];
	size_t i;

	if (!ghost_path(p->attr.exe, path, sizeof(path)))
		return NULL;
	for (i = 0; i < p->nvmas; i++)
		if (p->vmas[i].kind == VMA_DELETED &&
		    !strcmp(p->vmas[i].path, path))
			return &p->vmas[i];
	return NULL;
}

static int write_all_fd(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		len -= n;
	}
	return 0;
}

/* linked at its name (or beside it, if that is taken now), opened,
 * unlinked: all in its directory, held (safe_path.h) */
static int open_named(int tmp, const char *path)
{
	char name[NAME_MAX + 32], self[64], why[PATH_MAX + 64];
	struct timespec pts[2];
	struct safe_dir d;
	int i, fd = -1;
	bool had;

	fd = safe_dir_open(&d, path, false, why, sizeof(why));
	if (fd)
		return fd;
	had = !safe_dir_times(&d, pts);
	safe_fd_path(tmp, self, sizeof(self));
	for (i = -1, fd = -EEXIST; i < 100 && fd == -EEXIST; i++) {
		ghost_name(d.name, i, name, sizeof(name));
		if (linkat(AT_FDCWD, self, d.fd, name, AT_SYMLINK_FOLLOW)) {
			fd = -errno;
			continue;
		}
		fd = openat(d.fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			fd = -errno;
		unlinkat(d.fd, name, 0);
		/* what is at the name now is not ours to open: give up */
		if (fd == -EEXIST)
			fd = -ELOOP;
	}
	if (had)
		safe_dir_put_times(&d, pts);
	safe_dir_close(&d);
	return fd;
}

int exe_open(struct image *img, const struct proc_image *p)
{
	const struct crfs_vma *v = exe_mapping(p);
	char dir[PATH_MAX];
	void *addr;
	size_t size;
	int tmp, fd;

	if (!ghost_path(p->attr.exe, dir, sizeof(dir))) {
		fd = open_noatime(p->attr.exe, O_RDONLY);
		return fd < 0 ? -errno : fd;
	}
	if (!v || shm_object_bytes(img, v->shm_ino, &addr, &size))
		return -ENOENT;
	tmp = open(dirname(dir), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0700);
	if (tmp < 0)
		return -errno;
	fd = write_all_fd(tmp, addr, size);
	if (!fd && fchmod(tmp, p->attr.exe_mode & 07777))
		fd = -errno;
	if (!fd)
		fd = open_named(tmp, v->path);
	close(tmp);
	return fd;
}
