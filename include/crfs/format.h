/* SPDX-License-Identifier: MIT */
/*
 * Rendering and parsing of crfs state files (lib/).  Every text file is
 * line-oriented "key value"; strings are escaped like /proc/mounts (octal
 * \ooo for space, tab, newline, backslash and non-printables) so that one
 * value never spans more than one token.
 */
#ifndef CRFS_FORMAT_H
#define CRFS_FORMAT_H

#include <stdarg.h>
#include "crfs/image.h"

/* Checksums (lib/hash.c) */
struct crfs_hash {
	uint64_t acc[8];
	uint64_t len;
	unsigned char tail[64];
	uint32_t tail_len;
	int avx2;		/* this CPU's vector code (the same result) */
};
void crfs_hash_init(struct crfs_hash *h);
/* avx2: crfs_hash_avx2() (the restorer is told it) */
void crfs_hash_init_cpu(struct crfs_hash *h, int avx2);
int crfs_hash_avx2(void);
void crfs_hash_update(struct crfs_hash *h, const void *data, size_t len);
uint64_t crfs_hash_final(const struct crfs_hash *h);
uint64_t crfs_hash(const void *data, size_t len);

/* Growable text buffer (lib/strbuf.c) */
struct strbuf {
	char *buf;
	size_t len, cap;
};
void sb_init(struct strbuf *sb);
void sb_free(struct strbuf *sb);
int sb_printf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int sb_put_escaped(struct strbuf *sb, const char *s);
int sb_put_escaped_len(struct strbuf *sb, const char *s, size_t n);
char *sb_steal(struct strbuf *sb, size_t *len);

/* Tokens (lib/text.c) */
struct crfs_text {
	const char *p, *end;
	int lineno;
	const char *file;	/* for messages */
	char *err;		/* caller's buffer */
	size_t errlen;
};
void text_init(struct crfs_text *t, const char *file, const char *buf,
	       size_t len, char *err, size_t errlen);
/* Copies the next line into line (NUL-terminated); 0 at end, 1 on a line. */
int text_next_line(struct crfs_text *t, char *line, size_t size);
char *tok_next(char **cursor);
int parse_u64(const char *s, uint64_t *v);
int parse_int(const char *s, int *v);
int unescape(const char *s, char **out);
int unescape_len(const char *s, char **out, size_t *len);
int parse_hex_bytes(const char *s, void *out, size_t n);
/*
 * A file of one item per line: fn parses line into item i of items (the
 * array so far, item i zeroed); on failure drop frees what the items
 * hold.  *out is the array, *nout its length.
 */
typedef int (*line_fn)(struct crfs_text *t, char *line, void *items, size_t i);
int parse_lines(struct crfs_text *t, size_t size, line_fn fn,
		void (*drop)(void *item), void **out, size_t *nout);
int text_error(struct crfs_text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Files of plain "key value" pairs described by a table (lib/kv.c) */
enum kv_type {
	KV_HEX,		/* uint64_t, 0x... */
	KV_INT,		/* int, decimal */
	KV_UINT,	/* unsigned int, decimal */
	KV_OCT,		/* unsigned int, 0ooo */
	KV_STR,		/* char *, escaped, malloc'ed on parse */
	KV_COMM,	/* char[CRFS_COMM_LEN + 1], escaped */
};

struct kv_field {
	const char *key;
	enum kv_type type;
	size_t off;
};

int kv_render(struct strbuf *sb, const struct kv_field *f, size_t n,
	      const void *obj);
/*
 * Parses every line: a key of the table sets its field, a key named in
 * extra_keys (NULL-terminated, may be NULL) goes to extra().  Every key must
 * appear exactly once; any other key is an error.
 */
typedef int (*kv_extra_fn)(struct crfs_text *t, const char *key, char *rest,
			   void *obj);
int kv_parse(struct crfs_text *t, const struct kv_field *f, size_t n,
	     void *obj, const char *const *extra_keys, kv_extra_fn extra);

/* Per-file formats (lib/image_*.c); parse returns 0 or -EINVAL + message */
/* image_pidns.c: "KEY pid pid..." lines, NSpid outermost first */
int render_nspid(struct strbuf *sb, const char *key, const pid_t *pids, int n);
int parse_nspid(struct crfs_text *t, const char *key, char *rest, pid_t *pids,
		int *n);
/* "net", "uts", "ipc", "pid", "time", "mnt", "cgroup", "user" */
bool ns_kind_known(const char *kind);
int render_attr(struct strbuf *sb, const struct crfs_attr *a);
int parse_attr(struct crfs_text *t, struct crfs_attr *a);
int render_creds(struct strbuf *sb, const struct crfs_creds *c);
int parse_creds(struct crfs_text *t, struct crfs_creds *c);
int render_mm(struct strbuf *sb, const struct crfs_mm *mm);
int parse_mm(struct crfs_text *t, struct crfs_mm *mm);
int render_sigactions(struct strbuf *sb, const struct crfs_sigaction *sa);
int parse_sigactions(struct crfs_text *t, struct crfs_sigaction *sa);
int render_rlimits(struct strbuf *sb, const struct crfs_rlimit *rl);
int parse_rlimits(struct crfs_text *t, struct crfs_rlimit *rl);
extern const char *const crfs_rlimit_names[CRFS_NLIMITS];

int render_maps(struct strbuf *sb, const struct crfs_vma *v, size_t n);
int parse_maps(struct crfs_text *t, struct crfs_vma **v, size_t *n);
/* image_mempolicy.c: PID/mempolicy, onto the mappings of PID/maps */
bool has_vma_policies(const struct crfs_vma *v, size_t n);
struct crfs_vma *vma_starting_at(struct crfs_vma *v, size_t n, uint64_t start);
int render_vma_policies(struct strbuf *sb, const struct crfs_vma *v, size_t n);
int parse_vma_policies(struct crfs_text *t, struct crfs_vma *v, size_t n);
/* image_guards.c: PID/guards, ranges of guard pages inside PID/maps */
int render_guards(struct strbuf *sb, const struct crfs_guard *g, size_t n);
int parse_guards(struct crfs_text *t, const struct crfs_vma *v, size_t nv,
		 struct crfs_guard **g, size_t *n);
void free_maps(struct crfs_vma *v, size_t n);
const char *vma_kind_name(enum crfs_vma_kind k);

/* pages.idx: a header line, then one fixed-width line per run */
#define PAGES_IDX_HEAD_FMT	"freeze_id %s\nruns %zu\n"
#define PAGES_IDX_LINE_LEN	(2 + 16 + 1 + 10 + 1 + 10 + 1 + 2 + 16 + 1 + \
				 16 + 1)
