// SPDX-License-Identifier: MIT
/*
 * Binding a unix socket to its name again, where that is more than one
 * bind(): a relative name is bound from the directory its binder was in,
 * so getsockname() (and a peer's getpeername(), and recvfrom()) give that
 * relative name again.  The file is made in the directory the caller
 * holds (safe_path.h), not wherever the name leads at the moment.
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
#include "kh.h"

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

/*
 * In the directory dir_fd holds (kh_unix_bind_at): the name's directory
 * and, for a relative name, the binder's, in the name's terms.
 */
static int bind_held(int sk, const struct crfs_file *f, int dir_fd,
		     const struct sockaddr_un *a, socklen_t len)
{
	size_t pl = strlen(f->path), n = f->bindname ? strlen(f->bindname) : 0;
	struct sockaddr_un rel = { .sun_family = AF_UNIX };
	char *dir = strdupa(f->path), *cwd = NULL, *slash;

	slash = strrchr(dir, '/');
	/* / itself no one can swap */
	if (!slash || slash == dir || n + 1 >= pl || n >= sizeof(rel.sun_path))
		return -EOPNOTSUPP;
	*slash = '\0';
	if (f->bindname) {
		cwd = strndupa(f->path, pl - n - 1);
		memcpy(rel.sun_path, f->bindname, n);
		a = &rel;
		len = offsetof(struct sockaddr_un, sun_path) + n + 1;
	}
	return kh_unix_bind_at(sk, dir_fd, dir, cwd, a, len);
}

int unix_bind(int sk, const struct crfs_file *f, const struct sockaddr_un *a,
	      socklen_t len, int dir_fd)
{
	int ret = -EOPNOTSUPP;

	if (f->path && dir_fd >= 0)
		ret = bind_held(sk, f, dir_fd, a, len);
	if (ret != -EOPNOTSUPP)
		return ret ? (errno = -ret, -1) : 0;
	/* no mount namespace to do it in: by the name (checked just before) */
	if (f->bindname && f->path)
		return bind_relative(sk, f);
	return bind(sk, (const struct sockaddr *)a, len);
}
