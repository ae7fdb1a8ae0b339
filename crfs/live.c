// SPDX-License-Identifier: MIT
/*
 * The live view of a running container: tree, and per process and thread
 * the text files that /proc tells without stopping the task, each
 * rendered anew at each read.  What needs the task stopped (memory,
 * registers, anything asked by ptrace or a remote syscall, image) is not
 * here; keys of a file that need it are left out of its text rather than
 * shown stale (docs/FORMAT.md, section 6).
 *
 * Nothing here takes the task's mmap_lock except maps (smaps, as a freeze
 * reads it): a process stuck holding it for writing stalls that read.
 * attr waits for an execve in progress (personality, kcmp take the exec
 * locks); the rest reads what the kernel hands out without waiting.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crfs/array.h"
#include "crfs/live.h"
#include "kh.h"
#include "live.h"
#include "snapshot.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

typedef int (*live_fn)(struct strbuf *sb, pid_t pid, pid_t tid);

struct live_file {
	const char *name;
	live_fn render;
	/* NULL: always there; else whether it is for this task now */
	bool (*shown)(pid_t pid, pid_t tid);
};

/* keys render_attr writes that only a stopped task (or the whole tree
 * at freeze) tells */
static const char *const attr_unknown[] = {
	"dumpable", "child_subreaper", "pdeathsig", "proc_mount",
	"stop_signal", "stop_waited", "thp_disable", "mce_kill", "membarrier",
	"leader_exited",
};
static const char *const creds_unknown[] = { "securebits" };
static const char *const mm_unknown[] = { "brk", "mlockall", "memory_merge",
					   "mdwe" };

struct proc_facts {
	struct crfs_attr a;
	struct crfs_creds c;
	struct crfs_mm mm;
	struct kh_stat st;
};

static void facts_free(struct proc_facts *f)
{
	free(f->a.exe);
	free(f->a.cwd);
	free(f->a.root);
	free(f->c.groups);
}

/* a zombie is its place in the tree and its exit status, as at freeze */
static int zombie_attr(pid_t pid, struct proc_facts *f)
{
	f->a = (struct crfs_attr){
		.pid = pid, .vpid = pid, .ppid = f->st.ppid,
		.pgid = f->st.pgid, .sid = f->st.sid, .zombie = 1,
		.exit_status = f->st.exit_code,
		.exe = strdup("-"), .cwd = strdup("-"), .root = strdup("-"),
	};
	if (!f->a.exe || !f->a.cwd || !f->a.root)
		return -ENOMEM;
	memcpy(f->a.comm, f->st.comm, sizeof(f->a.comm));
	kh_ns_pid(pid, &f->a.vpid, NULL);
	return pidns_attr(pid, &f->a) ? -ESRCH : 0;
}

static int read_facts(pid_t pid, struct proc_facts *f)
{
	int ret;

	memset(f, 0, sizeof(*f));
	ret = kh_proc_stat(pid, &f->st);
	if (ret)
		return ret;
	if (f->st.state == 'Z')
		return zombie_attr(pid, f);
	ret = capture_attr(pid, &f->a, &f->c, &f->mm, &f->st);
	if (!ret && (kh_ns_pid(pid, &f->a.vpid, NULL) ||
		     pidns_attr(pid, &f->a)))
		ret = -ESRCH;
	if (!ret)
		sharing_attr(&f->a);
	return ret;
}

/* attr or mm: both come of one reading of the process's /proc files */
static int with_facts(struct strbuf *sb, pid_t pid, bool attr)
{
	struct proc_facts f;
	int ret = read_facts(pid, &f);

	if (ret)
		goto out;
	if (attr)
		ret = render_attr(sb, &f.a) ?:
		      text_drop_keys(sb, attr_unknown,
				     ARRAY_SIZE(attr_unknown));
	else
		ret = render_mm(sb, &f.mm) ?:
		      text_drop_keys(sb, mm_unknown,
				     ARRAY_SIZE(mm_unknown));
out:
	facts_free(&f);
	return ret;
}

static int live_attr(struct strbuf *sb, pid_t pid, pid_t tid)
{
	(void)tid;
	return with_facts(sb, pid, true);
}

static int live_mm(struct strbuf *sb, pid_t pid, pid_t tid)
{
	(void)tid;
	return with_facts(sb, pid, false);
}

