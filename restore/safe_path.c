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
 * fchmodat(AT_SYMLINK_NOFOLLOW) do not).  Checked with lstat() component
 * by component just before use: a directory swapped for a symlink in
 * between is the residue docs/SECURITY.md names.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "safe_path.h"

int safe_path(const char *path, char *why, size_t len)
{
	char buf[PATH_MAX], *p;
	struct stat st;

	if (strlen(path) >= sizeof(buf)) {
		snprintf(why, len, "%.64s...: path too long", path);
		return -ENAMETOOLONG;
	}
	strcpy(buf, path);
	for (p = strchr(buf + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		/* what is missing, restore makes itself (ghost_mkparent) */
		if (lstat(buf, &st))
			return 0;
		if (S_ISLNK(st.st_mode) && st.st_uid) {
			snprintf(why, len, "%s is a symlink owned by uid %u: not followed",
				 buf, st.st_uid);
			return -ELOOP;
		}
		*p = '/';
	}
	return 0;
}
