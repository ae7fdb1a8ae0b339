// SPDX-License-Identifier: MIT
/*
 * wl_tree - a process tree with several process groups, two sessions, a
 * zombie and a reparented orphan, to be checkpointed, killed and restored
 * as a whole.
 *
 * usage: wl_tree PPIDFILE
 *
 *	PPIDFILE	a file the test writes, before the SIGUSR1 that starts
 *			the checks, holding the pid the tree's root must have
 *			as its parent then (crfs-restore's pid)
 *
 * The process the test starts (S) is not part of the checkpointed tree.
 * It is a child subreaper (PR_SET_CHILD_SUBREAPER) that forks the tree's
 * root R, reaps R and every process orphaned to it, and exits with R's
 * exit status once it has no child left.  It exists because the test kills
 * the frozen tree through ctl: the root's children are then orphaned, and
 * re-parented to PID 1 they would stay zombies for seconds (init reaps
 * lazily), holding the pids the restore needs.  Under S they are reaped at
 * once, and the test only has to reap S.  S writes nothing to the log but
 * setup failures.
 *
 * The tree (levels: R is 0), roles in capitals:
 *
 *	R	setsid (session 1, group R), child subreaper, waits in sigsuspend
 *	 A	setpgid: leads job group A; spins in user mode
 *	  A1	in group A; nanosleep loop
 *	  A2	in group A; sigsuspend
 *	 B	setpgid: leads job group B; nanosleep loop
 *	  B1	in group B; sigsuspend
 *	  BZ	exits with status 42 before the checkpoint: a zombie of B,
 *		which reaps it only after the restore (waitid on its pid)
 *	 C	setsid: leads session 2 (and its group C); sigsuspend
 *	  C1	session C, group C; nanosleep loop
 *	  C2	setpgid: leads group C2 in session C; sigsuspend
 *	   C2A	session C, group C2; spins in user mode
 *	 D	group R; sigsuspend.  Forks DX, which forks O and exits; D reaps
 *		DX, so O is re-parented to R (the nearest subreaper)
 *	 O	the orphan: child of R, group R; nanosleep loop
 *
 * That is 13 processes (12 live and the zombie).  The subreaper flag of R
 * is not restored by crfs yet, so only O's pid and ppid are checked, not
 * the flag.
 *
 * Every process holds 3 MiB of its own pattern (seeded by its role), and a
 * 2 MiB pattern R wrote before forking is shared copy-on-write by all.
 *
 * Setup: SIGRTMIN+1 stays blocked everywhere; each process, once its own
 * setup and its whole subtree are ready, sigqueue()s it to its parent (O to
 * R), which counts them with sigwaitinfo (queued, so none are merged).  R
 * then prints "READY ROOT=<R's pid>".  No descriptor but the log and
 * /dev/null stays open (pipes cannot be checkpointed).
 *
 * After the restore the test writes PPIDFILE and sends SIGUSR1 to R.  Each
 * process passes SIGUSR1 on to its live children, then checks its pid,
 * ppid, pgid and sid (against the values it recorded at READY, and they
 * against the layout above), and its memory; B checks that BZ is still a
 * zombie with status 42 and reaps it (waitpid on its pid).  Then each
 * reaps its children and checks they exited 0, and that it has no other
 * child.  Every line goes
 * to the log with one write(2) on an O_APPEND descriptor, named after the
 * role ("PASS A1.mem", "FAIL C2.pgid: ..."); each process ends with
 * "PASS ROLE.all" if all its checks and its children passed, and exits 0
 * only then.  R ends with "DONE pass=N fail=M" and exits 0 only if fail=0.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "wl_common.h"

#define OWN_SIZE	(3ul << 20)
#define SHARED_SIZE	(2ul << 20)
#define SEED_SHARED	0x7100
#define SEED_OWN	0x7200	/* + role */
#define SIG_READY	(SIGRTMIN + 1)
#define MAXKIDS		8

enum role { R, A, A1, A2, B, B1, BZ, C, C1, C2, C2A, D, DX, O, S, NROLES };

static const char *const role_names[NROLES] = {
	"R", "A", "A1", "A2", "B", "B1", "BZ", "C", "C1", "C2", "C2A", "D",
	"DX", "O", "S",
};

enum wait_mode { SPIN, SLEEP, SUSPEND };

