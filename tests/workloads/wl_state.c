// SPDX-License-Identifier: MIT
/*
 * wl_state - build as much single-threaded process state as crfs claims to
 * checkpoint, wait to be checkpointed, killed and restored, then check that
 * every piece of it came back.
 *
 * usage: wl_state WORKDIR [CWD]
 *
 *	WORKDIR		existing directory for the files this program maps and
 *			keeps open (the test's temporary directory)
 *	CWD		directory to chdir to; default WORKDIR/cwd (created)
 *
 * Protocol: prints READY when all state is built, spins in user mode until
 * SIGUSR1 arrives (the checkpoint is expected to happen during the spin),
 * then prints one PASS/FAIL line per piece of state and DONE, and exits 0
 * only if nothing failed.  See wl_common.h.
 *
 * What "came back" means: everything observable from inside is compared
 * with a snapshot taken just before READY, and buffer contents with
 * patterns regenerated from constants.  Some checks go beyond reading back
 * values and exercise the state instead (a guard page must fault, the
 * alternate signal stack must be used, brk must still grow), because a
 * restore can reproduce a value without reproducing its meaning.
 *
 * Nothing between the snapshot and the comparison may allocate memory or
 * open files: stdout is unbuffered, directories are read with getdents64,
 * and the program break is read with the raw brk syscall (glibc's sbrk(0)
 * only returns its cached copy, which lives in restored memory).
 */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <dirent.h>
#include <fcntl.h>
#include <fenv.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/rseq.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include "wl_common.h"

#define PAGE		4096ul
#define HEAP_SIZE	(8ul << 20)
#define BRK_SIZE	(256ul << 10)
#define RESV_SIZE	(1ul << 30)
#define RO_SIZE		(64ul << 10)
#define ALTSTACK_SIZE	(64ul << 10)
#define FILE_PAGES	16
#define FILE_MAP2_OFF	8	/* second mapping starts at this file page */
#define FILE_MAP2_LEN	4
#define STACK_DEPTH	64
#define STACK_WORDS	512	/* 4 KiB of locals per frame */
#define RW_FILE_SIZE	20000
#define RW_OFFSET	12345
#define RO_OFFSET	100
#define DEVNULL_FD	10
#define URANDOM_FD	11
#define RT_SIG		(SIGRTMIN + 3)
#define RT_VAL1		0x5eed01
#define RT_VAL2		0x5eed02
#define TLS_MAGIC	0x7151deadbeef7151ull
#define COMM		"wl-state-comm"

/* Pattern seeds: one per region so misplaced pages are caught too */
enum {
	SEED_HEAP = 0x1000,
	SEED_BRK,
	SEED_RO,
	SEED_GUARD,
	SEED_RWFILE,
	SEED_ROFILE,
	SEED_TLS,
	SEED_NEWFILE,
	SEED_REGS = 0x2000,
	SEED_FILE = 0x3000,	/* + file page */
	SEED_DIRTY = 0x4000,	/* + file page */
	SEED_RESV = 0x10000,	/* + page index */
	SEED_STACK = 0x100000,	/* + recursion depth */
};

/*
 * Pages of the 1 GiB PROT_NONE reservation made read-write, ascending.
 * All are written except RESV_UNTOUCHED, which must stay absent (and read
 * as zero).  Neighbours 200000..200002 form one three-page run.
 */
#define RESV_UNTOUCHED	100000ul
static const unsigned long resv_rw[] = {
	0, 257, RESV_UNTOUCHED, 131072, 200000, 200001, 200002,
	RESV_SIZE / PAGE - 1,
};
#define NRESV_RW (sizeof(resv_rw) / sizeof(resv_rw[0]))

static const char *workdir;
static char path_rw[PATH_MAX], path_app[PATH_MAX], path_ro[PATH_MAX];
static char path_map[PATH_MAX], path_cwd[PATH_MAX];

static unsigned char *heap, *brk_area, *resv, *ro_area, *guard, *fmap, *fmap2;
static unsigned char *altstack;
static int fd_rw, fd_app, fd_ro, fd_dir;

static __thread uint64_t tls_magic;
static __thread uint64_t tls_buf[8];

/* --- signal handlers ----------------------------------------------------- */

static volatile sig_atomic_t usr1_flag;	/* ends the spin */
static volatile int usr1_count, usr1_signo, usr1_code, usr1_pid;
static volatile uint64_t usr1_mask;	/* blocked set seen inside handler */
static volatile int hup_count, hup_on_altstack, hup_ss_onstack;

static uint64_t mask_bits(const sigset_t *set)
{
	uint64_t m = 0;
	int s;

	for (s = 1; s <= 64; s++)
		if (sigismember(set, s) == 1)
			m |= 1ull << (s - 1);
	return m;
}

static uint64_t sig_bit(int s)
{
	return 1ull << (s - 1);
}

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	sigset_t cur;

	(void)uc;
	usr1_count++;
	usr1_signo = sig;
	usr1_code = si->si_code;
	usr1_pid = si->si_pid;
	sigemptyset(&cur);
	sigprocmask(SIG_BLOCK, NULL, &cur);
	usr1_mask = mask_bits(&cur);
	usr1_flag = 1;
}

static void on_hup(int sig)
{
	char here;
	stack_t ss;

	(void)sig;
	hup_count++;
	hup_on_altstack = (unsigned char *)&here >= altstack &&
			  (unsigned char *)&here < altstack + ALTSTACK_SIZE;
	if (!sigaltstack(NULL, &ss))
		hup_ss_onstack = !!(ss.ss_flags & SS_ONSTACK);
}

static sigjmp_buf probe_jb;

static void on_segv(int sig)
{
	(void)sig;
	siglongjmp(probe_jb, 1);
}

/* 1 if touching p faults, 0 if it does not */
static int probe(volatile unsigned char *p, int write)
{
	struct sigaction sa, old_segv, old_bus;
	volatile int faulted = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_segv;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
	if (sigsetjmp(probe_jb, 1) == 0) {
		if (write)
			*p = *p;
		else
			(void)*p;
	} else {
		faulted = 1;
	}
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
	return faulted;
}

/* --- registers ----------------------------------------------------------- */

struct regvals {
	uint64_t gpr[5];	/* rbx, r12, r13, r14, r15 */
	uint64_t k2;
	uint8_t xmm3[16];
	uint8_t ymm9[32];
	uint8_t zmm17[64];
	uint8_t zmm31[64];
};

static struct spin_ctx {
	struct regvals in, out;
	long write_ret;
	char msg[8];
} spin;

static int have_avx512;

static void reg_expect(struct regvals *r)
{
	int i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < 5; i++)
		r->gpr[i] = wl_mix(SEED_REGS + i);
	r->k2 = wl_mix(SEED_REGS + 5);
	wl_fill(r->xmm3, sizeof(r->xmm3), SEED_REGS + 6);
	wl_fill(r->ymm9, sizeof(r->ymm9), SEED_REGS + 7);
	wl_fill(r->zmm17, sizeof(r->zmm17), SEED_REGS + 8);
	wl_fill(r->zmm31, sizeof(r->zmm31), SEED_REGS + 9);
}

/*
 * Load known values, say READY (with a raw write, so nothing runs between
 * loading and spinning), and spin in user mode until SIGUSR1.  The freeze
 * therefore catches the task in user mode with these values live in
 * registers, and only the saved register state can bring them back.
 * Signal delivery itself saves and restores the full xstate, so the
 * SIGUSR1 handler cannot disturb them.
 */
#define SPIN_OFF(name, f) [name] "i"(offsetof(struct spin_ctx, f))

__attribute__((target("avx512f,avx512bw"), noinline))
static void spin_avx512(struct spin_ctx *c)
{
	asm volatile(
		"mov	%c[in_gpr]+0(%[c]), %%rbx\n\t"
		"mov	%c[in_gpr]+8(%[c]), %%r12\n\t"
		"mov	%c[in_gpr]+16(%[c]), %%r13\n\t"
		"mov	%c[in_gpr]+24(%[c]), %%r14\n\t"
		"mov	%c[in_gpr]+32(%[c]), %%r15\n\t"
		"kmovq	%c[in_k2](%[c]), %%k2\n\t"
		"vmovdqu	%c[in_xmm3](%[c]), %%xmm3\n\t"
		"vmovdqu	%c[in_ymm9](%[c]), %%ymm9\n\t"
		"vmovdqu64	%c[in_zmm17](%[c]), %%zmm17\n\t"
		"vmovdqu64	%c[in_zmm31](%[c]), %%zmm31\n\t"
		"mov	$1, %%eax\n\t"		/* SYS_write */
		"mov	$1, %%edi\n\t"
		"lea	%c[msg](%[c]), %%rsi\n\t"
		"mov	$6, %%edx\n\t"
		"syscall\n\t"
		"mov	%%rax, %c[write_ret](%[c])\n\t"
		"1:\n\t"
		"pause\n\t"
		"cmpl	$0, %[flag]\n\t"
		"je	1b\n\t"
		"mov	%%rbx, %c[out_gpr]+0(%[c])\n\t"
		"mov	%%r12, %c[out_gpr]+8(%[c])\n\t"
		"mov	%%r13, %c[out_gpr]+16(%[c])\n\t"
		"mov	%%r14, %c[out_gpr]+24(%[c])\n\t"
		"mov	%%r15, %c[out_gpr]+32(%[c])\n\t"
		"kmovq	%%k2, %c[out_k2](%[c])\n\t"
		"vmovdqu	%%xmm3, %c[out_xmm3](%[c])\n\t"
		"vmovdqu	%%ymm9, %c[out_ymm9](%[c])\n\t"
		"vmovdqu64	%%zmm17, %c[out_zmm17](%[c])\n\t"
		"vmovdqu64	%%zmm31, %c[out_zmm31](%[c])\n\t"
		"vzeroupper\n\t"
		:
		: [c] "r"(c), [flag] "m"(usr1_flag),
		  SPIN_OFF(in_gpr, in.gpr), SPIN_OFF(in_k2, in.k2), SPIN_OFF(in_xmm3, in.xmm3),
		  SPIN_OFF(in_ymm9, in.ymm9), SPIN_OFF(in_zmm17, in.zmm17), SPIN_OFF(in_zmm31, in.zmm31),
		  SPIN_OFF(out_gpr, out.gpr), SPIN_OFF(out_k2, out.k2), SPIN_OFF(out_xmm3, out.xmm3),
		  SPIN_OFF(out_ymm9, out.ymm9), SPIN_OFF(out_zmm17, out.zmm17), SPIN_OFF(out_zmm31, out.zmm31),
		  SPIN_OFF(msg, msg), SPIN_OFF(write_ret, write_ret)
		: "rax", "rcx", "rdx", "rsi", "rdi", "r11", "rbx", "r12",
		  "r13", "r14", "r15", "xmm3", "xmm9", "xmm17", "xmm31", "k2",
		  "memory", "cc");
}

