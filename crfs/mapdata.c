// SPDX-License-Identifier: MIT
/*
 * The bytes of the memfds and deleted files that processes map privately,
 * saved once per object as mapdata/INO: nothing else holds them once the
 * container is gone.  Restore makes the object again from them and maps it
 * privately; the pages copied on write are in pages, as for any private
 * file mapping.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kh.h"
#include "snapshot.h"

static bool has_entry(const struct snapshot *s, const char *path)
{
	size_t i;

	for (i = 0; i < s->nentries; i++)
		if (!strcmp(s->entries[i].path, path))
			return true;
	return false;
}

static int save_object(struct snapshot *s, pid_t pid, const struct crfs_vma *v,
		       const char *path)
{
	char link[96], *buf;
	size_t len;
	int fd, ret, seals;

	snprintf(link, sizeof(link), "/proc/%d/map_files/%lx-%lx", kh_via(pid),
		 v->start, v->end);
	fd = open(link, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/*
	 * Restore keeps the object mapped shared and writable, which no
	 * F_SEAL_WRITE allows: only a memfd that takes no seals (F_SEAL_SEAL,
	 * the default) comes back as it was
	 */
	seals = fcntl(fd, F_GET_SEALS);
	if (seals >= 0 && seals != F_SEAL_SEAL)
		snapshot_report(s, "mapping 0x%lx-0x%lx (%s): a memfd that allows sealing (MFD_ALLOW_SEALING) mapped privately is not supported yet",
				v->start, v->end, v->path);
	ret = kh_read_fd(fd, &buf, &len);
	close(fd);
	if (ret)
		return ret;
	/* the tree is frozen: nothing may change it since the smaps read */
	if (len != v->file_size) {
		free(buf);
		return -EIO;
	}
	return snapshot_add(s, path, E_TEXT, buf, len, -1);
}

int capture_mapdata(struct snapshot *s, pid_t pid, const struct crfs_vma *v,
		    size_t n)
{
	char path[64];
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < n; i++) {
		if (v[i].kind != VMA_DELETED)
			continue;
		snprintf(path, sizeof(path), "%s/%lu", CRFS_D_MAPDATA,
			 v[i].shm_ino);
		if (has_entry(s, path))
			continue;
		if (!has_entry(s, CRFS_D_MAPDATA))
			ret = snapshot_add(s, CRFS_D_MAPDATA, E_DIR, NULL, 0, -1);
		ret = ret ?: save_object(s, pid, &v[i], path);
	}
	return ret;
}
