// SPDX-License-Identifier: MIT
/*
 * image: what the checkpoint is and what it holds.
 *	format crfs / version N / arch A / page_size N / kernel R /
 *	freeze_id ID / [parent PATH ID] / root PID / [predump] /
 *	process PID (one per process) /
 *	file PATH SIZE HASH|- (one per file) / end HASH
 * The identity lines come first so that a foreign or future image is named
 * as such before anything else is judged; "end" carries the checksum of
 * every byte before it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crfs/format.h"
#include "crfs/array.h"

int render_header(struct strbuf *sb, const struct crfs_header *h)
{
	size_t i;
	int ret;

	ret = sb_printf(sb, "format %s\nversion %d\narch %s\npage_size %ld\n",
			CRFS_FORMAT_NAME, h->version, h->arch, h->page_size);
	ret = ret ?: sb_printf(sb, "kernel ");
	ret = ret ?: sb_put_escaped(sb, h->kernel);
	ret = ret ?: sb_printf(sb, "\nfreeze_id %s\n", h->freeze_id);
	if (!ret && h->parent) {
		ret = sb_printf(sb, "parent ");
		ret = ret ?: sb_put_escaped(sb, h->parent);
		ret = ret ?: sb_printf(sb, " %s\n", h->parent_id);
	}
	ret = ret ?: sb_printf(sb, "root %d\n", h->root);
	if (!ret && h->predump)
		ret = sb_printf(sb, "predump\n");
	for (i = 0; !ret && i < h->nprocs; i++)
		ret = sb_printf(sb, "process %d\n", h->procs[i]);
	for (i = 0; !ret && i < h->nfiles; i++) {
		const struct crfs_manifest_entry *e = &h->files[i];

		ret = sb_printf(sb, "file ");
		ret = ret ?: sb_put_escaped(sb, e->path);
		ret = ret ?: e->has_hash ?
			sb_printf(sb, " %lu %016lx\n", e->size, e->hash) :
			sb_printf(sb, " %lu -\n", e->size);
	}
	return ret ?: sb_printf(sb, "end %016lx\n", crfs_hash(sb->buf, sb->len));
}

void free_header(struct crfs_header *h)
{
	size_t i;

	for (i = 0; i < h->nfiles; i++)
		free(h->files[i].path);
	free(h->files);
	free(h->procs);
	free(h->parent);
	memset(h, 0, sizeof(*h));
}

/* "key value" where value is one token; returns the value or NULL */
static char *expect_line(struct crfs_text *t, char *line, size_t size,
			 const char *key)
{
	char *cur = line, *k, *v;

	if (text_next_line(t, line, size) <= 0)
		return NULL;
	k = tok_next(&cur);
	v = tok_next(&cur);
	if (!k || strcmp(k, key) || !v || tok_next(&cur))
		return NULL;
	return v;
}

static int parse_identity(struct crfs_text *t, struct crfs_header *h)
{
	char line[512], *v;
	uint64_t u;
	char *s;

	v = expect_line(t, line, sizeof(line), "format");
	if (!v || strcmp(v, CRFS_FORMAT_NAME))
		return text_error(t, "not a crfs image (no 'format crfs' line)");
	v = expect_line(t, line, sizeof(line), "version");
	if (!v || parse_int(v, &h->version) || h->version < 1)
		return text_error(t, "bad 'version' line");
	if (h->version > CRFS_FORMAT_VERSION_INCR)
		return text_error(t, "format version %d is newer than this crfs-restore understands (%d)",
				  h->version, CRFS_FORMAT_VERSION_INCR);
	if (h->version < CRFS_FORMAT_VERSION)
		return text_error(t, "format version %d is older than this crfs-restore reads (%d): checkpoint again",
				  h->version, CRFS_FORMAT_VERSION);
	v = expect_line(t, line, sizeof(line), "arch");
	if (!v || strlen(v) >= sizeof(h->arch))
		return text_error(t, "bad 'arch' line");
	strcpy(h->arch, v);
	if (strcmp(v, CRFS_ARCH))
		return text_error(t, "image is for architecture '%s', this machine is '%s'",
				  v, CRFS_ARCH);
	v = expect_line(t, line, sizeof(line), "page_size");
	if (!v || parse_u64(v, &u))
		return text_error(t, "bad 'page_size' line");
	h->page_size = (long)u;
	if (h->page_size != sysconf(_SC_PAGESIZE))
		return text_error(t, "page size %ld differs from this machine's %ld",
				  h->page_size, sysconf(_SC_PAGESIZE));
	v = expect_line(t, line, sizeof(line), "kernel");
	if (!v || unescape(v, &s))
		return text_error(t, "bad 'kernel' line");
	if (strlen(s) >= sizeof(h->kernel)) {
		free(s);
		return text_error(t, "bad 'kernel' line");
	}
	strcpy(h->kernel, s);
	free(s);
	return 0;
}

