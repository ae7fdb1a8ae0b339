// SPDX-License-Identifier: MIT
/*
 * The container's open files: the files table, the locks, the epoll and
 * inotify lists in fdata/, and every reference among them and from the
 * processes' fds, checked before anything is created.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crfs/mounts.h"
#include "image.h"

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -EINVAL)

static int p_files(struct crfs_text *t, void *o)
{
	struct image *img = o;

	return parse_files(t, &img->files, &img->nfiles);
}

static int p_locks(struct crfs_text *t, void *o)
{
	struct image *img = o;

	return parse_locks(t, &img->locks, &img->nlocks);
}

static int p_epoll(struct crfs_text *t, void *o)
{
	struct file_extra *x = o;

	return parse_epoll(t, &x->items, &x->nitems);
}

static int p_inotify(struct crfs_text *t, void *o)
{
	struct file_extra *x = o;

	return parse_inotify(t, &x->watches, &x->nwatches);
}

static int p_fanotify(struct crfs_text *t, void *o)
{
	struct file_extra *x = o;

	return parse_fanotify(t, &x->marks, &x->nmarks);
}

/* the fd of process p that refers to file id, or -1 */
int proc_fd_of(const struct proc_image *p, uint32_t id)
{
	size_t i;

	for (i = 0; i < p->nfds; i++)
		if (p->fds[i].file == id)
			return p->fds[i].fd;
	return -1;
}

/*
 * A flock lock is the description's, but /proc/locks names the process that
 * took it: that process takes it again (files_install), on its descriptor,
 * or on crfs-restore's copy if it closed its own since (zdtm file_locks03,
 * 04: a child holds it) and makes its table itself (no CLONE_FILES); else
 * crfs-restore does when it opens the file.
 */
bool flock_by_owner(const struct image *img, const struct crfs_file *f)
{
	const struct proc_image *o;

	if (!f->flock_pid)
		return false;
	o = image_proc(img, f->flock_pid);
	return o && !o->attr.zombie &&
	       (proc_fd_of(o, f->id) >= 0 || !o->attr.shares_files);
}

static int check_epoll(struct image *img, const struct crfs_file *f,
		       struct file_extra *x, char *err, size_t errlen)
{
	const struct proc_image *o = image_proc(img, f->owner);
	size_t i;

	if (!o || proc_fd_of(o, f->id) < 0)
		return ERR("%s/%s: epoll %u: owner %d holds no descriptor of it",
			   img->dir, CRFS_F_FILES, f->id, f->owner);
	for (i = 0; i < x->nitems; i++)
		if (x->items[i].file > img->nfiles)
			return ERR("%s/%s/%u: file %u is not in %s",
				   img->dir, CRFS_D_FDATA, f->id,
				   x->items[i].file, CRFS_F_FILES);
	return 0;
}

/* a file the image reopens by path must be there, of the same type */
static int check_path(const struct image *img, const struct crfs_file *f,
		      char *err, size_t errlen)
{
	struct stat st;

	if (f->kind != FK_FILE && f->kind != FK_CHR && f->kind != FK_FIFO)
		return 0;
	if (f->ghost)
		return 0;	/* deleted: made again for a while */
	if (shm_named_path(img, f->path))
		return 0;	/* POSIX shm the image holds: made before */
	/* a symlink held itself (O_PATH | O_NOFOLLOW) may lead nowhere */
	if ((S_ISLNK(f->mode) ? lstat : stat)(f->path, &st))
		return ERR("%s: open in the image (file %u), but %s", f->path,
			   f->id, strerror(errno));
	if ((st.st_mode & S_IFMT) != (f->mode & S_IFMT))
		return ERR("%s: file %u: the file changed type", f->path, f->id);
	return 0;
}

