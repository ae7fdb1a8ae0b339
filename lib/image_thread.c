// SPDX-License-Identifier: MIT
/* Per-thread files: regs, xstate, sigstate. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crfs/format.h"
#include "crfs/array.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The order of struct user_regs_struct in <sys/user.h> */
const char *const crfs_reg_names[CRFS_NREGS] = {
	"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8",
	"rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags",
	"rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs",
};

#define REG(name, i) \
	{ name, KV_HEX, offsetof(struct crfs_thread, regs) + (i) * sizeof(uint64_t) }

static const struct kv_field reg_fields[CRFS_NREGS] = {
	REG("r15", 0),
	REG("r14", 1),
	REG("r13", 2),
	REG("r12", 3),
	REG("rbp", 4),
	REG("rbx", 5),
	REG("r11", 6),
	REG("r10", 7),
	REG("r9", 8),
	REG("r8", 9),
	REG("rax", 10),
	REG("rcx", 11),
	REG("rdx", 12),
	REG("rsi", 13),
	REG("rdi", 14),
	REG("orig_rax", 15),
	REG("rip", 16),
	REG("cs", 17),
	REG("eflags", 18),
	REG("rsp", 19),
	REG("ss", 20),
	REG("fs_base", 21),
	REG("gs_base", 22),
	REG("ds", 23),
	REG("es", 24),
	REG("fs", 25),
	REG("gs", 26),
};

int render_regs(struct strbuf *sb, const struct crfs_thread *th)
{
	int ret = sb_printf(sb, "tid %d\n", th->tid);

	return ret ?: kv_render(sb, reg_fields, CRFS_NREGS, th);
}

static int regs_extra(struct crfs_text *t, const char *key, char *rest,
		      void *obj)
{
	struct crfs_thread *th = obj;
	char *v = tok_next(&rest);
	int tid;

	(void)key;
	if (!v || parse_int(v, &tid) || tid <= 0 || (th->tid && th->tid != tid))
		return text_error(t, "bad tid");
	th->tid = tid;
	return 0;
}

int parse_regs(struct crfs_text *t, struct crfs_thread *th)
{
	static const char *const extra[] = { "tid", NULL };

	return kv_parse(t, reg_fields, CRFS_NREGS, th, extra, regs_extra);
}

/*
 * xstate: "size N", then the XSAVE area (the standard, non-compacted layout
 * of PTRACE_GETREGSET NT_X86_XSTATE) as lines of "OFFSET HEX" of 32 bytes
 * each; all-zero lines are left out.
 */
