// SPDX-License-Identifier: MIT
/*
 * Ghosts: a deleted directory, FIFO or device node that a process holds
 * open (or works in) is made again at its path, opened, and removed
 * again, as CRIU does; directories missing above it are made for the
 * while and removed too.  Deleted files get their owner and times back.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "ghost.h"
#include "safe_path.h"

/* dir and the directories above it that are missing, made (0700) */
int ghost_mkdirs(struct ghost_dirs *g, const char *dir)
{
	char *p = strdup(dir), *s, c;
	struct stat up = { 0 };
	bool had_up = false;
	int ret = 0;

	if (!p)
		return -ENOMEM;
	/* from the top down: each missing one is made and noted */
	for (s = p + 1; !ret; s++) {
		if (*s && *s != '/')
			continue;
		c = *s;
		*s = '\0';
		if (g->n == GHOST_MAX_DIRS) {
			ret = -ENAMETOOLONG;
		} else if (!mkdir(p, 0700)) {
			g->top[g->n] = had_up;
			g->times[g->n][0] = up.st_atim;
			g->times[g->n][1] = up.st_mtim;
			g->made[g->n] = strdup(p);
			if (g->made[g->n]) {
				g->n++;
			} else {
				rmdir(p);
				ret = -ENOMEM;
			}
			had_up = false;
		} else if (errno != EEXIST) {
			ret = -errno;
		} else {
			had_up = !stat(p, &up);
		}
		*s = c;
		if (!c)
			break;
	}
	free(p);
	return ret;
}

/*
 * What ghost_mkdirs made, deepest first; the directories they were made
 * in keep their times (not their ctime).
 */
void ghost_rmdirs(struct ghost_dirs *g)
{
	char *slash;

	while (g->n) {
		char *d = g->made[--g->n];

		rmdir(d);
		slash = strrchr(d, '/');
		if (g->top[g->n] && slash) {
			*slash = '\0';
			utimensat(AT_FDCWD, slash == d ? "/" : d, g->times[g->n], 0);
		}
		free(d);
	}
}

/* the directory part of path, in buf */
static const char *parent_of(const char *path, char *buf, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (!slash || slash == path)
		return "/";
	snprintf(buf, len, "%.*s", (int)(slash - path), path);
	return buf;
}

int ghost_mkparent(struct ghost_dirs *g, const char *path)
{
	char buf[4096];

	return ghost_mkdirs(g, parent_of(path, buf, sizeof(buf)));
}

/* "ASEC.NSEC,MSEC.NSEC" */
static int parse_times(const char *s, struct timespec ts[2])
{
	long long as, an, ms, mn;

	if (sscanf(s, "%lld.%lld,%lld.%lld", &as, &an, &ms, &mn) != 4)
		return -EINVAL;
	ts[0] = (struct timespec){ as, an };
	ts[1] = (struct timespec){ ms, mn };
	return 0;
}

/* atime and mtime (f->times), by path when given, else on fd */
static int times(int fd, const char *path, const struct crfs_file *f)
{
	struct timespec ts[2];
	int ret;

	if (!f->times)
		return 0;
	if (parse_times(f->times, ts))
		return -EINVAL;
	ret = path ? utimensat(AT_FDCWD, path, ts, 0) : futimens(fd, ts);
	return ret ? -errno : 0;
}

/*
 * Owner, permissions, then times (the others would change them).  By
 * path when given: an O_PATH descriptor can do none of it.
 */
static int attrs(int fd, const char *path, const struct crfs_file *f)
{
	int ret;

	if (path)
		ret = chown(path, f->fuid, f->fgid) ?: chmod(path, f->mode & 07777);
	else
		ret = fchown(fd, f->fuid, f->fgid) ?: fchmod(fd, f->mode & 07777);
	if (ret)
		return -errno;
	return times(fd, path, f);
}

int ghost_attrs(int fd, const struct crfs_file *f)
{
	return attrs(fd, NULL, f);
}

int ghost_times(int fd, const struct crfs_file *f)
{
	return times(fd, NULL, f);
}

/* the node at its name in d again, or beside it if something else is
 * there now; name gets the one made */
