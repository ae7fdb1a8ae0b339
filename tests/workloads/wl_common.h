/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the self-verifying workloads.
 *
 * Every workload builds some state, announces READY on stdout, waits, and
 * then checks that state.  The checks must compare against values that do
 * not live in the (checkpointed) data of the process itself, or a restore
 * that zeroes or scrambles memory would compare garbage with garbage.  So
 * buffer contents are generated from constant seeds with a counter-based
 * generator: the expected bytes are recomputed from code, not read back.
 *
 * Output protocol, one line each:
 *	READY			setup finished, the test may freeze us now
 *	PASS name		a piece of state survived
 *	FAIL name: detail	it did not, and how it differs
 *	SKIP name: detail	not checked (unsupported here, or WL_SKIP)
 *	DONE pass=N fail=N	last line; exit status 0 iff fail=0
 *
 * WL_SKIP=a,b,c. (environment) turns failures of the named checks into
 * SKIP lines; an entry ending in '.' matches every check with that prefix.
 * It exists so a known gap does not hide regressions in everything else.
 */
#ifndef WL_COMMON_H
#define WL_COMMON_H

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

static int wl_npass, wl_nfail;
static int wl_nbad;	/* failures including skipped ones, for wl_verdict */

/* splitmix64 finaliser: a good 64-bit mix of a counter */
static inline uint64_t wl_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/*
 * Word i of a pattern depends on the seed and on i, so a page that lands
 * at the wrong offset or in the wrong region is caught, not just a page
 * that is lost.  len must be a multiple of 8.
 */
static inline void wl_fill(void *buf, size_t len, uint64_t seed)
{
	uint64_t *w = buf;
	size_t i;

	for (i = 0; i < len / 8; i++)
		w[i] = wl_mix(seed * 0x100000001b3ull + i);
}

/* Offset of the first differing byte, or (size_t)-1 if all match. */
static inline size_t wl_check(const void *buf, size_t len, uint64_t seed)
{
	const uint64_t *w = buf;
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (w[i] != wl_mix(seed * 0x100000001b3ull + i))
			return i * 8;
	return (size_t)-1;
}

/* FNV-1a, for summaries printed next to a mismatch */
static inline uint64_t wl_fnv(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint64_t h = 0xcbf29ce484222325ull;

	while (len--)
		h = (h ^ *p++) * 0x100000001b3ull;
	return h;
}

static inline int wl_skipped(const char *name)
{
	const char *list = getenv("WL_SKIP");
	size_t nlen = strlen(name);

	while (list && *list) {
		size_t len = strcspn(list, ",");

		if (len && list[len - 1] == '.' && !strncmp(name, list, len))
			return 1;
		if (len == nlen && !strncmp(name, list, len))
			return 1;
		list += len;
		if (*list == ',')
			list++;
	}
	return 0;
}

/*
 * State a freeze refuses is set up only when WL_ZDTM_SET (a comma list)
 * names it, so the same workload checks what is restored and what is
 * refused.
 */
static inline int wl_zdtm_want(const char *what)
{
	const char *l = getenv("WL_ZDTM_SET");
	size_t n = strlen(what);

	for (; l && *l; l += strcspn(l, ","), l += *l == ',')
		if (!strncmp(l, what, n) && (l[n] == ',' || !l[n]))
			return 1;
	return 0;
}

static inline void wl_pass(const char *name)
{
	printf("PASS %s\n", name);
	wl_npass++;
}

static inline void __attribute__((format(printf, 2, 3)))
wl_fail(const char *name, const char *fmt, ...)
{
	int skip = wl_skipped(name);
	va_list ap;

	printf("%s %s: ", skip ? "SKIP" : "FAIL", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	wl_nbad++;
	if (!skip)
		wl_nfail++;
}

static inline void __attribute__((format(printf, 2, 3)))
wl_skip(const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("SKIP %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/*
 * A check that may print several FAIL lines takes a mark first and ends
 * with one wl_verdict(), which says PASS only if nothing failed since.
 */
static inline int wl_mark(void)
{
	return wl_nbad;
}

static inline void wl_verdict(const char *name, int mark)
{
	if (wl_nbad == mark)
		wl_pass(name);
}

static inline int wl_done(void)
{
	printf("DONE pass=%d fail=%d\n", wl_npass, wl_nfail);
	fflush(stdout);
	return wl_nfail ? 1 : 0;
}

/* Setup failures are not verdicts about checkpointing: say so and stop. */
static inline void __attribute__((noreturn, format(printf, 1, 2)))
wl_die(const char *fmt, ...)
{
	va_list ap;

	printf("FAIL setup: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" (errno %d %s)\n", errno, strerror(errno));
	fflush(stdout);
	exit(2);
}

/*
 * READY goes out with a single write(2) so it is complete the moment the
 * test can see it, whatever stdio buffering is in effect.
 */
static inline void wl_ready(void)
{
	fflush(stdout);
	if (write(STDOUT_FILENO, "READY\n", 6) != 6)
		wl_die("write READY");
}

static inline double wl_now(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Restored processes are session and group leaders of their own (see the
 * crfs contract), and the test may or may not have used setsid(1) already.
 */
static inline void wl_own_session(void)
{
	if (getsid(0) != getpid() && setsid() < 0)
		wl_die("setsid");
}

/*
 * A tree is killed through ctl before its restore; a child subreaper
 * above its root (the process started) reaps the root and every orphan at
 * once, so their pids are free again.  Runs root() in a child and exits
 * with its status.
 */
static inline int wl_under_subreaper(int (*root)(void))
{
	pid_t r, w;
	int st = 0, x;

	prctl(PR_SET_CHILD_SUBREAPER, 1);
	r = fork();
	if (r < 0)
		wl_die("fork");
	if (!r)
		exit(root());
	while ((w = waitpid(-1, &x, 0)) > 0)
		if (w == r)
			st = x;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

/*
 * NSpid of the calling thread (/proc/thread-self/status): its tid at the
 * level of /proc's pid namespace, then one per level below; the count, or
 * -1.
 */
static inline int wl_nspid(pid_t *out, int max)
{
	char line[512], *p, *end;
	FILE *f = fopen("/proc/thread-self/status", "r");
	int n = 0;
	long v;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "NSpid:", 6))
			break;
	fclose(f);
	if (strncmp(line, "NSpid:", 6))
		return -1;
	for (p = line + 6; n < max; p = end) {
		v = strtol(p, &end, 10);
		if (end == p)
			break;
		out[n++] = (pid_t)v;
	}
	return n;
}

#endif /* WL_COMMON_H */