static int check_pipe(struct image *img, const struct crfs_file *f, char *err,
		      size_t errlen)
{
	if ((f->kind == FK_PIPE || f->kind == FK_FIFO) &&
	    f->data > f->pipe_size)
		return ERR("%s/%s: file %u: %lu bytes queued in a pipe of %u",
			   img->dir, CRFS_F_FILES, f->id, f->data, f->pipe_size);
	return 0;
}

static int load_lists(struct image *img, char *err, size_t errlen)
{
	char rel[64];
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < img->nfiles; i++) {
		const struct crfs_file *f = &img->files[i];

		snprintf(rel, sizeof(rel), "%s/%u", CRFS_D_FDATA, f->id);
		if (f->kind == FK_EPOLL && f->data)
			ret = image_parse(img, rel, p_epoll, &img->fx[i], err,
					  errlen);
		if (f->kind == FK_INOTIFY && f->data)
			ret = image_parse(img, rel, p_inotify, &img->fx[i], err,
					  errlen);
		if (f->kind == FK_FANOTIFY && f->data)
			ret = image_parse(img, rel, p_fanotify, &img->fx[i],
					  err, errlen);
		if (!ret && f->kind == FK_EPOLL)
			ret = check_epoll(img, f, &img->fx[i], err, errlen);
		/* -1: one that exited (the parser checked its status) */
		if (!ret && f->kind == FK_PIDFD && f->pidfd_pid > 0 &&
		    !image_proc(img, f->pidfd_pid))
			ret = ERR("%s/%s: file %u: a pidfd of %d, which the image does not have",
				  img->dir, CRFS_F_FILES, f->id, f->pidfd_pid);
		/* with a mount tree: once it is built (image_check_files) */
		if (!in_manifest(img, CRFS_F_MOUNTS))
			ret = ret ?: check_path(img, f, err, errlen);
		ret = ret ?: check_pipe(img, f, err, errlen);
	}
	return ret;
}

int image_check_paths(struct image *img, char *err, size_t errlen)
{
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < img->nfiles; i++)
		ret = check_path(img, &img->files[i], err, errlen);
	return ret;
}

static int check_refs(struct image *img, char *err, size_t errlen)
{
	const struct crfs_lock *l;
	const struct proc_image *p;
	size_t i, k;

	for (i = 0; i < img->nprocs; i++) {
		p = &img->procs[i];
		for (k = 0; k < p->nfds; k++)
			if (p->fds[k].file > img->nfiles)
				return ERR("%s/%d/%s: fd %d refers to file %u, which %s/%s does not have",
					   img->dir, p->pid, CRFS_F_FDS,
					   p->fds[k].fd, p->fds[k].file,
					   img->dir, CRFS_F_FILES);
	}
	for (i = 0; i < img->nlocks; i++) {
		l = &img->locks[i];
		p = image_proc(img, l->pid);
		if (l->file > img->nfiles ||
		    (!l->ofd && (!p || proc_fd_of(p, l->file) < 0)))
			return ERR("%s/%s: line %zu: no process %d holding file %u",
				   img->dir, CRFS_F_LOCKS, i + 1, l->pid,
				   l->file);
	}
	return 0;
}

int image_load_files(struct image *img, char *err, size_t errlen)
{
	int ret;

	ret = image_parse(img, CRFS_F_FILES, p_files, img, err, errlen);
	ret = ret ?: image_parse(img, CRFS_F_LOCKS, p_locks, img, err, errlen);
	if (ret)
		return ret;
	img->fx = calloc(img->nfiles + 1, sizeof(*img->fx));
	if (!img->fx)
		return ERR("out of memory");
	ret = check_refs(img, err, errlen);
	return ret ?: load_lists(img, err, errlen);
}

void image_free_files(struct image *img)
{
	size_t i;

	for (i = 0; img->fx && i < img->nfiles; i++) {
		free(img->fx[i].items);
		free_inotify(img->fx[i].watches, img->fx[i].nwatches);
		free_fanotify(img->fx[i].marks, img->fx[i].nmarks);
	}
	free(img->fx);
	free_files(img->files, img->nfiles);
	free(img->locks);
}
