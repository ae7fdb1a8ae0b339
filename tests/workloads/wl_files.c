// SPDX-License-Identifier: MIT
/*
 * wl_files DIR: open files of every kind crfs restores, each with state
 * that a restore could get wrong (offsets, queued bytes, counters, masks,
 * locks, sharing), then READY; on SIGUSR1 every piece is checked.
 *
 * A child shares the file table entries it inherited: the parent moves a
 * shared offset and the child must see it move, and both ends of a pipe
 * cross the fork.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif
#include <sys/wait.h>
#include <stddef.h>

#include "wl_common.h"
#include "wl_fdtable.h"

static volatile sig_atomic_t go;
static char dir[512];

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static char *at(const char *name)
{
	static char buf[8][600];
	static int k;

	k = (k + 1) % 8;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", dir, name);
	return buf[k];
}

static void pattern(char *buf, size_t len, uint64_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (char)wl_mix(seed + i);
}

static bool same(const char *buf, size_t len, uint64_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != (char)wl_mix(seed + i))
			return false;
	return true;
}

static void write_all(int fd, const void *b, size_t n)
{
	if (write(fd, b, n) != (ssize_t)n)
		wl_die("write %zu bytes to fd %d", n, fd);
}

enum {
	PIPE_BYTES = 100000, FIFO_BYTES = 3000, DEL_BYTES = 50000,
	SK_A = 70000, SK_B = 333,
};

struct st {
	int file, file_dup, append, dirfd, del, devnull, opath;
	off_t dirpos;
	int pr, pw, fifo_r, fifo_w, pkr, pkw, ar, aw;
	int sa, sb, da, db, qa, qb, listener, client, adg, adg_tx, ghost;
	int g2a, g2b;		/* a listener, and the one bound after it */
	struct sockaddr_un tx;	/* adg_tx's name */
	socklen_t txlen;
	int acc, client2, ra, rb;
	int sndbuf;		/* of sa, as getsockopt said after setting it */
	int ptm, pts;		/* a pty pair with bytes queued both ways */
	struct timeval rcvtimeo;	/* likewise (the kernel rounds it) */
	int ev, tfd, sfd, ep, ep2, ino;
	int moved, reused;	/* an epoll interest whose fd number moved on */
	int lock_file, ofd_file;
	int child_pipe[2], child_done[2];
	int pidfd_self, pidfd_child;
	pid_t child;
};