/* The same without AVX: general registers and xmm3 only */
__attribute__((noinline))
static void spin_sse(struct spin_ctx *c)
{
	asm volatile(
		"mov	%c[in_gpr]+0(%[c]), %%rbx\n\t"
		"mov	%c[in_gpr]+8(%[c]), %%r12\n\t"
		"mov	%c[in_gpr]+16(%[c]), %%r13\n\t"
		"mov	%c[in_gpr]+24(%[c]), %%r14\n\t"
		"mov	%c[in_gpr]+32(%[c]), %%r15\n\t"
		"movdqu	%c[in_xmm3](%[c]), %%xmm3\n\t"
		"mov	$1, %%eax\n\t"
		"mov	$1, %%edi\n\t"
		"lea	%c[msg](%[c]), %%rsi\n\t"
		"mov	$6, %%edx\n\t"
		"syscall\n\t"
		"mov	%%rax, %c[write_ret](%[c])\n\t"
		"1:\n\t"
		"pause\n\t"
		"cmpl	$0, %[flag]\n\t"
		"je	1b\n\t"
		"mov	%%rbx, %c[out_gpr]+0(%[c])\n\t"
		"mov	%%r12, %c[out_gpr]+8(%[c])\n\t"
		"mov	%%r13, %c[out_gpr]+16(%[c])\n\t"
		"mov	%%r14, %c[out_gpr]+24(%[c])\n\t"
		"mov	%%r15, %c[out_gpr]+32(%[c])\n\t"
		"movdqu	%%xmm3, %c[out_xmm3](%[c])\n\t"
		:
		: [c] "r"(c), [flag] "m"(usr1_flag),
		  SPIN_OFF(in_gpr, in.gpr), SPIN_OFF(in_xmm3, in.xmm3), SPIN_OFF(out_gpr, out.gpr),
		  SPIN_OFF(out_xmm3, out.xmm3), SPIN_OFF(msg, msg), SPIN_OFF(write_ret, write_ret)
		: "rax", "rcx", "rdx", "rsi", "rdi", "r11", "rbx", "r12",
		  "r13", "r14", "r15", "xmm3", "memory", "cc");
}

static void cmp_bytes(const char *name, const char *reg, const void *got,
		      const void *want, size_t len)
{
	const uint64_t *g = got, *w = want;
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (g[i] != w[i]) {
			wl_fail(name, "%s qword %zu is 0x%016llx, want 0x%016llx",
				reg, i, (unsigned long long)g[i],
				(unsigned long long)w[i]);
			return;
		}
}

static void check_regs(void)
{
	static const char *const gpr_name[] = { "rbx", "r12", "r13", "r14", "r15" };
	struct regvals want;
	int i, m;

	reg_expect(&want);
	m = wl_mark();
	if (spin.write_ret != 6)
		wl_fail("regs.gpr", "READY write returned %ld", spin.write_ret);
	for (i = 0; i < 5; i++)
		if (spin.out.gpr[i] != want.gpr[i])
			wl_fail("regs.gpr", "%s is 0x%016llx, want 0x%016llx",
				gpr_name[i], (unsigned long long)spin.out.gpr[i],
				(unsigned long long)want.gpr[i]);
	wl_verdict("regs.gpr", m);

	m = wl_mark();
	cmp_bytes("regs.xmm", "xmm3", spin.out.xmm3, want.xmm3, 16);
	wl_verdict("regs.xmm", m);

	if (!have_avx512) {
		wl_skip("regs.ymm", "no AVX-512 on this CPU");
		wl_skip("regs.zmm", "no AVX-512 on this CPU");
		wl_skip("regs.kmask", "no AVX-512 on this CPU");
		return;
	}
	m = wl_mark();
	cmp_bytes("regs.ymm", "ymm9", spin.out.ymm9, want.ymm9, 32);
	wl_verdict("regs.ymm", m);
	m = wl_mark();
	cmp_bytes("regs.zmm", "zmm17", spin.out.zmm17, want.zmm17, 64);
	cmp_bytes("regs.zmm", "zmm31", spin.out.zmm31, want.zmm31, 64);
	wl_verdict("regs.zmm", m);
	m = wl_mark();
	if (spin.out.k2 != want.k2)
		wl_fail("regs.kmask", "k2 is 0x%016llx, want 0x%016llx",
			(unsigned long long)spin.out.k2,
			(unsigned long long)want.k2);
	wl_verdict("regs.kmask", m);
}

/* --- small file helpers (no malloc) -------------------------------------- */

static ssize_t read_whole(const char *path, void *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (len < size && (n = read(fd, (char *)buf + len, size - len)) > 0)
		len += n;
	close(fd);
	return len;
}

/* --- /proc/self/maps ----------------------------------------------------- */

static char maps_buf[1 << 20];

struct vma {
	unsigned long start, end, off;
	char perms[5];
	const char *name;	/* points into maps_buf, NUL-terminated */
};

static size_t maps_load(void)
{
	ssize_t n = read_whole("/proc/self/maps", maps_buf, sizeof(maps_buf) - 1);

	if (n < 0)
		n = 0;
	maps_buf[n] = 0;
	return n;
}

/* Parse the line at *pos in place; 0 at the end of the buffer. */
static int maps_next(char **pos, struct vma *v)
{
	char *p = *pos, *nl, *end;
	int field;

	if (!*p)
		return 0;
	nl = strchr(p, '\n');
	if (nl)
		*nl = 0;
	*pos = nl ? nl + 1 : p + strlen(p);
	v->start = strtoul(p, &end, 16);
	v->end = strtoul(end + 1, &end, 16);
	memcpy(v->perms, end + 1, 4);
	v->perms[4] = 0;
	v->off = strtoul(end + 6, &end, 16);
	/* skip dev and inode, then blanks up to the name */
	for (field = 0; field < 2; field++) {
		while (*end == ' ')
			end++;
		while (*end && *end != ' ')
			end++;
	}
	while (*end == ' ')
		end++;
	v->name = end;
	return 1;
}

static int vma_of(unsigned long addr, struct vma *out)
{
	char *pos = maps_buf;
	struct vma v;

	maps_load();
	while (maps_next(&pos, &v))
		if (addr >= v.start && addr < v.end) {
			*out = v;
			return 1;
		}
	return 0;
}

/*
 * A normalised text form of the mappings overlapping [a, b): one line per
 * run of adjacent mappings with equal permissions and name (and, for files,
 * contiguous offsets).  Merging makes the comparison indifferent to how
 * the kernel happens to split or merge equivalent VMAs, which legitimately
 * differs between a process built step by step and one mapped afresh.
 * The [stack] start is masked: the stack grows as this program runs.
 * With prefix, only mappings whose name starts with it are listed.
 */
static void layout(unsigned long a, unsigned long b, const char *prefix,
		   char *out, size_t size)
{
	char *pos = maps_buf;
	struct vma v, run = { 0 };
	size_t len = 0;
	int have = 0;

	out[0] = 0;
	maps_load();
	for (;;) {
		int more = maps_next(&pos, &v);
		unsigned long s = 0, e = 0, off = 0;
		int isfile = 0;

		if (more) {
			if (v.end <= a || v.start >= b)
				continue;
			if (prefix && strncmp(v.name, prefix, strlen(prefix)))
				continue;
			s = v.start > a ? v.start : a;
			e = v.end < b ? v.end : b;
			isfile = v.name[0] == '/';
			off = isfile ? v.off + (s - v.start) : 0;
			if (have && run.end == s && !strcmp(run.perms, v.perms) &&
			    !strcmp(run.name, v.name) &&
			    (!isfile || run.off + (run.end - run.start) == off)) {
				run.end = e;
				continue;
			}
		}
		if (have && len < size) {
			if (!strcmp(run.name, "[stack]"))
				len += snprintf(out + len, size - len,
						"?-%lx %s %s\n", run.end,
						run.perms, run.name);
			else if (run.name[0] == '/')
				len += snprintf(out + len, size - len,
						"%lx-%lx %s %s@%lx\n", run.start,
						run.end, run.perms, run.name,
						run.off);
			else
				len += snprintf(out + len, size - len,
						"%lx-%lx %s %s\n", run.start,
						run.end, run.perms, run.name);
		}
		if (!more)
			break;
		run = v;
		run.start = s;
		run.end = e;
		run.off = off;
		have = 1;
	}
}

