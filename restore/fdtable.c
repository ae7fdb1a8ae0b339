// SPDX-License-Identifier: MIT
/*
 * What every kind of open file calls back while crfs-restore builds the
 * table and each child installs its part: where a file's slot is (place),
 * its payload (read_fdata), and how a failure is told (FAIL in the table,
 * child_fail in a child).  Apart from files.c so that the kinds' files
 * (sockets.c, pty.c, ...) and files.c do not call each other in circles.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kh.h"
#include "files.h"

int place(struct open_ctx *c, const struct crfs_file *f, int fd)
{
	int s = slot(c->img, f->id);

	if (fd < 0)
		return FAIL(c, "file %u (%s): %s", f->id, file_kind_name(f->kind),
			    strerror(errno));
	if (fd == s)
		return 0;
	if (dup2(fd, s) < 0) {
		close(fd);
		return FAIL(c, "file %u: dup2 to %d: %s", f->id, s,
			    strerror(errno));
	}
	close(fd);
	return 0;
}

int read_fdata(struct open_ctx *c, const struct crfs_file *f,
	       const char *suffix, char **buf, size_t *len)
{
	char path[PATH_MAX + 64];
	int ret;

	*buf = NULL;
	*len = 0;
	if (!f->data && !*suffix)
		return 0;
	snprintf(path, sizeof(path), "%s/%s/%u%s", c->img->dir, CRFS_D_FDATA,
		 f->id, suffix);
	ret = kh_read_file(path, buf, len);
	if (ret)
		return FAIL(c, "%s: %s", path, strerror(-ret));
	if (!*suffix && *len != f->data) {
		free(*buf);
		*buf = NULL;	/* the callers free it on every path */
		return FAIL(c, "%s: %zu bytes, %s says %lu", path, *len,
			    CRFS_F_FILES, f->data);
	}
	return 0;
}

int write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n < 0)
			return -errno;
		buf += n;
		len -= n;
	}
	return 0;
}

/*
 * The bytes of a file made anew, from offset 0: blocks of zeroes are not
 * written, so the holes of a sparse file are holes again (SEEK_HOLE finds
 * them, it takes no more space than it did); the size is set last.
 */
int write_sparse(int fd, const char *buf, size_t len)
{
	static const char zero[4096];
	size_t off, part;
	ssize_t n;

	for (off = 0; off < len; off += part) {
		part = len - off < sizeof(zero) ? len - off : sizeof(zero);
		if (!memcmp(buf + off, zero, part))
			continue;
		n = pwrite(fd, buf + off, part, off);
		if (n < 0)
			return -errno;
		part = n;
	}
	return ftruncate(fd, len) ? -errno : 0;
}

void child_fail(int err_fd, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int n;

	n = snprintf(msg, sizeof(msg) - 1, "pid %d: ", getpid());
	va_start(ap, fmt);
	n += vsnprintf(msg + n, sizeof(msg) - 1 - n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(msg) - 2)
		n = sizeof(msg) - 2;
	msg[n++] = '\n';
	if (write(err_fd, msg, n) < 0)
		_exit(2);
	_exit(1);
}
