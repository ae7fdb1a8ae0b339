// SPDX-License-Identifier: MIT
/*
 * The image's cgroups: before the tree is forked, each cgroup of the
 * cgroup file is checked (there already, with the image's limits: used as
 * it is; with others: refused by name) or made with the image's limits.
 * Then every process joins its own cgroups itself, first thing after its
 * fork, before it runs any code of the image; the root makes the cgroup
 * namespace first, from the namespace's root cgroups, so that its
 * children are born in it.  A failed restore removes what it made.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "crfs/array.h"
#include "crfs/cgroup.h"
#include "kh_cgroup.h"
#include "cgroup.h"
#include "restore.h"

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -EINVAL)

static struct {
	struct crfs_cgroups cg;
	struct kh_cg_mount *m;
	size_t nm;
	char **dirs;		/* each place's directory */
	int *dfds;		/* ... opened (O_PATH) while it is ours to see */
	struct stat *dst;	/* ... what dfds were */
	char **made;		/* cgroups we created, parents first */
	size_t nmade;
	bool *given;		/* each group: a --cgroup-root, used as it is */
	bool *host;		/* ... the cgroup crfs ran in or above: likewise */
} st;

static int p_cg(struct crfs_text *t, void *o) { return parse_cgroups(t, o); }

static bool in_image(const struct image *img)
{
	size_t i;

	for (i = 0; i < img->hdr.nfiles; i++)
		if (!strcmp(img->hdr.files[i].path, CRFS_F_CGROUP))
			return true;
	return false;
}

/* an existing cgroup is used only if it is limited as the image says */
static int check_limits(const struct crfs_cg_group *g, const char *dir,
			char *err, size_t errlen)
{
	const struct crfs_cg_limit *l;
	char *cur;
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < g->nlimits; i++) {
		l = &g->limits[i];
		if (kh_cg_read(dir, l->file, &cur))
			return ERR("%s: cgroup %s:%s exists but has no %s here (is its controller available?)",
				   CRFS_F_CGROUP, g->hier, g->path, l->file);
		if (strcmp(cur, l->value))
			ret = ERR("%s: cgroup %s:%s exists with %s '%s', the image has '%s': remove the cgroup or give it the image's limits",
				  CRFS_F_CGROUP, g->hier, g->path, l->file, cur,
				  l->value);
		free(cur);
	}
	return ret;
}

/* "+ctrl" for each controller the image had enabled for the children */
static int enable_controllers(const char *dir, const char *value)
{
	char *dup = strdup(value), *cur = dup, *tok, one[128];
	int ret = dup ? 0 : -ENOMEM;

	while (!ret && (tok = strsep(&cur, " ")))
		if (*tok) {
			snprintf(one, sizeof(one), "+%s", tok);
			ret = kh_cg_write(dir, "cgroup.subtree_control", one);
		}
	free(dup);
	return ret;
}

/* a v1 devices allow list: deny all, then allow each line, in order */
static int set_devices(const char *dir, const char *value)
{
	char *dup = strdup(value), *cur = dup, *tok;
	int ret = dup ? kh_cg_write(dir, "devices.deny", "a") : -ENOMEM;

	while (!ret && (tok = strsep(&cur, "\n")))
		if (*tok)
			ret = kh_cg_write(dir, "devices.allow", tok);
	free(dup);
	return ret;
}

static int set_limits(const struct crfs_cg_group *g, const char *dir,
		      char *err, size_t errlen)
{
	const struct crfs_cg_limit *l;
	char *cur;
	size_t i;
	int ret;

	for (i = 0; i < g->nlimits; i++) {
		l = &g->limits[i];
		ret = kh_cg_read(dir, l->file, &cur);
		if (ret)
			return ERR("%s: cgroup %s:%s: no %s here (is its controller available?)",
				   CRFS_F_CGROUP, g->hier, g->path, l->file);
		/* a fresh cgroup already has most: write only what differs */
		ret = !strcmp(cur, l->value) ? 0 :
		      !strcmp(l->file, "cgroup.subtree_control") ?
		      enable_controllers(dir, l->value) :
		      !strcmp(l->file, "devices.list") ?
		      set_devices(dir, l->value) :
		      kh_cg_write(dir, l->file, l->value);
		free(cur);
		if (ret)
			return ERR("%s: cgroup %s:%s: cannot set %s to '%s': %s",
				   CRFS_F_CGROUP, g->hier, g->path, l->file,
				   l->value, strerror(-ret));
	}
	return 0;
}

static int make_group(const struct crfs_cg_group *g, char *dir, char *err,
		      size_t errlen)
{
	char **nm;
	int ret = kh_cg_mkdir(dir);

	if (ret)
		return ERR("%s: cannot create cgroup %s:%s (%s): %s",
			   CRFS_F_CGROUP, g->hier, g->path, dir,
			   strerror(-ret));
	nm = array_room(st.made, st.nmade, sizeof(*st.made));
	if (!nm) {
		kh_cg_rmdir(dir);
		return -ENOMEM;
	}
	st.made = nm;
	st.made[st.nmade++] = strdup(dir);
	return set_limits(g, dir, err, errlen);
}

