// SPDX-License-Identifier: MIT
/*
 * Files under /proc/PID (FK_PROC).  One of a process of the image is
 * opened by each holder once a process has that pid again (like a pidfd),
 * at its offset.  One of a process that had exited is opened here against
 * a helper with that pid, which then exits: it reads ESRCH, as it did.
 */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "files.h"

static int proc_flags(const struct crfs_file *f)
{
	return (f->flags & ~(O_CREAT | O_EXCL | O_TRUNC)) | O_NOCTTY |
	       O_CLOEXEC;
}

/* the helper waits for the end of our pipe, then exits */
int open_proc_dead(struct open_ctx *c, const struct crfs_file *f)
{
	int p[2], fd, e;
	pid_t h;
	char b;

	if (pipe2(p, O_CLOEXEC))
		return FAIL(c, "file %u (%s): pipe: %s", f->id, f->path,
			    strerror(errno));
	h = kh_clone_with_pid(f->proc_pid, 0, NULL);
	if (h == 0) {
		close(p[1]);
		_exit(read(p[0], &b, 1) < 0);
	}
	close(p[0]);
	if (h < 0) {
		close(p[1]);
		return FAIL(c, "file %u (%s): a helper with pid %d, which had exited: %s",
			    f->id, f->path, f->proc_pid, strerror(-h));
	}
	fd = open(f->path, proc_flags(f));
	e = errno;
	close(p[1]);
	waitpid(h, NULL, __WALL);
	if (fd < 0)
		return FAIL(c, "file %u: %s of the helper: %s", f->id, f->path,
			    strerror(e));
	if (f->pos && !(f->flags & O_PATH))
		lseek(fd, f->pos, SEEK_SET);
	return place(c, f, fd);
}

/* its process may still be on its way: restores run in parallel */
static int open_live(const struct crfs_file *f, int at, int err_fd)
{
	int fd, tries;

	for (tries = 0; (fd = open(f->path, proc_flags(f))) < 0; tries++) {
		if (errno != ENOENT || tries == 500)
			child_fail(err_fd, "fd %d: %s: %m", at, f->path);
		usleep(10000);
	}
	if (f->pos && !(f->flags & O_PATH) &&
	    lseek(fd, f->pos, SEEK_SET) != (off_t)f->pos)
		child_fail(err_fd, "fd %d: %s: cannot seek to %lu: %m", at,
			   f->path, f->pos);
	return fd;
}

static bool live_proc(const struct crfs_file *f)
{
	return f->kind == FK_PROC && !f->dead;
}

bool opened_by_holder(const struct crfs_file *f)
{
	return (f->kind == FK_PIDFD && f->pidfd_pid > 0) || live_proc(f) ||
	       (f->kind == FK_NSFD && f->ns_pid);
}

/* descriptors of one file in one process share one open description */
void open_proc_files(struct image *img, struct proc_image *p, int err_fd)
{
	const struct crfs_file *f;
	size_t i, k;
	int fd;

	for (i = 0; i < p->nfds; i++) {
		f = &img->files[p->fds[i].file - 1];
		if (!live_proc(f))
			continue;
		for (k = 0; k < i && p->fds[k].file != p->fds[i].file; k++)
			;
		fd = k < i ? fcntl(p->fds[k].fd, F_DUPFD_CLOEXEC, 0) :
			     open_live(f, p->fds[i].fd, err_fd);
		if (fd < 0)
			child_fail(err_fd, "fd %d: dup: %m", p->fds[i].fd);
		if (fd != p->fds[i].fd && dup2(fd, p->fds[i].fd) < 0)
			child_fail(err_fd, "fd %d: dup2: %m", p->fds[i].fd);
		if (fd != p->fds[i].fd)
			close(fd);
		if (!p->fds[i].cloexec)
			fcntl(p->fds[i].fd, F_SETFD, 0);
	}
}
