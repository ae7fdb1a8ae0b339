// SPDX-License-Identifier: MIT
/*
 * wl_cow - private anonymous memory shared copy-on-write between a parent,
 * its forked children and a grandchild, partly rewritten by each.
 *
 * The process the test starts is a child subreaper outside the tree
 * (wl_under_subreaper); the tree's root R prints "READY ROOT=<pid>".
 *
 * R fills a 32 MiB private anonymous region, page i with pattern (0, i),
 * then forks C1, C2 and C3; C3 forks G.  After the forks:
 *	R	rewrites pages [4096, 5120) with its own pattern
 *	C1	rewrites pages [1024, 2048)
 *	C2	drops pages [2048, 2560) with MADV_DONTNEED (they read zero)
 *		and rewrites pages [3072, 3200)
 *	C3	writes nothing
 *	G	rewrites pages [5120, 5200) (its parent C3 never did)
 * Before READY, R sums the anonymous Pss of the tree (smaps_rollup).
 *
 * On SIGUSR1 (R tells the others through a MAP_SHARED page), each process
 * checks every byte of the region against the patterns it must hold.  R
 * then reads the page frames of the region from /proc/PID/pagemap of each
 * process (root only: others read PFN 0) and checks that a page neither
 * side wrote since the fork is the same frame in R and in the other
 * process, and that a written or dropped one is not; and that the tree's
 * Pss is at most 1.25 times (+ 4 MiB) what it was before.  Without
 * sharing, it would be about 5 x 32 MiB.
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
#define REGION		(NPAGES * PAGE)

enum { R, C1, C2, C3, G, NPROC };
static const char *const names[NPROC] = { "R", "C1", "C2", "C3", "G" };

/* what each process did to the region after the fork */
static const struct span {
	unsigned long from, to;
	bool drop;		/* MADV_DONTNEED, else rewritten */
} spans[NPROC][2] = {
	[R] = { { 4096, 5120, false } },
	[C1] = { { 1024, 2048, false } },
	[C2] = { { 2048, 2560, true }, { 3072, 3200, false } },
	[G] = { { 5120, 5200, false } },
};

struct shared {
	atomic_int ready, go, done, quit;
	pid_t pid[NPROC];
	char msg[NPROC][160];
};

static struct shared *sh;
static char *region;
static volatile sig_atomic_t usr1;

static void on_usr1(int sig)
{
	(void)sig;
	usr1 = 1;
}

static uint64_t seed(int who, unsigned long page)
{
	return (uint64_t)who << 32 | page;
}

/* the span of process who holding page i, or NULL: the pre-fork pattern */
static const struct span *span_of(int who, unsigned long i)
{
	int k;

	for (k = 0; k < 2; k++)
		if (spans[who][k].to && i >= spans[who][k].from &&
		    i < spans[who][k].to)
			return &spans[who][k];
	return NULL;
}

