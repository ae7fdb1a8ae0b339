// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for every parser of an image file in lib/: the first
 * byte picks the parser (parsers[] below, by file name), the rest is the
 * file's text.  Each parser's output is freed the way restore frees it, so
 * a leak on any path, success or refusal, is a finding too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crfs/cgroup.h"
#include "crfs/format.h"
#include "crfs/ipc.h"
#include "crfs/mounts.h"
#include "crfs/ns.h"
#include "crfs/tar.h"
#include "crfs/tcp.h"

static void free_creds(struct crfs_creds *c)
{
	free(c->groups);
}

static void free_thread(struct crfs_thread *th)
{
	free(th->xstate);
	free(th->sched);
	free(th->pending);
	if (th->creds)
		free_creds(th->creds);
	free(th->creds);
	free_seccomp(th);
}

static int f_header(struct crfs_text *t)
{
	struct crfs_header h;
	int ret;

	memset(&h, 0, sizeof(h));
	ret = parse_header(t, &h);
	free_header(&h);
	return ret;
}

static int f_attr(struct crfs_text *t)
{
	struct crfs_attr a;
	int ret;

	memset(&a, 0, sizeof(a));
	ret = parse_attr(t, &a);
	free(a.exe);
	free(a.cwd);
	free(a.root);
	return ret;
}

static int f_creds(struct crfs_text *t)
{
	struct crfs_creds c;
	int ret;

	memset(&c, 0, sizeof(c));
	ret = parse_creds(t, &c);
	free_creds(&c);
	return ret;
}

static int f_mm(struct crfs_text *t)
{
	struct crfs_mm mm;

	memset(&mm, 0, sizeof(mm));
	return parse_mm(t, &mm);
}

static int f_sigactions(struct crfs_text *t)
{
	static struct crfs_sigaction sa[CRFS_NSIG];

	memset(sa, 0, sizeof(sa));
	return parse_sigactions(t, sa);
}

static int f_rlimits(struct crfs_text *t)
{
	struct crfs_rlimit rl[CRFS_NLIMITS];

	memset(rl, 0, sizeof(rl));
	return parse_rlimits(t, rl);
}

static int f_maps(struct crfs_text *t)
{
	struct crfs_vma *v = NULL;
	size_t n = 0;
	int ret;

	ret = parse_maps(t, &v, &n);
	if (!ret)
		free_maps(v, n);
	return ret;
}

/* against two mappings of its own: a private one and the vDSO */
static int f_guards(struct crfs_text *t)
{
	struct crfs_vma v[2] = {
		{ .start = 0x10000, .end = 0x40000, .kind = VMA_ANON },
		{ .start = 0x40000, .end = 0x42000, .kind = VMA_VDSO },
	};
	struct crfs_guard *g;
	size_t n;
	int ret = parse_guards(t, v, 2, &g, &n);

	free(g);
	return ret;
}

/* the freeze id and pid restore checks it against: those it names itself
 * (its first line, its first run's), or the parser stops at the first line */
static int f_pages_idx(struct crfs_text *t)
{
	char id[40] = "", *text;
	struct crfs_page_run *r = NULL;
	size_t n = 0;
	int pid = 0, ret;

	text = strndup(t->p, t->end - t->p);
	if (!text)
		return 0;
	sscanf(text, "freeze_id %39s\nruns %*u\n%*x %*u %d", id, &pid);
	free(text);
	ret = parse_pages_idx(t, id, pid, &r, &n);
	if (!ret)
		free(r);
	return ret;
}

static int f_files(struct crfs_text *t)
{
	struct crfs_file *f = NULL;
	size_t n = 0;
	int ret;

	ret = parse_files(t, &f, &n);
	if (!ret)
		free_files(f, n);
	return ret;
}

