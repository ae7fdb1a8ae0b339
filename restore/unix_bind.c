// SPDX-License-Identifier: MIT
/*
 * Binding a unix socket to its name again, where that is more than one
 * bind(): a relative name is bound from the directory its binder was in,
 * so getsockname() (and a peer's getpeername(), and recvfrom()) give that
 * relative name again; a socket whose file was unlinked together with its
 * directory (ghost) gets the directories for the moment of the bind, and
 * the file and those directories go again after.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "files.h"

/* the directories of path that are missing, made; *made: the length of
 * the first one made (0: none) */
static int make_dirs(const char *path, char *buf, size_t *made)
{
	char *p;

	*made = 0;
	if (strlen(path) >= PATH_MAX)
		return -ENAMETOOLONG;
	strcpy(buf, path);
	for (p = strchr(buf + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (!mkdir(buf, 0700)) {
			if (!*made)
				*made = strlen(buf);
		} else if (errno != EEXIST) {
			return -errno;
		}
		*p = '/';
	}
	return 0;
}

/* the file, then the directories made for it, deepest first */
static void remove_made(char *buf, size_t made)
{
	char *slash;

	unlink(buf);
	while ((slash = strrchr(buf, '/')) && (size_t)(slash - buf) >= made) {
		*slash = '\0';
		rmdir(buf);
	}
}

/* bind to f->bindname from the directory path names less it */
static int bind_relative(int sk, const struct crfs_file *f)
{
	size_t n = strlen(f->bindname), dl = strlen(f->path) - n - 1;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char dir[PATH_MAX];
	int cwd, ret, e;

	if (n >= sizeof(a.sun_path) || dl >= sizeof(dir))
		return errno = ENAMETOOLONG, -1;
	memcpy(a.sun_path, f->bindname, n);
	memcpy(dir, f->path, dl);
	dir[dl] = '\0';
	cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cwd < 0)
		return -1;
	ret = chdir(dl ? dir : "/");
	if (!ret)
		ret = bind(sk, (struct sockaddr *)&a,
			   offsetof(struct sockaddr_un, sun_path) + n + 1);
	e = errno;
	if (fchdir(cwd) && !ret)	/* restore goes on where it was */
		ret = -1, e = errno;
	close(cwd);
	errno = e;
	return ret;
}

int unix_bind(int sk, const struct crfs_file *f, const struct sockaddr_un *a,
	      socklen_t len)
{
	char buf[PATH_MAX];
	size_t made = 0;
	int ret, e;

	if (f->ghost && f->path) {
		ret = make_dirs(f->path, buf, &made);
		if (ret)
			return errno = -ret, -1;
	}
	if (f->bindname && f->path)
		ret = bind_relative(sk, f);
	else
		ret = bind(sk, (const struct sockaddr *)a, len);
	e = errno;
	if (made)
		remove_made(buf, made);
	errno = e;
	return ret;
}
