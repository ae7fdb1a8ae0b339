// SPDX-License-Identifier: MIT
/*
 * wl_cow - private anonymous memory shared copy-on-write between a parent,
 * its forked children and a grandchild, partly rewritten by each.
 *
 * The process the test starts is a child subreaper outside the tree
 * (wl_under_subreaper); the tree's root R prints "READY ROOT=<pid>".
 *
 * R fills a 32 MiB private anonymous region, page i with pattern (0, i),
 * and writes the first half of a 64-page private mapping of a file
 * (DIR/cow-file, default /tmp), then forks C1, C2 and C3; C3 forks G.
 * After the forks, pages of the anonymous region / of the file mapping:
 *	R	rewrites [4096, 5120) / [24, 28) with its own pattern
 *	C1	rewrites [1024, 2048) / [8, 16)
 *	C2	drops [2048, 2560) with MADV_DONTNEED (they read zero) and
 *		rewrites [3072, 3200) / drops [16, 24) (the file's again)
 *	C3	writes nothing
 *	G	rewrites [5120, 5200) / [28, 30) (its parent C3 never did)
 * Before READY, R sums the anonymous Pss of the tree (smaps_rollup).
 *
 * On SIGUSR1 (R tells the others through a MAP_SHARED page), each process
 * checks every byte of both areas against the patterns it must hold.  R
 * then reads the page frames from /proc/PID/pagemap of each process (root
 * only: others read PFN 0) and checks that a page written before the fork
 * that neither side changed since is the same frame in R and in the other
 * process (and in C3 and G), and that a changed one is not; the same
 * between the siblings C1, C2 and C3, which also share the pages R
 * rewrote after forking them (no longer R's); and that the tree's
 * Pss_Anon is what it was before, give or take 4 MiB.  Without sharing,
 * it would be about 5 x 32 MiB.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/mman.h>

#include "wl_common.h"

#define PAGE		4096ul
#define NPAGES		8192ul		/* 32 MiB */
#define FPAGES		64ul		/* the file mapping */

enum { R, C1, C2, C3, G, NPROC };
static const char *const names[NPROC] = { "R", "C1", "C2", "C3", "G" };

/* what a process did to an area after the fork */
struct span {
	unsigned long from, to;
	bool drop;		/* MADV_DONTNEED, else rewritten */
};

/*
 * The areas: pages [0, written) hold the pre-fork pattern (in the file
 * mapping: copied on write over the file); the rest of a file mapping is
 * the file's.
 */
static struct area {
	const char *name;
	bool file;
	unsigned long npages, written;
	struct span spans[NPROC][2];
	char *base;
} areas[] = {
	{ "anon", false, NPAGES, NPAGES, {
		[R] = { { 4096, 5120, false } },
		[C1] = { { 1024, 2048, false } },
		[C2] = { { 2048, 2560, true }, { 3072, 3200, false } },
		[G] = { { 5120, 5200, false } },
	}, NULL },
	{ "file", true, FPAGES, FPAGES / 2, {
		[R] = { { 24, 28, false } },
		[C1] = { { 8, 16, false } },
		[C2] = { { 16, 24, true } },	/* back to the file's */
		[G] = { { 28, 30, false } },
	}, NULL },
};
#define NAREAS (sizeof(areas) / sizeof(areas[0]))

struct shared {
	atomic_int ready, go, done, quit;
	pid_t pid[NPROC];
	char msg[NPROC][160];
};

static struct shared *sh;
/*
 * Shared anonymous memory, 4 pages, mapped by R before the forks: C1
 * writes page 3, which R then unmaps (zdtm maps01: a part of a shared
 * object only the children map was lost, its first process stored only
 * what it maps); R writes page 1.  C1 checks both after the restore.
 */
static char *shx;
static volatile sig_atomic_t usr1;

static void on_usr1(int sig)
{
	(void)sig;
	usr1 = 1;
}

/* the patterns: who 0 before the fork, 1 + process after, 15 the file */
static uint64_t seed(const struct area *a, int who, unsigned long page)
{
	return (uint64_t)((a - areas) * 16 + who) << 32 | page;
}

/* the span of process who holding page i, or NULL */
static const struct span *span_of(const struct area *a, int who,
				  unsigned long i)
{
	int k;

	for (k = 0; k < 2; k++)
		if (a->spans[who][k].to && i >= a->spans[who][k].from &&
		    i < a->spans[who][k].to)
			return &a->spans[who][k];
	return NULL;
}

static void change(int who)
{
	unsigned long i;
	size_t n;
	int k;

	for (n = 0; n < NAREAS; n++) {
		struct area *a = &areas[n];

		for (k = 0; k < 2 && a->spans[who][k].to; k++) {
			const struct span *s = &a->spans[who][k];

			if (s->drop) {
				if (madvise(a->base + s->from * PAGE,
					    (s->to - s->from) * PAGE,
					    MADV_DONTNEED))
					wl_die("madvise");
				continue;
			}
			for (i = s->from; i < s->to; i++)
				wl_fill(a->base + i * PAGE, PAGE,
					seed(a, who + 1, i));
		}
	}
}

