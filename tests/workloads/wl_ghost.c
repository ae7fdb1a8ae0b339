// SPDX-License-Identifier: MIT
/*
 * wl_ghost DIR: deleted things a process still holds, in DIR:
 *	cwd	its working directory, removed (rmdir)
 *	root	a child chroot()ed into a directory removed since
 *	dir	a directory held open, removed
 *	indir	a file held open in a directory, both removed since
 *	fifo	a FIFO held open with bytes queued, unlinked
 *	chr	a /dev/null-like device node (mknod 1:3) held open, unlinked
 *	reg	a file held open, unlinked: owner, mode, atime and mtime
 *	link	a file opened by a name that was deleted while another link
 *		to it remains: the same file through the live link
 *	mapped	a file open and mapped, a file, a directory and a FIFO with
 *		bytes queued held open: their times untouched
 * Each deleted one has an owner, mode and old times (atime before mtime,
 * so that any read would bump the atime under relatime).  READY ROOT=;
 * on SIGUSR1 all are checked, attributes first.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "wl_common.h"

#define UID 1234
#define GID 2345
#define ATIME 1000000000L
#define MTIME 1100000000L

static volatile sig_atomic_t go;
static char dir[2048];
static int dfd, infd, fifo, chr, reg, lnk, mapfd, heldfd, heldfifo;
static int cmd[2], res[2];
static DIR *helddir;
static pid_t child;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static const char *at(const char *name)
{
	static char buf[4][4096];
	static int n;

	n = (n + 1) % 4;
	snprintf(buf[n], sizeof(buf[n]), "%s/%s", dir, name);
	return buf[n];
}

/* the owner, mode and times the checks expect, set by path */
static void give_attrs(const char *path, mode_t mode)
{
	struct timespec ts[2] = { { ATIME, 5 }, { MTIME, 7 } };

	if (chown(path, UID, GID) || chmod(path, mode) ||
	    utimensat(AT_FDCWD, path, ts, 0))
		wl_die("attributes of %s", path);
}

static void check_attrs(const char *name, int fd, mode_t mode, mode_t type)
{
	struct stat st;

	if (fstat(fd, &st))
		return wl_fail(name, "fstat: %s", strerror(errno));
	if ((st.st_mode & S_IFMT) != type || st.st_nlink)
		return wl_fail(name, "type %o nlink %lu, want %o and 0",
			       st.st_mode & S_IFMT, st.st_nlink, type);
	if (st.st_uid != UID || st.st_gid != GID || (st.st_mode & 07777) != mode)
		return wl_fail(name, "%u:%u %o, want %u:%u %o", st.st_uid,
			       st.st_gid, st.st_mode & 07777, UID, GID, mode);
	if (st.st_atim.tv_sec != ATIME || st.st_atim.tv_nsec != 5 ||
	    st.st_mtim.tv_sec != MTIME || st.st_mtim.tv_nsec != 7)
		return wl_fail(name, "atime %ld.%09ld mtime %ld.%09ld, want %ld.5 %ld.7",
			       st.st_atim.tv_sec, st.st_atim.tv_nsec,
			       st.st_mtim.tv_sec, st.st_mtim.tv_nsec, ATIME, MTIME);
	wl_pass(name);
}

/* /proc/self/fd/N names the deleted path */
static void check_link(const char *name, int fd, const char *want)
{
	char path[64], buf[4096], w[4200];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (fd == AT_FDCWD)
		snprintf(path, sizeof(path), "/proc/self/cwd");
	n = readlink(path, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	snprintf(w, sizeof(w), "%s (deleted)", want);
	if (strcmp(buf, w))
		return wl_fail(name, "%s is '%s', want '%s'", path, buf, w);
	if (!access(want, F_OK))
		return wl_fail(name, "%s exists", want);
	wl_pass(name);
}

static int make_file(const char *path, const char *text, int flags)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		wl_die("create %s", path);
	close(fd);
	fd = open(path, flags);
	if (fd < 0)
		wl_die("open %s", path);
	return fd;
}

/* in the deleted root: "/" has no links, and ".." of it is itself */
static int root_main(void)
{
	struct stat a, b;
	char c, ok;

	close(cmd[1]);
	close(res[0]);
	if (chdir(at("root-gone")) || chroot(".") || chdir("/"))
		_exit(2);
	ok = 'R';
	if (write(res[1], &ok, 1) != 1)
		_exit(2);
	while (read(cmd[0], &c, 1) == 1) {
		ok = !stat("/", &a) && !stat("/..", &b) && a.st_ino == b.st_ino &&
		     !a.st_nlink && S_ISDIR(a.st_mode) ? 'y' : 'n';
		if (write(res[1], &ok, 1) != 1)
			_exit(2);
	}
	_exit(0);
}