/* the list parsers whose items own nothing: a plain free() after */
#define PLAIN_LIST(name, type, fn)				\
static int name(struct crfs_text *t)				\
{								\
	type *x = NULL;						\
	size_t n = 0;						\
	int ret = fn(t, &x, &n);				\
								\
	if (!ret)						\
		free(x);					\
	return ret;						\
}
PLAIN_LIST(f_fds, struct crfs_fd, parse_fds)
PLAIN_LIST(f_epoll, struct crfs_epoll_item, parse_epoll)
PLAIN_LIST(f_locks, struct crfs_lock, parse_locks)
PLAIN_LIST(f_timers, struct crfs_timer, parse_timers)
PLAIN_LIST(f_signals, struct crfs_pending, parse_signals)

static int f_inotify(struct crfs_text *t)
{
	struct crfs_inotify_watch *w = NULL;
	size_t n = 0;
	int ret;

	ret = parse_inotify(t, &w, &n);
	if (!ret)
		free_inotify(w, n);
	return ret;
}

static int f_fanotify(struct crfs_text *t)
{
	struct crfs_fanotify_mark *m = NULL;
	size_t n = 0;
	int ret;

	ret = parse_fanotify(t, &m, &n);
	if (!ret)
		free_fanotify(m, n);
	return ret;
}

/* the per-thread files fill one struct crfs_thread */
#define THREAD_FILE(name, fn)					\
static int name(struct crfs_text *t)				\
{								\
	struct crfs_thread th;					\
	int ret;						\
								\
	memset(&th, 0, sizeof(th));				\
	ret = fn(t, &th);					\
	free_thread(&th);					\
	return ret;						\
}
THREAD_FILE(f_regs, parse_regs)
THREAD_FILE(f_xstate, parse_xstate)
THREAD_FILE(f_sigstate, parse_sigstate)
THREAD_FILE(f_seccomp, parse_seccomp)

static int f_sched(struct crfs_text *t)
{
	struct crfs_sched s;

	memset(&s, 0, sizeof(s));
	return parse_sched(t, &s);
}

static int f_ns(struct crfs_text *t)
{
	struct crfs_ns ns;
	int ret;

	memset(&ns, 0, sizeof(ns));
	ret = parse_ns(t, &ns);
	crfs_ns_free(&ns);
	return ret;
}

static int f_mounts(struct crfs_text *t)
{
	struct crfs_mounts ms;
	int ret;

	memset(&ms, 0, sizeof(ms));
	ret = parse_mounts(t, &ms);
	crfs_mounts_free(&ms);
	return ret;
}

static int f_cgroups(struct crfs_text *t)
{
	struct crfs_cgroups cg;
	int ret;

	memset(&cg, 0, sizeof(cg));
	ret = parse_cgroups(t, &cg);
	crfs_cgroups_free(&cg);
	return ret;
}

static int f_ipc_ns(struct crfs_text *t)
{
	struct crfs_ipc_ns ns;

	memset(&ns, 0, sizeof(ns));
	return parse_ipc_ns(t, &ns);
}

#define IPC_OBJ(name, kind)					\
static int name(struct crfs_text *t)				\
{								\
	struct crfs_ipc_obj o;					\
	int ret;						\
								\
	memset(&o, 0, sizeof(o));				\
	ret = parse_ipc_obj(t, kind, &o);			\
	free_ipc_obj(&o);					\
	return ret;						\
}
IPC_OBJ(f_ipc_shm, CRFS_IPC_SHM)
IPC_OBJ(f_ipc_msg, CRFS_IPC_MSG)
IPC_OBJ(f_ipc_sem, CRFS_IPC_SEM)

static int f_ipc_msgs(struct crfs_text *t)
{
	struct crfs_ipc_msg *m = NULL;
	size_t n = 0;
	int ret;

	ret = parse_ipc_msgs(t, &m, &n);
	if (!ret)
		free_ipc_msgs(m, n);
	return ret;
}

static int f_tcp(struct crfs_text *t)
{
	struct crfs_tcp tcp;

	memset(&tcp, 0, sizeof(tcp));
	return parse_tcp(t, &tcp);
}

