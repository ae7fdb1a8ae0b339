/* SPDX-License-Identifier: MIT */
/*
 * Descriptor properties of the kind CRIU's zdtm suite checks (file_*,
 * fd_offset, ghost_holes*, link10, pipe*, rmdir_open, inotify*, epoll*,
 * pidfd_of_thread, socket_udp-corked) that no other workload covers: the
 * status flags O_NOATIME, O_SYNC, O_DSYNC; an owner of SIGIO given as a
 * thread or a process group (F_SETOWN_EX); a packet-mode pipe (O_DIRECT)
 * with two packets queued; a directory read half way; an unlinked sparse
 * file (its holes, setuid bits, mtime); one unlinked inode held through
 * two names; an O_TMPFILE file (linked into place after the restore); a directory removed while open; a one-shot
 * inotify watch; a one-shot epoll interest that has fired; a pidfd of the
 * main thread (PIDFD_THREAD); a UDP socket with UDP_CORK, UDP_SEGMENT,
 * UDP_GRO and SO_BUF_LOCK set; a pty slave in exclusive mode (TIOCEXCL);
 * a unix socket whose peek offset (SO_PEEK_OFF) moved on; pidfds of two
 * children reaped since (zdtm pidfd_dead): two of one that exited with
 * status 7, one of them PIDFD_NONBLOCK, one of one killed by SIGTERM.  Refused by the freeze, set only when WL_ZDTM_SET names
 * them: secret memory (memfd_secret) "secretmem", a corked UDP socket
 * holding data "udpcork"; a UDP socket shut down "udpshut" (once refused, restored since: t_udpshut).  Usage: wl_zdtm_fd DIR.  READY; on SIGUSR1 each
 * is checked.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <netinet/in.h>
#include <linux/udp.h>
#include <sys/stat.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>
#include "wl_common.h"
#include "wl_fdtable.h"

#define NENT 300
#define SPARSE_OFF (1 << 20)

static volatile sig_atomic_t go;
static const char *dir;
static int pkt_fl[2];
static int fd_flags, fd_own_tid, fd_own_pgrp, pipe_pkt[2], fd_dir, fd_sparse,
	   fd_tmp, fd_rmdir, fd_ino, fd_ep, pipe_ep[2];
static int dir_seen[NENT], have_noatime, fd_pidfd, fd_secret = -1;
static char *secret;
static int sk_udp, fd_link_a, fd_link_b, sk_shut = -1;

static int udp_opt(int opt)
{
	socklen_t l = sizeof(int);
	int v = -1;

	getsockopt(sk_udp, IPPROTO_UDP, opt, &v, &l);
	return v;
}

static void setup_udp(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	int one = 1, seg = 1000;

	sk_udp = socket(AF_INET, SOCK_DGRAM, 0);
	if (sk_udp < 0 || bind(sk_udp, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(sk_udp, (struct sockaddr *)&a, &l) ||
	    setsockopt(sk_udp, IPPROTO_UDP, UDP_CORK, &one, sizeof(one)) ||
	    setsockopt(sk_udp, IPPROTO_UDP, UDP_SEGMENT, &seg, sizeof(seg)) ||
	    setsockopt(sk_udp, IPPROTO_UDP, UDP_GRO, &one, sizeof(one)) ||
	    setsockopt(sk_udp, SOL_SOCKET, SO_BUF_LOCK, &(int){ 3 }, sizeof(int)))
		wl_die("udp socket");
	/* socket_udp_shutdown: connected to itself, shut both ways */
	if (wl_zdtm_want("udpshut")) {
		sk_shut = socket(AF_INET, SOCK_DGRAM, 0);
		if (sk_shut < 0 || connect(sk_shut, (struct sockaddr *)&a, l) ||
		    shutdown(sk_shut, SHUT_RDWR))
			wl_die("udp shutdown");
	}
	/* to itself: held back by the cork */
	if (wl_zdtm_want("udpcork") &&
	    sendto(sk_udp, "corked", 6, 0, (struct sockaddr *)&a, l) != 6)
		wl_die("send corked");
}