static void setup_files(struct st *s)
{
	char buf[DEL_BYTES];

	s->file = open(at("data"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	pattern(buf, 8192, 1);
	write_all(s->file, buf, 8192);
	lseek(s->file, 1234, SEEK_SET);
	s->file_dup = dup(s->file);
	s->append = open(at("log"), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			 0600);
	write_all(s->append, "hello\n", 6);
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	{
		/* read part of the directory: its position must come back */
		char d[64];

		if (syscall(SYS_getdents64, s->dirfd, d, sizeof(d)) <= 0)
			wl_die("getdents64");
		s->dirpos = lseek(s->dirfd, 0, SEEK_CUR);
	}
	s->opath = open(at("data"), O_PATH);
	s->devnull = open("/dev/null", O_WRONLY | O_NONBLOCK);
	s->del = open(at("deleted"), O_RDWR | O_CREAT | O_TRUNC, 0640);
	pattern(buf, DEL_BYTES, 2);
	write_all(s->del, buf, DEL_BYTES);
	lseek(s->del, 777, SEEK_SET);
	unlink(at("deleted"));
	if (s->file < 0 || s->file_dup < 0 || s->append < 0 || s->dirfd < 0 ||
	    s->devnull < 0 || s->del < 0)
		wl_die("open files");
}

static void setup_pipes(struct st *s)
{
	char buf[PIPE_BYTES];
	int p[2];

	if (pipe2(p, O_NONBLOCK) || fcntl(p[1], F_SETPIPE_SZ, 1 << 20) < 0)
		wl_die("pipe");
	s->pr = p[0];
	s->pw = p[1];
	pattern(buf, PIPE_BYTES, 3);
	write_all(s->pw, buf, PIPE_BYTES);
	if (mkfifo(at("fifo"), 0600) < 0)
		wl_die("mkfifo");
	s->fifo_r = open(at("fifo"), O_RDONLY | O_NONBLOCK);
	s->fifo_w = open(at("fifo"), O_WRONLY);
	if (s->fifo_r < 0 || s->fifo_w < 0)
		wl_die("fifo");
	pattern(buf, FIFO_BYTES, 4);
	write_all(s->fifo_w, buf, FIFO_BYTES);
	/* packet mode: each write a packet, each read one */
	if (pipe2(p, O_DIRECT) || write(p[1], "abc", 3) != 3 ||
	    write(p[1], "defgh", 5) != 5 || write(p[1], "i", 1) != 1)
		wl_die("packet pipe");
	s->pkr = p[0];
	s->pkw = p[1];
	/* O_ASYNC: SIGRTMIN+5 to us when the pipe gets data */
	if (pipe2(p, O_NONBLOCK) || fcntl(p[0], F_SETOWN, getpid()) ||
	    fcntl(p[0], F_SETSIG, SIGRTMIN + 5) ||
	    fcntl(p[0], F_SETFL, O_NONBLOCK | O_ASYNC))
		wl_die("O_ASYNC pipe");
	/* an owner and signal without O_ASYNC are kept all the same */
	if (fcntl(p[1], F_SETOWN, -getpgrp()) ||
	    fcntl(p[1], F_SETSIG, SIGRTMIN + 6))
		wl_die("F_SETOWN without O_ASYNC");
	s->ar = p[0];
	s->aw = p[1];
}

static volatile sig_atomic_t sigio_fd = -1;

static void on_sigio(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	sigio_fd = si->si_fd;
}

/* the pipe's owner and signal, and a write that raises it */
static void check_sigio(struct st *s)
{
	struct sigaction sa = { .sa_sigaction = on_sigio,
				.sa_flags = SA_SIGINFO };
	char c;

	sigaction(SIGRTMIN + 5, &sa, NULL);
	if (fcntl(s->ar, F_GETOWN) != getpid() ||
	    fcntl(s->ar, F_GETSIG) != SIGRTMIN + 5 ||
	    !(fcntl(s->ar, F_GETFL) & O_ASYNC))
		wl_fail("pipes.sigio", "owner %d, signal %d, flags %#x",
			fcntl(s->ar, F_GETOWN), fcntl(s->ar, F_GETSIG),
			fcntl(s->ar, F_GETFL));
	else if (write(s->aw, "s", 1) != 1 || read(s->ar, &c, 1) != 1 ||
		 sigio_fd != s->ar)
		wl_fail("pipes.sigio", "no signal for fd %d (got one for %d)",
			s->ar, (int)sigio_fd);
	if (fcntl(s->aw, F_GETOWN) != -getpgrp() ||
	    fcntl(s->aw, F_GETSIG) != SIGRTMIN + 6)
		wl_fail("pipes.owner", "owner %d, signal %d without O_ASYNC",
			fcntl(s->aw, F_GETOWN), fcntl(s->aw, F_GETSIG));
}

static void setup_sockets(struct st *s)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char buf[SK_A];
	socklen_t alen;
	int sv[2], fd;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		wl_die("socketpair");
	s->sa = sv[0];
	s->sb = sv[1];
	{
		int v = 300000, one = 1, zero = 0;
		socklen_t l = sizeof(int);

		struct timeval tv = { 7, 250000 };

		socklen_t tl = sizeof(tv);

		if (setsockopt(s->sa, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
		    getsockopt(s->sa, SOL_SOCKET, SO_RCVTIMEO, &s->rcvtimeo, &tl) ||
		    setsockopt(s->sa, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)) ||
		    getsockopt(s->sa, SOL_SOCKET, SO_SNDBUF, &s->sndbuf, &l) ||
		    setsockopt(s->sb, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) ||
		    setsockopt(s->sb, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero)))
			wl_die("socket options");
	}
	pattern(buf, SK_A, 5);
	write_all(s->sa, buf, SK_A);		/* queued at sb */
	pattern(buf, SK_B, 6);
	write_all(s->sb, buf, SK_B);		/* queued at sa */
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv))
		wl_die("socketpair dgram");
	s->da = sv[0];
	s->db = sv[1];
	write_all(s->da, "one", 3);
	write_all(s->da, "", 0);
	write_all(s->da, "three33", 7);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv))
		wl_die("socketpair seqpacket");
	s->qa = sv[0];
	s->qb = sv[1];
	write_all(s->qb, "packet-1", 8);
	write_all(s->qb, "p2", 2);
	shutdown(s->qb, SHUT_WR);
	/* a listener whose socket file was removed, and another file put
	 * there: both must stay as they are */
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", at("ghost.sock"));
	s->ghost = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s->ghost < 0 || bind(s->ghost, (void *)&a, sizeof(a)) ||
	    listen(s->ghost, 3) || unlink(a.sun_path))
		wl_die("ghost listener");
	fd = open(a.sun_path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, "occupant", 8) != 8 || close(fd))
		wl_die("occupant");
	/* a server that bound a new listener where its old one's file was */
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", at("ghost2.sock"));
	s->g2a = socket(AF_UNIX, SOCK_STREAM, 0);
	s->g2b = socket(AF_UNIX, SOCK_STREAM, 0);
	if (bind(s->g2a, (void *)&a, sizeof(a)) || listen(s->g2a, 3) ||
	    unlink(a.sun_path) || bind(s->g2b, (void *)&a, sizeof(a)) ||
	    listen(s->g2b, 3))
		wl_die("rebound listener");
	/* a listener with a connection not yet accepted */
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", at("sock"));
	s->listener = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s->listener < 0 || bind(s->listener, (void *)&a, sizeof(a)) ||
	    listen(s->listener, 7))
		wl_die("listener");
	/* one connection accepted, with data both ways, then one pending */
	s->client2 = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(s->client2, (void *)&a, sizeof(a)))
		wl_die("connect");
	s->acc = accept(s->listener, NULL, NULL);
	if (s->acc < 0)
		wl_die("accept");
	write_all(s->client2, "from-client", 11);
	write_all(s->acc, "from-server", 11);
	s->client = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(s->client, (void *)&a, sizeof(a)))
		wl_die("connect");
	/* files in flight: only the queue holds them */
	{
		int p2[2], f, fds[2];
		char ctl[CMSG_SPACE(2 * sizeof(int))];
		struct iovec iov = { "fds", 3 };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = ctl,
				     .msg_controllen = sizeof(ctl) };
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || pipe(p2))
			wl_die("socketpair/pipe for SCM_RIGHTS");
		s->ra = sv[0];
		s->rb = sv[1];
		write_all(p2[1], "in-flight-pipe", 14);
		f = open(at("data"), O_RDONLY);
		lseek(f, 5, SEEK_SET);
		fds[0] = p2[0];
		fds[1] = f;
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(2 * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, sizeof(fds));
		if (sendmsg(s->ra, &mh, 0) != 3)
			wl_die("sendmsg SCM_RIGHTS");
		write_all(s->ra, "tail", 4);
		close(p2[0]);
		close(p2[1]);
		close(f);
	}
	/* an abstract datagram socket with a message from another */
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "crfs-wl-%d", getpid());
	alen = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(a.sun_path + 1);
	s->adg = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (bind(s->adg, (void *)&a, alen))
		wl_die("bind abstract");
	/* sent from a named socket, then from one since closed */
	s->adg_tx = socket(AF_UNIX, SOCK_DGRAM, 0);
	s->tx = a;
	snprintf(s->tx.sun_path + 1, sizeof(s->tx.sun_path) - 1,
		 "crfs-wl-%d-tx", getpid());
	s->txlen = offsetof(struct sockaddr_un, sun_path) + 1 +
		   strlen(s->tx.sun_path + 1);
	if (bind(s->adg_tx, (void *)&s->tx, s->txlen))
		wl_die("bind abstract sender");
	if (sendto(s->adg_tx, "to-abstract", 11, 0, (void *)&a, alen) != 11)
		wl_die("sendto abstract");
	sv[0] = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (sendto(sv[0], "anon", 4, 0, (void *)&a, alen) != 4)
		wl_die("sendto abstract, unnamed");
	close(sv[0]);
}