/* Report the first line where two layouts differ. */
static void cmp_layout(const char *name, const char *before, const char *after)
{
	const char *b = before, *a = after;

	if (!strcmp(before, after))
		return;
	for (;;) {
		size_t bl = strcspn(b, "\n"), al = strcspn(a, "\n");

		if (bl != al || strncmp(b, a, bl)) {
			wl_fail(name, "mapping was [%.*s], now [%.*s]",
				(int)bl, b, (int)al, a);
			return;
		}
		b += bl + !!b[bl];
		a += al + !!a[al];
	}
}

/* --- the snapshot -------------------------------------------------------- */

#define NSTATF		52
#define MAX_FDS		64

struct fdstate {
	int fd;
	int fl;		/* F_GETFL */
	int fdfl;	/* F_GETFD */
	off_t pos;
	struct stat st;
};

static const int statf_idx[] = {
	5, 6, 18, 19, 20, 26, 27, 28, 40, 41, 45, 46, 47, 48, 49, 50, 51,
};
static const char *const statf_name[] = {
	"pgrp", "session", "priority", "nice", "num_threads", "startcode",
	"endcode", "startstack", "rt_priority", "policy", "start_data",
	"end_data", "start_brk", "arg_start", "arg_end", "env_start", "env_end",
};
#define NSTATF_CMP (sizeof(statf_idx) / sizeof(statf_idx[0]))

static const struct {
	int opt;
	int byref;	/* result through an int * in arg2 */
	const char *name;
} prctls[] = {
	{ PR_GET_DUMPABLE, 0, "dumpable" },
	{ PR_GET_NO_NEW_PRIVS, 0, "no_new_privs" },
	{ PR_GET_CHILD_SUBREAPER, 1, "child_subreaper" },
	{ PR_GET_PDEATHSIG, 1, "pdeathsig" },
	{ PR_GET_TIMERSLACK, 0, "timerslack" },
	{ PR_GET_THP_DISABLE, 0, "thp_disable" },
	{ PR_GET_KEEPCAPS, 0, "keepcaps" },
	{ PR_GET_SECUREBITS, 0, "securebits" },
	{ PR_MCE_KILL_GET, 0, "mce_kill" },
	{ PR_GET_TSC, 1, "tsc" },
};
#define NPRCTL (sizeof(prctls) / sizeof(prctls[0]))

static const char *const status_keys[] = {
	"Umask:", "Uid:", "Gid:", "Groups:", "NStgid:", "NSpid:", "NSpgid:",
	"NSsid:", "Seccomp:", "Seccomp_filters:", "NoNewPrivs:", "CapInh:",
	"CapPrm:", "CapEff:", "CapBnd:", "CapAmb:", "SigBlk:", "SigIgn:",
	"SigCgt:", "Speculation_Store_Bypass:", "SpeculationIndirectBranch:",
	"Cpus_allowed_list:", "Mems_allowed_list:", "THP_enabled:",
	"x86_Thread_features:", "x86_Thread_features_locked:",
};
#define NSTATUS (sizeof(status_keys) / sizeof(status_keys[0]))

struct snap {
	pid_t pid, pgid, sid;
	char comm[32], comm_proc[32];
	mode_t umask;
	char cwd[PATH_MAX];
	struct stat cwd_st;
	char exe[PATH_MAX], root[PATH_MAX];
	struct rlimit rl[RLIM_NLIMITS];
	int persona;
	char cmdline[16384], environ[65536], auxv[4096];
	ssize_t cmdline_len, environ_len, auxv_len;
	char oom[32], coredump[32], loginuid[32];	/* /proc/self files */
	ssize_t oom_len, coredump_len, loginuid_len;
	uid_t uid[3];
	gid_t gid[3];
	int ngroups;
	gid_t groups[256];
	char status[NSTATUS][256];
	unsigned long long statf[NSTATF_CMP];
	unsigned long fsbase, gsbase;
	void *tls_addr;
	long robust_ret;
	void *robust_head;
	size_t robust_len;
	int tidaddr_ret;
	int *tidaddr;
	long prctl[NPRCTL];
	int nice;
	struct {
		int ret;
		struct sigaction sa;
	} sig[65];
	uint64_t blocked, pending;
	stack_t altstack;
	int nfds;
	int fdlist[MAX_FDS];
	struct fdstate fds[MAX_FDS];
	unsigned int mxcsr;
	unsigned short x87cw;
	int fround;
	size_t resident;
	char layout[32768];
	char special[4096];
	char resv_layout[4096];
};

static struct snap before, after;

/* Open descriptors, from /proc/self/fd read with getdents64 (no malloc) */
static int list_fds(int *out, int max)
{
	static char buf[8192];
	int dfd, n = 0;
	long len;

	dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	while ((len = syscall(SYS_getdents64, dfd, buf, sizeof(buf))) > 0) {
		long off = 0;

		while (off < len) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);

			off += d->d_reclen;
			if (d->d_name[0] == '.')
				continue;
			if (atoi(d->d_name) != dfd && n < max)
				out[n++] = atoi(d->d_name);
		}
	}
	close(dfd);
	return n;
}

static void snap_status(struct snap *s)
{
	static char buf[16384];
	ssize_t n = read_whole("/proc/self/status", buf, sizeof(buf) - 1);
	size_t k;

	buf[n < 0 ? 0 : n] = 0;
	for (k = 0; k < NSTATUS; k++) {
		char *p = buf;

		s->status[k][0] = 0;
		while (p && *p) {
			size_t ll = strcspn(p, "\n");

			if (!strncmp(p, status_keys[k], strlen(status_keys[k]))) {
				snprintf(s->status[k], sizeof(s->status[k]),
					 "%.*s", (int)ll, p);
				break;
			}
			p += ll + !!p[ll];
		}
	}
}

static void snap_stat(struct snap *s)
{
	static char buf[4096];
	unsigned long long f[NSTATF + 1] = { 0 };
	ssize_t n = read_whole("/proc/self/stat", buf, sizeof(buf) - 1);
	char *p;
	int i;
	size_t k;

	buf[n < 0 ? 0 : n] = 0;
	/* comm may contain anything, so fields start after the last ')' */
	p = strrchr(buf, ')');
	if (!p)
		return;
	p += 2;
	for (i = 3; i <= NSTATF && *p; i++) {
		while (*p == ' ')
			p++;
		if (i == 3) {	/* the state letter */
			p++;
			continue;
		}
		f[i] = strtoull(p, &p, 10);
	}
	for (k = 0; k < NSTATF_CMP; k++)
		s->statf[k] = f[statf_idx[k]];
}

static size_t count_resident(void)
{
	static unsigned char vec[RESV_SIZE / PAGE];
	size_t i, n = 0;

	if (mincore(resv, RESV_SIZE, vec))
		return (size_t)-1;
	for (i = 0; i < RESV_SIZE / PAGE; i++)
		n += vec[i] & 1;
	return n;
}

static void take_snapshot(struct snap *s)
{
	ssize_t n;
	size_t k;
	int i;

	s->pid = getpid();
	s->pgid = getpgid(0);
	s->sid = getsid(0);
	memset(s->comm, 0, sizeof(s->comm));
	prctl(PR_GET_NAME, s->comm);
	n = read_whole("/proc/self/comm", s->comm_proc, sizeof(s->comm_proc) - 1);
	s->comm_proc[n < 0 ? 0 : n] = 0;
	s->umask = umask(0);
	umask(s->umask);
	if (!getcwd(s->cwd, sizeof(s->cwd)))
		strcpy(s->cwd, "(getcwd failed)");
	stat(".", &s->cwd_st);
	n = readlink("/proc/self/exe", s->exe, sizeof(s->exe) - 1);
	s->exe[n < 0 ? 0 : n] = 0;
	n = readlink("/proc/self/root", s->root, sizeof(s->root) - 1);
	s->root[n < 0 ? 0 : n] = 0;
	for (i = 0; i < RLIM_NLIMITS; i++)
		getrlimit(i, &s->rl[i]);
	s->persona = personality(0xffffffff);
	s->oom_len = read_whole("/proc/self/oom_score_adj", s->oom,
				sizeof(s->oom));
	s->coredump_len = read_whole("/proc/self/coredump_filter", s->coredump,
				     sizeof(s->coredump));
	s->loginuid_len = read_whole("/proc/self/loginuid", s->loginuid,
				     sizeof(s->loginuid));
	s->cmdline_len = read_whole("/proc/self/cmdline", s->cmdline,
				    sizeof(s->cmdline));
	s->environ_len = read_whole("/proc/self/environ", s->environ,
				    sizeof(s->environ));
	s->auxv_len = read_whole("/proc/self/auxv", s->auxv, sizeof(s->auxv));
	getresuid(&s->uid[0], &s->uid[1], &s->uid[2]);
	getresgid(&s->gid[0], &s->gid[1], &s->gid[2]);
	s->ngroups = getgroups(256, s->groups);
	snap_status(s);
	snap_stat(s);
	syscall(SYS_arch_prctl, ARCH_GET_FS, &s->fsbase);
	syscall(SYS_arch_prctl, ARCH_GET_GS, &s->gsbase);
	s->tls_addr = &tls_magic;
	s->robust_ret = syscall(SYS_get_robust_list, 0, &s->robust_head,
				&s->robust_len);
	s->tidaddr_ret = prctl(PR_GET_TID_ADDRESS, &s->tidaddr);
	for (k = 0; k < NPRCTL; k++) {
		int v = -1;

		if (prctls[k].byref)
			s->prctl[k] = prctl(prctls[k].opt, &v) ? -1000 - errno : v;
		else
			s->prctl[k] = prctl(prctls[k].opt, 0, 0, 0, 0);
	}
	errno = 0;
	s->nice = getpriority(PRIO_PROCESS, 0);
	for (i = 1; i <= 64; i++) {
		memset(&s->sig[i].sa, 0, sizeof(s->sig[i].sa));
		s->sig[i].ret = sigaction(i, NULL, &s->sig[i].sa);
	}
	{
		sigset_t set;

		sigemptyset(&set);
		sigprocmask(SIG_BLOCK, NULL, &set);
		s->blocked = mask_bits(&set);
		sigemptyset(&set);
		sigpending(&set);
		s->pending = mask_bits(&set);
	}
	sigaltstack(NULL, &s->altstack);
	s->nfds = list_fds(s->fdlist, MAX_FDS);
	for (i = 0; i < s->nfds && i < MAX_FDS; i++) {
		struct fdstate *f = &s->fds[i];

		f->fd = s->fdlist[i];
		f->fl = fcntl(f->fd, F_GETFL);
		f->fdfl = fcntl(f->fd, F_GETFD);
		f->pos = lseek(f->fd, 0, SEEK_CUR);
		memset(&f->st, 0, sizeof(f->st));
		fstat(f->fd, &f->st);
	}
	asm volatile("stmxcsr %0" : "=m"(s->mxcsr));
	asm volatile("fnstcw %0" : "=m"(s->x87cw));
	s->fround = fegetround();
	s->resident = count_resident();
	/* last, so nothing above changes the layout it records */
	layout(0, ~0ul, NULL, s->layout, sizeof(s->layout));
	layout(0, ~0ul, "[v", s->special, sizeof(s->special));
	layout((unsigned long)resv, (unsigned long)resv + RESV_SIZE, NULL,
	       s->resv_layout, sizeof(s->resv_layout));
}

