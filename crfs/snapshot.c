// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/utsname.h>

#include "kh.h"
#include "snapshot.h"
#include "crfs/array.h"

#define CHUNK (1 << 20)

struct snapshot *snapshot_new(void)
{
	struct snapshot *s = calloc(1, sizeof(*s));
	unsigned char rnd[16];
	int i;

	if (!s)
		return NULL;
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		free(s);
		return NULL;
	}
	for (i = 0; i < 16; i++)
		sprintf(s->freeze_id + 2 * i, "%02x", rnd[i]);
	s->when = time(NULL);
	sb_init(&s->unsupported);
	return s;
}

void snapshot_free(struct snapshot *s)
{
	size_t i;

	if (!s)
		return;
	tcp_resume(s);	/* none left but for a path that forgot them */
	postdump_drop(s);
	netns_prefetch_drop(s);
	for (i = 0; i < s->nentries; i++) {
		free(s->entries[i].path);
		free(s->entries[i].data);
	}
	for (i = 0; i < s->nprocs; i++) {
		struct proc_snap *p = &s->procs[i];

		if (p->memfd >= 0)
			close(p->memfd);
		free_maps(p->vmas, p->nvmas);
		free(p->runs);
		free(p->own);
		free(p->idx);
	}
	free(s->entries);
	free(s->byname);
	free(s->procs);
	kh_free_fds(s->fds, s->nfds);
	sb_free(&s->unsupported);
	free(s);
}

void snapshot_report(void *snap, const char *fmt, ...)
{
	struct snapshot *s = snap;
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sb_printf(&s->unsupported, "unsupported %s\n", msg);
}

int snapshot_add_text(struct snapshot *s, const char *path, struct strbuf *sb,
		      int ret)
{
	if (ret) {
		sb_free(sb);
		return ret;
	}
	return snapshot_add(s, path, E_TEXT, sb->buf, sb->len, -1);
}

int snapshot_add(struct snapshot *s, const char *path, enum entry_kind kind,
		 char *data, size_t len, int proc)
{
	struct entry *n = array_room(s->entries, s->nentries, sizeof(*n));

	if (!n) {
		free(data);
		return -ENOMEM;
	}
	s->entries = n;
	n = &s->entries[s->nentries];
	n->path = strdup(path);
	if (!n->path) {
		free(data);
		return -ENOMEM;
	}
	n->kind = kind;
	n->data = data;
	n->len = len;
	n->proc = proc;
	s->nentries++;
	return 0;
}

static int add_manifest(struct crfs_header *h, const struct entry *e)
{
	struct crfs_manifest_entry *m = &h->files[h->nfiles++];

	m->path = e->path;
	m->size = e->len;
	m->has_hash = e->kind == E_TEXT;
	m->hash = m->has_hash ? crfs_hash(e->data, e->len) : 0;
	return 0;
}

int render_tree_of(struct strbuf *sb, const pid_t *pids, size_t n)
{
	struct kh_stat st;
	size_t i;
	int ret;

	ret = sb_printf(sb, "pid ppid pgid sid threads comm\n");
	for (i = 0; !ret && i < n; i++) {
		if (kh_proc_stat(pids[i], &st))
			continue;
		ret = sb_printf(sb, "%d %d %d %d %d ", pids[i], st.ppid,
				st.pgid, st.sid, st.nthreads);
		ret = ret ?: sb_put_escaped(sb, st.comm);
		ret = ret ?: sb_printf(sb, "\n");
	}
	return ret;
}

static int render_tree(struct snapshot *s)
{
	pid_t *pids = calloc(s->nprocs ?: 1, sizeof(*pids));
	struct strbuf sb;
	size_t i;
	int ret;

	if (!pids)
		return -ENOMEM;
	for (i = 0; i < s->nprocs; i++)
		pids[i] = s->procs[i].pid;
	sb_init(&sb);
	ret = render_tree_of(&sb, pids, s->nprocs);
	free(pids);
	if (ret) {
		sb_free(&sb);
		return ret;
	}
	return snapshot_add(s, CRFS_F_TREE, E_TEXT, sb.buf, sb.len, -1);
}