static void setup_events(struct st *s)
{
	struct itimerspec its = { .it_interval = { 1800, 0 },
				  .it_value = { 3600, 0 } };
	struct epoll_event ev;
	uint64_t v = 5;
	sigset_t m;

	s->ev = eventfd(0, EFD_SEMAPHORE | EFD_NONBLOCK);
	write_all(s->ev, &v, 8);
	s->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	timerfd_settime(s->tfd, 0, &its, NULL);
	sigemptyset(&m);
	sigaddset(&m, SIGUSR2);
	sigaddset(&m, SIGRTMIN + 3);
	s->sfd = signalfd(-1, &m, SFD_CLOEXEC);
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	s->ep2 = epoll_create1(0);
	ev.events = EPOLLIN;
	ev.data.u64 = 0xabcdef0123ULL;
	epoll_ctl(s->ep, EPOLL_CTL_ADD, s->ev, &ev);
	ev.events = EPOLLIN | EPOLLET;
	ev.data.u64 = 42;
	epoll_ctl(s->ep, EPOLL_CTL_ADD, s->pr, &ev);
	ev.events = EPOLLIN;
	ev.data.u64 = 7;
	epoll_ctl(s->ep2, EPOLL_CTL_ADD, s->ev, &ev);
	ev.data.u64 = 99;
	epoll_ctl(s->ep, EPOLL_CTL_ADD, s->ep2, &ev);	/* nested */
	{
		/* added as fd R, then the file moved to another fd and R was
		 * reused: the interest stays keyed (file, R) */
		int p3[2];

		if (pipe(p3))
			wl_die("pipe");
		ev.events = EPOLLIN;
		ev.data.u64 = 777;
		epoll_ctl(s->ep, EPOLL_CTL_ADD, p3[0], &ev);
		s->moved = dup(p3[0]);
		close(p3[0]);
		s->reused = eventfd(0, 0);	/* pollable, so DEL can say ENOENT */
		if (s->reused != p3[0])
			wl_die("fd %d not reused (%d)", p3[0], s->reused);
		write_all(p3[1], "m", 1);
		close(p3[1]);
	}
	s->ino = inotify_init1(IN_NONBLOCK);
	inotify_add_watch(s->ino, dir, IN_CREATE);
	inotify_add_watch(s->ino, at("data"), IN_MODIFY);
	if (s->ev < 0 || s->tfd < 0 || s->sfd < 0 || s->ep < 0 || s->ep2 < 0 ||
	    s->ino < 0)
		wl_die("event fds");
}