static const char *ppid_file;
static enum role me;
static pid_t pid_of[NROLES];		/* as known to this process */
static unsigned char *shared_buf, *own_buf;
static pid_t kids[MAXKIDS];
static enum role kid_role[MAXKIDS];
static int nkids;
static pid_t zombie;			/* B: BZ */
static int npass, nfail;
static volatile sig_atomic_t got_usr1;

/* what this process saw when it was ready */
static struct ids {
	pid_t pid, ppid, pgid, sid;
} before;

/* --- reporting: one write(2) per line, named after the role ------------- */

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

/* --- helpers -------------------------------------------------------------- */

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

/* state letter of /proc/PID/stat and its ppid; 0 if unreadable */
static char proc_state(pid_t pid, pid_t *ppid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	char st = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %c %d", &st, ppid) != 2)
		return 0;
	return st;
}

static void get_ids(struct ids *x)
{
	x->pid = getpid();
	x->ppid = getppid();
	x->pgid = getpgid(0);
	x->sid = getsid(0);
}

static pid_t spawn(enum role role, void (*fn)(void))
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork %s", role_names[role]);
	if (pid == 0) {
		me = role;
		nkids = 0;
		npass = nfail = 0;
		zombie = 0;
		pid_of[role] = getpid();
		fn();
		_exit(99);	/* not reached */
	}
	pid_of[role] = pid;
	return pid;
}

static void add_kid(enum role role)
{
	if (nkids == MAXKIDS)
		die("too many children");
	kid_role[nkids] = role;
	kids[nkids++] = pid_of[role];
}

/* Wait for n SIG_READY, from the given senders (0 = anyone, returned). */
static void wait_ready_from(int n, pid_t *from)
{
	struct timespec ts = { 30, 0 };
	siginfo_t si;
	sigset_t set;
	int i;

	sigemptyset(&set);
	sigaddset(&set, SIG_READY);
	for (i = 0; i < n; i++) {
		if (sigtimedwait(&set, &si, &ts) != SIG_READY)
			die("waiting for %d ready signals, got %d", n, i);
		if (from)
			from[i] = si.si_pid;
	}
}

static void notify_ready(pid_t to)
{
	union sigval v = { .sival_int = me };

	if (sigqueue(to, SIG_READY, v))
		die("sigqueue to %d", to);
}

/*
 * Setup that every tree process does for itself once its ids are final:
 * its own memory, and the record of its ids.
 */
static void own_setup(void)
{
	own_buf = malloc(OWN_SIZE);
	if (!own_buf)
		die("malloc");
	wl_fill(own_buf, OWN_SIZE, SEED_OWN + me);
	get_ids(&before);
}

static void wait_usr1(enum wait_mode mode)
{
	sigset_t unblocked;

	sigprocmask(SIG_BLOCK, NULL, &unblocked);
	sigdelset(&unblocked, SIGUSR1);
	switch (mode) {
	case SPIN:
		sigprocmask(SIG_SETMASK, &unblocked, NULL);
		while (!got_usr1)
			__builtin_ia32_pause();
		break;
	case SLEEP:
		sigprocmask(SIG_SETMASK, &unblocked, NULL);
		while (!got_usr1) {
			struct timespec ts = { 0, 20 * 1000 * 1000 };

			nanosleep(&ts, NULL);
		}
		break;
	case SUSPEND:
		while (!got_usr1)
			sigsuspend(&unblocked);
		break;
	}
}

/* The layout as designed, from the pids this process knows. */
static void expected(struct ids *x)
{
	pid_t r = pid_of[R];

	x->pid = pid_of[me];
	x->sid = r;
	x->pgid = r;
	switch (me) {
	case R: x->ppid = 0; break;	/* from PPIDFILE, see verify() */
	case A: x->ppid = r; x->pgid = pid_of[A]; break;
	case A1: case A2: x->ppid = pid_of[A]; x->pgid = pid_of[A]; break;
	case B: x->ppid = r; x->pgid = pid_of[B]; break;
	case B1: x->ppid = pid_of[B]; x->pgid = pid_of[B]; break;
	case C: x->ppid = r; x->pgid = x->sid = pid_of[C]; break;
	case C1: x->ppid = pid_of[C]; x->pgid = x->sid = pid_of[C]; break;
	case C2: x->ppid = pid_of[C]; x->sid = pid_of[C]; x->pgid = pid_of[C2]; break;
	case C2A: x->ppid = pid_of[C2]; x->sid = pid_of[C]; x->pgid = pid_of[C2]; break;
	case D: x->ppid = r; break;
	case O: x->ppid = r; break;
	default: die("no layout for this role");
	}
}