static void check_udp(void)
{
	socklen_t l = sizeof(int);
	int v = -1;

	if (udp_opt(UDP_CORK) != 1 || udp_opt(UDP_SEGMENT) != 1000 ||
	    udp_opt(UDP_GRO) != 1)
		wl_fail("udp.opts", "UDP_CORK %d UDP_SEGMENT %d UDP_GRO %d, want 1 1000 1",
			udp_opt(UDP_CORK), udp_opt(UDP_SEGMENT), udp_opt(UDP_GRO));
	else if (getsockopt(sk_udp, SOL_SOCKET, SO_BUF_LOCK, &v, &l) || v != 3)
		wl_fail("udp.opts", "SO_BUF_LOCK %d, want 3", v);
	else
		wl_pass("udp.opts");
	/* shut for sending: a send fails with EPIPE */
	if (sk_shut < 0)
		wl_skip("udp.shutdown", "not set (WL_ZDTM_SET)");
	else if (send(sk_shut, "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL) != -1 ||
		 errno != EPIPE)
		wl_fail("udp.shutdown", "a send on the shut down socket: %s",
			strerror(errno));
	else
		wl_pass("udp.shutdown");
}
static pid_t self;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static int xopen(const char *name, int flags)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, flags, 0600);
	if (fd < 0)
		wl_die("open %s", path);
	return fd;
}

/* the entries "eN" of the directory read from fd, counted in dir_seen */
static int read_entries(int fd, int max)
{
	char buf[512];
	int n = 0, k;
	long got, off;

	while (n < max) {
		got = syscall(SYS_getdents64, fd, buf, sizeof(buf));
		if (got <= 0)
			break;
		for (off = 0; off < got;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);

			if (sscanf(d->d_name, "e%d", &k) == 1 && k >= 0 &&
			    k < NENT)
				dir_seen[k]++;
			off += d->d_reclen;
			n++;
		}
	}
	return n;
}

/*
 * zdtm symlink: symlinks held themselves (O_PATH | O_NOFOLLOW), one to a
 * file, one leading nowhere; with WL_ZDTM_SET=delsymlink one removed
 * since (symlink01), refused by name.
 */
static int fd_lnk = -1, fd_lnk_dangling = -1, fd_lnk_gone = -1;

static int open_link(const char *name, const char *target)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	if (symlink(target, path))
		wl_die("symlink %s", path);
	fd = open(path, O_PATH | O_NOFOLLOW);
	if (fd < 0)
		wl_die("open %s O_PATH | O_NOFOLLOW", path);
	return fd;
}

static void setup_links(void)
{
	char path[4096];

	fd_lnk = open_link("lnk", "flags");
	fd_lnk_dangling = open_link("lnk-dangling", "no/such/file");
	if (!wl_zdtm_want("delsymlink"))
		return;
	fd_lnk_gone = open_link("lnk-gone", "flags");
	snprintf(path, sizeof(path), "%s/lnk-gone", dir);
	unlink(path);
}

static void check_link(const char *name, int fd, const char *target)
{
	char buf[64] = "";
	struct stat st;

	if (fstat(fd, &st) || !S_ISLNK(st.st_mode))
		wl_fail(name, "not a symlink (mode %o)", st.st_mode);
	else if (readlinkat(fd, "", buf, sizeof(buf) - 1) < 0 || strcmp(buf, target))
		wl_fail(name, "leads to '%s', want '%s'", buf, target);
	else
		wl_pass(name);
}

static void check_links(void)
{
	check_link("symlink.opath", fd_lnk, "flags");
	check_link("symlink.dangling", fd_lnk_dangling, "no/such/file");
	if (wl_zdtm_want("delsymlink"))
		check_link("symlink.deleted", fd_lnk_gone, "flags");
}