/* the live view reports nothing: what is refused is said at freeze */
static void no_report(void *ctx, const char *fmt, ...)
{
	(void)ctx;
	(void)fmt;
}

static int live_maps(struct strbuf *sb, pid_t pid, pid_t tid)
{
	struct crfs_vma *v = NULL;
	size_t n = 0;
	int ret;

	(void)tid;
	ret = kh_proc_maps(pid, &v, &n, no_report, NULL);
	ret = ret ?: render_maps(sb, v, n);
	free_maps(v, n);
	return ret;
}

#define O_CLOEXEC_ 02000000	/* fdinfo's flags are octal open flags */

static int live_fds(struct strbuf *sb, pid_t pid, pid_t tid)
{
	struct crfs_live_fd *lf;
	struct kh_fd *fds = NULL;
	uint64_t flags;
	size_t i, n = 0;
	int ret;

	(void)tid;
	ret = kh_proc_fds(pid, &fds, &n);
	if (ret)
		return ret;
	lf = calloc(n ?: 1, sizeof(*lf));
	if (!lf) {
		kh_free_fds(fds, n);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		lf[i].fd = fds[i].fd;
		lf[i].target = fds[i].link;
		lf[i].cloexec = fds[i].info &&
				!kh_fdinfo_u64(fds[i].info, "flags:", 8, &flags) &&
				(flags & O_CLOEXEC_);
	}
	ret = render_live_fds(sb, lf, n);
	free(lf);
	kh_free_fds(fds, n);
	return ret;
}

static int live_rlimits(struct strbuf *sb, pid_t pid, pid_t tid)
{
	struct crfs_rlimit rl[CRFS_NLIMITS];
	int ret;

	(void)tid;
	ret = kh_proc_limits(pid, rl);
	return ret ?: render_rlimits(sb, rl);
}

/* a task's creds as the live view shows them (no securebits) */
static int task_creds(struct strbuf *sb, pid_t tid)
{
	struct crfs_creds c = { 0 };
	unsigned int umask;
	int nnp, seccomp, ret;

	ret = kh_proc_status(tid, &c, &umask, &nnp, &seccomp);
	ret = ret ?: render_creds(sb, &c);
	ret = ret ?: text_drop_keys(sb, creds_unknown, 1);
	free(c.groups);
	return ret;
}

/* the process's (its main thread's), or a thread's of its own */
static int live_creds(struct strbuf *sb, pid_t pid, pid_t tid)
{
	(void)pid;
	return task_creds(sb, tid);
}

/* as in a snapshot, only a thread whose credentials differ from the
 * process's (a raw setresuid, setgroups, capset of its own) has them */
static bool creds_differ(pid_t pid, pid_t tid)
{
	struct strbuf a, b;
	bool differ;

	if (tid == pid)
		return false;
	sb_init(&a);
	sb_init(&b);
	differ = !task_creds(&a, pid) && !task_creds(&b, tid) &&
		 (a.len != b.len || memcmp(a.buf, b.buf, a.len));
	sb_free(&a);
	sb_free(&b);
	return differ;
}

static int live_sched(struct strbuf *sb, pid_t pid, pid_t tid)
{
	struct crfs_sched sc;
	bool clamped;
	int ret;

	(void)pid;
	ret = kh_sched_get(tid, &sc, &clamped);
	return ret ?: render_sched(sb, &sc);
}

/*
 * The signal sets /proc shows, not the queue a snapshot's signals holds
 * (that needs PTRACE_PEEKSIGINFO on a stopped task).  blocked is the key
 * a snapshot's thread file has; the process's file has the sets shared
 * by its threads, a thread's file its own.
 */
static const char *const sigset_keys[KH_NSIGSETS] = {
	"pending", "shared_pending", "blocked", "ignored", "caught",
};

static int render_sigsets(struct strbuf *sb, pid_t tid, bool process)
{
	uint64_t sets[KH_NSIGSETS];
	int i, ret;

	ret = kh_proc_sigsets(tid, sets);
	for (i = 0; i < KH_NSIGSETS && !ret; i++)
		if (process || i == KH_SIG_PENDING || i == KH_SIG_BLOCKED)
			ret = sb_printf(sb, "%s 0x%llx\n", sigset_keys[i],
					(unsigned long long)sets[i]);
	return ret;
}

