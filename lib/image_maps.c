// SPDX-License-Identifier: MIT
/*
 * maps: one line per VMA
 *	START END PROT PGOFF KIND FLAGS FILEID PATH
 * PROT is "rwxp"/"rwxs" as in /proc/PID/maps, FLAGS a comma list of the
 * VmFlags restore honours (or "-"), FILEID "size:mtime_ns" of the mapped
 * file (or "-"), PATH escaped (or "-").
 *
 * pages.idx: "freeze_id ID", "runs N", then N fixed-width lines
 *	0xADDR NPAGES SRC 0xOFFSET HASH
 * SRC is the pid whose pages hold the run, or LEVEL:PID in an ancestor of
 * an incremental image.
 * Fixed width lets the daemon report the file's size before it has hashed
 * the pages.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "crfs/format.h"
#include "crfs/array.h"

/* HASH of a run in an ancestor, whose own index checks those bytes */
#define UNHASHED	"----------------"

static const char *const kind_names[VMA_KIND_COUNT] = {
	[VMA_ANON] = "anon", [VMA_HEAP] = "heap", [VMA_STACK] = "stack",
	[VMA_FILE] = "file", [VMA_VDSO] = "vdso", [VMA_VVAR] = "vvar",
	[VMA_VVAR_VCLOCK] = "vvar_vclock", [VMA_VSYSCALL] = "vsyscall",
	[VMA_SHMEM] = "shmem", [VMA_DELETED] = "deleted", [VMA_SYSV] = "sysv",
	[VMA_AIO] = "aio", [VMA_PACKET] = "packet",
};

static const char *const flag_names[VMA_F_COUNT] = {
	"shared", "growsdown", "dontfork", "wipeonfork", "dontdump",
	"hugepage", "nohugepage", "locked", "seqread", "randread",
	"mergeable", "lockonfault", "noreserve", "sealed", "named",
	"droppable", "maywrite",
};

const char *vma_kind_name(enum crfs_vma_kind k)
{
	return k < VMA_KIND_COUNT ? kind_names[k] : "?";
}

static int render_vma(struct strbuf *sb, const struct crfs_vma *v)
{
	int i, n = 0, ret;

	ret = sb_printf(sb, "0x%lx 0x%lx %c%c%c%c 0x%lx %s ", v->start, v->end,
			v->prot & PROT_READ ? 'r' : '-',
			v->prot & PROT_WRITE ? 'w' : '-',
			v->prot & PROT_EXEC ? 'x' : '-',
			v->flags & VMA_F_SHARED ? 's' : 'p', v->pgoff,
			vma_kind_name(v->kind));
	for (i = 0; !ret && i < VMA_F_COUNT; i++)
		if (v->flags & (1u << i))
			ret = sb_printf(sb, "%s%s", n++ ? "," : "",
					flag_names[i]);
	if (!ret && (v->flags & VMA_F_HUGETLB))
		ret = sb_printf(sb, "%shugetlb=%u", n++ ? "," : "", v->huge_kb);
	if (!ret && !n)
		ret = sb_printf(sb, "-");
	if (ret)
		return ret;
	if (v->kind == VMA_FILE) {
		ret = sb_printf(sb, " %lu:%ld ", v->file_size,
				v->file_mtime_ns);
		ret = ret ?: sb_put_escaped(sb, v->path);
	} else if (v->kind == VMA_SHMEM || v->kind == VMA_DELETED ||
		   v->kind == VMA_SYSV || v->kind == VMA_PACKET) {
		ret = sb_printf(sb, " %lu:%lu", v->file_size, v->shm_ino);
		if (!ret && (v->flags & VMA_F_NAMED))
			ret = sb_printf(sb, ":%u:%u:%o", v->obj_uid,
					v->obj_gid, v->obj_mode);
		ret = ret ?: sb_printf(sb, " ");
		ret = ret ?: v->path ? sb_put_escaped(sb, v->path) :
				       sb_printf(sb, "-");
	} else {
		ret = sb_printf(sb, " - -");
	}
	return ret ?: sb_printf(sb, "\n");
}

int render_maps(struct strbuf *sb, const struct crfs_vma *v, size_t n)
{
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < n; i++)
		ret = render_vma(sb, &v[i]);
	return ret;
}

/* hugetlb=KB: huge pages of KB KiB, a power of two, at least a page */
static int parse_hugetlb(const char *tok, struct crfs_vma *v)
{
	uint64_t kb;

	if (strncmp(tok, "hugetlb=", 8) || parse_u64(tok + 8, &kb) ||
	    kb <= 4 || kb > (1u << 30) || (kb & (kb - 1)) ||
	    (v->flags & VMA_F_HUGETLB))
		return -EINVAL;
	v->flags |= VMA_F_HUGETLB;
	v->huge_kb = kb;
	return 0;
}

