// SPDX-License-Identifier: MIT
/*
 * Where a process's pages are read from: the one interface (page_src.h)
 * for how a pages file is found, opened and checked, so that other page
 * sources fit beside these two.
 *
 * PID/pages is read as it is.  PID/pages.zst (FORMAT.md 4.8a) is
 * decompressed at load, on two threads, into a memfd laid out as pages
 * would be (zero pages are holes: never written, they cost nothing); from
 * there on everything reads it as it reads pages, and the restorer checks
 * the runs' checksums as it copies them, as for pages.  Each chunk's zstd
 * frame carries its own checksum; any fault in the file's structure is
 * refused here, naming the file, before anything is made.  A parent
 * image's pages.zst (restore/chain.c) goes through the same pzst_*, but
 * only the chunks its runs touch are decompressed.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <zstd.h>

#include "crfs/pages_zst.h"
#include "image.h"
#include "page_src.h"

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -EINVAL)
#define NTHREADS 2

struct zframe {
	uint64_t at;		/* in pages.zst */
	uint64_t len;		/* its bytes there; 0: all zero */
	uint64_t out;		/* where the chunk starts in pages */
	const unsigned char *zero;	/* its bitmap */
	uint32_t npages, kept;
	bool done;		/* its pages are in the memfd */
};

/*
 * An open pages.zst: its chunks, found by walking their headers (no
 * decompression), and a memfd laid out as pages would be, into which
 * chunks are decompressed as their pages are asked for.
 */
struct pzst {
	char path[PATH_MAX + 64];
	const unsigned char *in;	/* the file, mapped; NULL once dropped */
	uint64_t insize;
	struct zframe *f;
	size_t n;
	int fd;
};

struct unz {
	const unsigned char *in;
	int fd;			/* the memfd written */
	struct zframe *f;
	size_t n, first, step;	/* frames first, first + step, ... */
	ssize_t bad;		/* index of a frame that failed, or -1 */
	int err;		/* writing it failed with this, not decoding */
};

