// SPDX-License-Identifier: MIT
/*
 * An incremental image (format 5) names its parent; runs whose SRC is
 * LEVEL:PID are in process PID's pages of the LEVEL-th image up that
 * chain.  The whole chain is read and checked here before anything is
 * made: each parent's image (its own checksum), its freeze_id against
 * what its child names, and every run read from it against the run's
 * checksum (with --lazy, a run the handler serves only its place: the
 * handler checks its bytes, lazy.c).  Paths stay relative to the image
 * directory, which restore later reaches as "." (mounts.c rebases
 * img->dir).  An ancestor with PID/pages.zst is read through page_src.c's
 * pzst: runs' OFFSETs are into its uncompressed bytes, which a memfd holds
 * for the chunks asked for.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "image.h"
#include "page_src.h"
#include "kh.h"
#include "crfs/pages_zst.h"

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -EINVAL)

struct chain_link {
	char rel[PATH_MAX];	/* from the image directory */
	struct crfs_header hdr;
};

struct chain_src {		/* a pages file of an ancestor, checked */
	int32_t src;
	const unsigned char *map;
	uint64_t len;
	struct crfs_page_run *own;	/* its own runs, by offset */
	size_t nown;
	bool *checked;		/* own[k] matched its checksum */
	struct pzst *z;		/* its pages.zst, or NULL: map is of pages */
};

struct image_chain {
	struct chain_link *links;	/* [0]: the parent */
	size_t nlinks;
	struct chain_src *srcs;
	size_t nsrcs;
};

static int read_link(const char *dir, const char *child, struct chain_link *l,
		     const struct crfs_header *named, char *err, size_t errlen)
{
	char path[PATH_MAX * 2 + 16], *buf;
	struct crfs_text t;
	size_t len;
	int ret;

	snprintf(path, sizeof(path), "%s/%s/%s", dir, l->rel, CRFS_F_IMAGE);
	ret = kh_read_file(path, &buf, &len);
	if (ret == -ENOENT)
		return ERR("image %s: its parent %s is missing", child,
			   named->parent);
	if (ret)
		return ERR("%s: %s", path, strerror(-ret));
	text_init(&t, path, buf, len, err, errlen);
	ret = parse_header(&t, &l->hdr);
	free(buf);
	if (ret)
		return ret;
	if (strcmp(l->hdr.freeze_id, named->parent_id))
		return ERR("image %s: its parent %s is from freeze %s, not %s (another checkpoint)",
			   child, named->parent, l->hdr.freeze_id,
			   named->parent_id);
	return 0;
}

/* the header naming link k's parent: the image's, or link k - 1's */
static const struct crfs_header *child_hdr(const struct image *img, size_t k)
{
	return k ? &img->chain->links[k - 1].hdr : &img->hdr;
}

int chain_load(struct image *img, char *err, size_t errlen)
{
	const struct crfs_header *h;
	struct image_chain *c;
	struct chain_link *l;
	char child[PATH_MAX * 2];
	size_t k;
	int ret;

	if (!img->hdr.parent)
		return 0;
	c = img->chain = calloc(1, sizeof(*c));
	if (!c)
		return ERR("out of memory");
	snprintf(child, sizeof(child), "%s", img->dir);
	for (k = 0; child_hdr(img, k)->parent; k++) {
		if (k == CRFS_MAX_LEVEL)
			return ERR("image %s: its chain of parents is longer than %d",
				   img->dir, CRFS_MAX_LEVEL);
		l = realloc(c->links, (k + 1) * sizeof(*l));
		if (!l)
			return ERR("out of memory");
		c->links = l;
		memset(&l[k], 0, sizeof(*l));
		c->nlinks = k + 1;
		h = child_hdr(img, k);
		if (snprintf(l[k].rel, sizeof(l[k].rel), "%s%s%s",
			     k ? l[k - 1].rel : "", k ? "/" : "",
			     h->parent) >= (int)sizeof(l[k].rel))
			return ERR("image %s: the path of its parent %s is too long",
				   child, h->parent);
		ret = read_link(img->dir, child, &l[k], h, err, errlen);
		if (ret)
			return ret;
		snprintf(child, sizeof(child), "%s/%s", img->dir, l[k].rel);
	}
	return 0;
}

