// SPDX-License-Identifier: MIT
/* Parsers for /proc/PID files that need no cooperation from the task. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "kh.h"
#include "crfs/array.h"

int kh_read_fd(int fd, char **buf, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *b = malloc(cap), *nb;
	ssize_t r;
	int ret = 0;

	if (!b)
		return -ENOMEM;
	for (;;) {
		if (n + 1 >= cap) {
			nb = realloc(b, cap *= 2);
			if (!nb) {
				ret = -ENOMEM;
				break;
			}
			b = nb;
		}
		r = read(fd, b + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			ret = -errno;
		if (r <= 0)
			break;
		n += r;
	}
	if (ret) {
		free(b);
		return ret;
	}
	b[n] = '\0';
	*buf = b;
	if (len)
		*len = n;
	return 0;
}

int kh_read_file(const char *path, char **buf, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = kh_read_fd(fd, buf, len);
	close(fd);
	return ret;
}

/* one write(2): /proc and /proc/sys files take their value whole */
int kh_write_file(const char *path, const char *text)
{
	size_t len = strlen(text);
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len)
		ret = errno ? -errno : -EIO;
	close(fd);
	return ret;
}

static int read_proc(pid_t pid, const char *name, char **buf, size_t *len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	return kh_read_file(path, buf, len);
}

int kh_proc_stat(pid_t pid, struct kh_stat *st)
{
	unsigned long long f[52] = { 0 };
	char *buf, *open_p, *close_p, *cur, *tok;
	size_t n;
	int i, ret;

	ret = read_proc(pid, "stat", &buf, NULL);
	if (ret)
		return ret;
	/* comm may hold spaces and parentheses: it ends at the last ')' */
	open_p = strchr(buf, '(');
	close_p = strrchr(buf, ')');
	if (!open_p || !close_p || close_p[1] != ' ') {
		free(buf);
		return -EINVAL;
	}
	memset(st, 0, sizeof(*st));
	n = close_p - open_p - 1;
	if (n > CRFS_COMM_LEN)
		n = CRFS_COMM_LEN;
	memcpy(st->comm, open_p + 1, n);
	st->state = close_p[2];
	cur = close_p + 4;
	/* f[i] is field i + 4 of proc(5) */
	for (i = 0; i < 52 && (tok = strsep(&cur, " ")); i++)
		f[i] = strtoull(tok, NULL, 10);
	free(buf);
	if (i < 48)
		return -EINVAL;
	st->ppid = f[0];
	st->pgid = f[1];
	st->tty_nr = f[3];
	st->sid = f[2];
	st->nthreads = f[16];
	st->start_code = f[22];
	st->end_code = f[23];
	st->start_stack = f[24];
	st->start_data = f[41];
	st->end_data = f[42];
	st->start_brk = f[43];
	st->arg_start = f[44];
	st->arg_end = f[45];
	st->env_start = f[46];
	st->env_end = f[47];
	st->exit_code = i > 48 ? (int)f[48] : 0;
	st->exit_signal = f[34];
	return 0;
}

/*
 * A task waiting in vfork() (or clone with CLONE_VFORK) for its child to
 * exec or exit sleeps uninterruptibly in that syscall; ptrace cannot stop
 * it, nor read its registers, until the child is done.
 */
bool kh_in_vfork(pid_t tid)
{
	unsigned long long nr, arg0 = 0;
	struct kh_stat st;
	char *buf;
	int n;

	if (kh_proc_stat(tid, &st) || st.state != 'D' ||
	    read_proc(tid, "syscall", &buf, NULL))
		return false;
	n = sscanf(buf, "%llu %llx", &nr, &arg0);
	free(buf);
	return n >= 1 && (nr == SYS_vfork || nr == SYS_clone3 ||
			  (nr == SYS_clone && n == 2 && (arg0 & CLONE_VFORK)));
}

bool kh_task_gone(pid_t tid)
{
	struct kh_stat st;

	return kh_proc_stat(tid, &st) || st.state == 'Z' || st.state == 'X';
}

/*
 * A thread-group leader that has exited (pthread_exit from main) while
 * other threads of its process run on: /proc shows it a zombie, but the
 * process is alive.
 */
bool kh_zombie_leader(pid_t pid)
{
	pid_t *tids;
	bool live = false;
	int i, n;

	if (!kh_task_gone(pid) || kh_proc_tids(pid, &tids, &n))
		return false;
	for (i = 0; i < n && !live; i++)
		live = tids[i] != pid && !kh_task_gone(tids[i]);
	free(tids);
	return live;
}

