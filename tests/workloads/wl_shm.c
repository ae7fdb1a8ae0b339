// SPDX-License-Identifier: MIT
/*
 * wl_shm - a parent and two children sharing MAP_SHARED|MAP_ANONYMOUS
 * memory, and each holding its own copy of private memory inherited
 * through fork, to be checkpointed, killed and restored as a tree.
 *
 * usage: wl_shm [N]
 *
 *	N	atomic increments of the shared counter per child after the
 *		restore, default 200000
 *
 * Like wl_tree, the process the test starts (S) is a child subreaper
 * outside the checkpointed tree: it forks the tree's root P, reaps it and
 * every orphan (after the kill through ctl the children would otherwise
 * be zombies of init for seconds, holding their pids), and exits with P's
 * status.  P (setsid) prints "READY ROOT=<P's pid>".
 *
 * Memory, all set up before READY:
 *  - shm: 4 MiB MAP_SHARED|MAP_ANONYMOUS mapped by P before forking, so
 *    shared by P, K1 and K2: a header (counter, flags, tokens) and three
 *    1 MiB areas; P fills area 0 with a pattern before forking, K1 fills
 *    area 1 and K2 area 2 after forking, and each checks the others' work
 *    before saying it is ready (so the sharing is real before the
 *    checkpoint).  The counter starts at COUNT0.
 *  - pair: 1 MiB MAP_SHARED|MAP_ANONYMOUS created by P after forking K2 and
 *    before forking K1: shared by P and K1 only.  K1 fills it.
 *  - sib: 1 MiB + 1 page MAP_SHARED|MAP_ANONYMOUS that P maps and fills
 *    before forking and unmaps after: shared by K1 and K2 only, a region
 *    the root of the tree no longer has.  Its first page holds tokens.
 *  - priv: 4 MiB private anonymous memory P fills before forking; after
 *    the fork every process overwrites its odd pages with its own pattern,
 *    so even pages are still copy-on-write shared and odd pages differ per
 *    process.
 *
 * After the restore the test sends SIGUSR1 to P, which passes it on to
 * K1 and K2.  Then:
 *  - all check shm's areas, pair (P and K1) and their private memory;
 *  - P writes a token in shm, and in pair, that K1/K2 must see;
 *  - K1 and K2 each add N to the counter with atomic increments, then each
 *    writes its own token and waits (10 s at most) to see the other's:
 *    a write by one child must reach the other;
 *  - K1 writes a token in pair, P must see it;
 *  - K1 and K2 each write a token in sib and wait for the other's;
 *  - P reaps both (exit 0 each), checks counter == COUNT0 + 2N and both
 *    tokens, and that K2 never saw pair's pages change (it has none).
 * Lines go to the log with one write each, named by role ("PASS K1.shm"),
 * P ends with DONE and exits 0 only if everybody passed.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "wl_common.h"

#define PAGE		4096ul
#define SHM_SIZE	(4ul << 20)
#define AREA		(1ul << 20)
#define PAIR_SIZE	(1ul << 20)
#define PRIV_SIZE	(4ul << 20)
#define COUNT0		1000000
#define SEED_AREA	0x9100	/* + area */
#define SEED_PAIR	0x9200
#define SEED_SIB	0x9500
#define SIB_SIZE	(PAGE + (1ul << 20))
#define SEED_PRIV	0x9300
#define SEED_OWN	0x9400	/* + role, odd pages of priv */
#define TOKEN(r)	(0x70c0000000ull + (r))
#define WAIT_SECS	10

enum role { P, K1, K2, S };
static const char *const role_names[] = { "P", "K1", "K2", "S" };

struct hdr {
	atomic_long counter;
	atomic_int ready[3];
	atomic_ullong token[3];		/* written after the restore */
	atomic_ullong pair_token;	/* K1 -> P through pair */
};

static enum role me;
static pid_t kid[3];
static unsigned char *shm, *pair, *priv, *sib;
static struct hdr *hdr;
static long n_incr = 200000;
static int npass, nfail;
static volatile sig_atomic_t got_usr1;

static void line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void line(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(STDOUT_FILENO, buf, n) != n)
		_exit(3);
}

static void check(int ok, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void check(int ok, const char *what, const char *fmt, ...)
{
	char name[64], detail[400];
	va_list ap;

	snprintf(name, sizeof(name), "%s.%s", role_names[me], what);
	if (ok) {
		line("PASS %s", name);
		npass++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (wl_skipped(name)) {
		line("SKIP %s: %s", name, detail);
		return;
	}
	line("FAIL %s: %s", name, detail);
	nfail++;
}

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	char detail[300];
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	line("FAIL setup: %s: %s (errno %d %s)", role_names[me], detail, e,
	     strerror(e));
	_exit(2);
}

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

static void *map(size_t len, int flags)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS,
		       -1, 0);

	if (p == MAP_FAILED)
		die("mmap %zu", len);
	return p;
}

