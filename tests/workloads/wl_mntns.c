// SPDX-License-Identifier: MIT
/*
 * wl_mntns - a tree in a mount namespace of its own with a rootfs entered
 * by pivot_root (run as init of unshare --mount --pid --fork):
 *
 *   wl_mntns setup ROOTFS HOSTDIR HOSTFILE [keep]
 *
 * binds the host's /usr (read-only), /dev/null (a single file), HOSTDIR
 * (nosuid,nodev; and read-only on /over) and HOSTFILE into ROOTFS, pivots
 * into it, mounts a tmpfs over /over, proc,
 * sysfs (ro), mqueue, a shared tmpfs on /tmp, a tmpfs on /data (mode,
 * owner, size; unbindable) with files of every kind, a devpts, a tmpfs on /data/sub
 * (noexec,noatime) and a tmpfs on /ro made read-only, runc's masked and
 * read-only paths (/proc/sys bound read-only onto itself, /over/top
 * bound onto /proc/timer_list, read-only tmpfs on /proc/acpi and
 * /sys/firmware), moves its stdio to
 * /hostdir/wl.log and /dev/null and execs /wl_mntns run, which keeps a
 * file of /data open with /data as its cwd and a unix listener bound at
 * /tmp/srv.sock (which it connects to), notes its mountinfo, says
 * READY and after SIGUSR1 checks all of it (after SIGUSR2 too, and goes
 * on: "CHECKED N"): the mount table (mount
 * points, roots, fs types, sources, per-mount and super block options,
 * propagation), the files with their modes, owners, times, sparseness and
 * hard links, the open file, and that writes through the binds reach the
 * host (the test reads HOSTDIR/out and HOSTFILE).  With "keep" it keeps
 * HOSTFILE open from before the pivot (refused at freeze).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdbool.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>

#include "wl_common.h"

#define T0 1000000000L		/* the times files are given */
#define SPARSE_SIZE (1 << 20)
#define SPARSE_AT (512 << 10)
#define MQUEUE_MAGIC 0x19800202

static volatile sig_atomic_t go, again;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void on_usr2(int sig)
{
	(void)sig;
	again = 1;
}

static void must(int ok, const char *what)
{
	if (!ok)
		wl_die("%s", what);
}

static void bind_mount(const char *src, const char *dst, unsigned long flags)
{
	must(!mount(src, dst, NULL, MS_BIND, NULL), dst);
	if (flags)
		must(!mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | flags,
			    NULL), dst);
}

static void put_file(const char *path, const char *text, mode_t mode,
		     uid_t uid, gid_t gid, long sec)
{
	struct timespec ts[2] = { { sec, 123456789 }, { sec, 987654321 } };
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	must(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text),
	     path);
	must(!fchown(fd, uid, gid) && !fchmod(fd, mode) &&
	     !futimens(fd, ts) && !close(fd), path);
}

static void set_times(const char *path, long sec)
{
	struct timespec ts[2] = { { sec, 1 }, { sec, 555 } };

	must(!utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), path);
}

/* /data: a file, a hard link to it, a directory, a symlink, a sparse file */
static void fill_data(void)
{
	char buf[4096];
	int fd;

	put_file("/data/a", "hello tmpfs\n", 0640, 1234, 5678, T0);
	must(!link("/data/a", "/data/hl"), "link");
	must(!mkdir("/data/dir", 0711) && !chmod("/data/dir", 0711), "mkdir");
	put_file("/data/dir/f", "in a dir\n", 0600, 42, 43, T0 + 1);
	must(!symlink("a", "/data/sym") && !lchown("/data/sym", 7, 8),
	     "symlink");
	set_times("/data/sym", T0 + 2);
	fd = open("/data/sparse", O_RDWR | O_CREAT, 0644);
	wl_fill(buf, sizeof(buf), 77);
	must(fd >= 0 && !ftruncate(fd, SPARSE_SIZE) &&
	     pwrite(fd, buf, sizeof(buf), SPARSE_AT) == sizeof(buf) &&
	     !close(fd), "sparse");
	put_file("/data/open.txt", "kept open\n", 0644, 0, 0, T0 + 3);
	set_times("/data/dir", T0 + 4);
}

