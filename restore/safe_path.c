// SPDX-License-Identifier: MIT
/*
 * crfs-restore runs as root and makes, at paths an image names, socket
 * files, FIFOs and device nodes of deleted files, deleted executables and
 * shared memory objects; some it unlinks again at once, a stale socket
 * file it removes.  A user who may write a directory on such a path could
 * plant a symlink there and have root make or remove a file elsewhere
 * (/etc).  Like fs.protected_symlinks, a symlink is followed only if root
 * owns it: an ordinary user cannot make one.  The last component the
 * callers never follow (mknod, O_EXCL, linkat, bind, unlink, rename and
 * fchmodat(AT_SYMLINK_NOFOLLOW) do not).
 *
 * The directories are walked from / one at a time, each opened relative
 * to the descriptor of the one before with openat2(RESOLVE_NO_SYMLINKS),
 * and the callers act relative to the last one (safe_dir): swapping a
 * directory for a symlink between the check and the use leads nowhere.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "safe_path.h"

/* root's symlinks followed within one path, as the kernel's limit */
#define MAX_LINKS 40

struct walk {
	struct safe_dir *d;	/* NULL: only check, make nothing */
	bool mk;		/* make what is missing (in d) */
	int links;
	char *why;
	size_t len;
};

static int walk(struct walk *w, int at, const char *path, size_t upto,
		int *out);

const char *safe_fd_path(int fd, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/self/fd/%d", fd);
	return buf;
}

/* a directory made on the way: noted for safe_dir_close */
static int note_made(struct walk *w, int at, const char *comp)
{
	struct safe_dir *d = w->d;

	if (d->nmade == SAFE_MAX_MADE)
		return -ENAMETOOLONG;
	d->made[d->nmade] = strdup(comp);
	d->made_in[d->nmade] = fcntl(at, F_DUPFD_CLOEXEC, 0);
	if (!d->made[d->nmade] || d->made_in[d->nmade] < 0) {
		free(d->made[d->nmade]);
		if (d->made_in[d->nmade] >= 0)
			close(d->made_in[d->nmade]);
		unlinkat(at, comp, AT_REMOVEDIR);
		return -ENOMEM;
	}
	d->nmade++;
	return 0;
}

/* comp (in at, shown as shown) is a symlink: followed if root owns it */
static int follow(struct walk *w, int at, const char *comp, const char *shown,
		  int *out)
{
	char target[PATH_MAX];
	struct stat st;
	ssize_t n;
	int lfd, start, ret;

	lfd = openat(at, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (lfd < 0 || fstat(lfd, &st)) {
		ret = -errno;
		snprintf(w->why, w->len, "%s: %s", shown, strerror(errno));
		goto out;
	}
	if (!S_ISLNK(st.st_mode)) {
		/* swapped back since openat2 saw a link: look again */
		ret = -EAGAIN;
		snprintf(w->why, w->len, "%s: changes all the time", shown);
		goto out;
	}
	if (st.st_uid) {
		ret = -ELOOP;
		snprintf(w->why, w->len, "%s is a symlink owned by uid %u: not followed",
			 shown, st.st_uid);
		goto out;
	}
	/* the very link whose owner we saw, not what is at its name now */
	n = readlinkat(lfd, "", target, sizeof(target) - 1);
	if (n <= 0 || ++w->links > MAX_LINKS) {
		ret = n < 0 ? -errno : -ELOOP;
		snprintf(w->why, w->len, "%s: %s", shown, strerror(-ret));
		goto out;
	}
	target[n] = '\0';
	start = *target == '/' ? open("/", O_PATH | O_DIRECTORY | O_CLOEXEC) :
		fcntl(at, F_DUPFD_CLOEXEC, 0);
	if (start < 0) {
		ret = -errno;
		snprintf(w->why, w->len, "%s: %s", shown, strerror(errno));
		goto out;
	}
	/* what it names must be there: nothing is made through a link */
	ret = walk(&(struct walk){ NULL, false, w->links, w->why, w->len },
		   start, target, n, out);
out:
	if (lfd >= 0)
		close(lfd);
	return ret;
}

/* one directory down from at: comp, shown as shown in messages */
static int step(struct walk *w, int at, const char *comp, const char *shown,
		int *out)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	struct stat st;
	int fd, tries, ret;

	for (tries = 0; tries < 8; tries++) {
		fd = syscall(SYS_openat2, at, comp, &how, sizeof(how));
		if (fd >= 0) {
			*out = fd;
			return 0;
		}
		if (errno == ELOOP) {
			ret = follow(w, at, comp, shown, out);
			if (ret != -EAGAIN || tries == 7)
				return ret;
			continue;
		}
		if (errno != ENOENT || !w->mk)
			break;
		/* the one that was there gets its times back after */
		if (!w->d->nmade && !fstat(at, &st)) {
			w->d->top_times[0] = st.st_atim;
			w->d->top_times[1] = st.st_mtim;
		}
		if (!mkdirat(at, comp, 0700)) {
			ret = note_made(w, at, comp);
			if (ret)
				return ret;
		} else if (errno != EEXIST) {
			break;
		}
	}
	ret = -errno;
	snprintf(w->why, w->len, "%s: %s", shown, strerror(errno));
	return ret;
}

