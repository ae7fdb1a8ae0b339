/* SPDX-License-Identifier: MIT */
/*
 * Process, memory and descriptor attributes of the kind CRIU's zdtm suite
 * checks (rlimits*, umask00, groups, caps00, prctl, pdeath_sig,
 * child_subreaper, thp_disable, sched_policy00, sched_prio00, ioprio_*,
 * oom_score_adj, pthread_comm, madvise*, mprot*, mremap*, maps0*, brk,
 * mlock_setuid, shm/mmap_shared, file_shared, fd_offset, file_append,
 * fcntl_flags, pipe_size, fifo-rowo, file_locks*, ofd_locks, leases,
 * cwd_deleted), one check each, printed PASS/FAIL by name.
 * Usage: wl_zdtm_attr DIR.  READY; on SIGUSR1 each is checked.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <linux/capability.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/rseq.h>
#include <sys/xattr.h>
#include <sys/wait.h>
#include <linux/securebits.h>
#include <grp.h>
#include <sys/auxv.h>
#include <time.h>
#include "wl_common.h"
#include "wl_fdtable.h"

#define PG 4096
#define CHK(name, cond, ...) \
	do { if (cond) wl_pass(name); else wl_fail(name, __VA_ARGS__); } while (0)

static volatile sig_atomic_t go;
static const char *dir;
static char *madv[8], *prot, *moved, *cow, *shf, *shanon, *locked, *lockof;
static void *brk0;
static int fd_cow, fd_shf, fd_a, fd_b, fd_app, fd_path, fd_cx, pp[2],
	   fifo_fd, fd_fl, fd_px, fd_ofd, fd_lease;
static pid_t kid;
static volatile pid_t thr_tid;
static int thr_ask[2], thr_answer[2];
static int kid_pipe[2];
static char cwd_path[512], cmdline[256], exe[256];
static int fd_direct = -1, fd_ghost, cmdline_len;
static char *cowk;
static pid_t rootkid, lockkid;
static char *gdown, *bigpipe;
static int pbig[2];
static char newargs[] = "zdtm\0moved\0args";
#define BIGPIPE (300 * 1024)
static int fd_shoff, fd_rl, pnb[2], fd_reopen, lockkid_pipe[2], lockkid_ready[2];
static int fd_kidflock;	/* our flock; only the kid holds the file now */
static char *fmap;

static int read_file(const char *path, char *buf, int len);

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

/* VmFlags of the mapping holding addr */
static int vmflags(void *addr, char *out, size_t len)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	unsigned long lo, hi, a = (unsigned long)addr;
	int in = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
			in = a >= lo && a < hi;
		else if (in && !strncmp(line, "VmFlags:", 8)) {
			snprintf(out, len, "%s", line + 8);
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	return -1;
}

static int has_flag(void *addr, const char *fl)
{
	char v[256], pat[8];

	if (vmflags(addr, v, sizeof(v)))
		return 0;
	snprintf(pat, sizeof(pat), " %s ", fl);
	return strstr(v, pat) != NULL;
}

static int maps_perm(void *addr, char *perm)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	unsigned long lo, hi, a = (unsigned long)addr;
	int r = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perm) == 3 && a >= lo && a < hi) {
			r = 0;
			break;
		}
	if (f)
		fclose(f);
	return r;
}

static char *anon(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		wl_die("mmap");
	memset(p, 0x33, len);
	return p;
}

static int tmpfile_in(const char *name, int flags, const char *data, size_t len)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, flags | O_CREAT, 0644);
	if (fd < 0 || (len && pwrite(fd, data, len, 0) != (ssize_t)len))
		wl_die("open %s", path);
	return fd;
}

static const struct { int advice; const char *flag; } advs[] = {
	{ MADV_DONTFORK, "dc" }, { MADV_DONTDUMP, "dd" }, { MADV_MERGEABLE, "mg" },
	{ MADV_NOHUGEPAGE, "nh" }, { MADV_SEQUENTIAL, "sr" }, { MADV_RANDOM, "rr" },
	{ MADV_HUGEPAGE, "hg" }, { MADV_WIPEONFORK, "wf" },
};

static void setup_mm(void)
{
	char buf[2 * PG];
	unsigned i;

	for (i = 0; i < 8; i++) {
		madv[i] = anon(2 * PG);
		if (madvise(madv[i], 2 * PG, advs[i].advice))
			wl_die("madvise %s", advs[i].flag);
	}
	/* mprot: 6 pages, alternating protections, each with its own content */
	prot = anon(6 * PG);
	for (i = 0; i < 6; i++)
		memset(prot + i * PG, 'a' + i, PG);
	for (i = 0; i < 6; i++)
		mprotect(prot + i * PG, PG, i % 3 == 0 ? PROT_READ :
			 i % 3 == 1 ? PROT_NONE : PROT_READ | PROT_WRITE | PROT_EXEC);
	/* mremap: moved to a new place, content kept */
	moved = anon(4 * PG);
	wl_fill(moved, 4 * PG, 7);
	moved = mremap(moved, 4 * PG, 8 * PG, MREMAP_MAYMOVE);
	if (moved == MAP_FAILED)
		wl_die("mremap");
	/* private file mapping: page 1 written (COW), page 0 still the file's */
	memset(buf, 'F', sizeof(buf));
	fd_cow = tmpfile_in("cow", O_RDWR, buf, sizeof(buf));
	cow = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd_cow, 0);
	if (cow == MAP_FAILED)
		wl_die("mmap cow");
	(void)*(volatile char *)cow;
	memset(cow + PG, 'P', PG);
	/* shared file mapping, written through the mapping */
	fd_shf = tmpfile_in("shf", O_RDWR, buf, sizeof(buf));
	shf = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd_shf, 0);
	if (shf == MAP_FAILED)
		wl_die("mmap shf");
	memset(shf, 'S', PG);
	/* brk moved on, the heap written */
	brk0 = sbrk(3 * PG);
	memset(brk0, 'H', 3 * PG);
	/* mlock and mlock2(MLOCK_ONFAULT) */
	locked = anon(2 * PG);
	lockof = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mlock(locked, 2 * PG) || syscall(SYS_mlock2, lockof, 2 * PG, MLOCK_ONFAULT))
		wl_die("mlock");
}