static void setup(const char *rootfs, const char *hostdir, const char *hostfile,
		  bool keep_host)
{
	int keep = keep_host ? open(hostfile, O_RDONLY | O_CLOEXEC) : 0;
	char p[4096];
	int fd;

	must(!mount(rootfs, rootfs, NULL, MS_BIND, NULL), "bind rootfs");
	snprintf(p, sizeof(p), "%s/usr", rootfs);
	bind_mount("/usr", p, MS_RDONLY);
	snprintf(p, sizeof(p), "%s/dev/null", rootfs);
	bind_mount("/dev/null", p, 0);
	snprintf(p, sizeof(p), "%s/hostdir", rootfs);
	bind_mount(hostdir, p, MS_NOSUID | MS_NODEV);
	snprintf(p, sizeof(p), "%s/hostfile", rootfs);
	bind_mount(hostfile, p, 0);
	snprintf(p, sizeof(p), "%s/over", rootfs);
	bind_mount(hostdir, p, MS_RDONLY);
	must(!chdir(rootfs) && !syscall(SYS_pivot_root, ".", ".") &&
	     !umount2(".", MNT_DETACH) && !chdir("/"), "pivot_root");
	must(!mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		    NULL), "proc");
	must(!mount("sysfs", "/sys", "sysfs",
		    MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL), "sysfs");
	must(!mount("mqueue", "/dev/mqueue", "mqueue",
		    MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL), "mqueue");
	must(!mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		    "newinstance,ptmxmode=0666,mode=0620"), "devpts");
	must(!mount("tmpfs", "/tmp", "tmpfs", 0, "size=8m,mode=1777") &&
	     !mount(NULL, "/tmp", NULL, MS_SHARED, NULL), "tmp");
	must(!mount("crfsdata", "/data", "tmpfs", MS_NOSUID | MS_NODEV,
		    "size=4m,mode=0750,uid=1000,gid=1000"), "data");
	fill_data();
	must(!mkdir("/data/sub", 0755), "mkdir sub");
	must(!mount("tmpfs", "/data/sub", "tmpfs", MS_NOEXEC | MS_NOATIME,
		    "size=1m,nr_inodes=100") &&
	     !mount(NULL, "/data", NULL, MS_UNBINDABLE, NULL), "sub");
	put_file("/data/sub/f", "below\n", 0644, 0, 0, T0 + 5);
	must(!mount("tmpfs", "/over", "tmpfs", 0, "size=1m"), "over");
	put_file("/over/top", "on top\n", 0600, 0, 0, T0 + 7);
	must(!mount("tmpfs", "/ro", "tmpfs", 0, "size=1m"), "ro");
	put_file("/ro/x", "read only\n", 0444, 0, 0, T0 + 6);
	must(!mount(NULL, "/ro", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL),
	     "remount ro");
	/* as runc masks: parts of the container's own proc and tmpfs bound */
	bind_mount("/proc/sys", "/proc/sys", MS_RDONLY);
	bind_mount("/over/top", "/proc/timer_list", 0);
	must(!mount("tmpfs", "/proc/acpi", "tmpfs", MS_RDONLY, NULL), "acpi");
	must(!mount("tmpfs", "/sys/firmware", "tmpfs", MS_RDONLY, NULL),
	     "firmware");
	/* "keep": a descriptor of the host's, kept into the container */
	if (keep && fcntl(keep, F_SETFD, 0))
		wl_die("keep");
	fd = open("/hostdir/wl.log", O_WRONLY | O_CREAT | O_APPEND, 0644);
	must(fd >= 0 && dup2(fd, 1) == 1 && dup2(fd, 2) == 2 && !close(fd),
	     "log");
	fd = open("/dev/null", O_RDONLY);
	must(fd >= 0 && dup2(fd, 0) == 0 && !close(fd), "stdin");
	execl("/wl_mntns", "wl_mntns", "run", (char *)NULL);
	wl_die("exec /wl_mntns");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *before[64];
