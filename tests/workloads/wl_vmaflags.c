// SPDX-License-Identifier: MIT
/*
 * wl_vmaflags MODE: one mapping per VMA flag a program can set (madvise
 * SEQUENTIAL, RANDOM, MERGEABLE, DONTDUMP, DODUMP, DONTFORK, WIPEONFORK,
 * HUGEPAGE, NOHUGEPAGE; mlock, mlock2(MLOCK_ONFAULT), MAP_LOCKED,
 * MAP_NORESERVE, mseal), each filled with its own pattern, then
 *	MODE "onfault":  mlockall(MCL_FUTURE | MCL_ONFAULT)
 *	MODE "current":  PR_SET_MEMORY_MERGE, mlockall(MCL_CURRENT | MCL_FUTURE)
 * READY; on SIGUSR1 it checks every mapping's contents and smaps VmFlags
 * (against what the code set, and every VMA against the flags smaps showed
 * before), VmLck, and that a new mapping is locked (and populated, or not)
 * and mergeable as the mode says.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "wl_common.h"
#include "wl_fdtable.h"

#define PAGE 4096UL
#define NPAGES 4
#define MAXVMAS 512
/* not in this glibc's headers */
#define PR_SET_MEMORY_MERGE_ 67
#define PR_GET_MEMORY_MERGE_ 68
#define NR_MSEAL_ 462

/* the flags crfs claims to keep (smaps mnemonics) */
static const char *const claimed[] = {
	"sr", "rr", "mg", "dd", "dc", "wf", "hg", "nh", "lo", "lf", "nr", "sl",
};

enum how { ADVISE, MLOCK, MLOCK_ONFAULT_, MAP_LOCKED_, MAP_NORESERVE_, MSEAL };

struct region {
	const char *name;
	enum how how;
	int advice, advice2;	/* advice2: -1 for none */
	const char *want;	/* flags that must be there, space separated */
	const char *not;	/* flags that must not */
	char *p;
};

static struct region regions[] = {
	{ "seq", ADVISE, MADV_SEQUENTIAL, -1, "sr", "rr", NULL },
	{ "random", ADVISE, MADV_RANDOM, -1, "rr", "sr", NULL },
	{ "mergeable", ADVISE, MADV_MERGEABLE, -1, "mg", "", NULL },
	{ "unmergeable", ADVISE, MADV_MERGEABLE, MADV_UNMERGEABLE, "", "mg", NULL },
	{ "dontdump", ADVISE, MADV_DONTDUMP, -1, "dd", "", NULL },
	{ "dodump", ADVISE, MADV_DONTDUMP, MADV_DODUMP, "", "dd", NULL },
	{ "dontfork", ADVISE, MADV_DONTFORK, -1, "dc", "", NULL },
	{ "wipeonfork", ADVISE, MADV_WIPEONFORK, -1, "wf", "", NULL },
	{ "hugepage", ADVISE, MADV_HUGEPAGE, -1, "hg", "nh", NULL },
	{ "nohugepage", ADVISE, MADV_NOHUGEPAGE, -1, "nh", "hg", NULL },
	{ "mlock", MLOCK, 0, -1, "lo", "lf", NULL },
	{ "mlock_onfault", MLOCK_ONFAULT_, 0, -1, "lo lf", "", NULL },
	{ "map_locked", MAP_LOCKED_, 0, -1, "lo", "lf", NULL },
	{ "noreserve", MAP_NORESERVE_, 0, -1, "nr", "", NULL },
	{ "sealed", MSEAL, 0, -1, "sl", "", NULL },
};

#define NREG (sizeof(regions) / sizeof(regions[0]))

struct vma_flags {
	unsigned long start, end;
	char flags[128];
};

static struct vma_flags before[MAXVMAS];
static int nbefore;
static unsigned long vmlck_before;
static int current_mode, have_mseal;
static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