/* --- rseq ---------------------------------------------------------------- */

/*
 * glibc registers an rseq area for every thread; code such as
 * sched_getcpu() then trusts the kernel to keep it current.  The kernel
 * answers a second registration of the same area with EBUSY, which tells
 * "still registered" apart from "memory restored but kernel forgot".
 */
static int rseq_probe(void)
{
	void *area = (char *)__builtin_thread_pointer() + __rseq_offset;
	long r;

	if (!__rseq_size)
		return -1;
	r = syscall(SYS_rseq, area, 32, 0, RSEQ_SIG);
	if (r == 0) {
		/* we just registered it: undo, so the answer is honest */
		syscall(SYS_rseq, area, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG);
		return 0;
	}
	return errno == EBUSY ? 1 : -errno;
}

static int rseq_before;

/* --- comparisons --------------------------------------------------------- */

#define CMP_NUM(name, what, b, a)					\
	do {								\
		if ((b) != (a))						\
			wl_fail(name, "%s was %lld, now %lld", what,	\
				(long long)(b), (long long)(a));	\
	} while (0)

#define CMP_HEX(name, what, b, a)					\
	do {								\
		if ((b) != (a))						\
			wl_fail(name, "%s was 0x%llx, now 0x%llx", what,	\
				(unsigned long long)(b),		\
				(unsigned long long)(a));		\
	} while (0)

#define CMP_STR(name, what, b, a)					\
	do {								\
		if (strcmp((b), (a)))					\
			wl_fail(name, "%s was '%s', now '%s'", what,	\
				(b), (a));				\
	} while (0)

static void cmp_blob(const char *name, const char *b, ssize_t blen,
		     const char *a, ssize_t alen)
{
	ssize_t i;

	if (blen != alen) {
		wl_fail(name, "length was %zd, now %zd", blen, alen);
		return;
	}
	for (i = 0; i < blen; i++)
		if (b[i] != a[i]) {
			wl_fail(name, "byte %zd was 0x%02x, now 0x%02x", i,
				(unsigned char)b[i], (unsigned char)a[i]);
			return;
		}
}

static void compare_process(const struct snap *b, const struct snap *a)
{
	size_t k;
	int m, i;

	m = wl_mark();
	CMP_NUM("proc.pid", "pid", b->pid, a->pid);
	wl_verdict("proc.pid", m);
	m = wl_mark();
	CMP_NUM("proc.pgid", "pgid", b->pgid, a->pgid);
	if (a->pgid != a->pid)
		wl_fail("proc.pgid", "pgid %d is not the pid %d", a->pgid, a->pid);
	wl_verdict("proc.pgid", m);
	m = wl_mark();
	CMP_NUM("proc.sid", "sid", b->sid, a->sid);
	wl_verdict("proc.sid", m);

	m = wl_mark();
	CMP_STR("proc.comm", "PR_GET_NAME", b->comm, a->comm);
	CMP_STR("proc.comm", "/proc/self/comm", b->comm_proc, a->comm_proc);
	if (strcmp(a->comm, COMM))
		wl_fail("proc.comm", "is '%s', want '%s'", a->comm, COMM);
	wl_verdict("proc.comm", m);

	m = wl_mark();
	CMP_HEX("proc.umask", "umask", b->umask, a->umask);
	if (a->umask != 027)
		wl_fail("proc.umask", "umask is %03o, want 027", a->umask);
	wl_verdict("proc.umask", m);

	m = wl_mark();
	CMP_STR("proc.cwd", "getcwd", b->cwd, a->cwd);
	CMP_NUM("proc.cwd", "st_ino of .", b->cwd_st.st_ino, a->cwd_st.st_ino);
	CMP_NUM("proc.cwd", "st_dev of .", b->cwd_st.st_dev, a->cwd_st.st_dev);
	if (strcmp(a->cwd, path_cwd))
		wl_fail("proc.cwd", "cwd is '%s', want '%s'", a->cwd, path_cwd);
	wl_verdict("proc.cwd", m);

	m = wl_mark();
	CMP_STR("proc.exe", "/proc/self/exe", b->exe, a->exe);
	wl_verdict("proc.exe", m);
	m = wl_mark();
	CMP_STR("proc.root", "/proc/self/root", b->root, a->root);
	wl_verdict("proc.root", m);

	m = wl_mark();
	for (i = 0; i < RLIM_NLIMITS; i++) {
		if (b->rl[i].rlim_cur != a->rl[i].rlim_cur ||
		    b->rl[i].rlim_max != a->rl[i].rlim_max)
			wl_fail("proc.rlimits", "limit %d was %lld/%lld, now %lld/%lld",
				i, (long long)b->rl[i].rlim_cur,
				(long long)b->rl[i].rlim_max,
				(long long)a->rl[i].rlim_cur,
				(long long)a->rl[i].rlim_max);
	}
	if (a->rl[RLIMIT_NOFILE].rlim_cur != 512)
		wl_fail("proc.rlimits", "RLIMIT_NOFILE soft is %lld, want 512",
			(long long)a->rl[RLIMIT_NOFILE].rlim_cur);
	if (a->rl[RLIMIT_CORE].rlim_cur != 0)
		wl_fail("proc.rlimits", "RLIMIT_CORE soft is %lld, want 0",
			(long long)a->rl[RLIMIT_CORE].rlim_cur);
	wl_verdict("proc.rlimits", m);

	m = wl_mark();
	CMP_HEX("proc.personality", "personality", b->persona, a->persona);
	wl_verdict("proc.personality", m);

	m = wl_mark();
	cmp_blob("proc.oom_score_adj", b->oom, b->oom_len, a->oom, a->oom_len);
	cmp_blob("proc.coredump_filter", b->coredump, b->coredump_len,
		 a->coredump, a->coredump_len);
	cmp_blob("proc.loginuid", b->loginuid, b->loginuid_len, a->loginuid,
		 a->loginuid_len);
	if (b->oom_len < 4 || memcmp(b->oom, "321", 3) ||
	    b->loginuid_len != 4 || memcmp(b->loginuid, "4242", 4) ||
	    b->coredump_len < 8 || memcmp(b->coredump, "0000007f", 8))
		wl_fail("proc.oom_score_adj", "set-up values not seen: %.*s %.*s",
			(int)b->oom_len, b->oom, (int)b->coredump_len,
			b->coredump);
	cmp_blob("proc.cmdline", b->cmdline, b->cmdline_len, a->cmdline,
		 a->cmdline_len);
	wl_verdict("proc.cmdline", m);
	m = wl_mark();
	cmp_blob("proc.environ", b->environ, b->environ_len, a->environ,
		 a->environ_len);
	wl_verdict("proc.environ", m);
	m = wl_mark();
	cmp_blob("proc.auxv", b->auxv, b->auxv_len, a->auxv, a->auxv_len);
	wl_verdict("proc.auxv", m);

	m = wl_mark();
	for (i = 0; i < 3; i++) {
		CMP_NUM("proc.creds", "uid", b->uid[i], a->uid[i]);
		CMP_NUM("proc.creds", "gid", b->gid[i], a->gid[i]);
	}
	CMP_NUM("proc.creds", "ngroups", b->ngroups, a->ngroups);
	for (i = 0; i < b->ngroups && i < a->ngroups && i < 256; i++)
		CMP_NUM("proc.creds", "group", b->groups[i], a->groups[i]);
	wl_verdict("proc.creds", m);

	m = wl_mark();
	for (k = 0; k < NSTATUS; k++)
		CMP_STR("proc.status", status_keys[k], b->status[k], a->status[k]);
	wl_verdict("proc.status", m);

	m = wl_mark();
	for (k = 0; k < NSTATF_CMP; k++)
		CMP_HEX("proc.stat", statf_name[k], b->statf[k], a->statf[k]);
	wl_verdict("proc.stat", m);

	m = wl_mark();
	for (k = 0; k < NPRCTL; k++)
		CMP_NUM("proc.prctl", prctls[k].name, b->prctl[k], a->prctl[k]);
	wl_verdict("proc.prctl", m);

	m = wl_mark();
	CMP_NUM("proc.nice", "nice", b->nice, a->nice);
	wl_verdict("proc.nice", m);
}