static void setup_dirs(void)
{
	char c;

	if (mkdir(at("root-gone"), 0755) || pipe(cmd) || pipe(res))
		wl_die("root setup");
	child = fork();
	if (!child)
		root_main();
	close(cmd[0]);
	close(res[1]);
	if (read(res[0], &c, 1) != 1 || c != 'R' || rmdir(at("root-gone")))
		wl_die("child did not chroot");
	if (mkdir(at("cwd-gone"), 0700) || chdir(at("cwd-gone")) ||
	    rmdir(at("cwd-gone")))
		wl_die("cwd");
	if (mkdir(at("dir-gone"), 0700))
		wl_die("dir");
	give_attrs(at("dir-gone"), 0751);
	dfd = open(at("dir-gone"), O_RDONLY | O_DIRECTORY);
	if (dfd < 0 || rmdir(at("dir-gone")))
		wl_die("dir");
	if (mkdir(at("sub-gone"), 0700))
		wl_die("indir");
	infd = make_file(at("sub-gone/inner"), "inner-bytes", O_RDWR);
	give_attrs(at("sub-gone/inner"), 0604);
	lseek(infd, 6, SEEK_SET);
	if (unlink(at("sub-gone/inner")) || rmdir(at("sub-gone")))
		wl_die("indir");
}

static void setup_nodes(void)
{
	struct timespec ts[2] = { { ATIME, 5 }, { MTIME, 7 } };

	if (mkfifo(at("fifo-gone"), 0600))
		wl_die("mkfifo");
	fifo = open(at("fifo-gone"), O_RDWR | O_NONBLOCK);
	if (fifo < 0 || write(fifo, "queued", 6) != 6)
		wl_die("fifo");
	give_attrs(at("fifo-gone"), 0620);	/* after the write: mtime */
	unlink(at("fifo-gone"));
	if (mknod(at("null-gone"), S_IFCHR | 0600, makedev(1, 3)))
		wl_die("mknod");
	give_attrs(at("null-gone"), 0666);
	chr = open(at("null-gone"), O_RDWR);
	if (chr < 0 || unlink(at("null-gone")))
		wl_die("chr");
	reg = make_file(at("reg-gone"), "regular-bytes", O_RDONLY);
	give_attrs(at("reg-gone"), 0640);
	unlink(at("reg-gone"));
	lnk = make_file(at("link-gone"), "linked", O_RDWR);
	if (link(at("link-gone"), at("link-live")) || unlink(at("link-gone")))
		wl_die("link");
	lseek(lnk, 3, SEEK_SET);
	mapfd = make_file(at("mapped"), "mapped-bytes", O_RDONLY);
	if (mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, mapfd, 0) == MAP_FAILED ||
	    utimensat(AT_FDCWD, at("mapped"), ts, 0))
		wl_die("mapped");
	/* held open only: a file at an offset, a directory read half-way */
	heldfd = make_file(at("held"), "held-bytes", O_RDWR);
	lseek(heldfd, 4, SEEK_SET);
	if (mkdir(at("held-dir"), 0700) || mkdir(at("held-dir/a"), 0700) ||
	    mkdir(at("held-dir/b"), 0700))
		wl_die("held-dir");
	if (mkfifo(at("held-fifo"), 0600))
		wl_die("held-fifo");
	heldfifo = open(at("held-fifo"), O_RDWR | O_NONBLOCK);
	if (heldfifo < 0 || write(heldfifo, "live", 4) != 4 ||
	    utimensat(AT_FDCWD, at("held-fifo"), ts, 0))
		wl_die("held-fifo");
	helddir = opendir(at("held-dir"));
	if (!helddir || !readdir(helddir) ||
	    utimensat(AT_FDCWD, at("held"), ts, 0) ||
	    utimensat(AT_FDCWD, at("held-dir"), ts, 0))
		wl_die("held");
}

static void check_root(void)
{
	char c = 'c';

	if (write(cmd[1], &c, 1) != 1 || read(res[0], &c, 1) != 1 || c != 'y')
		return wl_fail("ghost.root", "the child's root is not a deleted directory (%c)", c);
	wl_pass("ghost.root");
}

static void check_cwd(void)
{
	struct stat st;

	check_link("ghost.cwd", AT_FDCWD, at("cwd-gone"));
	if (stat(".", &st) || !S_ISDIR(st.st_mode) || st.st_nlink)
		wl_fail("ghost.cwd_dir", "'.' is not a deleted directory");
	else
		wl_pass("ghost.cwd_dir");
}

static void check_dir(void)
{
	DIR *d = fdopendir(dup(dfd));
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)))
		n++;
	if (d)
		closedir(d);
	/* a removed directory lists nothing, not even . and .. */
	if (n)
		wl_fail("ghost.dir_empty", "%d entries", n);
	else
		wl_pass("ghost.dir_empty");
	check_link("ghost.dir", dfd, at("dir-gone"));
}