static uint32_t get32(const unsigned char *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static const char *walk_one(const unsigned char *in, uint64_t size,
			    uint64_t *pos, struct zframe *f, uint64_t *out,
			    uint64_t total)
{
	size_t z;
	uint32_t i;

	if (size - *pos < PZST_HEAD || get32(in + *pos) != PZST_MAGIC ||
	    get32(in + *pos + 4) != PZST_HEAD - 8)
		return "no chunk header here";
	f->npages = get32(in + *pos + 8);
	if (!f->npages || f->npages > PZST_CHUNK_PAGES ||
	    *out + f->npages * 4096ULL > total)
		return "chunk page count out of range";
	f->zero = in + *pos + 12;
	f->out = *out;
	f->kept = 0;
	for (i = 0; i < f->npages; i++)
		f->kept += !(f->zero[i / 8] & (1 << (i % 8)));
	*pos += PZST_HEAD;
	f->at = *pos;
	f->len = 0;
	f->done = !f->kept;
	if (f->kept) {
		z = ZSTD_findFrameCompressedSize(in + *pos, size - *pos);
		if (ZSTD_isError(z))
			return "zstd frame cut short or malformed";
		if (ZSTD_getFrameContentSize(in + *pos, z) != f->kept * 4096ULL)
			return "zstd frame of the wrong size";
		f->len = z;
		*pos += z;
	}
	*out += f->npages * 4096ULL;
	return NULL;
}

/* the chunks of in, in order; why on a fault at *pos */
static int walk(const unsigned char *in, uint64_t size, uint64_t total,
		struct zframe **fr, size_t *n, uint64_t *pos, const char **why)
{
	size_t cap = total / (PZST_CHUNK_PAGES * 4096ULL) + 1;
	uint64_t out = 0;

	*fr = calloc(cap, sizeof(**fr));
	if (!*fr)
		return -ENOMEM;
	*n = 0;
	*pos = 0;
	while (*pos < size) {
		if (*n == cap) {
			*why = "more chunks than its index has pages";
			return -EINVAL;
		}
		*why = walk_one(in, size, pos, &(*fr)[*n], &out, total);
		if (*why)
			return -EINVAL;
		(*n)++;
	}
	*why = "fewer pages than its index has";
	return out == total ? 0 : -EINVAL;
}

static bool is_zero(const struct zframe *f, uint32_t i)
{
	return f->zero[i / 8] & (1 << (i % 8));
}

/* each stretch of non-zero pages with one write: writing through a
 * mapping of the memfd faults each page in, which costs more than the
 * copy in a VM with shadow page tables */
static int put_frame(int fd, const struct zframe *f, const unsigned char *pack)
{
	uint32_t i, k, from;
	size_t len;

	for (i = 0, k = 0; i < f->npages;) {
		if (is_zero(f, i)) {
			i++;
			continue;
		}
		for (from = i; i < f->npages && !is_zero(f, i); i++)
			;
		len = (i - from) * 4096ULL;
		if (pwrite(fd, pack + 4096ULL * k, len,
			   f->out + from * 4096ULL) != (ssize_t)len)
			return errno ?: EIO;
		k += i - from;
	}
	return 0;
}

static void *unz_some(void *arg)
{
	struct unz *u = arg;
	ZSTD_DCtx *dx = ZSTD_createDCtx();
	unsigned char *pack = malloc(PZST_CHUNK_PAGES * 4096);
	size_t j, got;

	for (j = u->first; j < u->n && u->bad < 0; j += u->step) {
		struct zframe *f = &u->f[j];

		if (f->done)
			continue;
		got = dx && pack ? ZSTD_decompressDCtx(dx, pack,
						       PZST_CHUNK_PAGES * 4096,
						       u->in + f->at, f->len) :
				   (size_t)-1;
		if (ZSTD_isError(got) || got != f->kept * 4096ULL) {
			u->bad = j;
			break;
		}
		u->err = put_frame(u->fd, f, pack);
		if (u->err) {
			u->bad = j;
			break;
		}
		f->done = true;
	}
	ZSTD_freeDCtx(dx);
	free(pack);
	return NULL;
}

/*
 * Frames f[0..n) into out, on NTHREADS threads when there are several:
 * the first that failed, or -1; *err if writing it failed (not its data)
 */
static ssize_t unz_all(const unsigned char *in, int out, struct zframe *f,
		       size_t n, int *err)
{
	struct unz u[NTHREADS];
	pthread_t th[NTHREADS];
	bool started[NTHREADS] = { false };
	/* each thread takes every nth frame: as many threads as frames, at
	 * most NTHREADS (one thread striding by NTHREADS skipped frames) */
	size_t i, nth = n < NTHREADS ? n : NTHREADS;
	ssize_t bad = -1;

	for (i = 0; i < nth; i++) {
		u[i] = (struct unz){ in, out, f, n, i, nth, -1, 0 };
		started[i] = i && !pthread_create(&th[i], NULL, unz_some, &u[i]);
	}
	unz_some(&u[0]);
	for (i = 1; i < nth; i++) {
		if (started[i])
			pthread_join(th[i], NULL);
		else
			unz_some(&u[i]);
	}
	for (i = 0; i < nth; i++)
		if (u[i].bad >= 0 && (bad < 0 || u[i].bad < bad)) {
			bad = u[i].bad;
			*err = u[i].err;
		}
	return bad;
}

void pzst_free(struct pzst *z)
{
	if (!z)
		return;
	pzst_drop_input(z);
	if (z->fd >= 0)
		close(z->fd);
	free(z);
}

void pzst_drop_input(struct pzst *z)
{
	if (z->in)
		munmap((void *)z->in, z->insize);
	z->in = NULL;
	free(z->f);
	z->f = NULL;
	z->n = 0;
}

int pzst_fd(const struct pzst *z)
{
	return z->fd;
}

int pzst_set_fd(struct pzst *z, int fd)
{
	int old = z->fd;

	z->fd = fd;
	return old;
}

/* path, a pages.zst of total bytes of pages: its chunks walked, checked */
int pzst_open(const char *path, uint64_t total, struct pzst **out, char *err,
	      size_t errlen)
{
	const char *why = NULL;
	struct pzst *z;
	struct stat st;
	uint64_t pos = 0;
	void *in = MAP_FAILED;
	int fd, ret;

	z = *out = calloc(1, sizeof(*z));
	if (!z)
		return ERR("%s: out of memory", path);
	snprintf(z->path, sizeof(z->path), "%s", path);
	z->fd = memfd_create("crfs-pages", MFD_CLOEXEC);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		ret = ERR("%s: %s", path, strerror(errno));
		goto out;
	}
	if (st.st_size)
		in = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if ((st.st_size && in == MAP_FAILED) || z->fd < 0 ||
	    ftruncate(z->fd, total)) {
		ret = ERR("%s: decompressing: %s", path, strerror(errno));
		goto out;
	}
	if (st.st_size) {
		z->in = in;
		z->insize = st.st_size;
	}
	ret = walk(z->in, z->insize, total, &z->f, &z->n, &pos, &why);
	if (ret)
		ret = ret == -ENOMEM ? ERR("%s: out of memory", path) :
		      ERR("%s: at byte %lu: %s (corrupted or truncated)", path,
			  pos, why);
out:
	if (fd >= 0)
		close(fd);
	if (ret) {
		if (in != MAP_FAILED && !z->in)
			munmap(in, st.st_size);
		pzst_free(z);
		*out = NULL;
	}
	return ret;
}

/*
 * The chunks holding [off, off + len) of the pages into the memfd, each
 * once: a lookup into a parent's pages.zst decompresses the 1 MiB chunks
 * its runs touch, not the file
 */
