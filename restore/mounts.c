// SPDX-License-Identifier: MIT
/*
 * The container's mount tree (mounts, mnt/ID.tar): checked before anything
 * is made, then rebuilt in a mount namespace of ours before any file of
 * the image is opened.  Every mount is made detached first (a clone of
 * its host source, a tmpfs filled from its tar file, a fresh proc, sysfs,
 * mqueue or cgroup2), while the host's paths and tar(1) are still ours to
 * reach; then the root becomes ours (pivot_root) and the rest are
 * attached in the file's order; a bind of a part of a mount of the
 * container is cloned from that mount once it is attached.  A proc of a
 * new pid namespace can only be made from inside it: the tree's init
 * makes those (mnt_child), and attaches what is on or below it and the
 * binds of its parts, which would go down with our stand-in proc.
 * The image directory stays our cwd, in the old tree, which is detached.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "crfs/mounts.h"
#include "kh_mount.h"
#include "restore.h"

#define SAY(...) snprintf(err, errlen, __VA_ARGS__)
#define ERR(...) (SAY(__VA_ARGS__), -EINVAL)

struct mnt_state {
	struct crfs_mounts ms;
	int *fds;		/* detached mounts, -1 for none */
	bool *late;		/* attached by init, after its proc */
	int host_ns;		/* the mount namespace we started in */
	char dir[PATH_MAX];	/* img->dir as it was there */
};

static int p_mounts(struct crfs_text *t, void *o) { return parse_mounts(t, o); }

static bool in_child(const struct image *img, const struct crfs_mount *m)
{
	return img->new_pidns && m->kind == CRFS_MNT_FRESH &&
	       !strcmp(m->fstype, "proc");
}

static ssize_t mnt_index(const struct crfs_mounts *ms, int id)
{
	size_t i;

	for (i = 0; i < ms->n; i++)
		if (ms->m[i].id == id)
			return i;
	return -1;
}

/* the part of src's file system m is, relative to src's root: "" for all */
static const char *bind_rel(const struct crfs_mount *src,
			    const struct crfs_mount *m)
{
	size_t n = strcmp(src->root, "/") ? strlen(src->root) : 0;

	if (strncmp(src->root, m->root, n) || (m->root[n] && m->root[n] != '/'))
		return NULL;
	return m->root + n + (m->root[n] == '/');
}

/* its source an earlier mount of the file that is not a host's */
static int check_bind(const struct crfs_mounts *ms, size_t i, char *err,
		      size_t errlen)
{
	const struct crfs_mount *m = &ms->m[i];
	ssize_t s = mnt_index(ms, m->src);

	if (s < 0 || (size_t)s >= i || ms->m[s].kind == CRFS_MNT_HOST ||
	    ms->m[s].kind == CRFS_MNT_BIND || !bind_rel(&ms->m[s], m))
		return ERR("mount %s: a bind of %s of mount %d, which is not an earlier mount of the container's own holding it",
			   m->mountpoint, m->root, m->src);
	return 0;
}

static int check_one(const struct image *img, size_t i, char *err,
		     size_t errlen)
{
	const struct crfs_mount *m = &img->mnt->ms.m[i];
	char rel[64];
	struct stat st;

	if (m->kind == CRFS_MNT_HOST && stat(m->host, &st))
		return ERR("mount %s: its source %s is missing", m->mountpoint,
			   m->host);
	if (m->kind == CRFS_MNT_BIND)
		return check_bind(&img->mnt->ms, i, err, errlen);
	if (m->kind != CRFS_MNT_TMPFS)
		return 0;
	snprintf(rel, sizeof(rel), "%s/%d.tar", CRFS_D_MNT, m->id);
	if (!in_manifest(img, rel))
		return ERR("mount %s: its files %s/%s are not in the image",
			   m->mountpoint, img->dir, rel);
	return 0;
}