#define PTS_UID 4321
#define PTS_GID 5	/* tty */

/* what setting up made queue there: a freeze refuses queued events */
static void drain_inotify(struct st *s)
{
	char b[4096];

	while (read(s->ino, b, sizeof(b)) > 0)
		;
}

static void setup_pty(struct st *s)
{
	s->ptm = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (s->ptm < 0 || grantpt(s->ptm) || unlockpt(s->ptm))
		wl_die("posix_openpt");
	s->pts = open(ptsname(s->ptm), O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (s->pts < 0)
		wl_die("open the pty slave");
	/* given to a user, as a login program does */
	if (fchown(s->pts, PTS_UID, PTS_GID) || fchmod(s->pts, 0620))
		wl_die("chown the pty slave");
	/* canonical with echo: a whole line and a partial one typed ahead,
	 * echoed toward the master; then output the master has not read */
	write_all(s->ptm, "in-line\npartial", 15);
	usleep(100000);
	write_all(s->pts, "out-bytes\n", 10);
	usleep(100000);
}

static void check_pty(struct st *s)
{
	static const char want[] = "in-line\r\npartial" "out-bytes\r\n";
	char buf[256];
	int m = wl_mark();
	ssize_t n, got = 0;
	struct stat st;
	int i;

	for (i = 0; i < 50 && got < (ssize_t)sizeof(buf); i++) {
		n = read(s->ptm, buf + got, sizeof(buf) - got);
		if (n > 0)
			got += n;
		else
			usleep(10000);
	}
	if (got != sizeof(want) - 1 || memcmp(buf, want, got))
		wl_fail("pty.master_queue", "%zd bytes '%.*s'", got, (int)got, buf);
	n = read(s->pts, buf, sizeof(buf));
	if (n != 8 || memcmp(buf, "in-line\n", 8))
		wl_fail("pty.line", "read %zd '%.*s'", n, n > 0 ? (int)n : 0, buf);
	write_all(s->ptm, "\n", 1);
	usleep(100000);
	n = read(s->pts, buf, sizeof(buf));
	if (n != 8 || memcmp(buf, "partial\n", 8))
		wl_fail("pty.partial_line", "read %zd '%.*s'", n, n > 0 ? (int)n : 0, buf);
	if (fstat(s->pts, &st) || st.st_uid != PTS_UID || st.st_gid != PTS_GID ||
	    (st.st_mode & 07777) != 0620)
		wl_fail("pty.owner", "slave %u:%u mode %o, want %u:%u 620",
			st.st_uid, st.st_gid, st.st_mode & 07777, PTS_UID, PTS_GID);
	wl_verdict("pty", m);
}

static void setup_locks(struct st *s)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
			    .l_start = 10, .l_len = 5 };

	s->lock_file = open(at("locked"), O_RDWR | O_CREAT, 0600);
	if (flock(s->lock_file, LOCK_SH) || fcntl(s->lock_file, F_SETLK, &fl))
		wl_die("flock/posix lock");
	/* mapped too: restore must not lose the lock closing its helper */
	if (ftruncate(s->lock_file, 4096) ||
	    mmap(NULL, 4096, PROT_READ, MAP_SHARED, s->lock_file, 0) == MAP_FAILED)
		wl_die("mmap the locked file");
	s->ofd_file = open(at("locked"), O_RDWR);
	fl.l_type = F_RDLCK;
	fl.l_start = 100;
	fl.l_len = 0;
	if (fcntl(s->ofd_file, F_OFD_SETLK, &fl))
		wl_die("OFD lock");
}

/* the child: waits for its parent, then checks the shared offset */
static int child_main(struct st *s)
{
	char c;
	off_t off;

	if (read(s->child_pipe[0], &c, 1) != 1)
		return 3;
	off = lseek(s->file, 0, SEEK_CUR);
	return off == 4321 ? 0 : 1;
}

/* the pid a pidfd refers to, as its fdinfo says */
static int pidfd_pid(int fd)
{
	char path[64], buf[512], *p;
	int n, in;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	in = open(path, O_RDONLY);
	n = in < 0 ? -1 : read(in, buf, sizeof(buf) - 1);
	if (in >= 0)
		close(in);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, "Pid:");
	return p ? atoi(p + 4) : -1;
}

