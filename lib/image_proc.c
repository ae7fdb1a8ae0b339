// SPDX-License-Identifier: MIT
/* Per-process state files: attr, creds, mm, sigactions, rlimits. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crfs/format.h"
#include "crfs/array.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct kv_field attr_fields[] = {
	{ "pid", KV_INT, offsetof(struct crfs_attr, pid) },
	{ "ppid", KV_INT, offsetof(struct crfs_attr, ppid) },
	{ "pgid", KV_INT, offsetof(struct crfs_attr, pgid) },
	{ "sid", KV_INT, offsetof(struct crfs_attr, sid) },
	{ "comm", KV_COMM, offsetof(struct crfs_attr, comm) },
	{ "exe", KV_STR, offsetof(struct crfs_attr, exe) },
	{ "cwd", KV_STR, offsetof(struct crfs_attr, cwd) },
	{ "root", KV_STR, offsetof(struct crfs_attr, root) },
	{ "umask", KV_OCT, offsetof(struct crfs_attr, umask) },
	{ "personality", KV_HEX, offsetof(struct crfs_attr, personality) },
	{ "dumpable", KV_INT, offsetof(struct crfs_attr, dumpable) },
	{ "no_new_privs", KV_INT, offsetof(struct crfs_attr, no_new_privs) },
	{ "child_subreaper", KV_INT,
	  offsetof(struct crfs_attr, child_subreaper) },
	{ "pdeathsig", KV_INT, offsetof(struct crfs_attr, pdeathsig) },
	{ "threads", KV_INT, offsetof(struct crfs_attr, nthreads) },
	{ "vpid", KV_INT, offsetof(struct crfs_attr, vpid) },
	{ "proc_mount", KV_INT, offsetof(struct crfs_attr, proc_mount) },
	{ "zombie", KV_INT, offsetof(struct crfs_attr, zombie) },
	{ "exit_status", KV_INT, offsetof(struct crfs_attr, exit_status) },
	{ "stop_signal", KV_INT, offsetof(struct crfs_attr, stop_signal) },
	{ "stop_waited", KV_INT, offsetof(struct crfs_attr, stop_waited) },
	{ "shares_files", KV_INT, offsetof(struct crfs_attr, shares_files) },
	{ "shares_fs", KV_INT, offsetof(struct crfs_attr, shares_fs) },
	{ "exe_mode", KV_OCT, offsetof(struct crfs_attr, exe_mode) },
	{ "oom_score_adj", KV_INT, offsetof(struct crfs_attr, oom_score_adj) },
	{ "loginuid", KV_UINT, offsetof(struct crfs_attr, loginuid) },
	{ "coredump_filter", KV_HEX,
	  offsetof(struct crfs_attr, coredump_filter) },
	{ "thp_disable", KV_INT, offsetof(struct crfs_attr, thp_disable) },
	{ "mce_kill", KV_INT, offsetof(struct crfs_attr, mce_kill) },
	{ "membarrier", KV_HEX, offsetof(struct crfs_attr, membarrier) },
	{ "pidns", KV_UINT, offsetof(struct crfs_attr, pidns) },
	{ "pidns_children", KV_UINT,
	  offsetof(struct crfs_attr, pidns_children) },
	{ "shares_vm", KV_INT, offsetof(struct crfs_attr, shares_vm) },
	{ "shares_sighand", KV_INT,
	  offsetof(struct crfs_attr, shares_sighand) },
	{ "leader_exited", KV_INT, offsetof(struct crfs_attr, leader_exited) },
};

int render_attr(struct strbuf *sb, const struct crfs_attr *a)
{
	int ret = kv_render(sb, attr_fields, ARRAY_SIZE(attr_fields), a);

	return ret ?: render_nspid(sb, "nspid", a->nspid, a->nspid_n);
}

static int attr_extra(struct crfs_text *t, const char *key, char *rest,
		      void *obj)
{
	struct crfs_attr *a = obj;

	return parse_nspid(t, key, rest, a->nspid, &a->nspid_n);
}

int parse_attr(struct crfs_text *t, struct crfs_attr *a)
{
	static const char *const extra[] = { "nspid", NULL };

	memset(a, 0, sizeof(*a));
	return kv_parse(t, attr_fields, ARRAY_SIZE(attr_fields), a, extra,
			attr_extra);
}

static const struct kv_field creds_fields[] = {
	{ "uid", KV_UINT, offsetof(struct crfs_creds, uid[0]) },
	{ "euid", KV_UINT, offsetof(struct crfs_creds, uid[1]) },
	{ "suid", KV_UINT, offsetof(struct crfs_creds, uid[2]) },
	{ "fsuid", KV_UINT, offsetof(struct crfs_creds, uid[3]) },
	{ "gid", KV_UINT, offsetof(struct crfs_creds, gid[0]) },
	{ "egid", KV_UINT, offsetof(struct crfs_creds, gid[1]) },
	{ "sgid", KV_UINT, offsetof(struct crfs_creds, gid[2]) },
	{ "fsgid", KV_UINT, offsetof(struct crfs_creds, gid[3]) },
	{ "cap_inheritable", KV_HEX, offsetof(struct crfs_creds, cap_inh) },
	{ "cap_permitted", KV_HEX, offsetof(struct crfs_creds, cap_prm) },
	{ "cap_effective", KV_HEX, offsetof(struct crfs_creds, cap_eff) },
	{ "cap_bounding", KV_HEX, offsetof(struct crfs_creds, cap_bnd) },
	{ "cap_ambient", KV_HEX, offsetof(struct crfs_creds, cap_amb) },
};

int render_creds(struct strbuf *sb, const struct crfs_creds *c)
{
	int i, ret;

	ret = kv_render(sb, creds_fields, ARRAY_SIZE(creds_fields), c);
	ret = ret ?: sb_printf(sb, "securebits 0x%x\ngroups", c->securebits);
	for (i = 0; !ret && i < c->ngroups; i++)
		ret = sb_printf(sb, " %u", c->groups[i]);
	return ret ?: sb_printf(sb, "\n");
}

static int creds_extra(struct crfs_text *t, const char *key, char *rest,
		       void *obj)
{
	struct crfs_creds *c = obj;
	uint64_t v;
	char *tok;

	if (!strcmp(key, "securebits")) {
		tok = tok_next(&rest);
		if (!tok || parse_u64(tok, &v) || v > 0xffffffffULL ||
		    tok_next(&rest))
			return text_error(t, "bad securebits");
		c->securebits = (uint32_t)v;
		return 0;
	}
	while ((tok = tok_next(&rest))) {
		gid_t *g;

		if (parse_u64(tok, &v) || v > 0xffffffffULL ||
		    c->ngroups >= CRFS_MAX_GROUPS)
			return text_error(t, "bad group '%s'", tok);
		g = array_room(c->groups, c->ngroups, sizeof(*g));
		if (!g)
			return text_error(t, "out of memory");
		c->groups = g;
		c->groups[c->ngroups++] = (gid_t)v;
	}
	return 0;
}

int parse_creds(struct crfs_text *t, struct crfs_creds *c)
{
	memset(c, 0, sizeof(*c));
	static const char *const extra[] = { "securebits", "groups", NULL };

	return kv_parse(t, creds_fields, ARRAY_SIZE(creds_fields), c, extra,
			creds_extra);
}

static const struct kv_field mm_fields[] = {
	{ "start_code", KV_HEX, offsetof(struct crfs_mm, start_code) },
	{ "end_code", KV_HEX, offsetof(struct crfs_mm, end_code) },
	{ "start_data", KV_HEX, offsetof(struct crfs_mm, start_data) },
	{ "end_data", KV_HEX, offsetof(struct crfs_mm, end_data) },
	{ "start_brk", KV_HEX, offsetof(struct crfs_mm, start_brk) },
	{ "brk", KV_HEX, offsetof(struct crfs_mm, brk) },
	{ "start_stack", KV_HEX, offsetof(struct crfs_mm, start_stack) },
	{ "arg_start", KV_HEX, offsetof(struct crfs_mm, arg_start) },
	{ "arg_end", KV_HEX, offsetof(struct crfs_mm, arg_end) },
	{ "env_start", KV_HEX, offsetof(struct crfs_mm, env_start) },
	{ "env_end", KV_HEX, offsetof(struct crfs_mm, env_end) },
	{ "mlockall", KV_INT, offsetof(struct crfs_mm, mlockall) },
	{ "memory_merge", KV_INT, offsetof(struct crfs_mm, memory_merge) },
	{ "mdwe", KV_HEX, offsetof(struct crfs_mm, mdwe) },
};

int render_mm(struct strbuf *sb, const struct crfs_mm *mm)
{
	int i, ret = kv_render(sb, mm_fields, ARRAY_SIZE(mm_fields), mm);

	ret = ret ?: sb_printf(sb, "auxv");
	for (i = 0; !ret && i < mm->auxv_len; i++)
		ret = sb_printf(sb, " 0x%lx", mm->auxv[i]);
	return ret ?: sb_printf(sb, "\n");
}

static int mm_extra(struct crfs_text *t, const char *key, char *rest,
		    void *obj)
{
	struct crfs_mm *mm = obj;
	char *tok;

	(void)key;
	while ((tok = tok_next(&rest))) {
		if (mm->auxv_len >= CRFS_AUXV_MAX ||
		    parse_u64(tok, &mm->auxv[mm->auxv_len]))
			return text_error(t, "bad auxv word '%s'", tok);
		mm->auxv_len++;
	}
	if (mm->auxv_len % 2)
		return text_error(t, "auxv has an odd number of words");
	return 0;
}

int parse_mm(struct crfs_text *t, struct crfs_mm *mm)
{
	memset(mm, 0, sizeof(*mm));
	static const char *const extra[] = { "auxv", NULL };

	return kv_parse(t, mm_fields, ARRAY_SIZE(mm_fields), mm, extra,
			mm_extra);
}

/* sigactions: "SIGNO handler flags restorer mask", one per signal 1..64 */
int render_sigactions(struct strbuf *sb, const struct crfs_sigaction *sa)
{
	int i, ret = 0;

	for (i = 0; !ret && i < CRFS_NSIG; i++)
		ret = sb_printf(sb, "%d 0x%lx 0x%lx 0x%lx 0x%lx\n", i + 1,
				sa[i].handler, sa[i].flags, sa[i].restorer,
				sa[i].mask);
	return ret;
}