/* every VMA's VmFlags, in address order */
static int read_flags(struct vma_flags *out, int max)
{
	char line[512];
	FILE *f = fopen("/proc/self/smaps", "r");
	int n = 0;

	if (!f)
		wl_die("open smaps");
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;

		if (sscanf(line, "%lx-%lx ", &s, &e) == 2) {
			if (n == max)
				wl_die("more than %d mappings", max);
			out[n].start = s;
			out[n].end = e;
			out[n].flags[0] = '\0';
			n++;
		} else if (n && !strncmp(line, "VmFlags:", 8)) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(out[n - 1].flags, sizeof(out[n - 1].flags),
				 "%s ", line + 8);
		}
	}
	fclose(f);
	return n;
}

static int has(const char *flags, const char *f)
{
	char pat[8];

	snprintf(pat, sizeof(pat), " %s ", f);
	return strstr(flags, pat) != NULL;
}

static const char *flags_at(const void *addr)
{
	static struct vma_flags now[MAXVMAS];
	int n = read_flags(now, MAXVMAS), i;

	for (i = 0; i < n; i++)
		if ((unsigned long)addr >= now[i].start &&
		    (unsigned long)addr < now[i].end)
			return now[i].flags;
	return NULL;
}

static unsigned long vmlck_kb(void)
{
	char line[256];
	unsigned long kb = ~0UL;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		sscanf(line, "VmLck: %lu", &kb);
	if (f)
		fclose(f);
	return kb;
}

static void set_up(struct region *r)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	size_t len = NPAGES * PAGE;

	if (r->how == MAP_LOCKED_)
		flags |= MAP_LOCKED;
	if (r->how == MAP_NORESERVE_)
		flags |= MAP_NORESERVE;
	r->p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (r->p == MAP_FAILED)
		wl_die("mmap %s", r->name);
	wl_fill(r->p, len, 1000 + (r - regions));
	if (r->how == ADVISE && (madvise(r->p, len, r->advice) ||
				 (r->advice2 >= 0 && madvise(r->p, len, r->advice2))))
		wl_die("madvise %s", r->name);
	if (r->how == MLOCK && mlock(r->p, len))
		wl_die("mlock");
	if (r->how == MLOCK_ONFAULT_ && mlock2(r->p, len, MLOCK_ONFAULT))
		wl_die("mlock2");
	if (r->how == MSEAL) {
		have_mseal = !syscall(NR_MSEAL_, r->p, len, 0);
		if (!have_mseal && errno != ENOSYS && errno != EINVAL)
			wl_die("mseal");
	}
}

static void check_region(struct region *r)
{
	char name[64], want[64], *tok, *cur;
	const char *flags;
	size_t off;
	int mark = wl_mark();

	snprintf(name, sizeof(name), "flags.%s", r->name);
	flags = flags_at(r->p);
	if (!flags) {
		wl_fail(name, "no mapping at %p", r->p);
		return;
	}
	if (r->how == MSEAL && !have_mseal) {
		wl_skip(name, "this kernel has no mseal");
		return;
	}
	snprintf(want, sizeof(want), "%s", r->want);
	/* mlockall(MCL_CURRENT) without MCL_ONFAULT made it lock all */
	for (cur = want; (tok = strsep(&cur, " "));)
		if (*tok && !has(flags, tok) &&
		    !(current_mode && !strcmp(tok, "lf")))
			wl_fail(name, "no '%s' in VmFlags:%s", tok, flags);
	snprintf(want, sizeof(want), "%s", r->not);
	for (cur = want; (tok = strsep(&cur, " "));)
		if (*tok && has(flags, tok))
			wl_fail(name, "'%s' in VmFlags:%s", tok, flags);
	if (r->how == MSEAL && munmap(r->p, NPAGES * PAGE) == 0) {
		wl_fail(name, "munmap of the sealed mapping succeeded");
		return;
	}
	off = wl_check(r->p, NPAGES * PAGE, 1000 + (r - regions));
	if (off != (size_t)-1)
		wl_fail(name, "contents differ at offset %zu", off);
	wl_verdict(name, mark);
}