/* shared anonymous memory with a child: each writes after the restore */
static void setup_shanon(void)
{
	char c;

	shanon = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shanon == MAP_FAILED || pipe(kid_pipe))
		wl_die("shanon");
	shanon[0] = 1;
	kid = fork();
	if (kid < 0)
		wl_die("fork");
	if (!kid) {
		int sig = 0;

		signal(SIGUSR1, SIG_IGN);
		/* another uid: restoring it must not clear the signal */
		if (setresuid(1000, 1000, 1000) || prctl(PR_SET_PDEATHSIG, SIGWINCH))
			_exit(5);
		if (read(kid_pipe[0], &c, 1) != 1)
			_exit(3);
		if (prctl(PR_GET_PDEATHSIG, &sig) || sig != SIGWINCH)
			_exit(4);
		if (shanon[1] != 'p')
			_exit(1);
		shanon[2] = 'k';
		_exit(0);
	}
}

static void setup_fd(void)
{
	char path[512];
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 10, .l_len = 10 };

	fd_a = tmpfile_in("dup", O_RDWR, "0123456789abcdef", 16);
	lseek(fd_a, 5, SEEK_SET);
	fd_b = dup(fd_a);
	fd_app = tmpfile_in("app", O_WRONLY | O_APPEND, "xyz", 3);
	if (write(fd_app, "w", 1) != 1)
		wl_die("append");
	snprintf(path, sizeof(path), "%s/dup", dir);
	fd_path = open(path, O_PATH);
	fd_cx = tmpfile_in("cx", O_RDONLY | O_CLOEXEC, NULL, 0);
	if (fd_path < 0 || pipe(pp) || fcntl(pp[1], F_SETPIPE_SZ, 1 << 20) < 0 ||
	    write(pp[1], "pipedata", 8) != 8)
		wl_die("fd setup");
	snprintf(path, sizeof(path), "%s/fifo", dir);
	if (mkfifo(path, 0600))
		wl_die("mkfifo");
	fifo_fd = open(path, O_RDWR);
	if (fifo_fd < 0 || write(fifo_fd, "fifo", 4) != 4)
		wl_die("fifo");
	fd_fl = tmpfile_in("flock", O_RDWR, NULL, 0);
	if (flock(fd_fl, LOCK_EX))
		wl_die("flock");
	fd_px = tmpfile_in("posix", O_RDWR, "................................", 32);
	if (fcntl(fd_px, F_SETLK, &fl))
		wl_die("posix lock");
	fd_ofd = tmpfile_in("ofd", O_RDWR, "................................", 32);
	fl.l_start = 20;
	fl.l_len = 5;
	if (fcntl(fd_ofd, F_OFD_SETLK, &fl))
		wl_die("ofd lock");
	fd_lease = tmpfile_in("lease", O_RDONLY, NULL, 0);
	if (wl_zdtm_want("lease") && fcntl(fd_lease, F_SETLEASE, F_RDLCK))
		wl_die("lease");
}

static int read_file(const char *path, char *buf, int len)
{
	int fd = open(path, O_RDONLY), n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len);
	close(fd);
	return n;
}

