// SPDX-License-Identifier: MIT
/*
 * The root's own mount namespace: its mount tree as the root's
 * mountinfo shows it, saved to the container's mounts file.  A mount of
 * a super block that one of ours also shows is the host's: saved by its
 * host path (found from our mount of that device whose root holds its
 * root), never copied.  A tmpfs of its own is copied with its files
 * (mnt/ID.tar); proc, sysfs, mqueue, cgroup2 and devpts (with no pty
 * open) are made anew; a bind of a part of one of those (runc's masked
 * and read-only paths) is made from it again.
 * Everything else is refused by name.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "kh.h"
#include "crfs/array.h"
#include "crfs/mounts.h"
#include "kh_mount.h"
#include "snapshot.h"

struct mnt_ctx {
	struct snapshot *s;
	pid_t root;
	struct kh_mount *ours, *theirs;
	size_t nours, ntheirs;
	struct crfs_mounts out;
	bool made_dir;		/* mnt/ */
};

static const char *const fresh_types[] = {
	"proc", "sysfs", "mqueue", "cgroup2",
};	/* and devpts, once check_ptys() found no pty open on it */

#define REPORT(c, m, fmt, ...)						\
	snapshot_report((c)->s, "process %d: mount %s: " fmt, (c)->root,	\
			(m)->mountpoint, ##__VA_ARGS__)

static bool same_dev(const struct kh_mount *a, const struct kh_mount *b)
{
	return a->major == b->major && a->minor == b->minor;
}

/* dir is a path prefix of path, component-wise */
static size_t under(const char *dir, const char *path)
{
	size_t n = strlen(dir);

	if (!strcmp(dir, "/"))
		return 0;
	if (strncmp(dir, path, n) || (path[n] && path[n] != '/'))
		return (size_t)-1;
	return n;
}

/*
 * Our mount of the same device whose root holds m's root, the deepest:
 * host path = its mount point + the rest of m's root.
 */
static char *host_path(struct mnt_ctx *c, const struct kh_mount *m)
{
	const struct kh_mount *best = NULL;
	size_t i, n, best_n = 0;
	const char *rest;
	char *p;

	for (i = 0; i < c->nours; i++) {
		if (!same_dev(&c->ours[i], m))
			continue;
		n = under(c->ours[i].root, m->root);
		if (n == (size_t)-1 || (best && n <= best_n))
			continue;
		best = &c->ours[i];
		best_n = n;
	}
	if (!best)
		return NULL;
	rest = m->root + best_n;
	if (!strcmp(rest, "/"))
		rest = "";
	if (asprintf(&p, "%s%s", !strcmp(best->mountpoint, "/") && *rest ?
		     "" : best->mountpoint, rest) < 0)
		return NULL;
	return p;
}

static bool ours_has_dev(const struct mnt_ctx *c, const struct kh_mount *m)
{
	size_t i;

	for (i = 0; i < c->nours; i++)
		if (same_dev(&c->ours[i], m))
			return true;
	return false;
}

static int classify_host(struct mnt_ctx *c, const struct kh_mount *m,
			 struct crfs_mount *o)
{
	struct stat st;
	size_t i;

	o->kind = CRFS_MNT_HOST;
	o->host = host_path(c, m);
	if (!o->host) {
		REPORT(c, m, "its source (root %s of device %u:%u) is under none of our mounts: not supported",
		       m->root, m->major, m->minor);
		return 0;
	}
	/* a FUSE server may be ours (a stat would wait for us) or frozen */
	for (i = 0; i < c->nours; i++)
		if (!strncmp(c->ours[i].fstype, "fuse", 4) &&
		    under(c->ours[i].mountpoint, o->host) != (size_t)-1)
			return 0;
	if (stat(o->host, &st) || st.st_dev != makedev(m->major, m->minor))
		REPORT(c, m, "its source %s is hidden by another mount on the host: not supported",
		       o->host);
	return 0;
}

/* "./X" for each mount point below m's: restore makes them again */
static char **below(const struct mnt_ctx *c, const struct kh_mount *m,
		    size_t *n)
{
	char **out = calloc(c->ntheirs, sizeof(*out));
	size_t i, k;

	*n = 0;
	for (i = 0; out && i < c->ntheirs; i++) {
		k = under(m->mountpoint, c->theirs[i].mountpoint);
		if (k == (size_t)-1 || !c->theirs[i].mountpoint[k])
			continue;
		if (asprintf(&out[*n], ".%s", c->theirs[i].mountpoint + k) < 0)
			break;
		(*n)++;
	}
	return out;
}

static int add_tar(struct mnt_ctx *c, const struct kh_mount *m)
{
	char path[64], *buf = NULL, **skip;
	size_t len = 0, nskip, i;
	int ret;

	skip = below(c, m, &nskip);
	if (!skip)
		return -ENOMEM;
	ret = kh_mnt_tar_out(c->root, m->mountpoint,
			     makedev(m->major, m->minor), skip, nskip, &buf,
			     &len);
	for (i = 0; i < nskip; i++)
		free(skip[i]);
	free(skip);
	if (ret == -EXDEV) {
		REPORT(c, m, "a tmpfs hidden under another mount: its files cannot be read");
		return 0;
	}
	if (ret) {
		REPORT(c, m, "cannot copy the files of its tmpfs with tar: %s",
		       strerror(-ret));
		return 0;
	}
	if (!c->made_dir) {
		ret = snapshot_add(c->s, CRFS_D_MNT, E_DIR, NULL, 0, -1);
		if (ret) {
			free(buf);
			return ret;
		}
		c->made_dir = true;
	}
	snprintf(path, sizeof(path), "%s/%d.tar", CRFS_D_MNT, m->id);
	return snapshot_add(c->s, path, E_TEXT, buf, len, -1);
}

/* a second mount of one super block inside: a bind made in there */
static bool bound_inside(const struct mnt_ctx *c, const struct kh_mount *m)
{
	const struct kh_mount *t;

	for (t = c->theirs; t < m; t++)
		if (same_dev(t, m))
			return true;
	return strcmp(m->root, "/");
}

/* the path to m crosses a FUSE mount: a lookup there may never return */
static bool below_fuse(const struct mnt_ctx *c, const struct kh_mount *m)
{
	size_t i, depth;
	int id = m->parent;

	for (depth = 0; depth < c->ntheirs; depth++) {
		for (i = 0; i < c->ntheirs && c->theirs[i].id != id; i++)
			;
		if (i == c->ntheirs)
			return false;
		if (!strncmp(c->theirs[i].fstype, "fuse", 4))
			return true;
		id = c->theirs[i].parent;
	}
	return false;
}

/*
 * The first mount of m's super block in the container, when it is an
 * earlier one of its whole file system: m is a bind of a part of it
 * (runc binds parts of its proc onto themselves read-only, and its
 * /dev's null onto files of proc).
 */
static const struct kh_mount *bound_from(const struct mnt_ctx *c,
					 const struct kh_mount *m)
{
	const struct kh_mount *t;

	for (t = c->theirs; t < m && !same_dev(t, m); t++)
		;
	return t < m && !strcmp(t->root, "/") ? t : NULL;
}

/*
 * Restore clones the part from the source as it makes it again: for a
 * tmpfs, from its tar file, which leaves out what its own mounts hide.
 */
static int classify_bind(struct mnt_ctx *c, const struct kh_mount *m,
			 const struct kh_mount *src, struct crfs_mount *o)
{
	const struct kh_mount *t;
	size_t k;

	o->kind = CRFS_MNT_BIND;
	o->src = src->id;
	for (t = c->theirs; strcmp(src->fstype, "tmpfs") == 0 && t < m; t++) {
		k = under(src->mountpoint, t->mountpoint);
		if (t->parent != src->id || k == (size_t)-1 ||
		    under(t->mountpoint + k, m->root) == (size_t)-1)
			continue;
		REPORT(c, m, "a bind of %s of the container's tmpfs at %s, hidden there by mount %s: not supported",
		       m->root, src->mountpoint, t->mountpoint);
	}
	return 0;
}

/*
 * A devpts of the container's own comes back empty: a pty open on it (or
 * a ptmx, which may be its) would be lost.
 */
static void check_ptys(struct mnt_ctx *c, const struct kh_mount *m)
{
	const struct kh_fd *f;
	const char *base;
	size_t i;

	for (i = 0; i < c->s->nfds; i++) {
		f = &c->s->fds[i];
		base = f->link ? strrchr(f->link, '/') : NULL;
		if ((f->st_ok && f->st.st_dev == makedev(m->major, m->minor)) ||
		    (base && !strcmp(base, "/ptmx"))) {
			REPORT(c, m, "a pty of its own devpts is open (process %d fd %d %s): not supported",
			       f->pid, f->fd, f->link);
			return;
		}
	}
}

static int classify(struct mnt_ctx *c, const struct kh_mount *m,
		    struct crfs_mount *o)
{
	const struct kh_mount *src;
	size_t i;

	if (ours_has_dev(c, m))
		return classify_host(c, m, o);
	src = bound_from(c, m);
	if (src)
		return classify_bind(c, m, src, o);
	if (bound_inside(c, m)) {
		REPORT(c, m, "a bind of (part of) %s %s mounted in the container: not supported",
		       m->fstype, m->source);
		return 0;
	}
	if (!strcmp(m->fstype, "tmpfs")) {
		o->kind = CRFS_MNT_TMPFS;
		if (below_fuse(c, m)) {
			REPORT(c, m, "a tmpfs below a FUSE mount (whose server may be frozen): not supported");
			return 0;
		}
		return add_tar(c, m);
	}
	o->kind = CRFS_MNT_FRESH;
	for (i = 0; i < sizeof(fresh_types) / sizeof(fresh_types[0]); i++)
		if (!strcmp(m->fstype, fresh_types[i]))
			return 0;
	if (!strcmp(m->fstype, "devpts"))
		check_ptys(c, m);
	else
		REPORT(c, m, "file system %s (source %s) is not the host's: only tmpfs, proc, sysfs, mqueue, cgroup2 and devpts are made again",
		       m->fstype, m->source);
	return 0;
}

/* optional is a list of tokens such as "shared:1 master:2" */
static bool has_tok(const char *optional, const char *tok)
{
	size_t n = strlen(tok);
	const char *p;

	for (p = optional; (p = strstr(p, tok)); p += n)
		if ((p == optional || p[-1] == ' ') && (!p[n] || p[n] == ' '))
			return true;
	return false;
}

/*
 * A slave of one of our peer groups, on a host mount of that device:
 * restore clones the host's mount, a slave of the same group (it makes
 * its own copies of ours slaves, not private).
 */
static bool host_group(const struct mnt_ctx *c, const struct kh_mount *m,
		       const char *group)
{
	char tok[32];
	size_t i;

	snprintf(tok, sizeof(tok), "shared:%s", group);
	for (i = 0; i < c->nours; i++)
		if (same_dev(&c->ours[i], m) &&
		    has_tok(c->ours[i].optional, tok))
			return true;
	return false;
}

/* shared with ours or with another of theirs: refused; a slave of ours */
static const char *propagation(struct mnt_ctx *c, const struct kh_mount *m)
{
	char *dup = strdup(m->optional), *cur = dup, *tok;
	const char *prop = "private";
	bool slave = false;
	size_t i;

	while (dup && (tok = strsep(&cur, " "))) {
		if (!strcmp(tok, "unbindable")) {
			prop = "unbindable";
		} else if (!strncmp(tok, "shared:", 7)) {
			prop = "shared";
			for (i = 0; i < c->nours; i++)
				if (has_tok(c->ours[i].optional, tok))
					break;
			if (i < c->nours)
				REPORT(c, m, "shared with mounts outside the container (peer group %s): not supported",
				       tok + 7);
			for (i = 0; i < c->ntheirs; i++)
				if (&c->theirs[i] != m &&
				    has_tok(c->theirs[i].optional, tok))
					break;
			if (i < c->ntheirs)
				REPORT(c, m, "peer group %s has other mounts in the container: not supported",
				       tok + 7);
		} else if (!strncmp(tok, "master:", 7) && !slave) {
			slave = true;
			if (!host_group(c, m, tok + 7))
				REPORT(c, m, "receives propagation (%s) from a peer group that is not one of ours: not supported",
				       tok);
		} else if (*tok) {
			REPORT(c, m, "receives propagation (%s): not supported",
			       tok);
		}
	}
	free(dup);
	if (slave && strcmp(prop, "private"))
		REPORT(c, m, "a slave that is %s too: not supported", prop);
	return slave ? "slave" : prop;
}

static int save_one(struct mnt_ctx *c, const struct kh_mount *m)
{
	struct crfs_mount *o = array_room(c->out.m, c->out.n, sizeof(*o));
	unsigned long long attr;

	if (!o)
		return -ENOMEM;
	c->out.m = o;
	o = &o[c->out.n++];
	memset(o, 0, sizeof(*o));
	o->id = m->id;
	o->parent = m->parent;
	o->mountpoint = strdup(m->mountpoint);
	o->root = strdup(m->root);
	o->fstype = strdup(m->fstype);
	o->source = strdup(*m->source ? m->source : "none");
	o->opts = strdup(m->opts);
	o->super = strdup(*m->super ? m->super : "rw");
	o->prop = strdup(propagation(c, m));
	if (!o->mountpoint || !o->root || !o->fstype || !o->source ||
	    !o->opts || !o->super || !o->prop)
		return -ENOMEM;
	if (kh_mnt_attr_flags(m->opts, &attr))
		REPORT(c, m, "mount options %s: not supported", m->opts);
	if (m != c->theirs && !strcmp(m->mountpoint, "/"))
		REPORT(c, m, "mounted over the container's root: not supported");
	return classify(c, m, o);
}

static bool has_id(const struct kh_mount *m, size_t n, int id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (m[i].id == id)
			return true;
	return false;
}

/*
 * Its path inside leads to it all the same (a copy of the mount it is
 * on).  Not asked of a FUSE file: its server may be us, or frozen.
 */
static bool same_inside(const struct mnt_ctx *c, const struct kh_fd *f)
{
	struct stat st;
	char *look;
	bool same;
	size_t i;

	if (!f->st_ok)
		return false;
	for (i = 0; i < c->nours; i++)
		if (!strncmp(c->ours[i].fstype, "fuse", 4) &&
		    makedev(c->ours[i].major, c->ours[i].minor) == f->st.st_dev)
			return false;
	look = mnt_path(f->pid, f->link);
	same = look && !stat(look, &st) && st.st_dev == f->st.st_dev &&
	       st.st_ino == f->st.st_ino;
	free(look);
	return same;
}

/*
 * A file the tree opened before it entered its root (a runtime's log,
 * a host file) is on no mount of its tree: restore, which looks its path
 * up inside, would not find it, or find another (when its path inside
 * leads to the same file, it is fine).  Files of the kernel's
 * own mounts (pipes, sockets, anon inodes, memfds) have no path.
 */
static void check_outside(struct mnt_ctx *c)
{
	const struct kh_fd *f;
	const char *id;
	size_t i;
	int mnt;

	for (i = 0; i < c->s->nfds; i++) {
		f = &c->s->fds[i];
		if (!f->link || f->link[0] != '/' ||
		    !strncmp(f->link, "/memfd:", 7) || !f->info)
			continue;
		id = strstr(f->info, "mnt_id:");
		if (!id || sscanf(id + 7, "%d", &mnt) != 1 ||
		    has_id(c->theirs, c->ntheirs, mnt) || same_inside(c, f))
			continue;
		snapshot_report(c->s, "process %d: fd %d (%s) is on a mount outside its mount namespace (opened before it entered it?): not supported",
				f->pid, f->fd, f->link);
	}
}

/* 1 if pid's mount namespace is not ours, 0 if it is, or -errno */
static int other_mnt_ns(pid_t pid)
{
	char *mine, *theirs;
	int ret = kh_proc_link(getpid(), "ns/mnt", &mine);

	if (ret)
		return ret;
	ret = kh_proc_link(pid, "ns/mnt", &theirs);
	if (!ret) {
		ret = strcmp(mine, theirs) != 0;
		free(theirs);
	}
	free(mine);
	return ret;
}

/*
 * Parents before children, otherwise mountinfo's order (the order the
 * mounts were made, over-mounts included); the root first, and only one.
 */
static int order(struct mnt_ctx *c)
{
	struct kh_mount *m = c->theirs, tmp;
	size_t done = 0, i, roots = 0;

	for (i = 0; i < c->ntheirs; i++)
		roots += !has_id(m, c->ntheirs, m[i].parent);
	if (roots != 1)
		return -EINVAL;
	while (done < c->ntheirs) {
		for (i = done; i < c->ntheirs; i++)
			if (done ? has_id(m, done, m[i].parent) :
				   !has_id(m, c->ntheirs, m[i].parent))
				break;
		if (i == c->ntheirs)
			return -EINVAL;	/* a loop: cannot be */
		tmp = m[i];
		memmove(&m[done + 1], &m[done], (i - done) * sizeof(*m));
		m[done++] = tmp;
	}
	return strcmp(m[0].mountpoint, "/") ? -EINVAL : 0;
}

/*
 * mountinfo is read as the root sees it: a process chrooted inside the
 * namespace would see only the mounts below its root, and the rest of
 * the tree would not be what it sees.
 */
static void check_chroots(struct snapshot *s)
{
	char *link;
	size_t i;

	for (i = 0; i < s->nprocs; i++) {
		if (!s->procs[i].has_fds ||
		    kh_proc_link(s->procs[i].pid, "root", &link))
			continue;
		if (strcmp(link, "/"))
			snapshot_report(s, "process %d: chrooted to %s inside its own mount namespace: not supported",
					s->procs[i].pid, link);
		free(link);
	}
}

int capture_mounts(struct snapshot *s, pid_t root)
{
	struct mnt_ctx c = { .s = s, .root = root };
	size_t i;
	int ret = other_mnt_ns(root);

	/* ours, or ours plus a proc (unshare --mount-proc): attr proc_mount */
	if (ret <= 0 || mnt_ns_proc_only(root))
		return ret < 0 ? ret : 0;
	ret = kh_mountinfo(0, &c.ours, &c.nours);
	ret = ret ?: kh_mountinfo(root, &c.theirs, &c.ntheirs);
	if (!ret && order(&c)) {
		snapshot_report(s, "process %d: its mount tree has no single root mount on /: not supported",
				root);
		goto out;
	}
	for (i = 0; !ret && i < c.ntheirs; i++)
		ret = save_one(&c, &c.theirs[i]);
	check_outside(&c);
	check_chroots(s);
	ret = ret ?: RENDER(s, CRFS_F_MOUNTS, render_mounts, &c.out);
out:
	crfs_mounts_free(&c.out);
	kh_mountinfo_free(c.ours, c.nours);
	kh_mountinfo_free(c.theirs, c.ntheirs);
	return ret;
}

int mnt_ns_root(struct snapshot *s, pid_t pid, pid_t root, const char *theirs)
{
	char *rootns = NULL;

	if (kh_proc_link(root, "ns/mnt", &rootns))
		return 0;
	if (strcmp(rootns, theirs))
		snapshot_report(s, "process %d: in a mnt namespace (%s) other than the root's (%s): not supported",
				pid, theirs, rootns);
	free(rootns);
	return 1;
}

/*
 * A path as pid sees it, for the daemon to look up: through
 * /proc/PID/root when pid is in another mount namespace than ours.
 */
char *mnt_path(pid_t pid, const char *path)
{
	char *out = NULL;

	if (other_mnt_ns(pid) <= 0)
		return strdup(path);
	if (asprintf(&out, "/proc/%d/root%s", kh_via(pid), path) < 0)
		return NULL;
	return out;
}