static int parse_flags(const char *s, struct crfs_vma *v)
{
	uint32_t *flags = &v->flags;
	char buf[256], *cur = buf, *tok;
	int i;

	if (!strcmp(s, "-"))
		return 0;
	snprintf(buf, sizeof(buf), "%s", s);
	while ((tok = strsep(&cur, ","))) {
		if (!strncmp(tok, "hugetlb=", 8)) {
			if (parse_hugetlb(tok, v))
				return -EINVAL;
			continue;
		}
		for (i = 0; i < VMA_F_COUNT; i++)
			if (!strcmp(tok, flag_names[i]))
				break;
		if (i == VMA_F_COUNT)
			return -EINVAL;
		*flags |= 1u << i;
	}
	return 0;
}

static int parse_prot(const char *s, struct crfs_vma *v)
{
	if (strlen(s) != 4 || (s[0] != 'r' && s[0] != '-') ||
	    (s[1] != 'w' && s[1] != '-') || (s[2] != 'x' && s[2] != '-') ||
	    (s[3] != 'p' && s[3] != 's'))
		return -EINVAL;
	v->prot = (s[0] == 'r' ? PROT_READ : 0) |
		  (s[1] == 'w' ? PROT_WRITE : 0) |
		  (s[2] == 'x' ? PROT_EXEC : 0);
	return 0;
}

static bool hugetlb_bad(const struct crfs_vma *v)
{
	uint64_t huge = v->huge_kb * 1024ULL;

	if (!(v->flags & VMA_F_HUGETLB))
		return false;
	return (v->kind != VMA_ANON && v->kind != VMA_SHMEM &&
		v->kind != VMA_DELETED && v->kind != VMA_SYSV) ||
	       (v->flags & VMA_F_NAMED) ||
	       ((v->start | v->end | v->pgoff) & (huge - 1));
}