static void compare_thread(const struct snap *b, const struct snap *a)
{
	int m;

	m = wl_mark();
	CMP_HEX("tls.fsbase", "fs base", b->fsbase, a->fsbase);
	CMP_HEX("tls.fsbase", "gs base", b->gsbase, a->gsbase);
	if (a->fsbase != (unsigned long)__builtin_thread_pointer())
		wl_fail("tls.fsbase", "fs base 0x%lx is not the thread pointer %p",
			a->fsbase, __builtin_thread_pointer());
	wl_verdict("tls.fsbase", m);

	m = wl_mark();
	CMP_HEX("tls.vars", "&tls_magic", (unsigned long)b->tls_addr,
		(unsigned long)a->tls_addr);
	if (tls_magic != TLS_MAGIC)
		wl_fail("tls.vars", "tls_magic is 0x%llx, want 0x%llx",
			(unsigned long long)tls_magic, TLS_MAGIC);
	if (wl_check(tls_buf, sizeof(tls_buf), SEED_TLS) != (size_t)-1)
		wl_fail("tls.vars", "tls_buf differs from its pattern");
	wl_verdict("tls.vars", m);

	m = wl_mark();
	CMP_NUM("thread.robust_list", "get_robust_list", b->robust_ret,
		a->robust_ret);
	CMP_HEX("thread.robust_list", "head", (unsigned long)b->robust_head,
		(unsigned long)a->robust_head);
	CMP_NUM("thread.robust_list", "len", b->robust_len, a->robust_len);
	wl_verdict("thread.robust_list", m);

	if (b->tidaddr_ret) {
		wl_skip("thread.tid_address", "PR_GET_TID_ADDRESS unavailable");
	} else {
		m = wl_mark();
		CMP_NUM("thread.tid_address", "PR_GET_TID_ADDRESS",
			b->tidaddr_ret, a->tidaddr_ret);
		CMP_HEX("thread.tid_address", "clear_child_tid",
			(unsigned long)b->tidaddr, (unsigned long)a->tidaddr);
		wl_verdict("thread.tid_address", m);
	}

	if (rseq_before < 0) {
		wl_skip("thread.rseq", "glibc did not register rseq");
	} else {
		int now = rseq_probe();

		m = wl_mark();
		if (now != rseq_before)
			wl_fail("thread.rseq", "registration probe was %d, now %d (1 = registered)",
				rseq_before, now);
		wl_verdict("thread.rseq", m);
	}

	m = wl_mark();
	CMP_HEX("regs.fpu_ctl", "mxcsr", b->mxcsr, a->mxcsr);
	CMP_HEX("regs.fpu_ctl", "x87 control word", b->x87cw, a->x87cw);
	if (a->fround != FE_TOWARDZERO)
		wl_fail("regs.fpu_ctl", "rounding mode is %d, want FE_TOWARDZERO",
			a->fround);
	wl_verdict("regs.fpu_ctl", m);
}

static void compare_signals(const struct snap *b, const struct snap *a)
{
	int m, s;
	uint64_t want;

	m = wl_mark();
	for (s = 1; s <= 64; s++) {
		const struct sigaction *x = &b->sig[s].sa, *y = &a->sig[s].sa;

		if (b->sig[s].ret != a->sig[s].ret) {
			wl_fail("sig.actions", "sigaction(%d) returned %d, now %d",
				s, b->sig[s].ret, a->sig[s].ret);
			continue;
		}
		if ((void *)x->sa_sigaction != (void *)y->sa_sigaction)
			wl_fail("sig.actions", "signal %d handler was %p, now %p",
				s, (void *)x->sa_sigaction,
				(void *)y->sa_sigaction);
		if (x->sa_flags != y->sa_flags)
			wl_fail("sig.actions", "signal %d flags were 0x%x, now 0x%x",
				s, x->sa_flags, y->sa_flags);
		if ((void *)x->sa_restorer != (void *)y->sa_restorer)
			wl_fail("sig.actions", "signal %d restorer was %p, now %p",
				s, (void *)x->sa_restorer,
				(void *)y->sa_restorer);
		if (mask_bits(&x->sa_mask) != mask_bits(&y->sa_mask))
			wl_fail("sig.actions", "signal %d sa_mask was 0x%llx, now 0x%llx",
				s, (unsigned long long)mask_bits(&x->sa_mask),
				(unsigned long long)mask_bits(&y->sa_mask));
	}
	/* and against intent, in case both snapshots are equally wrong */
	if ((void *)a->sig[SIGUSR1].sa.sa_sigaction != (void *)on_usr1 ||
	    (a->sig[SIGUSR1].sa.sa_flags & (SA_RESTART | SA_SIGINFO)) !=
	    (SA_RESTART | SA_SIGINFO))
		wl_fail("sig.actions", "SIGUSR1 is not on_usr1 with SA_RESTART|SA_SIGINFO");
	if (a->sig[SIGUSR2].sa.sa_handler != SIG_IGN)
		wl_fail("sig.actions", "SIGUSR2 is not SIG_IGN");
	if ((void *)a->sig[SIGHUP].sa.sa_handler != (void *)on_hup ||
	    !(a->sig[SIGHUP].sa.sa_flags & SA_ONSTACK))
		wl_fail("sig.actions", "SIGHUP is not on_hup with SA_ONSTACK");
	wl_verdict("sig.actions", m);

	/* the handler's own view: it ran once, for us, with its sa_mask */
	m = wl_mark();
	if (usr1_count != 1)
		wl_fail("sig.handler", "SIGUSR1 handler ran %d times", usr1_count);
	if (usr1_signo != SIGUSR1 || usr1_code != SI_USER || usr1_pid <= 0)
		wl_fail("sig.handler", "siginfo signo %d code %d pid %d",
			usr1_signo, usr1_code, usr1_pid);
	want = b->blocked | sig_bit(SIGUSR1) | sig_bit(SIGUSR2) |
	       sig_bit(SIGWINCH) | sig_bit(SIGRTMIN + 5);
	if (usr1_mask != want)
		wl_fail("sig.handler", "mask inside handler 0x%llx, want 0x%llx",
			(unsigned long long)usr1_mask, (unsigned long long)want);
	wl_verdict("sig.handler", m);

	m = wl_mark();
	CMP_HEX("sig.blocked", "blocked", b->blocked, a->blocked);
	want = sig_bit(SIGTERM) | sig_bit(RT_SIG);
	if (a->blocked != want)
		wl_fail("sig.blocked", "blocked is 0x%llx, want 0x%llx",
			(unsigned long long)a->blocked, (unsigned long long)want);
	wl_verdict("sig.blocked", m);

	m = wl_mark();
	CMP_HEX("sig.pending", "pending", b->pending, a->pending);
	wl_verdict("sig.pending", m);

	m = wl_mark();
	CMP_HEX("sig.altstack", "ss_sp", (unsigned long)b->altstack.ss_sp,
		(unsigned long)a->altstack.ss_sp);
	CMP_NUM("sig.altstack", "ss_size", b->altstack.ss_size,
		a->altstack.ss_size);
	CMP_HEX("sig.altstack", "ss_flags", b->altstack.ss_flags,
		a->altstack.ss_flags);
	if (a->altstack.ss_sp != altstack || a->altstack.ss_size != ALTSTACK_SIZE)
		wl_fail("sig.altstack", "is %p+%zu, want %p+%lu",
			a->altstack.ss_sp, a->altstack.ss_size, altstack,
			ALTSTACK_SIZE);
	wl_verdict("sig.altstack", m);
}

static const struct fdstate *find_fd(const struct snap *s, int fd)
{
	int i;

	for (i = 0; i < s->nfds && i < MAX_FDS; i++)
		if (s->fds[i].fd == fd)
			return &s->fds[i];
	return NULL;
}

static void compare_fds(const struct snap *b, const struct snap *a)
{
	int m, i;

	m = wl_mark();
	CMP_NUM("fd.table", "number of open fds", b->nfds, a->nfds);
	for (i = 0; i < b->nfds && i < MAX_FDS; i++) {
		const struct fdstate *x = &b->fds[i], *y = find_fd(a, x->fd);

		if (!y) {
			wl_fail("fd.table", "fd %d is gone", x->fd);
			continue;
		}
		if (x->st.st_dev != y->st.st_dev || x->st.st_ino != y->st.st_ino ||
		    x->st.st_rdev != y->st.st_rdev ||
		    (x->st.st_mode & S_IFMT) != (y->st.st_mode & S_IFMT))
			wl_fail("fd.table", "fd %d now refers to another file (dev %lx ino %lu -> dev %lx ino %lu)",
				x->fd, (unsigned long)x->st.st_dev,
				(unsigned long)x->st.st_ino,
				(unsigned long)y->st.st_dev,
				(unsigned long)y->st.st_ino);
		if (x->fl != y->fl)
			wl_fail("fd.table", "fd %d F_GETFL was 0%o, now 0%o",
				x->fd, x->fl, y->fl);
		if (x->fdfl != y->fdfl)
			wl_fail("fd.table", "fd %d F_GETFD was %d, now %d",
				x->fd, x->fdfl, y->fdfl);
		/* stdio offsets move: we printed READY in between */
		if (x->fd > 2 && x->pos != y->pos)
			wl_fail("fd.table", "fd %d offset was %lld, now %lld",
				x->fd, (long long)x->pos, (long long)y->pos);
	}
	for (i = 0; i < a->nfds && i < MAX_FDS; i++) {
		char link[64], to[256] = "?";
		ssize_t n;

		if (find_fd(b, a->fds[i].fd))
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%d", a->fds[i].fd);
		n = readlink(link, to, sizeof(to) - 1);
		to[n > 0 ? n : 1] = 0;
		wl_fail("fd.table", "fd %d appeared (%s)", a->fds[i].fd, to);
	}
	wl_verdict("fd.table", m);
}