static const char *status_value(const char *buf, const char *key)
{
	size_t kl = strlen(key);
	const char *p = buf;

	while (p && *p) {
		if (!strncmp(p, key, kl) && p[kl] == ':') {
			p += kl + 1;
			while (*p == ' ' || *p == '\t')
				p++;
			return p;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

static int status_ids(const char *buf, const char *key, unsigned int *v)
{
	const char *p = status_value(buf, key);

	if (!p || sscanf(p, "%u %u %u %u", &v[0], &v[1], &v[2], &v[3]) != 4)
		return -EINVAL;
	return 0;
}

static int status_hex(const char *buf, const char *key, uint64_t *v)
{
	const char *p = status_value(buf, key);

	if (!p)
		return -EINVAL;
	*v = strtoull(p, NULL, 16);
	return 0;
}

static int status_groups(const char *buf, struct crfs_creds *c)
{
	const char *p = status_value(buf, "Groups");
	char *end;
	unsigned long g;

	c->ngroups = 0;
	c->groups = NULL;
	while (p && *p && *p != '\n') {
		gid_t *ng;

		g = strtoul(p, &end, 10);
		if (end == p)
			break;
		ng = array_room(c->groups, c->ngroups, sizeof(*ng));
		if (!ng)
			return -ENOMEM;
		c->groups = ng;
		c->groups[c->ngroups++] = g;
		p = end;
		while (*p == ' ')
			p++;
	}
	return 0;
}

int kh_proc_status(pid_t pid, struct crfs_creds *c, unsigned int *umask,
		   int *no_new_privs, int *seccomp)
{
	const char *p;
	char *buf;
	int ret;

	ret = read_proc(kh_via(pid), "status", &buf, NULL);
	if (ret)
		return ret;
	ret = status_ids(buf, "Uid", c->uid);
	ret = ret ?: status_ids(buf, "Gid", c->gid);
	ret = ret ?: status_hex(buf, "CapInh", &c->cap_inh);
	ret = ret ?: status_hex(buf, "CapPrm", &c->cap_prm);
	ret = ret ?: status_hex(buf, "CapEff", &c->cap_eff);
	ret = ret ?: status_hex(buf, "CapBnd", &c->cap_bnd);
	ret = ret ?: status_hex(buf, "CapAmb", &c->cap_amb);
	ret = ret ?: status_groups(buf, c);
	if (!ret) {
		p = status_value(buf, "Umask");
		*umask = p ? strtoul(p, NULL, 8) : 022;
		p = status_value(buf, "NoNewPrivs");
		*no_new_privs = p ? atoi(p) : 0;
		p = status_value(buf, "Seccomp");
		*seccomp = p ? atoi(p) : 0;
	}
	free(buf);
	return ret;
}

/*
 * Limits come from /proc/PID/limits: prlimit() on a task of another uid
 * needs CAP_SYS_RESOURCE, which root may not have.
 */
int kh_proc_limits(pid_t pid, struct crfs_rlimit *rl)
{
	static const char *const names[CRFS_NLIMITS] = {
		"Max cpu time", "Max file size", "Max data size",
		"Max stack size", "Max core file size", "Max resident set",
		"Max processes", "Max open files", "Max locked memory",
		"Max address space", "Max file locks", "Max pending signals",
		"Max msgqueue size", "Max nice priority",
		"Max realtime priority", "Max realtime timeout",
	};
	char *buf, *p, soft[32], hard[32];
	int i, ret;

	ret = read_proc(kh_via(pid), "limits", &buf, NULL);
	if (ret)
		return ret;
	for (i = 0; i < CRFS_NLIMITS; i++) {
		p = strstr(buf, names[i]);
		if (!p || sscanf(p + 26, "%31s %31s", soft, hard) != 2) {
			ret = -EINVAL;
			break;
		}
		rl[i].cur = strcmp(soft, "unlimited") ?
			    strtoull(soft, NULL, 10) : ~0ULL;
		rl[i].max = strcmp(hard, "unlimited") ?
			    strtoull(hard, NULL, 10) : ~0ULL;
	}
	free(buf);
	return ret;
}

int kh_proc_auxv(pid_t pid, uint64_t *auxv, int *len)
{
	size_t n;
	char *buf;
	int ret;

	ret = read_proc(kh_via(pid), "auxv", &buf, &n);
	if (ret)
		return ret;
	n /= sizeof(uint64_t);
	if (n > CRFS_AUXV_MAX)
		n = CRFS_AUXV_MAX;
	memcpy(auxv, buf, n * sizeof(uint64_t));
	/* keep the vector up to and including its AT_NULL pair */
	*len = 0;
	while (*len + 1 < (int)n) {
		*len += 2;
		if (auxv[*len - 2] == 0)
			break;
	}
	free(buf);
	return 0;
}

int kh_ns_pids(pid_t tid, pid_t *pids, int max, int *n)
{
	char path[64], *buf, *p, *end;
	long v;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	ret = kh_read_file(path, &buf, NULL);
	if (ret)
		return ret;
	p = (char *)status_value(buf, "NSpid");
	*n = 0;
	while (p && *p && *p != '\n' && *n < max) {
		v = strtol(p, &end, 10);
		if (end == p)
			break;
		pids[(*n)++] = (pid_t)v;
		p = end;
		while (*p == ' ' || *p == '\t')
			p++;
	}
	free(buf);
	return *n ? 0 : -EINVAL;
}

int kh_ns_pid(pid_t tid, pid_t *inner, int *levels)
{
	pid_t pids[KH_NSPID_MAX];
	int n, ret;

	*inner = tid;
	ret = kh_ns_pids(tid, pids, KH_NSPID_MAX, &n);
	if (ret)
		return ret;
	*inner = pids[n - 1];
	if (levels)
		*levels = n;
	return 0;
}

int kh_proc_link(pid_t pid, const char *name, char **out)
{
	char path[64], buf[CRFS_PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", kh_via(pid), name);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	*out = strdup(buf);
	return *out ? 0 : -ENOMEM;
}

/* a number alone in /proc/PID/NAME, in base 16 or 10 */
static int proc_number(pid_t pid, const char *name, int base, long *val)
{
	char *buf;
	int ret = read_proc(kh_via(pid), name, &buf, NULL);

	if (ret)
		return ret;
	*val = strtol(buf, NULL, base);
	free(buf);
	return 0;
}

int kh_proc_personality(pid_t pid, unsigned long *pers)
{
	long v;
	int ret = proc_number(pid, "personality", 16, &v);

	*pers = (unsigned long)v;
	return ret;
}

/* the kernel keeps a personality per thread; personality(2) sets the
 * caller's alone */
int kh_thread_personality(pid_t pid, pid_t tid, unsigned long *pers)
{
	char name[48];
	long v;
	int ret;

	snprintf(name, sizeof(name), "task/%d/personality", tid);
	ret = proc_number(pid, name, 16, &v);
	*pers = (unsigned long)v;
	return ret;
}

int kh_proc_exe_mode(pid_t pid, unsigned int *mode)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/exe", kh_via(pid));
	if (stat(path, &st))
		return -errno;
	*mode = st.st_mode & 07777;
	return 0;
}

int kh_proc_oom_score_adj(pid_t pid, int *adj)
{
	long v;
	int ret = proc_number(pid, "oom_score_adj", 10, &v);

	*adj = (int)v;
	return ret;
}

int kh_proc_loginuid(pid_t pid, unsigned int *uid)
{
	long v;
	int ret = proc_number(pid, "loginuid", 10, &v);

	*uid = (unsigned int)v;
	return ret;
}

int kh_proc_coredump_filter(pid_t pid, unsigned long *filter)
{
	long v;
	int ret = proc_number(pid, "coredump_filter", 16, &v);

	*filter = (unsigned long)v;
	return ret;
}

static int cmp_pid(const void *a, const void *b)
{
	return *(const pid_t *)a - *(const pid_t *)b;
}

int kh_proc_tids(pid_t pid, pid_t **tids, int *n)
{
	char path[64];
	struct dirent *de;
	pid_t *t = NULL, *nt;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return -errno;
	*n = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		nt = array_room(t, *n, sizeof(*t));
		if (!nt) {
			free(t);
			closedir(d);
			return -ENOMEM;
		}
		t = nt;
		t[(*n)++] = atoi(de->d_name);
	}
	closedir(d);
	qsort(t, *n, sizeof(*t), cmp_pid);
	*tids = t;
	return 0;
}

int kh_proc_children(pid_t pid, pid_t **kids, int *n)
{
	pid_t *tids, *k = NULL, *nk;
	char path[96], *buf, *p, *end;
	int i, nt, ret;

	ret = kh_proc_tids(pid, &tids, &nt);
	if (ret)
		return ret;
	*n = 0;
	for (i = 0; i < nt && !ret; i++) {
		snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid,
			 tids[i]);
		if (kh_read_file(path, &buf, NULL))
			continue;
		for (p = buf;; p = end) {
			long c = strtol(p, &end, 10);

			if (end == p)
				break;
			nk = array_room(k, *n, sizeof(*k));
			if (!nk) {
				ret = -ENOMEM;
				break;
			}
			k = nk;
			k[(*n)++] = c;
		}
		free(buf);
	}
	free(tids);
	if (ret) {
		free(k);
		return ret;
	}
	*kids = k;
	return 0;
}
