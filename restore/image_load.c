// SPDX-License-Identifier: MIT
/*
 * Loading a checkpoint: the header first (is this an image we can honour
 * at all?), then every file against the manifest (present, exact size,
 * checksum), then each file's parser, then the pages against their index,
 * then the host (vDSO layout, CPU state size, files the image refers to).
 */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "image.h"
#include "kh.h"

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -EINVAL)

static int read_whole(const char *dir, const char *rel, char **buf,
		      size_t *len, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	ret = kh_read_file(path, buf, len);
	if (ret == -ENOENT)
		return ERR("%s: missing", path);
	if (ret)
		return ERR("%s: %s", path, strerror(-ret));
	return 0;
}

static int load_header(struct image *img, char *err, size_t errlen)
{
	struct crfs_text t;
	char path[PATH_MAX + 16], *buf;
	size_t len;
	int ret;

	snprintf(path, sizeof(path), "%s/%s", img->dir, CRFS_F_IMAGE);
	ret = kh_read_file(path, &buf, &len);
	if (ret == -ENOENT)
		return ERR("%s: missing: not a crfs checkpoint, or it was copied while the container was not frozen",
			   path);
	if (ret)
		return ERR("%s: %s", path, strerror(-ret));
	text_init(&t, path, buf, len, err, errlen);
	ret = parse_header(&t, &img->hdr);
	free(buf);
	return ret;
}

static int check_manifest(struct image *img, char *err, size_t errlen)
{
	char path[PATH_MAX * 2], *buf;
	struct stat st;
	size_t i, len;
	int ret;

	for (i = 0; i < img->hdr.nfiles; i++) {
		const struct crfs_manifest_entry *e = &img->hdr.files[i];

		snprintf(path, sizeof(path), "%s/%s", img->dir, e->path);
		if (stat(path, &st))
			return ERR("%s: missing (%s): the copy is incomplete",
				   path, strerror(errno));
		if (!S_ISREG(st.st_mode))
			return ERR("%s: not a regular file", path);
		if ((uint64_t)st.st_size != e->size)
			return ERR("%s: %s: %ld bytes, the image says %lu",
				   path, (uint64_t)st.st_size < e->size ?
				   "truncated" : "wrong size",
				   st.st_size, e->size);
		if (!e->has_hash)
			continue;
		ret = kh_read_file(path, &buf, &len);
		if (ret)
			return ERR("%s: %s", path, strerror(-ret));
		ret = crfs_hash(buf, len) != e->hash;
		free(buf);
		if (ret)
			return ERR("%s: checksum mismatch: the file is corrupted or from another checkpoint",
				   path);
	}
	return 0;
}

typedef int (*parse_fn)(struct crfs_text *t, void *obj);

static int parse_file(struct image *img, const char *rel, parse_fn fn,
		      void *obj, char *err, size_t errlen)
{
	char path[PATH_MAX * 2], *buf;
	struct crfs_text t;
	size_t len;
	int ret;

	ret = read_whole(img->dir, rel, &buf, &len, err, errlen);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/%s", img->dir, rel);
	text_init(&t, path, buf, len, err, errlen);
	ret = fn(&t, obj);
	free(buf);
	return ret;
}

static int p_attr(struct crfs_text *t, void *o) { return parse_attr(t, o); }
static int p_creds(struct crfs_text *t, void *o) { return parse_creds(t, o); }
static int p_mm(struct crfs_text *t, void *o) { return parse_mm(t, o); }
static int p_sigacts(struct crfs_text *t, void *o) { return parse_sigactions(t, o); }
static int p_rlimits(struct crfs_text *t, void *o) { return parse_rlimits(t, o); }
static int p_regs(struct crfs_text *t, void *o) { return parse_regs(t, o); }
static int p_xstate(struct crfs_text *t, void *o) { return parse_xstate(t, o); }
static int p_sigstate(struct crfs_text *t, void *o) { return parse_sigstate(t, o); }

static int p_thread_sigs(struct crfs_text *t, void *o)
{
	struct crfs_thread *th = o;

	return parse_signals(t, &th->pending, &th->npending);
}

static int p_shared_sigs(struct crfs_text *t, void *o)
{
	struct proc_image *p = o;

	return parse_signals(t, &p->shared_sigs, &p->nshared_sigs);
}

static int p_maps(struct crfs_text *t, void *o)
{
	struct proc_image *p = o;

	return parse_maps(t, &p->vmas, &p->nvmas);
}

static int p_fds(struct crfs_text *t, void *o)
{
	struct proc_image *p = o;

	return parse_fds(t, &p->fds, &p->nfds);
}

struct idx_ctx {
	struct proc_image *p;
	const char *freeze_id;
};

