// SPDX-License-Identifier: MIT
/*
 * The filesystem: / holds one directory per container; a container shows
 * ctl always and, while frozen, its snapshot.  Files use direct I/O so a
 * read always reaches us (no stale page cache across freezes) and one read
 * can move up to the kernel's max_pages at once.
 *
 * Names and attributes are cached by the kernel (and handed over with
 * READDIRPLUS), which spares a copy most of its round trips: a snapshot of
 * thousands of small files copies several times faster.  Whatever of a
 * container the kernel may hold is invalidated before any ctl command runs
 * and before a snapshot goes away, so a stat never sees an older freeze.
 */
#define FUSE_USE_VERSION 35
#include <errno.h>
#include <fuse.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "container.h"
#include "fs.h"

#define INO_SHIFT 24
#define BLKSIZE (1 << 20)
#define CACHE_SECONDS 60

struct handle {
	uint64_t cid;
	uint64_t gen;
	size_t entry;
	bool ctl;
};

static struct registry *reg(void)
{
	return fuse_get_context()->private_data;
}

/* Splits "/NAME/rest" into its container and rest ("" for the dir). */
static struct container *resolve(const char *path, const char **rest)
{
	char name[256];
	const char *p = path + 1, *slash = strchr(p, '/');
	size_t n = slash ? (size_t)(slash - p) : strlen(p);

	if (!n || n >= sizeof(name))
		return NULL;
	memcpy(name, p, n);
	name[n] = '\0';
	*rest = slash ? slash + 1 : "";
	return registry_find(reg(), name);
}

static void fill_stat(struct stat *st, uint64_t ino, bool dir, size_t size,
		      time_t when)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = dir ? S_IFDIR | 0700 : S_IFREG | 0600;
	st->st_nlink = dir ? 2 : 1;
	st->st_uid = getuid();
	st->st_gid = getgid();
	st->st_size = size;
	st->st_blocks = (size + 511) / 512;
	st->st_blksize = BLKSIZE;
	st->st_atime = st->st_mtime = st->st_ctime = when;
}

static void fill_entry(struct stat *st, const struct container *c, size_t idx)
{
	const struct entry *e = &c->snap->entries[idx];

	fill_stat(st, (c->id << INO_SHIFT) + 2 + idx, e->kind == E_DIR, e->len,
		  c->snap->when);
}

static int fs_getattr(const char *path, struct stat *st,
		      struct fuse_file_info *fi)
{
	const struct entry *e;
	struct container *c;
	const char *rest;
	size_t idx, len;
	char *ctl;

	(void)fi;
	if (!strcmp(path, "/")) {
		fill_stat(st, 1, true, 0, 0);
		return 0;
	}
	c = resolve(path, &rest);
	if (!c)
		return -ENOENT;
	if (!*rest) {
		fill_stat(st, c->id << INO_SHIFT, true, 0, 0);
		return 0;
	}
	if (!strcmp(rest, CRFS_F_CTL)) {
		ctl = container_render_ctl(c, &len);
		free(ctl);
		fill_stat(st, (c->id << INO_SHIFT) + 1, false, len, c->changed);
		return 0;
	}
	if (c->state != C_FROZEN || !(e = snapshot_find(c->snap, rest, &idx)))
		return -ENOENT;
	fill_entry(st, c, idx);
	return 0;
}

static int fill_dir(void *buf, fuse_fill_dir_t filler, const char *name)
{
	return filler(buf, name, NULL, 0, 0);
}

static int fs_readdir(const char *path, void *buf, fuse_fill_dir_t filler,
		      off_t off, struct fuse_file_info *fi,
		      enum fuse_readdir_flags flags)
{
	struct container *c;
	const char *rest, *p;
	struct stat st;
	size_t i, n;

	(void)off;
	(void)fi;
	(void)flags;
	fill_dir(buf, filler, ".");
	fill_dir(buf, filler, "..");
	if (!strcmp(path, "/")) {
		for (c = reg()->head; c; c = c->next)
			fill_dir(buf, filler, c->name);
		return 0;
	}
	c = resolve(path, &rest);
	if (!c)
		return -ENOENT;
	if (!*rest)
		fill_dir(buf, filler, CRFS_F_CTL);
	if (c->state != C_FROZEN)
		return *rest ? -ENOENT : 0;
	n = strlen(rest);
	for (i = 0; i < c->snap->nentries; i++) {
		p = c->snap->entries[i].path;
		if (n && (strncmp(p, rest, n) || p[n] != '/'))
			continue;
		p += n ? n + 1 : 0;
		if (strchr(p, '/'))
			continue;
		fill_entry(&st, c, i);
		filler(buf, p, &st, 0, FUSE_FILL_DIR_PLUS);
	}
	return 0;
}

