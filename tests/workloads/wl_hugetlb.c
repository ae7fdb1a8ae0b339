// SPDX-License-Identifier: MIT
/*
 * wl_hugetlb [ROUNDS]: memory of 2 MiB huge pages (hugetlb), of each kind:
 *   A  private anonymous MAP_HUGETLB, 3 huge pages: the first written, the
 *      second never touched (it must stay so: smaps counts one page), the
 *      third written and then made read-only (mprotect splits it off);
 *      a child writes its own copy of the first (copy on write);
 *   B  shared anonymous MAP_HUGETLB, 2 pages: we write the first, the
 *      child the second, and each then writes a word the other must read
 *      (its last 4 KiB is that mailbox, outside the checked bytes);
 *   C  a hugetlb memfd "wlhuge" of 2 pages, mapped shared (written) and
 *      privately (its second page written there: a copy of our own),
 *      its descriptor kept: size, seals, pread of it;
 *   D  a SysV segment of 40960 bytes with SHM_HUGETLB, attached and
 *      removed (IPC_RMID: it goes with its last attach);
 *   E  private MAP_HUGETLB | MAP_NORESERVE, 2 pages, the first written.
 * Every mapping's KernelPageSize must be 2048 kB, its name as the kernel
 * gave it and its device (maps) the one it had (zdtm's get_mapping_dev).  Prints READY; each SIGUSR1 checks all of it here and
 * in the child (which reports through a pipe), then prints ROUND N.
 *
 * wl_hugetlb eat: maps and touches every free huge page, prints READY and
 * waits (the test's pool exhausted for a moment).
 * wl_hugetlb fdonly: holds a hugetlb memfd no mapping holds (refused).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>

#include "wl_common.h"

#define HUGE	(2UL << 20)
#define D_SIZE	40960
#define MAILBOX	(HUGE - 4096)	/* in B: the words the two write */

static volatile sig_atomic_t go;
static char *a, *b, *cs, *cp, *d, *e;
static int cfd, shmid, to_parent[2];
/* maps' device of each at setup: the kernel's hugetlbfs of that size */
static char dev_a[16], dev_b[16], dev_c[16], dev_d[16];

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

/* the smaps field of the mapping that starts at addr, in kB, or -1 */
static long smaps_kb(void *addr, const char *field)
{
	char line[512], want[32];
	FILE *f = fopen("/proc/self/smaps", "r");
	bool in = false;
	long v = -1;

	snprintf(want, sizeof(want), "%lx-", (unsigned long)addr);
	while (f && fgets(line, sizeof(line), f)) {
		/* a mapping's first line starts with its address, in
		 * lowercase hex; its fields with a capital */
		if ((line[0] >= '0' && line[0] <= '9') ||
		    (line[0] >= 'a' && line[0] <= 'f'))
			in = !strncmp(line, want, strlen(want));
		else if (in && !strncmp(line, field, strlen(field)) &&
			 line[strlen(field)] == ':')
			v = atol(line + strlen(field) + 1);
	}
	if (f)
		fclose(f);
	return v;
}

/* the device field of the maps line of the mapping at addr, into dev */
static void map_dev(void *addr, char *dev, size_t len)
{
	char line[512], want[32], d[16];
	FILE *f = fopen("/proc/self/maps", "r");

	snprintf(want, sizeof(want), "%lx-", (unsigned long)addr);
	snprintf(dev, len, "?");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, want, strlen(want)) &&
		    sscanf(line, "%*s %*s %*s %15s", d) == 1)
			snprintf(dev, len, "%s", d);
	if (f)
		fclose(f);
}

/* the maps line of the mapping at addr has perms, dev and (if given) name */
static void check_map(const char *name, void *addr, const char *perms,
		      const char *dev, const char *path, char *err, size_t len)
{
	char line[512], want[32], now[16];
	FILE *f = fopen("/proc/self/maps", "r");
	bool found = false;

	snprintf(want, sizeof(want), "%lx-", (unsigned long)addr);
	map_dev(addr, now, sizeof(now));
	if (strcmp(now, dev))
		snprintf(err, len, "%s: device %s, not %s", name, now, dev);
	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, want, strlen(want)))
			continue;
		found = true;
		line[strcspn(line, "\n")] = '\0';
		if (!strstr(line, perms) || (path && !strstr(line, path)))
			snprintf(err, len, "%s: maps '%s'", name, line);
	}
	if (f)
		fclose(f);
	if (!found)
		snprintf(err, len, "%s: nothing mapped at %p", name, addr);
	else if (smaps_kb(addr, "KernelPageSize") != 2048)
		snprintf(err, len, "%s: KernelPageSize %ld kB", name,
			 smaps_kb(addr, "KernelPageSize"));
}

static void check_bytes(const char *name, const void *p, size_t n,
			uint64_t seed, char *err, size_t len)
{
	size_t off = wl_check(p, n, seed);

	if (off != (size_t)-1)
		snprintf(err, len, "%s: contents differ at %zu", name, off);
}

