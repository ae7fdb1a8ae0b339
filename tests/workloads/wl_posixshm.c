// SPDX-License-Identifier: MIT
/*
 * wl_posixshm [ROUNDS]: named POSIX shared memory (shm_open), as
 * PostgreSQL's dynamic shared memory uses it.  The root P makes
 * /dev/shm/crfs-wl-posixshm-PID (owner 1234:1234, mode 0640, a size that
 * is not a whole number of pages), maps all of it shared, fills it, keeps
 * a descriptor open and forks K, which shares the mapping and answers
 * each ping P writes into it.  Runs under a child subreaper S (see
 * wl_common.h); P prints "NAME /crfs-..." and "READY ROOT=<P>".
 *
 * Each SIGUSR1 checks: the bytes; that maps shows the mapping at its name
 * (not deleted); that the name, the descriptor and the mapping are one
 * object (same inode, a write through a fresh shm_open is seen through
 * the mapping); owner, mode and size; that K still shares it (it answers
 * a ping).  After ROUNDS rounds K and P exit and the name is unlinked.
 * wl_posixshm part: one process maps the first of two pages (refused).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "wl_common.h"
#include "wl_fdtable.h"

#define SIZE	(3 * 4096 + 100)
#define DATA	4096		/* the pattern from here to SIZE */
#define OWNER	1234
#define MODE	0640
#define EXIT	0xdeadULL

static volatile sig_atomic_t go;
static char name[64];
static uint64_t *mem;		/* [0] exit, [1] ping, [2] answer */
static int fd;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void kid(void)
{
	while (__atomic_load_n(&mem[0], __ATOMIC_ACQUIRE) != EXIT) {
		uint64_t ping = __atomic_load_n(&mem[1], __ATOMIC_ACQUIRE);

		if (ping != __atomic_load_n(&mem[2], __ATOMIC_ACQUIRE))
			__atomic_store_n(&mem[2], ping, __ATOMIC_RELEASE);
		usleep(1000);
	}
	_exit(0);
}

static void setup(void)
{
	fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
	if (fd < 0)
		wl_die("shm_open %s", name);
	if (ftruncate(fd, SIZE) || fchown(fd, OWNER, OWNER) ||
	    fchmod(fd, MODE))
		wl_die("ftruncate, fchown or fchmod");
	mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED)
		wl_die("mmap");
	wl_fill((char *)mem + DATA, SIZE - DATA, 81);
}

/* maps: our mapping at its name, not deleted; its inode */
static unsigned long maps_ino(void)
{
	char line[512], want[64], path[80];
	unsigned long ino = 0, start;
	FILE *f = fopen("/proc/self/maps", "r");

	snprintf(path, sizeof(path), "/dev/shm%s\n", name);
	while (f && fgets(line, sizeof(line), f)) {
		snprintf(want, sizeof(want), "%lx-", (unsigned long)mem);
		if (strncmp(line, want, strlen(want)))
			continue;
		if (!strstr(line, " rw-s ") ||
		    strcmp(line + strlen(line) - strlen(path), path) ||
		    sscanf(line, "%lx-%*x %*s %*x %*x:%*x %lu", &start, &ino) != 2)
			wl_fail("posixshm.maps", "%s", line);
	}
	if (f)
		fclose(f);
	return ino;
}

