// SPDX-License-Identifier: MIT
/*
 * PID/pages.zst: the bytes of PID/pages compressed with zstd, for a
 * container set to `compress zstd` (FORMAT.md 4.8a).  The pages stream is
 * cut into chunks of 256 pages (1 MiB); each chunk is a zstd skippable
 * frame naming its zero pages, then, unless all are zero, one zstd frame
 * (with its content checksum) of the other pages in order: zero pages are
 * never stored, and every chunk can be checked and decompressed alone.
 *
 * It is made at freeze, so that st_size is exact from the first stat and
 * the manifest in image can give it: the freeze takes longer by the time
 * to read and compress the memory (on two threads), and the daemon holds
 * the compressed bytes until the snapshot goes.  The memory is read front
 * to back once, which also gives pages.idx its checksums.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "snapshot.h"
#include "crfs/pages_zst.h"

#define BATCH 16		/* chunks read before they are compressed */
#define NTHREADS 2

struct zchunk {
	const unsigned char *in;	/* the chunk as in pages */
	size_t npages;
	unsigned char *out;		/* skippable frame, then zstd frame */
	size_t len, cap;
	int ret;
};

struct zjob {
	struct zchunk *c;
	size_t n, first;		/* chunks first, first + NTHREADS, ... */
};

static bool zero_page(const unsigned char *p)
{
	static const unsigned char zero[4096];

	return !memcmp(p, zero, sizeof(zero));
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

/* the chunk's non-zero pages packed at its front, then compressed */
static int compress_chunk(ZSTD_CCtx *cx, struct zchunk *c, unsigned char *pack)
{
	unsigned char *hdr = c->out;
	size_t i, kept = 0, z;

	memset(hdr, 0, PZST_HEAD);
	put32(hdr, PZST_MAGIC);
	put32(hdr + 4, PZST_HEAD - 8);
	put32(hdr + 8, c->npages);
	for (i = 0; i < c->npages; i++) {
		const unsigned char *pg = c->in + i * 4096;

		if (zero_page(pg)) {
			hdr[12 + i / 8] |= 1 << (i % 8);
			continue;
		}
		memcpy(pack + kept * 4096, pg, 4096);
		kept++;
	}
	c->len = PZST_HEAD;
	if (!kept)
		return 0;
	z = ZSTD_compress2(cx, c->out + PZST_HEAD, c->cap - PZST_HEAD, pack,
			   kept * 4096);
	if (ZSTD_isError(z))
		return -EIO;
	c->len += z;
	return 0;
}

static void *compress_some(void *arg)
{
	struct zjob *j = arg;
	ZSTD_CCtx *cx = ZSTD_createCCtx();
	unsigned char *pack = malloc(PZST_CHUNK_PAGES * 4096);
	size_t i;

	for (i = j->first; i < j->n; i += NTHREADS) {
		j->c[i].ret = -ENOMEM;
		if (!cx || !pack)
			continue;
		ZSTD_CCtx_setParameter(cx, ZSTD_c_compressionLevel, 1);
		ZSTD_CCtx_setParameter(cx, ZSTD_c_checksumFlag, 1);
		j->c[i].ret = compress_chunk(cx, &j->c[i], pack);
	}
	ZSTD_freeCCtx(cx);
	free(pack);
	return NULL;
}

static int append(struct strbuf *sb, const void *data, size_t n)
{
	size_t cap = sb->cap ?: 1 << 20;
	char *b;

	while (cap < sb->len + n)
		cap *= 2;
	if (cap != sb->cap) {
		b = realloc(sb->buf, cap);
		if (!b)
			return -ENOMEM;
		sb->buf = b;
		sb->cap = cap;
	}
	memcpy(sb->buf + sb->len, data, n);
	sb->len += n;
	return 0;
}

/* n chunks of buf, compressed on NTHREADS threads, appended to out */
static int compress_batch(struct zchunk *c, size_t n, struct strbuf *out)
{
	struct zjob jobs[NTHREADS];
	pthread_t th[NTHREADS];
	bool started[NTHREADS] = { false };
	size_t i;
	int ret = 0;

	for (i = 0; i < NTHREADS; i++) {
		jobs[i] = (struct zjob){ c, n, i };
		started[i] = i && !pthread_create(&th[i], NULL, compress_some,
						  &jobs[i]);
	}
	compress_some(&jobs[0]);
	for (i = 1; i < NTHREADS; i++)
		if (started[i])
			pthread_join(th[i], NULL);
		else
			compress_some(&jobs[i]);
	for (i = 0; i < n && !ret; i++)
		ret = c[i].ret ?: append(out, c[i].out, c[i].len);
	return ret;
}

static int compress_pages(struct snapshot *s, int idx, struct strbuf *out)
{
	struct proc_snap *p = &s->procs[idx];
	struct entry src = { .kind = E_PAGES, .len = p->pages_size,
			     .proc = idx };
	size_t chunk = PZST_CHUNK_PAGES * 4096, cap, n;
	unsigned char *buf = malloc(BATCH * chunk), *outs;
	struct zchunk c[BATCH];
	uint64_t off = 0;
	ssize_t got;
	int ret = 0;

	cap = PZST_HEAD + ZSTD_compressBound(chunk);
	outs = malloc(BATCH * cap);
	if (!buf || !outs)
		ret = -ENOMEM;
	while (!ret && off < p->pages_size) {
		for (n = 0; n < BATCH && off < p->pages_size; n++) {
			/* front to back: pages.idx's checksums on the way */
			got = snapshot_read(s, &src, (char *)buf + n * chunk,
					    chunk, off);
			if (got <= 0 || got % 4096) {
				ret = got < 0 ? got : -EIO;
				break;
			}
			c[n] = (struct zchunk){ buf + n * chunk, got / 4096,
						outs + n * cap, 0, cap, 0 };
			off += got;
		}
		ret = ret ?: compress_batch(c, n, out);
	}
	free(buf);
	free(outs);
	return ret;
}

int pages_zst_add(struct snapshot *s, int idx, const char *path)
{
	struct strbuf sb;
	int ret;

	sb_init(&sb);
	ret = compress_pages(s, idx, &sb);
	if (ret) {
		sb_free(&sb);
		return ret;
	}
	return snapshot_add(s, path, E_BLOB, sb.buf, sb.len, idx);
}