/*
 * C's mappings and descriptor are one object: a word written through the
 * shared mapping is read through the descriptor and through the private
 * mapping where it has no copy of its own (then put back)
 */
static void check_one_object(char *err, size_t len)
{
	volatile uint64_t *w = (volatile uint64_t *)cs;
	uint64_t old = w[1], got = 0, mark = 0x7e57c0de00000000ull | getpid();

	w[1] = mark;
	if (pread(cfd, &got, 8, 8) != 8 || got != mark ||
	    ((volatile uint64_t *)cp)[1] != mark)
		snprintf(err, len, "C: a write to the shared mapping is not seen by the descriptor (%#lx) or the private mapping (%#lx)",
			 (unsigned long)got,
			 (unsigned long)((volatile uint64_t *)cp)[1]);
	w[1] = old;
}

/* what parent and child both see: all but the private copies */
static void check_common(char *err, size_t len)
{
	char buf[64];
	struct stat st;

	check_map("A", a, "rw-p", dev_a, "/anon_hugepage (deleted)", err, len);
	check_map("A+2", a + 2 * HUGE, "r--p", dev_a, NULL, err, len);
	check_bytes("A+2", a + 2 * HUGE, HUGE, 3, err, len);
	/* the untouched page stays untouched: one page of two counted */
	if (smaps_kb(a, "Private_Hugetlb") + smaps_kb(a, "Shared_Hugetlb") !=
	    2048)
		snprintf(err, len, "A: %ld+%ld kB of huge pages, not 2048",
			 smaps_kb(a, "Private_Hugetlb"),
			 smaps_kb(a, "Shared_Hugetlb"));
	check_map("B", b, "rw-s", dev_b, "/anon_hugepage (deleted)", err, len);
	check_bytes("B", b, MAILBOX, 4, err, len);
	check_bytes("B+1", b + HUGE, HUGE, 8, err, len);
	check_map("C.shared", cs, "rw-s", dev_c, "/memfd:wlhuge (deleted)", err, len);
	check_map("C.private", cp, "rw-p", dev_c, "/memfd:wlhuge (deleted)", err, len);
	check_bytes("C.shared", cs, 2 * HUGE, 5, err, len);
	check_bytes("C.private", cp, HUGE, 5, err, len);
	check_bytes("C.private+1", cp + HUGE, HUGE, 6, err, len);
	/* cs was checked: what the descriptor reads is those bytes */
	if (pread(cfd, buf, sizeof(buf), HUGE) != sizeof(buf) ||
	    memcmp(buf, cs + HUGE, sizeof(buf)))
		snprintf(err, len, "C.fd: pread differs from the mapping");
	if (fstat(cfd, &st) || st.st_size != 2 * HUGE ||
	    fcntl(cfd, F_GET_SEALS) != F_SEAL_SEAL)
		snprintf(err, len, "C.fd: size %ld seals %d", (long)st.st_size,
			 fcntl(cfd, F_GET_SEALS));
	check_one_object(err, len);
	check_map("D", d, "rw-s", dev_d, "/SYSV00000000", err, len);
	check_map("E", e, "rw-p", dev_a, "/anon_hugepage (deleted)", err, len);
	check_bytes("E", e, HUGE, 9, err, len);
	check_bytes("D", d, D_SIZE, 7, err, len);
}

static void check_seg(char *err, size_t len)
{
	struct shmid_ds ds;

	if (shmctl(shmid, IPC_STAT, &ds) || ds.shm_segsz != D_SIZE ||
	    !(ds.shm_perm.mode & SHM_DEST) || ds.shm_nattch != 2)
		snprintf(err, len, "D: segment %d: size %zu mode %o nattch %lu",
			 shmid, ds.shm_segsz, ds.shm_perm.mode, ds.shm_nattch);
}

static volatile uint64_t *mailbox(void)
{
	return (volatile uint64_t *)(b + MAILBOX);
}

/* the child: its own copy of A's first page; B's second page is its */
static void child(void)
{
	sigset_t none;
	char err[256];
	int round = 0;

	/* gone with us: its huge pages must not outlive a failed test */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() == 1)
		_exit(2);
	wl_fill(b + HUGE, HUGE, 8);
	wl_fill(a, HUGE, 11);
	sigemptyset(&none);
	if (write(to_parent[1], "R", 1) != 1)
		_exit(2);
	for (;;) {
		while (!go)
			sigsuspend(&none);
		go = 0;
		round++;
		err[0] = '\0';
		check_common(err, sizeof(err));
		check_bytes("A(child)", a, HUGE, 11, err, sizeof(err));
		if (mailbox()[0] != 0x5000u + round)
			snprintf(err, sizeof(err), "B: the parent's word is %#lx, not %#x",
				 (unsigned long)mailbox()[0], 0x5000 + round);
		mailbox()[1] = 0x6000 + round;
		if (!err[0])
			strcpy(err, "ok");
		if (write(to_parent[1], err, strlen(err) + 1) < 0)
			_exit(2);
	}
}