static int live_proc_signals(struct strbuf *sb, pid_t pid, pid_t tid)
{
	(void)tid;
	return render_sigsets(sb, pid, true);
}

static int live_task_signals(struct strbuf *sb, pid_t pid, pid_t tid)
{
	(void)pid;
	return render_sigsets(sb, tid, false);
}

/* in the order a snapshot lists them */
static const struct live_file proc_files[] = {
	{ .name = CRFS_F_ATTR, .render = live_attr },
	{ .name = CRFS_F_CREDS, .render = live_creds },
	{ .name = CRFS_F_FDS, .render = live_fds },
	{ .name = CRFS_F_MAPS, .render = live_maps },
	{ .name = CRFS_F_MM, .render = live_mm },
	{ .name = CRFS_F_RLIMITS, .render = live_rlimits },
	{ .name = CRFS_F_SIGNALS, .render = live_proc_signals },
};

static const struct live_file task_files[] = {
	{ .name = CRFS_F_CREDS, .render = live_creds,
	  .shown = creds_differ },
	{ .name = CRFS_F_SCHED, .render = live_sched },
	{ .name = CRFS_F_SIGNALS, .render = live_task_signals },
};

#define NPROC_FILES ARRAY_SIZE(proc_files)
#define NTASK_FILES ARRAY_SIZE(task_files)

bool live_shown(struct container *c)
{
	container_refresh(c);
	return c->state == C_RUNNING && !c->snap;
}

/* pid is a process (not another thread's id) of the tree a freeze would
 * take: the root or below it */
static bool in_tree(struct container *c, pid_t pid)
{
	pid_t tgid;

	return !kh_tgid(pid, &tgid) && tgid == pid &&
	       container_has_task(c, pid);
}

static bool is_zombie(pid_t pid)
{
	struct kh_stat st;

	return !kh_proc_stat(pid, &st) && st.state == 'Z';
}

static bool thread_of(pid_t pid, pid_t tid)
{
	pid_t tgid;

	return !kh_tgid(tid, &tgid) && tgid == pid;
}

/* "123" -> 123; anything else (a sign, a leading 0, text) -> 0 */
static pid_t parse_id(const char *s, size_t n)
{
	long v = 0;
	size_t i;

	if (!n || n > 9 || s[0] == '0')
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + s[i] - '0';
	}
	return v;
}

static bool file_shown(const struct live_file *f, pid_t pid, pid_t tid)
{
	return !f->shown || f->shown(pid, tid);
}

static const struct live_file *find_file(const struct live_file *t,
					 size_t n, const char *name,
					 pid_t pid, pid_t tid)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(t[i].name, name))
			return file_shown(&t[i], pid, tid) ? &t[i] : NULL;
	return NULL;
}

/* One path of the live view, taken apart. */
struct live_node {
	bool dir, tree;
	pid_t pid, tid;		/* 0: not under one */
	bool task_dir;		/* PID/task */
	const struct live_file *file;
};

static int next_part(const char **p, const char **part, size_t *len)
{
	if (!**p)
		return 0;
	*part = *p;
	*len = strcspn(*p, "/");
	*p += *len + (((*p)[*len] == '/') ? 1 : 0);
	return 1;
}

static int resolve_task(struct container *c, const char *p,
			struct live_node *n)
{
	const char *part;
	size_t len;

	(void)c;
	n->task_dir = true;
	if (!next_part(&p, &part, &len))
		return 0;
	n->task_dir = false;
	n->tid = parse_id(part, len);
	if (!n->tid || !thread_of(n->pid, n->tid))
		return -ENOENT;
	if (!next_part(&p, &part, &len))
		return 0;
	n->file = *p ? NULL : find_file(task_files, NTASK_FILES,
					strndupa(part, len), n->pid, n->tid);
	n->dir = false;
	return n->file ? 0 : -ENOENT;
}

static int resolve(struct container *c, const char *rest,
		   struct live_node *n)
{
	const char *p = rest, *part;
	size_t len;
	bool zombie;