static int make_node(const struct safe_dir *d, const struct crfs_file *f,
		     char *name, size_t len)
{
	int ret, i;

	snprintf(name, len, "%s", d->name);
	for (i = 0; i < 100; i++) {
		if (S_ISDIR(f->mode))
			ret = mkdirat(d->fd, name, 0700);
		else
			ret = mknodat(d->fd, name, (f->mode & S_IFMT) | 0600,
				      S_ISCHR(f->mode) ? f->rdev : 0);
		if (!ret)
			return 0;
		if (errno != EEXIST)
			return -errno;
		snprintf(name, len, "%s.crfs-ghost-%u.%d", d->name, f->id, i);
	}
	return -EEXIST;
}

/*
 * The node made, held by an O_PATH descriptor of its own before anything
 * is done to it: owner, mode and times through /proc/self/fd, then opened
 * there.  What is at the name now must be what was made (a node of its
 * kind, root's): someone who swapped it for a symlink gets nothing done.
 */
static int open_node(const struct safe_dir *d, const char *name,
		     const struct crfs_file *f, int flags)
{
	char self[64];
	struct stat st;
	int pfd, fd, ret;

	pfd = openat(d->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (pfd < 0)
		return -errno;
	if (fstat(pfd, &st) || (st.st_mode & S_IFMT) != (f->mode & S_IFMT) ||
	    st.st_uid != geteuid()) {
		close(pfd);
		return -EAGAIN;
	}
	ret = attrs(-1, safe_fd_path(pfd, self, sizeof(self)), f);
	if (!ret) {
		fd = open(self, flags);
		ret = fd < 0 ? -errno : fd;
	}
	close(pfd);
	return ret;
}

int ghost_open(const struct crfs_file *f, int flags)
{
	char name[NAME_MAX + 64], why[PATH_MAX + 64];
	struct timespec pts[2];
	struct safe_dir d;
	int fd = -1, ret;
	bool made, had_parent;

	ret = safe_dir_open(&d, f->path, true, why, sizeof(why));
	if (ret)
		return ret;
	had_parent = !d.nmade && !safe_dir_times(&d, pts);
	ret = make_node(&d, f, name, sizeof(name));
	made = !ret;
	if (!ret) {
		fd = open_node(&d, name, f, flags);
		ret = fd < 0 ? fd : 0;
	}
	if (made)
		unlinkat(d.fd, name, S_ISDIR(f->mode) ? AT_REMOVEDIR : 0);
	/* a directory that was there keeps its times (not its ctime) */
	if (had_parent)
		safe_dir_put_times(&d, pts);
	safe_dir_close(&d);
	return ret ?: fd;
}

/* " (deleted)" at the end of a path /proc showed */
bool ghost_path(const char *path, char *buf, size_t len)
{
	size_t n = strlen(path);

	if (n <= 10 || strcmp(path + n - 10, " (deleted)"))
		return false;
	snprintf(buf, len, "%.*s", (int)(n - 10), path);
	return true;
}

/* a deleted one's path must be free to make it there for a while */
static int ghost_free(bool ghost, const char *path)
{
	struct stat st;

	return ghost && !lstat(path, &st) ? -EEXIST : 0;
}

/*
 * Make what is missing of the deleted ones (gr, gc) of cwd and root, open
 * both, remove what was made.  One not deleted must be there.
 */
static int open_dirs(const char *cwd, bool gc, const char *root, bool gr,
		     int *cfd, int *rfd)
{
	struct ghost_dirs g = { 0 };
	int ret;

	ret = gr ? ghost_mkdirs(&g, root) : 0;
	ret = ret ?: gc ? ghost_mkdirs(&g, cwd) : 0;
	if (!ret) {
		*rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
		*cfd = open(cwd, O_PATH | O_DIRECTORY | O_CLOEXEC);
		ret = *rfd < 0 || *cfd < 0 ? -errno : 0;
	}
	ghost_rmdirs(&g);
	return ret;
}

/*
 * The working directory and root again.  Deleted ones are made (with what
 * is missing above them: a deleted cwd may be below a deleted root, which
 * must be the same directory), opened, removed, then entered through the
 * descriptors.  Processes restore in parallel and may share them: the
 * making and removing is done under a lock on lock_path (the image).
 */
int ghost_enter(const char *cwd, const char *root, const char *lock_path,
		int *root_fd)
{
	char c[4096], r[4096];
	bool gc = ghost_path(cwd, c, sizeof(c)), gr = ghost_path(root, r, sizeof(r));
	int lock, cfd = -1, rfd = -1, ret;

	*root_fd = -1;
	if (!gc && !gr) {
		if (chdir(cwd))
			return -errno;
		if (strcmp(root, "/"))
			*root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
		return *root_fd < 0 && strcmp(root, "/") ? -errno : 0;
	}
	if (!gc)
		snprintf(c, sizeof(c), "%s", cwd);
	if (!gr)
		snprintf(r, sizeof(r), "%s", root);
	lock = open(lock_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lock < 0 || flock(lock, LOCK_EX)) {
		ret = -errno;
		goto out;
	}
	ret = ghost_free(gr, r) ?: ghost_free(gc && strcmp(c, r), c);
	ret = ret ?: open_dirs(c, gc, r, gr, &cfd, &rfd);
	if (!ret && fchdir(cfd))
		ret = -errno;
	if (!ret && strcmp(r, "/")) {
		*root_fd = rfd;
		rfd = -1;
	}
out:
	if (cfd >= 0)
		close(cfd);
	if (rfd >= 0)
		close(rfd);
	if (lock >= 0)
		close(lock);	/* and the lock with it */
	return ret;
}

/* chroot() into the directory fd holds (O_PATH), through /proc */
int ghost_chroot(int fd)
{
	char self[64];
	int ret;

	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	ret = chroot(self) ? -errno : 0;
	close(fd);
	return ret;
}

/*
 * name in dirfd, just linked to tmp, opened with flags, or -1.  A name
 * opened with O_NOFOLLOW keeps it in its F_GETFL, so a file that did not
 * have it is opened through an O_PATH descriptor of the name (found to be
 * tmp still) reopened in /proc: that follows no link of anyone's.
 */
static int open_linked(int dirfd, const char *name, int tmp, int flags)
{
	struct stat a, b;
	char self[64];
	int p, fd = -1;

	if (flags & O_NOFOLLOW)
		return openat(dirfd, name, flags);
	p = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (p < 0)
		return -1;
	if (!fstat(p, &a) && !fstat(tmp, &b) && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino) {
		safe_fd_path(p, self, sizeof(self));
		fd = open(self, flags);
	}
	close(p);
	return fd;
}

/* tmp linked at path, its directory's times kept aside: 0, or -1 */
int ghost_name_link(struct ghost_name *n, int tmp, const char *path)
{
	char why[PATH_MAX + 64];

	if (safe_dir_open(&n->d, path, false, why, sizeof(why)))
		return -1;
	if (safe_dir_times(&n->d, n->pts) ||
	    linkat(tmp, "", n->d.fd, n->d.name, AT_EMPTY_PATH)) {
		safe_dir_close(&n->d);
		return -1;
	}
	return 0;
}

/* the name linked opened with flags (or -1), then unlinked again */
int ghost_name_open_drop(struct ghost_name *n, int tmp, int flags)
{
	int fd = open_linked(n->d.fd, n->d.name, tmp, flags);

	unlinkat(n->d.fd, n->d.name, 0);
	safe_dir_put_times(&n->d, n->pts);
	safe_dir_close(&n->d);
	return fd;
}

/*
 * An unlinked file made with O_TMPFILE has the name "#INO" in /proc: to
 * show its own name again, it is linked there, opened, and unlinked.  If
 * something took the name since, through /proc as it is (a link there:
 * O_NOFOLLOW would stop us, and is lost).  The directory keeps its times.
 */
int ghost_open_named(int tmp, const char *path, int flags)
{
	struct ghost_name n;
	char self[64];
	int fd = -1;

	safe_fd_path(tmp, self, sizeof(self));
	if (!ghost_name_link(&n, tmp, path))
		fd = ghost_name_open_drop(&n, tmp, flags);
	return fd >= 0 ? fd : open(self, flags & ~O_NOFOLLOW);
}