int mnt_check(struct image *img, char *err, size_t errlen)
{
	struct mnt_state *st;
	size_t i;
	int ret;

	if (!in_manifest(img, CRFS_F_MOUNTS))
		return 0;
	st = calloc(1, sizeof(*st));
	if (!st)
		return ERR("out of memory");
	st->host_ns = -1;
	img->mnt = st;
	ret = image_parse(img, CRFS_F_MOUNTS, p_mounts, &st->ms, err, errlen);
	if (!ret && (!st->ms.n || strcmp(st->ms.m[0].mountpoint, "/")))
		ret = ERR("%s/%s: the first mount is not the root", img->dir,
			  CRFS_F_MOUNTS);
	for (i = 0; !ret && i < st->ms.n; i++)
		ret = check_one(img, i, err, errlen);
	return ret;
}

/* a fresh super block; a tmpfs filled from its tar file before it is ro */
static int new_mount(int dir_fd, const struct crfs_mount *m, char *err,
		     size_t errlen)
{
	char bad[256] = "", rel[64];
	int fs = -1, fd, tar = -1, ret = 0;
	bool ro;

	fd = kh_mnt_new(m->fstype, m->source, m->super, &fs, &ro, bad,
			sizeof(bad));
	if (fd < 0)
		return SAY("mount %s: cannot make a %s with options %s%s%s: %s",
			   m->mountpoint, m->fstype, m->super,
			   *bad ? " (refused: " : "", *bad ? bad : "",
			   strerror(-fd)), -1;
	if (m->kind == CRFS_MNT_TMPFS) {
		snprintf(rel, sizeof(rel), "%s/%d.tar", CRFS_D_MNT, m->id);
		tar = openat(dir_fd, rel, O_RDONLY | O_CLOEXEC);
		ret = tar < 0 ? -errno : kh_mnt_tar_in(fd, tar);
		if (ret)
			SAY("mount %s: cannot fill it from %s with tar: %s",
			    m->mountpoint, rel, strerror(-ret));
	}
	if (!ret && ro && (ret = kh_mnt_sb_ro(fs)))
		SAY("mount %s: cannot make its super block read-only: %s",
		    m->mountpoint, strerror(-ret));
	if (tar >= 0)
		close(tar);
	close(fs);
	if (ret) {
		close(fd);
		return -1;
	}
	return fd;
}

static int make_detached(int dir_fd, const struct crfs_mount *m, char *err,
			 size_t errlen)
{
	unsigned long long attr;
	int fd, ret;

	if (kh_mnt_attr_flags(m->opts, &attr))
		return SAY("mount %s: mount options %s are not supported",
			   m->mountpoint, m->opts), -1;
	if (m->kind == CRFS_MNT_HOST) {
		fd = kh_mnt_clone(m->host);
		if (fd < 0)
			return SAY("mount %s: cannot clone its source %s: %s",
				   m->mountpoint, m->host, strerror(-fd)), -1;
	} else {
		fd = new_mount(dir_fd, m, err, errlen);
		if (fd < 0)
			return -1;
	}
	ret = kh_mnt_set(fd, attr, 0);
	if (ret) {
		close(fd);
		return SAY("mount %s: cannot set %s: %s", m->mountpoint,
			   m->opts, strerror(-ret)), -1;
	}
	return fd;
}

static unsigned long prop_flag(const char *prop)
{
	return !strcmp(prop, "shared") ? MS_SHARED :
	       !strcmp(prop, "slave") ? MS_SLAVE :
	       !strcmp(prop, "unbindable") ? MS_UNBINDABLE : MS_PRIVATE;
}

/*
 * The tar file of a tmpfs leaves out the mount points below it: made
 * again (a file for a bind of a file), never on a host's mount.
 */
static int make_mountpoint(int mnt_fd, const struct crfs_mounts *ms,
			   const struct crfs_mount *m)
{
	ssize_t i = mnt_index(ms, m->parent);
	struct stat st;
	int fd;

	if (i < 0 || ms->m[i].kind != CRFS_MNT_TMPFS)
		return -ENOENT;
	if (!fstat(mnt_fd, &st) && !S_ISDIR(st.st_mode)) {
		fd = open(m->mountpoint, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			  0644);
		return fd < 0 ? -errno : close(fd);
	}
	return mkdir(m->mountpoint, 0755) ? -errno : 0;
}