/* a private anonymous page both sides wrote after the fork; a chroot'ed kid */
static void setup_more(void)
{
	char path[512];
	int p[2];
	char c;

	cowk = anon(PG);
	cowk[0] = 'o';
	snprintf(path, sizeof(path), "%s/root", dir);
	if (mkdir(path, 0755) || pipe(p))
		wl_die("root dir");
	rootkid = fork();
	if (rootkid < 0)
		wl_die("fork");
	if (!rootkid) {
		cowk[0] = 'c';
		signal(SIGUSR2, on_usr1);
		if (chroot(path) || chdir("/") || write(p[1], "r", 1) != 1)
			_exit(3);
		while (!go)
			pause();
		_exit(cowk[0] == 'c' ? 0 : 1);
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1)
		wl_die("chroot kid");
	close(p[0]);
	cowk[0] = 'p';
	/* O_DIRECT where the file system has it */
	snprintf(path, sizeof(path), "%s/direct", dir);
	fd_direct = open(path, O_RDWR | O_CREAT | O_DIRECT, 0600);
	/* an unlinked file with its mode, owner and an xattr */
	fd_ghost = tmpfile_in("ghost", O_RDWR, "ghostdata", 9);
	snprintf(path, sizeof(path), "%s/ghost", dir);
	if (fchmod(fd_ghost, 0640) || fchown(fd_ghost, 1000, 1001) ||
	    fsetxattr(fd_ghost, "user.zdtm", "xv", 2, 0) || unlink(path))
		wl_die("ghost");
	/* arguments moved elsewhere (setproctitle does so) */
	if (wl_zdtm_want("mmargs") &&
	    (prctl(PR_SET_MM, PR_SET_MM_ARG_START, (unsigned long)newargs, 0, 0) ||
	     prctl(PR_SET_MM, PR_SET_MM_ARG_END, (unsigned long)newargs + sizeof(newargs), 0, 0)))
		wl_die("PR_SET_MM args");
	cmdline_len = read_file("/proc/self/cmdline", cmdline, sizeof(cmdline));
	/* a stack that grows down, 300 KiB queued in a 1 MiB pipe */
	bigpipe = anon(BIGPIPE);
	/*
	 * Above a free gap of 8 pages, below which a PROT_NONE reserve
	 * keeps every later mapping away: an open hole wider than the stack
	 * guard gap (256 pages) took any mapping that fit just below the
	 * gap, and then the stack could not grow by a page (failed once in
	 * CI after a thaw, status 0xb).  An inaccessible neighbour needs no
	 * guard gap; the 8 pages are inside ours, where nothing is placed.
	 */
	gdown = anon(1024 * PG);
	munmap(gdown, 1024 * PG);
	if (mmap(gdown, 1012 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
		 MAP_NORESERVE | MAP_FIXED, -1, 0) == MAP_FAILED)
		wl_die("reserve below the stack");
	gdown = mmap(gdown + 1020 * PG, 4 * PG, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_FIXED, -1, 0);
	wl_fill(bigpipe, BIGPIPE, 99);
	if (gdown == MAP_FAILED || pipe(pbig) || fcntl(pbig[1], F_SETPIPE_SZ, 1 << 20) < 0 ||
	    write(pbig[1], bigpipe, BIGPIPE) != BIGPIPE)
		wl_die("growsdown, big pipe");
	gdown[0] = 'g';
	if (readlink("/proc/self/exe", exe, sizeof(exe) - 1) <= 0)
		wl_die("exe");
	if (wl_zdtm_want("dumpable") && prctl(PR_SET_DUMPABLE, 0))
		wl_die("dumpable");
	if (wl_zdtm_want("mlockall") && mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT))
		wl_die("mlockall");
}

/*
 * A child holding a POSIX read lock on [0,4) of a file whose descriptor
 * (and offset) it shares with us; a pipe end non-blocking, the same pipe
 * opened again through /proc/self/fd; a file mapped from its second page,
 * half of it read-only.
 */
static void setup_share(void)
{
	char path[64];
	char buf[3 * PG];
	int i;

	memset(buf, 'M', sizeof(buf));
	fd_shoff = tmpfile_in("shoff", O_RDWR, "0123456789", 10);
	fd_rl = tmpfile_in("rlock", O_RDWR, "0123456789", 10);
	lseek(fd_shoff, 2, SEEK_SET);
	/* zdtm file_locks03: our flock, the descriptor the kid's alone */
	fd_kidflock = tmpfile_in("kidflock", O_RDWR, NULL, 0);
	if (flock(fd_kidflock, LOCK_EX))
		wl_die("flock");
	if (pipe(lockkid_pipe) || pipe(lockkid_ready) || pipe(pnb) || fcntl(pnb[0], F_SETFL, O_NONBLOCK))
		wl_die("pipes");
	lockkid = fork();
	if (lockkid < 0)
		wl_die("fork");
	if (!lockkid) {
		struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_len = 4 };
		char c;

		signal(SIGUSR1, SIG_IGN);
		if (fcntl(fd_rl, F_SETLK, &fl) || write(lockkid_ready[1], "r", 1) != 1)
			wl_die("the lock kid");
		if (read(lockkid_pipe[0], &c, 1) != 1)
			_exit(3);
		/* moves the offset it shares with its parent */
		_exit(lseek(fd_shoff, 0, SEEK_CUR) == 2 && lseek(fd_shoff, 7, SEEK_SET) == 7 ? 0 : 1);
	}
	close(lockkid_ready[1]);
	close(fd_kidflock);
	if (read(lockkid_ready[0], path, 1) != 1)
		wl_die("lock kid");
	close(lockkid_ready[0]);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", pnb[1]);
	fd_reopen = open(path, O_WRONLY);
	if (fd_reopen < 0 || write(fd_reopen, "re", 2) != 2)
		wl_die("reopen pipe");
	i = tmpfile_in("fmap", O_RDWR, buf, sizeof(buf));
	fmap = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, i, PG);
	if (fmap == MAP_FAILED || mprotect(fmap + PG, PG, PROT_READ))
		wl_die("fmap");
	close(i);
	fmap[0] = 'w';
}

/* the pid /proc/PID/fdinfo/FD names as the owner of its flock, or -1 */
static int flock_owner(pid_t pid, int fd)
{
	char path[64], line[256];
	int owner = -1, o;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "lock: %*d: FLOCK ADVISORY WRITE %d", &o) == 1)
			owner = o;
	if (f)
		fclose(f);
	return owner;
}