static void setup(void)
{
	int prot = PROT_READ | PROT_WRITE;

	a = mmap(NULL, 3 * HUGE, prot, MAP_PRIVATE | MAP_ANONYMOUS |
		 MAP_HUGETLB, -1, 0);
	b = mmap(NULL, 2 * HUGE, prot, MAP_SHARED | MAP_ANONYMOUS |
		 MAP_HUGETLB, -1, 0);
	if (a == MAP_FAILED || b == MAP_FAILED)
		wl_die("mmap MAP_HUGETLB");
	e = mmap(NULL, 2 * HUGE, prot, MAP_PRIVATE | MAP_ANONYMOUS |
		 MAP_HUGETLB | MAP_NORESERVE, -1, 0);
	if (e == MAP_FAILED)
		wl_die("mmap MAP_HUGETLB | MAP_NORESERVE");
	wl_fill(e, HUGE, 9);
	wl_fill(a, HUGE, 1);
	wl_fill(a + 2 * HUGE, HUGE, 3);
	if (mprotect(a + 2 * HUGE, HUGE, PROT_READ))
		wl_die("mprotect");
	wl_fill(b, MAILBOX, 4);
	cfd = memfd_create("wlhuge", MFD_HUGETLB);
	if (cfd < 0 || ftruncate(cfd, 2 * HUGE))
		wl_die("memfd_create(MFD_HUGETLB)");
	cs = mmap(NULL, 2 * HUGE, prot, MAP_SHARED, cfd, 0);
	cp = mmap(NULL, 2 * HUGE, prot, MAP_PRIVATE, cfd, 0);
	if (cs == MAP_FAILED || cp == MAP_FAILED)
		wl_die("mmap the memfd");
	wl_fill(cs, 2 * HUGE, 5);
	wl_fill(cp + HUGE, HUGE, 6);
	shmid = shmget(IPC_PRIVATE, D_SIZE, IPC_CREAT | 0600 | SHM_HUGETLB);
	if (shmid < 0)
		wl_die("shmget(SHM_HUGETLB)");
	d = shmat(shmid, NULL, 0);
	shmctl(shmid, IPC_RMID, NULL);
	if (d == (void *)-1)
		wl_die("shmat");
	wl_fill(d, D_SIZE, 7);
	map_dev(a, dev_a, sizeof(dev_a));
	map_dev(b, dev_b, sizeof(dev_b));
	map_dev(cs, dev_c, sizeof(dev_c));
	map_dev(d, dev_d, sizeof(dev_d));
}

static void round_check(pid_t kid, int round)
{
	char err[256], got[256];
	size_t n = 0;
	int mark = wl_mark();

	err[0] = '\0';
	check_common(err, sizeof(err));
	check_seg(err, sizeof(err));
	check_bytes("A", a, HUGE, 1, err, sizeof(err));
	if (err[0])
		wl_fail("hugetlb", "%s", err);
	wl_verdict("hugetlb", mark);
	mark = wl_mark();
	mailbox()[0] = 0x5000 + round;
	kill(kid, SIGUSR1);
	do {
		if (read(to_parent[0], got + n, 1) != 1)
			wl_die("read the child's verdict");
	} while (got[n++] && n < sizeof(got) - 1);
	got[n] = '\0';
	if (strcmp(got, "ok"))
		wl_fail("hugetlb.child", "%s", got);
	else if (mailbox()[1] != 0x6000u + round)
		wl_fail("hugetlb.child", "B: the child's word is %#lx, not %#x",
			(unsigned long)mailbox()[1], 0x6000 + round);
	wl_verdict("hugetlb.child", mark);
}

static int __attribute__((noreturn)) eat(void)
{
	char *p;

	for (;;) {
		p = mmap(NULL, HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE |
			 MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		if (p == MAP_FAILED)
			break;
		*p = 1;
	}
	wl_ready();
	for (;;)
		pause();
}

static int __attribute__((noreturn)) fdonly(void)
{
	int fd = memfd_create("wlhugefd", MFD_HUGETLB);

	if (fd < 0 || ftruncate(fd, HUGE))
		wl_die("memfd_create(MFD_HUGETLB)");
	wl_ready();
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 1, r;
	sigset_t none;
	char c;
	pid_t kid;

	if (argc > 1 && !strcmp(argv[1], "eat"))
		return eat();
	if (argc > 1 && !strcmp(argv[1], "fdonly"))
		return fdonly();
	wl_own_session();
	signal(SIGUSR1, on_usr1);
	setup();
	if (pipe(to_parent))
		wl_die("pipe");
	kid = fork();
	if (kid < 0)
		wl_die("fork");
	if (!kid)
		child();
	if (read(to_parent[0], &c, 1) != 1)
		wl_die("the child did not start");
	wl_ready();
	sigemptyset(&none);
	for (r = 1; r <= rounds; r++) {
		while (!go)
			sigsuspend(&none);
		go = 0;
		round_check(kid, r);
		printf("ROUND %d\n", r);
		fflush(stdout);
	}
	kill(kid, SIGKILL);
	waitpid(kid, NULL, 0);
	return wl_done();
}