int parse_sigactions(struct crfs_text *t, struct crfs_sigaction *sa)
{
	char line[256], *cur, *tok[6];
	int i, k, ret, sig;

	for (i = 0; i < CRFS_NSIG; i++) {
		ret = text_next_line(t, line, sizeof(line));
		if (ret <= 0)
			return ret ?: text_error(t, "%d signals, want %d", i,
						 CRFS_NSIG);
		cur = line;
		for (k = 0; k < 6; k++)
			tok[k] = tok_next(&cur);
		if (!tok[4] || tok[5] || parse_int(tok[0], &sig) ||
		    sig != i + 1)
			return text_error(t, "want 'signo handler flags restorer mask' for signal %d",
					  i + 1);
		for (k = 0; k < 4; k++) {
			/* the four fields of crfs_sigaction, in order */
			if (parse_u64(tok[k + 1], &sa[i].handler + k))
				return text_error(t, "bad number '%s'",
						  tok[k + 1]);
		}
	}
	ret = text_next_line(t, line, sizeof(line));
	return ret ? text_error(t, "trailing data") : 0;
}

const char *const crfs_rlimit_names[CRFS_NLIMITS] = {
	"cpu", "fsize", "data", "stack", "core", "rss", "nproc", "nofile",
	"memlock", "as", "locks", "sigpending", "msgqueue", "nice", "rtprio",
	"rttime",
};

