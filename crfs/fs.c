// SPDX-License-Identifier: MIT
/*
 * The filesystem: / holds one directory per container; a container shows
 * ctl always and, while frozen, its snapshot.  ctl and big files use direct
 * I/O: a read always reaches us and one read can move up to the kernel's
 * max_pages at once.  Small files go through the page cache, emptied at
 * every open: one READ fills it, and the reader's EOF costs no round trip.
 *
 * Names and attributes are cached by the kernel (and handed over with
 * READDIRPLUS), which spares a copy most of its round trips: a snapshot of
 * thousands of small files copies several times faster.  Whatever of a
 * container the kernel may hold is invalidated before any ctl command runs
 * and before a snapshot goes away, so a stat never sees an older freeze.
 * That is done by inval.c's thread, and waited for: only a read racing
 * with the command (whose page the kernel cannot drop until we answer)
 * makes us go on after INVAL_WAIT_MS without it, and that read fails.
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
#include "inval.h"
#include "live.h"

#define INO_SHIFT 24
#define BLKSIZE (1 << 20)
#define CACHE_SECONDS 60
#define INVAL_WAIT_MS 1000
#define SMALL_FILE (128 << 10)	/* the kernel's default readahead */
#define LIVE_INO (1 << 23)	/* live files' inodes: above any snapshot's */

struct handle {
	uint64_t cid;
	uint64_t gen;
	size_t entry;
	bool ctl;
	char *live;		/* a live view's file: its path in the container */
	struct strbuf text;	/* its text, rendered at each read from 0 */
	struct handle *prev, *next;	/* every open handle */
};

/* a connection aborted (umount -f) releases none: freed at destroy */
static struct handle *open_handles;

static void handle_link(struct handle *h)
{
	h->next = open_handles;
	if (open_handles)
		open_handles->prev = h;
	open_handles = h;
}

static void handle_free(struct handle *h)
{
	if (h->prev)
		h->prev->next = h->next;
	else
		open_handles = h->next;
	if (h->next)
		h->next->prev = h->prev;
	free(h->live);
	sb_free(&h->text);
	free(h);
}

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

/*
 * A live file is read-only, sized 0 and read with direct I/O (its text is
 * made at each read); its inode number is the container's plus 2^23 plus a
 * hash of its path.  The kernel may cache it: fs_write forgets it at the
 * next freeze (live_seen).
 */
static int getattr_live(struct container *c, const char *rest,
			struct stat *st)
{
	bool dir;
	int ret = live_stat(c, rest, &dir);

	if (ret)
		return ret;
	c->live_seen = true;
	fill_stat(st, (c->id << INO_SHIFT) | LIVE_INO |
		      (crfs_hash(rest, strlen(rest)) & (LIVE_INO - 1)),
		  dir, 0, time(NULL));
	st->st_mode &= ~0200;
	return 0;
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
	/* libfuse passes no path for a handle whose node is gone (a
	 * container removed, or its snapshot dropped, while it was open) */
	if (!path)
		return -ENOENT;
	if (!strcmp(path, "/")) {
		fill_stat(st, 1, true, 0, reg()->changed);
		return 0;
	}
	c = resolve(path, &rest);
	if (!c)
		return -ENOENT;
	if (!*rest) {
		fill_stat(st, c->id << INO_SHIFT, true, 0, c->changed);
		return 0;
	}
	if (!strcmp(rest, CRFS_F_CTL)) {
		ctl = container_render_ctl(c, &len);
		free(ctl);
		fill_stat(st, (c->id << INO_SHIFT) + 1, false, len, c->changed);
		return 0;
	}
	if (!c->snap)
		return getattr_live(c, rest, st);
	if (!(e = snapshot_find(c->snap, rest, &idx)))
		return -ENOENT;
	fill_entry(st, c, idx);
	return 0;
}

/*
 * Offsets: 1 ".", 2 "..", 3 ctl, then 3 + a position in the snapshot's
 * order.  Giving them (not 0) makes libfuse hand the kernel each entry's
 * attributes with READDIRPLUS, so a copy needs no LOOKUP per file.
 */
#define OFF_ENTRIES 3