static void check_share(void)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char buf[8] = "", perm[8] = "", perm2[8] = "";
	int st = -1;

	CHK("fd.flock_owner_closed", flock_owner(lockkid, fd_kidflock) == getpid(),
	    "the flock the kid holds is %d's, want ours (%d)",
	    flock_owner(lockkid, fd_kidflock), getpid());
	CHK("fd.posix_rdlock_kid", !fcntl(fd_rl, F_GETLK, &fl) && fl.l_type == F_RDLCK &&
	    fl.l_pid == lockkid && fl.l_start == 0 && fl.l_len == 4,
	    "lock type %d pid %d %ld+%ld", fl.l_type, fl.l_pid, (long)fl.l_start, (long)fl.l_len);
	if (write(lockkid_pipe[1], "g", 1) != 1 || waitpid(lockkid, &st, 0) != lockkid)
		wl_fail("fd.shared_offset_kid", "the kid: %s", strerror(errno));
	else
		CHK("fd.shared_offset_kid", WIFEXITED(st) && !WEXITSTATUS(st) &&
		    lseek(fd_shoff, 0, SEEK_CUR) == 7, "kid status 0x%x, offset %ld", st,
		    (long)lseek(fd_shoff, 0, SEEK_CUR));
	CHK("fd.pipe_nonblock", (fcntl(pnb[0], F_GETFL) & O_NONBLOCK) &&
	    !(fcntl(pnb[1], F_GETFL) & O_NONBLOCK), "flags 0x%x 0x%x",
	    fcntl(pnb[0], F_GETFL), fcntl(pnb[1], F_GETFL));
	CHK("fd.pipe_reopened", write(fd_reopen, "!", 1) == 1 && read(pnb[0], buf, 4) == 3 &&
	    !memcmp(buf, "re!", 3), "pipe read %.3s", buf);
	maps_perm(fmap, perm);
	maps_perm(fmap + PG, perm2);
	CHK("mm.file_offset_mprot", fmap[0] == 'w' && fmap[PG] == 'M' && !strcmp(perm, "rw-s") &&
	    !strcmp(perm2, "r--s"), "%c %c %s %s", fmap[0], fmap[PG], perm, perm2);
}