/*
 * The directory the first upto bytes of path name, from at (which it
 * closes): an O_PATH descriptor in *out.
 */
static int walk(struct walk *w, int at, const char *path, size_t upto,
		int *out)
{
	char buf[PATH_MAX], *comp, *end;
	int next = -1, ret = 0;

	if (upto >= sizeof(buf)) {
		close(at);
		snprintf(w->why, w->len, "%.64s...: path too long", path);
		return -ENAMETOOLONG;
	}
	memcpy(buf, path, upto);
	buf[upto] = '\0';
	for (comp = buf; !ret && *comp; comp = end) {
		while (*comp == '/')
			comp++;
		end = comp + strcspn(comp, "/");
		if (end == comp)
			break;
		if (*end)
			*end++ = '\0';
		if (!strcmp(comp, "."))
			continue;
		/* shown: path up to and with this component */
		ret = step(w, at, comp, strndupa(path, comp - buf + strlen(comp)),
			   &next);
		close(at);
		if (ret)
			return ret;
		at = next;
	}
	*out = at;
	return 0;
}

static int open_dir(struct walk *w, const char *path, const char **name,
		    int *out)
{
	const char *slash = strrchr(path, '/');
	int at;

	*name = slash ? slash + 1 : path;
	if (!**name || !strcmp(*name, ".") || !strcmp(*name, "..")) {
		snprintf(w->why, w->len, "%s: no file name at its end", path);
		return -EINVAL;
	}
	at = open(*path == '/' ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (at < 0) {
		snprintf(w->why, w->len, "%s: %s", path, strerror(errno));
		return -errno;
	}
	return walk(w, at, path, slash ? (size_t)(slash - path) : 0, out);
}

int safe_path(const char *path, char *why, size_t len)
{
	struct walk w = { NULL, false, 0, why, len };
	const char *name;
	int fd, ret;

	ret = open_dir(&w, path, &name, &fd);
	if (!ret)
		close(fd);
	/* what is missing, restore makes itself (safe_dir_open) */
	return ret == -ENOENT ? 0 : ret;
}

int safe_dir_open(struct safe_dir *d, const char *path, bool mk, char *why,
		  size_t len)
{
	struct walk w = { d, mk, 0, why, len };
	int ret;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	ret = open_dir(&w, path, &d->name, &d->fd);
	if (ret)
		safe_dir_close(d);
	return ret;
}

int safe_dir_times(const struct safe_dir *d, struct timespec ts[2])
{
	struct stat st;

	if (fstat(d->fd, &st))
		return -errno;
	ts[0] = st.st_atim;
	ts[1] = st.st_mtim;
	return 0;
}

void safe_dir_put_times(const struct safe_dir *d, const struct timespec ts[2])
{
	char self[64];

	utimensat(AT_FDCWD, safe_fd_path(d->fd, self, sizeof(self)), ts, 0);
}

void safe_dir_close(struct safe_dir *d)
{
	char self[64];
	size_t top = d->nmade;

	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	while (d->nmade) {
		d->nmade--;
		unlinkat(d->made_in[d->nmade], d->made[d->nmade], AT_REMOVEDIR);
		/* the one that was there keeps its times (not its ctime) */
		if (!d->nmade && top)
			utimensat(AT_FDCWD, safe_fd_path(d->made_in[0], self,
							 sizeof(self)),
				  d->top_times, 0);
		close(d->made_in[d->nmade]);
		free(d->made[d->nmade]);
	}
}
