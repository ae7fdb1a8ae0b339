// SPDX-License-Identifier: MIT
/*
 * wl_procfiles - open files under /proc/PID of processes of the tree,
 * alive, zombie and reaped, checkpointed, killed and restored.
 *
 * usage: wl_procfiles		the checks
 *	  wl_procfiles outside	also holds /proc/PPID/stat of the process
 *				outside the tree: for the refusal
 *
 * The process started (S) is a subreaper outside the tree; it forks the
 * root R.  R forks C (alive, pauses), Z (exits 7: stays a zombie) and D
 * (killed and reaped once R opened its files).  R holds:
 *	/proc/self/status	first line read: offset past "Name:"
 *	/proc/self/stat		and a dup of it (one offset)
 *	/proc/self/mountinfo	first line read
 *	/proc/C/stat, the directory /proc/C
 *	/proc/Z/stat
 *	/proc/D/stat, the directory /proc/D: read ESRCH, lookups ENOENT
 * After SIGUSR1 it checks each reads the restored process's data now
 * (pid, ppid: a restored root's parent is crfs-restore, not S), at its
 * offset, and that D's still read ESRCH and ENOENT.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>

#include "wl_common.h"
#include "wl_fdtable.h"

static volatile sig_atomic_t go;
static pid_t c_pid, z_pid, d_pid;
static int f_status, f_stat, f_stat2, f_mnt, f_cstat, f_cdir, f_zstat,
	   f_dstat, f_ddir;
static off_t status_off, mnt_off;
static char mnt_line[512];

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

/* one line, byte by byte, so the offset ends right after it */
static ssize_t read_line(int fd, char *buf, size_t len)
{
	size_t n = 0;

	while (n + 1 < len && read(fd, buf + n, 1) == 1)
		if (buf[n++] == '\n')
			break;
	buf[n] = 0;
	return n;
}

/* pid, state and ppid from a stat file's text */
static int parse_stat(const char *buf, int *pid, char *state, int *ppid)
{
	const char *r = strrchr(buf, ')');

	if (sscanf(buf, "%d", pid) != 1 || !r ||
	    sscanf(r + 1, " %c %d", state, ppid) != 2)
		return -1;
	return 0;
}

static int open_or_die(const char *fmt, int pid, int flags)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), fmt, pid);
	fd = open(path, flags);
	if (fd < 0)
		wl_die("open %s", path);
	return fd;
}

static pid_t child(int code)
{
	pid_t p = fork();

	if (p < 0)
		wl_die("fork");
	if (p)
		return p;
	if (code >= 0)
		_exit(code);
	for (;;)
		pause();
}

/* the stat file at fd (from 0) says pid, state, ppid */
static void check_stat(const char *name, int fd, int pid, char state,
		       int ppid)
{
	char buf[1024], st;
	int p, pp;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0) {
		wl_fail(name, "read: %m");
		return;
	}
	buf[n] = 0;
	if (parse_stat(buf, &p, &st, &pp) || p != pid ||
	    (state && st != state) || (ppid && pp != ppid))
		wl_fail(name, "stat says pid %d state %c ppid %d, want %d %c %d",
			p, st, pp, pid, state ? state : '?', ppid);
	else
		wl_pass(name);
}

static void check_self(void)
{
	char buf[8192], want[64];
	ssize_t n;
	off_t off = lseek(f_status, 0, SEEK_CUR);

	n = off == status_off ? read(f_status, buf, sizeof(buf) - 1) : -1;
	if (n > 0)
		buf[n] = 0;
	snprintf(want, sizeof(want), "\nPid:\t%d\n", getpid());
	if (n <= 0 || !strncmp(buf, "Name:", 5) || !strstr(buf, want))
		wl_fail("proc.self_status", "offset %ld (want %ld) or text wrong",
			(long)off, (long)status_off);
	else
		wl_pass("proc.self_status");
	snprintf(want, sizeof(want), "\nPPid:\t%d\n", getppid());
	if (n <= 0 || !strstr(buf, want))
		wl_fail("proc.self_status_live", "PPid is not %d now", getppid());
	else
		wl_pass("proc.self_status_live");
	check_stat("proc.self_stat", f_stat, getpid(), 0, getppid());
	if (read(f_stat2, buf, 10) != 10 || lseek(f_stat, 0, SEEK_CUR) != 10)
		wl_fail("proc.self_stat_dup", "a dup does not share the offset");
	else
		wl_pass("proc.self_stat_dup");
}