static size_t nbefore;

/* mountinfo without ids, devices and peer group numbers, sorted */
static size_t mount_table(char **out, size_t max)
{
	char line[4096], f[6][1024], rest[2048], *dash, *o, *p;
	FILE *m = fopen("/proc/self/mountinfo", "r");
	size_t n = 0;

	must(m != NULL, "mountinfo");
	while (n < max && fgets(line, sizeof(line), m)) {
		line[strcspn(line, "\n")] = '\0';
		dash = strstr(line, " - ");
		must(dash && sscanf(line, "%1023s %1023s %1023s %1023s %1023s %1023s",
				    f[0], f[1], f[2], f[3], f[4], f[5]) == 6,
		     "mountinfo line");
		*dash = '\0';
		o = line;
		for (int i = 0; i < 6; i++)
			o = strchr(o, ' ') ? strchr(o, ' ') + 1 : o + strlen(o);
		snprintf(rest, sizeof(rest), "%s", o);
		for (p = rest; (p = strchr(p, ':'));)	/* shared:N -> shared */
			memmove(p, p + strcspn(p, " "), strlen(p + strcspn(p, " ")) + 1);
		if (asprintf(&out[n++], "%s %s %s [%s] %s", f[4], f[3], f[5],
			     rest, dash + 3) < 0)
			wl_die("asprintf");
	}
	fclose(m);
	qsort(out, n, sizeof(*out), cmp_str);
	return n;
}


static void check_table(void)
{
	char *now[64];
	size_t n = mount_table(now, 64), i;

	for (i = 0; i < n && i < nbefore && !strcmp(now[i], before[i]); i++)
		;
	if (i == n && i == nbefore)
		wl_pass("mntns.table");
	else
		wl_fail("mntns.table", "%zu mounts, had %zu; first difference: '%s', had '%s'",
			n, nbefore, i < n ? now[i] : "-",
			i < nbefore ? before[i] : "-");
	for (i = 0; i < n; i++)
		free(now[i]);
}