static void check_object(void)
{
	char path[80];
	struct stat st, fst;
	unsigned long ino = maps_ino();
	int mark = wl_mark(), other;
	volatile uint64_t *w;

	snprintf(path, sizeof(path), "/dev/shm%s", name);
	if (stat(path, &st) || fstat(fd, &fst)) {
		wl_fail("posixshm.name", "stat %s: %s", path, strerror(errno));
		return;
	}
	if (st.st_ino != ino || fst.st_ino != ino)
		wl_fail("posixshm.name", "inodes: name %lu, descriptor %lu, mapping %lu",
			(unsigned long)st.st_ino, (unsigned long)fst.st_ino, ino);
	if (st.st_uid != OWNER || st.st_gid != OWNER ||
	    (st.st_mode & 07777) != MODE || st.st_size != SIZE)
		wl_fail("posixshm.name", "owner %u:%u mode %o size %ld",
			st.st_uid, st.st_gid, st.st_mode & 07777,
			(long)st.st_size);
	other = shm_open(name, O_RDWR, 0);
	w = other < 0 ? MAP_FAILED :
	    mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, other, 0);
	if (w == MAP_FAILED) {
		wl_fail("posixshm.name", "shm_open and mmap again: %s",
			strerror(errno));
	} else {
		w[7] = 0x0123456789abcdefULL;
		if (mem[7] != w[7])
			wl_fail("posixshm.name", "a write by name is not in the mapping");
		munmap((void *)w, 4096);
	}
	if (other >= 0)
		close(other);
	wl_verdict("posixshm.name", mark);
}

static void check(int round)
{
	size_t off = wl_check((char *)mem + DATA, SIZE - DATA, 81);
	double until = wl_now(CLOCK_MONOTONIC) + 10;

	if (off != (size_t)-1)
		wl_fail("posixshm.bytes", "differ at %zu", DATA + off);
	else
		wl_pass("posixshm.bytes");
	check_object();
	__atomic_store_n(&mem[1], 1000 + round, __ATOMIC_RELEASE);
	while (__atomic_load_n(&mem[2], __ATOMIC_ACQUIRE) != 1000ULL + round &&
	       wl_now(CLOCK_MONOTONIC) < until)
		usleep(1000);
	if (mem[2] != 1000ULL + round)
		wl_fail("posixshm.kid", "K did not answer ping %d (has %lu)",
			round, (unsigned long)mem[2]);
	else
		wl_pass("posixshm.kid");
}

static int rounds = 1;

/* the descriptor table at READY (wl_fdtable.h) */
static struct wl_fdtable fdt0;

static int root(void)
{
	sigset_t none;
	pid_t k;
	int r;

	wl_own_session();
	signal(SIGUSR1, on_usr1);
	snprintf(name, sizeof(name), "/crfs-wl-posixshm-%d", getpid());
	setup();
	k = fork();
	if (k < 0)
		wl_die("fork");
	if (!k)
		kid();
	printf("NAME %s\nREADY ROOT=%d\n", name, getpid());
	fflush(stdout);
	sigemptyset(&none);
	for (r = 1; r <= rounds; r++) {
		while (!go)
			sigsuspend(&none);
		go = 0;
		check(r);
		printf("ROUND %d\n", r);
		fflush(stdout);
	}
	__atomic_store_n(&mem[0], EXIT, __ATOMIC_RELEASE);
	waitpid(k, NULL, 0);
	shm_unlink(name);
	return wl_done();
}

/* wl_posixshm part: maps only the first of two pages (refused) */
static int part(void)
{
	sigset_t none;
	int pfd;

	wl_own_session();
	signal(SIGUSR1, on_usr1);
	snprintf(name, sizeof(name), "/crfs-wl-posixshm-part-%d", getpid());
	pfd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
	if (pfd < 0 || ftruncate(pfd, 2 * 4096))
		wl_die("shm_open or ftruncate %s", name);
	mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, pfd, 0);
	if (mem == MAP_FAILED)
		wl_die("mmap");
	close(pfd);
	wl_fill(mem, 4096, 82);
	printf("NAME %s\n", name);
	wl_fdt_take(&fdt0);
	wl_ready();
	sigemptyset(&none);
	while (!go)
		sigsuspend(&none);
	wl_fdt_check("posixshm.fd_table", &fdt0);
	if (wl_check(mem, 4096, 82) != (size_t)-1)
		wl_fail("posixshm.part", "the bytes changed");
	else
		wl_pass("posixshm.part");
	shm_unlink(name);
	return wl_done();
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "part"))
		return part();
	if (argc > 1)
		rounds = atoi(argv[1]);
	return wl_under_subreaper(root);
}
