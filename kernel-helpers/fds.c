// SPDX-License-Identifier: MIT
/* A process's descriptors as /proc shows them, and what fdinfo says. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <linux/kcmp.h>

#include <sys/sysmacros.h>

#include "kh.h"

static int cmp_fd(const void *a, const void *b)
{
	return ((const struct kh_fd *)a)->fd - ((const struct kh_fd *)b)->fd;
}

void kh_free_fds(struct kh_fd *f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(f[i].link);
		free(f[i].info);
	}
	free(f);
}

/* fdinfo is a few short lines: one read */
static int read_at(int dir, const char *name, char **out)
{
	char buf[8192];
	int fd = openat(dir, name, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (n == sizeof(buf) - 1) {
		/* long epoll or inotify lists */
		char path[64];

		return snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dir,
				name), kh_read_file(path, out, NULL);
	}
	*out = strdup(buf);
	return *out ? 0 : -ENOMEM;
}

/*
 * Descriptor name of a process, from its fd and fdinfo directories: the
 * lookups go through directory fds, so /proc/PID/fd is walked once.
 * 1: it was closed meanwhile.
 */
static dev_t own_dev;

void kh_fds_own_dev(dev_t dev)
{
	own_dev = dev;
}

bool kh_fd_is_own(const struct kh_fd *f)
{
	return own_dev && f->st_ok && f->st.st_dev == own_dev;
}

/*
 * A file of the daemon's own FUSE mount (a process's ctl, open while it
 * asks for its own snapshot): a stat that asked the daemon, which is
 * busy with us, would never return.  The attributes the kernel holds do;
 * 0 for such a file, else -1 (a stat as usual).
 */
static int own_stat(int fddir, const char *name, struct stat *st)
{
	struct statx x;

	if (!own_dev ||
	    statx(fddir, name, AT_STATX_DONT_SYNC, STATX_BASIC_STATS, &x) ||
	    makedev(x.stx_dev_major, x.stx_dev_minor) != own_dev)
		return -1;
	memset(st, 0, sizeof(*st));
	st->st_dev = own_dev;
	st->st_ino = x.stx_ino;
	st->st_mode = x.stx_mode;
	st->st_nlink = x.stx_nlink;
	st->st_uid = x.stx_uid;
	st->st_gid = x.stx_gid;
	st->st_rdev = makedev(x.stx_rdev_major, x.stx_rdev_minor);
	st->st_size = x.stx_size;
	st->st_blksize = x.stx_blksize;
	st->st_blocks = x.stx_blocks;
	st->st_atim = (struct timespec){ x.stx_atime.tv_sec, x.stx_atime.tv_nsec };
	st->st_mtim = (struct timespec){ x.stx_mtime.tv_sec, x.stx_mtime.tv_nsec };
	st->st_ctim = (struct timespec){ x.stx_ctime.tv_sec, x.stx_ctime.tv_nsec };
	return 0;
}

static int describe(pid_t pid, int fddir, int infodir, const char *name,
		    struct kh_fd *f)
{
	char link[CRFS_PATH_MAX];
	ssize_t len;
	int ret;

	memset(f, 0, sizeof(*f));
	f->pid = pid;
	f->fd = atoi(name);
	len = readlinkat(fddir, name, link, sizeof(link) - 1);
	if (len < 0)
		return errno == ENOENT ? 1 : -errno;
	link[len] = '\0';
	f->link = strdup(link);
	if (!f->link)
		return -ENOMEM;
	f->st_ok = !own_stat(fddir, name, &f->st) ||
		   !fstatat(fddir, name, &f->st, 0);
	ret = read_at(infodir, name, &f->info);
	if (ret) {
		free(f->link);
		f->link = NULL;
		return ret == -ENOENT ? 1 : ret;
	}
	return 0;
}

static int add_fd(pid_t pid, int fddir, int infodir, const char *name,
		  struct kh_fd **fds, size_t *n, size_t *cap)
{
	struct kh_fd f, *nf;
	int ret = describe(pid, fddir, infodir, name, &f);

	if (ret)
		return ret > 0 ? 0 : ret;
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		nf = realloc(*fds, *cap * sizeof(*nf));
		if (!nf) {
			free(f.link);
			free(f.info);
			return -ENOMEM;
		}
		*fds = nf;
	}
	(*fds)[(*n)++] = f;
	return 0;
}

/* the fd and fdinfo directories of pid */
static int open_dirs(pid_t pid, int *fddir, int *infodir)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/fd", kh_via(pid));
	*fddir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fddir < 0)
		return -errno;
	snprintf(path, sizeof(path), "/proc/%d/fdinfo", kh_via(pid));
	*infodir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*infodir < 0) {
		close(*fddir);
		return -errno;
	}
	return 0;
}