/* --- active checks: use the restored state, not just look at it --------- */

static void check_fds(void)
{
	unsigned char buf[64], want[RW_FILE_SIZE + 8];
	struct stat st, st2;
	int m, fd, fl;
	off_t pos;

	/* O_RDWR file at 12345: the next read must return the bytes there */
	m = wl_mark();
	fl = fcntl(fd_rw, F_GETFL);
	if ((fl & O_ACCMODE) != O_RDWR || (fl & O_APPEND))
		wl_fail("fd.rw", "F_GETFL 0%o, want O_RDWR without O_APPEND", fl);
	if (fcntl(fd_rw, F_GETFD) != 0)
		wl_fail("fd.rw", "FD_CLOEXEC set");
	pos = lseek(fd_rw, 0, SEEK_CUR);
	if (pos != RW_OFFSET)
		wl_fail("fd.rw", "offset %lld, want %d", (long long)pos, RW_OFFSET);
	wl_fill(want, sizeof(want), SEED_RWFILE);
	if (read(fd_rw, buf, 32) != 32 || memcmp(buf, want + RW_OFFSET, 32))
		wl_fail("fd.rw", "read at the offset returned other bytes");
	if (fstat(fd_rw, &st) || stat(path_rw, &st2) || st.st_ino != st2.st_ino)
		wl_fail("fd.rw", "no longer refers to %s", path_rw);
	wl_verdict("fd.rw", m);

	/* O_APPEND: a write lands at the end whatever the offset */
	m = wl_mark();
	fl = fcntl(fd_app, F_GETFL);
	if ((fl & O_ACCMODE) != O_WRONLY || !(fl & O_APPEND))
		wl_fail("fd.append", "F_GETFL 0%o, want O_WRONLY|O_APPEND", fl);
	pos = lseek(fd_app, 0, SEEK_CUR);
	if (pos != 6)
		wl_fail("fd.append", "offset %lld, want 6", (long long)pos);
	lseek(fd_app, 0, SEEK_SET);
	if (write(fd_app, "world\n", 6) != 6)
		wl_fail("fd.append", "write: %s", strerror(errno));
	if (fstat(fd_app, &st) || st.st_size != 12)
		wl_fail("fd.append", "size after append %lld, want 12",
			(long long)st.st_size);
	if (read_whole(path_app, buf, sizeof(buf)) != 12 ||
	    memcmp(buf, "hello\nworld\n", 12))
		wl_fail("fd.append", "file content is not hello/world");
	wl_verdict("fd.append", m);

	/* O_RDONLY|O_CLOEXEC at 100 */
	m = wl_mark();
	fl = fcntl(fd_ro, F_GETFL);
	if ((fl & O_ACCMODE) != O_RDONLY)
		wl_fail("fd.cloexec", "F_GETFL 0%o, want O_RDONLY", fl);
	if (fcntl(fd_ro, F_GETFD) != FD_CLOEXEC)
		wl_fail("fd.cloexec", "F_GETFD %d, want FD_CLOEXEC",
			fcntl(fd_ro, F_GETFD));
	pos = lseek(fd_ro, 0, SEEK_CUR);
	if (pos != RO_OFFSET)
		wl_fail("fd.cloexec", "offset %lld, want %d", (long long)pos,
			RO_OFFSET);
	wl_fill(want, 4096, SEED_ROFILE);
	if (read(fd_ro, buf, 32) != 32 || memcmp(buf, want + RO_OFFSET, 32))
		wl_fail("fd.cloexec", "read at the offset returned other bytes");
	if (write(fd_ro, "x", 1) != -1)
		wl_fail("fd.cloexec", "write to an O_RDONLY fd succeeded");
	wl_verdict("fd.cloexec", m);

	m = wl_mark();
	if (fstat(DEVNULL_FD, &st) || !S_ISCHR(st.st_mode) ||
	    st.st_rdev != makedev(1, 3))
		wl_fail("fd.devnull", "fd %d is not /dev/null", DEVNULL_FD);
	if ((fcntl(DEVNULL_FD, F_GETFL) & O_ACCMODE) != O_RDWR)
		wl_fail("fd.devnull", "not O_RDWR");
	if (write(DEVNULL_FD, "abc", 3) != 3 || read(DEVNULL_FD, buf, 8) != 0)
		wl_fail("fd.devnull", "does not behave like /dev/null");
	wl_verdict("fd.devnull", m);

	m = wl_mark();
	if (fstat(URANDOM_FD, &st) || !S_ISCHR(st.st_mode) ||
	    st.st_rdev != makedev(1, 9))
		wl_fail("fd.urandom", "fd %d is not /dev/urandom", URANDOM_FD);
	if (read(URANDOM_FD, buf, 16) != 16)
		wl_fail("fd.urandom", "read: %s", strerror(errno));
	wl_verdict("fd.urandom", m);

	/* a directory fd must still anchor *at() calls */
	m = wl_mark();
	if (fstat(fd_dir, &st) || !S_ISDIR(st.st_mode) ||
	    stat(workdir, &st2) || st.st_ino != st2.st_ino)
		wl_fail("fd.dir", "fd %d is not the directory %s", fd_dir, workdir);
	fd = openat(fd_dir, "rw.dat", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st2) || fstat(fd_rw, &st) ||
	    st.st_ino != st2.st_ino)
		wl_fail("fd.dir", "openat(dirfd, rw.dat) did not find the file");
	if (fd >= 0)
		close(fd);
	if (!(fcntl(fd_dir, F_GETFL) & O_DIRECTORY))
		wl_fail("fd.dir", "O_DIRECTORY missing from F_GETFL");
	wl_verdict("fd.dir", m);
}


/* The reservation as it was built: resv_rw pages rw-p, the rest ---p */
static void resv_intended(char *out, size_t size)
{
	unsigned long base = (unsigned long)resv, npages = RESV_SIZE / PAGE;
	unsigned long pg = 0, end;
	size_t len = 0, i = 0;

	out[0] = 0;
	while (pg < npages && len < size) {
		int rw = i < NRESV_RW && resv_rw[i] == pg;

		if (rw)
			for (end = pg; i < NRESV_RW && resv_rw[i] == end; i++)
				end++;
		else
			end = i < NRESV_RW ? resv_rw[i] : npages;
		len += snprintf(out + len, size - len, "%lx-%lx %s \n",
				base + pg * PAGE, base + end * PAGE,
				rw ? "rw-p" : "---p");
		pg = end;
	}
}

/* pagemap bits: 63 present, 62 swapped, 61 file page or shared anon */
static uint64_t pagemap_of(const void *p)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (pread(fd, &e, 8, (unsigned long)p / PAGE * 8) != 8)
			e = 0;
		close(fd);
	}
	return e;
}

static int stack_bad, stack_bad_depth = -1;
static int term_code;	/* si_code of a raise()d signal on this kernel */
static unsigned long brk_before, brk_after;