static int p_idx(struct crfs_text *t, void *o)
{
	struct idx_ctx *c = o;

	return parse_pages_idx(t, c->freeze_id, &c->p->runs, &c->p->nruns);
}

static int load_proc_files(struct image *img, char *err, size_t errlen)
{
	struct proc_image *p = &img->proc;
	struct idx_ctx ic = { p, img->hdr.freeze_id };
	char rel[128];
	int ret;

#define PF(name, fn, obj) \
	(snprintf(rel, sizeof(rel), "%d/%s", p->pid, name), \
	 parse_file(img, rel, fn, obj, err, errlen))
#define TF(name, fn) \
	(snprintf(rel, sizeof(rel), "%d/%s/%d/%s", p->pid, CRFS_D_TASK, \
		  p->pid, name), parse_file(img, rel, fn, &p->th, err, errlen))
	ret = PF(CRFS_F_ATTR, p_attr, &p->attr);
	ret = ret ?: PF(CRFS_F_CREDS, p_creds, &p->creds);
	ret = ret ?: PF(CRFS_F_MM, p_mm, &p->mm);
	ret = ret ?: PF(CRFS_F_SIGACTS, p_sigacts, p->sa);
	ret = ret ?: PF(CRFS_F_RLIMITS, p_rlimits, p->rl);
	ret = ret ?: PF(CRFS_F_MAPS, p_maps, p);
	ret = ret ?: PF(CRFS_F_FDS, p_fds, p);
	ret = ret ?: PF(CRFS_F_PAGES_IDX, p_idx, &ic);
	ret = ret ?: TF(CRFS_F_REGS, p_regs);
	ret = ret ?: TF(CRFS_F_XSTATE, p_xstate);
	ret = ret ?: TF(CRFS_F_SIGSTATE, p_sigstate);
	ret = ret ?: TF(CRFS_F_SIGNALS, p_thread_sigs);
	ret = ret ?: PF(CRFS_F_SIGNALS, p_shared_sigs, p);
#undef PF
#undef TF
	if (ret)
		return ret;
	if (p->attr.pid != p->pid || p->th.tid != p->pid)
		return ERR("%s/%d/%s: pid %d does not match its directory",
			   img->dir, p->pid, CRFS_F_ATTR, p->attr.pid);
	if (p->attr.nthreads != 1)
		return ERR("%s/%d/%s: %d threads; this crfs-restore restores single-threaded processes only",
			   img->dir, p->pid, CRFS_F_ATTR, p->attr.nthreads);
	return 0;
}

/* Every run must lie in a mapping that restore fills. */
static int check_runs(struct image *img, char *err, size_t errlen)
{
	struct proc_image *p = &img->proc;
	size_t r, v = 0;

	for (r = 0; r < p->nruns; r++) {
		uint64_t s = p->runs[r].addr, e = s + p->runs[r].npages * 4096;

		while (v < p->nvmas && p->vmas[v].end <= s)
			v++;
		if (v == p->nvmas || s < p->vmas[v].start || e > p->vmas[v].end ||
		    p->vmas[v].kind >= VMA_VDSO)
			return ERR("%s/%d/%s: run at 0x%lx lies outside the saved mappings",
				   img->dir, p->pid, CRFS_F_PAGES_IDX, s);
	}
	return 0;
}