int snapshot_finish(struct snapshot *s, pid_t root)
{
	struct crfs_header h = { .version = CRFS_FORMAT_VERSION };
	struct utsname u;
	struct strbuf sb;
	size_t i;
	int ret;

	/* a pre-dump holds memory only: no descriptor was looked at */
	ret = s->predump ? 0 : files_finish(s);
	ret = ret ?: render_tree(s);
	if (ret)
		return ret;
	uname(&u);
	snprintf(h.arch, sizeof(h.arch), "%s", CRFS_ARCH);
	h.page_size = sysconf(_SC_PAGESIZE);
	snprintf(h.kernel, sizeof(h.kernel), "%s", u.release);
	memcpy(h.freeze_id, s->freeze_id, sizeof(s->freeze_id));
	if (s->incremental) {
		h.version = CRFS_FORMAT_VERSION_INCR;
		h.parent = s->track->parent;
		memcpy(h.parent_id, s->track->base_id, sizeof(s->track->base_id));
	}
	h.root = root;
	h.predump = s->predump;
	h.nprocs = s->nprocs;
	h.procs = calloc(s->nprocs ?: 1, sizeof(pid_t));
	h.files = calloc(s->nentries ?: 1, sizeof(*h.files));
	if (!h.procs || !h.files) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < s->nprocs; i++)
		h.procs[i] = s->procs[i].pid;
	for (i = 0; i < s->nentries; i++)
		if (s->entries[i].kind != E_DIR)
			add_manifest(&h, &s->entries[i]);
	sb_init(&sb);
	ret = render_header(&sb, &h);
	if (!ret)
		ret = snapshot_add(s, CRFS_F_IMAGE, E_TEXT, sb.buf, sb.len, -1);
	else
		sb_free(&sb);
out:
	free(h.procs);
	free(h.files);
	return ret;
}

static int cmp_path(const void *a, const void *b, void *arg)
{
	const struct entry *e = arg;

	return strcmp(e[*(const size_t *)a].path, e[*(const size_t *)b].path);
}

/* entries by path: a lookup per FUSE request must not walk them all */
static int index_paths(struct snapshot *s)
{
	size_t i, *n = array_room(s->byname, s->nentries, sizeof(*n));

	if (!n)
		return -ENOMEM;
	s->byname = n;
	for (i = 0; i < s->nentries; i++)
		n[i] = i;
	qsort_r(n, s->nentries, sizeof(*n), cmp_path, s->entries);
	s->nbyname = s->nentries;
	return 0;
}