static void check_memory(const struct snap *b, const struct snap *a)
{
	static char want[4096];
	struct vma v;
	size_t off, i;
	int m;

	m = wl_mark();
	off = wl_check(heap, HEAP_SIZE, SEED_HEAP);
	if (off != (size_t)-1)
		wl_fail("mem.heap", "8 MiB malloc block differs at offset %zu (fnv %016llx)",
			off, (unsigned long long)wl_fnv(heap, HEAP_SIZE));
	wl_verdict("mem.heap", m);

	m = wl_mark();
	off = wl_check(brk_area, BRK_SIZE, SEED_BRK);
	if (off != (size_t)-1)
		wl_fail("mem.brk", "sbrk area differs at offset %zu", off);
	CMP_HEX("mem.brk", "program break", brk_before, brk_after);
	if (!vma_of((unsigned long)brk_area, &v) || strcmp(v.name, "[heap]"))
		wl_fail("mem.brk", "sbrk area is not in [heap] (mm start_brk/brk)");
	wl_verdict("mem.brk", m);

	m = wl_mark();
	for (i = 0; i < NRESV_RW; i++) {
		unsigned long pg = resv_rw[i];

		if (pg != RESV_UNTOUCHED &&
		    wl_check(resv + pg * PAGE, PAGE, SEED_RESV + pg) != (size_t)-1)
			wl_fail("mem.sparse", "page %lu of the reservation differs", pg);
	}
	cmp_layout("mem.sparse", b->resv_layout, a->resv_layout);
	resv_intended(want, sizeof(want));
	cmp_layout("mem.sparse", want, a->resv_layout);
	wl_verdict("mem.sparse", m);

	/* only pages that existed may come back, or 1 GiB gets populated */
	m = wl_mark();
	if (a->resident != b->resident)
		wl_fail("mem.sparse_resident", "%zu pages of the reservation resident, was %zu",
			a->resident, b->resident);
	wl_verdict("mem.sparse_resident", m);
	m = wl_mark();
	for (i = 0; i < PAGE; i++)
		if (resv[RESV_UNTOUCHED * PAGE + i]) {
			wl_fail("mem.sparse_zero", "never-written rw page is not zero");
			break;
		}
	wl_verdict("mem.sparse_zero", m);

	m = wl_mark();
	off = wl_check(ro_area, RO_SIZE, SEED_RO);
	if (off != (size_t)-1)
		wl_fail("mem.readonly", "content differs at offset %zu", off);
	if (!vma_of((unsigned long)ro_area, &v) || strcmp(v.perms, "r--p"))
		wl_fail("mem.readonly", "maps perms are '%s', want r--p", v.perms);
	if (!probe(ro_area + 100, 1))
		wl_fail("mem.readonly", "writing did not fault");
	if (probe(ro_area + 100, 0))
		wl_fail("mem.readonly", "reading faulted");
	wl_verdict("mem.readonly", m);

	m = wl_mark();
	if (wl_check(guard, PAGE, SEED_GUARD) != (size_t)-1 ||
	    wl_check(guard + 2 * PAGE, PAGE, SEED_GUARD + 2) != (size_t)-1)
		wl_fail("mem.guard", "pages around the guard differ");
	if (!vma_of((unsigned long)guard + PAGE, &v) || strcmp(v.perms, "---p"))
		wl_fail("mem.guard", "guard perms are '%s', want ---p", v.perms);
	if (!probe(guard + PAGE, 0))
		wl_fail("mem.guard", "reading the guard page did not fault");
	if (probe(guard, 1) || probe(guard + 2 * PAGE, 1))
		wl_fail("mem.guard", "the pages around the guard fault");
	wl_verdict("mem.guard", m);

	/* MAP_PRIVATE file: dirty pages are ours, the rest the file's */
	m = wl_mark();
	for (i = 0; i < FILE_PAGES; i++) {
		int dirty = i == 3 || i == 7;
		uint64_t seed = (dirty ? SEED_DIRTY : SEED_FILE) + i;

		if (wl_check(fmap + i * PAGE, PAGE, seed) != (size_t)-1)
			wl_fail("mem.filemap", "page %zu (%s) differs", i,
				dirty ? "modified in memory" : "from the file");
	}
	for (i = 0; i < FILE_MAP2_LEN; i++)
		if (wl_check(fmap2 + i * PAGE, PAGE,
			     SEED_FILE + FILE_MAP2_OFF + i) != (size_t)-1)
			wl_fail("mem.filemap", "second mapping page %zu differs", i);
	if (!vma_of((unsigned long)fmap, &v) || strcmp(v.name, path_map) ||
	    v.off != 0 || strcmp(v.perms, "rw-p"))
		wl_fail("mem.filemap", "first mapping is not rw-p of %s at 0", path_map);
	if (!vma_of((unsigned long)fmap2, &v) || strcmp(v.name, path_map) ||
	    v.off != FILE_MAP2_OFF * PAGE || strcmp(v.perms, "r--p"))
		wl_fail("mem.filemap", "second mapping is not r--p of %s at 0x%lx",
			path_map, FILE_MAP2_OFF * PAGE);
	wl_verdict("mem.filemap", m);

	m = wl_mark();
	{
		static unsigned char disk[FILE_PAGES * PAGE + 1];
		ssize_t n = read_whole(path_map, disk, sizeof(disk));

		if (n != FILE_PAGES * PAGE)
			wl_fail("mem.filemap_disk", "%s is %zd bytes, want %lu",
				path_map, n, FILE_PAGES * PAGE);
		for (i = 0; i < FILE_PAGES; i++)
			if (wl_check(disk + i * PAGE, PAGE, SEED_FILE + i) != (size_t)-1)
				wl_fail("mem.filemap_disk", "page %zu of %s changed on disk",
					i, path_map);
	}
	wl_verdict("mem.filemap_disk", m);

	/*
	 * Clean pages of a private file mapping must still be the file's
	 * (shared page cache, or not yet faulted in), not private anonymous
	 * copies; the modified ones must be anonymous.
	 */
	m = wl_mark();
	for (i = 0; i < FILE_PAGES; i++) {
		uint64_t e = pagemap_of(fmap + i * PAGE);
		int present = !!(e >> 63 & 1), swapped = !!(e >> 62 & 1);
		int file = !!(e >> 61 & 1);

		if (i == 3 || i == 7) {
			if (!(present && !file) && !swapped)
				wl_fail("mem.filemap_cow", "modified page %zu is not private anon (pagemap 0x%llx)",
					i, (unsigned long long)e);
		} else if (present && !file) {
			wl_fail("mem.filemap_cow", "clean page %zu became a private anon copy",
				i);
		}
	}
	wl_verdict("mem.filemap_cow", m);

	m = wl_mark();
	if (stack_bad)
		wl_fail("mem.stack", "%d of %d frames' locals differ, the deepest at depth %d",
			stack_bad, STACK_DEPTH + 1, stack_bad_depth);
	wl_verdict("mem.stack", m);

	m = wl_mark();
	cmp_layout("mem.special", b->special, a->special);
	{
		struct timespec t0, t1;

		/* the vDSO must still work where glibc remembers it */
		clock_gettime(CLOCK_MONOTONIC, &t0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (t1.tv_sec < t0.tv_sec ||
		    (t1.tv_sec == t0.tv_sec && t1.tv_nsec < t0.tv_nsec))
			wl_fail("mem.special", "CLOCK_MONOTONIC went backwards");
	}
	wl_verdict("mem.special", m);

	m = wl_mark();
	cmp_layout("mem.layout", b->layout, a->layout);
	if (wl_mark() != m || getenv("WL_SHOW_LAYOUT"))
		printf("# layout before:\n%s# layout after:\n%s", b->layout,
		       a->layout);
	wl_verdict("mem.layout", m);

	/* the kernel's idea of brk must allow growing the heap further */
	m = wl_mark();
	{
		unsigned char *p = sbrk(PAGE);

		if (p == (void *)-1) {
			wl_fail("mem.brk_grow", "sbrk(4096): %s", strerror(errno));
		} else {
			if (probe(p, 1) || probe(p + PAGE - 1, 1))
				wl_fail("mem.brk_grow", "new brk page is not writable");
			if ((unsigned long)syscall(SYS_brk, 0) != (unsigned long)p + PAGE)
				wl_fail("mem.brk_grow", "kernel brk 0x%lx, want %p+4096",
					(unsigned long)syscall(SYS_brk, 0), p);
			sbrk(-(long)PAGE);
		}
	}
	wl_verdict("mem.brk_grow", m);
}

/* Deliver signals again: handlers, altstack and pending must all work. */
static void check_signal_use(void)
{
	struct timespec zero = { 0, 0 };
	siginfo_t si;
	sigset_t set;
	int m, r;

	m = wl_mark();
	hup_count = 0;
	raise(SIGHUP);
	if (hup_count != 1)
		wl_fail("sig.altstack_use", "SIGHUP handler ran %d times", hup_count);
	else if (!hup_on_altstack || !hup_ss_onstack)
		wl_fail("sig.altstack_use", "SA_ONSTACK handler did not run on the alternate stack");
	wl_verdict("sig.altstack_use", m);

	/* queued real-time signals keep order and value; SIGTERM its code */
	m = wl_mark();
	sigemptyset(&set);
	sigaddset(&set, RT_SIG);
	sigaddset(&set, SIGTERM);
	memset(&si, 0, sizeof(si));
	r = sigtimedwait(&set, &si, &zero);
	if (r != SIGTERM || si.si_code != term_code || si.si_pid != before.pid)
		wl_fail("sig.pending_info", "got signal %d code %d pid %d, want SIGTERM code %d pid %d",
			r, si.si_code, si.si_pid, term_code, before.pid);
	if (sigtimedwait(&set, &si, &zero) != RT_SIG || si.si_code != SI_QUEUE ||
	    si.si_value.sival_int != RT_VAL1)
		wl_fail("sig.pending_info", "first queued SIGRTMIN+3 missing or wrong (value 0x%x)",
			si.si_value.sival_int);
	if (sigtimedwait(&set, &si, &zero) != RT_SIG || si.si_code != SI_QUEUE ||
	    si.si_value.sival_int != RT_VAL2)
		wl_fail("sig.pending_info", "second queued SIGRTMIN+3 missing or wrong (value 0x%x)",
			si.si_value.sival_int);
	if (sigtimedwait(&set, &si, &zero) != -1)
		wl_fail("sig.pending_info", "more signals pending than were queued");
	wl_verdict("sig.pending_info", m);
}

/* --- setup --------------------------------------------------------------- */

static void make_file(const char *path, size_t size, uint64_t seed, int per_page)
{
	static unsigned char buf[FILE_PAGES * PAGE];
	size_t i;
	int fd;

	if (size > sizeof(buf))
		wl_die("make_file: %zu too big", size);
	if (per_page)
		for (i = 0; i < size / PAGE; i++)
			wl_fill(buf + i * PAGE, PAGE, seed + i);
	else
		wl_fill(buf, size, seed);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, buf, size) != (ssize_t)size || fsync(fd) ||
	    close(fd))
		wl_die("writing %s", path);
}

static void move_fd(int fd, int to)
{
	if (fd < 0 || dup2(fd, to) != to)
		wl_die("dup2 to %d", to);
	close(fd);
}