static int fs_open(const char *path, struct fuse_file_info *fi)
{
	struct handle *h;
	struct container *c;
	const char *rest;
	bool ctl;

	c = resolve(path, &rest);
	if (!c || !*rest)
		return -ENOENT;
	ctl = !strcmp(rest, CRFS_F_CTL);
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->cid = c->id;
	h->gen = c->gen;
	h->ctl = ctl;
	if (!ctl && (c->state != C_FROZEN ||
		     !snapshot_find(c->snap, rest, &h->entry))) {
		free(h);
		return -ENOENT;
	}
	if (!ctl && (fi->flags & O_ACCMODE) != O_RDONLY) {
		free(h);
		return -EACCES;
	}
	fi->fh = (uintptr_t)h;
	fi->direct_io = 1;
	return 0;
}

static int fs_release(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	free((void *)(uintptr_t)fi->fh);
	return 0;
}

static int read_ctl(struct container *c, char *buf, size_t size, off_t off)
{
	size_t len;
	char *text = container_render_ctl(c, &len);

	if ((size_t)off >= len) {
		size = 0;
	} else {
		if (size > len - off)
			size = len - off;
		memcpy(buf, text + off, size);
	}
	free(text);
	return size;
}

static int fs_read(const char *path, char *buf, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	struct handle *h = (void *)(uintptr_t)fi->fh;
	struct container *c = registry_find_id(reg(), h->cid);
	const struct entry *e;

	(void)path;
	if (!c)
		return -ENOENT;
	if (h->ctl)
		return read_ctl(c, buf, size, off);
	/* thawed (or frozen again) since open: this copy is not consistent */
	if (c->gen != h->gen || c->state != C_FROZEN)
		return -EIO;
	e = &c->snap->entries[h->entry];
	if (e->kind == E_TEXT && !strcmp(e->path, CRFS_F_IMAGE) &&
	    c->snap->unsupported.len)
		return -EIO;
	return snapshot_read(c->snap, e, buf, size, off);
}

static void forget_path(struct registry *r, const struct container *c,
			const char *rest)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/%s/%s", c->name, rest);
	fuse_invalidate_path(r->fs, path);
}

/*
 * Attributes only: the kernel asks again at the next stat, and an open
 * reaches us anyway.  Each is one write to /dev/fuse, or nothing when the
 * kernel never looked the name up; no directory lock is taken, so this
 * is safe from inside a request.
 */
static void forget_container(struct registry *r, struct container *c)
{
	size_t i;

	forget_path(r, c, CRFS_F_CTL);
	for (i = 0; c->snap && i < c->snap->nentries; i++)
		forget_path(r, c, c->snap->entries[i].path);
}

static int fs_write(const char *path, const char *data, size_t size,
		    off_t off, struct fuse_file_info *fi)
{
	struct handle *h = (void *)(uintptr_t)fi->fh;
	struct container *c = registry_find_id(reg(), h->cid);
	char cmd[256];
	int ret;

	(void)path;
	(void)off;
	if (!c)
		return -ENOENT;
	if (!h->ctl)
		return -EACCES;
	if (size >= sizeof(cmd))
		return -EINVAL;
	memcpy(cmd, data, size);
	cmd[size] = '\0';
	forget_container(reg(), c);
	ret = container_command(c, cmd);
	forget_container(reg(), c);
	return ret ? ret : (int)size;
}

static int fs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	const char *rest;

	(void)size;
	(void)fi;
	if (!resolve(path, &rest))
		return -ENOENT;
	return strcmp(rest, CRFS_F_CTL) ? -EACCES : 0;
}

static int fs_mkdir(const char *path, mode_t mode)
{
	const char *name = path + 1;

	(void)mode;
	if (strchr(name, '/'))
		return -EPERM;
	if (strlen(name) > 200)
		return -ENAMETOOLONG;
	return registry_add(reg(), name);
}

static int fs_rmdir(const char *path)
{
	if (strchr(path + 1, '/'))
		return -EPERM;
	return registry_remove(reg(), path + 1);
}

static void *fs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	struct registry *r = fuse_get_context()->private_data;

	(void)conn;
	cfg->use_ino = 1;
	cfg->direct_io = 1;
	cfg->entry_timeout = CACHE_SECONDS;
	cfg->attr_timeout = CACHE_SECONDS;
	cfg->negative_timeout = 0;
	r->fs = fuse_get_context()->fuse;
	r->forget = forget_container;
	return r;
}

static void fs_destroy(void *data)
{
	/* unmounted: let every frozen tree run again */
	registry_release_all(data);
}

const struct fuse_operations crfs_ops = {
	.init = fs_init,
	.destroy = fs_destroy,
	.getattr = fs_getattr,
	.readdir = fs_readdir,
	.open = fs_open,
	.release = fs_release,
	.read = fs_read,
	.write = fs_write,
	.truncate = fs_truncate,
	.mkdir = fs_mkdir,
	.rmdir = fs_rmdir,
};