/* once attached: its flags again, with its propagation */
static int set_propagation(int fd, const struct crfs_mount *m, char *err,
			   size_t errlen)
{
	unsigned long long attr;
	int ret;

	kh_mnt_attr_flags(m->opts, &attr);
	ret = kh_mnt_set(fd, attr, prop_flag(m->prop));
	if (ret)
		return ERR("mount %s: cannot make it %s: %s", m->mountpoint,
			   m->prop, strerror(-ret));
	return 0;
}

/* attached where the container had it */
static int attach(int fd, const struct crfs_mounts *ms,
		  const struct crfs_mount *m, char *err, size_t errlen)
{
	int ret = kh_mnt_attach(fd, m->mountpoint);

	if (ret == -ENOENT && !make_mountpoint(fd, ms, m))
		ret = kh_mnt_attach(fd, m->mountpoint);
	if (ret)
		return ERR("mount %s: cannot attach it: %s", m->mountpoint,
			   strerror(-ret));
	return set_propagation(fd, m, err, errlen);
}

/* a bind of a part of a mount of the container, attached: cloned now */
static int clone_bind(struct mnt_state *st, size_t i, char *err,
		      size_t errlen)
{
	const struct crfs_mount *m = &st->ms.m[i];
	ssize_t s = mnt_index(&st->ms, m->src);
	int fd = kh_mnt_clone_at(st->fds[s], bind_rel(&st->ms.m[s], m));

	if (fd < 0)
		return ERR("mount %s: cannot clone %s of mount %s: %s",
			   m->mountpoint, m->root, st->ms.m[s].mountpoint,
			   strerror(-fd));
	st->fds[i] = fd;
	return 0;
}

static int attach_one(struct mnt_state *st, size_t i, char *err,
		      size_t errlen)
{
	int ret = 0;

	if (st->ms.m[i].kind == CRFS_MNT_BIND)
		ret = clone_bind(st, i, err, errlen);
	return ret ?: attach(st->fds[i], &st->ms, &st->ms.m[i], err, errlen);
}

/*
 * What init attaches after its proc: on or below a proc it makes, or a
 * bind of a part of one, or of those (the file has parents and sources
 * first).
 */
static int mark_late(const struct image *img, struct mnt_state *st)
{
	bool *dep = calloc(st->ms.n, sizeof(*dep));
	const struct crfs_mount *m;
	ssize_t p, s;
	size_t i;

	st->late = calloc(st->ms.n, sizeof(*st->late));
	if (!dep || !st->late) {
		free(dep);
		return -ENOMEM;
	}
	for (i = 0; i < st->ms.n; i++) {
		m = &st->ms.m[i];
		p = mnt_index(&st->ms, m->parent);
		s = m->kind == CRFS_MNT_BIND ? mnt_index(&st->ms, m->src) : -1;
		dep[i] = in_child(img, m) || (p >= 0 && dep[p]) ||
			 (s >= 0 && dep[s]);
		st->late[i] = dep[i] && !in_child(img, m);
	}
	free(dep);
	return 0;
}

/* the pages files were named by the path we leave: by our cwd now */
static void rebase_paths(struct image *img)
{
	size_t i, n = strlen(img->dir);
	char tmp[PATH_MAX];

	for (i = 0; i < img->nprocs; i++) {
		char *p = img->procs[i].pages_path;

		if (strncmp(p, img->dir, n))
			continue;
		snprintf(tmp, sizeof(tmp), ".%s", p + n);
		snprintf(p, sizeof(img->procs[i].pages_path), "%s", tmp);
	}
	snprintf(img->dir, sizeof(img->dir), ".");
}

/*
 * A proc init makes is first made by us, for our own /proc/self until we
 * fork: init takes it down and mounts its own (mnt_child).
 */