static void check_pidfds(struct st *s)
{
	int m = wl_mark();

	if (pidfd_pid(s->pidfd_self) != getpid() ||
	    syscall(SYS_pidfd_send_signal, s->pidfd_self, 0, NULL, 0))
		wl_fail("pidfd.self", "refers to %d", pidfd_pid(s->pidfd_self));
	if (pidfd_pid(s->pidfd_child) != s->child ||
	    syscall(SYS_pidfd_send_signal, s->pidfd_child, 0, NULL, 0) ||
	    !(fcntl(s->pidfd_child, F_GETFL) & O_NONBLOCK))
		wl_fail("pidfd.child", "refers to %d, not %d",
			pidfd_pid(s->pidfd_child), s->child);
	wl_verdict("pidfd", m);
}

static void check_files(struct st *s)
{
	char buf[DEL_BYTES];
	int m = wl_mark();
	ssize_t n;

	if (lseek(s->file, 0, SEEK_CUR) != 1234)
		wl_fail("files.offset", "offset %ld", (long)lseek(s->file, 0, SEEK_CUR));
	lseek(s->file_dup, 2000, SEEK_SET);
	if (lseek(s->file, 0, SEEK_CUR) != 2000)
		wl_fail("files.dup_shared", "a dup() no longer shares the offset");
	if (!(fcntl(s->append, F_GETFL) & O_APPEND) ||
	    !(fcntl(s->append, F_GETFD) & FD_CLOEXEC) ||
	    (fcntl(s->file, F_GETFD) & FD_CLOEXEC))
		wl_fail("files.flags", "O_APPEND or FD_CLOEXEC lost or added");
	if (!(fcntl(s->devnull, F_GETFL) & O_NONBLOCK))
		wl_fail("files.nonblock", "O_NONBLOCK lost");
	if (lseek(s->del, 0, SEEK_CUR) != 777)
		wl_fail("files.deleted_offset", "offset %ld",
			(long)lseek(s->del, 0, SEEK_CUR));
	n = pread(s->del, buf, sizeof(buf) + 0, 0);
	if (n != DEL_BYTES || !same(buf, DEL_BYTES, 2))
		wl_fail("files.deleted_data", "read %zd bytes", n);
	struct stat st;
	if (fstat(s->del, &st) || st.st_nlink != 0 || (st.st_mode & 0777) != 0640)
		wl_fail("files.deleted_unlinked", "nlink %lu mode %o",
			(unsigned long)st.st_nlink, st.st_mode & 0777);
	if (fstat(s->dirfd, &st) || !S_ISDIR(st.st_mode))
		wl_fail("files.dir", "not a directory");
	if (lseek(s->dirfd, 0, SEEK_CUR) != s->dirpos)
		wl_fail("files.dir_position", "at %ld, was %ld",
			(long)lseek(s->dirfd, 0, SEEK_CUR), (long)s->dirpos);
	if (!(fcntl(s->opath, F_GETFL) & O_PATH) || fstat(s->opath, &st) ||
	    st.st_size != 8192)
		wl_fail("files.o_path", "O_PATH descriptor lost");
	wl_verdict("files", m);
}

static void check_pipes(struct st *s)
{
	char buf[PIPE_BYTES + 10];
	int m = wl_mark();
	ssize_t n, got = 0;

	if (fcntl(s->pr, F_GETPIPE_SZ) != 1 << 20)
		wl_fail("pipes.size", "capacity %d", fcntl(s->pr, F_GETPIPE_SZ));
	if (!(fcntl(s->pr, F_GETFL) & O_NONBLOCK))
		wl_fail("pipes.nonblock", "O_NONBLOCK lost");
	while ((n = read(s->pr, buf + got, sizeof(buf) - got)) > 0)
		got += n;
	if (got != PIPE_BYTES || !same(buf, PIPE_BYTES, 3))
		wl_fail("pipes.data", "read %zd of %d bytes%s", got, PIPE_BYTES,
			got == PIPE_BYTES ? " (wrong bytes)" : "");
	got = read(s->fifo_r, buf, sizeof(buf));
	if (got != FIFO_BYTES || !same(buf, FIFO_BYTES, 4))
		wl_fail("pipes.fifo", "read %zd of %d bytes", got, FIFO_BYTES);
	if (read(s->pkr, buf, 100) != 3 || read(s->pkr, buf + 3, 100) != 5 ||
	    write(s->pkw, "jk", 2) != 2 || read(s->pkr, buf + 8, 100) != 1 ||
	    read(s->pkr, buf + 9, 100) != 2 || memcmp(buf, "abcdefghijk", 11))
		wl_fail("pipes.packets", "packet boundaries lost");
	check_sigio(s);
	write_all(s->fifo_w, "x", 1);
	if (read(s->fifo_r, buf, 2) != 1)
		wl_fail("pipes.fifo_connected", "the ends are not one FIFO");
	wl_verdict("pipes", m);
}