static pid_t read_ppid_file(void)
{
	char buf[32];
	ssize_t n;
	int fd = open(ppid_file, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return atoi(buf);
}

static void cmp_id(const char *what, pid_t now, pid_t was, pid_t design)
{
	check(now == was && now == design, what,
	      "is %d, was %d before the checkpoint, %d by design", now, was,
	      design);
}

static void verify(void)
{
	struct ids now, want;
	size_t off;

	get_ids(&now);
	expected(&want);
	if (me == R) {
		want.ppid = read_ppid_file();
		/* S, the parent before the checkpoint, is gone */
		check(now.ppid == want.ppid, "ppid",
		      "is %d, want %d (crfs-restore, from %s)", now.ppid,
		      want.ppid, ppid_file);
	} else {
		cmp_id("ppid", now.ppid, before.ppid, want.ppid);
	}
	cmp_id("pid", now.pid, before.pid, want.pid);
	cmp_id("pgid", now.pgid, before.pgid, want.pgid);
	cmp_id("sid", now.sid, before.sid, want.sid);
	off = wl_check(own_buf, OWN_SIZE, SEED_OWN + me);
	check(off == (size_t)-1, "mem", "own %lu KiB differ at offset %zu",
	      OWN_SIZE >> 10, off);
	off = wl_check(shared_buf, SHARED_SIZE, SEED_SHARED);
	check(off == (size_t)-1, "mem.inherited",
	      "R's pre-fork pattern differs at offset %zu", off);
}

static void check_zombie(void)
{
	pid_t ppid = 0, r;
	char st = proc_state(zombie, &ppid);
	int status = 0;

	check(st == 'Z' && ppid == pid_of[B], "zombie.state",
	      "pid %d (BZ) has state '%c' and ppid %d, want 'Z' and %d",
	      zombie, st ? st : '?', ppid, pid_of[B]);
	/* WNOHANG: a zombie is reaped at once, anything else is a failure */
	r = waitpid(zombie, &status, WNOHANG);
	check(r == zombie && WIFEXITED(status) && WEXITSTATUS(status) == 42,
	      "zombie.reap",
	      "waitpid(%d, WNOHANG) = %d (%s), status 0x%x, want %d exited with 42",
	      zombie, r, r < 0 ? strerror(errno) : "ok", status, zombie);
}

static void reap_kids(void)
{
	int i, st;
	pid_t r;

	for (i = 0; i < nkids; i++) {
		char what[32];

		snprintf(what, sizeof(what), "child.%s", role_names[kid_role[i]]);
		r = waitpid(kids[i], &st, 0);
		check(r == kids[i] && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      what, "waitpid(%d) = %d (%s), status 0x%x, want exit 0",
		      kids[i], r, r < 0 ? strerror(errno) : "ok", r > 0 ? st : 0);
	}
	r = waitpid(-1, &st, WNOHANG);
	check(r < 0 && errno == ECHILD, "nomorechildren",
	      "waitpid(-1) = %d, status 0x%x, want ECHILD", r, r > 0 ? st : 0);
}

/* The common end of every live tree process. */
static void __attribute__((noreturn)) finish(enum wait_mode mode, int nready,
					     pid_t *ready_from)
{
	int i;

	wait_ready_from(nready, ready_from);
	if (me == R)
		line("READY ROOT=%d", getpid());
	else if (me == O)
		notify_ready(pid_of[R]);
	else
		notify_ready(getppid());

	wait_usr1(mode);

	for (i = 0; i < nkids; i++)
		if (kill(kids[i], SIGUSR1))
			check(0, "propagate", "kill(%d, SIGUSR1): %s", kids[i],
			      strerror(errno));
	verify();
	if (zombie)
		check_zombie();
	reap_kids();
	if (!nfail)
		line("PASS %s.all", role_names[me]);
	if (me == R)
		line("DONE pass=%d fail=%d", npass, nfail);
	_exit(nfail ? 1 : 0);
}

/* --- the roles ----------------------------------------------------------- */

static void leaf_sleep(void)
{
	own_setup();
	finish(SLEEP, 0, NULL);
}

static void leaf_suspend(void)
{
	own_setup();
	finish(SUSPEND, 0, NULL);
}

static void leaf_spin(void)
{
	own_setup();
	finish(SPIN, 0, NULL);
}

static void role_a(void)
{
	if (setpgid(0, 0))
		die("setpgid");
	spawn(A1, leaf_sleep);
	add_kid(A1);
	spawn(A2, leaf_suspend);
	add_kid(A2);
	own_setup();
	finish(SPIN, 2, NULL);
}

static void role_bz(void)
{
	_exit(42);
}

static void role_b(void)
{
	siginfo_t si;

	if (setpgid(0, 0))
		die("setpgid");
	spawn(B1, leaf_suspend);
	add_kid(B1);
	zombie = spawn(BZ, role_bz);
	/* wait for BZ to be a zombie, without reaping it */
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, zombie, &si, WEXITED | WNOWAIT) ||
	    si.si_code != CLD_EXITED || si.si_status != 42)
		die("BZ did not exit with 42");
	own_setup();
	finish(SLEEP, 1, NULL);
}