static int parse_vma(struct crfs_text *t, char *line, struct crfs_vma *v)
{
	char *tok[9], *cur = line, *colon, *end;
	uint64_t size;
	int k;

	memset(v, 0, sizeof(*v));
	for (k = 0; k < 9; k++)
		tok[k] = tok_next(&cur);
	if (!tok[7] || tok[8])
		return text_error(t, "want 'start end prot pgoff kind flags fileid path'");
	if (parse_u64(tok[0], &v->start) || parse_u64(tok[1], &v->end) ||
	    v->start >= v->end || (v->start | v->end) & 0xfff)
		return text_error(t, "bad address range");
	if (parse_prot(tok[2], v) || parse_u64(tok[3], &v->pgoff) ||
	    v->pgoff & 0xfff)
		return text_error(t, "bad protection or offset");
	for (k = 0; k < VMA_KIND_COUNT; k++)
		if (!strcmp(tok[4], kind_names[k]))
			break;
	if (k == VMA_KIND_COUNT)
		return text_error(t, "unknown mapping kind '%s'", tok[4]);
	v->kind = k;
	if (parse_flags(tok[5], v))
		return text_error(t, "unknown flag in '%s'", tok[5]);
	if (hugetlb_bad(v))
		return text_error(t, "hugetlb needs an anon, shmem, deleted or sysv mapping of whole huge pages");
	if ((tok[2][3] == 's') != !!(v->flags & VMA_F_SHARED))
		return text_error(t, "protection and 'shared' flag disagree");
	/* MAP_DROPPABLE is a kind of private anonymous memory of its own */
	if ((v->flags & VMA_F_DROPPABLE) &&
	    (v->kind != VMA_ANON || (v->flags & (VMA_F_SHARED | VMA_F_HUGETLB))))
		return text_error(t, "droppable needs a private anon mapping of small pages");
	if ((v->flags & VMA_F_MAYWRITE) && !(v->flags & VMA_F_SHARED))
		return text_error(t, "maywrite needs a shared mapping");
	if (v->kind == VMA_SHMEM && (v->flags & VMA_F_NAMED)) {
		if (!(v->flags & VMA_F_SHARED) ||
		    sscanf(tok[6], "%lu:%lu:%u:%u:%o%n", &v->file_size,
			   &v->shm_ino, &v->obj_uid, &v->obj_gid,
			   &v->obj_mode, &k) != 5 || tok[6][k] ||
		    !v->file_size || v->obj_mode > 07777)
			return text_error(t, "named shmem needs 'size:inode:uid:gid:mode'");
		if (unescape(tok[7], &v->path) || v->path[0] != '/')
			return text_error(t, "named shmem needs an absolute path");
		return 0;
	}
	if (v->flags & VMA_F_NAMED)
		return text_error(t, "only shmem can be named");
	if (v->kind == VMA_SHMEM) {
		if (!(v->flags & VMA_F_SHARED) ||
		    sscanf(tok[6], "%lu:%lu%n", &v->file_size, &v->shm_ino,
			   &k) != 2 || tok[6][k] || !v->file_size)
			return text_error(t, "shmem needs 'size:inode'");
		if (!strcmp(tok[7], "-"))
			return 0;
		/* a memfd's name, or where a deleted file was */
		if (unescape(tok[7], &v->path) || v->path[0] != '/')
			return text_error(t, "shmem path must be '/memfd:NAME', an absolute path or '-'");
		return 0;
	}
	if (v->kind == VMA_SYSV) {
		if (!(v->flags & VMA_F_SHARED) || v->pgoff ||
		    sscanf(tok[6], "%lu:%lu%n", &v->file_size, &v->shm_ino,
			   &k) != 2 || tok[6][k] || !v->file_size ||
		    v->shm_ino > 0x7fffffff || strcmp(tok[7], "-"))
			return text_error(t, "sysv needs a shared mapping at offset 0, 'size:id' and '-'");
		return 0;
	}
	if (v->kind == VMA_PACKET) {
		if (!(v->flags & VMA_F_SHARED) || v->pgoff ||
		    sscanf(tok[6], "%lu:%lu%n", &v->file_size, &v->shm_ino,
			   &k) != 2 || tok[6][k] || strcmp(tok[7], "-") ||
		    v->file_size != v->end - v->start)
			return text_error(t, "packet needs a shared mapping at offset 0, 'size:inode' of its size and '-'");
		return 0;
	}
	if (v->kind == VMA_DELETED) {
		if ((v->flags & VMA_F_SHARED) ||
		    sscanf(tok[6], "%lu:%lu%n", &v->file_size, &v->shm_ino,
			   &k) != 2 || tok[6][k] || !v->file_size)
			return text_error(t, "deleted needs 'size:inode' and a private mapping");
		/* a memfd's name, or where the deleted file was */
		if (unescape(tok[7], &v->path) || v->path[0] != '/')
			return text_error(t, "deleted path must be '/memfd:NAME' or an absolute path");
		return 0;
	}
	if (v->kind == VMA_AIO && (!(v->flags & VMA_F_SHARED) || v->pgoff ||
				   v->prot != (PROT_READ | PROT_WRITE)))
		return text_error(t, "aio needs a shared read-write mapping at offset 0");
	if (v->kind != VMA_FILE)
		return strcmp(tok[6], "-") || strcmp(tok[7], "-") ?
			text_error(t, "only file mappings have a file") : 0;
	colon = strchr(tok[6], ':');
	if (!colon)
		return text_error(t, "bad file id '%s'", tok[6]);
	*colon = '\0';
	errno = 0;
	v->file_mtime_ns = strtoll(colon + 1, &end, 10);
	if (parse_u64(tok[6], &size) || errno || *end || end == colon + 1)
		return text_error(t, "bad file id");
	v->file_size = size;
	if (unescape(tok[7], &v->path) || v->path[0] != '/')
		return text_error(t, "bad path");
	return 0;
}

void free_maps(struct crfs_vma *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}

int parse_maps(struct crfs_text *t, struct crfs_vma **out, size_t *nout)
{
	char line[CRFS_PATH_MAX * 4 + 256];
	struct crfs_vma *v = NULL, *nv;
	size_t n = 0;
	int ret;

	while ((ret = text_next_line(t, line, sizeof(line))) > 0) {
		nv = array_room(v, n, sizeof(*v));
		if (!nv) {
			ret = text_error(t, "out of memory");
			break;
		}
		v = nv;
		ret = parse_vma(t, line, &v[n]);
		if (ret) {
			free(v[n].path);
			break;
		}
		if (n && v[n].start < v[n - 1].end) {
			ret = text_error(t, "mappings overlap or are unsorted");
			n++;
			break;
		}
		n++;
	}
	if (ret) {
		free_maps(v, n);
		return ret;
	}
	*out = v;
	*nout = n;
	return 0;
}

size_t pages_idx_size(const char *freeze_id, size_t nruns)
{
	return snprintf(NULL, 0, PAGES_IDX_HEAD_FMT, freeze_id, nruns) +
	       nruns * PAGES_IDX_LINE_LEN;
}

int render_pages_idx_head(char *out, size_t size, const char *freeze_id,
			  size_t nruns)
{
	return snprintf(out, size, PAGES_IDX_HEAD_FMT, freeze_id, nruns);
}

