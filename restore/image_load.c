// SPDX-License-Identifier: MIT
/*
 * Loading a checkpoint: the header first (is this an image we can honour
 * at all?), then every file against the manifest (present, exact size,
 * checksum), then each file's parser, then the pages against their index,
 * then the host (vDSO layout, CPU state size, files the image refers to).
 */
#include <cpuid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "crfs/mounts.h"
#include "image.h"
#include "kh.h"
#include "crfs/array.h"
#include "ghost.h"
#include "restore.h"
#include "page_src.h"
#include "lazy.h"

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -EINVAL)
#define HASH_BUF (4UL << 20)

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
	/* its pages were read while the tree ran: only the image made
	 * after it (which names it as parent) is one instant */
	if (!ret && img->hdr.predump)
		return ERR("%s: a pre-dump (memory only, read while the tree ran): valid only as the parent of a checkpoint; restore the checkpoint made after it",
			   img->dir);
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

int image_parse(struct image *img, const char *rel, image_parse_fn fn,
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

/* a thread's own credentials, only where they differ from the process's */
static int p_thread_creds(struct crfs_text *t, void *o)
{
	struct crfs_thread *th = o;

	th->creds = calloc(1, sizeof(*th->creds));
	if (!th->creds)
		return text_error(t, "out of memory");
	return parse_creds(t, th->creds);
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* the manifest's paths sorted once, for the optional files' look-ups */
static int sort_manifest(struct image *img, char *err, size_t errlen)
{
	size_t i;

	img->manifest = calloc(img->hdr.nfiles + 1, sizeof(*img->manifest));
	if (!img->manifest)
		return ERR("out of memory");
	for (i = 0; i < img->hdr.nfiles; i++)
		img->manifest[i] = img->hdr.files[i].path;
	qsort(img->manifest, img->hdr.nfiles, sizeof(*img->manifest),
	      cmp_path);
	return 0;
}

/* files written only when there is something to say (thread creds, ...) */
bool in_manifest(const struct image *img, const char *rel)
{
	return bsearch(&rel, img->manifest, img->hdr.nfiles,
		       sizeof(*img->manifest), cmp_path) != NULL;
}

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

static int p_timers(struct crfs_text *t, void *o)
{
	struct proc_image *p = o;

	return parse_timers(t, &p->timers, &p->ntimers);
}

static int p_maps(struct crfs_text *t, void *o)
{
	struct proc_image *p = o;

	return parse_maps(t, &p->vmas, &p->nvmas);
}

static int p_vma_policies(struct crfs_text *t, void *o)
{
	struct proc_image *p = o;

	return parse_vma_policies(t, p->vmas, p->nvmas);
}

static int p_guards(struct crfs_text *t, void *o)
{
	struct proc_image *p = o;

	return parse_guards(t, p->vmas, p->nvmas, &p->guards, &p->nguards);
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

	return parse_pages_idx(t, c->freeze_id, c->p->pid, &c->p->runs,
			       &c->p->nruns);
}

static int p_sched(struct crfs_text *t, void *o) { return parse_sched(t, o); }

/* task/TID/sched; an image taken before crfs saved it has none */
static int load_sched(struct image *img, const char *rel,
		      struct crfs_thread *th, char *err, size_t errlen)
{
	/* optional: the manifest says whether the checkpoint has it */
	if (!in_manifest(img, rel))
		return 0;
	th->sched = malloc(sizeof(*th->sched));
	if (!th->sched)
		return ERR("out of memory");
	return image_parse(img, rel, p_sched, th->sched, err, errlen);
}

static int p_seccomp(struct crfs_text *t, void *o) { return parse_seccomp(t, o); }

static int cmp_tid(const void *a, const void *b)
{
	return *(const pid_t *)a - *(const pid_t *)b;
}

/*
 * A main thread that had exited (leader_exited in attr) has no directory:
 * it takes the first place, restored only to exit again.
 */
static int leader_slot(struct image *img, struct proc_image *p, pid_t **t,
		       int *n, char *err, size_t errlen)
{
	pid_t *nt;
	int i;

	if (!p->attr.leader_exited)
		return 0;
	for (i = 0; i < *n; i++)
		if (!(*t)[i]) {
			free(*t);
			return ERR("%s/%d/%s/%d: a directory for a main thread that has exited (%s says leader_exited)",
				   img->dir, p->pid, CRFS_D_TASK, p->pid,
				   CRFS_F_ATTR);
		}
	nt = array_room(*t, *n, sizeof(**t));
	if (!nt) {
		free(*t);
		return ERR("out of memory");
	}
	*t = nt;
	nt[(*n)++] = 0;
	return 0;
}

/* the exited main thread: its ids and name, nothing to load */
static void exited_leader(struct proc_image *p, struct crfs_thread *th)
{
	th->vtid = p->attr.vpid;
	th->nstid_n = p->attr.nspid_n;
	memcpy(th->nstid, p->attr.nspid, sizeof(th->nstid));
	memcpy(th->comm, p->attr.comm, sizeof(th->comm));
	th->ss_flags = SS_DISABLE;
}

/*
 * A NUMA policy naming a node this host lacks (or does not let us use)
 * cannot be set again.  A relative nodemask (MPOL_F_RELATIVE_NODES) is
 * folded onto whatever nodes there are.
 */
static int numa_nodes_ok(const char *file, int mode, uint64_t flags,
			 uint64_t nodes, char *err, size_t errlen)
{
	uint64_t here;
	int ret;

	if (!mode || !nodes || (flags & (1 << 14)))	/* _RELATIVE_NODES */
		return 0;
	ret = kh_numa_allowed(&here);
	if (ret)
		return ERR("get_mempolicy (the NUMA nodes of this host): %s",
			   strerror(-ret));
	if (nodes & ~here)
		return ERR("%s: a NUMA policy (mode %d) on nodes 0x%llx, but this host has nodes 0x%llx only",
			   file, mode, (unsigned long long)nodes,
			   (unsigned long long)here);
	return 0;
}

static int check_numa(struct image *img, struct proc_image *p,
		      const struct crfs_thread *th, char *err, size_t errlen)
{
	char file[PATH_MAX];

	snprintf(file, sizeof(file), "%s/%d/%s/%d/%s", img->dir, p->pid,
		 CRFS_D_TASK, th->tid, CRFS_F_SIGSTATE);
	return numa_nodes_ok(file, th->mempolicy, th->mempolicy_flags,
			     th->mempolicy_nodes, err, errlen);
}

/* the mappings' own policies, PID/mempolicy */
static int check_vma_numa(struct image *img, struct proc_image *p, char *err,
			  size_t errlen)
{
	char file[PATH_MAX];
	size_t i;
	int ret = 0;

	snprintf(file, sizeof(file), "%s/%d/%s", img->dir, p->pid,
		 CRFS_F_MEMPOLICY);
	for (i = 0; !ret && i < p->nvmas; i++)
		ret = numa_nodes_ok(file, p->vmas[i].mpol_mode,
				    p->vmas[i].mpol_flags,
				    p->vmas[i].mpol_nodes, err, errlen);
	return ret;
}

/* The thread directories under PID/task, main thread first. */
static int list_threads(struct image *img, struct proc_image *p, pid_t **out,
			int *n, char *err, size_t errlen)
{
	char path[PATH_MAX * 2];
	struct dirent *de;
	pid_t *t = NULL, *nt;
	DIR *d;
	int tid, ret;

	snprintf(path, sizeof(path), "%s/%d/%s", img->dir, p->pid, CRFS_D_TASK);
	d = opendir(path);
	if (!d)
		return ERR("%s: %s", path, strerror(errno));
	*n = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (parse_int(de->d_name, &tid) || tid <= 0) {
			closedir(d);
			free(t);
			return ERR("%s/%s: not a thread id", path, de->d_name);
		}
		nt = array_room(t, *n, sizeof(*t));
		if (!nt) {
			closedir(d);
			free(t);
			return ERR("out of memory");
		}
		t = nt;
		t[(*n)++] = tid == p->pid ? 0 : tid;	/* main sorts first */
	}
	closedir(d);
	ret = leader_slot(img, p, &t, n, err, errlen);
	if (ret)
		return ret;
	qsort(t, *n, sizeof(*t), cmp_tid);
	if (!*n || t[0]) {
		free(t);
		return ERR("%s: no directory for the main thread %d", path,
			   p->pid);
	}
	t[0] = p->pid;
	*out = t;
	return 0;
}

static int load_threads(struct image *img, struct proc_image *p, char *err,
			size_t errlen)
{
	pid_t *tids;
	char rel[160];
	int i, n, ret;

	ret = list_threads(img, p, &tids, &n, err, errlen);
	if (ret)
		return ret;
	if (n != p->attr.nthreads) {
		free(tids);
		return ERR("%s/%d/%s: %d threads, but %d thread directories",
			   img->dir, p->pid, CRFS_F_ATTR, p->attr.nthreads, n);
	}
	p->threads = calloc(n, sizeof(*p->threads));
	if (!p->threads) {
		free(tids);
		return ERR("out of memory");
	}
	p->nthreads = n;
	for (i = 0; !ret && i < n; i++) {
		struct crfs_thread *th = &p->threads[i];

		th->tid = tids[i];
		if (!i && p->attr.leader_exited) {
			exited_leader(p, th);
			continue;
		}
#define TF(name, fn) \
	(snprintf(rel, sizeof(rel), "%d/%s/%d/%s", p->pid, CRFS_D_TASK, \
		  tids[i], name), image_parse(img, rel, fn, th, err, errlen))
		ret = TF(CRFS_F_REGS, p_regs);
		ret = ret ?: TF(CRFS_F_XSTATE, p_xstate);
		ret = ret ?: TF(CRFS_F_SIGSTATE, p_sigstate);
		ret = ret ?: check_numa(img, p, th, err, errlen);
		ret = ret ?: TF(CRFS_F_SIGNALS, p_thread_sigs);
		snprintf(rel, sizeof(rel), "%d/%s/%d/%s", p->pid, CRFS_D_TASK,
			 tids[i], CRFS_F_CREDS);
		if (!ret && i > 0 && in_manifest(img, rel))
			ret = TF(CRFS_F_CREDS, p_thread_creds);
		snprintf(rel, sizeof(rel), "%d/%s/%d/%s", p->pid, CRFS_D_TASK,
			 tids[i], CRFS_F_SCHED);
		ret = ret ?: load_sched(img, rel, th, err, errlen);
		if (!ret && (snprintf(rel, sizeof(rel), "%d/%s/%d/%s", p->pid,
				      CRFS_D_TASK, tids[i], CRFS_F_SECCOMP),
			     in_manifest(img, rel)))
			ret = TF(CRFS_F_SECCOMP, p_seccomp);
#undef TF
	}
	free(tids);
	return ret;
}

static int load_proc_files(struct image *img, struct proc_image *p, char *err,
			   size_t errlen)
{
	struct idx_ctx ic = { p, img->hdr.freeze_id };
	char rel[128];
	int ret;

#define PF(name, fn, obj) \
	(snprintf(rel, sizeof(rel), "%d/%s", p->pid, name), \
	 image_parse(img, rel, fn, obj, err, errlen))
	ret = PF(CRFS_F_ATTR, p_attr, &p->attr);
	if (ret)
		return ret;
	if (p->attr.pid != p->pid)
		return ERR("%s/%d/%s: pid %d does not match its directory",
			   img->dir, p->pid, CRFS_F_ATTR, p->attr.pid);
	if (p->attr.zombie)
		return 0;
	ret = PF(CRFS_F_CREDS, p_creds, &p->creds);
	ret = ret ?: PF(CRFS_F_MM, p_mm, &p->mm);
	ret = ret ?: PF(CRFS_F_SIGACTS, p_sigacts, p->sa);
	ret = ret ?: PF(CRFS_F_RLIMITS, p_rlimits, p->rl);
	ret = ret ?: PF(CRFS_F_MAPS, p_maps, p);
	snprintf(rel, sizeof(rel), "%d/%s", p->pid, CRFS_F_MEMPOLICY);
	if (!ret && in_manifest(img, rel))
		ret = PF(CRFS_F_MEMPOLICY, p_vma_policies, p) ?:
		      check_vma_numa(img, p, err, errlen);
	snprintf(rel, sizeof(rel), "%d/%s", p->pid, CRFS_F_GUARDS);
	if (!ret && in_manifest(img, rel))
		ret = PF(CRFS_F_GUARDS, p_guards, p);
	ret = ret ?: PF(CRFS_F_FDS, p_fds, p);
	ret = ret ?: PF(CRFS_F_TIMERS, p_timers, p);
	ret = ret ?: PF(CRFS_F_PAGES_IDX, p_idx, &ic);
	ret = ret ?: PF(CRFS_F_SIGNALS, p_shared_sigs, p);
#undef PF
	return ret ?: load_threads(img, p, err, errlen);
}

/* Every run must lie in a mapping that restore fills. */
static int check_runs(struct image *img, struct proc_image *p, char *err,
		 size_t errlen)
{
	size_t r, v = 0;

	for (r = 0; r < p->nruns; r++) {
		uint64_t s = p->runs[r].addr, e = s + p->runs[r].npages * 4096;

		while (v < p->nvmas && p->vmas[v].end <= s)
			v++;
		if (v == p->nvmas || s < p->vmas[v].start || e > p->vmas[v].end ||
		    (p->vmas[v].kind >= VMA_VDSO &&
		     p->vmas[v].kind <= VMA_VSYSCALL))
			return ERR("%s/%d/%s: run at 0x%lx lies outside the saved mappings",
				   img->dir, p->pid, CRFS_F_PAGES_IDX, s);
	}
	return 0;
}

/*
 * 1 if the len bytes at off do not hash to want.  Read through a buffer
 * used again and again, not the mapping: touching every page of a fresh
 * mapping costs more than the read in a VM with shadow page tables.
 */
static int hash_run(int fd, uint64_t off, uint64_t len, uint64_t want)
{
	static char *buf;
	struct crfs_hash h;
	uint64_t done = 0;
	ssize_t n;

	if (!buf && !(buf = malloc(HASH_BUF)))
		return -ENOMEM;
	crfs_hash_init(&h);
	while (done < len) {
		n = pread(fd, buf, len - done < HASH_BUF ? len - done : HASH_BUF,
			  off + done);
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		crfs_hash_update(&h, buf, n);
		done += n;
	}
	return crfs_hash_final(&h) != want;
}

static int check_pages(struct image *img, struct proc_image *p, char *err,
		 size_t errlen)
{
	const unsigned char *map;
	struct stat st;
	uint64_t total = 0;
	size_t i;
	int fd;

	bool zst;
	int ret;

	for (i = 0; i < p->nruns; i++)
		if (p->runs[i].src == p->pid)
			total += p->runs[i].npages * 4096;
	ret = page_src_load(img, p, total, &zst, err, errlen);
	if (ret || zst)
		return ret;
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
	if (map == MAP_FAILED) {
		close(fd);
		return ERR("%s: %s", p->pages_path, strerror(errno));
	}
	p->pages_map = map;
	p->pages_len = total;
	close(fd);
	return 0;
}

/* pages copied by something else than the restorer: shared memory */
static bool run_in_shmem(const struct proc_image *p,
			 const struct crfs_page_run *r)
{
	size_t v;

	for (v = 0; v < p->nvmas; v++)
		if (r->addr >= p->vmas[v].start && r->addr < p->vmas[v].end)
			return p->vmas[v].kind == VMA_SHMEM;
	return false;
}

static bool image_shares_pages(const struct image *img)
{
	size_t i, k;

	for (i = 0; i < img->nprocs; i++)
		for (k = 0; k < img->procs[i].nruns; k++)
			if (CRFS_SRC_OWNER(img->procs[i].runs[k].src) !=
			    img->procs[i].pid)
				return true;
	return false;
}

/*
 * Each run is checked once.  Where the restorer copies a whole run into
 * place (a process whose pages no other shares, outside shared memory),
 * it checks the run's sum as it copies, before the tree runs, and a
 * mismatch fails the restore as any restorer error does: no second pass
 * over the data.  The rest (shared memory objects, copy-on-write pages
 * copied in parts by cow.c) is checked here, before anything is made.
 */
static int check_sums(struct image *img, char *err, size_t errlen)
{
	bool shared = image_shares_pages(img);
	size_t i, k;
	int fd, bad = 0;

	for (i = 0; i < img->nprocs && !bad; i++) {
		struct proc_image *p = &img->procs[i];

		if (p->attr.zombie || !p->pages_len)
			continue;
		p->sums_later = !shared;
		fd = page_src_open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return ERR("%s: %s", p->pages_path, strerror(errno));
		for (k = 0; k < p->nruns && !bad; k++) {
			const struct crfs_page_run *r = &p->runs[k];

			if (r->src != p->pid ||
			    (p->sums_later && !run_in_shmem(p, r)))
				continue;
			bad = hash_run(fd, r->offset, r->npages * 4096, r->hash);
		}
		close(fd);
		if (bad)
			return bad < 0 ?
			       ERR("%s: %s", p->pages_path, strerror(-bad)) :
			       ERR("%s: checksum mismatch in the pages of 0x%lx (corrupted)",
				   p->pages_path, p->runs[k - 1].addr);
	}
	return 0;
}

void image_unmap_pages(struct image *img)
{
	size_t i;

	for (i = 0; i < img->nprocs; i++) {
		struct proc_image *p = &img->procs[i];

		if (p->pages_map)
			munmap((void *)p->pages_map, p->pages_len);
		p->pages_map = NULL;
		p->pages_len = 0;
	}
	chain_unmap(img);
}

static int check_vdso(struct image *img, struct proc_image *p, char *err,
		 size_t errlen)
{
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
	/* none: the process unmapped them all, and gets none */
	if (k && k != n)
		return ERR("%s/%d/%s: the vDSO layout differs from this kernel's (image taken on %s)",
			   img->dir, p->pid, CRFS_F_MAPS, img->hdr.kernel);
	return 0;
}

static int check_cpu(struct image *img, struct proc_image *p, char *err,
		     size_t errlen)
{
	unsigned int a, b, c, d;
	const struct crfs_thread *th;

	if (!__get_cpuid_count(0xd, 0, &a, &b, &c, &d))
		return ERR("this CPU has no XSAVE");
	/* a main thread that had exited has none */
	th = &p->threads[p->attr.leader_exited];
	if (b != th->xstate_size && c != th->xstate_size)
		return ERR("%s/%d/task/%d/%s: XSAVE area of %u bytes, this CPU uses %u: restore on the same kind of CPU",
			   img->dir, p->pid, th->tid, CRFS_F_XSTATE,
			   th->xstate_size, b);
	return 0;
}

/* Files the image refers to must be the ones it was taken with. */
static int check_files(struct image *img, struct proc_image *p, char *err,
		 size_t errlen)
{
	(void)img;
	char path[PATH_MAX];
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
	/* a deleted one comes from its mapping's saved bytes */
	if (ghost_path(p->attr.exe, path, sizeof(path)) ? !exe_mapping(p) :
	    access(p->attr.exe, X_OK))
		return ERR("%s: the image's executable is gone (%s)",
			   p->attr.exe, exe_mapping(p) ? strerror(errno) :
			   "deleted, and no mapping of it in maps");
	return 0;
}

struct proc_image *image_proc(const struct image *img, pid_t pid)
{
	size_t i;

	for (i = 0; i < img->nprocs; i++)
		if (img->procs[i].pid == pid)
			return &img->procs[i];
	return NULL;
}

/* Pages stored once for parent and child: they must be where we point. */
static int check_shared_run(struct image *img, struct proc_image *p,
			    const struct crfs_page_run *r, char *err,
			    size_t errlen)
{
	struct proc_image *src = image_proc(img, r->src);
	uint64_t len = r->npages * 4096;

	if (r->src < 0)
		return p->lazy_runs && p->lazy_runs[r - p->runs] ?
		       chain_place_run(img, p, r, err, errlen) :
		       chain_check_run(img, p, r, err, errlen);
	if (!src || src->attr.zombie)
		return ERR("%s/%d/%s: pages of 0x%lx are stored by process %d, which is not in the image",
			   img->dir, p->pid, CRFS_F_PAGES_IDX, r->addr, r->src);
	if (r->offset + len > src->pages_len)
		return ERR("%s: does not hold the pages of 0x%lx of process %d",
			   src->pages_path, r->addr, p->pid);
	if (crfs_hash(src->pages_map + r->offset, len) != r->hash)
		return ERR("%s: checksum mismatch in the pages of 0x%lx of process %d (corrupted)",
			   src->pages_path, r->addr, p->pid);
	return 0;
}

static int check_shared_runs(struct image *img, char *err, size_t errlen)
{
	size_t i, k;
	int ret = 0;

	for (i = 0; !ret && i < img->nprocs; i++)
		for (k = 0; !ret && k < img->procs[i].nruns; k++)
			if (img->procs[i].runs[k].src != img->procs[i].pid)
				ret = check_shared_run(img, &img->procs[i],
						       &img->procs[i].runs[k],
						       err, errlen);
	return ret;
}

/* Parents before children, so each process can create its own children */
static int order_tree(struct image *img, char *err, size_t errlen)
{
	struct proc_image *p = img->procs;
	size_t i, k, done = 1;

	for (i = 0; i < img->nprocs; i++)
		p[i].parent = -1;
	if (p[0].pid != img->hdr.root)
		return ERR("%s/%s: the root %d is not the first process", img->dir,
			   CRFS_F_IMAGE, img->hdr.root);
	for (i = 1; i < img->nprocs; i++) {
		for (k = 0; k < img->nprocs; k++)
			if (p[k].pid == p[i].attr.ppid)
				p[i].parent = k;
		if (p[i].parent < 0)
			return ERR("%s/%d/%s: parent %d is not in the image",
				   img->dir, p[i].pid, CRFS_F_ATTR,
				   p[i].attr.ppid);
		if (p[p[i].parent].attr.zombie)
			return ERR("%s/%d/%s: parent %d is a zombie", img->dir,
				   p[i].pid, CRFS_F_ATTR, p[i].attr.ppid);
	}
	/* every process must reach the root through its parents */
	for (i = 1; i < img->nprocs; i++) {
		int at = i, hops = 0;

		while (at > 0 && hops++ <= (int)img->nprocs)
			at = p[at].parent;
		if (at != 0)
			return ERR("%s/%d/%s: not in the root's tree", img->dir,
				   p[i].pid, CRFS_F_ATTR);
		done++;
	}
	return done == img->nprocs ? 0 : -EINVAL;
}

/*
 * Either every pid is ours, or the root is init (1) of a namespace of its
 * own and every other pid is of that namespace.
 */
static int check_pidns(struct image *img, char *err, size_t errlen)
{
	struct proc_image *root = &img->procs[0];
	size_t i;

	img->new_pidns = root->attr.vpid != root->pid;
	if (root->attr.proc_mount && !img->new_pidns)
		return ERR("%s/%d/%s: a mount namespace is restored only with the pid namespace it shows in /proc",
			   img->dir, root->pid, CRFS_F_ATTR);
	if (img->new_pidns && root->attr.vpid != 1)
		return ERR("%s/%d/%s: vpid %d: a pid namespace is restored only from its init (1)",
			   img->dir, root->pid, CRFS_F_ATTR, root->attr.vpid);
	/* a zombie has no namespaces left to read: its parent's are its */
	for (i = 0; i < img->nprocs; i++)
		if (!img->procs[i].attr.zombie &&
		    img->procs[i].attr.proc_mount != root->attr.proc_mount)
			return ERR("%s/%d/%s: in another mount namespace than the root",
				   img->dir, img->procs[i].pid, CRFS_F_ATTR);
	return pidns_check(img, err, errlen);
}

static int load_proc(struct image *img, struct proc_image *p, char *err,
		     size_t errlen)
{
	int ret = load_proc_files(img, p, err, errlen);

	if (ret || p->attr.zombie)
		return ret;
	ret = check_runs(img, p, err, errlen);
	ret = ret ?: check_pages(img, p, err, errlen);
	ret = ret ?: check_vdso(img, p, err, errlen);
	ret = ret ?: check_cpu(img, p, err, errlen);
	/* an image with a mount tree names files inside it: once it is built */
	if (in_manifest(img, CRFS_F_MOUNTS))
		return ret;
	return ret ?: check_files(img, p, err, errlen);
}

int image_check_files(struct image *img, char *err, size_t errlen)
{
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < img->nprocs; i++)
		if (!img->procs[i].attr.zombie)
			ret = check_files(img, &img->procs[i], err, errlen);
	return ret ?: image_check_paths(img, err, errlen);
}