static void check_file(const char *path, const char *text, mode_t mode,
		       uid_t uid, gid_t gid, long sec)
{
	char buf[256] = "";
	struct stat st;
	int fd = open(path, O_RDONLY);
	ssize_t got = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (got < 0 || stat(path, &st)) {
		wl_fail("mntns.files", "%s: %s", path, strerror(errno));
		return;
	}
	buf[got] = '\0';
	if (strcmp(buf, text) || (st.st_mode & 07777) != mode ||
	    st.st_uid != uid || st.st_gid != gid || st.st_mtim.tv_sec != sec ||
	    st.st_mtim.tv_nsec != 987654321)
		wl_fail("mntns.files", "%s: '%s' mode %o owner %d:%d mtime %ld.%09ld",
			path, buf, st.st_mode & 07777, st.st_uid, st.st_gid,
			st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	else
		wl_pass(path);
}

static void check_data(void)
{
	char buf[4096], lnk[64] = "";
	struct stat a, h, d, s, r;

	check_file("/data/a", "hello tmpfs\n", 0640, 1234, 5678, T0);
	check_file("/data/dir/f", "in a dir\n", 0600, 42, 43, T0 + 1);
	check_file("/data/sub/f", "below\n", 0644, 0, 0, T0 + 5);
	check_file("/ro/x", "read only\n", 0444, 0, 0, T0 + 6);
	check_file("/over/top", "on top\n", 0600, 0, 0, T0 + 7);
	check_file("/proc/timer_list", "on top\n", 0600, 0, 0, T0 + 7);
	if (stat("/data/a", &a) || stat("/data/hl", &h) || a.st_ino != h.st_ino ||
	    a.st_nlink != 2)
		wl_fail("mntns.hardlink", "a and hl are not one inode with 2 links");
	else
		wl_pass("mntns.hardlink");
	if (stat("/data/dir", &d) || (d.st_mode & 07777) != 0711 ||
	    d.st_mtim.tv_sec != T0 + 4 || d.st_mtim.tv_nsec != 555)
		wl_fail("mntns.dir", "mode %o mtime %ld.%ld", d.st_mode & 07777,
			d.st_mtim.tv_sec, d.st_mtim.tv_nsec);
	else
		wl_pass("mntns.dir");
	if (readlink("/data/sym", lnk, sizeof(lnk) - 1) != 1 || strcmp(lnk, "a") ||
	    lstat("/data/sym", &s) || s.st_uid != 7 || s.st_gid != 8 ||
	    s.st_mtim.tv_sec != T0 + 2)
		wl_fail("mntns.symlink", "-> '%s' owner %d:%d mtime %ld", lnk,
			s.st_uid, s.st_gid, s.st_mtim.tv_sec);
	else
		wl_pass("mntns.symlink");
	if (stat("/data", &r) || (r.st_mode & 07777) != 0750 ||
	    r.st_uid != 1000 || r.st_gid != 1000)
		wl_fail("mntns.dataroot", "mode %o owner %d:%d", r.st_mode & 07777,
			r.st_uid, r.st_gid);
	else
		wl_pass("mntns.dataroot");
	int fd = open("/data/sparse", O_RDONLY);

	if (fd < 0 || fstat(fd, &s) || s.st_size != SPARSE_SIZE ||
	    s.st_blocks * 512 > 64 * 1024 ||
	    pread(fd, buf, sizeof(buf), SPARSE_AT) != sizeof(buf) ||
	    wl_check(buf, sizeof(buf), 77) != (size_t)-1 ||
	    pread(fd, buf, 8, 0) != 8 || memcmp(buf, "\0\0\0\0\0\0\0\0", 8))
		wl_fail("mntns.sparse", "size %ld blocks %ld", (long)s.st_size,
			(long)s.st_blocks);
	else
		wl_pass("mntns.sparse");
	if (fd >= 0)
		close(fd);
}

static void check_rest(int held)
{
	char buf[64] = "", cwd[256] = "";
	struct stat fs, ds;
	struct statfs sf;
	int fd;

	if (pread(held, buf, sizeof(buf) - 1, 0) != 10 ||
	    strcmp(buf, "kept open\n") || fstat(held, &fs) ||
	    stat("/data/open.txt", &ds) || fs.st_ino != ds.st_ino ||
	    fs.st_dev != ds.st_dev)
		wl_fail("mntns.openfile", "'%s' not /data/open.txt", buf);
	else
		wl_pass("mntns.openfile");
	if (!getcwd(cwd, sizeof(cwd)) || strcmp(cwd, "/data"))
		wl_fail("mntns.cwd", "'%s'", cwd);
	else
		wl_pass("mntns.cwd");
	fd = open("/ro/x", O_WRONLY);
	if (fd >= 0 || errno != EROFS)
		wl_fail("mntns.ro", "/ro/x opened for writing (errno %d)", errno);
	else
		wl_pass("mntns.ro");
	if (statfs("/dev/mqueue", &sf) || sf.f_type != MQUEUE_MAGIC ||
	    access("/sys/kernel", F_OK) || getpid() != 1 ||
	    access("/proc/1/comm", R_OK) || access("/usr/bin", F_OK) ||
	    stat("/dev/pts/ptmx", &fs) || (fs.st_mode & 0777) != 0666)
		wl_fail("mntns.fresh", "mqueue, sysfs, proc of pid 1, devpts or /usr missing");
	else
		wl_pass("mntns.fresh");
	fd = open("/hostdir/out", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, "through the bind\n", 17) != 17 || close(fd))
		wl_fail("mntns.hostdir", "cannot write /hostdir/out");
	fd = open("/hostfile", O_WRONLY | O_TRUNC);
	if (fd < 0 || write(fd, "written inside\n", 15) != 15 || close(fd))
		wl_fail("mntns.hostfile", "cannot write /hostfile");
}

static const struct sockaddr_un sock_addr = {
	.sun_family = AF_UNIX, .sun_path = "/tmp/srv.sock",
};

/* a listener bound in a tmpfs: its name must be found inside again */
static int listener(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	must(fd >= 0 && !bind(fd, (const struct sockaddr *)&sock_addr,
			      sizeof(sock_addr)) && !listen(fd, 1),
	     "listen on /tmp/srv.sock");
	return fd;
}