static int fill_fixed(void *buf, fuse_fill_dir_t filler, off_t off,
		      const char *name, off_t at)
{
	return off < at ? filler(buf, name, NULL, at, 0) : 0;
}

static int list_containers(void *buf, fuse_fill_dir_t filler, off_t off)
{
	struct container *c;
	off_t at = OFF_ENTRIES;

	for (c = reg()->head; c; c = c->next)
		if (++at > off && filler(buf, c->name, NULL, at, 0))
			break;
	return 0;
}

struct live_fill {
	void *buf;
	fuse_fill_dir_t filler;
	off_t off, at;
};

static int live_fill_one(void *arg, const char *name)
{
	struct live_fill *lf = arg;

	return ++lf->at > lf->off && lf->filler(lf->buf, name, NULL, lf->at, 0);
}

/* after ctl in the container's directory, from 1 in one of its own */
static int readdir_live(struct container *c, const char *rest, void *buf,
			fuse_fill_dir_t filler, off_t off)
{
	struct live_fill lf = { buf, filler, off, *rest ? 2 : OFF_ENTRIES };
	int ret;

	if (!live_shown(c))
		return *rest ? -ENOENT : 0;
	c->live_seen = true;
	ret = live_list(c, rest, live_fill_one, &lf);
	return ret < 0 ? ret : 0;
}

static int fs_readdir(const char *path, void *buf, fuse_fill_dir_t filler,
		      off_t off, struct fuse_file_info *fi,
		      enum fuse_readdir_flags flags)
{
	struct container *c;
	const char *rest;
	struct stat st;
	size_t pos;
	ssize_t i;

	(void)fi;
	(void)flags;
	if (!path)	/* as in fs_getattr: the directory is gone */
		return -ENOENT;
	if (fill_fixed(buf, filler, off, ".", 1) ||
	    fill_fixed(buf, filler, off, "..", 2))
		return 0;
	if (!strcmp(path, "/"))
		return list_containers(buf, filler, off);
	c = resolve(path, &rest);
	if (!c)
		return -ENOENT;
	if (!*rest && fill_fixed(buf, filler, off, CRFS_F_CTL, OFF_ENTRIES))
		return 0;
	if (!c->snap)
		return readdir_live(c, rest, buf, filler, off);
	pos = off > OFF_ENTRIES ? off - OFF_ENTRIES : 0;
	while ((i = snapshot_next_child(c->snap, rest, &pos)) >= 0) {
		const char *name = c->snap->entries[i].path;
		const char *slash = strrchr(name, '/');

		fill_entry(&st, c, i);
		if (filler(buf, slash ? slash + 1 : name, &st,
			   OFF_ENTRIES + pos, FUSE_FILL_DIR_PLUS))
			break;
	}
	return 0;
}

/* a live file is made at each read from 0, so an open only checks it */
static int open_live(struct container *c, const char *rest,
		     struct handle *h, struct fuse_file_info *fi)
{
	bool dir;
	int ret = live_stat(c, rest, &dir);

	if (!ret && dir)
		ret = -EISDIR;
	if (!ret && (fi->flags & O_ACCMODE) != O_RDONLY)
		ret = -EACCES;
	if (!ret && !(h->live = strdup(rest)))
		ret = -ENOMEM;
	if (ret) {
		free(h);
		return ret;
	}
	sb_init(&h->text);
	handle_link(h);
	fi->fh = (uintptr_t)h;
	fi->direct_io = 1;
	fi->keep_cache = 0;
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
	if (!ctl && !c->snap)
		return open_live(c, rest, h, fi);
	if (!ctl && !snapshot_find(c->snap, rest, &h->entry)) {
		free(h);
		return -ENOENT;
	}
	if (!ctl && (fi->flags & O_ACCMODE) != O_RDONLY) {
		free(h);
		return -EACCES;
	}
	handle_link(h);
	fi->fh = (uintptr_t)h;
	fi->direct_io = ctl || c->snap->entries[h->entry].len > SMALL_FILE;
	fi->keep_cache = 0;
	return 0;
}