/* a connection to the path reaches the newer listener only */
static void check_rebound(struct st *s)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct pollfd p[2] = { { s->g2a, POLLIN, 0 }, { s->g2b, POLLIN, 0 } };
	int c = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", at("ghost2.sock"));
	if (connect(c, (void *)&a, sizeof(a)) || poll(p, 2, 1000) != 1 ||
	    !(p[1].revents & POLLIN))
		wl_fail("sockets.rebound", "the path does not lead to the newer listener: %s",
			strerror(errno));
	close(c);
}

static void check_ghost(struct st *s)
{
	struct sockaddr_un a;
	socklen_t al = sizeof(a);
	char buf[16] = "";
	int on = 0, fd;
	socklen_t ol = sizeof(on);

	if (getsockname(s->ghost, (void *)&a, &al) ||
	    strcmp(a.sun_path, at("ghost.sock")) ||
	    getsockopt(s->ghost, SOL_SOCKET, SO_ACCEPTCONN, &on, &ol) || !on)
		wl_fail("sockets.ghost", "the unlinked listener lost its name or backlog");
	fd = open(at("ghost.sock"), O_RDONLY);
	if (fd < 0 || read(fd, buf, sizeof(buf)) != 8 || memcmp(buf, "occupant", 8))
		wl_fail("sockets.ghost", "the file now at its path was not left alone");
	if (fd >= 0)
		close(fd);
	check_rebound(s);
}

/* the queued datagrams, who sent them, and that the sender hears back */
static void check_sender(struct st *s)
{
	struct sockaddr_un from;
	socklen_t fl = sizeof(from);
	char buf[100];

	if (recvfrom(s->adg, buf, sizeof(buf), 0, (void *)&from, &fl) != 11 ||
	    memcmp(buf, "to-abstract", 11))
		wl_fail("sockets.abstract", "queued datagram lost");
	else if (fl != s->txlen || memcmp(&from, &s->tx, fl))
		wl_fail("sockets.sender", "recvfrom names another sender (%u bytes)",
			fl);
	else if (sendto(s->adg, "reply", 5, 0, (void *)&from, fl) != 5 ||
		 recv(s->adg_tx, buf, sizeof(buf), MSG_DONTWAIT) != 5)
		wl_fail("sockets.sender", "the sender gets no reply: %s",
			strerror(errno));
	fl = sizeof(from);
	if (recvfrom(s->adg, buf, sizeof(buf), 0, (void *)&from, &fl) != 4 ||
	    memcmp(buf, "anon", 4) || fl > sizeof(sa_family_t))
		wl_fail("sockets.abstract", "the unnamed sender's datagram lost");
}