/*
 * every VMA that was there keeps every claimed flag, no more, no less;
 * neighbours with equal flags may come back as one (the kernel kept them
 * apart only because each had its own anon_vma)
 */
static void check_all(void)
{
	static struct vma_flags now[MAXVMAS];
	int n = read_flags(now, MAXVMAS), i, k, mark = wl_mark();
	size_t f;

	for (i = 0; i < nbefore; i++) {
		for (k = 0; k < n && now[k].end <= before[i].start; k++)
			;
		if (k == n || now[k].start > before[i].start ||
		    now[k].end < before[i].end) {
			wl_fail("flags.all", "mapping %lx-%lx is gone or resized",
				before[i].start, before[i].end);
			continue;
		}
		for (f = 0; f < sizeof(claimed) / sizeof(claimed[0]); f++)
			if (has(before[i].flags, claimed[f]) !=
			    has(now[k].flags, claimed[f]))
				wl_fail("flags.all", "%lx-%lx: '%s' was%s:%s, now:%s",
					before[i].start, before[i].end,
					claimed[f],
					has(before[i].flags, claimed[f]) ? "" : " not",
					before[i].flags, now[k].flags);
	}
	wl_verdict("flags.all", mark);
	if (vmlck_kb() != vmlck_before)
		wl_fail("vmlck", "VmLck %lu kB, was %lu kB", vmlck_kb(),
			vmlck_before);
	else
		wl_pass("vmlck");
}

/* MCL_FUTURE (and MCL_ONFAULT, PR_SET_MEMORY_MERGE) act on new mappings */
static void check_future(void)
{
	unsigned char vec = 0;
	const char *flags;
	char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int mark = wl_mark();

	if (p == MAP_FAILED)
		wl_die("mmap after restore");
	if (mincore(p, PAGE, &vec))
		wl_die("mincore");
	flags = flags_at(p);
	if (!flags || !has(flags, "lo"))
		wl_fail("mlockall.future", "a new mapping is not locked:%s",
			flags ? flags : " (none)");
	if (current_mode && (vec & 1) == 0)
		wl_fail("mlockall.future", "a new mapping was not populated");
	if (!current_mode && (!flags || !has(flags, "lf") || (vec & 1)))
		wl_fail("mlockall.future", "a new mapping is not lock-on-fault (resident %d):%s",
			vec & 1, flags ? flags : "");
	if (current_mode && (!flags || !has(flags, "mg") ||
			     prctl(PR_GET_MEMORY_MERGE_, 0, 0, 0, 0) != 1))
		wl_fail("mlockall.future", "PR_SET_MEMORY_MERGE is lost:%s",
			flags ? flags : "");
	wl_verdict("mlockall.future", mark);
}

/* the descriptor table at READY (wl_fdtable.h) */
static struct wl_fdtable fdt0;

int main(int argc, char **argv)
{
	size_t i;

	if (argc != 2 || (strcmp(argv[1], "onfault") && strcmp(argv[1], "current")))
		wl_die("usage: wl_vmaflags onfault|current");
	current_mode = !strcmp(argv[1], "current");
	wl_own_session();
	signal(SIGUSR1, on_usr1);
	if (current_mode && prctl(PR_SET_MEMORY_MERGE_, 1, 0, 0, 0))
		wl_die("PR_SET_MEMORY_MERGE");
	for (i = 0; i < NREG; i++)
		set_up(&regions[i]);
	if (mlockall(current_mode ? MCL_CURRENT | MCL_FUTURE :
				    MCL_FUTURE | MCL_ONFAULT))
		wl_die("mlockall");
	nbefore = read_flags(before, MAXVMAS);
	vmlck_before = vmlck_kb();
	wl_fdt_take(&fdt0);
	wl_ready();
	while (!go)
		pause();
	wl_fdt_check("vmaflags.fd_table", &fdt0);
	for (i = 0; i < NREG; i++)
		check_region(&regions[i]);
	check_all();
	check_future();
	return wl_done();
}