static int check_helpers(struct image *img, char *err, size_t errlen);

int image_load(const char *dir, struct image *img, char *err, size_t errlen)
{
	size_t i;
	int ret;

	memset(img, 0, sizeof(*img));
	if (strlen(dir) > PATH_MAX / 2)
		return ERR("%s: path too long", dir);
	snprintf(img->dir, sizeof(img->dir), "%s", dir);
	ret = load_header(img, err, errlen);
	ret = ret ?: check_manifest(img, err, errlen);
	ret = ret ?: sort_manifest(img, err, errlen);
	ret = ret ?: chain_load(img, err, errlen);
	restore_profile("load: header, chain");
	if (ret)
		return ret;
	img->procs = calloc(img->hdr.nprocs, sizeof(*img->procs));
	if (!img->procs)
		return ERR("out of memory");
	img->nprocs = img->hdr.nprocs;
	for (i = 0; i < img->nprocs; i++)
		img->procs[i].pages_memfd = -1;
	for (i = 0; !ret && i < img->nprocs; i++) {
		img->procs[i].pid = img->hdr.procs[i];
		ret = load_proc(img, &img->procs[i], err, errlen);
	}
	restore_profile("load: processes");
	if (!ret && lazy_plan(img, image_shares_pages(img)))
		ret = ERR("out of memory");
	ret = ret ?: check_shared_runs(img, err, errlen);
	restore_profile("load: shared and parent runs");
	ret = ret ?: check_sums(img, err, errlen);
	restore_profile("load: checksums");
	ret = ret ?: image_load_files(img, err, errlen);
	ret = ret ?: order_tree(img, err, errlen);
	if (!ret)
		ret = check_pidns(img, err, errlen);
	ret = ret ?: check_group_stubs(img, err, errlen);
	return ret ?: check_helpers(img, err, errlen);
}

