// SPDX-License-Identifier: MIT
/*
 * A unix socket bound to a relative path: the name it keeps (and
 * getsockname() returns) was resolved from its binder's working directory
 * at bind time, which nothing records.  sock_diag gives the device and
 * inode of the socket file; the working directories of the container's
 * processes, the holder's first, are tried for a file that is it.  The
 * image keeps the name and the absolute path; restore binds the name from
 * that directory again.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "files.h"
#include "kh.h"

/* is NAME from pid's working directory the socket's file?  its path then */
static char *try_cwd(pid_t pid, const struct kh_unix *u, const char *name)
{
	char link[64], cwd[PATH_MAX], *path = NULL, *look;
	struct stat st;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/cwd", kh_via(pid));
	n = readlink(link, cwd, sizeof(cwd) - 1);
	if (n <= 0 || cwd[0] != '/')
		return NULL;	/* gone, or "... (deleted)" is caught below */
	cwd[n] = '\0';
	if (asprintf(&path, "%s/%s", strcmp(cwd, "/") ? cwd : "", name) < 0)
		return NULL;
	look = mnt_path(pid, path);
	if (!look || stat(look, &st) || !kh_unix_bound_file(u, &st)) {
		free(look);
		free(path);
		return NULL;
	}
	free(look);
	return path;
}

const char *unix_relative_name(struct files_ctx *c, const struct kh_unix *u,
			       pid_t holder, struct crfs_file *cf)
{
	pid_t last = holder;
	size_t i;

	cf->bindname = strndup(u->name, u->namelen);
	if (!cf->bindname)
		return "out of memory";
	cf->path = try_cwd(holder, u, cf->bindname);
	for (i = 0; !cf->path && i < c->s->nfds; i++)
		if (c->s->fds[i].pid != last)
			cf->path = try_cwd(last = c->s->fds[i].pid, u,
					   cf->bindname);
	if (!cf->path)
		return "bound to a relative path whose socket file is in no working directory of the container (removed, or its binder moved)";
	return NULL;
}