int kh_proc_fds(pid_t pid, struct kh_fd **out, size_t *nout)
{
	struct kh_fd *fds = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int ret, fddir, infodir;
	DIR *d;

	ret = open_dirs(pid, &fddir, &infodir);
	if (ret)
		return ret;
	d = fdopendir(fddir);
	if (!d) {
		ret = -errno;
		close(fddir);
		close(infodir);
		return ret;
	}
	while (!ret && (de = readdir(d)))
		if (de->d_name[0] != '.')
			ret = add_fd(pid, fddir, infodir, de->d_name, &fds, &n,
				     &cap);
	close(infodir);
	closedir(d);
	if (ret) {
		kh_free_fds(fds, n);
		return ret;
	}
	qsort(fds, n, sizeof(*fds), cmp_fd);
	*out = fds;
	*nout = n;
	return 0;
}

/* for qsort and bsearch of inode numbers */
int kh_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* <0, 0 or >0: a total order on open file descriptions */
int kh_kcmp_file(const struct kh_fd *a, const struct kh_fd *b)
{
	long r = syscall(SYS_kcmp, kh_via(a->pid), kh_via(b->pid), KCMP_FILE, a->fd, b->fd);

	return r == 1 ? -1 : r == 2 ? 1 : 0;
}

/*
 * 1 if a and b share the resource KCMP_FILES, KCMP_FS, KCMP_SIGHAND or
 * KCMP_VM names (clone flags without CLONE_THREAD), 0 if not, -errno
 */
int kh_kcmp_same(pid_t a, pid_t b, int type)
{
	long r = syscall(SYS_kcmp, kh_via(a), kh_via(b), type, 0, 0);

	return r < 0 ? -errno : r == 0;
}

/* -1, 0 or 1: a total order on those resources; -2 if kcmp failed */
int kh_kcmp_order(pid_t a, pid_t b, int type)
{
	long r = syscall(SYS_kcmp, kh_via(a), kh_via(b), type, 0, 0);

	return r < 0 ? -2 : r == 1 ? -1 : r == 2 ? 1 : 0;
}

/*
 * Does the epoll at epfd of pid watch, as its toff-th interest under tfd
 * (one number can key several: a file closed there stays watched while a
 * dup keeps it open), the file at fd of fpid?
 */
bool kh_epoll_target_is(pid_t pid, int epfd, int tfd, unsigned toff,
			pid_t fpid, int fd)
{
	struct kcmp_epoll_slot slot = { .efd = epfd, .tfd = tfd, .toff = toff };

	return syscall(SYS_kcmp, kh_via(fpid), kh_via(pid), KCMP_EPOLL_TFD, fd,
		       (unsigned long)&slot) == 0;
}

/* the value after "key" in fdinfo text, in base (0: as written) */
int kh_fdinfo_u64(const char *info, const char *key, int base, uint64_t *v)
{
	const char *p = strstr(info, key);
	char *end;

	if (!p)
		return -ENOENT;
	p += strlen(key);
	while (*p == ' ' || *p == '\t')
		p++;
	*v = strtoull(p, &end, base);
	return end == p ? -EINVAL : 0;
}

int kh_link_on_proc(pid_t pid, const char *name)
{
	char path[64];
	struct statfs fs;

	snprintf(path, sizeof(path), "/proc/%d/%s", kh_via(pid), name);
	if (statfs(path, &fs))
		return -errno;
	return fs.f_type == 0x9fa0;	/* PROC_SUPER_MAGIC */
}

int kh_fd_twin_of(pid_t pid, const char *name, const char *link)
{
	char path[64], got[4096];
	struct stat want, st;
	struct dirent *e;
	int ret = -1;
	ssize_t n;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/%s", kh_via(pid), name);
	if (stat(path, &want))
		return -errno;
	snprintf(path, sizeof(path), "/proc/%d/fd", kh_via(pid));
	d = opendir(path);
	if (!d)
		return -errno;
	while (ret < 0 && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		n = readlinkat(dirfd(d), e->d_name, got, sizeof(got) - 1);
		if (n < 0 || (got[n] = 0, strcmp(got, link)) ||
		    fstatat(dirfd(d), e->d_name, &st, 0))
			continue;
		if (S_ISDIR(st.st_mode) && (st.st_dev != want.st_dev ||
					    st.st_ino != want.st_ino))
			ret = atoi(e->d_name);
	}
	closedir(d);
	return ret;
}

/* a copy of the file's open description, in our table */
int kh_steal_fd(pid_t pid, int fd)
{
	int pidfd = kh_pidfd_open(pid), nfd;

	if (pidfd < 0)
		return -errno;
	nfd = syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	nfd = nfd < 0 ? -errno : nfd;
	close(pidfd);
	return nfd;
}

/* one of our own descriptors, described as /proc shows a process's */
int kh_self_fd(int fd, struct kh_fd *out)
{
	int fddir, infodir, ret;
	char name[16];

	ret = open_dirs(getpid(), &fddir, &infodir);
	if (ret)
		return ret;
	snprintf(name, sizeof(name), "%d", fd);
	ret = describe(getpid(), fddir, infodir, name, out);
	close(fddir);
	close(infodir);
	return ret > 0 ? -EBADF : ret;
}