int render_pages_idx_line(char *out, const struct crfs_page_run *r)
{
	char tmp[PAGES_IDX_LINE_LEN + 1], src[16];

	/* an ancestor's pages: LEVEL:PID (7 digits at most: fits 10) */
	if (r->src < 0)
		snprintf(src, sizeof(src), "%u:%d", CRFS_SRC_LEVEL(r->src),
			 CRFS_SRC_PID(r->src));
	else
		snprintf(src, sizeof(src), "%d", r->src);
	if (r->unhashed)
		snprintf(tmp, sizeof(tmp), "0x%016lx %10lu %10s 0x%016lx %s\n",
			 r->addr, r->npages, src, r->offset, UNHASHED);
	else
		snprintf(tmp, sizeof(tmp), "0x%016lx %10lu %10s 0x%016lx %016lx\n",
			 r->addr, r->npages, src, r->offset, r->hash);
	memcpy(out, tmp, PAGES_IDX_LINE_LEN);
	return PAGES_IDX_LINE_LEN;
}

/* SRC: a pid of this image, or LEVEL:PID of an ancestor's (incremental) */
static int parse_src(char *tok, int32_t *src)
{
	char *colon = strchr(tok, ':');
	int level, pid;

	if (!colon)
		return parse_int(tok, src) || *src < 0 ? -EINVAL : 0;
	*colon = '\0';
	if (parse_int(tok, &level) || parse_int(colon + 1, &pid) ||
	    level < 1 || level > CRFS_MAX_LEVEL || pid <= 0 ||
	    pid >= 1 << CRFS_SRC_PID_BITS)
		return -EINVAL;
	*src = CRFS_SRC_ANCESTOR(level, pid);
	return 0;
}

int parse_pages_idx(struct crfs_text *t, const char *freeze_id, pid_t pid,
		    struct crfs_page_run **out, size_t *nout)
{
	char line[256], *cur, *tok[6];
	struct crfs_page_run *r;
	uint64_t nruns, room, off = 0;
	size_t i;
	int k, ret;

	if (text_next_line(t, line, sizeof(line)) <= 0 ||
	    strncmp(line, "freeze_id ", 10))
		return text_error(t, "want 'freeze_id'");
	if (strcmp(line + 10, freeze_id))
		return text_error(t, "taken in another freeze (%s, image says %s): copy was not consistent",
				  line + 10, freeze_id);
	if (text_next_line(t, line, sizeof(line)) <= 0 ||
	    strncmp(line, "runs ", 5) || parse_u64(line + 5, &nruns) ||
	    nruns > (1ULL << 32))
		return text_error(t, "want 'runs N'");
	/* every run is a line of fixed width (the last one's newline may be
	 * missing, which the line reader names): a count the rest of the
	 * file cannot hold must not size an allocation */
	room = ((uint64_t)(t->end - t->p) + 1) / PAGES_IDX_LINE_LEN;
	if (nruns > room)
		return text_error(t, "only %lu of %lu runs", room, nruns);
	r = calloc(nruns ?: 1, sizeof(*r));
	if (!r)
		return text_error(t, "out of memory");
	for (i = 0; i < nruns; i++) {
		ret = text_next_line(t, line, sizeof(line));
		if (ret <= 0) {
			ret = ret ?: text_error(t, "only %zu of %lu runs", i,
						nruns);
			goto err;
		}
		cur = line;
		for (k = 0; k < 6; k++)
			tok[k] = tok_next(&cur);
		if (!tok[4] || tok[5] || parse_u64(tok[0], &r[i].addr) ||
		    parse_u64(tok[1], &r[i].npages) ||
		    parse_src(tok[2], &r[i].src) ||
		    parse_u64(tok[3], &r[i].offset) || !r[i].npages ||
		    (r[i].addr | r[i].offset) & 0xfff ||
		    r[i].addr >= CRFS_USER_END ||
		    r[i].npages > (CRFS_USER_END - r[i].addr) / 4096 ||
		    r[i].offset > CRFS_USER_END ||
		    (strspn(tok[4], "0123456789abcdef") != 16 &&
		     (r[i].src >= 0 || strcmp(tok[4], UNHASHED))) ||
		    tok[4][16]) {
			ret = text_error(t, "bad run");
			goto err;
		}
		/* tok[4] is bare hex; the run ends by CRFS_USER_END, so no
		 * sum below wraps around */
		r[i].unhashed = tok[4][0] == '-';
		r[i].hash = r[i].unhashed ? 0 : strtoull(tok[4], NULL, 16);
		if (i && r[i].addr < r[i - 1].addr + r[i - 1].npages * 4096) {
			ret = text_error(t, "runs overlap or are unsorted");
			goto err;
		}
		/* our own pages fill our pages file in order, without holes */
		if (r[i].src != pid)
			continue;
		if (r[i].offset != off) {
			ret = text_error(t, "runs leave holes in the pages file");
			goto err;
		}
		off += r[i].npages * 4096;
	}
	if (text_next_line(t, line, sizeof(line))) {
		ret = text_error(t, "trailing data");
		goto err;
	}
	*out = r;
	*nout = nruns;
	return 0;
err:
	free(r);
	return ret;
}