static unsigned char *area(int i)
{
	return shm + (i + 1) * AREA;	/* the first MiB holds the header */
}

/* private memory as this process must see it */
static size_t priv_check(void)
{
	size_t pg, off;

	for (pg = 0; pg < PRIV_SIZE / PAGE; pg++) {
		uint64_t seed = pg & 1 ? SEED_OWN + me : SEED_PRIV;

		off = wl_check(priv + pg * PAGE, PAGE, seed * 0x10000 + pg);
		if (off != (size_t)-1)
			return pg * PAGE + off;
	}
	return (size_t)-1;
}

static void priv_write(uint64_t seed, int odd_only)
{
	size_t pg;

	for (pg = 0; pg < PRIV_SIZE / PAGE; pg++)
		if (!odd_only || (pg & 1))
			wl_fill(priv + pg * PAGE, PAGE, seed * 0x10000 + pg);
}

/* wait (bounded) until *v == want */
static int wait_token(atomic_ullong *v, unsigned long long want)
{
	double end = wl_now(CLOCK_MONOTONIC) + WAIT_SECS;

	while (atomic_load(v) != want) {
		if (wl_now(CLOCK_MONOTONIC) > end)
			return 0;
		usleep(1000);
	}
	return 1;
}

static void wait_usr1(void)
{
	sigset_t during;

	sigprocmask(SIG_BLOCK, NULL, &during);
	sigdelset(&during, SIGUSR1);
	while (!got_usr1)
		sigsuspend(&during);
}

static void check_memory(void)
{
	size_t off;
	int i;

	for (i = 0; i < 3; i++) {
		char what[16];

		snprintf(what, sizeof(what), "shm.area%d", i);
		off = wl_check(area(i), AREA, SEED_AREA + i);
		check(off == (size_t)-1, what,
		      "shared area %d (written by %s) differs at offset %zu",
		      i, role_names[i], off);
	}
	if (me != K2) {
		off = wl_check(pair, PAIR_SIZE, SEED_PAIR);
		check(off == (size_t)-1, "pair",
		      "P+K1 shared mapping differs at offset %zu", off);
	}
	if (me != P) {
		off = wl_check(sib + PAGE, SIB_SIZE - PAGE, SEED_SIB);
		check(off == (size_t)-1, "sib",
		      "K1+K2 shared mapping differs at offset %zu", off);
	}
	off = priv_check();
	check(off == (size_t)-1, "priv",
	      "private copy differs at offset %zu (page %zu, %s)", off,
	      off / PAGE, (off / PAGE) & 1 ? "own page" : "inherited page");
}

static void __attribute__((noreturn)) child(void)
{
	enum role other = me == K1 ? K2 : K1;
	unsigned long long got;
	long i;

	priv_write(SEED_OWN + me, 1);
	wl_fill(area(me), AREA, SEED_AREA + me);
	if (me == K1)
		wl_fill(pair, PAIR_SIZE, SEED_PAIR);
	atomic_store(&hdr->ready[me], 1);
	/* the other child's area, once it says it wrote it */
	while (!atomic_load(&hdr->ready[other]))
		usleep(1000);
	if (wl_check(area(other), AREA, SEED_AREA + other) != (size_t)-1)
		die("area %d not shared before the checkpoint", other);
	atomic_store(&hdr->ready[me], 2);

	wait_usr1();

	check_memory();
	check(wait_token(&hdr->token[P], TOKEN(P)), "token.P",
	      "P's token in shm not seen in %d s: 0x%llx", WAIT_SECS,
	      (unsigned long long)atomic_load(&hdr->token[P]));
	for (i = 0; i < n_incr; i++)
		atomic_fetch_add(&hdr->counter, 1);
	atomic_store(&hdr->token[me], TOKEN(me));
	got = wait_token(&hdr->token[other], TOKEN(other));
	check(got, other == K1 ? "token.K1" : "token.K2",
	      "%s's token in shm not seen in %d s: 0x%llx (want 0x%llx)",
	      role_names[other], WAIT_SECS,
	      (unsigned long long)atomic_load(&hdr->token[other]),
	      TOKEN(other));
	atomic_store((atomic_ullong *)sib + me, TOKEN(me) + 0x100);
	got = wait_token((atomic_ullong *)sib + other, TOKEN(other) + 0x100);
	check(got, other == K1 ? "sib.token.K1" : "sib.token.K2",
	      "%s's token in sib not seen in %d s: 0x%llx (want 0x%llx)",
	      role_names[other], WAIT_SECS,
	      (unsigned long long)atomic_load((atomic_ullong *)sib + other),
	      TOKEN(other) + 0x100);
	if (me == K1) {
		atomic_store(&hdr->pair_token, TOKEN(K1));
		check(atomic_load(&hdr->pair_token) == TOKEN(K1), "pair.write",
		      "own write to pair not read back");
	}
	/* our private pages are ours: nobody else's writes show up */
	check(priv_check() == (size_t)-1, "priv.after",
	      "private copy changed while the others ran");
	if (!nfail)
		line("PASS %s.all", role_names[me]);
	_exit(nfail ? 1 : 0);
}

