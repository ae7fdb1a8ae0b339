// SPDX-License-Identifier: MIT
/*
 * bind() of a unix socket to an absolute name, made in a directory held
 * open, not in whatever that name leads to when bind() walks it.  bind()
 * takes only a path, and the socket keeps that path as its name
 * (getsockname, peers, /proc/net/unix): it cannot be bound through
 * /proc/self/fd/N/NAME without showing that name.  So a child builds a
 * world where the name can lead nowhere else: in a mount namespace of its
 * own, a fresh tmpfs is its root, the directories of the name are made in
 * it, the held directory is mounted (a clone) where the name's directory
 * is, and bind() runs there with the very name.  The file is made in the
 * held directory; the socket keeps its mount alive after the child is gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "kh.h"

/* the child's exit status when it could not build its world */
#define NO_WORLD 255

/* dir and the directories above it, made in the child's tmpfs root */
static int mkdirs(const char *dir)
{
	char buf[PATH_MAX], *p;

	if (strlen(dir) >= sizeof(buf))
		return -1;
	strcpy(buf, dir);
	for (p = buf + 1;; p++) {
		if (*p && *p != '/')
			continue;
		if (p > buf + 1 && p[-1] != '/') {
			char c = *p;

			*p = '\0';
			if (mkdir(buf, 0700) && errno != EEXIST)
				return -1;
			*p = c;
		}
		if (!*p)
			return 0;
	}
}

/* the child: its own world, then the bind; an errno or NO_WORLD */
static int child(int sk, int dir_fd, const char *dir, const char *cwd,
		 const struct sockaddr_un *a, socklen_t len)
{
	int tree, fs, mnt;

	/* cloned while its mount is in our namespace: a tree of its own */
	tree = open_tree(dir_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
			 AT_EMPTY_PATH);
	if (tree < 0 || unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return NO_WORLD;
	fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0 || fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0))
		return NO_WORLD;
	mnt = fsmount(fs, FSMOUNT_CLOEXEC, 0);
	/* over / and entered, as switch_root does */
	if (mnt < 0 || fchdir(mnt) ||
	    move_mount(mnt, "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH) ||
	    chroot(".") || chdir("/") || mkdirs(dir) ||
	    move_mount(tree, "", AT_FDCWD, dir, MOVE_MOUNT_F_EMPTY_PATH) ||
	    (cwd && chdir(cwd)))
		return NO_WORLD;
	return bind(sk, (const struct sockaddr *)a, len) ? errno : 0;
}

int kh_unix_bind_at(int sk, int dir_fd, const char *dir, const char *cwd,
		    const struct sockaddr_un *a, socklen_t len)
{
	pid_t pid;
	int st;

	if (*dir != '/' || (cwd && *cwd != '/'))
		return -EOPNOTSUPP;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid)
		_exit(child(sk, dir_fd, dir, cwd, a, len));
	if (waitpid(pid, &st, 0) != pid)
		return -errno;
	if (!WIFEXITED(st))
		return -EIO;
	if (WEXITSTATUS(st) == NO_WORLD)
		return -EOPNOTSUPP;
	return -WEXITSTATUS(st);
}