const struct entry *snapshot_find(struct snapshot *s, const char *path,
				  size_t *index)
{
	size_t lo = 0, hi, mid;
	int c;

	if (s->nbyname != s->nentries && index_paths(s))
		return NULL;
	hi = s->nbyname;
	while (lo < hi) {
		mid = (lo + hi) / 2;
		c = strcmp(s->entries[s->byname[mid]].path, path);
		if (!c) {
			if (index)
				*index = s->byname[mid];
			return &s->entries[s->byname[mid]];
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * A directory's children are one run of the sorted index (every path under
 * "dir/" sorts together): found by a binary search, walked from there.
 */
static size_t first_under(struct snapshot *s, const char *dir)
{
	size_t lo = 0, hi = s->nbyname, mid, n = strlen(dir);
	const char *p;

	if (!n)
		return 0;
	while (lo < hi) {
		mid = (lo + hi) / 2;
		p = s->entries[s->byname[mid]].path;
		/* "dir/" sorts just after "dir" and its own prefixes */
		if (strncmp(p, dir, n) < 0 ||
		    (!strncmp(p, dir, n) && p[n] < '/'))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

ssize_t snapshot_next_child(struct snapshot *s, const char *dir, size_t *pos)
{
	size_t n = strlen(dir), p;
	const char *path;

	if (s->nbyname != s->nentries && index_paths(s))
		return -1;
	for (p = *pos ? *pos - 1 : first_under(s, dir); p < s->nbyname; p++) {
		path = s->entries[s->byname[p]].path;
		if (n && (strncmp(path, dir, n) || path[n] != '/'))
			break;
		if (strchr(path + (n ? n + 1 : 0), '/'))
			continue;
		*pos = p + 2;
		return s->byname[p];
	}
	*pos = p + 1;
	return -1;
}

/* Hashes every run: done on the first read of pages.idx, not at freeze. */
static int render_idx(struct snapshot *s, struct proc_snap *p, size_t len)
{
	char *idx = malloc(len + 1), *buf = NULL;
	size_t i, off, rank = 0;
	int ret = 0;

	if (!idx)
		return -ENOMEM;
	buf = malloc(CHUNK);
	if (!buf) {
		free(idx);
		return -ENOMEM;
	}
	off = render_pages_idx_head(idx, len + 1, s->freeze_id, p->nruns);
	for (i = 0; i < p->nruns && !ret; i++) {
		struct crfs_page_run *r = &p->runs[i];
		uint64_t done = 0, total = r->npages * 4096;
		struct crfs_hash h;

		/* hashed already while pages was read; or in the parent
		 * image, whose own index has their checksums: memory the
		 * tracking says is unchanged is not read again */
		r->unhashed = r->src < 0;	/* the capture leaves it unset */
		if ((r->src == p->pid && rank++ < p->streamed) ||
		    r->unhashed) {
			off += render_pages_idx_line(idx + off, r);
			continue;
		}
		crfs_hash_init(&h);
		while (done < total) {
			size_t n = total - done < CHUNK ? total - done : CHUNK;

			if (snap_mem_read(p, i, r->addr + done, buf, n) !=
			    (ssize_t)n) {
				ret = -EIO;
				break;
			}
			crfs_hash_update(&h, buf, n);
			done += n;
		}
		r->hash = crfs_hash_final(&h);
		off += render_pages_idx_line(idx + off, r);
	}
	free(buf);
	if (ret) {
		free(idx);
		return ret;
	}
	p->idx = idx;
	return 0;
}

/* Only a read that continues where the last one stopped extends the hash. */
static void stream_hash(struct proc_snap *p, size_t rank, uint64_t pos,
			const char *data, size_t n, bool run_done)
{
	if (rank != p->streamed || pos != p->stream_off)
		return;
	crfs_hash_update(&p->stream, data, n);
	p->stream_off += n;
	if (!run_done)
		return;
	p->runs[p->own[rank]].hash = crfs_hash_final(&p->stream);
	p->streamed++;
	crfs_hash_init(&p->stream);
}

static ssize_t read_pages(struct proc_snap *p, char *buf, size_t size,
			  off_t off)
{
	size_t lo = 0, hi = p->nown, done = 0;

	/* the run holding off: our runs are contiguous in the file */
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (p->runs[p->own[mid]].offset <= (uint64_t)off)
			lo = mid;
		else
			hi = mid;
	}
	while (done < size && lo < p->nown) {
		struct crfs_page_run *r = &p->runs[p->own[lo]];
		uint64_t in = off + done - r->offset;
		uint64_t n = r->npages * 4096 - in;
		ssize_t got;

		if (n > size - done)
			n = size - done;
		got = snap_mem_read(p, p->own[lo], r->addr + in, buf + done,
				    n);
		if (got != (ssize_t)n)
			return -EIO;
		stream_hash(p, lo, off + done, buf + done, n,
			    in + n == r->npages * 4096);
		done += n;
		lo++;
	}
	return done;
}

ssize_t snapshot_read(struct snapshot *s, const struct entry *e, char *buf,
		      size_t size, off_t off)
{
	struct proc_snap *p = e->proc >= 0 ? &s->procs[e->proc] : NULL;
	int ret;

	if ((uint64_t)off >= e->len)
		return 0;
	if (size > e->len - off)
		size = e->len - off;
	switch (e->kind) {
	case E_TEXT:
	case E_BLOB:
		memcpy(buf, e->data + off, size);
		return size;
	case E_PAGES:
		return read_pages(p, buf, size, off);
	case E_PAGES_IDX:
		if (!p->idx) {
			ret = render_idx(s, p, e->len);
			if (ret)
				return ret;
		}
		memcpy(buf, p->idx + off, size);
		return size;
	default:
		return -EISDIR;
	}
}