static pid_t spawn(enum role r)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0) {
		me = r;
		npass = nfail = 0;
		child();
	}
	kid[r] = pid;
	return pid;
}

static void __attribute__((noreturn)) root(void)
{
	int i, st;
	long want;
	pid_t r;

	if (setsid() < 0)
		die("setsid");
	shm = map(SHM_SIZE, MAP_SHARED);
	hdr = (struct hdr *)shm;
	atomic_store(&hdr->counter, COUNT0);
	wl_fill(area(P), AREA, SEED_AREA + P);
	priv = map(PRIV_SIZE, MAP_PRIVATE);
	priv_write(SEED_PRIV, 0);
	sib = map(SIB_SIZE, MAP_SHARED);
	wl_fill(sib + PAGE, SIB_SIZE - PAGE, SEED_SIB);

	spawn(K2);
	pair = map(PAIR_SIZE, MAP_SHARED);
	spawn(K1);
	if (munmap(sib, SIB_SIZE))
		die("munmap sib");
	sib = NULL;
	priv_write(SEED_OWN + P, 1);
	while (atomic_load(&hdr->ready[K1]) != 2 || atomic_load(&hdr->ready[K2]) != 2)
		usleep(1000);
	if (wl_check(pair, PAIR_SIZE, SEED_PAIR) != (size_t)-1)
		die("pair not shared with K1 before the checkpoint");
	line("READY ROOT=%d", getpid());

	wait_usr1();

	atomic_store(&hdr->token[P], TOKEN(P));
	for (i = K1; i <= K2; i++)
		if (kill(kid[i], SIGUSR1))
			check(0, "propagate", "kill(%d): %s", kid[i], strerror(errno));
	check_memory();
	check(wait_token(&hdr->pair_token, TOKEN(K1)), "pair.token.K1",
	      "K1's token in pair not seen in %d s: 0x%llx", WAIT_SECS,
	      (unsigned long long)atomic_load(&hdr->pair_token));
	for (i = K1; i <= K2; i++) {
		char what[16];

		snprintf(what, sizeof(what), "child.%s", role_names[i]);
		r = waitpid(kid[i], &st, 0);
		check(r == kid[i] && WIFEXITED(st) && WEXITSTATUS(st) == 0, what,
		      "waitpid(%d) = %d, status 0x%x, want exit 0", kid[i], r,
		      r > 0 ? st : 0);
	}
	want = COUNT0 + 2 * n_incr;
	check(atomic_load(&hdr->counter) == want, "counter",
	      "shared counter is %ld, want %ld (%ld + 2 x %ld)",
	      (long)atomic_load(&hdr->counter), want, (long)COUNT0, n_incr);
	check(atomic_load(&hdr->token[K1]) == TOKEN(K1) &&
	      atomic_load(&hdr->token[K2]) == TOKEN(K2), "tokens",
	      "children's tokens 0x%llx 0x%llx",
	      (unsigned long long)atomic_load(&hdr->token[K1]),
	      (unsigned long long)atomic_load(&hdr->token[K2]));
	check(priv_check() == (size_t)-1, "priv.after",
	      "private copy changed while the children ran");
	if (!nfail)
		line("PASS P.all");
	line("DONE pass=%d fail=%d", npass, nfail);
	_exit(nfail ? 1 : 0);
}

/* S: the subreaper outside the tree (see wl_tree.c) */
int main(int argc, char **argv)
{
	struct sigaction sa;
	sigset_t set;
	int fd, st, root_st = -1;
	pid_t r, rootpid;

	me = S;
	if (argc > 1)
		n_incr = atol(argv[1]);
	fd = open("/proc/self/fd/1", O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
		die("reopening stdout with O_APPEND");
	close(fd);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1))
		die("PR_SET_CHILD_SUBREAPER");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL))
		die("sigaction");
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		die("sigprocmask");

	rootpid = fork();
	if (rootpid < 0)
		die("fork");
	if (rootpid == 0) {
		me = P;
		root();
	}
	for (;;) {
		r = waitpid(-1, &st, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (r == rootpid)
			root_st = st;
	}
	if (root_st == -1)
		return 98;
	if (WIFEXITED(root_st))
		return WEXITSTATUS(root_st);
	return 128 + WTERMSIG(root_st);
}
