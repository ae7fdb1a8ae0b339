// SPDX-License-Identifier: MIT
/*
 * wl_sysvshm [ROUNDS]: SysV shared memory of the host's IPC namespace used
 * only by us.  Segment A (a key of its own, owner changed, a size that is
 * not a whole number of pages) attached read-write at an address we chose;
 * segment B (private key) attached read-only and already removed
 * (IPC_RMID: it goes away with its last attach).  A child inherits both
 * attaches (every count is 2) and waits to be ended.  Prints "IDS shm A B"
 * and READY; each SIGUSR1 checks both: ids, keys, modes, sizes, attach
 * counts, contents, addresses and protections in maps, and that A's
 * attach is the segment itself (a second attach sees what we write).
 * A's last detacher (shm_lpid) is a child that attached, detached and
 * exited: no longer a user, it must not make A look shared with a
 * process outside the tree (as every PostgreSQL backend that exits does).
 * wl_sysvshm tamper A: overwrites what the killed tree left of A.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdbool.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>

#include "wl_common.h"

#define A_SIZE	(3 * 4096 + 104)
#define B_SIZE	4096
#define OWNER	1234

static volatile sig_atomic_t go;
static void *a_at, *b_at;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void setup(int *a, int *b, key_t key)
{
	struct shmid_ds ds;
	void *p;

	*a = shmget(key, A_SIZE, IPC_CREAT | IPC_EXCL | 0640);
	*b = shmget(IPC_PRIVATE, B_SIZE, IPC_CREAT | 0600);
	if (*a < 0 || *b < 0)
		wl_die("shmget");
	if (shmctl(*a, IPC_STAT, &ds))
		wl_die("IPC_STAT");
	ds.shm_perm.uid = OWNER;
	if (shmctl(*a, IPC_SET, &ds))
		wl_die("IPC_SET");
	/* a free address of our choosing */
	p = mmap(NULL, 1 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		wl_die("mmap");
	munmap(p, 1 << 20);
	a_at = shmat(*a, (char *)p + (256 << 10), 0);
	if (a_at != (char *)p + (256 << 10))
		wl_die("shmat A at %p", (char *)p + (256 << 10));
	wl_fill(a_at, A_SIZE, 71);
	p = shmat(*b, NULL, 0);
	if (p == (void *)-1)
		wl_die("shmat B");
	wl_fill(p, B_SIZE, 72);
	shmdt(p);
	b_at = shmat(*b, NULL, SHM_RDONLY);
	if (b_at == (void *)-1)
		wl_die("shmat B read-only");
	if (shmctl(*b, IPC_RMID, NULL))
		wl_die("IPC_RMID B");
}

/* the maps line at addr: "/SYSV<key>" and its protection */
static void check_maps(const char *name, void *addr, const char *perms,
		       key_t key)
{
	char line[512], want[64];
	FILE *f = fopen("/proc/self/maps", "r");
	bool found = false;

	snprintf(want, sizeof(want), "%lx-", (unsigned long)addr);
	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, want, strlen(want)))
			continue;
		found = true;
		snprintf(want, sizeof(want), "/SYSV%08x", key);
		if (!strstr(line, perms) || !strstr(line, want))
			wl_fail(name, "maps: %s", line);
	}
	if (f)
		fclose(f);
	if (!found)
		wl_fail(name, "nothing mapped at %p", addr);
}

static void check_seg(const char *name, int id, key_t key, unsigned int mode,
		      size_t size, uid_t uid)
{
	struct shmid_ds ds;

	if (shmctl(id, IPC_STAT, &ds)) {
		wl_fail(name, "IPC_STAT %d: %s", id, strerror(errno));
		return;
	}
	if (ds.shm_perm.__key != key || (ds.shm_perm.mode & 01777) != mode ||
	    ds.shm_segsz != size || ds.shm_perm.uid != uid ||
	    ds.shm_nattch != 2)
		wl_fail(name, "key %x mode %o size %zu uid %u nattch %lu",
			ds.shm_perm.__key, ds.shm_perm.mode, ds.shm_segsz,
			ds.shm_perm.uid, ds.shm_nattch);
}

/* what we write through our attach, a second attach reads */
static void check_shared(int a)
{
	volatile uint64_t *w = a_at;
	uint64_t *other = shmat(a, NULL, SHM_RDONLY), old = w[5];

	if (other == (void *)-1) {
		wl_fail("shm.a.shared", "shmat: %s", strerror(errno));
		return;
	}
	w[5] = 0x1234567887654321ull;
	if (other[5] != w[5])
		wl_fail("shm.a.shared", "a second attach does not see our write");
	else
		wl_pass("shm.a.shared");
	w[5] = old;
	shmdt(other);
}

static void check(int a, int b, key_t key)
{
	int mark = wl_mark();
	size_t off;

	check_seg("shm.a", a, key, 0640, A_SIZE, OWNER);
	check_maps("shm.a", a_at, "rw-s", key);
	off = wl_check(a_at, A_SIZE, 71);
	if (off != (size_t)-1)
		wl_fail("shm.a", "contents differ at %zu", off);
	wl_verdict("shm.a", mark);
	mark = wl_mark();
	check_seg("shm.b", b, IPC_PRIVATE, 0600 | SHM_DEST, B_SIZE, getuid());
	check_maps("shm.b", b_at, "r--s", 0);
	off = wl_check(b_at, B_SIZE, 72);
	if (off != (size_t)-1)
		wl_fail("shm.b", "contents differ at %zu", off);
	wl_verdict("shm.b", mark);
	check_shared(a);
}

/* a child attaches A, detaches and exits, reaped: A's shm_lpid is gone */
static void detach_and_exit(int a)
{
	struct shmid_ds ds;
	int st;
	pid_t kid = fork();

	if (kid < 0)
		wl_die("fork");
	if (!kid)
		_exit(shmdt(shmat(a, NULL, SHM_RDONLY)) ? 1 : 0);
	if (waitpid(kid, &st, 0) != kid || st)
		wl_die("the detaching child");
	if (shmctl(a, IPC_STAT, &ds) || ds.shm_lpid != kid)
		wl_die("shm_lpid of A is not the child that exited");
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 1, r, a, b;
	key_t key = 0x43530000 | (getpid() & 0xffff);
	sigset_t none;
	pid_t kid;
	char *p;

	if (argc == 3 && !strcmp(argv[1], "tamper")) {
		p = shmat(atoi(argv[2]), NULL, 0);
		if (p == (void *)-1)
			wl_die("tamper: shmat");
		memset(p, 0xee, 4096);
		return shmdt(p) ? 1 : 0;
	}
	wl_own_session();
	signal(SIGUSR1, on_usr1);
	setup(&a, &b, key);
	kid = fork();
	if (kid < 0)
		wl_die("fork");
	if (!kid) {
		for (;;)
			pause();
	}
	detach_and_exit(a);
	printf("IDS shm %d %d\n", a, b);
	wl_ready();
	sigemptyset(&none);
	for (r = 1; r <= rounds; r++) {
		while (!go)
			sigsuspend(&none);
		go = 0;
		check(a, b, key);
		printf("ROUND %d\n", r);
		fflush(stdout);
	}
	kill(kid, SIGKILL);
	waitpid(kid, NULL, 0);
	shmdt(a_at);
	shmdt(b_at);
	shmctl(a, IPC_RMID, NULL);
	return wl_done();
}