static void check_contents(const char *name, int fd, const char *want, off_t pos)
{
	char buf[64] = "";
	ssize_t n;

	if (lseek(fd, 0, SEEK_CUR) != pos)
		return wl_fail(name, "offset %ld, want %ld",
			       (long)lseek(fd, 0, SEEK_CUR), (long)pos);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n != (ssize_t)strlen(want) || memcmp(buf, want, n))
		return wl_fail(name, "'%s', want '%s'", buf, want);
	wl_pass(name);
}

static void check_nodes(void)
{
	char buf[16] = "";
	struct stat st;

	if (read(fifo, buf, sizeof(buf)) != 6 || memcmp(buf, "queued", 6))
		wl_fail("ghost.fifo_data", "read '%s'", buf);
	else if (write(fifo, "ab", 2) != 2 || read(fifo, buf, 4) != 2)
		wl_fail("ghost.fifo_data", "round trip: %s", strerror(errno));
	else
		wl_pass("ghost.fifo_data");
	if (fstat(chr, &st) || st.st_rdev != makedev(1, 3) ||
	    write(chr, "x", 1) != 1 || read(chr, buf, 1) != 0)
		wl_fail("ghost.chr_null", "not /dev/null-like");
	else
		wl_pass("ghost.chr_null");
}

static void check_relinked(void)
{
	struct stat a, b;
	char buf[8] = "";

	if (fstat(lnk, &a) || stat(at("link-live"), &b) || a.st_ino != b.st_ino ||
	    a.st_dev != b.st_dev || a.st_nlink != 1)
		return wl_fail("ghost.link", "not the live link's file");
	if (lseek(lnk, 0, SEEK_CUR) != 3 || pwrite(lnk, "L", 1, 0) != 1)
		return wl_fail("ghost.link", "offset or write");
	int fd = open(at("link-live"), O_RDONLY);

	if (fd < 0 || read(fd, buf, 6) != 6 || strcmp(buf, "Linked"))
		wl_fail("ghost.link", "the live link reads '%s'", buf);
	else
		wl_pass("ghost.link");
	if (fd >= 0)
		close(fd);
}

/* the times of files held are the ones we set: nothing read them */
static void check_times(const char *name, const char *path)
{
	struct stat st;

	if (stat(path, &st) || st.st_atim.tv_sec != ATIME ||
	    st.st_mtim.tv_sec != MTIME)
		return wl_fail(name, "atime %ld mtime %ld, want %ld %ld",
			       st.st_atim.tv_sec, st.st_mtim.tv_sec, ATIME, MTIME);
	wl_pass(name);
}

/* the live FIFO still has its bytes (after its times were checked) */
static void check_contents_fifo(void)
{
	char buf[8] = "";

	if (read(heldfifo, buf, sizeof(buf)) != 4 || memcmp(buf, "live", 4))
		return wl_fail("held_fifo.data", "read '%s'", buf);
	wl_pass("held_fifo.data");
}

static int root(void)
{
	signal(SIGUSR1, on_usr1);
	setup_dirs();
	setup_nodes();
	if (utimensat(AT_FDCWD, dir, (struct timespec[2]){ { ATIME, 0 },
							     { MTIME, 0 } }, 0))
		wl_die("times of %s", dir);
	printf("READY ROOT=%d\n", getpid());
	fflush(stdout);
	while (!go)
		pause();
	check_times("times.mapped", at("mapped"));
	check_times("times.held", at("held"));
	check_times("times.held_dir", at("held-dir"));
	check_times("times.held_fifo", at("held-fifo"));
	check_contents_fifo();
	/* the work directory held the ghosts made at restore */
	check_times("times.ghosts_dir", dir);
	check_attrs("attrs.dir", dfd, 0751, S_IFDIR);
	check_attrs("attrs.indir", infd, 0604, S_IFREG);
	check_attrs("attrs.fifo", fifo, 0620, S_IFIFO);
	check_attrs("attrs.chr", chr, 0666, S_IFCHR);
	check_attrs("attrs.reg", reg, 0640, S_IFREG);
	check_root();
	check_cwd();
	check_dir();
	check_link("ghost.indir", infd, at("sub-gone/inner"));
	check_contents("ghost.indir_data", infd, "inner-bytes", 6);
	check_link("ghost.fifo", fifo, at("fifo-gone"));
	check_link("ghost.chr", chr, at("null-gone"));
	check_link("ghost.reg", reg, at("reg-gone"));
	check_contents("ghost.reg_data", reg, "regular-bytes", 0);
	check_nodes();
	check_relinked();
	close(cmd[1]);
	waitpid(child, NULL, 0);
	return wl_done();
}

int main(int argc, char **argv)
{
	if (argc != 2)
		wl_die("usage: wl_ghost DIR");
	snprintf(dir, sizeof(dir), "%s", argv[1]);
	return wl_under_subreaper(root);
}