static bool zero_page(const char *p)
{
	unsigned long i;

	for (i = 0; i < PAGE; i++)
		if (p[i])
			return false;
	return true;
}

/* 0, or 1 with sh->msg[who] saying where */
static int check_area(const struct area *a, int who)
{
	const struct span *s;
	const char *what;
	unsigned long i;
	uint64_t want;
	size_t off;

	for (i = 0; i < a->npages; i++) {
		const char *p = a->base + i * PAGE;

		s = span_of(a, who, i);
		if (s && s->drop && !a->file) {
			if (zero_page(p))
				continue;
			snprintf(sh->msg[who], sizeof(sh->msg[who]),
				 "%s: dropped page %lu is not zero", a->name, i);
			return 1;
		}
		if (s && !s->drop) {
			want = seed(a, who + 1, i);
			what = "rewritten";
		} else if (!s && i < a->written) {
			want = seed(a, 0, i);
			what = "pre-fork";
		} else {
			want = seed(a, 15, i);
			what = "the file's";
		}
		off = wl_check(p, PAGE, want);
		if (off == (size_t)-1)
			continue;
		snprintf(sh->msg[who], sizeof(sh->msg[who]),
			 "%s: page %lu (%s) differs at byte %zu", a->name, i,
			 what, off);
		return 1;
	}
	return 0;
}

static int check_region(int who)
{
	size_t n;

	for (n = 0; n < NAREAS; n++)
		if (check_area(&areas[n], who))
			return 1;
	return 0;
}

/* counts only time we run: a frozen or killed-and-restored tree does not */
static void wait_for(atomic_int *v, int n)
{
	int i;

	for (i = 0; atomic_load(v) < n; i++) {
		if (i == 60000)
			wl_die("waited 60 s for the other processes");
		usleep(1000);
	}
}

/* C1: the shared pages as R and C1 wrote them */
static void check_shx(int who)
{
	if (who != C1 || sh->msg[who][0])
		return;
	if (wl_check(shx + 3 * PAGE, PAGE, 77) != (size_t)-1)
		snprintf(sh->msg[who], sizeof(sh->msg[who]),
			 "shared page 3, which only the children map, differs");
	else if (wl_check(shx + PAGE, PAGE, 78) != (size_t)-1)
		snprintf(sh->msg[who], sizeof(sh->msg[who]),
			 "shared page 1 differs");
}

/* a process other than R: set up, then check when told, then wait */
static void other(int who)
{
	change(who);
	if (who == C1)
		wl_fill(shx + 3 * PAGE, PAGE, 77);
	atomic_fetch_add(&sh->ready, 1);
	wait_for(&sh->go, 1);
	check_region(who);
	check_shx(who);
	atomic_fetch_add(&sh->done, 1);
	wait_for(&sh->quit, 1);
}

static pid_t spawn(int who)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		wl_die("fork %s", names[who]);
	if (pid)
		return pid;
	sh->pid[who] = getpid();
	if (who == C3) {
		pid_t g = spawn(G);

		other(who);
		waitpid(g, NULL, 0);
		_exit(0);
	}
	other(who);
	_exit(0);
}

/*
 * Pss_Anon: the rest (libc, ...) is split with whatever else on the host
 * maps the same files, which comes and goes.
 */
static long pss_kb(pid_t pid, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			kb = atol(line + klen + 1);
			break;
		}
	fclose(f);
	return kb;
}

static long tree_pss(const char *key)
{
	long sum = 0, kb;
	int k;

	for (k = 0; k < NPROC; k++) {
		kb = pss_kb(sh->pid[k], key);
		if (kb < 0)
			return -1;
		sum += kb;
	}
	return sum;
}

/* the frames of an area in pid; 0 for a page not present */
static int frames(const struct area *a, pid_t pid, uint64_t *pfn)
{
	char path[64];
	unsigned long i;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = pread(fd, pfn, a->npages * 8, (uintptr_t)a->base / PAGE * 8);
	close(fd);
	if (n != (ssize_t)(a->npages * 8))
		return -1;
	for (i = 0; i < a->npages; i++)
		pfn[i] = pfn[i] >> 63 ? pfn[i] & ((1ull << 55) - 1) : 0;
	return 0;
}

/*
 * The frames of process up against those of who (forked by up, or by a
 * child of up that changed nothing), for the pages written before the
 * fork: shared where neither changed the page since, apart where one did.
 * G against C3 covers a page C3 holds apart from R but shares with G.
 */