static int fs_release(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	handle_free((void *)(uintptr_t)fi->fh);
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

/*
 * A read from 0 renders the file as it is now (a process gone since is
 * ENOENT or ESRCH); reads further on continue that text, so one pass of
 * cat sees one render.  Frozen since the open: the live view is gone.
 */
static int read_live(struct container *c, struct handle *h, char *buf,
		     size_t size, off_t off)
{
	int ret;

	if (!off) {
		sb_free(&h->text);
		ret = live_render(c, h->live, &h->text);
		if (ret) {
			sb_free(&h->text);
			return ret;
		}
	}
	if ((size_t)off >= h->text.len)
		return 0;
	if (size > h->text.len - off)
		size = h->text.len - off;
	memcpy(buf, h->text.buf + off, size);
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
	if (h->live)
		return read_live(c, h, buf, size, off);
	/* thawed (or frozen again) since open: this copy is not consistent */
	if (c->gen != h->gen || !c->snap)
		return -EIO;
	e = &c->snap->entries[h->entry];
	if (e->kind == E_TEXT && !strcmp(e->path, CRFS_F_IMAGE) &&
	    c->snap->unsupported.len)
		return -EIO;
	return snapshot_read(c->snap, e, buf, size, off);
}

static char *path_of(const struct container *c, const char *rest)
{
	char *p;

	return asprintf(&p, "/%s/%s", c->name, rest) < 0 ? NULL : p;
}

/*
 * What the kernel holds of c: ctl and, with all, every snapshot file.  It
 * asks again at the next stat or read; an open reaches us anyway.
 */
static bool forget(struct registry *r, struct container *c, bool all, int ms)
{
	size_t i, n = 0, max = 1 + (all && c->snap ? c->snap->nentries : 0);
	char **paths;

	if (!r->fs || !(paths = malloc(max * sizeof(*paths))))
		return true;
	for (i = 0; i < max; i++)
		if ((paths[n] = path_of(c, i ? c->snap->entries[i - 1].path :
					   CRFS_F_CTL)))
			n++;
	return inval_paths(r->fs, paths, n, ms);
}

static void forget_container(struct registry *r, struct container *c)
{
	forget(r, c, true, INVAL_WAIT_MS);
}

static int fs_write(const char *path, const char *data, size_t size,
		    off_t off, struct fuse_file_info *fi)
{
	struct handle *h = (void *)(uintptr_t)fi->fh;
	struct container *c = registry_find_id(reg(), h->cid);
	char cmd[256];
	bool caught_up, live_seen;
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
	/* a worker stuck behind a reader stays stuck: wait for it once */
	caught_up = forget(reg(), c, true, INVAL_WAIT_MS);
	ret = container_inside(c, cmd, fuse_get_context()->pid);
	ret = ret > 0 ? 0 : ret ?: container_command(c, cmd);
	/* what the kernel holds of the live view has a snapshot's names
	 * but not its sizes: forgotten once there is a snapshot */
	live_seen = c->live_seen && c->snap;
	if (live_seen)
		c->live_seen = false;
	forget(reg(), c, live_seen, caught_up ? INVAL_WAIT_MS : 0);
	return ret ? ret : (int)size;
}

static int fs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	const char *rest;

	(void)size;
	(void)fi;
	if (!path || !resolve(path, &rest))
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

	/* every READDIRPLUS, not just the first of a directory: a big one
	 * takes several and a copy would LOOKUP what the rest hold */
	conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
	cfg->use_ino = 1;
	cfg->direct_io = 0;
	cfg->entry_timeout = CACHE_SECONDS;
	cfg->attr_timeout = CACHE_SECONDS;
	cfg->negative_timeout = 0;
	r->fs = calloc(1, sizeof(struct inval));
	if (r->fs && !inval_start(r->fs, fuse_get_context()->fuse))
		r->forget = forget_container;
	return r;
}

static void fs_destroy(void *data)
{
	struct registry *r = data;

	/* unmounted: let every frozen tree run again */
	registry_release_all(r);
	while (open_handles)
		handle_free(open_handles);
	if (r->fs)
		inval_stop(r->fs);
	free(r->fs);
	r->fs = NULL;
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