static void check_mountinfo(void)
{
	char line[512], rest[512];
	off_t off = lseek(f_mnt, 0, SEEK_CUR);

	if (off != mnt_off || read_line(f_mnt, rest, sizeof(rest)) <= 0 ||
	    lseek(f_mnt, 0, SEEK_SET) != 0 ||
	    read_line(f_mnt, line, sizeof(line)) <= 0 || strcmp(line, mnt_line))
		wl_fail("proc.mountinfo", "offset %ld (want %ld), or the first line differs",
			(long)off, (long)mnt_off);
	else
		wl_pass("proc.mountinfo");
}

static void check_dirs(void)
{
	struct stat st;
	int fd;

	fd = openat(f_cdir, "stat", O_RDONLY);
	if (fd < 0 || fstat(f_cdir, &st) || !S_ISDIR(st.st_mode))
		wl_fail("proc.child_dir", "openat stat: %m");
	else
		check_stat("proc.child_dir", fd, c_pid, 0, getpid());
	if (fd >= 0)
		close(fd);
	fd = openat(f_ddir, "stat", O_RDONLY);
	if (fd >= 0 || errno != ESRCH)
		wl_fail("proc.dead_dir", "openat stat of reaped %d: fd %d errno %d",
			d_pid, fd, errno);
	else
		wl_pass("proc.dead_dir");
}

static void check_dead(void)
{
	char buf[64];

	if (read(f_dstat, buf, sizeof(buf)) >= 0 || errno != ESRCH)
		wl_fail("proc.dead_stat", "read of reaped %d's stat: errno %d",
			d_pid, errno);
	else
		wl_pass("proc.dead_stat");
}

static void open_all(void)
{
	char buf[64];

	f_status = open_or_die("/proc/self/status", 0, O_RDONLY);
	status_off = read_line(f_status, buf, sizeof(buf));
	f_stat = open_or_die("/proc/self/stat", 0, O_RDONLY);
	f_stat2 = dup(f_stat);
	f_mnt = open_or_die("/proc/self/mountinfo", 0, O_RDONLY);
	mnt_off = read_line(f_mnt, mnt_line, sizeof(mnt_line));
	f_cstat = open_or_die("/proc/%d/stat", c_pid, O_RDONLY);
	f_cdir = open_or_die("/proc/%d", c_pid, O_RDONLY | O_DIRECTORY);
	f_zstat = open_or_die("/proc/%d/stat", z_pid, O_RDONLY);
	f_dstat = open_or_die("/proc/%d/stat", d_pid, O_RDONLY);
	f_ddir = open_or_die("/proc/%d", d_pid, O_RDONLY | O_DIRECTORY);
}

/* the descriptor table at READY (wl_fdtable.h) */
static struct wl_fdtable fdt0;

static int root(void)
{
	siginfo_t si;
	int st;

	wl_own_session();
	c_pid = child(-1);
	z_pid = child(7);
	d_pid = child(-1);
	if (waitid(P_PID, z_pid, &si, WEXITED | WNOWAIT))
		wl_die("waitid zombie");
	open_all();
	if (getenv("WL_OUTSIDE"))
		open_or_die("/proc/%d/stat", getppid(), O_RDONLY);
	kill(d_pid, SIGKILL);
	if (waitpid(d_pid, &st, 0) != d_pid)
		wl_die("reap D");
	/* what the checks expect of D's files holds before, too */
	if (read(f_dstat, &st, sizeof(st)) >= 0 || errno != ESRCH)
		wl_die("reaped D's stat does not read ESRCH");
	if (openat(f_ddir, "stat", O_RDONLY) >= 0 || errno != ESRCH)
		wl_die("reaped D's directory finds its stat");
	printf("ROOT %d\n", getpid());
	wl_fdt_take(&fdt0);
	wl_ready();
	while (!go)
		pause();
	wl_fdt_check("procfiles.fd_table", &fdt0);
	check_self();
	check_mountinfo();
	check_stat("proc.child_stat", f_cstat, c_pid, 0, getpid());
	check_stat("proc.zombie_stat", f_zstat, z_pid, 'Z', getpid());
	check_dirs();
	check_dead();
	kill(c_pid, SIGKILL);
	waitpid(c_pid, NULL, 0);
	if (waitpid(z_pid, &st, 0) != z_pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 7)
		wl_fail("proc.zombie", "Z did not exit 7 (0x%x)", st);
	else
		wl_pass("proc.zombie");
	return wl_done();
}

int main(int argc, char **argv)
{
	signal(SIGUSR1, on_usr1);
	if (argc > 1 && !strcmp(argv[1], "outside"))
		setenv("WL_OUTSIDE", "1", 1);
	return wl_under_subreaper(root);
}