static void setup_files(void)
{
	char buf[RO_OFFSET];

	snprintf(path_rw, sizeof(path_rw), "%s/rw.dat", workdir);
	snprintf(path_app, sizeof(path_app), "%s/app.dat", workdir);
	snprintf(path_ro, sizeof(path_ro), "%s/ro.dat", workdir);
	snprintf(path_map, sizeof(path_map), "%s/map.dat", workdir);
	make_file(path_rw, RW_FILE_SIZE, SEED_RWFILE, 0);
	make_file(path_ro, PAGE, SEED_ROFILE, 0);
	make_file(path_map, FILE_PAGES * PAGE, SEED_FILE, 1);

	fd_rw = open(path_rw, O_RDWR);
	if (fd_rw < 0 || lseek(fd_rw, RW_OFFSET, SEEK_SET) != RW_OFFSET)
		wl_die("open %s", path_rw);
	fd_app = open(path_app, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	if (fd_app < 0 || write(fd_app, "hello\n", 6) != 6)
		wl_die("open %s", path_app);
	fd_ro = open(path_ro, O_RDONLY | O_CLOEXEC);
	if (fd_ro < 0 || read(fd_ro, buf, RO_OFFSET) != RO_OFFSET)
		wl_die("open %s", path_ro);
	fd_dir = open(workdir, O_RDONLY | O_DIRECTORY);
	if (fd_dir < 0)
		wl_die("open %s", workdir);
	move_fd(open("/dev/null", O_RDWR), DEVNULL_FD);
	move_fd(open("/dev/urandom", O_RDONLY), URANDOM_FD);
}

static void *map_anon(size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);

	if (p == MAP_FAILED)
		wl_die("mmap %zu", len);
	return p;
}

static void setup_memory(void)
{
	size_t i;
	int fd;

	heap = malloc(HEAP_SIZE);
	if (!heap)
		wl_die("malloc");
	wl_fill(heap, HEAP_SIZE, SEED_HEAP);

	brk_area = sbrk(BRK_SIZE);
	if (brk_area == (void *)-1)
		wl_die("sbrk");
	wl_fill(brk_area, BRK_SIZE, SEED_BRK);

	resv = map_anon(RESV_SIZE, PROT_NONE);
	for (i = 0; i < NRESV_RW; i++) {
		unsigned char *pg = resv + resv_rw[i] * PAGE;

		if (mprotect(pg, PAGE, PROT_READ | PROT_WRITE))
			wl_die("mprotect reservation");
		if (resv_rw[i] != RESV_UNTOUCHED)
			wl_fill(pg, PAGE, SEED_RESV + resv_rw[i]);
	}

	ro_area = map_anon(RO_SIZE, PROT_READ | PROT_WRITE);
	wl_fill(ro_area, RO_SIZE, SEED_RO);
	if (mprotect(ro_area, RO_SIZE, PROT_READ))
		wl_die("mprotect ro");

	guard = map_anon(3 * PAGE, PROT_READ | PROT_WRITE);
	wl_fill(guard, PAGE, SEED_GUARD);
	wl_fill(guard + 2 * PAGE, PAGE, SEED_GUARD + 2);
	if (mprotect(guard + PAGE, PAGE, PROT_NONE))
		wl_die("mprotect guard");

	fd = open(path_map, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		wl_die("open %s", path_map);
	fmap = mmap(NULL, FILE_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		    fd, 0);
	fmap2 = mmap(NULL, FILE_MAP2_LEN * PAGE, PROT_READ, MAP_PRIVATE, fd,
		     FILE_MAP2_OFF * PAGE);
	if (fmap == MAP_FAILED || fmap2 == MAP_FAILED)
		wl_die("mmap %s", path_map);
	close(fd);
	/* fault the clean pages in from the page cache, then dirty two */
	for (i = 0; i < FILE_PAGES; i++)
		if (wl_check(fmap + i * PAGE, PAGE, SEED_FILE + i) != (size_t)-1)
			wl_die("mapping of %s does not match the file", path_map);
	wl_fill(fmap + 3 * PAGE, PAGE, SEED_DIRTY + 3);
	wl_fill(fmap + 7 * PAGE, PAGE, SEED_DIRTY + 7);

	tls_magic = TLS_MAGIC;
	wl_fill(tls_buf, sizeof(tls_buf), SEED_TLS);
}

static void setup_signals(void)
{
	struct sigaction sa;
	union sigval val;
	siginfo_t si;
	stack_t ss;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_usr1;
	sa.sa_flags = SA_RESTART | SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	sigaddset(&sa.sa_mask, SIGWINCH);
	sigaddset(&sa.sa_mask, SIGRTMIN + 5);
	if (sigaction(SIGUSR1, &sa, NULL))
		wl_die("sigaction SIGUSR1");

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGUSR2, &sa, NULL))
		wl_die("sigaction SIGUSR2");

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_hup;
	sa.sa_flags = SA_ONSTACK;
	if (sigaction(SIGHUP, &sa, NULL))
		wl_die("sigaction SIGHUP");

	altstack = map_anon(ALTSTACK_SIZE, PROT_READ | PROT_WRITE);
	ss.ss_sp = altstack;
	ss.ss_size = ALTSTACK_SIZE;
	ss.ss_flags = 0;
	if (sigaltstack(&ss, NULL))
		wl_die("sigaltstack");

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, RT_SIG);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		wl_die("sigprocmask");

	/*
	 * Pending while blocked: one standard, two queued real-time.  The
	 * si_code raise() produces differs between kernels, so learn it
	 * from a first SIGTERM before leaving a second one pending.
	 */
	raise(SIGTERM);
	if (sigwaitinfo(&set, &si) != SIGTERM)
		wl_die("sigwaitinfo");
	term_code = si.si_code;
	raise(SIGTERM);
	val.sival_int = RT_VAL1;
	if (sigqueue(getpid(), RT_SIG, val))
		wl_die("sigqueue");
	val.sival_int = RT_VAL2;
	if (sigqueue(getpid(), RT_SIG, val))
		wl_die("sigqueue");
}

static void write_str(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0 || write(fd, v, strlen(v)) != (ssize_t)strlen(v))
		wl_die("write %s %s", path, v);
	close(fd);
}

static void setup_process(const char *cwd)
{
	struct rlimit rl;

	wl_own_session();
	if (prctl(PR_SET_NAME, COMM))
		wl_die("PR_SET_NAME");
	umask(027);

	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = 512;
	if (rl.rlim_max < 512)
		rl.rlim_max = 512;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		wl_die("setrlimit NOFILE");
	getrlimit(RLIMIT_CORE, &rl);
	rl.rlim_cur = 0;
	if (setrlimit(RLIMIT_CORE, &rl))
		wl_die("setrlimit CORE");

	if (fesetround(FE_TOWARDZERO))
		wl_die("fesetround");
	/* attributes of the process a restore must not reset: an OOM score
	 * raised (lowering takes CAP_SYS_RESOURCE), every core dump filter
	 * bit, THP off, early machine-check kill */
	write_str("/proc/self/oom_score_adj", "321");
	write_str("/proc/self/coredump_filter", "0x7f");
	write_str("/proc/self/loginuid", "4242");
	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0))
		wl_die("PR_SET_THP_DISABLE");
	if (prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 0, 0))
		wl_die("PR_MCE_KILL");

	if (cwd) {
		snprintf(path_cwd, sizeof(path_cwd), "%s", cwd);
	} else {
		snprintf(path_cwd, sizeof(path_cwd), "%s/cwd", workdir);
		if (mkdir(path_cwd, 0755) && errno != EEXIST)
			wl_die("mkdir %s", path_cwd);
	}
	if (chdir(path_cwd))
		wl_die("chdir %s", path_cwd);
	/* compare with what getcwd() will say: symlinks resolved */
	if (!getcwd(path_cwd, sizeof(path_cwd)))
		wl_die("getcwd");
}

/* --- the wait ------------------------------------------------------------ */

static void __attribute__((noinline)) wait_point(void)
{
	if (have_avx512)
		spin_avx512(&spin);
	else
		spin_sse(&spin);
	/* first thing after the wait: nothing may have moved brk yet */
	brk_after = syscall(SYS_brk, 0);
}

/*
 * Wait at the bottom of a deep recursion, each frame holding 4 KiB of
 * locals, so the checkpoint has a deep stack whose frames are checked as
 * the recursion unwinds.
 */
static void __attribute__((noinline)) deep(int depth)
{
	uint64_t local[STACK_WORDS];

	wl_fill(local, sizeof(local), SEED_STACK + depth);
	asm volatile("" : : "r"(local) : "memory");
	if (depth > 0)
		deep(depth - 1);
	else
		wait_point();
	asm volatile("" : : "r"(local) : "memory");
	if (wl_check(local, sizeof(local), SEED_STACK + depth) != (size_t)-1) {
		if (!stack_bad)
			stack_bad_depth = depth;
		stack_bad++;
	}
}

int main(int argc, char **argv)
{
	/* unbuffered: printing must never allocate (see the top) */
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s WORKDIR [CWD]\n", argv[0]);
		return 2;
	}
	workdir = argv[1];
	have_avx512 = __builtin_cpu_supports("avx512f") &&
		      __builtin_cpu_supports("avx512bw");

	setup_process(argc > 2 ? argv[2] : NULL);
	setup_files();
	setup_memory();
	setup_signals();
	reg_expect(&spin.in);
	memcpy(spin.msg, "READY\n", 6);
	rseq_before = rseq_probe();

	take_snapshot(&before);
	brk_before = syscall(SYS_brk, 0);

	deep(STACK_DEPTH);	/* prints READY, spins until SIGUSR1 */

	take_snapshot(&after);
	check_regs();
	compare_process(&before, &after);
	compare_thread(&before, &after);
	compare_signals(&before, &after);
	compare_fds(&before, &after);
	check_memory(&before, &after);
	check_fds();
	check_signal_use();
	return wl_done();
}
