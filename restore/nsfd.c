// SPDX-License-Identifier: MIT
/*
 * Namespace files held open (FK_NSFD).  The daemon's own namespace of a
 * kind is crfs-restore's: opened before it enters the tree's new ones,
 * and inherited through the file table.  A namespace of the tree is
 * opened by each holder once it runs inside: the root's net, uts, ipc,
 * time or mount namespace as its own (/proc/thread-self/ns/KIND), a pid
 * namespace through NS_GET_PARENT from its own when that is one of its
 * ancestors, else through a pidfd of the namespace's init.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kh.h"
#include "restore.h"
#include "files.h"

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -EINVAL)

static int *held;	/* per file id - 1: the daemon's namespace, or -1 */

static int check_one(const struct image *img, const struct crfs_file *f,
		     char *err, size_t errlen)
{
	const struct proc_image *p = f->ns_pid ? image_proc(img, f->ns_pid) : NULL;

	if (!ns_kind_known(f->ns_type))
		return ERR("%s/%s: file %u: unknown namespace kind '%s'",
			   img->dir, CRFS_F_FILES, f->id, f->ns_type);
	if (!f->ns_pid)
		return 0;
	if (!p)
		return ERR("%s/%s: file %u: namespace of process %d, which is not in the image",
			   img->dir, CRFS_F_FILES, f->id, f->ns_pid);
	if (!strcmp(f->ns_type, "pid") ?
	    p->attr.nspid[p->attr.nspid_n - 1] != 1 || p->attr.nspid_n < 2 :
	    p != &img->procs[0] || !strcmp(f->ns_type, "user") ||
	    !strcmp(f->ns_type, "cgroup"))
		return ERR("%s/%s: file %u: a %s namespace of process %d is not one restore makes",
			   img->dir, CRFS_F_FILES, f->id, f->ns_type, f->ns_pid);
	return 0;
}

int nsfd_prepare(struct image *img, char *err, size_t errlen)
{
	char path[64];
	size_t i;
	int ret;

	held = malloc((img->nfiles + 1) * sizeof(*held));
	if (!held)
		return ERR("out of memory");
	for (i = 0; i < img->nfiles; i++) {
		const struct crfs_file *f = &img->files[i];

		held[i] = -1;
		if (f->kind != FK_NSFD)
			continue;
		ret = check_one(img, f, err, errlen);
		if (ret)
			return ret;
		if (f->ns_pid)
			continue;
		snprintf(path, sizeof(path), "/proc/self/ns/%s", f->ns_type);
		held[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (held[i] < 0)
			return ERR("file %u: our %s namespace (%s): %s", f->id,
				   f->ns_type, path, strerror(errno));
	}
	return 0;
}

int open_nsfd(struct open_ctx *c, const struct crfs_file *f)
{
	int fd;

	if (f->ns_pid)
		return 0;	/* its holders open it */
	fd = held[f->id - 1];
	held[f->id - 1] = -1;
	return place(c, f, fd);
}

void nsfd_done(void)
{
	free(held);
	held = NULL;
}

static int open_one(struct image *img, struct proc_image *p,
		    const struct crfs_file *f)
{
	char path[64];
	int fd;

	if (!strcmp(f->ns_type, "pid"))
		return pidns_open(img, p, image_proc(img, f->ns_pid));
	snprintf(path, sizeof(path), "/proc/thread-self/ns/%s", f->ns_type);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

void nsfd_install(struct image *img, struct proc_image *p, int err_fd)
{
	const struct crfs_file *f;
	size_t i;
	int fd;

	for (i = 0; i < p->nfds; i++) {
		f = &img->files[p->fds[i].file - 1];
		if (f->kind != FK_NSFD || !f->ns_pid)
			continue;
		fd = open_one(img, p, f);
		if (fd < 0)
			child_fail(err_fd, "fd %d: the %s namespace of process %d: %s",
				   p->fds[i].fd, f->ns_type, f->ns_pid,
				   strerror(-fd));
		if (fd != p->fds[i].fd && dup2(fd, p->fds[i].fd) < 0)
			child_fail(err_fd, "fd %d: dup2: %m", p->fds[i].fd);
		if (fd != p->fds[i].fd)
			close(fd);
		if (fcntl(p->fds[i].fd, F_SETFD,
			  p->fds[i].cloexec ? FD_CLOEXEC : 0))
			child_fail(err_fd, "fd %d: F_SETFD: %m", p->fds[i].fd);
	}
}