static void setup_files(void)
{
	struct f_owner_ex own;
	char path[4096];
	int i, fd;

	/* O_NOATIME takes ownership of the file or CAP_FOWNER */
	fd_flags = xopen("flags", O_CREAT | O_RDWR | O_SYNC | O_NOATIME);
	have_noatime = 1;
	fd_own_tid = xopen("own_tid", O_CREAT | O_RDWR | O_DSYNC);
	own = (struct f_owner_ex){ F_OWNER_TID, self };
	if (fcntl(fd_own_tid, F_SETOWN_EX, &own))
		wl_die("F_SETOWN_EX tid");
	fd_own_pgrp = xopen("own_pgrp", O_CREAT | O_RDWR);
	own = (struct f_owner_ex){ F_OWNER_PGRP, getpgrp() };
	if (fcntl(fd_own_pgrp, F_SETOWN_EX, &own))
		wl_die("F_SETOWN_EX pgrp");

	snprintf(path, sizeof(path), "%s/d", dir);
	if (mkdir(path, 0700))
		wl_die("mkdir %s", path);
	for (i = 0; i < NENT; i++) {
		snprintf(path, sizeof(path), "%s/d/e%d", dir, i);
		fd = open(path, O_CREAT | O_WRONLY, 0600);
		if (fd < 0)
			wl_die("create %s", path);
		close(fd);
	}
	fd_dir = xopen("d", O_RDONLY | O_DIRECTORY);
	if (read_entries(fd_dir, NENT / 3) < NENT / 3)
		wl_die("getdents");
}

static void setup_ghosts(void)
{
	char buf[8192], path[4096];

	fd_sparse = xopen("sparse", O_CREAT | O_RDWR);
	wl_fill(buf, sizeof(buf), 21);
	if (pwrite(fd_sparse, buf, 4096, 0) != 4096 ||
	    pwrite(fd_sparse, buf + 4096, 4096, SPARSE_OFF) != 4096 ||
	    ftruncate(fd_sparse, 3 * SPARSE_OFF))
		wl_die("write sparse");
	/* file_attr: odd permission bits and an old mtime, kept unlinked */
	if (fchmod(fd_sparse, 06604) ||
	    futimens(fd_sparse, (struct timespec[2]){ { 123456, 0 },
						       { 123456, 0 } }))
		wl_die("fchmod/futimens sparse");
	snprintf(path, sizeof(path), "%s/sparse", dir);
	unlink(path);

	/* link10: one unlinked inode through two names, two descriptions */
	fd_link_a = xopen("link_a", O_CREAT | O_RDWR);
	if (write(fd_link_a, "linked", 6) != 6)
		wl_die("write link_a");
	{
		char b[4096];

		snprintf(path, sizeof(path), "%s/link_a", dir);
		snprintf(b, sizeof(b), "%s/link_b", dir);
		if (link(path, b))
			wl_die("link");
		fd_link_b = xopen("link_b", O_RDWR);
		unlink(path);
		unlink(b);
	}

	fd_tmp = open(dir, O_TMPFILE | O_RDWR, 0600);
	if (fd_tmp < 0)
		wl_die("O_TMPFILE");
	wl_fill(buf, sizeof(buf), 22);
	if (write(fd_tmp, buf, sizeof(buf)) != sizeof(buf))
		wl_die("write tmpfile");

	snprintf(path, sizeof(path), "%s/gone", dir);
	if (mkdir(path, 0700))
		wl_die("mkdir gone");
	fd_rmdir = xopen("gone", O_RDONLY | O_DIRECTORY);
	/* cwd02: also the working directory, removed */
	if (chdir(path) || rmdir(path))
		wl_die("chdir, rmdir gone");
}

static void setup_events(void)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT };
	char path[4096];

	if (pipe2(pipe_pkt, O_DIRECT) ||
	    write(pipe_pkt[1], "ab", 2) != 2 || write(pipe_pkt[1], "cde", 3) != 3)
		wl_die("packet pipe");
	/* as pipe2 made them: no O_LARGEFILE, which every open() adds */
	signal(SIGIO, SIG_IGN);
	if (fcntl(pipe_pkt[0], F_SETFL, O_ASYNC) ||
	    fcntl(pipe_pkt[0], F_SETOWN, self))
		wl_die("O_ASYNC on the packet pipe");
	pkt_fl[0] = fcntl(pipe_pkt[0], F_GETFL);
	pkt_fl[1] = fcntl(pipe_pkt[1], F_GETFL);

	snprintf(path, sizeof(path), "%s/watched", dir);
	close(xopen("watched", O_CREAT | O_RDWR));
	fd_ino = inotify_init1(IN_NONBLOCK);
	if (fd_ino < 0 || inotify_add_watch(fd_ino, path,
					    IN_OPEN | IN_ONESHOT) != 1)
		wl_die("inotify");

	fd_ep = epoll_create1(0);
	if (fd_ep < 0 || pipe(pipe_ep) || write(pipe_ep[1], "x", 1) != 1)
		wl_die("epoll");
	ev.data.u64 = 77;
	if (epoll_ctl(fd_ep, EPOLL_CTL_ADD, pipe_ep[0], &ev) ||
	    epoll_wait(fd_ep, &ev, 1, 0) != 1)
		wl_die("epoll oneshot");
}

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

