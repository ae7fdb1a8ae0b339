// SPDX-License-Identifier: MIT
/*
 * crfs-restore --stream DIR: the image comes on standard input as the tar
 * stream `crfs-send --stream` writes (GNU format: files and directories,
 * long names as GNU 'L' members) and is unpacked into DIR before the load.
 * crfsctl migrate starts the restore this way before the freeze, so that
 * neither its start (exec, the libraries) nor a tar and a shell between
 * the stream's end and the restore are part of the downtime.
 *
 * The stream must end with tar's end-of-archive blocks: crfs-send writes
 * them only once the whole image is out, so a stream cut short (the
 * sender failed, the connection broke) is refused and nothing runs.
 * Every name is checked (relative, no "." or ".." component, no symlink
 * followed on the way: openat2 RESOLVE_BENEATH), DIR must be empty, and
 * no member may be there twice.  Files get their mode, owner and
 * modification time; directories their mode and owner.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "restore.h"
#include "files.h"
#include "crfs/tar.h"

#define IN_BUF (1UL << 20)	/* crfs-send's pipe holds as much */

struct tar_in {
	int fd;			/* the stream */
	int dirfd;		/* DIR */
	const char *dir;
	unsigned char *buf;
	size_t off, len;	/* unread: buf[off, len) */
	char *err;
	size_t errlen;
};

#define TERR(t, ...) (snprintf((t)->err, (t)->errlen, __VA_ARGS__), -1)

/* at least want (<= IN_BUF) unread bytes in buf; -ENODATA at the end */
static int fill(struct tar_in *t, size_t want)
{
	ssize_t n;

	if (t->len - t->off >= want)
		return 0;
	memmove(t->buf, t->buf + t->off, t->len - t->off);
	t->len -= t->off;
	t->off = 0;
	while (t->len < want) {
		n = read(t->fd, t->buf + t->len, IN_BUF - t->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -ENODATA;
		t->len += n;
	}
	return 0;
}

static int cut_short(struct tar_in *t, int ret, const char *where)
{
	if (ret == -ENODATA)
		return TERR(t, "%s: the stream ended %s, before its end-of-archive blocks (the sender failed?); nothing was restored",
			    t->dir, where);
	return TERR(t, "%s: reading the stream: %s", t->dir, strerror(-ret));
}

/* the next 512-byte block, consumed */
static int block(struct tar_in *t, const unsigned char **b, const char *where)
{
	int ret = fill(t, CRFS_TAR_BLOCK);

	if (ret)
		return cut_short(t, ret, where);
	*b = t->buf + t->off;
	t->off += CRFS_TAR_BLOCK;
	return 0;
}

/* relative, and no empty, "." or ".." component */
static bool name_ok(const char *name)
{
	const char *c = name, *e;
	size_t n;

	if (!*name || *name == '/')
		return false;
	for (; c; c = e ? e + 1 : NULL) {
		e = strchr(c, '/');
		n = e ? (size_t)(e - c) : strlen(c);
		if (!n || (n == 1 && c[0] == '.') ||
		    (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
	}
	return true;
}

/* the directory name's last component goes in: DIR, or one below it
 * reached with no symlink and never above DIR; *base its last component */
static int parent_of(struct tar_in *t, char *name, const char **base)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
			   RESOLVE_NO_MAGICLINKS,
	};
	char *slash = strrchr(name, '/');
	int fd;

	if (!slash) {
		*base = name;
		return dup(t->dirfd);
	}
	*slash = '\0';
	fd = syscall(SYS_openat2, t->dirfd, name, &how, sizeof(how));
	*slash = '/';
	*base = slash + 1;
	return fd < 0 ? -errno : fd;
}

/* n bytes of data, then the padding to the block, to fd (-1: dropped) */
static int data(struct tar_in *t, const char *name, int fd, uint64_t n)
{
	uint64_t pad = crfs_tar_pad(n);
	size_t k;
	int ret;

	while (n + pad) {
		ret = fill(t, 1);
		if (ret)
			return cut_short(t, ret, "inside a member");
		k = t->len - t->off;
		if (n) {
			k = k < n ? k : n;
			ret = fd >= 0 ? write_all(fd, (const char *)t->buf + t->off, k) : 0;
			if (ret)
				return TERR(t, "%s/%s: %s", t->dir, name,
					    strerror(-ret));
			n -= k;
		} else {
			k = k < pad ? k : pad;
			pad -= k;
		}
		t->off += k;
	}
	return 0;
}

/* owner before mode: a chown drops the set-id bits */
static int attrs(struct tar_in *t, int fd, const struct crfs_tar_member *m)
{
	struct timespec ts[2] = { { 0, UTIME_OMIT }, { m->mtime, 0 } };

	if (fchown(fd, m->uid, m->gid) || fchmod(fd, m->mode) ||
	    (m->type == '0' && futimens(fd, ts)))
		return TERR(t, "%s/%s: its owner, mode or time: %s", t->dir,
			    m->name, strerror(errno));
	return 0;
}

static int member(struct tar_in *t, struct crfs_tar_member *m)
{
	const char *base;
	char name[CRFS_TAR_NAME_MAX];
	int pfd, fd = -1, ret;

	/* tar -C DIR -c . names each "./NAME", and DIR itself "." */
	while (m->name[0] == '.' && m->name[1] == '/')
		m->name += 2;
	if (m->type == '5' && (!strcmp(m->name, ".") || !m->name[0]))
		return 0;
	if (!name_ok(m->name))
		return TERR(t, "%s: the stream names '%s': not a name inside the image", t->dir,
			    m->name);
	if (m->type != '0' && m->type != '5')
		return TERR(t, "%s/%s: a tar member of type '%c' (an image holds files and directories only)",
			    t->dir, m->name, m->type);
	snprintf(name, sizeof(name), "%s", m->name);
	m->name = name;
	pfd = parent_of(t, name, &base);
	if (pfd < 0)
		return TERR(t, "%s/%s: its directory: %s", t->dir, name,
			    strerror(-pfd));
	if (m->type == '5') {
		if (!mkdirat(pfd, base, 0700))
			fd = openat(pfd, base, O_RDONLY | O_DIRECTORY |
				    O_NOFOLLOW | O_CLOEXEC);
	} else {
		fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL |
			    O_NOFOLLOW | O_CLOEXEC, 0600);
	}
	close(pfd);
	if (fd < 0)
		return TERR(t, "%s/%s: %s", t->dir, name,
			    errno == EEXIST ? "in the stream twice" : strerror(errno));
	ret = data(t, name, m->type == '0' ? fd : -1, m->size) ?:
	      attrs(t, fd, m);
	close(fd);
	return ret;
}