int render_xstate(struct strbuf *sb, const struct crfs_thread *th)
{
	static const uint8_t zero[32];
	uint32_t off, i;
	int ret = sb_printf(sb, "size %u\n", th->xstate_size);

	for (off = 0; !ret && off < th->xstate_size; off += 32) {
		uint32_t n = th->xstate_size - off < 32 ?
			     th->xstate_size - off : 32;

		if (!memcmp(th->xstate + off, zero, n))
			continue;
		ret = sb_printf(sb, "0x%04x ", off);
		for (i = 0; !ret && i < n; i++)
			ret = sb_printf(sb, "%02x", th->xstate[off + i]);
		ret = ret ?: sb_printf(sb, "\n");
	}
	return ret;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int parse_xstate(struct crfs_text *t, struct crfs_thread *th)
{
	char line[256], *cur, *o, *hex;
	uint64_t size, off, last = 0;
	size_t i, n;
	int ret, first = 1;

	if (text_next_line(t, line, sizeof(line)) <= 0 ||
	    strncmp(line, "size ", 5) || parse_u64(line + 5, &size) ||
	    size < 576 || size > CRFS_XSTATE_MAX)
		return text_error(t, "want 'size N' (576..%d)", CRFS_XSTATE_MAX);
	th->xstate = calloc(1, size);
	if (!th->xstate)
		return text_error(t, "out of memory");
	th->xstate_size = size;
	while ((ret = text_next_line(t, line, sizeof(line))) > 0) {
		cur = line;
		o = tok_next(&cur);
		hex = tok_next(&cur);
		if (!hex || tok_next(&cur) || parse_u64(o, &off) || off % 32 ||
		    (!first && off <= last))
			return text_error(t, "want 'offset hexbytes', ascending");
		n = strlen(hex) / 2;
		if (strlen(hex) % 2 || off + n > size || n > 32 ||
		    (n < 32 && off + n != size))
			return text_error(t, "bad length at offset 0x%lx", off);
		for (i = 0; i < n; i++) {
			int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

			if (hi < 0 || lo < 0)
				return text_error(t, "bad hex");
			th->xstate[off + i] = (uint8_t)(hi << 4 | lo);
		}
		first = 0;
		last = off;
	}
	return ret;
}

/* signals: "SIGNO HEX" per queued signal, oldest first; HEX is the 128-byte
 * siginfo the handler will see */
int render_signals(struct strbuf *sb, const struct crfs_pending *p, size_t n)
{
	size_t i, k;
	int ret = 0;

	for (i = 0; !ret && i < n; i++) {
		ret = sb_printf(sb, "%d ", p[i].signo);
		for (k = 0; !ret && k < sizeof(p[i].info); k++)
			ret = sb_printf(sb, "%02x", p[i].info[k]);
		ret = ret ?: sb_printf(sb, "\n");
	}
	return ret;
}

int parse_signals(struct crfs_text *t, struct crfs_pending **out, size_t *nout)
{
	char line[512], *cur, *sig, *hex;
	struct crfs_pending *p = NULL, *np;
	size_t n = 0, k;
	int ret;

	while ((ret = text_next_line(t, line, sizeof(line))) > 0) {
		cur = line;
		sig = tok_next(&cur);
		hex = tok_next(&cur);
		np = array_room(p, n, sizeof(*p));
		if (!np) {
			ret = text_error(t, "out of memory");
			break;
		}
		p = np;
		if (!hex || tok_next(&cur) || parse_int(sig, &p[n].signo) ||
		    p[n].signo < 1 || p[n].signo > CRFS_NSIG ||
		    strlen(hex) != 2 * sizeof(p[n].info)) {
			ret = text_error(t, "want 'signo siginfo-hex'");
			break;
		}
		for (k = 0; k < sizeof(p[n].info); k++) {
			int hi = hexval(hex[2 * k]), lo = hexval(hex[2 * k + 1]);

			if (hi < 0 || lo < 0)
				break;
			p[n].info[k] = (uint8_t)(hi << 4 | lo);
		}
		if (k < sizeof(p[n].info)) {
			ret = text_error(t, "bad hex");
			break;
		}
		n++;
	}
	if (ret) {
		free(p);
		return ret;
	}
	*out = p;
	*nout = n;
	return 0;
}

static const struct kv_field sigstate_fields[] = {
	{ "vtid", KV_INT, offsetof(struct crfs_thread, vtid) },
	{ "blocked", KV_HEX, offsetof(struct crfs_thread, blocked) },
	{ "altstack_sp", KV_HEX, offsetof(struct crfs_thread, ss_sp) },
	{ "altstack_size", KV_HEX, offsetof(struct crfs_thread, ss_size) },
	{ "altstack_flags", KV_INT, offsetof(struct crfs_thread, ss_flags) },
	{ "clear_child_tid", KV_HEX,
	  offsetof(struct crfs_thread, clear_child_tid) },
	{ "robust_list", KV_HEX, offsetof(struct crfs_thread, robust_list) },
	{ "robust_list_len", KV_HEX,
	  offsetof(struct crfs_thread, robust_list_len) },
	{ "rseq", KV_HEX, offsetof(struct crfs_thread, rseq_ptr) },
	{ "rseq_size", KV_UINT, offsetof(struct crfs_thread, rseq_size) },
	{ "comm", KV_COMM, offsetof(struct crfs_thread, comm) },
	{ "tsc_mode", KV_INT, offsetof(struct crfs_thread, tsc_mode) },
	{ "pdeathsig", KV_INT, offsetof(struct crfs_thread, pdeathsig) },
	{ "no_new_privs", KV_INT, offsetof(struct crfs_thread, no_new_privs) },
	{ "mempolicy", KV_INT, offsetof(struct crfs_thread, mempolicy) },
	{ "mempolicy_flags", KV_HEX,
	  offsetof(struct crfs_thread, mempolicy_flags) },
	{ "mempolicy_nodes", KV_HEX,
	  offsetof(struct crfs_thread, mempolicy_nodes) },
	{ "rseq_signature", KV_HEX, 0 },
};

int render_sigstate(struct strbuf *sb, const struct crfs_thread *th)
{
	int ret = kv_render(sb, sigstate_fields,
			    ARRAY_SIZE(sigstate_fields) - 1, th);

	ret = ret ?: sb_printf(sb, "rseq_signature 0x%x\n", th->rseq_sig);
	return ret ?: render_nspid(sb, "nstid", th->nstid, th->nstid_n);
}

static int sigstate_extra(struct crfs_text *t, const char *key, char *rest,
			  void *obj)
{
	struct crfs_thread *th = obj;
	uint64_t sig;
	char *v;

	if (!strcmp(key, "nstid"))
		return parse_nspid(t, key, rest, th->nstid, &th->nstid_n);
	v = tok_next(&rest);
	if (!v || parse_u64(v, &sig) || sig > 0xffffffffULL || tok_next(&rest))
		return text_error(t, "bad rseq_signature");
	th->rseq_sig = (uint32_t)sig;
	return 0;
}

int parse_sigstate(struct crfs_text *t, struct crfs_thread *th)
{
	static const char *const extra[] = { "rseq_signature", "nstid",
					       NULL };

	return kv_parse(t, sigstate_fields, ARRAY_SIZE(sigstate_fields) - 1,
			th, extra, sigstate_extra);
}