static int pty_m = -1, pty_s = -1, sk_peek[2], fd_quiet = -1;

/*
 * inotify00-like: every event of the directory our files are in, the
 * watch made last, so nothing is queued at the checkpoint; neither the
 * freeze nor the restore (which opens those files again) may add any
 */
static void setup_quiet_watch(void)
{
	char buf[4096];

	fd_quiet = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd_quiet < 0 || inotify_add_watch(fd_quiet, dir, IN_ALL_EVENTS) < 0)
		wl_die("inotify of %s", dir);
	while (read(fd_quiet, buf, sizeof(buf)) > 0)
		;
}

static void check_quiet_watch(void)
{
	char buf[4096] __attribute__((aligned(8)));
	struct inotify_event *ev = (struct inotify_event *)buf;
	ssize_t n = read(fd_quiet, buf, sizeof(buf));

	char list[512] = "";
	ssize_t off;
	size_t at = 0;

	for (off = 0; off < n && at < sizeof(list) - 40; off += sizeof(*ev) + ev->len) {
		ev = (struct inotify_event *)(buf + off);
		at += snprintf(list + at, sizeof(list) - at, " %#x:%s", ev->mask,
			       ev->len ? ev->name : "");
	}
	ev = (struct inotify_event *)buf;
	if (n > 0)
		wl_fail("inotify.quiet", "events queued since:%s", list);
	else if (errno != EAGAIN)
		wl_fail("inotify.quiet", "read: %s", strerror(errno));
	else
		wl_pass("inotify.quiet");
}

/*
 * pty0x, sock_peek_off: a terminal in exclusive mode (TIOCEXCL); a unix
 * stream socket whose peek offset moved on with a MSG_PEEK
 */
static void setup_tty_peek(void)
{
	char buf[4];

	pty_m = posix_openpt(O_RDWR | O_NOCTTY);
	if (pty_m < 0 || grantpt(pty_m) || unlockpt(pty_m))
		wl_die("posix_openpt");
	pty_s = open(ptsname(pty_m), O_RDWR | O_NOCTTY);
	if (pty_s < 0 || ioctl(pty_s, TIOCEXCL))
		wl_die("pty slave TIOCEXCL");
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sk_peek) ||
	    setsockopt(sk_peek[1], SOL_SOCKET, SO_PEEK_OFF, &(int){ 0 }, sizeof(int)) ||
	    write(sk_peek[0], "abcdefgh", 8) != 8 ||
	    recv(sk_peek[1], buf, 3, MSG_PEEK) != 3)
		wl_die("peek socket");
}

static void check_tty_peek(void)
{
	socklen_t l = sizeof(int);
	char buf[8] = "";
	int excl = -1, off = -1;

	if (ioctl(pty_s, TIOCGEXCL, &excl) || excl != 1)
		wl_fail("pty.excl", "TIOCGEXCL says %d, want 1", excl);
	else
		wl_pass("pty.excl");
	if (getsockopt(sk_peek[1], SOL_SOCKET, SO_PEEK_OFF, &off, &l) || off != 3)
		wl_fail("unix.peek_off", "SO_PEEK_OFF %d, want 3", off);
	else if (recv(sk_peek[1], buf, 2, MSG_PEEK | MSG_DONTWAIT) != 2 ||
		 memcmp(buf, "de", 2))
		wl_fail("unix.peek_off", "the next peek reads '%.2s', want 'de'", buf);
	else if (recv(sk_peek[1], buf, 8, MSG_DONTWAIT) != 8 ||
		 memcmp(buf, "abcdefgh", 8))
		wl_fail("unix.peek_off", "the queue reads '%.8s'", buf);
	else
		wl_pass("unix.peek_off");
}