/* a GNU long name: the data of an 'L' member, for the member after it */
static int long_name(struct tar_in *t, const struct crfs_tar_member *m,
		     char *name)
{
	uint64_t n = m->size, pad = crfs_tar_pad(n);
	int ret;

	if (n < 2 || n > CRFS_TAR_NAME_MAX)
		return TERR(t, "%s: a GNU long name of %llu bytes", t->dir,
			    (unsigned long long)n);
	ret = fill(t, n + pad);
	if (ret)
		return cut_short(t, ret, "inside a long name");
	memcpy(name, t->buf + t->off, n);
	t->off += n + pad;
	name[n - 1] = '\0';	/* it holds its NUL */
	return 0;
}

static int dir_empty(struct tar_in *t)
{
	int fd = dup(t->dirfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;
	int ret = 0;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return TERR(t, "%s: %s", t->dir, strerror(errno));
	}
	while (!ret && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			ret = TERR(t, "%s: not empty (it holds %s; --stream unpacks into an empty directory)",
				   t->dir, de->d_name);
	closedir(d);
	return ret;
}

static int unpack(struct tar_in *t)
{
	struct crfs_tar_member m;
	const unsigned char *b = NULL;
	char name[CRFS_TAR_NAME_MAX], longname[CRFS_TAR_NAME_MAX];
	bool have_long = false;
	int ret;

	for (;;) {
		ret = block(t, &b, "between members");
		if (ret)
			return ret;
		ret = crfs_tar_parse(b, &m, name, sizeof(name));
		if (ret == 1)
			break;
		if (ret)
			return TERR(t, "%s: a header in the stream: %s", t->dir,
				    ret == -ENAMETOOLONG ? "its name is too long" :
				    "not a tar header (its checksum, magic or a number field)");
		if (m.type == 'L') {
			ret = long_name(t, &m, longname);
			if (ret)
				return ret;
			have_long = true;
			continue;
		}
		if (have_long) {	/* a directory's '/' dropped, as parsed */
			size_t n = strlen(longname);

			while (m.type == '5' && n > 1 && longname[n - 1] == '/')
				longname[--n] = '\0';
			m.name = longname;
		}
		have_long = false;
		ret = member(t, &m);
		if (ret)
			return ret;
	}
	/* the second of the end's two zero blocks */
	ret = block(t, &b, "inside its end-of-archive blocks");
	if (ret)
		return ret;
	if (crfs_tar_parse(b, &m, name, sizeof(name)) != 1 || have_long)
		return TERR(t, "%s: a lone zero block inside the stream", t->dir);
	return 0;
}

int tar_in(const char *dir, int in_fd, char *err, size_t errlen)
{
	struct tar_in t = { .fd = in_fd, .dir = dir, .err = err,
			    .errlen = errlen };
	int ret;

	if (mkdir(dir, 0700) && errno != EEXIST)
		return TERR(&t, "%s: %s", dir, strerror(errno));
	t.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t.dirfd < 0)
		return TERR(&t, "%s: %s", dir, strerror(errno));
	t.buf = malloc(IN_BUF);
	ret = t.buf ? dir_empty(&t) : TERR(&t, "out of memory");
	ret = ret ?: unpack(&t);
	free(t.buf);
	close(t.dirfd);
	return ret;
}