static void check_more(void)
{
	char buf[512] = "", path[128];
	struct stat st;
	void *rs = (char *)__builtin_thread_pointer() + __rseq_offset;
	int n;

	snprintf(path, sizeof(path), "/proc/%d/root", rootkid);
	n = readlink(path, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	snprintf(path, sizeof(path), "%s/root", dir);
	CHK("proc.chroot", !strcmp(buf, path), "kid's root %s, not %s", buf, path);
	kill(rootkid, SIGUSR2);	/* it checks its copy of cowk */
	n = -1;
	waitpid(rootkid, &n, 0);
	CHK("mm.cow_fork", cowk[0] == 'p' && WIFEXITED(n) && !WEXITSTATUS(n),
	    "parent sees %c, the kid's status 0x%x (1: its copy changed)", cowk[0], n);
	if (fd_direct < 0)
		wl_skip("fd.o_direct", "no O_DIRECT here");
	else
		CHK("fd.o_direct", fcntl(fd_direct, F_GETFL) & O_DIRECT, "flags 0x%x",
		    fcntl(fd_direct, F_GETFL));
	/* documented as lost (docs/SUPPORT.md): only when asked for */
	n = fgetxattr(fd_ghost, "user.zdtm", buf, sizeof(buf));
	if (wl_zdtm_want("ghostxattr"))
		CHK("fd.ghost_xattr", n == 2 && !memcmp(buf, "xv", 2), "xattr %d", n);
	CHK("fd.ghost_mode", !fstat(fd_ghost, &st) && (st.st_mode & 07777) == 0640 &&
	    st.st_uid == 1000 && st.st_gid == 1001 && !st.st_nlink && st.st_size == 9,
	    "mode %o uid %d gid %d nlink %ld", st.st_mode, st.st_uid, st.st_gid,
	    (long)st.st_nlink);
	n = read_file("/proc/self/cmdline", buf, sizeof(buf));
	CHK("proc.cmdline", n == cmdline_len && !memcmp(buf, cmdline, n), "cmdline %.*s", n, buf);
	n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	CHK("proc.exe", !strcmp(buf, exe), "exe %s, was %s", buf, exe);
	/* registered: a second registration is refused with EBUSY */
	n = __rseq_size ? syscall(SYS_rseq, rs, __rseq_size, 0, RSEQ_SIG) : -2;
	if (n == -1 && errno == EINVAL)	/* registered with the larger size */
		n = syscall(SYS_rseq, rs, 32, 0, RSEQ_SIG);
	if (n == -2)
		wl_skip("proc.rseq", "glibc did not register rseq");
	else
		CHK("proc.rseq", n == -1 && errno == EBUSY, "rseq registration lost (%d)", n);
	{
		pid_t k = fork();
		int st = -1;

		if (!k) {	/* it grows into the gap below, not SIGSEGV */
			gdown[-PG] = 'x';
			_exit(gdown[0] == 'g' ? 0 : 1);
		}
		waitpid(k, &st, 0);
		CHK("mm.growsdown_grows", WIFEXITED(st) && !WEXITSTATUS(st) && has_flag(gdown, "gd"),
		    "a touch below it: status 0x%x", st);
	}
	memset(bigpipe, 0, BIGPIPE);
	n = 0;
	while (n < BIGPIPE) {
		int r = read(pbig[0], bigpipe + n, BIGPIPE - n);

		if (r <= 0)
			break;
		n += r;
	}
	CHK("fd.pipe_big", n == BIGPIPE && wl_check(bigpipe, BIGPIPE, 99) == (size_t)-1 &&
	    fcntl(pbig[0], F_GETPIPE_SZ) == 1 << 20, "read %d, differs at %zd", n,
	    (ssize_t)wl_check(bigpipe, BIGPIPE, 99));
	CHK("mm.vdso", has_flag((void *)getauxval(AT_SYSINFO_EHDR), "ex") &&
	    time(NULL) > 0, "no vdso at AT_SYSINFO_EHDR");
	if (wl_zdtm_want("dumpable"))
		CHK("proc.dumpable", prctl(PR_GET_DUMPABLE) == 0, "dumpable %d",
		    prctl(PR_GET_DUMPABLE));
	if (wl_zdtm_want("mlockall")) {
		char *m = anon(PG);

		CHK("mm.mlockall", has_flag(m, "lf"), "MCL_FUTURE|MCL_ONFAULT lost");
	}
}

static void *thr_fn(void *arg)
{
	(void)arg;
	struct sched_param sp = { 0 };
	cpu_set_t cs;

	prctl(PR_SET_NAME, "zdtm-thread");
	/* its own nice, policy, affinity, I/O priority (IDLE), timer slack */
	CPU_ZERO(&cs);
	CPU_SET(1, &cs);
	if (setpriority(PRIO_PROCESS, gettid(), 7) || sched_setscheduler(0, SCHED_IDLE, &sp) ||
	    (sysconf(_SC_NPROCESSORS_ONLN) > 1 && sched_setaffinity(0, sizeof(cs), &cs)) ||
	    syscall(SYS_ioprio_set, 1, 0, 3 << 13) || prctl(PR_SET_TIMERSLACK, 54321))
		wl_die("thread attributes");
	/* this thread's own gids (raw: glibc would set all threads') */
	if (syscall(SYS_setresgid, 21, 22, 23))
		wl_die("thread gids");
	/* its own parent-death signal (per thread, as the kernel keeps it) */
	if (wl_zdtm_want("thrpdeath") && prctl(PR_SET_PDEATHSIG, SIGURG))
		wl_die("thread pdeathsig");
	/* no_new_privs too is the thread's own */
	if (wl_zdtm_want("thrnnp") && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		wl_die("thread no_new_privs");
	thr_tid = gettid();
	for (;;) {
		int sig = -1;
		char c;

		if (read(thr_ask[0], &c, 1) != 1)
			pause();
		prctl(PR_GET_PDEATHSIG, &sig);
		sig |= prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) << 16;
		if (write(thr_answer[1], &sig, sizeof(sig)) != sizeof(sig))
			pause();
	}
	return NULL;
}

static void setup_proc(void)
{
	struct rlimit rl = { 100, 200 };
	gid_t groups[] = { 3, 5, 7 };
	cpu_set_t cs;
	struct sched_param sp = { 0 };
	char path[512];
	pthread_t t;
	FILE *f;

	if (setrlimit(RLIMIT_NOFILE, &rl))
		wl_die("rlimit");
	rl.rlim_cur = 0;
	rl.rlim_max = RLIM_INFINITY;
	setrlimit(RLIMIT_CORE, &rl);
	umask(027);
	if (setgroups(3, groups) || setresgid(0, 0, 11) || setresuid(0, 0, 12))
		wl_die("ids");
	if (prctl(PR_CAPBSET_DROP, CAP_SYS_BOOT) || prctl(PR_SET_PDEATHSIG, SIGWINCH) ||
	    prctl(PR_SET_CHILD_SUBREAPER, 1) || prctl(PR_SET_KEEPCAPS, 1) ||
	    prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) || prctl(PR_SET_NAME, "zdtm-attr") ||
	    prctl(PR_SET_TIMERSLACK, 123456))
		wl_die("prctl");
	if (wl_zdtm_want("caps")) {
		struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
		struct __user_cap_data_struct d[2];

		if (syscall(SYS_capget, &h, d))
			wl_die("capget");
		d[0].inheritable |= 1u << CAP_NET_RAW;
		if (syscall(SYS_capset, &h, d) ||
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW, 0, 0))
			wl_die("caps");
	}
	if (wl_zdtm_want("securebits") &&
	    prctl(PR_SET_SECUREBITS, SECBIT_KEEP_CAPS | SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
		  SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED))
		wl_die("securebits");
	if (wl_zdtm_want("nonewprivs") && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		wl_die("nnp");
	if (setpriority(PRIO_PROCESS, 0, 5) || sched_setscheduler(0, SCHED_BATCH, &sp))
		wl_die("sched");
	CPU_ZERO(&cs);
	CPU_SET(0, &cs);
	if (sched_setaffinity(0, sizeof(cs), &cs))
		wl_die("affinity");
	/* IOPRIO_CLASS_BE (2) level 3 */
	if (syscall(SYS_ioprio_set, 1, 0, (2 << 13) | 3))
		wl_die("ioprio");
	f = fopen("/proc/self/oom_score_adj", "w");
	if (!f || fprintf(f, "123\n") < 0 || fclose(f))
		wl_die("oom_score_adj");
	if (personality(PER_LINUX | ADDR_NO_RANDOMIZE) < 0)
		wl_die("personality");
	if (pipe(thr_ask) || pipe(thr_answer) || pthread_create(&t, NULL, thr_fn, NULL))
		wl_die("thread");
	/* the main thread's only: its threads were made before (refused) */
	if (wl_zdtm_want("mainnnp") && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		wl_die("main no_new_privs");
	/* cwd in a removed directory */
	snprintf(path, sizeof(path), "%s/gone", dir);
	if (mkdir(path, 0700) || chdir(path) || rmdir(path) ||
	    readlink("/proc/self/cwd", cwd_path, sizeof(cwd_path) - 1) <= 0)
		wl_die("cwd");
}

static void check_mm(void)
{
	char name[32], perm[8], buf[PG];
	unsigned i;
	int bad = 0;

	CHK("mm.brk", sbrk(0) == brk0, "brk %p, was %p", sbrk(0), brk0);
	for (i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "mm.madv_%s", advs[i].flag);
		CHK(name, has_flag(madv[i], advs[i].flag), "VmFlags lost %s", advs[i].flag);
	}
	for (i = 0; i < 6; i++) {
		const char *want = i % 3 == 0 ? "r--p" : i % 3 == 1 ? "---p" : "rwxp";

		if (maps_perm(prot + i * PG, perm) || strcmp(perm, want)) {
			wl_fail("mm.mprot", "page %u is %s, not %s", i, perm, want);
			bad = 1;
		}
	}
	mprotect(prot, 6 * PG, PROT_READ);
	for (i = 0; i < 6 && !bad; i++)
		if (prot[i * PG] != 'a' + (int)i || prot[i * PG + PG - 1] != 'a' + (int)i) {
			wl_fail("mm.mprot", "page %u content %c", i, prot[i * PG]);
			bad = 1;
		}
	if (!bad)
		wl_pass("mm.mprot");
	CHK("mm.mremap", wl_check(moved, 4 * PG, 7) == (size_t)-1 && !moved[4 * PG],
	    "mremap'd content changed");
	CHK("mm.cow", cow[0] == 'F' && cow[PG] == 'P' && pread(fd_cow, buf, PG, PG) == PG &&
	    buf[0] == 'F', "private file map: %c %c file %c", cow[0], cow[PG], buf[0]);
	/* a page not written is still the file's: a write to the file shows */
	pwrite(fd_cow, "G", 1, 0);
	CHK("mm.cow_unwritten_follows_file", cow[0] == 'G' && cow[PG] == 'P',
	    "private file map after a write to the file: %c %c", cow[0], cow[PG]);
	/* still shared with the file both ways */
	pwrite(fd_shf, "W", 1, PG);
	CHK("mm.shared_file", shf[0] == 'S' && shf[PG] == 'W' && pread(fd_shf, buf, 1, 0) == 1 &&
	    buf[0] == 'S', "shared file map: %c %c file %c", shf[0], shf[PG], buf[0]);
	{
		FILE *f = fopen("/proc/self/maps", "r");
		char line[512];
		unsigned long lo, hi;
		int ok = 0;

		while (f && fgets(line, sizeof(line), f))
			if (strstr(line, "[heap]") && sscanf(line, "%lx-%lx", &lo, &hi) == 2)
				ok = hi == (((unsigned long)brk0 + PG - 1) & ~(PG - 1UL));
		if (f)
			fclose(f);
		CHK("mm.heap_name", ok, "no [heap] ending at brk %p", brk0);
	}
	CHK("mm.mlock", has_flag(locked, "lo"), "mlock'd mapping lost lo");
	CHK("mm.mlock_onfault", has_flag(lockof, "lf"), "MLOCK_ONFAULT mapping lost lf");
	{
		int st = -1;

		shanon[1] = 'p';
		if (write(kid_pipe[1], "g", 1) != 1 || waitpid(kid, &st, 0) != kid)
			wl_fail("mm.shared_anon", "child: %s", strerror(errno));
		else
			CHK("mm.shared_anon", WIFEXITED(st) && !WEXITSTATUS(st) && shanon[2] == 'k',
			    "child status 0x%x (4: pdeathsig lost), its write %c", st, shanon[2]);
	}
}