static void setup_more(void)
{
	fd_pidfd = syscall(SYS_pidfd_open, self, PIDFD_THREAD);
	if (fd_pidfd < 0)
		wl_die("pidfd_open PIDFD_THREAD");
	if (!wl_zdtm_want("secretmem"))
		return;
	fd_secret = syscall(SYS_memfd_secret, 0);
	if (fd_secret < 0 || ftruncate(fd_secret, 4096))
		wl_die("memfd_secret");
	secret = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
		      fd_secret, 0);
	if (secret == MAP_FAILED)
		wl_die("mmap secretmem");
	wl_fill(secret, 4096, 23);
}

/* a child that waits for its go, then ends as status says */
static pid_t dead_child(int status, const int go[2])
{
	pid_t pid = fork();
	char c;

	if (pid < 0)
		wl_die("fork");
	if (pid)
		return pid;
	close(go[1]);	/* the go is our parent's close */
	if (read(go[0], &c, 1) < 0)
		_exit(99);
	if (WIFSIGNALED(status))
		raise(WTERMSIG(status));
	_exit(WEXITSTATUS(status));
}

#define PIDFD_INFO_EXIT_ (1ULL << 3)
struct pidfd_info_v0 {
	uint64_t mask, cgroupid;
	uint32_t pid, tgid, ppid, ids[8];
	int32_t exit_code;
};
#define PIDFD_GET_INFO_ _IOWR(0xFF, 11, struct pidfd_info_v0)

static int fd_dead[3];	/* of A (status 7), A nonblocking, of B (SIGTERM) */
static const int dead_status[3] = { 7 << 8, 7 << 8, SIGTERM };

static void setup_dead_pidfds(void)
{
	int go[2], st;
	pid_t a, b;

	if (pipe(go))
		wl_die("pipe");
	a = dead_child(dead_status[0], go);
	b = dead_child(dead_status[2], go);
	close(go[0]);
	fd_dead[0] = syscall(SYS_pidfd_open, a, 0);
	fd_dead[1] = syscall(SYS_pidfd_open, a, O_NONBLOCK);	/* PIDFD_NONBLOCK */
	fd_dead[2] = syscall(SYS_pidfd_open, b, 0);
	if (fd_dead[0] < 0 || fd_dead[1] < 0 || fd_dead[2] < 0)
		wl_die("pidfd_open");
	close(go[1]);
	if (waitpid(a, &st, 0) != a || st != dead_status[0] ||
	    waitpid(b, &st, 0) != b || st != dead_status[2])
		wl_die("the children did not end as told");
}

/* Pid: -1, how it ended, no signal, readable, which pidfds share it */
static const char *dead_wrong(int i)
{
	struct pidfd_info_v0 info = { .mask = PIDFD_INFO_EXIT_ };
	struct pollfd pf = { fd_dead[i], POLLIN, 0 };
	static char why[128];
	struct stat st[3];
	char path[64], buf[512];
	ssize_t len;
	int k, fd;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd_dead[i]);
	fd = open(path, O_RDONLY);
	len = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	if (len < 0 || (buf[len] = 0, !strstr(buf, "Pid:\t-1\n")))
		return "fdinfo lacks Pid: -1";
	if (ioctl(fd_dead[i], PIDFD_GET_INFO_, &info) ||
	    !(info.mask & PIDFD_INFO_EXIT_) || info.exit_code != dead_status[i]) {
		snprintf(why, sizeof(why), "exit status %#x (mask %#llx), not %#x",
			 info.exit_code, (unsigned long long)info.mask,
			 dead_status[i]);
		return why;
	}
	if (syscall(SYS_pidfd_send_signal, fd_dead[i], 0, NULL, 0) == 0 ||
	    errno != ESRCH)
		return "pidfd_send_signal did not say ESRCH";
	if (poll(&pf, 1, 0) != 1 || !(pf.revents & POLLIN))
		return "not readable (exited) by poll";
	if (!(fcntl(fd_dead[i], F_GETFL) & O_NONBLOCK) != (i != 1))
		return "PIDFD_NONBLOCK differs";
	for (k = 0; k < 3; k++)
		if (fstat(fd_dead[k], &st[k]))
			return "fstat failed";
	if (st[0].st_ino != st[1].st_ino || st[0].st_ino == st[2].st_ino)
		return "the pidfds of A do not share an inode, or B's does";
	return NULL;
}