static int build(struct mnt_state *st, int dir_fd, char *err, size_t errlen)
{
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < st->ms.n; i++) {
		if (st->ms.m[i].kind == CRFS_MNT_BIND)
			continue;
		st->fds[i] = make_detached(dir_fd, &st->ms.m[i], err, errlen);
		ret = st->fds[i] < 0 ? -EINVAL : 0;
	}
	if (ret)
		return ret;
	ret = kh_mnt_pivot(st->fds[0]);
	if (ret)
		return ERR("mount /: cannot make it our root (pivot_root): %s",
			   strerror(-ret));
	ret = set_propagation(st->fds[0], &st->ms.m[0], err, errlen);
	for (i = 1; !ret && i < st->ms.n; i++)
		if (!st->late[i])
			ret = attach_one(st, i, err, errlen);
	return ret;
}

int mnt_restore(struct image *img, char *err, size_t errlen)
{
	struct mnt_state *st = img->mnt;
	int dir_fd, ret;
	size_t i;

	if (!st)
		return 0;
	st->fds = malloc(st->ms.n * sizeof(*st->fds));
	if (!st->fds)
		return ERR("out of memory");
	for (i = 0; i < st->ms.n; i++)
		st->fds[i] = -1;
	if (mark_late(img, st))
		return ERR("out of memory");
	snprintf(st->dir, sizeof(st->dir), "%s", img->dir);
	st->host_ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (st->host_ns < 0)
		return ERR("cannot open our mount namespace: %s",
			   strerror(errno));
	dir_fd = open(img->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0)
		return ERR("%s: %s", img->dir, strerror(errno));
	/* slaves, not private: a clone of one is a slave of the host's group */
	if (unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL))
		ret = ERR("cannot create a mount namespace: %s",
			  strerror(errno));
	else
		ret = build(st, dir_fd, err, errlen);
	if (!ret && fchdir(dir_fd))
		ret = ERR("%s: cannot go back to the image: %s", img->dir,
			  strerror(errno));
	if (!ret) {
		rebase_paths(img);
		ret = image_check_files(img, err, errlen);
	}
	close(dir_fd);
	return ret;
}

/*
 * init of the new pid namespace: its procs in place of ours, then what is
 * on or below them or bound from them (detached ones made by us)
 */
void mnt_child(struct image *img, int err_fd)
{
	struct mnt_state *st = img->mnt;
	char err[512];
	size_t i;

	for (i = 0; st && i < st->ms.n; i++) {
		if (st->late[i] && attach_one(st, i, err, sizeof(err)))
			child_fail(err_fd, "%s", err);
		if (!in_child(img, &st->ms.m[i]))
			continue;
		if (umount2(st->ms.m[i].mountpoint, MNT_DETACH))
			child_fail(err_fd, "mount %s: cannot take down our stand-in proc: %m",
				   st->ms.m[i].mountpoint);
		close(st->fds[i]);
		st->fds[i] = make_detached(-1, &st->ms.m[i], err, sizeof(err));
		if (st->fds[i] < 0 ||
		    attach(st->fds[i], &st->ms, &st->ms.m[i], err, sizeof(err)))
			child_fail(err_fd, "%s", err);
	}
}

/*
 * Once the root is forked, we go back to the mount namespace we started
 * in (before init replaces our stand-in proc): our /proc stays the one
 * that shows our pids, and nothing of ours stays in the container's.
 */
int mnt_leave(struct image *img)
{
	struct mnt_state *st = img->mnt;
	size_t i;

	if (!st || st->host_ns < 0)
		return 0;
	for (i = 0; st->fds && i < st->ms.n; i++)
		if (st->fds[i] >= 0)
			close(st->fds[i]);
	free(st->fds);
	st->fds = NULL;
	if (setns(st->host_ns, CLONE_NEWNS))
		return -errno;
	close(st->host_ns);
	st->host_ns = -1;
	snprintf(img->dir, sizeof(img->dir), "%s", st->dir);
	return 0;
}

void mnt_free(struct image *img)
{
	struct mnt_state *st = img->mnt;

	if (!st)
		return;
	mnt_leave(img);
	crfs_mounts_free(&st->ms);
	free(st->late);
	free(st);
	img->mnt = NULL;
}