bool needs_session_helper(const struct image *img, size_t i)
{
	const struct proc_image *p = &img->procs[i];

	return p->parent >= 0 && p->attr.sid != p->pid &&
	       p->attr.sid != img->procs[p->parent].attr.sid &&
	       !image_proc(img, p->attr.sid);
}

bool needs_group_helper(const struct image *img, size_t i)
{
	const struct proc_image *p = &img->procs[i];

	return needs_session_helper(img, i) && p->attr.pgid != p->attr.sid &&
	       !image_proc(img, p->attr.pgid);
}

/* Members of a leaderless session come from one helper under one parent */
static int check_helpers(struct image *img, char *err, size_t errlen)
{
	size_t i, k;

	for (i = 0; i < img->nprocs; i++) {
		struct proc_image *p = &img->procs[i];

		if (!needs_session_helper(img, i))
			continue;
		if (img->new_pidns)
			return ERR("%s/%d/%s: a session whose leader has exited, inside a pid namespace, is not supported yet",
				   img->dir, p->pid, CRFS_F_ATTR);
		if (!img->procs[p->parent].attr.child_subreaper)
			return ERR("%s/%d/%s: session %d has no leader, and the parent is no subreaper",
				   img->dir, p->pid, CRFS_F_ATTR, p->attr.sid);
		for (k = 0; k < img->nprocs; k++)
			if (img->procs[k].attr.sid == p->attr.sid &&
			    img->procs[k].parent != p->parent)
				return ERR("%s/%d/%s: the members of session %d, whose leader has exited, have different parents (not supported yet)",
					   img->dir, p->pid, CRFS_F_ATTR,
					   p->attr.sid);
	}
	return 0;
}

void image_free(struct image *img)
{
	size_t i, k;

	for (i = 0; i < img->nprocs; i++) {
		struct proc_image *p = &img->procs[i];

		free(p->attr.exe);
		free(p->attr.cwd);
		free(p->attr.root);
		free(p->creds.groups);
		free_maps(p->vmas, p->nvmas);
		free(p->guards);
		free(p->runs);
		free(p->lazy_runs);
		free(p->fds);
		for (k = 0; k < p->nthreads; k++) {
			free(p->threads[k].xstate);
			free(p->threads[k].sched);
			free(p->threads[k].pending);
			if (p->threads[k].creds)
				free(p->threads[k].creds->groups);
			free(p->threads[k].creds);
			free_seccomp(&p->threads[k]);
		}
		free(p->threads);
		free(p->shared_sigs);
		free(p->timers);
	}
	image_unmap_pages(img);
	chain_free(img);
	page_src_drop_fds(img);	/* the tree has them */
	image_free_files(img);
	free(img->procs);
	free(img->manifest);
	for (size_t k = 0; k < img->nshm; k++)
		free(img->shm[k].made);
	free(img->shm);
	free_header(&img->hdr);
}