static void check_dead_pidfds(void)
{
	const char *why = NULL;
	int i;

	for (i = 0; i < 3 && !why; i++)
		why = dead_wrong(i);
	if (why)
		wl_fail("pidfd.dead", "pidfd %d: %s", i - 1, why);
	else
		wl_pass("pidfd.dead");
}

static void check_more(void)
{
	int fl = fcntl(fd_pidfd, F_GETFL);

	if (fl < 0 || !(fl & PIDFD_THREAD))
		wl_fail("pidfd.thread", "flags %#o lack PIDFD_THREAD", fl);
	else if (syscall(SYS_pidfd_send_signal, fd_pidfd, 0, NULL, 0))
		wl_fail("pidfd.thread", "pidfd_send_signal: %s", strerror(errno));
	else
		wl_pass("pidfd.thread");
	if (fd_secret < 0)
		wl_skip("secretmem", "not set (WL_ZDTM_SET)");
	else if (wl_check(secret, 4096, 23) != (size_t)-1)
		wl_fail("secretmem", "its bytes differ");
	else
		wl_pass("secretmem");
}

static void check_flags(void)
{
	int want = O_RDWR | O_SYNC | (have_noatime ? O_NOATIME : 0);
	int got = fcntl(fd_flags, F_GETFL) & (O_ACCMODE | O_SYNC | O_NOATIME);
	struct f_owner_ex own = { 0 };

	if (got != want)
		wl_fail("fd.flags", "O_SYNC|O_NOATIME file has flags %#o, want %#o",
			got, want);
	else if ((fcntl(fd_own_tid, F_GETFL) & O_SYNC) != O_DSYNC)
		wl_fail("fd.flags", "O_DSYNC file has flags %#o",
			fcntl(fd_own_tid, F_GETFL));
	else
		wl_pass("fd.flags");
	if (fcntl(fd_own_tid, F_GETOWN_EX, &own) || own.type != F_OWNER_TID ||
	    own.pid != self)
		wl_fail("fd.owner_tid", "owner is type %d pid %d, want %d %d",
			own.type, own.pid, F_OWNER_TID, self);
	else
		wl_pass("fd.owner_tid");
	if (fcntl(fd_own_pgrp, F_GETOWN_EX, &own) || own.type != F_OWNER_PGRP ||
	    own.pid != getpgrp())
		wl_fail("fd.owner_pgrp", "owner is type %d pid %d, want %d %d",
			own.type, own.pid, F_OWNER_PGRP, getpgrp());
	else
		wl_pass("fd.owner_pgrp");
}

static void check_packets(void)
{
	char buf[16];
	ssize_t a, b;

	/* its ends' flags exactly (zdtm file_fown: O_LARGEFILE was added) */
	for (a = 0; a < 2; a++)
		if (fcntl(pipe_pkt[a], F_GETFL) != pkt_fl[a]) {
			wl_fail("pipe.flags", "end %zd has flags %#o, had %#o", a,
				fcntl(pipe_pkt[a], F_GETFL), pkt_fl[a]);
			break;
		}
	if (a == 2)
		wl_pass("pipe.flags");
	/* the kernel gives O_DIRECT to the write end only */
	if (!(fcntl(pipe_pkt[1], F_GETFL) & O_DIRECT)) {
		wl_fail("pipe.packet", "the write end lacks O_DIRECT (flags %#o)",
			fcntl(pipe_pkt[1], F_GETFL));
		return;
	}
	a = read(pipe_pkt[0], buf, sizeof(buf));
	b = a == 2 ? read(pipe_pkt[0], buf + 2, sizeof(buf) - 2) : -1;
	if (a != 2 || b != 3 || memcmp(buf, "abcde", 5))
		wl_fail("pipe.packet", "reads gave %zd and %zd bytes, want 2 and 3",
			a, b);
	else
		wl_pass("pipe.packet");
}