static void check_fd(void)
{
	char buf[16] = "";
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
	int fd, st = -1;
	pid_t p;

	lseek(fd_a, 0, SEEK_CUR);
	CHK("fd.dup_offset", lseek(fd_b, 0, SEEK_CUR) == 5 && lseek(fd_a, 9, SEEK_SET) == 9 &&
	    lseek(fd_b, 0, SEEK_CUR) == 9, "dup'ed fds do not share the offset");
	CHK("fd.append", (fcntl(fd_app, F_GETFL) & O_APPEND) && lseek(fd_app, 0, SEEK_CUR) == 4,
	    "flags 0x%x", fcntl(fd_app, F_GETFL));
	CHK("fd.opath", (fcntl(fd_path, F_GETFL) & O_PATH), "flags 0x%x", fcntl(fd_path, F_GETFL));
	CHK("fd.cloexec", fcntl(fd_cx, F_GETFD) == FD_CLOEXEC && fcntl(fd_a, F_GETFD) == 0,
	    "fd flags %d %d", fcntl(fd_cx, F_GETFD), fcntl(fd_a, F_GETFD));
	CHK("fd.pipe_size", fcntl(pp[1], F_GETPIPE_SZ) == 1 << 20 && read(pp[0], buf, 8) == 8 &&
	    !memcmp(buf, "pipedata", 8), "size %d data %.8s", fcntl(pp[1], F_GETPIPE_SZ), buf);
	CHK("fd.fifo_rw", read(fifo_fd, buf, 4) == 4 && !memcmp(buf, "fifo", 4) &&
	    (fcntl(fifo_fd, F_GETFL) & O_ACCMODE) == O_RDWR, "fifo data %.4s", buf);
	snprintf(buf, sizeof(buf), "flock");
	fd = tmpfile_in("flock", O_RDWR, NULL, 0);
	CHK("fd.flock", flock(fd, LOCK_EX | LOCK_NB) && errno == EWOULDBLOCK,
	    "the flock is gone");
	close(fd);
	/* a posix lock is seen by another process only */
	p = fork();
	if (!p) {
		struct flock q = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };

		if (fcntl(fd_px, F_GETLK, &q))
			_exit(2);
		_exit(q.l_type == F_WRLCK && q.l_start == 10 && q.l_len == 10 ? 0 : 1);
	}
	waitpid(p, &st, 0);
	CHK("fd.posix_lock", WIFEXITED(st) && !WEXITSTATUS(st), "child saw 0x%x", st);
	fd = tmpfile_in("ofd", O_RDWR, NULL, 0);
	fl.l_pid = 0;
	CHK("fd.ofd_lock", !fcntl(fd, F_OFD_GETLK, &fl) && fl.l_type == F_WRLCK &&
	    fl.l_start == 20 && fl.l_len == 5, "lock type %d %ld+%ld", fl.l_type,
	    (long)fl.l_start, (long)fl.l_len);
	close(fd);
	if (wl_zdtm_want("lease"))
		CHK("fd.lease", fcntl(fd_lease, F_GETLEASE) == F_RDLCK, "lease %d",
		    fcntl(fd_lease, F_GETLEASE));
}

