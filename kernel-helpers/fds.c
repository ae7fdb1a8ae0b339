// SPDX-License-Identifier: MIT
/* File descriptors from /proc/PID/fd and fdinfo. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "crfs/format.h"
#include "kh.h"

static int cmp_fd(const void *a, const void *b)
{
	return ((const struct crfs_fd *)a)->fd - ((const struct crfs_fd *)b)->fd;
}

static int read_fdinfo(pid_t pid, struct crfs_fd *f)
{
	char path[64], *buf, *p;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, f->fd);
	ret = kh_read_file(path, &buf, NULL);
	if (ret)
		return ret;
	p = strstr(buf, "pos:");
	if (p)
		f->pos = strtoull(p + 4, NULL, 10);
	p = strstr(buf, "flags:");
	if (p)
		f->flags = strtoul(p + 6, NULL, 8);
	free(buf);
	return p ? 0 : -EINVAL;
}

/* Returns 0, or a reason the descriptor cannot be checkpointed yet */
static const char *classify(struct crfs_fd *f, const struct stat *st)
{
	size_t n = strlen(f->path);

	if (f->path[0] != '/') {
		if (!strncmp(f->path, "pipe:", 5))
			return "pipes are not supported yet";
		if (!strncmp(f->path, "socket:", 7))
			return "sockets are not supported yet";
		if (!strncmp(f->path, "anon_inode:", 11))
			return "this kind of anonymous inode is not supported yet";
		return "unknown kind of file";
	}
	if (n > 10 && !strcmp(f->path + n - 10, " (deleted)"))
		return "open deleted files are not supported yet";
	if (S_ISREG(st->st_mode) || S_ISDIR(st->st_mode)) {
		f->kind = FD_FILE;
		return NULL;
	}
	/* /dev/null, zero, full, random, urandom: reopening them is exact */
	if (S_ISCHR(st->st_mode) && major(st->st_rdev) == 1) {
		f->kind = FD_CHR;
		return NULL;
	}
	if (S_ISCHR(st->st_mode))
		return "terminals and other devices are not supported yet";
	if (S_ISFIFO(st->st_mode))
		return "FIFOs are not supported yet";
	return "unknown kind of file";
}

static int add_fd(pid_t pid, int fd, struct crfs_fd **fds, size_t *n,
		  kh_report_fn report, void *ctx)
{
	struct crfs_fd *nf, f = { .fd = fd };
	char path[64];
	struct stat st;
	const char *why;
	int ret;

	snprintf(path, sizeof(path), "fd/%d", fd);
	ret = kh_proc_link(pid, path, &f.path);
	if (ret)
		return ret == -ENOENT ? 0 : ret;	/* closed meanwhile */
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	if (stat(path, &st) < 0)
		memset(&st, 0, sizeof(st));
	f.mode = st.st_mode;
	ret = read_fdinfo(pid, &f);
	why = ret ? "cannot read its fdinfo" : classify(&f, &st);
	if (why) {
		report(ctx, "fd %d (%s): %s", fd, f.path, why);
		free(f.path);
		return 0;
	}
	nf = realloc(*fds, (*n + 1) * sizeof(*nf));
	if (!nf) {
		free(f.path);
		return -ENOMEM;
	}
	*fds = nf;
	nf[(*n)++] = f;
	return 0;
}

int kh_proc_fds(pid_t pid, struct crfs_fd **out, size_t *nout,
		kh_report_fn report, void *ctx)
{
	struct crfs_fd *fds = NULL;
	struct dirent *de;
	char path[64];
	size_t n = 0;
	int ret = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while (!ret && (de = readdir(d)))
		if (de->d_name[0] != '.')
			ret = add_fd(pid, atoi(de->d_name), &fds, &n, report,
				     ctx);
	closedir(d);
	if (ret) {
		free_fds(fds, n);
		return ret;
	}
	qsort(fds, n, sizeof(*fds), cmp_fd);
	*out = fds;
	*nout = n;
	return 0;
}