size_t pages_idx_size(const char *freeze_id, size_t nruns);
int render_pages_idx_line(char *out, const struct crfs_page_run *r);
int render_pages_idx_head(char *out, size_t size, const char *freeze_id,
			  size_t nruns);
int parse_pages_idx(struct crfs_text *t, const char *freeze_id, pid_t pid,
		    struct crfs_page_run **runs, size_t *n);

int render_files(struct strbuf *sb, const struct crfs_file *f, size_t n);
int parse_files(struct crfs_text *t, struct crfs_file **f, size_t *n);
void free_files(struct crfs_file *f, size_t n);
/* a file with every key at its default, as a line without them reads */
void init_file(struct crfs_file *f);
const char *file_kind_name(enum crfs_file_kind k);
int render_fds(struct strbuf *sb, const struct crfs_fd *f, size_t n);
int parse_fds(struct crfs_text *t, struct crfs_fd **f, size_t *n);

int render_epoll(struct strbuf *sb, const struct crfs_epoll_item *e, size_t n);
int parse_epoll(struct crfs_text *t, struct crfs_epoll_item **e, size_t *n);
int render_inotify(struct strbuf *sb, const struct crfs_inotify_watch *w,
		   size_t n);
int parse_inotify(struct crfs_text *t, struct crfs_inotify_watch **w,
		  size_t *n);
void free_inotify(struct crfs_inotify_watch *w, size_t n);
void sort_inotify(struct crfs_inotify_watch *w, size_t n);
/* image_fanotify.c: fdata/ID of a fanotify group */
int render_fanotify(struct strbuf *sb, const struct crfs_fanotify_mark *m,
		    size_t n);
int parse_fanotify(struct crfs_text *t, struct crfs_fanotify_mark **m,
		   size_t *n);
void free_fanotify(struct crfs_fanotify_mark *m, size_t n);
/* image_mqueue.c: fdata/ID.msgs of a POSIX message queue */
int render_mq_msgs(struct strbuf *sb, const unsigned int *prio,
		   const size_t *len, size_t n);
int parse_mq_msgs(const char *buf, size_t n, size_t total, unsigned int *prio,
		  size_t *len);
int render_locks(struct strbuf *sb, const struct crfs_lock *l, size_t n);
int parse_locks(struct crfs_text *t, struct crfs_lock **l, size_t *n);
int render_timers(struct strbuf *sb, const struct crfs_timer *tm, size_t n);
int parse_timers(struct crfs_text *t, struct crfs_timer **tm, size_t *n);

int render_regs(struct strbuf *sb, const struct crfs_thread *th);
int parse_regs(struct crfs_text *t, struct crfs_thread *th);
int render_xstate(struct strbuf *sb, const struct crfs_thread *th);
int parse_xstate(struct crfs_text *t, struct crfs_thread *th);
int render_signals(struct strbuf *sb, const struct crfs_pending *p, size_t n);
int parse_signals(struct crfs_text *t, struct crfs_pending **p, size_t *n);
int render_sigstate(struct strbuf *sb, const struct crfs_thread *th);
int parse_sigstate(struct crfs_text *t, struct crfs_thread *th);
int render_sched(struct strbuf *sb, const struct crfs_sched *s);
int parse_sched(struct crfs_text *t, struct crfs_sched *s);
/* lib/image_seccomp.c: a thread's seccomp mode and filters */
int render_seccomp(struct strbuf *sb, const struct crfs_thread *th);
int parse_seccomp(struct crfs_text *t, struct crfs_thread *th);
void free_seccomp(struct crfs_thread *th);

/* image: header + manifest of every other file (lib/image_header.c) */
struct crfs_manifest_entry {
	char *path;		/* relative to the image directory */
	uint64_t size;
	bool has_hash;
	uint64_t hash;
};

struct crfs_header {
	int version;
	char arch[32];
	long page_size;
	char kernel[128];
	char freeze_id[40];
	char *parent;		/* incremental: the parent image, relative */
	char parent_id[40];	/* and the freeze it must come from */
	/* a pre-dump (ctl "predump"): memory only, read while the tree
	 * ran; valid only as the parent of another image */
	bool predump;
	pid_t root;
	size_t nprocs;
	pid_t *procs;
	size_t nfiles;
	struct crfs_manifest_entry *files;
};
int render_header(struct strbuf *sb, const struct crfs_header *h);
int parse_header(struct crfs_text *t, struct crfs_header *h);
void free_header(struct crfs_header *h);

#endif