static void check_sockets(struct st *s)
{
	char buf[SK_A + 10];
	int m = wl_mark(), c;
	ssize_t n, got = 0;

	while (got < SK_A && (n = recv(s->sb, buf + got, sizeof(buf) - got,
				       MSG_DONTWAIT)) > 0)
		got += n;
	if (got != SK_A || !same(buf, SK_A, 5))
		wl_fail("sockets.stream_ab", "read %zd of %d bytes", got, SK_A);
	got = recv(s->sa, buf, sizeof(buf), MSG_DONTWAIT);
	if (got != SK_B || !same(buf, SK_B, 6))
		wl_fail("sockets.stream_ba", "read %zd of %d bytes", got, SK_B);
	if (recv(s->db, buf, 100, MSG_DONTWAIT) != 3 || memcmp(buf, "one", 3) ||
	    recv(s->db, buf, 100, MSG_DONTWAIT) != 0 ||
	    recv(s->db, buf, 100, MSG_DONTWAIT) != 7 || memcmp(buf, "three33", 7) ||
	    recv(s->db, buf, 100, MSG_DONTWAIT) != -1)
		wl_fail("sockets.dgram", "messages lost, merged or reordered");
	if (recv(s->qa, buf, 100, MSG_DONTWAIT) != 8 ||
	    recv(s->qa, buf, 100, MSG_DONTWAIT) != 2 ||
	    recv(s->qa, buf, 100, MSG_DONTWAIT) != 0)
		wl_fail("sockets.seqpacket", "packets or the shutdown lost");
	{
		int v = 0, pc = 0, po = -2;
		socklen_t l = sizeof(int), tl = sizeof(struct timeval);
		struct timeval tv = { 0, 0 };

		getsockopt(s->sa, SOL_SOCKET, SO_RCVTIMEO, &tv, &tl);
		if (tv.tv_sec != s->rcvtimeo.tv_sec ||
		    tv.tv_usec != s->rcvtimeo.tv_usec)
			wl_fail("sockets.rcvtimeo", "%ld.%06ld s", tv.tv_sec,
				tv.tv_usec);
		getsockopt(s->sa, SOL_SOCKET, SO_SNDBUF, &v, &l);
		getsockopt(s->sb, SOL_SOCKET, SO_PASSCRED, &pc, &l);
		getsockopt(s->sb, SOL_SOCKET, SO_PEEK_OFF, &po, &l);
		if (v != s->sndbuf || pc != 1 || po < 0)
			wl_fail("sockets.options", "sndbuf %d (want %d), passcred %d, peek_off %d",
				v, s->sndbuf, pc, po);
	}
	write_all(s->sa, "ping", 4);
	if (recv(s->sb, buf, 4, MSG_DONTWAIT) != 4 || memcmp(buf, "ping", 4))
		wl_fail("sockets.pair", "the pair is not connected");
	c = accept4(s->listener, NULL, NULL, SOCK_NONBLOCK);
	if (c < 0)
		wl_fail("sockets.pending", "no pending connection: %s", strerror(errno));
	else {
		write_all(s->client, "hi", 2);
		if (recv(c, buf, 2, MSG_DONTWAIT) != 2 || memcmp(buf, "hi", 2))
			wl_fail("sockets.pending", "accepted, but not connected");
		close(c);
	}
	check_sender(s);
	check_ghost(s);
	{
		char ctl[CMSG_SPACE(4 * sizeof(int))], b[16];
		struct iovec iov = { b, sizeof(b) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = ctl,
				     .msg_controllen = sizeof(ctl) };
		struct cmsghdr *cm;
		int fds[2] = { -1, -1 };
		ssize_t n = recvmsg(s->rb, &mh, MSG_DONTWAIT);

		cm = CMSG_FIRSTHDR(&mh);
		if (n != 3 || memcmp(b, "fds", 3) || !cm ||
		    cm->cmsg_type != SCM_RIGHTS ||
		    cm->cmsg_len != CMSG_LEN(2 * sizeof(int))) {
			wl_fail("sockets.scm_rights", "message %zd bytes, %s", n,
				cm ? "wrong rights" : "no rights");
		} else {
			memcpy(fds, CMSG_DATA(cm), sizeof(fds));
			n = read(fds[0], b, sizeof(b));
			if (n != 14 || memcmp(b, "in-flight-pipe", 14) ||
			    read(fds[0], b, 1) != 0)
				wl_fail("sockets.scm_rights_pipe",
					"pipe in flight read %zd bytes", n);
			if (lseek(fds[1], 0, SEEK_CUR) != 5)
				wl_fail("sockets.scm_rights_file",
					"file in flight at offset %ld",
					(long)lseek(fds[1], 0, SEEK_CUR));
			close(fds[0]);
			close(fds[1]);
		}
		if (recv(s->rb, b, sizeof(b), MSG_DONTWAIT) != 4 ||
		    memcmp(b, "tail", 4))
			wl_fail("sockets.scm_rights_tail", "bytes after the rights lost");
	}
	if (recv(s->acc, buf, 100, MSG_DONTWAIT) != 11 ||
	    memcmp(buf, "from-client", 11) ||
	    recv(s->client2, buf, 100, MSG_DONTWAIT) != 11 ||
	    memcmp(buf, "from-server", 11))
		wl_fail("sockets.accepted_data", "data of an accepted connection lost");
	{
		struct sockaddr_un n1, n2;
		socklen_t l1 = sizeof(n1), l2 = sizeof(n2);

		if (getsockname(s->acc, (void *)&n1, &l1) ||
		    getpeername(s->client2, (void *)&n2, &l2) ||
		    strcmp(n1.sun_path, at("sock")) || strcmp(n2.sun_path, at("sock")))
			wl_fail("sockets.accepted_names",
				"accepted socket not named after its listener");
	}
	wl_verdict("sockets", m);
}