static void role_c2(void)
{
	if (setpgid(0, 0))
		die("setpgid");
	spawn(C2A, leaf_spin);
	add_kid(C2A);
	own_setup();
	finish(SUSPEND, 1, NULL);
}

static void role_c(void)
{
	if (setsid() < 0)
		die("setsid");
	spawn(C1, leaf_sleep);
	add_kid(C1);
	spawn(C2, role_c2);
	add_kid(C2);
	own_setup();
	finish(SUSPEND, 2, NULL);
}

static void role_o(void)
{
	int i;

	/* DX, our parent, exits right after forking us */
	for (i = 0; getppid() != pid_of[R]; i++) {
		if (i == 10000)
			die("not re-parented to R (ppid %d)", getppid());
		usleep(1000);
	}
	own_setup();
	finish(SLEEP, 0, NULL);
}

static void role_dx(void)
{
	spawn(O, role_o);
	_exit(0);
}

static void role_d(void)
{
	pid_t dx = spawn(DX, role_dx);
	int st;

	if (waitpid(dx, &st, 0) != dx || !WIFEXITED(st) || WEXITSTATUS(st))
		die("reaping DX");
	own_setup();
	finish(SUSPEND, 0, NULL);
}

static void role_r(void)
{
	pid_t from[5];
	int i;

	if (setsid() < 0)
		die("setsid");
	if (prctl(PR_SET_CHILD_SUBREAPER, 1))
		die("PR_SET_CHILD_SUBREAPER");
	shared_buf = malloc(SHARED_SIZE);
	if (!shared_buf)
		die("malloc");
	wl_fill(shared_buf, SHARED_SIZE, SEED_SHARED);

	spawn(A, role_a);
	add_kid(A);
	spawn(B, role_b);
	add_kid(B);
	spawn(C, role_c);
	add_kid(C);
	spawn(D, role_d);
	add_kid(D);
	own_setup();
	/* finish() waits for the 5 ready signals; O's pid is learnt here */
	wait_ready_from(5, from);
	for (i = 0; i < 5; i++) {
		int k;

		for (k = 0; k < nkids && kids[k] != from[i]; k++)
			;
		if (k == nkids) {
			pid_t ppid = 0;

			if (pid_of[O] || proc_state(from[i], &ppid) == 0 ||
			    ppid != getpid())
				die("ready signal from %d, not a child", from[i]);
			pid_of[O] = from[i];
		}
	}
	if (!pid_of[O])
		die("no ready signal from O");
	add_kid(O);
	finish(SUSPEND, 0, NULL);
}

/* --- S: the subreaper outside the tree ---------------------------------- */

int main(int argc, char **argv)
{
	struct sigaction sa;
	sigset_t set;
	int fd, st, root_st = -1;
	pid_t r, root;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PPIDFILE\n", argv[0]);
		return 2;
	}
	ppid_file = argv[1];
	me = S;

	/* the log, shared by all, appended to with one write per line */
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
	sigaddset(&set, SIG_READY);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		die("sigprocmask");

	root = spawn(R, role_r);
	for (;;) {
		r = waitpid(-1, &st, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;	/* ECHILD: the root and every orphan are gone */
		}
		if (r == root)
			root_st = st;
	}
	if (root_st == -1)
		return 98;
	if (WIFEXITED(root_st))
		return WEXITSTATUS(root_st);
	return 128 + WTERMSIG(root_st);
}