static void check_frames(const struct area *a, int up, int who,
			 uint64_t *mine, uint64_t *theirs)
{
	unsigned long i, shared = 0, apart = 0;
	char name[32];
	int mark = wl_mark();
	bool changed;

	snprintf(name, sizeof(name), "frames.%s.%s-%s", a->name, names[up],
		 names[who]);
	if (frames(a, sh->pid[up], mine) || frames(a, sh->pid[who], theirs)) {
		wl_fail(name, "cannot read the pagemap of %s or %s", names[up],
			names[who]);
		return;
	}
	for (i = 0; i < a->written; i++) {
		changed = span_of(a, up, i) || span_of(a, who, i);
		if (!changed && (!mine[i] || mine[i] != theirs[i])) {
			wl_fail(name, "page %lu: frame %#lx in %s, %#lx in %s: not shared",
				i, (unsigned long)mine[i], names[up],
				(unsigned long)theirs[i], names[who]);
			break;
		}
		if (changed && mine[i] && mine[i] == theirs[i]) {
			wl_fail(name, "page %lu was changed, but %s and %s share frame %#lx",
				i, names[up], names[who], (unsigned long)mine[i]);
			break;
		}
		changed ? apart++ : shared++;
	}
	printf("# %s: %s has %lu pages shared with %s, %lu apart\n", a->name,
	       names[who], shared, names[up], apart);
	wl_verdict(name, mark);
}

static void check_all(long pss_before)
{
	uint64_t *mine = malloc(NPAGES * 8), *theirs = malloc(NPAGES * 8);
	long pss_after;
	size_t n;
	int k;

	if (!mine || !theirs)
		wl_die("malloc");
	if (check_region(R))
		wl_fail("contents.R", "%s", sh->msg[R]);
	else
		wl_pass("contents.R");
	wait_for(&sh->done, NPROC - 1);
	for (k = C1; k < NPROC; k++) {
		char name[32];

		snprintf(name, sizeof(name), "contents.%s", names[k]);
		if (sh->msg[k][0])
			wl_fail(name, "%s", sh->msg[k]);
		else
			wl_pass(name);
	}
	for (n = 0; n < NAREAS; n++) {
		for (k = C1; k < NPROC; k++)
			check_frames(&areas[n], R, k, mine, theirs);
		check_frames(&areas[n], C3, G, mine, theirs);
		/* siblings: R's rewritten pages are theirs alone */
		check_frames(&areas[n], C1, C2, mine, theirs);
		check_frames(&areas[n], C1, C3, mine, theirs);
		check_frames(&areas[n], C2, C3, mine, theirs);
	}
	pss_after = tree_pss("Pss_Anon");
	printf("# Pss_Anon of the tree: %ld kB before, %ld kB now (Pss %ld kB)\n",
	       pss_before, pss_after, tree_pss("Pss"));
	/* 4 MiB of slack: C2 reading the pages it dropped, our buffers */
	if (pss_after < 0 || pss_after > pss_before + 4096)
		wl_fail("pss", "%ld kB now, %ld kB before", pss_after,
			pss_before);
	else
		wl_pass("pss");
	free(mine);
	free(theirs);
}

/* the file behind areas[1], then both areas with their pre-fork contents */
static void set_up(const char *dir)
{
	struct area *an = &areas[0], *f = &areas[1];
	char path[4096];
	unsigned long i;
	int fd;

	snprintf(path, sizeof(path), "%s/cow-file", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		wl_die("create %s", path);
	for (i = 0; i < f->npages; i++) {
		char buf[PAGE];

		wl_fill(buf, PAGE, seed(f, 15, i));
		if (pwrite(fd, buf, PAGE, i * PAGE) != (ssize_t)PAGE)
			wl_die("write %s", path);
	}
	f->base = mmap(NULL, f->npages * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE, fd, 0);
	close(fd);
	an->base = mmap(NULL, an->npages * PAGE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (f->base == MAP_FAILED || an->base == MAP_FAILED)
		wl_die("mmap");
	for (i = 0; i < an->npages; i++)
		wl_fill(an->base + i * PAGE, PAGE, seed(an, 0, i));
	for (i = 0; i < f->written; i++)
		wl_fill(f->base + i * PAGE, PAGE, seed(f, 0, i));
}

static const char *dir = "/tmp";

static int root(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	long pss_before;
	sigset_t set, old;
	int k;

	wl_own_session();
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, &old);
	if (sigaction(SIGUSR1, &sa, NULL))
		wl_die("sigaction");
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		wl_die("mmap");
	set_up(dir);
	shx = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shx == MAP_FAILED)
		wl_die("mmap");
	sh->pid[R] = getpid();
	spawn(C1);
	spawn(C2);
	spawn(C3);
	change(R);
	wait_for(&sh->ready, NPROC - 1);
	wl_fill(shx + PAGE, PAGE, 78);
	if (munmap(shx + 3 * PAGE, PAGE))
		wl_die("munmap");
	pss_before = tree_pss("Pss_Anon");
	if (pss_before <= 0)
		wl_die("cannot read the Pss of the tree");
	printf("READY ROOT=%d\n", getpid());
	fflush(stdout);
	while (!usr1)
		sigsuspend(&old);
	atomic_store(&sh->go, 1);
	check_all(pss_before);
	atomic_store(&sh->quit, 1);
	for (k = 0; k < 3; k++)
		if (wait(NULL) < 0)
			wl_fail("wait", "child %d: %s", k, strerror(errno));
	return wl_done();
}

int main(int argc, char **argv)
{
	if (argc > 1)
		dir = argv[1];
	return wl_under_subreaper(root);
}