static int render_limit(struct strbuf *sb, uint64_t v)
{
	return v == ~0ULL ? sb_printf(sb, " unlimited") :
			    sb_printf(sb, " %lu", v);
}

int render_rlimits(struct strbuf *sb, const struct crfs_rlimit *rl)
{
	int i, ret = 0;

	for (i = 0; !ret && i < CRFS_NLIMITS; i++) {
		ret = sb_printf(sb, "%s", crfs_rlimit_names[i]);
		ret = ret ?: render_limit(sb, rl[i].cur);
		ret = ret ?: render_limit(sb, rl[i].max);
		ret = ret ?: sb_printf(sb, "\n");
	}
	return ret;
}

static int parse_limit(const char *s, uint64_t *v)
{
	if (s && !strcmp(s, "unlimited")) {
		*v = ~0ULL;
		return 0;
	}
	return parse_u64(s, v);
}

int parse_rlimits(struct crfs_text *t, struct crfs_rlimit *rl)
{
	char line[256], *cur, *name, *cur_s, *max_s;
	int i, ret;

	for (i = 0; i < CRFS_NLIMITS; i++) {
		ret = text_next_line(t, line, sizeof(line));
		if (ret <= 0)
			return ret ?: text_error(t, "limit '%s' missing",
						 crfs_rlimit_names[i]);
		cur = line;
		name = tok_next(&cur);
		cur_s = tok_next(&cur);
		max_s = tok_next(&cur);
		if (!name || strcmp(name, crfs_rlimit_names[i]) ||
		    tok_next(&cur))
			return text_error(t, "want 'name soft hard' for '%s'",
					  crfs_rlimit_names[i]);
		if (parse_limit(cur_s, &rl[i].cur) ||
		    parse_limit(max_s, &rl[i].max) || rl[i].cur > rl[i].max)
			return text_error(t, "bad limits for '%s'", name);
	}
	ret = text_next_line(t, line, sizeof(line));
	return ret ? text_error(t, "trailing data") : 0;
}
