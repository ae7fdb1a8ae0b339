// SPDX-License-Identifier: MIT
/*
 * Deleted files other than a regular file's bytes: a directory that was
 * removed (rmdir), a FIFO or device node that was unlinked ("ghosts",
 * made again at restore and removed again), and a deleted name of a file
 * that still has another link (reopened through that link).  Deleted
 * files keep their owner and times.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "files.h"

int files_ghost_attrs(const struct stat *st, struct crfs_file *cf)
{
	cf->fuid = st->st_uid;
	cf->fgid = st->st_gid;
	return files_times(st, cf);
}

int files_times(const struct stat *st, struct crfs_file *cf)
{
	free(cf->times);
	if (asprintf(&cf->times, "%ld.%09ld,%ld.%09ld", (long)st->st_atim.tv_sec,
		     st->st_atim.tv_nsec, (long)st->st_mtim.tv_sec,
		     st->st_mtim.tv_nsec) < 0) {
		cf->times = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* reading a directory of the container must not touch its atime */
static DIR *open_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOATIME);
	DIR *d;

	if (fd < 0 && errno == EPERM)
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	d = fdopendir(fd);
	if (!d)
		close(fd);
	return d;
}

/*
 * The file lost the name it was opened by but has another link (made
 * with link() before): one in the same directory is reopened instead,
 * the same file; a search of the whole filesystem is not made.
 */
static const char *relinked(const struct stat *st, struct crfs_file *cf)
{
	char *slash = strrchr(cf->path, '/'), *dir, *path;
	struct dirent *de;
	struct stat ls;
	DIR *d;

	dir = slash == cf->path ? strdup("/") : strndup(cf->path, slash - cf->path);
	d = dir ? open_dir(dir) : NULL;
	while (d && (de = readdir(d))) {
		if (de->d_ino != st->st_ino ||
		    fstatat(dirfd(d), de->d_name, &ls, AT_SYMLINK_NOFOLLOW) ||
		    ls.st_dev != st->st_dev || ls.st_ino != st->st_ino)
			continue;
		if (asprintf(&path, "%s/%s", strcmp(dir, "/") ? dir : "",
			     de->d_name) < 0)
			break;
		free(cf->path);
		cf->path = path;
		cf->kind = FK_FILE;
		closedir(d);
		free(dir);
		return NULL;
	}
	if (d)
		closedir(d);
	free(dir);
	return "its name was deleted and its other links are not in that directory (not supported)";
}

/*
 * cf->path is the name without " (deleted)"; what classify_path made of
 * it (kind) says whether a ghost can stand for it.
 */
const char *files_classify_ghost(const struct stat *st, struct crfs_file *cf,
				 int *err)
{
	if (S_ISREG(st->st_mode))
		return relinked(st, cf);
	/* devpts removes a pty's node once its master is closed */
	if (cf->kind == FK_PTS)
		return "a pty slave whose master was closed (hung up) is not supported";
	if (!(cf->kind == FK_FILE && S_ISDIR(st->st_mode)) &&
	    cf->kind != FK_FIFO && cf->kind != FK_CHR)
		return "deleted files of this kind are not supported";
	cf->ghost = true;
	if (cf->kind == FK_CHR)
		cf->rdev = st->st_rdev;
	*err = files_ghost_attrs(st, cf);
	return NULL;
}