static int prepare_group(const struct crfs_cg_group *g, bool given,
			 bool host, char *err, size_t errlen)
{
	char *dir = kh_cg_dir(st.m, st.nm, g->hier, g->path);
	int ret;

	if (!dir)
		return ERR("%s: cgroup %s:%s: hierarchy %s is not mounted here",
			   CRFS_F_CGROUP, g->hier, g->path, g->hier);
	ret = kh_cg_exists(dir);
	if (ret < 0)
		ret = ERR("%s: cgroup %s:%s (%s): %s", CRFS_F_CGROUP, g->hier,
			  g->path, dir, strerror(-ret));
	else if (given)
		ret = ret ? 0 : ERR("--cgroup-root: there is no cgroup %s:%s",
				    g->hier, g->path);
	else if (host)
		ret = ret ? 0 : ERR("%s: there is no cgroup %s:%s here (crfs ran in it or below it)",
				    CRFS_F_CGROUP, g->hier, g->path);
	else if (ret)
		ret = check_limits(g, dir, err, errlen);
	else
		ret = make_group(g, dir, err, errlen);
	free(dir);
	return ret;
}

static const char *root_for(const struct cg_root *r, size_t n,
			    const char *hier)
{
	const char *any = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		if (r[i].hier && !strcmp(r[i].hier, hier))
			return r[i].path;
		if (!r[i].hier)
			any = r[i].path;
	}
	return any;
}

static const char *base_of(const char *hier)
{
	size_t i;

	for (i = 0; i < st.cg.nplaces; i++)
		if (st.cg.places[i].pid < 0 &&
		    !strcmp(st.cg.places[i].hier, hier))
			return st.cg.places[i].path;
	return NULL;
}

/*
 * PATH below the daemon's cgroup BASE goes to the same place below the
 * root given instead; BASE itself becomes that root (*given).
 */
static int remap(char **path, const char *hier, const struct cg_root *r,
		 size_t n, bool *given, char *err, size_t errlen)
{
	const char *root = root_for(r, n, hier), *base = base_of(hier), *rest;
	size_t len;
	char *np;

	if (!root)
		return 0;
	if (!base)
		return ERR("%s: no base line for hierarchy %s (needed for --cgroup-root)",
			   CRFS_F_CGROUP, hier);
	len = strcmp(base, "/") ? strlen(base) : 0;
	rest = *path + len;
	if (strncmp(*path, base, len) || (*rest && *rest != '/'))
		return ERR("%s: cgroup %s:%s is not below the cgroup crfs ran in (%s): --cgroup-root cannot place it",
			   CRFS_F_CGROUP, hier, *path, base);
	if (given)
		*given = !*rest;
	if (asprintf(&np, "%s%s", strcmp(root, "/") ? root : "", rest) < 0)
		return -ENOMEM;
	if (!*np) {
		free(np);
		np = strdup("/");
	}
	free(*path);
	*path = np;
	return np ? 0 : -ENOMEM;
}

/* the tree's cgroups are made below it: it must be there */
static int root_exists(const char *hier, const struct cg_root *r, size_t n,
		       char *err, size_t errlen)
{
	const char *root = root_for(r, n, hier);
	char *dir;
	int ret;

	if (!root)
		return 0;
	dir = kh_cg_dir(st.m, st.nm, hier, root);
	ret = dir ? kh_cg_exists(dir) : 0;
	free(dir);
	return ret > 0 ? 0 : ERR("--cgroup-root: there is no cgroup %s:%s",
				 hier, root);
}

static int remap_all(const struct cg_root *r, size_t n, char *err,
		     size_t errlen)
{
	const char *base;
	size_t i;
	int ret = 0;

	st.given = calloc(st.cg.ngroups + 1, sizeof(*st.given));
	st.host = calloc(st.cg.ngroups + 1, sizeof(*st.host));
	if (!st.given || !st.host)
		return -ENOMEM;
	for (i = 0; i < st.cg.ngroups; i++) {
		base = base_of(st.cg.groups[i].hier);
		st.host[i] = base && crfs_cg_below(base, st.cg.groups[i].path);
	}
	for (i = 0; !ret && i < st.cg.ngroups; i++)
		ret = remap(&st.cg.groups[i].path, st.cg.groups[i].hier, r, n,
			    &st.given[i], err, errlen);
	for (i = 0; !ret && i < st.cg.nplaces; i++)
		if (st.cg.places[i].pid >= 0)
			ret = remap(&st.cg.places[i].path,
				    st.cg.places[i].hier, r, n, NULL, err,
				    errlen);
	for (i = 0; !ret && i < st.cg.nplaces; i++)
		if (st.cg.places[i].pid < 0)
			ret = root_exists(st.cg.places[i].hier, r, n, err,
					  errlen);
	return ret;
}