static void check_dir(void)
{
	int i, m = wl_mark();

	read_entries(fd_dir, 2 * NENT);
	for (i = 0; i < NENT; i++)
		if (dir_seen[i] != 1) {
			wl_fail("fd.dir_offset", "entry e%d seen %d times", i,
				dir_seen[i]);
			break;
		}
	wl_verdict("fd.dir_offset", m);
}

static void check_sparse(void)
{
	char buf[8192], want[8192];
	struct stat st;
	off_t d, h;

	wl_fill(want, sizeof(want), 21);
	d = lseek(fd_sparse, 4096, SEEK_DATA);
	h = lseek(fd_sparse, SPARSE_OFF, SEEK_HOLE);
	if (fstat(fd_sparse, &st) || st.st_nlink || st.st_size != 3 * SPARSE_OFF)
		wl_fail("ghost.holes", "nlink %ld size %lld, want 0 and %d",
			(long)st.st_nlink, (long long)st.st_size, 3 * SPARSE_OFF);
	else if (pread(fd_sparse, buf, 4096, 0) != 4096 ||
		 pread(fd_sparse, buf + 4096, 4096, SPARSE_OFF) != 4096 ||
		 memcmp(buf, want, sizeof(buf)))
		wl_fail("ghost.holes", "data differs");
	else if (d != SPARSE_OFF || h != SPARSE_OFF + 4096)
		wl_fail("ghost.holes", "SEEK_DATA after 4096 gives %lld, SEEK_HOLE after the data %lld",
			(long long)d, (long long)h);
	else if (st.st_blocks > 64)
		wl_fail("ghost.holes", "%lld blocks for 8 KiB of data",
			(long long)st.st_blocks);
	else
		wl_pass("ghost.holes");
}

static void check_attrs_links(void)
{
	struct stat st, sa, sb;
	char buf[16] = "";

	if (fstat(fd_sparse, &st) || (st.st_mode & 07777) != 06604 ||
	    st.st_mtime != 123456)
		wl_fail("ghost.attrs", "mode %o mtime %ld, want 6604 123456",
			st.st_mode & 07777, (long)st.st_mtime);
	else
		wl_pass("ghost.attrs");
	/* a write through one name is read through the other */
	if (fstat(fd_link_a, &sa) || fstat(fd_link_b, &sb) ||
	    sa.st_ino != sb.st_ino || sa.st_dev != sb.st_dev)
		wl_fail("ghost.hardlinks", "the two descriptions name inodes %lu and %lu",
			(unsigned long)sa.st_ino, (unsigned long)sb.st_ino);
	else if (pwrite(fd_link_a, "LINKED", 6, 0) != 6 ||
		 pread(fd_link_b, buf, 6, 0) != 6 || memcmp(buf, "LINKED", 6))
		wl_fail("ghost.hardlinks", "a write through one is not read through the other (%.6s)",
			buf);
	else
		wl_pass("ghost.hardlinks");
}

static void check_tmp_rmdir(void)
{
	char buf[8192], want[8192];
	struct stat st;

	wl_fill(want, sizeof(want), 22);
	if (fstat(fd_tmp, &st) || st.st_nlink ||
	    pread(fd_tmp, buf, sizeof(buf), 0) != sizeof(buf) ||
	    memcmp(buf, want, sizeof(buf)) ||
	    lseek(fd_tmp, 0, SEEK_CUR) != sizeof(buf))
		wl_fail("ghost.tmpfile", "nlink %ld size %lld offset %lld or data differ",
			(long)st.st_nlink, (long long)st.st_size,
			(long long)lseek(fd_tmp, 0, SEEK_CUR));
	else
		wl_pass("ghost.tmpfile");
	/* what O_TMPFILE is for: linked into place at last */
	{
		char to[4096];

		snprintf(to, sizeof(to), "%s/tmp_linked", dir);
		if (linkat(fd_tmp, "", AT_FDCWD, to, AT_EMPTY_PATH) ||
		    fstat(fd_tmp, &st) || st.st_nlink != 1 || unlink(to))
			wl_fail("ghost.tmpfile_link", "linkat: %s (nlink %ld)",
				strerror(errno), (long)st.st_nlink);
		else
			wl_pass("ghost.tmpfile_link");
	}
	if (fstat(fd_rmdir, &st) || !S_ISDIR(st.st_mode) || st.st_nlink)
		wl_fail("ghost.rmdir", "mode %o nlink %ld, want a removed directory",
			st.st_mode, (long)st.st_nlink);
	else
		wl_pass("ghost.rmdir");
	/* proccwd moved it */
	if (!wl_zdtm_want("proccwd")) {
		struct stat cwd;

		if (stat("/proc/self/cwd", &cwd) || fstat(fd_rmdir, &st) ||
		    cwd.st_dev != st.st_dev || cwd.st_ino != st.st_ino)
			wl_fail("ghost.cwd", "the working directory is not the removed one the descriptor holds");
		else
			wl_pass("ghost.cwd");
	}
}