static void check_proc(void)
{
	struct rlimit rl;
	gid_t g[8];
	uid_t r, e, s;
	gid_t gr, ge, gs;
	cpu_set_t cs;
	char buf[64] = "", path[128];
	int n, fd;

	getrlimit(RLIMIT_NOFILE, &rl);
	CHK("proc.rlimit", rl.rlim_cur == 100 && rl.rlim_max == 200, "nofile %ld/%ld",
	    (long)rl.rlim_cur, (long)rl.rlim_max);
	getrlimit(RLIMIT_CORE, &rl);
	CHK("proc.rlimit_core", rl.rlim_cur == 0 && rl.rlim_max == RLIM_INFINITY, "core %ld/%ld",
	    (long)rl.rlim_cur, (long)rl.rlim_max);
	n = umask(027);
	CHK("proc.umask", n == 027, "umask %o", n);
	n = getgroups(8, g);
	CHK("proc.groups", n == 3 && g[0] == 3 && g[1] == 5 && g[2] == 7, "%d groups", n);
	getresuid(&r, &e, &s);
	getresgid(&gr, &ge, &gs);
	CHK("proc.saved_ids", s == 12 && gs == 11, "suid %d sgid %d", s, gs);
	CHK("proc.capbset", prctl(PR_CAPBSET_READ, CAP_SYS_BOOT) == 0 &&
	    prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN) == 1, "CAP_SYS_BOOT in the bounding set");
	if (wl_zdtm_want("caps"))
		CHK("proc.ambient", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_RAW, 0, 0) == 1,
		    "ambient CAP_NET_RAW lost");
	if (wl_zdtm_want("nonewprivs"))
		CHK("proc.no_new_privs", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1, "lost");
	n = 0;
	prctl(PR_GET_PDEATHSIG, &n);
	/* restored by crfs-restore --detach, which exits: not set again */
	CHK("proc.pdeathsig", n == (wl_zdtm_want("detached") ? 0 : SIGWINCH), "pdeathsig %d", n);
	n = 0;
	prctl(PR_GET_CHILD_SUBREAPER, &n);
	CHK("proc.subreaper", n == 1, "subreaper %d", n);
	CHK("proc.keepcaps", prctl(PR_GET_KEEPCAPS) == 1, "keepcaps off");
	n = wl_zdtm_want("securebits") ? SECBIT_KEEP_CAPS | SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
	    SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED : SECBIT_KEEP_CAPS;
	CHK("proc.securebits", prctl(PR_GET_SECUREBITS) == n,
	    "securebits 0x%x", prctl(PR_GET_SECUREBITS));
	CHK("proc.thp_disable", prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) == 1, "off");
	prctl(PR_GET_NAME, buf);
	CHK("proc.name", !strcmp(buf, "zdtm-attr"), "name %s", buf);
	CHK("proc.timerslack", prctl(PR_GET_TIMERSLACK) == 123456, "slack %d",
	    prctl(PR_GET_TIMERSLACK));
	errno = 0;
	n = getpriority(PRIO_PROCESS, 0);
	CHK("proc.nice", n == 5, "nice %d", n);
	CHK("proc.sched_policy", sched_getscheduler(0) == SCHED_BATCH, "policy %d",
	    sched_getscheduler(0));
	sched_getaffinity(0, sizeof(cs), &cs);
	CHK("proc.affinity", CPU_COUNT(&cs) == 1 && CPU_ISSET(0, &cs), "%d cpus", CPU_COUNT(&cs));
	n = syscall(SYS_ioprio_get, 1, 0);
	CHK("proc.ioprio", n == ((2 << 13) | 3), "ioprio 0x%x", n);
	fd = open("/proc/self/oom_score_adj", O_RDONLY);
	buf[0] = 0;
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = 0;
		close(fd);
	}
	CHK("proc.oom_score_adj", atoi(buf) == 123, "oom_score_adj %s", buf);
	n = personality(0xffffffff);
	CHK("proc.personality", n == (PER_LINUX | ADDR_NO_RANDOMIZE), "personality 0x%x", n);
	{
		FILE *f;
		char line[64] = "(no thread)";

		snprintf(path, sizeof(path), "/proc/self/task/%d/comm", thr_tid);
		f = fopen(path, "r");
		if (f && !fgets(line, sizeof(line), f))
			line[0] = 0;
		if (f)
			fclose(f);
		CHK("proc.thread_comm", !strcmp(line, "zdtm-thread\n"), "thread comm %s", line);
	}
	{
		cpu_set_t tcs;
		int ncpu = sysconf(_SC_NPROCESSORS_ONLN);

		sched_getaffinity(thr_tid, sizeof(tcs), &tcs);
		errno = 0;
		n = getpriority(PRIO_PROCESS, thr_tid);
		CHK("thread.nice", n == 7, "nice %d", n);
		n = -1;
		if (write(thr_ask[1], "?", 1) != 1 || read(thr_answer[0], &n, sizeof(n)) != sizeof(n))
			n = -2;
		CHK("thread.pdeathsig", (n & 0xffff) == (wl_zdtm_want("thrpdeath") ? SIGURG : 0),
		    "the thread's pdeathsig %d", n & 0xffff);
		CHK("thread.no_new_privs", n >> 16 == (wl_zdtm_want("thrnnp") ||
						       wl_zdtm_want("nonewprivs")),
		    "the thread's no_new_privs %d", n >> 16);
		CHK("thread.sched_policy", sched_getscheduler(thr_tid) == SCHED_IDLE, "policy %d",
		    sched_getscheduler(thr_tid));
		CHK("thread.affinity", ncpu < 2 || (CPU_COUNT(&tcs) == 1 && CPU_ISSET(1, &tcs)),
		    "%d cpus", CPU_COUNT(&tcs));
		n = syscall(SYS_ioprio_get, 1, thr_tid);
		CHK("thread.ioprio", n == 3 << 13, "ioprio 0x%x", n);
		snprintf(path, sizeof(path), "/proc/self/task/%d/timerslack_ns", thr_tid);
		buf[0] = 0;
		n = read_file(path, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = 0;
		snprintf(path, sizeof(path), "/proc/self/task/%d/status", thr_tid);
		{
			FILE *f = fopen(path, "r");
			char line[128];
			int g[4] = { -1, -1, -1, -1 };

			while (f && fgets(line, sizeof(line), f))
				sscanf(line, "Gid: %d %d %d %d", &g[0], &g[1], &g[2], &g[3]);
			if (f)
				fclose(f);
			CHK("thread.gids", g[0] == 21 && g[1] == 22 && g[2] == 23 && g[3] == 22,
			    "thread gids %d %d %d %d", g[0], g[1], g[2], g[3]);
		}
		CHK("thread.timerslack", n < 0 || atol(buf) == 54321, "timerslack %s", buf);
	}
	memset(path, 0, sizeof(path));
	CHK("proc.cwd_deleted", readlink("/proc/self/cwd", path, sizeof(path) - 1) > 0 &&
	    !strcmp(path, cwd_path),
	    "cwd %s, was %s", path, cwd_path);
}

/* the descriptor table at READY: flags and paths too (wl_fdtable.h) */
static struct wl_fdtable fdt0;

int main(int argc, char **argv)
{
	if (argc < 2)
		wl_die("usage: wl_zdtm_attr DIR");
	dir = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGUSR1, on_usr1);
	signal(SIGWINCH, SIG_IGN);
	setup_mm();
	setup_shanon();
	setup_fd();
	setup_proc();
	setup_more();
	setup_share();
	while (!thr_tid)
		sched_yield();
	brk0 = sbrk(0);	/* after the last malloc that may move it */
	wl_fdt_take(&fdt0);
	wl_ready();
	while (!go)
		pause();
	wl_fdt_check("attr.fd_table", &fdt0);
	check_mm();
	check_fd();
	check_proc();
	check_more();
	check_share();
	return wl_done();
}