static void check_events(struct st *s)
{
	struct epoll_event ev[8];
	struct itimerspec its;
	struct signalfd_siginfo si;
	uint64_t v = 0;
	int m = wl_mark(), n, i;
	bool seen_ev = false, seen_pipe = false, seen_nested = false;
	bool seen_moved = false;

	if (read(s->ev, &v, 8) != 8 || v != 1)
		wl_fail("events.eventfd_semaphore", "read %lu", v);
	n = 0;
	while (read(s->ev, &v, 8) == 8)
		n++;
	if (n != 4)
		wl_fail("events.eventfd_count", "%d more reads, want 4", n);
	timerfd_gettime(s->tfd, &its);
	if (its.it_interval.tv_sec != 1800 || its.it_value.tv_sec > 3600 ||
	    its.it_value.tv_sec < 3500)
		wl_fail("events.timerfd", "value %ld interval %ld",
			its.it_value.tv_sec, its.it_interval.tv_sec);
	kill(getpid(), SIGUSR2);
	if (read(s->sfd, &si, sizeof(si)) != sizeof(si) ||
	    si.ssi_signo != SIGUSR2)
		wl_fail("events.signalfd", "SIGUSR2 not read through signalfd");
	v = 1;
	write_all(s->ev, &v, 8);
	n = epoll_wait(s->ep, ev, 8, 0);
	for (i = 0; i < n; i++) {
		seen_ev |= ev[i].data.u64 == 0xabcdef0123ULL;
		seen_pipe |= ev[i].data.u64 == 42;
		seen_nested |= ev[i].data.u64 == 99;
		seen_moved |= ev[i].data.u64 == 777;
	}
	if (!seen_moved)
		wl_fail("events.epoll_moved_fd", "no event for an interest whose fd was reused");
	if (!epoll_ctl(s->ep, EPOLL_CTL_DEL, s->reused, NULL) || errno != ENOENT)
		wl_fail("events.epoll_reused_fd", "EPOLL_CTL_DEL of the reused fd: %s",
			strerror(errno));
	if (!seen_ev || !seen_nested)
		wl_fail("events.epoll", "%d events; eventfd %d nested %d", n,
			seen_ev, seen_nested);
	(void)seen_pipe;
	if (epoll_ctl(s->ep, EPOLL_CTL_DEL, s->ev, NULL))
		wl_fail("events.epoll_del", "EPOLL_CTL_DEL of a watched fd: %s",
			strerror(errno));
	close(open(at("newfile"), O_CREAT | O_WRONLY, 0600));
	{
		char b[4096] __attribute__((aligned(8)));
		struct inotify_event *ie;
		bool found = false;

		n = read(s->ino, b, sizeof(b));
		for (i = 0; i < n; i += sizeof(*ie) + ie->len) {
			ie = (void *)(b + i);
			found |= ie->wd == 1 && (ie->mask & IN_CREATE) &&
				 ie->len && !strcmp(ie->name, "newfile");
		}
		if (!found)
			wl_fail("events.inotify", "read %d bytes, no IN_CREATE of newfile on wd 1", n);
	}
	wl_verdict("events", m);
}

static void check_locks(void)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
			    .l_start = 0, .l_len = 0 };
	int m = wl_mark(), fd = open(at("locked"), O_RDWR);
	pid_t pid;
	int st;

	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		wl_fail("locks.flock", "the shared flock is gone");
	if (flock(fd, LOCK_SH | LOCK_NB))
		wl_fail("locks.flock_shared", "the flock became exclusive");
	if (fcntl(fd, F_OFD_GETLK, &fl) || fl.l_type == F_UNLCK)
		wl_fail("locks.ofd", "no lock seen from another description");
	pid = fork();
	if (pid == 0) {
		struct flock q = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
				   .l_start = 12, .l_len = 1 };

		if (fcntl(fd, F_GETLK, &q) || q.l_type != F_WRLCK ||
		    q.l_pid != getppid())
			_exit(1);
		q.l_start = 100;
		q.l_type = F_WRLCK;
		if (fcntl(fd, F_GETLK, &q) || q.l_type != F_RDLCK)
			_exit(2);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		wl_fail("locks.posix", "child saw wrong locks (%d)", WEXITSTATUS(st));
	close(fd);
	wl_verdict("locks", m);
}

/* the table and epoll interests at READY (wl_fdtable.h) */
static struct wl_fdtable fdt_before;

static int root(void)
{
	struct st s;
	int st;

	wl_own_session();
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR2);
	sigprocmask(SIG_BLOCK, &m, NULL);
	setup_files(&s);
	setup_pipes(&s);
	setup_sockets(&s);
	setup_events(&s);
	setup_locks(&s);
	setup_pty(&s);
	if (pipe(s.child_pipe))
		wl_die("pipe");
	s.child = fork();
	if (s.child == 0)
		_exit(child_main(&s));
	close(s.child_pipe[0]);
	s.pidfd_self = syscall(SYS_pidfd_open, getpid(), 0);
	s.pidfd_child = syscall(SYS_pidfd_open, s.child, PIDFD_NONBLOCK);
	if (s.pidfd_self < 0 || s.pidfd_child < 0)
		wl_die("pidfd_open");
	drain_inotify(&s);
	wl_fdt_take(&fdt_before);
	printf("READY ROOT=%d\n", getpid());
	fflush(stdout);
	while (!go)
		pause();
	/* first: the checks below open and close descriptors */
	wl_fdt_check("files.fd_table", &fdt_before);
	check_pidfds(&s);
	check_files(&s);
	lseek(s.file, 4321, SEEK_SET);
	write_all(s.child_pipe[1], "g", 1);
	if (waitpid(s.child, &st, 0) != s.child || !WIFEXITED(st) ||
	    WEXITSTATUS(st))
		wl_fail("files.fork_shared", "child says %d", WEXITSTATUS(st));
	else
		wl_pass("files.fork_shared");
	check_pipes(&s);
	check_sockets(&s);
	check_events(&s);
	check_locks();
	check_pty(&s);
	return wl_done();
}

int main(int argc, char **argv)
{
	if (argc != 2)
		wl_die("usage: wl_files DIR");
	snprintf(dir, sizeof(dir), "%s", argv[1]);
	signal(SIGUSR1, on_usr1);
	return wl_under_subreaper(root);
}