/* the pages of an ancestor's process: its manifest gives the size */
static int src_path(const struct image *img, int32_t src, char *path,
		    size_t len)
{
	const struct image_chain *c = img->chain;
	uint32_t level = CRFS_SRC_LEVEL(src);

	if (!c || level < 1 || level > c->nlinks)
		return -ENOENT;
	snprintf(path, len, "%s/%s/%d/%s", img->dir, c->links[level - 1].rel,
		 CRFS_SRC_PID(src), CRFS_F_PAGES);
	return 0;
}

/* the ancestor's index of that pages file: what its bytes must hash to */
static int load_own_runs(struct chain_src *s, const char *path,
			 const char *freeze_id, uint64_t *total, char *err,
			 size_t errlen)
{
	char *buf;
	struct crfs_page_run *r;
	struct crfs_text t;
	size_t n, i, len;
	int ret;

	*total = 0;
	ret = kh_read_file(path, &buf, &len);
	if (ret)
		return ERR("%s: %s", path, strerror(-ret));
	text_init(&t, path, buf, len, err, errlen);
	ret = parse_pages_idx(&t, freeze_id, CRFS_SRC_PID(s->src), &r, &n);
	free(buf);
	if (ret)
		return ret;
	for (i = 0; i < n; i++)
		if (r[i].src == CRFS_SRC_PID(s->src)) {
			r[s->nown++] = r[i];
			*total += r[i].npages * 4096;
		}
	s->own = r;
	s->checked = calloc(s->nown ?: 1, sizeof(*s->checked));
	if (!s->checked)
		return ERR("out of memory");
	return 0;
}

/* a compressed source: the chunks of [off, off + len) decompressed */
static int need(struct chain_src *s, uint64_t off, uint64_t len, char *err,
		size_t errlen)
{
	return s->z ? pzst_fill(s->z, off, len, err, errlen) : 0;
}

/* [off, off + len) of an ancestor's pages: every own run it touches
 * matches the checksum that image's index gives it */