int pzst_fill(struct pzst *z, uint64_t off, uint64_t len, char *err,
	      size_t errlen)
{
	size_t lo = 0, hi = z->n, end;
	ssize_t bad;
	int werr = 0;

	while (lo < hi) {	/* the first chunk ending after off */
		size_t mid = (lo + hi) / 2;

		if (z->f[mid].out + z->f[mid].npages * 4096ULL <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < z->n && z->f[end].out < off + len; end++)
		;
	while (lo < end && z->f[lo].done)
		lo++;
	if (lo == end)
		return 0;
	if (!z->in)
		return ERR("%s: its pages were asked for after it was closed",
			   z->path);
	bad = unz_all(z->in, z->fd, z->f + lo, end - lo, &werr);
	if (bad >= 0 && werr)
		return ERR("%s: decompressing the frame at byte %lu: writing its pages: %s",
			   z->path, z->f[lo + bad].at, strerror(werr));
	if (bad >= 0)
		return ERR("%s: the zstd frame at byte %lu does not decompress to its pages (corrupted)",
			   z->path, z->f[lo + bad].at);
	return 0;
}

/* pages.zst at path into a memfd of total bytes: p->pages_map */
static int unzst(struct proc_image *p, const char *path, uint64_t total,
		 char *err, size_t errlen)
{
	struct pzst *z;
	int ret;

	ret = pzst_open(path, total, &z, err, errlen);
	ret = ret ?: pzst_fill(z, 0, total, err, errlen);
	if (!ret && total) {
		p->pages_map = mmap(NULL, total, PROT_READ, MAP_SHARED, z->fd,
				    0);
		if (p->pages_map == MAP_FAILED) {
			p->pages_map = NULL;
			ret = ERR("%s: %s", path, strerror(errno));
		}
	}
	if (!ret) {
		p->pages_len = total;
		p->pages_memfd = pzst_set_fd(z, -1);
	}
	pzst_free(z);
	return ret;
}

/* which of pages and pages.zst; both or neither is refused */
int page_src_load(struct image *img, struct proc_image *p, uint64_t total,
		  bool *zst, char *err, size_t errlen)
{
	char raw[64], packed[64];
	bool has_raw, has_zst;

	p->pages_memfd = -1;
	snprintf(raw, sizeof(raw), "%d/%s", p->pid, CRFS_F_PAGES);
	snprintf(packed, sizeof(packed), "%d/%s", p->pid, CRFS_F_PAGES_ZST);
	has_raw = in_manifest(img, raw);
	has_zst = in_manifest(img, packed);
	if (has_raw && has_zst)
		return ERR("%s/%d: holds both %s and %s: an image has one or the other",
			   img->dir, p->pid, CRFS_F_PAGES, CRFS_F_PAGES_ZST);
	if (!has_raw && !has_zst)
		return ERR("%s/%d: neither %s nor %s is in the image's manifest",
			   img->dir, p->pid, CRFS_F_PAGES, CRFS_F_PAGES_ZST);
	*zst = has_zst;
	/* its fds are dropped where a table of our own is ours to change */
	if (has_zst && p->attr.shares_files)
		return ERR("%s/%d/%s: a process sharing its parent's file table, with its pages in %s: not supported yet",
			   img->dir, p->pid, CRFS_F_ATTR, CRFS_F_PAGES_ZST);
	snprintf(p->pages_path, sizeof(p->pages_path), "%s/%s", img->dir,
		 has_zst ? packed : raw);
	return has_zst ? unzst(p, p->pages_path, total, err, errlen) : 0;
}

int page_src_open(const struct proc_image *p, int flags)
{
	if (p->pages_memfd >= 0)
		return fcntl(p->pages_memfd,
			     flags & O_CLOEXEC ? F_DUPFD_CLOEXEC : F_DUPFD, 0);
	return open(p->pages_path, flags);
}

int page_src_keep_fds(struct image *img, int top)
{
	size_t i;
	int nfd;

	for (i = 0; i < img->nprocs; i++) {
		struct proc_image *p = &img->procs[i];

		if (p->pages_memfd < 0)
			continue;
		nfd = fcntl(p->pages_memfd, F_DUPFD_CLOEXEC, top + 1);
		close(p->pages_memfd);
		p->pages_memfd = nfd;
		if (nfd > top)
			top = nfd;
	}
	return chain_keep_fds(img, top);
}

void page_src_drop_fds(struct image *img)
{
	size_t i;

	/*
	 * Every process of the tree runs this on its copy of the image: a
	 * store into each entry would copy a page of the table per process,
	 * n of them in each of n processes.  Only an open fd is written.
	 */
	for (i = 0; i < img->nprocs; i++) {
		if (img->procs[i].pages_memfd < 0)
			continue;
		close(img->procs[i].pages_memfd);
		img->procs[i].pages_memfd = -1;
	}
	chain_drop_fds(img);
}