static int check_pages(struct image *img, char *err, size_t errlen)
{
	struct proc_image *p = &img->proc;
	const unsigned char *map;
	struct stat st;
	uint64_t total = 0;
	size_t i;
	int fd;

	snprintf(p->pages_path, sizeof(p->pages_path), "%s/%d/%s", img->dir,
		 p->pid, CRFS_F_PAGES);
	for (i = 0; i < p->nruns; i++)
		total += p->runs[i].npages * 4096;
	fd = open(p->pages_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		if (fd >= 0)
			close(fd);
		return ERR("%s: %s", p->pages_path, strerror(errno));
	}
	if ((uint64_t)st.st_size != total) {
		close(fd);
		return ERR("%s: %ld bytes, its index says %lu (truncated?)",
			   p->pages_path, st.st_size, total);
	}
	if (!total) {
		close(fd);
		return 0;
	}
	map = mmap(NULL, total, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return ERR("%s: %s", p->pages_path, strerror(errno));
	madvise((void *)map, total, MADV_SEQUENTIAL);
	for (i = 0; i < p->nruns; i++) {
		const struct crfs_page_run *r = &p->runs[i];

		if (crfs_hash(map + r->offset, r->npages * 4096) != r->hash) {
			munmap((void *)map, total);
			return ERR("%s: checksum mismatch in the pages of 0x%lx (corrupted)",
				   p->pages_path, r->addr);
		}
	}
	munmap((void *)map, total);
	return 0;
}

static int check_vdso(struct image *img, char *err, size_t errlen)
{
	struct proc_image *p = &img->proc;
	struct crfs_vma cur[4];
	size_t i;
	int n, k = 0;

	if (kh_vdso_layout(0, cur, 4, &n))
		return ERR("cannot read this process's vDSO layout");
	for (i = 0; i < p->nvmas; i++) {
		const struct crfs_vma *v = &p->vmas[i];

		if (v->kind != VMA_VDSO && v->kind != VMA_VVAR &&
		    v->kind != VMA_VVAR_VCLOCK)
			continue;
		if (k >= n || cur[k].kind != v->kind ||
		    cur[k].end - cur[k].start != v->end - v->start)
			return ERR("%s/%d/%s: the vDSO layout differs from this kernel's (image taken on %s): restore on the same kernel",
				   img->dir, p->pid, CRFS_F_MAPS, img->hdr.kernel);
		k++;
	}
	if (k != n)
		return ERR("%s/%d/%s: the vDSO layout differs from this kernel's (image taken on %s)",
			   img->dir, p->pid, CRFS_F_MAPS, img->hdr.kernel);
	return 0;
}

static int check_cpu(struct image *img, char *err, size_t errlen)
{
	unsigned int a, b, c, d;

	if (!__get_cpuid_count(0xd, 0, &a, &b, &c, &d))
		return ERR("this CPU has no XSAVE");
	if (b != img->proc.th.xstate_size && c != img->proc.th.xstate_size)
		return ERR("%s/%d/task/%d/%s: XSAVE area of %u bytes, this CPU uses %u: restore on the same kind of CPU",
			   img->dir, img->proc.pid, img->proc.pid, CRFS_F_XSTATE,
			   img->proc.th.xstate_size, b);
	return 0;
}

/* Files the image refers to must be the ones it was taken with. */
static int check_files(struct image *img, char *err, size_t errlen)
{
	struct proc_image *p = &img->proc;
	struct stat st;
	size_t i;

	for (i = 0; i < p->nvmas; i++) {
		const struct crfs_vma *v = &p->vmas[i];

		if (v->kind != VMA_FILE)
			continue;
		if (stat(v->path, &st))
			return ERR("%s: mapped at 0x%lx by the image, but %s",
				   v->path, v->start, strerror(errno));
		if ((uint64_t)st.st_size != v->file_size ||
		    st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec !=
		    v->file_mtime_ns)
			return ERR("%s: changed since the checkpoint (size or mtime differ)",
				   v->path);
	}
	for (i = 0; i < p->nfds; i++) {
		const struct crfs_fd *f = &p->fds[i];

		if (stat(f->path, &st))
			return ERR("%s: open as fd %d in the image, but %s",
				   f->path, f->fd, strerror(errno));
		if ((st.st_mode & S_IFMT) != (f->mode & S_IFMT))
			return ERR("%s: fd %d: the file changed type", f->path,
				   f->fd);
	}
	if (access(p->attr.exe, X_OK))
		return ERR("%s: the image's executable is gone (%s)",
			   p->attr.exe, strerror(errno));
	return 0;
}

int image_load(const char *dir, struct image *img, char *err, size_t errlen)
{
	int ret;

	memset(img, 0, sizeof(*img));
	if (strlen(dir) > PATH_MAX / 2)
		return ERR("%s: path too long", dir);
	snprintf(img->dir, sizeof(img->dir), "%s", dir);
	ret = load_header(img, err, errlen);
	ret = ret ?: check_manifest(img, err, errlen);
	if (ret)
		return ret;
	if (img->hdr.nprocs != 1 || img->hdr.procs[0] != img->hdr.root)
		return ERR("%s/%s: %zu processes; this crfs-restore restores single processes only",
			   dir, CRFS_F_IMAGE, img->hdr.nprocs);
	img->proc.pid = img->hdr.root;
	ret = load_proc_files(img, err, errlen);
	ret = ret ?: check_runs(img, err, errlen);
	ret = ret ?: check_pages(img, err, errlen);
	ret = ret ?: check_vdso(img, err, errlen);
	ret = ret ?: check_cpu(img, err, errlen);
	return ret ?: check_files(img, err, errlen);
}

void image_free(struct image *img)
{
	struct proc_image *p = &img->proc;

	free_header(&img->hdr);
	free(p->attr.exe);
	free(p->attr.cwd);
	free(p->attr.root);
	free(p->creds.groups);
	free_maps(p->vmas, p->nvmas);
	free(p->runs);
	free_fds(p->fds, p->nfds);
	free(p->th.xstate);
	free(p->th.pending);
	free(p->shared_sigs);
}