static void check_events(void)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT,
				  .data.u64 = 77 };
	char buf[4096];
	ssize_t got;
	int n = 0;

	close(xopen("watched", O_RDONLY));
	close(xopen("watched", O_RDONLY));
	/* both opens' events were queued before read returns */
	for (;;) {
		got = read(fd_ino, buf, sizeof(buf));
		if (got <= 0)
			break;
		for (char *p = buf; p < buf + got;
		     p += sizeof(struct inotify_event) +
			  ((struct inotify_event *)p)->len)
			if (((struct inotify_event *)p)->mask & IN_OPEN)
				n++;
	}
	if (n != 1)
		wl_fail("inotify.oneshot", "%d IN_OPEN events for two opens, want 1",
			n);
	else
		wl_pass("inotify.oneshot");

	n = epoll_wait(fd_ep, &ev, 1, 0);
	if (n != 0) {
		wl_fail("epoll.oneshot", "a fired one-shot interest reports again (%d)",
			n);
		return;
	}
	ev = (struct epoll_event){ .events = EPOLLIN | EPOLLONESHOT,
				   .data.u64 = 78 };
	if (epoll_ctl(fd_ep, EPOLL_CTL_MOD, pipe_ep[0], &ev) ||
	    epoll_wait(fd_ep, &ev, 1, 0) != 1 || ev.data.u64 != 78)
		wl_fail("epoll.oneshot", "re-armed with EPOLL_CTL_MOD it does not report");
	else
		wl_pass("epoll.oneshot");
}

/*
 * With WL_ZDTM_SET=proccwd (zdtm unhashed_proc): the working directory is
 * the /proc directory of a child gone since, refused at freeze by name;
 * after the thaw getcwd() still says ENOENT.
 */
static void setup_proc_cwd(void)
{
	char path[32];
	pid_t pid;

	if (!wl_zdtm_want("proccwd"))
		return;
	pid = fork();
	if (pid < 0)
		wl_die("fork");
	if (!pid) {
		pause();
		_exit(0);
	}
	snprintf(path, sizeof(path), "/proc/%d", pid);
	if (chdir(path))
		wl_die("chdir %s", path);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void check_proc_cwd(void)
{
	char buf[4096];

	if (!wl_zdtm_want("proccwd"))
		return;
	if (getcwd(buf, sizeof(buf)) || errno != ENOENT)
		wl_fail("proccwd", "getcwd did not say ENOENT");
	else
		wl_pass("proccwd");
}

/* the descriptor table at READY: flags and paths too (wl_fdtable.h) */
static struct wl_fdtable fdt0;

int main(int argc, char **argv)
{
	if (argc < 2)
		wl_die("usage: wl_zdtm_fd DIR");
	dir = argv[1];
	self = getpid();
	signal(SIGUSR1, on_usr1);
	setup_files();
	setup_ghosts();
	setup_events();
	setup_more();
	setup_dead_pidfds();
	setup_udp();
	setup_tty_peek();
	setup_links();
	setup_quiet_watch();
	setup_proc_cwd();	/* last: the others use the cwd we had */
	wl_fdt_take(&fdt0);
	wl_ready();
	while (!go)
		pause();
	check_quiet_watch();	/* first: our own checks make events */
	wl_fdt_check("fd.fd_table", &fdt0);
	check_flags();
	check_packets();
	check_dir();
	check_sparse();
	check_attrs_links();
	check_tmp_rmdir();
	check_events();
	check_more();
	check_dead_pidfds();
	check_udp();
	check_tty_peek();
	check_links();
	check_proc_cwd();
	return wl_done();
}