static int check_end(struct crfs_text *t, const char *buf, size_t len)
{
	const char *end = buf + len, *p;
	uint64_t want;
	char hex[17];

	/* the last line is "end " + 16 hex digits + "\n" */
	if (len < 21 || end[-1] != '\n')
		return text_error(t, "truncated: no 'end' line");
	p = end - 21;
	if (strncmp(p, "end ", 4) || (p > buf && p[-1] != '\n'))
		return text_error(t, "truncated: no 'end' line");
	memcpy(hex, p + 4, 16);
	hex[16] = '\0';
	if (strspn(hex, "0123456789abcdef") != 16)
		return text_error(t, "bad 'end' line");
	want = strtoull(hex, NULL, 16);
	if (want != crfs_hash(buf, p - buf))
		return text_error(t, "checksum mismatch: file is corrupted");
	return 0;
}

static int add_file(struct crfs_text *t, struct crfs_header *h, char *rest)
{
	char *path = tok_next(&rest), *size = tok_next(&rest);
	char *hash = tok_next(&rest);
	struct crfs_manifest_entry *e, *n;

	if (!hash || tok_next(&rest))
		return text_error(t, "want 'file PATH SIZE HASH'");
	n = array_room(h->files, h->nfiles, sizeof(*n));
	if (!n)
		return text_error(t, "out of memory");
	h->files = n;
	e = &h->files[h->nfiles];
	memset(e, 0, sizeof(*e));
	if (unescape(path, &e->path))
		return text_error(t, "bad file path");
	h->nfiles++;
	if (e->path[0] == '/' || strstr(e->path, ".."))
		return text_error(t, "bad file path");
	if (parse_u64(size, &e->size))
		return text_error(t, "bad file size");
	if (strcmp(hash, "-")) {
		if (strlen(hash) != 16)
			return text_error(t, "bad file hash");
		e->hash = strtoull(hash, NULL, 16);
		e->has_hash = true;
	}
	return 0;
}

/*
 * Version 5 (and only it) is incremental: "parent PATH FREEZE_ID" names
 * the image its runs of level 1 are in, relative to this one.
 */
static int parse_parent(struct crfs_text *t, struct crfs_header *h)
{
	char line[CRFS_PATH_MAX * 4 + 64], *cur = line, *path, *id;

	if (h->version != CRFS_FORMAT_VERSION_INCR)
		return 0;
	if (text_next_line(t, line, sizeof(line)) <= 0 ||
	    strcmp(tok_next(&cur) ?: "", "parent"))
		return text_error(t, "version %d: want 'parent PATH FREEZE_ID'",
				  h->version);
	path = tok_next(&cur);
	id = tok_next(&cur);
	if (!path || !id || tok_next(&cur) || strlen(id) != 32 ||
	    strspn(id, "0123456789abcdef") != 32 || unescape(path, &h->parent))
		return text_error(t, "bad 'parent' line");
	strcpy(h->parent_id, id);
	if (!h->parent[0] || h->parent[0] == '/')
		return text_error(t, "bad 'parent' line: the path must be relative");
	return 0;
}

int parse_header(struct crfs_text *t, struct crfs_header *h)
{
	const char *buf = t->p;
	size_t len = t->end - t->p;
	char line[CRFS_PATH_MAX * 4 + 64], *cur, *key, *v;
	int ret, pid;
	pid_t *np;

	memset(h, 0, sizeof(*h));
	ret = parse_identity(t, h);
	ret = ret ?: check_end(t, buf, len);
	if (ret)
		return ret;
	v = expect_line(t, line, sizeof(line), "freeze_id");
	if (!v || strlen(v) != 32)
		return text_error(t, "bad 'freeze_id' line");
	strcpy(h->freeze_id, v);
	ret = parse_parent(t, h);
	if (ret)
		return ret;
	v = expect_line(t, line, sizeof(line), "root");
	if (!v || parse_int(v, &h->root) || h->root <= 0)
		return text_error(t, "bad 'root' line");
	while ((ret = text_next_line(t, line, sizeof(line))) > 0) {
		cur = line;
		key = tok_next(&cur);
		if (key && !strcmp(key, "end"))
			return t->p == t->end ? 0 :
				text_error(t, "data after 'end'");
		if (key && !strcmp(key, "file")) {
			ret = add_file(t, h, cur);
			if (ret)
				return ret;
			continue;
		}
		if (key && !strcmp(key, "predump") && !tok_next(&cur)) {
			h->predump = true;
			continue;
		}
		v = tok_next(&cur);
		if (!key || strcmp(key, "process") || !v ||
		    parse_int(v, &pid) || pid <= 0)
			return text_error(t, "unexpected line");
		np = array_room(h->procs, h->nprocs, sizeof(*np));
		if (!np)
			return text_error(t, "out of memory");
		h->procs = np;
		h->procs[h->nprocs++] = pid;
	}
	return ret ?: text_error(t, "no 'end' line");
}