static void check_socket(int srv)
{
	int c = socket(AF_UNIX, SOCK_STREAM, 0), a = -1;
	char b = 0;

	if (c >= 0 && !connect(c, (const struct sockaddr *)&sock_addr,
			       sizeof(sock_addr)))
		a = accept(srv, NULL, NULL);
	if (a < 0 || write(c, "x", 1) != 1 || read(a, &b, 1) != 1 || b != 'x')
		wl_fail("mntns.socket", "no connection through /tmp/srv.sock: %s",
			strerror(errno));
	else
		wl_pass("mntns.socket");
	close(c);
	close(a);
}

/*
 * Notes the mount table, READY; after SIGUSR1 compares it and checks the
 * rest (check), and returns.  SIGUSR2 checks all the same, says
 * "CHECKED N" and waits on (a checkpoint of a restored tree: the test
 * asks after each generation).
 */
static void ready_and_wait(void (*check)(void))
{
	sigset_t both, old;
	int round = 0;

	wl_own_session();
	signal(SIGUSR1, on_usr1);
	signal(SIGUSR2, on_usr2);
	sigemptyset(&both);
	sigaddset(&both, SIGUSR1);
	sigaddset(&both, SIGUSR2);
	sigprocmask(SIG_BLOCK, &both, &old);
	nbefore = mount_table(before, 64);
	wl_ready();
	for (;;) {
		while (!go && !again)
			sigsuspend(&old);
		check_table();
		check();
		if (go)
			break;
		again = 0;
		printf("CHECKED %d\n", ++round);
		fflush(stdout);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static int held = -1, srv = -1;

static void check_run(void)
{
	check_data();
	check_rest(held);
	check_socket(srv);
}

static int run(void)
{
	held = open("/data/open.txt", O_RDONLY);
	srv = listener();
	must(held >= 0 && !chdir("/data"), "open /data/open.txt");
	ready_and_wait(check_run);
	return wl_done();
}

static const char *plain_file;

static void check_plain(void)
{
	check_file(plain_file, "plain\n", 0600, 0, 0, T0 + 8);
}

/*
 * "plain DIR": no rootfs of its own (unshare --mount-proc: a copy of the
 * host's mounts), a tmpfs on DIR with a file; its stdio the test's log.
 */
static int plain(const char *dir)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/f", dir);
	must(!mount("crfsplain", dir, "tmpfs", MS_NOSUID, "size=1m,mode=0700"),
	     "mount tmpfs");
	put_file(path, "plain\n", 0600, 0, 0, T0 + 8);
	plain_file = path;
	ready_and_wait(check_plain);
	return wl_done();
}

static void check_none(void)
{
}

/*
 * "copy [GONE|ro:PATH]": a copy of the host's mounts plus a proc (unshare
 * --mount-proc), nothing of its own; with GONE, the host's mount there
 * taken away first, with ro:PATH its copy at PATH made read-only: no
 * longer a plain copy, and that must stay so.
 */
static int copy(const char *change)
{
	if (change && !strncmp(change, "ro:", 3))
		must(!mount(NULL, change + 3, NULL,
			    MS_REMOUNT | MS_BIND | MS_RDONLY, NULL),
		     "remount read-only");
	else if (change)
		must(!umount2(change, MNT_DETACH), "umount");
	ready_and_wait(check_none);
	return wl_done();
}

int main(int argc, char **argv)
{
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "setup"))
		setup(argv[2], argv[3], argv[4], argc == 6);
	if (argc == 2 && !strcmp(argv[1], "run"))
		return run();
	if (argc == 3 && !strcmp(argv[1], "plain"))
		return plain(argv[2]);
	if ((argc == 2 || argc == 3) && !strcmp(argv[1], "copy"))
		return copy(argv[2]);
	fprintf(stderr, "usage: wl_mntns setup ROOTFS HOSTDIR HOSTFILE [keep] | run | plain DIR | copy [GONE|ro:PATH]\n");
	return 2;
}