static int check_range(struct chain_src *s, const char *path, uint64_t off,
		       uint64_t len, char *err, size_t errlen)
{
	size_t lo = 0, hi = s->nown, k;
	int ret;

	while (lo < hi) {	/* the first run ending after off */
		size_t mid = (lo + hi) / 2;

		if (s->own[mid].offset + s->own[mid].npages * 4096 <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (k = lo; k < s->nown && s->own[k].offset < off + len; k++) {
		const struct crfs_page_run *o = &s->own[k];

		if (s->checked[k])
			continue;
		ret = need(s, o->offset, o->npages * 4096, err, errlen);
		if (ret)
			return ret;
		if (crfs_hash(s->map + o->offset, o->npages * 4096) != o->hash)
			return ERR("%s: checksum mismatch in the pages of 0x%lx (corrupted)",
				   path, o->addr);
		s->checked[k] = true;
	}
	return 0;
}

static void unmap_src(struct chain_src *s)
{
	if (s->map)
		munmap((void *)s->map, s->len);
	s->map = NULL;
	free(s->own);
	free(s->checked);
	s->own = NULL;
	s->checked = NULL;
	s->nown = 0;
}

/* the last source, whose making failed */
static void drop_src(struct image_chain *c, struct chain_src *s)
{
	unmap_src(s);
	pzst_free(s->z);
	c->nsrcs--;
}

/* the size the manifest of ancestor h gives rel, or -1 if not there */
static int64_t manifest_size(const struct crfs_header *h, const char *rel)
{
	size_t i;

	for (i = 0; i < h->nfiles; i++)
		if (!strcmp(h->files[i].path, rel))
			return h->files[i].size;
	return -1;
}

/* path (of the manifest size want) exists with that size */
static int check_size(const char *path, int64_t want, char *err,
		      size_t errlen)
{
	struct stat st;

	if (stat(path, &st))
		return ERR("%s: %s", path, strerror(errno));
	if (st.st_size != want)
		return ERR("%s: %ld bytes, its image says %ld (truncated?)",
			   path, st.st_size, want);
	return 0;
}

/* plain pages: mapped as it is */
static int map_plain(struct chain_src *s, const char *path, char *err,
		     size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return ERR("%s: %s", path, strerror(errno));
	s->map = s->len ? mmap(NULL, s->len, PROT_READ, MAP_PRIVATE, fd, 0) :
			  NULL;
	close(fd);
	if (s->map == MAP_FAILED) {
		s->map = NULL;
		return ERR("%s: %s", path, strerror(errno));
	}
	return 0;
}

/* pages.zst: its chunks found, the memfd they go to mapped */
static int map_zst(struct chain_src *s, const char *path, char *err,
		   size_t errlen)
{
	int ret = pzst_open(path, s->len, &s->z, err, errlen);

	if (ret || !s->len)
		return ret;
	s->map = mmap(NULL, s->len, PROT_READ, MAP_SHARED, pzst_fd(s->z), 0);
	if (s->map == MAP_FAILED) {
		s->map = NULL;
		return ERR("%s: %s", path, strerror(errno));
	}
	return 0;
}

/*
 * The pages of an ancestor's process, PID/pages or PID/pages.zst (as its
 * manifest says), with its own runs from its pages.idx
 */
static int map_src(const struct image *img, int32_t src,
		   struct chain_src **out, char *err, size_t errlen)
{
	struct image_chain *c = img->chain;
	const struct crfs_header *h = &c->links[CRFS_SRC_LEVEL(src) - 1].hdr;
	char path[PATH_MAX * 2 + 64], rel[32], zrel[32];
	int64_t size, zsize;
	struct chain_src *s;
	uint64_t total;
	size_t i;
	int ret;

	for (i = 0; i < c->nsrcs; i++)
		if (c->srcs[i].src == src) {
			*out = &c->srcs[i];
			return 0;
		}
	src_path(img, src, path, sizeof(path));
	snprintf(rel, sizeof(rel), "%d/%s", CRFS_SRC_PID(src), CRFS_F_PAGES);
	snprintf(zrel, sizeof(zrel), "%d/%s", CRFS_SRC_PID(src),
		 CRFS_F_PAGES_ZST);
	size = manifest_size(h, rel);
	zsize = manifest_size(h, zrel);
	if (size < 0 && zsize < 0)
		return ERR("%s: not in its image's manifest (nor %s)", path,
			   CRFS_F_PAGES_ZST);
	if (size >= 0 && zsize >= 0)
		return ERR("%s: its image holds both %s and %s", path,
			   CRFS_F_PAGES, CRFS_F_PAGES_ZST);
	s = realloc(c->srcs, (c->nsrcs + 1) * sizeof(*s));
	if (!s)
		return ERR("out of memory");
	c->srcs = s;
	s = &c->srcs[c->nsrcs++];
	memset(s, 0, sizeof(*s));
	s->src = src;
	*out = s;
	strcat(path, ".idx");
	ret = load_own_runs(s, path, h->freeze_id, &total, err, errlen);
	path[strlen(path) - 4] = 0;
	if (zsize >= 0)
		strcat(path, ".zst");
	ret = ret ?: check_size(path, zsize >= 0 ? zsize : size, err, errlen);
	if (!ret && size >= 0 && (uint64_t)size != total)
		ret = ERR("%s: %lu bytes, its index says %lu (truncated?)",
			  path, size, total);
	s->len = total;
	if (!ret)
		ret = zsize >= 0 ? map_zst(s, path, err, errlen) :
				   map_plain(s, path, err, errlen);
	if (ret)	/* not kept half made: a later lookup tries again */
		drop_src(c, s);
	return ret;
}

/* the ancestor's pages of src are in its pages.zst */
static bool zst_src(const struct image *img, int32_t src)
{
	const struct crfs_header *h =
		&img->chain->links[CRFS_SRC_LEVEL(src) - 1].hdr;
	char zrel[32];

	snprintf(zrel, sizeof(zrel), "%d/%s", CRFS_SRC_PID(src),
		 CRFS_F_PAGES_ZST);
	return manifest_size(h, zrel) >= 0;
}

/* every chunk that a run of the image reads from s is in its memfd (the
 * load did it; this holds however early or late the runs were checked) */
static int fill_runs(const struct image *img, struct chain_src *s, char *err,
		     size_t errlen)
{
	size_t i, k;
	int ret = 0;

	for (i = 0; !ret && i < img->nprocs; i++)
		for (k = 0; !ret && k < img->procs[i].nruns; k++) {
			const struct crfs_page_run *r = &img->procs[i].runs[k];

			if (r->src == s->src)
				ret = pzst_fill(s->z, r->offset,
						r->npages * 4096, err, errlen);
		}
	return ret;
}

/*
 * An ancestor's pages.zst is read from its memfd, laid out as pages,
 * holding the chunks that the runs read from it touch
 */
int image_open_src(const struct image *img, pid_t src, int flags)
{
	const struct proc_image *q;
	char path[PATH_MAX * 2 + 64], err[PATH_MAX * 2 + 256];
	struct chain_src *s;

	if (src >= 0) {
		q = image_proc(img, src);
		return q ? page_src_open(q, flags) : (errno = ENOENT, -1);
	}
	if (src_path(img, src, path, sizeof(path)))
		return errno = ENOENT, -1;
	if (!zst_src(img, src))
		return open(path, flags);
	if (map_src(img, src, &s, err, sizeof(err)) ||
	    fill_runs(img, s, err, sizeof(err))) {
		fprintf(stderr, "crfs-restore: %s\n", err);
		return errno = EIO, -1;
	}
	return fcntl(pzst_fd(s->z), flags & O_CLOEXEC ? F_DUPFD_CLOEXEC :
			F_DUPFD, 0);
}

/* the memfds are dropped where a table of our own is ours to change,
 * as page_src.c's for pages.zst */
static int zst_shared_table(const struct image *img, const char *path,
			    char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < img->nprocs; i++)
		if (img->procs[i].attr.shares_files)
			return ERR("%s/%d/%s: a process sharing its parent's file table, with pages from %s: not supported yet",
				   img->dir, img->procs[i].pid, CRFS_F_ATTR,
				   path);
	return 0;
}

/* r's bytes lie inside the ancestor's pages file it names */
static int check_place(struct image *img, const struct proc_image *p,
		       const struct crfs_page_run *r, struct chain_src **s,
		       char *path, char *err, size_t errlen)
{
	uint64_t len = r->npages * 4096;
	int ret;

	if (src_path(img, r->src, path, PATH_MAX * 2 + 64))
		return ERR("%s/%d/%s: pages of 0x%lx are in ancestor %u, but the image has %zu",
			   img->dir, p->pid, CRFS_F_PAGES_IDX, r->addr,
			   CRFS_SRC_LEVEL(r->src),
			   img->chain ? img->chain->nlinks : 0);
	ret = map_src(img, r->src, s, err, errlen);
	if (ret)
		return ret;
	if (r->offset > (*s)->len || len > (*s)->len - r->offset)
		return ERR("%s: does not hold the pages of 0x%lx of process %d",
			   path, r->addr, p->pid);
	return 0;
}

int chain_check_run(struct image *img, const struct proc_image *p,
		    const struct crfs_page_run *r, char *err, size_t errlen)
{
	uint64_t len = r->npages * 4096;
	char path[PATH_MAX * 2 + 64];
	struct chain_src *s;
	int ret;

	ret = check_place(img, p, r, &s, path, err, errlen);
	if (ret)
		return ret;
	if (s->z)
		strcat(path, ".zst");
	ret = s->z ? zst_shared_table(img, path, err, errlen) : 0;
	if (ret)
		return ret;
	if (r->unhashed)
		return check_range(s, path, r->offset, len, err, errlen);
	ret = need(s, r->offset, len, err, errlen);
	if (ret)
		return ret;
	if (crfs_hash(s->map + r->offset, len) != r->hash)
		return ERR("%s: checksum mismatch in the pages of 0x%lx of process %d (corrupted)",
			   path, r->addr, p->pid);
	return 0;
}

/*
 * --lazy: r is where it must be, its bytes are left to the handler's
 * checks (every page it serves is checked first), so that no pass over
 * the parents' memory stands before the tree runs
 */
int chain_place_run(struct image *img, const struct proc_image *p,
		    const struct crfs_page_run *r, char *err, size_t errlen)
{
	char path[PATH_MAX * 2 + 64];
	struct chain_src *s;
	int ret = check_place(img, p, r, &s, path, err, errlen);

	if (!ret && s->z)
		ret = zst_shared_table(img, strcat(path, ".zst"), err, errlen);
	return ret;
}

int chain_own_runs(const struct image *img, int32_t src,
		   const struct crfs_page_run **own, const bool **checked,
		   size_t *n, char *path, size_t len)
{
	const struct image_chain *c = img->chain;
	size_t i;

	for (i = 0; c && i < c->nsrcs; i++)
		if (c->srcs[i].src == src) {
			*own = c->srcs[i].own;
			*checked = c->srcs[i].checked;
			*n = c->srcs[i].nown;
			return src_path(img, src, path, len);
		}
	return -ENOENT;
}

/* the mappings go; a compressed source keeps its memfd for the tree */
void chain_unmap(struct image *img)
{
	struct image_chain *c = img->chain;
	size_t i;

	for (i = 0; c && i < c->nsrcs; i++) {
		struct chain_src *s = &c->srcs[i];

		unmap_src(s);
		if (s->z)
			pzst_drop_input(s->z);
	}
}

/* in a process of the tree: the memfds above top (page_src_keep_fds) */
int chain_keep_fds(struct image *img, int top)
{
	struct image_chain *c = img->chain;
	size_t i;
	int nfd;

	for (i = 0; c && i < c->nsrcs; i++) {
		if (!c->srcs[i].z || pzst_fd(c->srcs[i].z) < 0)
			continue;
		nfd = fcntl(pzst_fd(c->srcs[i].z), F_DUPFD_CLOEXEC, top + 1);
		close(pzst_set_fd(c->srcs[i].z, nfd));
		if (nfd > top)
			top = nfd;
	}
	return top;
}

void chain_drop_fds(struct image *img)
{
	struct image_chain *c = img->chain;
	size_t i;
	int fd;

	/* as page_src_drop_fds: only where an fd is open, no copied pages */
	for (i = 0; c && i < c->nsrcs; i++) {
		if (!c->srcs[i].z || pzst_fd(c->srcs[i].z) < 0)
			continue;
		fd = pzst_set_fd(c->srcs[i].z, -1);
		close(fd);
	}
}

void chain_free(struct image *img)
{
	struct image_chain *c = img->chain;
	size_t i;

	if (!c)
		return;
	chain_unmap(img);
	for (i = 0; i < c->nsrcs; i++)
		pzst_free(c->srcs[i].z);
	free(c->srcs);
	for (i = 0; i < c->nlinks; i++)
		free_header(&c->links[i].hdr);
	free(c->links);
	free(c);
	img->chain = NULL;
}