static void change(int who)
{
	unsigned long i;
	int k;

	for (k = 0; k < 2 && spans[who][k].to; k++) {
		const struct span *s = &spans[who][k];

		if (s->drop) {
			if (madvise(region + s->from * PAGE,
				    (s->to - s->from) * PAGE, MADV_DONTNEED))
				wl_die("madvise");
			continue;
		}
		for (i = s->from; i < s->to; i++)
			wl_fill(region + i * PAGE, PAGE, seed(who + 1, i));
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
static int check_region(int who)
{
	const struct span *s;
	unsigned long i;
	size_t off;

	for (i = 0; i < NPAGES; i++) {
		const char *p = region + i * PAGE;

		s = span_of(who, i);
		if (s && s->drop) {
			if (zero_page(p))
				continue;
			snprintf(sh->msg[who], sizeof(sh->msg[who]),
				 "dropped page %lu is not zero", i);
			return 1;
		}
		off = wl_check(p, PAGE, s ? seed(who + 1, i) : seed(0, i));
		if (off == (size_t)-1)
			continue;
		snprintf(sh->msg[who], sizeof(sh->msg[who]),
			 "page %lu (%s) differs at byte %zu", i,
			 s ? "rewritten" : "pre-fork", off);
		return 1;
	}
	return 0;
}

static void wait_for(atomic_int *v, int n)
{
	int i;

	for (i = 0; atomic_load(v) < n; i++) {
		if (i == 20000)
			wl_die("waited 20 s for the other processes");
		usleep(1000);
	}
}

/* a process other than R: set up, then check when told, then wait */
static void other(int who)
{
	change(who);
	atomic_fetch_add(&sh->ready, 1);
	wait_for(&sh->go, 1);
	check_region(who);
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

/* the frames of the region in pid; 0 for a page not present */
static int frames(pid_t pid, uint64_t *pfn)
{
	char path[64];
	unsigned long i;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = pread(fd, pfn, NPAGES * 8, (uintptr_t)region / PAGE * 8);
	close(fd);
	if (n != (ssize_t)(NPAGES * 8))
		return -1;
	for (i = 0; i < NPAGES; i++)
		pfn[i] = pfn[i] >> 63 ? pfn[i] & ((1ull << 55) - 1) : 0;
	return 0;
}

/* R's frames against who's: shared where neither changed the page */
static void check_frames(int who, const uint64_t *mine, uint64_t *theirs)
{
	unsigned long i, shared = 0, apart = 0;
	char name[32];
	int mark = wl_mark();
	bool changed;

	snprintf(name, sizeof(name), "frames.%s", names[who]);
	if (frames(sh->pid[who], theirs)) {
		wl_fail(name, "cannot read /proc/%d/pagemap", sh->pid[who]);
		return;
	}
	for (i = 0; i < NPAGES; i++) {
		/* G's pages came through C3, which changed none */
		changed = span_of(R, i) || span_of(who, i);
		if (!changed && (!mine[i] || mine[i] != theirs[i])) {
			wl_fail(name, "page %lu: frame %#lx in R, %#lx in %s: not shared",
				i, (unsigned long)mine[i],
				(unsigned long)theirs[i], names[who]);
			break;
		}
		if (changed && mine[i] && mine[i] == theirs[i]) {
			wl_fail(name, "page %lu was changed, but R and %s share frame %#lx",
				i, names[who], (unsigned long)mine[i]);
			break;
		}
		changed ? apart++ : shared++;
	}
	printf("# %s: %lu pages shared with R, %lu apart\n", names[who], shared,
	       apart);
	wl_verdict(name, mark);
}

static void check_all(long pss_before)
{
	uint64_t *mine = malloc(NPAGES * 8), *theirs = malloc(NPAGES * 8);
	long pss_after;
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
	if (frames(getpid(), mine))
		wl_fail("frames", "cannot read /proc/self/pagemap");
	else
		for (k = C1; k < NPROC; k++)
			check_frames(k, mine, theirs);
	pss_after = tree_pss("Pss_Anon");
	printf("# Pss_Anon of the tree: %ld kB before, %ld kB now (Pss %ld kB)\n",
	       pss_before, pss_after, tree_pss("Pss"));
	if (pss_after < 0 || pss_after > pss_before * 5 / 4 + 4096)
		wl_fail("pss", "%ld kB now, %ld kB before", pss_after,
			pss_before);
	else
		wl_pass("pss");
	free(mine);
	free(theirs);
}

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
	region = mmap(NULL, REGION, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED || region == MAP_FAILED)
		wl_die("mmap");
	for (k = 0; k < (int)NPAGES; k++)
		wl_fill(region + k * PAGE, PAGE, seed(0, k));
	sh->pid[R] = getpid();
	spawn(C1);
	spawn(C2);
	spawn(C3);
	change(R);
	wait_for(&sh->ready, NPROC - 1);
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

int main(void)
{
	return wl_under_subreaper(root);
}