/* a place must be a cgroup of the file and a process of the image */
static int prepare_place(const struct image *img, size_t i, char *err,
			 size_t errlen)
{
	const struct crfs_cg_place *p = &st.cg.places[i];
	size_t k;

	if (p->pid < 0)
		return 0;	/* the daemon's cgroup: nobody joins it */

	for (k = 0; k < st.cg.ngroups; k++)
		if (!strcmp(st.cg.groups[k].hier, p->hier) &&
		    !strcmp(st.cg.groups[k].path, p->path))
			break;
	if (k == st.cg.ngroups)
		return ERR("%s: %s %d is in cgroup %s:%s, which has no cgroup line",
			   CRFS_F_CGROUP, p->pid ? "process" : "nsroot", p->pid,
			   p->hier, p->path);
	if (p->pid && !image_proc(img, p->pid))
		return ERR("%s: process %d is no process of the image",
			   CRFS_F_CGROUP, p->pid);
	st.dirs[i] = kh_cg_dir(st.m, st.nm, p->hier, p->path);
	if (!st.dirs[i])
		return -ENOMEM;
	st.dfds[i] = open(st.dirs[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (st.dfds[i] >= 0 && fstat(st.dfds[i], &st.dst[i]))
		return ERR("%s: %s", st.dirs[i], strerror(errno));
	return 0;
}

int cgroup_prepare(const struct image *img, const struct cg_root *roots,
		   size_t nroots, char *err, size_t errlen)
{
	size_t i;
	int ret;

	if (!in_image(img))
		return 0;
	ret = image_parse((struct image *)img, CRFS_F_CGROUP, p_cg, &st.cg,
			  err, errlen);
	if (ret)
		return ret;
	ret = kh_cg_mounts(&st.m, &st.nm);
	if (ret)
		return ERR("cannot list the cgroup mounts: %s", strerror(-ret));
	ret = remap_all(roots, nroots, err, errlen);
	if (ret)
		return ret;
	st.dirs = calloc(st.cg.nplaces + 1, sizeof(*st.dirs));
	st.dfds = calloc(st.cg.nplaces + 1, sizeof(*st.dfds));
	st.dst = calloc(st.cg.nplaces + 1, sizeof(*st.dst));
	if (!st.dirs || !st.dfds || !st.dst)
		return -ENOMEM;
	for (i = 0; i <= st.cg.nplaces; i++)
		st.dfds[i] = -1;
	for (i = 0; !ret && i < st.cg.ngroups; i++)
		ret = prepare_group(&st.cg.groups[i], st.given[i],
				    st.host[i], err, errlen);
	for (i = 0; !ret && i < st.cg.nplaces; i++)
		ret = prepare_place(img, i, err, errlen);
	return ret;
}

/*
 * Through the directory opened before the container's mount tree became
 * ours (its /sys/fs/cgroup may be another or none), while that fd is
 * still the one we opened (not closed and reused for an image's file).
 */
static int enter(size_t i)
{
	struct stat now;

	if (st.dfds[i] >= 0 && !fstat(st.dfds[i], &now) &&
	    now.st_dev == st.dst[i].st_dev && now.st_ino == st.dst[i].st_ino)
		return kh_cg_enter_at(st.dfds[i]);
	return kh_cg_enter(st.dirs[i]);
}

/* pid 0: the namespace's roots */
static void join(pid_t pid, int err_fd)
{
	const struct crfs_cg_place *p;
	size_t i;
	int ret;

	for (i = 0; i < st.cg.nplaces; i++) {
		p = &st.cg.places[i];
		if (p->pid != pid)
			continue;
		ret = enter(i);
		if (ret)
			child_fail(err_fd, "process %d: cannot join cgroup %s:%s: %s",
				   pid, p->hier, p->path, strerror(-ret));
	}
}

void cgroup_enter(const struct image *img, int idx, int err_fd)
{
	const struct proc_image *p = &img->procs[idx];

	if (idx == 0 && st.cg.ns) {
		join(0, err_fd);
		if (unshare(CLONE_NEWCGROUP))
			child_fail(err_fd, "process %d: cannot create a cgroup namespace: %m",
				   p->pid);
	}
	join(p->pid, err_fd);
}

void cgroup_undo(void)
{
	while (st.nmade) {
		st.nmade--;
		kh_cg_rmdir(st.made[st.nmade]);
		free(st.made[st.nmade]);
	}
}

void cgroup_free(void)
{
	size_t i;

	for (i = 0; st.dirs && i < st.cg.nplaces; i++)
		free(st.dirs[i]);
	for (i = 0; st.dfds && i < st.cg.nplaces; i++)
		if (st.dfds[i] >= 0)
			close(st.dfds[i]);
	free(st.dirs);
	free(st.dfds);
	free(st.dst);
	free(st.given);
	free(st.host);
	for (i = 0; i < st.nmade; i++)
		free(st.made[i]);
	free(st.made);
	kh_cg_mounts_free(st.m, st.nm);
	crfs_cgroups_free(&st.cg);
	memset(&st, 0, sizeof(st));
}