	memset(n, 0, sizeof(*n));
	n->dir = true;
	if (!live_shown(c))
		return -ENOENT;
	if (!next_part(&p, &part, &len))
		return 0;
	if (!strcmp(rest, CRFS_F_TREE)) {
		n->dir = false;
		n->tree = true;
		return 0;
	}
	n->pid = parse_id(part, len);
	if (!n->pid || !in_tree(c, n->pid))
		return -ENOENT;
	if (!next_part(&p, &part, &len))
		return 0;
	zombie = is_zombie(n->pid);
	if (!zombie && len == strlen(CRFS_D_TASK) &&
	    !memcmp(part, CRFS_D_TASK, len))
		return resolve_task(c, p, n);
	n->dir = false;
	n->file = *p ? NULL : find_file(proc_files, zombie ? 1 : NPROC_FILES,
					strndupa(part, len), n->pid, n->pid);
	return n->file ? 0 : -ENOENT;
}

int live_stat(struct container *c, const char *rest, bool *dir)
{
	struct live_node n;
	int ret = resolve(c, rest, &n);

	*dir = n.dir;
	return ret;
}

/* the tree as a freeze walks it: the root, then children level by level */
static int walk_tree(struct container *c, pid_t **out, int *nout)
{
	pid_t *procs = NULL, *kids, *np;
	int n = 0, i, k, nk, ret = 0;

	np = array_room(procs, n, sizeof(*np));
	if (!np)
		return -ENOMEM;
	procs = np;
	procs[n++] = c->root;
	for (i = 0; !ret && i < n; i++) {
		if (kh_proc_children(procs[i], &kids, &nk))
			continue;
		for (k = 0; !ret && k < nk; k++) {
			np = array_room(procs, n, sizeof(*np));
			if (!np) {
				ret = -ENOMEM;
				break;
			}
			procs = np;
			procs[n++] = kids[k];
		}
		free(kids);
	}
	if (ret) {
		free(procs);
		return ret;
	}
	*out = procs;
	*nout = n;
	return 0;
}

static int list_ids(const pid_t *ids, int n,
		    int (*fn)(void *arg, const char *name), void *arg)
{
	char name[16];
	int i, ret = 0;

	for (i = 0; !ret && i < n; i++) {
		if (kh_task_gone(ids[i]) && !is_zombie(ids[i]))
			continue;
		snprintf(name, sizeof(name), "%d", ids[i]);
		ret = fn(arg, name);
	}
	return ret;
}

static int list_top(struct container *c,
		    int (*fn)(void *arg, const char *name), void *arg)
{
	pid_t *pids;
	int n, ret;

	ret = fn(arg, CRFS_F_TREE);
	if (ret)
		return ret;
	if (walk_tree(c, &pids, &n))
		return 0;
	ret = list_ids(pids, n, fn, arg);
	free(pids);
	return ret;
}

static int list_files(const struct live_file *t, size_t n, pid_t pid,
		      pid_t tid, int (*fn)(void *arg, const char *name),
		      void *arg)
{
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < n; i++)
		if (file_shown(&t[i], pid, tid))
			ret = fn(arg, t[i].name);
	return ret;
}

int live_list(struct container *c, const char *rest,
	      int (*fn)(void *arg, const char *name), void *arg)
{
	struct live_node n;
	pid_t *tids;
	bool zombie;
	int nt, ret = resolve(c, rest, &n);

	if (ret)
		return ret;
	if (!n.dir)
		return -ENOTDIR;
	if (!n.pid)
		return list_top(c, fn, arg);
	if (n.tid)
		return list_files(task_files, NTASK_FILES, n.pid, n.tid, fn,
				  arg);
	if (!n.task_dir) {
		zombie = is_zombie(n.pid);
		ret = list_files(proc_files, zombie ? 1 : NPROC_FILES, n.pid,
				 n.pid, fn, arg);
		return ret || zombie ? ret : fn(arg, CRFS_D_TASK);
	}
	if (kh_proc_tids(n.pid, &tids, &nt))
		return -ESRCH;
	ret = list_ids(tids, nt, fn, arg);
	free(tids);
	return ret;
}

int live_render(struct container *c, const char *rest, struct strbuf *sb)
{
	struct live_node n;
	pid_t *pids;
	int np, ret = resolve(c, rest, &n);

	if (ret)
		return ret;
	if (n.dir)
		return -EISDIR;
	if (n.file)
		return n.file->render(sb, n.pid, n.tid ?: n.pid);
	ret = walk_tree(c, &pids, &np);
	if (ret)
		return ret;
	ret = render_tree_of(sb, pids, np);
	free(pids);
	return ret;
}