/* fdata/ID.msgs: restore reads it NUL-terminated, with the count and the
 * total from the files table; here the count is the number of lines */
static int f_mq_msgs(struct crfs_text *t)
{
	unsigned int prio[8];
	size_t len[8], n = 0, total = 0;
	const char *q;
	char *buf;
	int ret;

	for (q = t->p; q < t->end && n < 8; q++)
		n += *q == '\n';
	buf = strndup(t->p, t->end - t->p);
	if (!buf)
		return 0;
	for (q = buf; *q; q++)
		total += *q;	/* some total: a mismatch is a refusal */
	ret = parse_mq_msgs(buf, n, total % 64, prio, len);
	free(buf);
	return ret;
}

/* crfs-restore --stream's headers: the input as 512-byte blocks, the
 * last one padded with zeros */
static int f_tar(struct crfs_text *t)
{
	unsigned char h[CRFS_TAR_BLOCK];
	char name[CRFS_TAR_NAME_MAX];
	struct crfs_tar_member m;
	size_t n;
	int ret = 0;

	while (t->p < t->end) {
		n = (size_t)(t->end - t->p);
		n = n < sizeof(h) ? n : sizeof(h);
		memset(h, 0, sizeof(h));
		memcpy(h, t->p, n);
		t->p += n;
		ret = crfs_tar_parse(h, &m, name, sizeof(name));
		if (!ret && strlen(m.name) >= sizeof(name))
			abort();
	}
	return ret;
}

static const struct fz_parser {
	const char *name;	/* the image file it reads, for the seeds */
	int (*fn)(struct crfs_text *t);
} parsers[] = {
	{ "image", f_header },
	{ "attr", f_attr },
	{ "creds", f_creds },
	{ "mm", f_mm },
	{ "sigactions", f_sigactions },
	{ "rlimits", f_rlimits },
	{ "maps", f_maps },
	{ "pages.idx", f_pages_idx },
	{ "files", f_files },
	{ "fds", f_fds },
	{ "epoll", f_epoll },
	{ "inotify", f_inotify },
	{ "fanotify", f_fanotify },
	{ "locks", f_locks },
	{ "timers", f_timers },
	{ "signals", f_signals },
	{ "regs", f_regs },
	{ "xstate", f_xstate },
	{ "sigstate", f_sigstate },
	{ "sched", f_sched },
	{ "seccomp", f_seccomp },
	{ "ns", f_ns },
	{ "mounts", f_mounts },
	{ "cgroup", f_cgroups },
	{ "ipc", f_ipc_ns },
	{ "shm", f_ipc_shm },
	{ "msg", f_ipc_msg },
	{ "sem", f_ipc_sem },
	{ "messages", f_ipc_msgs },
	{ "tcp", f_tcp },
	{ "mq", f_mq_msgs },
	{ "guards", f_guards },
	{ "tar", f_tar },
};

#define NPARSERS (sizeof(parsers) / sizeof(parsers[0]))

/* FUZZ_PARSER=NAME: that parser only, the whole input its file */
static int only = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *name = getenv("FUZZ_PARSER");
	size_t i;

	(void)argc;
	(void)argv;
	if (!name)
		return 0;
	for (i = 0; i < NPARSERS; i++)
		if (!strcmp(parsers[i].name, name))
			only = i;
	if (only < 0) {
		fprintf(stderr, "FUZZ_PARSER=%s: no such parser\n", name);
		exit(2);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	struct crfs_text t;
	size_t k = only;
	char *buf;

	if (only < 0) {
		if (!size || data[0] >= NPARSERS)
			return -1;	/* not worth keeping in the corpus */
		k = data[0];
		data++;
		size--;
	}
	/* an exact-size copy, so a read past the end is ASan's to see */
	buf = malloc(size ?: 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	text_init(&t, parsers[k].name, buf, size, err, sizeof(err));
	parsers[k].fn(&t);
	free(buf);
	return 0;
}
