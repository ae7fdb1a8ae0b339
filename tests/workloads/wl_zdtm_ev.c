/* SPDX-License-Identifier: MIT */
/*
 * Event descriptors and terminals as CRIU's zdtm suite checks them
 * (eventfs00, epoll, epoll01, signalfd00, inotify00, pty00-04, tty00-03),
 * and the parts a peer writing such a suite would check besides:
 *
 *	inotify.mask	a watch's mask with IN_EXCL_UNLINK, as fdinfo shows it
 *	efd.count	an eventfd with a 64-bit count, O_NONBLOCK
 *	efd.sem		an EFD_SEMAPHORE eventfd: reads of 1, then EAGAIN
 *	epoll.masks	interests with EPOLLIN|OUT|PRI|RDHUP|ET, EPOLLEXCLUSIVE,
 *			EPOLLWAKEUP and 64-bit data, as fdinfo shows them
 *	epoll.nested	an epoll inside an epoll, ready through both
 *	epoll.dup_targets  interests of many pipes under one fd number,
 *			closed there since (zdtm epoll)
 *	epoll.et	an edge-triggered interest that has reported its edge:
 *			no event until new data comes
 *	sfd		a signalfd's mask and O_NONBLOCK, a signal read through it
 *	inotify.queue	an inotify watch (IN_CREATE|IN_MOVE) with its wd: the
 *			events of a file made and renamed after the restore,
 *			their names and the rename's cookie, and nothing of
 *			the restore's own (a unix socket of the directory
 *			bound again).  Events still
 *			queued at the freeze are refused ("inoqueue" in
 *			WL_ZDTM_SET: queued then, checked after the thaw)
 *	pty.termios	every termios field and c_cc of a pty slave
 *	pty.lock	the locking termios (TIOCSLCKTRMIOS) of the slave
 *	pty.winsize	the window size
 *	pty.pkt		packet mode with output queued: one TIOCPKT_DATA byte
 *			then the bytes, input queued too
 *			(a status byte not read yet is refused: "pktstatus"
 *			in WL_ZDTM_SET sets one, a flush)
 *	pty.hup		a slave whose master was closed: hung up (EIO);
 *			refused by the freeze, set only when WL_ZDTM_SET
 *			names "hup"
 *	pty.locked	a master never unlocked (TIOCGPTLCK), its number
 *
 * Usage: wl_zdtm_ev DIR.  READY; on SIGUSR1 each is checked.  The epoll.et
 * check fails after a restore (see docs/SUPPORT.md): t_zdtm_ev skips it there.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <termios.h>
#include "wl_common.h"
#include "wl_fdtable.h"
#include "wl_pty.h"

#define EFD_COUNT	0x123456789ULL
#define EP_DATA		0x0123456789abcdefULL
#define EP_MASK		(EPOLLIN | EPOLLOUT | EPOLLPRI | EPOLLRDHUP | EPOLLET)
#define WS_ROW		37
#define WS_COL		123
#define PTY_IN		"typed ahead\npartial"
#define PTY_OUT		"printed\r\n"
#define WATCH2_MASK	(IN_ATTRIB | IN_CLOSE_WRITE | IN_EXCL_UNLINK)

static volatile sig_atomic_t go;
static const char *dir;
static int efd, efd_sem, ep, ep_in, efd_in, efd_ex, pipe_et[2], ep_et;
static int sfd, ino, ptm, pts, ptm_pkt, pts_pkt, ptm_locked, locked_n;
static int pty_n, sk, pts_hup;
static unsigned wakeup;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void setup_eventfds(void)
{
	uint64_t v = EFD_COUNT;

	efd = eventfd(0, EFD_NONBLOCK);
	efd_sem = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
	if (efd < 0 || efd_sem < 0 || write(efd, &v, 8) != 8)
		wl_die("eventfd");
}

/* the fdinfo line of target fd TFD in epoll EP: its events and data */
static int ep_info(int e, int tfd, unsigned *events, unsigned long long *data)
{
	char path[64], line[256];
	FILE *f;
	int t, found = 0;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", e);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "tfd: %d events: %x data: %llx", &t, events,
			   data) == 3 && t == tfd) {
			found = 1;
			break;
		}
	if (f)
		fclose(f);
	return found;
}

static void ep_add(int e, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	if (epoll_ctl(e, EPOLL_CTL_ADD, fd, &ev))
		wl_die("epoll_ctl add %d", fd);
}

static void setup_epoll(void)
{
	struct epoll_event ev;
	uint64_t one = 1;

	ep = epoll_create1(EPOLL_CLOEXEC);
	ep_in = epoll_create1(0);
	efd_in = eventfd(0, 0);
	efd_ex = eventfd(0, 0);
	ep_et = epoll_create1(0);
	if (ep < 0 || ep_in < 0 || efd_in < 0 || efd_ex < 0 || ep_et < 0 ||
	    pipe2(pipe_et, O_NONBLOCK))
		wl_die("epoll setup");
	ep_add(ep, efd, EP_MASK, EP_DATA);
	ep_add(ep, efd_ex, EPOLLIN | EPOLLEXCLUSIVE, 7);
	ep_add(ep_in, efd_in, EPOLLIN, 0xfeedULL << 40);
	ep_add(ep, ep_in, EPOLLIN, 42);
	/* a wakeup source while ready; the kernel drops the flag without
	 * CAP_BLOCK_SUSPEND or CONFIG_PM_SLEEP: what it kept must stay */
	ep_add(ep, pipe_et[1], EPOLLOUT | EPOLLWAKEUP, 9);
	if (!ep_info(ep, pipe_et[1], &wakeup, &(unsigned long long){ 0 }))
		wl_die("epoll fdinfo");
	wakeup &= EPOLLWAKEUP;
	if (write(efd_in, &one, 8) != 8)
		wl_die("eventfd write");
	/* the edge reported once: nothing more until new data */
	if (write(pipe_et[1], "et", 2) != 2)
		wl_die("pipe write");
	ep_add(ep_et, pipe_et[0], EPOLLIN | EPOLLET, 5);
	if (epoll_wait(ep_et, &ev, 1, 0) != 1 || epoll_wait(ep_et, &ev, 1, 0))
		wl_die("edge-triggered epoll");
}

/*
 * zdtm epoll: interests registered under one fd number (999) for many
 * pipes, each closed there since; half the pipes' read ends moved to fds
 * spread from 68 to 988 first.  Restore keeps a copy of each closed
 * target (48 of them, in a row above its own file table, wherever that
 * ends) to add it at 999 again: the spread puts some of our descriptors
 * among those copies, which must not be overwritten as ours are placed.
 */
#define NDUP 48
static int ep_dup, dup_r[NDUP], dup_w[NDUP];

static void setup_epoll_dups(void)
{
	int i, p[2];

	ep_dup = epoll_create1(0);
	if (ep_dup < 0)
		wl_die("epoll_create1");
	for (i = 0; i < NDUP; i++) {
		if (pipe(p))
			wl_die("pipe");
		if (i % 2) {
			if (fcntl(48 + 20 * i, F_GETFD) >= 0 ||
			    dup2(p[0], 48 + 20 * i) < 0)
				wl_die("dup2 to %d", 48 + 20 * i);
			close(p[0]);
			p[0] = 48 + 20 * i;
		}
		dup_r[i] = p[0];
		dup_w[i] = p[1];
		if (dup2(p[0], 999) < 0)
			wl_die("dup2 999");
		ep_add(ep_dup, 999, EPOLLIN, 1000 + i);
		close(999);
	}
}

static void check_epoll_dups(void)
{
	struct epoll_event ev;
	char c;
	int i;

	for (i = 0; i < NDUP; i++) {
		if (write(dup_w[i], "x", 1) != 1 ||
		    epoll_wait(ep_dup, &ev, 1, 0) != 1 || ev.data.u64 != 1000u + i) {
			wl_fail("epoll.dup_targets", "pipe %d: no event, or data %llu",
				i, (unsigned long long)ev.data.u64);
			return;
		}
		if (read(dup_r[i], &c, 1) != 1)
			wl_die("read");
	}
	wl_pass("epoll.dup_targets");
}

static void setup_signalfd(void)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, SIGUSR2);
	sigaddset(&s, SIGRTMIN + 5);
	if (sigprocmask(SIG_BLOCK, &s, NULL))
		wl_die("sigprocmask");
	sfd = signalfd(-1, &s, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0 || kill(getpid(), SIGUSR2))
		wl_die("signalfd");
}

/* a file made as A and renamed B: IN_CREATE, IN_MOVED_FROM, IN_MOVED_TO */
static void inotify_events(const char *a, const char *b)
{
	char pa[4096], pb[4096];
	int fd;

	snprintf(pa, sizeof(pa), "%s/%s", dir, a);
	snprintf(pb, sizeof(pb), "%s/%s", dir, b);
	fd = open(pa, O_CREAT | O_WRONLY, 0600);
	if (fd < 0 || close(fd) || rename(pa, pb))
		wl_die("inotify events");
}

static void setup_inotify(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char buf[4096];

	ino = inotify_init1(IN_NONBLOCK);
	if (ino < 0 || inotify_add_watch(ino, dir, IN_CREATE | IN_MOVE) != 1)
		wl_die("inotify");
	inotify_events("before", "after");
	snprintf(buf, sizeof(buf), "%s/after", dir);
	if (inotify_add_watch(ino, buf, WATCH2_MASK) != 2)
		wl_die("inotify watch 2");
	/* a unix socket bound in the directory, which restore binds again:
	 * that IN_CREATE is the restore's own, not the tree's */
	sk = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/sock", dir);
	if (sk < 0 || bind(sk, (struct sockaddr *)&sun, sizeof(sun)) ||
	    listen(sk, 1))
		wl_die("unix socket in %s", dir);
	/* queued events are refused: read them unless asked to keep them */
	if (!wl_zdtm_want("inoqueue") && read(ino, buf, sizeof(buf)) <= 0)
		wl_die("inotify read");
}

static struct termios odd_termios(void)
{
	struct termios t;

	memset(&t, 0, sizeof(t));
	t.c_iflag = IGNBRK | ICRNL | IXON | IXANY | IUTF8;
	t.c_oflag = OPOST | ONLCR | TAB3;
	/* a pty forces CS8, CREAD and no PARENB */
	t.c_cflag = CS8 | CREAD | HUPCL | B19200;
	t.c_lflag = ICANON | ISIG | ECHOE | ECHOK | IEXTEN | TOSTOP;
	t.c_cc[VINTR] = 1;
	t.c_cc[VQUIT] = 2;
	t.c_cc[VERASE] = 3;
	t.c_cc[VKILL] = 4;
	t.c_cc[VEOF] = 5;
	t.c_cc[VMIN] = 6;
	t.c_cc[VTIME] = 7;
	t.c_cc[VSTART] = 8;
	t.c_cc[VSTOP] = 9;
	t.c_cc[VSUSP] = 10;
	t.c_cc[VEOL] = 11;
	t.c_cc[VREPRINT] = 12;
	t.c_cc[VWERASE] = 14;
	t.c_cc[VLNEXT] = 15;
	t.c_cc[VEOL2] = 16;
	return t;
}

/* the fields of a termios the lock may pin: all of c_lflag's ECHO bits */
static struct termios lock_termios(void)
{
	struct termios t;

	memset(&t, 0, sizeof(t));
	t.c_lflag = ECHO | ECHOE;
	t.c_cflag = CSIZE;
	t.c_cc[VINTR] = 0xff;
	return t;
}

static void setup_pty(void)
{
	struct termios t = odd_termios(), l = lock_termios();
	struct winsize ws = { .ws_row = WS_ROW, .ws_col = WS_COL,
			      .ws_xpixel = 640, .ws_ypixel = 480 };
	int one = 1;

	ptm = wl_pty_pair(&pts, O_NOCTTY);
	if (ioctl(ptm, TIOCGPTN, &pty_n) || tcsetattr(pts, TCSANOW, &t) ||
	    ioctl(pts, TIOCSWINSZ, &ws) || ioctl(pts, TIOCSLCKTRMIOS, &l))
		wl_die("pty settings");
	ptm_pkt = wl_pty_pair(&pts_pkt, O_NOCTTY);
	/* no echo, no output processing: the output queue holds only what
	 * the slave wrote */
	if (tcgetattr(pts_pkt, &t))
		wl_die("tcgetattr");
	t.c_lflag &= ~ECHO;
	t.c_oflag &= ~OPOST;
	if (tcsetattr(pts_pkt, TCSANOW, &t) || ioctl(ptm_pkt, TIOCPKT, &one))
		wl_die("packet mode");
	/* a flush the master's reader is told of, by a status byte */
	if (wl_zdtm_want("pktstatus") && tcflush(pts_pkt, TCIOFLUSH))
		wl_die("tcflush");
	if (write(pts_pkt, PTY_OUT, strlen(PTY_OUT)) != (ssize_t)strlen(PTY_OUT) ||
	    write(ptm_pkt, PTY_IN, strlen(PTY_IN)) != (ssize_t)strlen(PTY_IN))
		wl_die("packet mode pty");
	/* pty04: the master closed, a slave still open, hung up */
	if (wl_zdtm_want("hup"))
		close(wl_pty_pair(&pts_hup, O_NOCTTY | O_NONBLOCK));
	ptm_locked = posix_openpt(O_RDWR | O_NOCTTY);
	if (ptm_locked < 0 || ioctl(ptm_locked, TIOCGPTN, &locked_n))
		wl_die("locked ptmx");
}

static void check_eventfds(void)
{
	uint64_t v = 0;
	int i, m = wl_mark();

	if (!(fcntl(efd, F_GETFL) & O_NONBLOCK))
		wl_fail("efd.count", "O_NONBLOCK lost");
	else if (read(efd, &v, 8) != 8 || v != EFD_COUNT)
		wl_fail("efd.count", "read %#llx, want %#llx",
			(unsigned long long)v, EFD_COUNT);
	else if (read(efd, &v, 8) != -1 || errno != EAGAIN)
		wl_fail("efd.count", "a second read did not say EAGAIN");
	wl_verdict("efd.count", m);
	m = wl_mark();
	for (i = 0; i < 3; i++)
		if (read(efd_sem, &v, 8) != 8 || v != 1) {
			wl_fail("efd.sem", "read %d: %s, value %llu", i,
				strerror(errno), (unsigned long long)v);
			break;
		}
	if (i == 3 && (read(efd_sem, &v, 8) != -1 || errno != EAGAIN))
		wl_fail("efd.sem", "a fourth read did not say EAGAIN");
	wl_verdict("efd.sem", m);
}

static void check_masks(void)
{
	unsigned long long d;
	unsigned ev;
	int m = wl_mark();

	if (!ep_info(ep, efd, &ev, &d))
		wl_fail("epoll.masks", "no interest in fd %d", efd);
	else if ((ev & ~EPOLLHUP & ~EPOLLERR) != EP_MASK || d != EP_DATA)
		wl_fail("epoll.masks", "events %#x data %#llx, want %#x %#llx",
			ev, d, EP_MASK, EP_DATA);
	if (!ep_info(ep, efd_ex, &ev, &d))
		wl_fail("epoll.masks", "no interest in fd %d", efd_ex);
	else if (!(ev & EPOLLEXCLUSIVE) || d != 7)
		wl_fail("epoll.masks", "exclusive: events %#x data %#llx", ev, d);
	if (!ep_info(ep, pipe_et[1], &ev, &d))
		wl_fail("epoll.masks", "no interest in fd %d", pipe_et[1]);
	else if ((ev & ~EPOLLHUP & ~EPOLLERR) != (EPOLLOUT | wakeup) || d != 9)
		wl_fail("epoll.masks", "wakeup: events %#x data %#llx", ev, d);
	if (!(fcntl(ep, F_GETFD) & FD_CLOEXEC))
		wl_fail("epoll.masks", "epoll lost FD_CLOEXEC");
	wl_verdict("epoll.masks", m);
}

static void check_epoll(void)
{
	struct epoll_event ev[4];
	int n, i, m;

	check_masks();
	/* the outer epoll: the eventfd (count, writable) and the inner one */
	m = wl_mark();
	n = epoll_wait(ep, ev, 4, 0);
	for (i = 0; i < n && ev[i].data.u64 != 42; i++)
		;
	if (i == n)
		wl_fail("epoll.nested", "the inner epoll is not ready (%d events)", n);
	else if (epoll_wait(ep_in, ev, 1, 0) != 1 ||
		 ev[0].data.u64 != 0xfeedULL << 40)
		wl_fail("epoll.nested", "the inner epoll has no event with its data");
	wl_verdict("epoll.nested", m);
	n = epoll_wait(ep_et, ev, 1, 0);
	if (n)
		wl_fail("epoll.et", "%d events before new data (the edge was reported already)", n);
	else if (write(pipe_et[1], "x", 1) != 1 ||
		 epoll_wait(ep_et, ev, 1, 0) != 1 || ev[0].data.u64 != 5)
		wl_fail("epoll.et", "no event after new data");
	else
		wl_pass("epoll.et");
}

static void check_signalfd(void)
{
	struct signalfd_siginfo si;
	char path[64], line[256];
	unsigned long long mask = 0;
	FILE *f;
	int m = wl_mark();

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", sfd);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		sscanf(line, "sigmask: %llx", &mask);
	if (f)
		fclose(f);
	if (mask != ((1ULL << (SIGUSR2 - 1)) | (1ULL << (SIGRTMIN + 5 - 1))))
		wl_fail("sfd", "sigmask %#llx", mask);
	if (!(fcntl(sfd, F_GETFL) & O_NONBLOCK) || !(fcntl(sfd, F_GETFD) & FD_CLOEXEC))
		wl_fail("sfd", "flags %#x fd flags %#x", fcntl(sfd, F_GETFL),
			fcntl(sfd, F_GETFD));
	if (read(sfd, &si, sizeof(si)) != sizeof(si) || si.ssi_signo != SIGUSR2)
		wl_fail("sfd", "no SIGUSR2 through it: %s", strerror(errno));
	else if (read(sfd, &si, sizeof(si)) != -1 || errno != EAGAIN)
		wl_fail("sfd", "a second signal (%u)", si.ssi_signo);
	wl_verdict("sfd", m);
}

/* the second watch's mask, flags included, as fdinfo shows it */
static void check_watch_mask(void)
{
	char path[64], line[512];
	unsigned wd, mask, got = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", ino);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "inotify wd:%x %*s %*s mask:%x", &wd, &mask) == 2 &&
		    wd == 2)
			got = mask;
	if (f)
		fclose(f);
	if (got != WATCH2_MASK)
		wl_fail("inotify.mask", "watch 2: mask %#x, want %#x", got,
			WATCH2_MASK);
	else
		wl_pass("inotify.mask");
}

/* the events of inotify_events(A, B), each with its name, one cookie */
static void check_inotify(void)
{
	char buf[4096];
	struct inotify_event *e;
	const char *a = "before", *b = "after";
	const char *want[3];
	uint32_t wmask[3] = { IN_CREATE, IN_MOVED_FROM, IN_MOVED_TO };
	uint32_t cookie = 0;
	ssize_t n, off = 0;
	int i = 0, m = wl_mark();

	if (!wl_zdtm_want("inoqueue")) {
		a = "later";
		b = "renamed";
		inotify_events(a, b);
	}
	want[0] = want[1] = a;
	want[2] = b;
	n = read(ino, buf, sizeof(buf));

	for (; n > 0 && off < n && i < 3; i++, off += sizeof(*e) + e->len) {
		e = (struct inotify_event *)(buf + off);
		if (e->wd != 1 || e->mask != wmask[i] || !e->len ||
		    strcmp(e->name, want[i]))
			break;
		if (i == 1)
			cookie = e->cookie;
		else if (i == 2 && (!cookie || e->cookie != cookie))
			break;
	}
	if (i != 3)
		wl_fail("inotify.queue", "%zd bytes queued, event %d of 3 differs", n, i);
	wl_verdict("inotify.queue", m);
	check_watch_mask();
}

static int same_termios(const struct termios *a, const struct termios *b)
{
	return a->c_iflag == b->c_iflag && a->c_oflag == b->c_oflag &&
	       a->c_cflag == b->c_cflag && a->c_lflag == b->c_lflag &&
	       a->c_line == b->c_line && !memcmp(a->c_cc, b->c_cc, NCCS);
}

static void check_pty_settings(void)
{
	struct termios t, want = odd_termios(), lw = lock_termios();
	struct winsize ws;
	int n = -1;

	if (tcgetattr(pts, &t) || !same_termios(&t, &want) ||
	    cfgetospeed(&t) != B19200)
		wl_fail("pty.termios", "iflag %#x oflag %#x cflag %#x lflag %#x cc[VMIN] %d",
			t.c_iflag, t.c_oflag, t.c_cflag, t.c_lflag, t.c_cc[VMIN]);
	else if (ioctl(ptm, TIOCGPTN, &n) || n != pty_n)
		wl_fail("pty.termios", "pty number %d, want %d", n, pty_n);
	else
		wl_pass("pty.termios");
	memset(&t, 0, sizeof(t));
	if (ioctl(pts, TIOCGLCKTRMIOS, &t) || !same_termios(&t, &lw))
		wl_fail("pty.lock", "lflag %#x cflag %#x cc[VINTR] %d, want %#x %#x 255",
			t.c_lflag, t.c_cflag, t.c_cc[VINTR], lw.c_lflag, lw.c_cflag);
	else
		wl_pass("pty.lock");
	if (ioctl(ptm, TIOCGWINSZ, &ws) || ws.ws_row != WS_ROW ||
	    ws.ws_col != WS_COL || ws.ws_xpixel != 640 || ws.ws_ypixel != 480)
		wl_fail("pty.winsize", "%ux%u %ux%u", ws.ws_row, ws.ws_col,
			ws.ws_xpixel, ws.ws_ypixel);
	else
		wl_pass("pty.winsize");
}

static void check_pty_queues(void)
{
	char buf[256];
	int pkt = 0, lock = 0, n = -1;
	ssize_t got;

	fcntl(ptm_pkt, F_SETFL, O_NONBLOCK);
	fcntl(pts_pkt, F_SETFL, O_NONBLOCK);
	got = read(ptm_pkt, buf, sizeof(buf));
	if (wl_zdtm_want("pktstatus")) {
		if (got != 1 || buf[0] != (TIOCPKT_FLUSHREAD | TIOCPKT_FLUSHWRITE))
			wl_fail("pty.pkt", "status: read %zd bytes, first %#x", got,
				got > 0 ? buf[0] : -1);
		got = read(ptm_pkt, buf, sizeof(buf));
	}
	if (ioctl(ptm_pkt, TIOCGPKT, &pkt) || !pkt)
		wl_fail("pty.pkt", "packet mode lost");
	else if (got != (ssize_t)strlen(PTY_OUT) + 1 || buf[0] != TIOCPKT_DATA ||
		 memcmp(buf + 1, PTY_OUT, strlen(PTY_OUT)))
		wl_fail("pty.pkt", "the master read %zd bytes, first %#x (want %zu, 0)",
			got, got > 0 ? buf[0] : -1, strlen(PTY_OUT) + 1);
	else if ((got = read(pts_pkt, buf, sizeof(buf))) != 12 ||
		 memcmp(buf, "typed ahead\n", 12))
		wl_fail("pty.pkt", "the slave read %zd bytes", got);
	else
		wl_pass("pty.pkt");
	errno = 0;
	got = pts_hup ? read(pts_hup, buf, sizeof(buf)) : 0;
	if (!pts_hup)
		wl_skip("pty.hup", "not set (WL_ZDTM_SET)");
	else if (got > 0 || (got < 0 && errno != EIO) ||
	    write(pts_hup, "x", 1) != -1 || errno != EIO)
		wl_fail("pty.hup", "the slave of a closed master: read %zd, write errno %d (want EIO)",
			got, errno);
	else
		wl_pass("pty.hup");
	if (ioctl(ptm_locked, TIOCGPTLCK, &lock) || !lock)
		wl_fail("pty.locked", "the master is unlocked");
	else if (ioctl(ptm_locked, TIOCGPTN, &n) || n != locked_n)
		wl_fail("pty.locked", "number %d, want %d", n, locked_n);
	else
		wl_pass("pty.locked");
}

/* the descriptor table at READY: flags and paths too (wl_fdtable.h) */
static struct wl_fdtable fdt0;

int main(int argc, char **argv)
{
	if (argc < 2)
		wl_die("usage: wl_zdtm_ev DIR");
	dir = argv[1];
	signal(SIGUSR1, on_usr1);
	signal(SIGHUP, SIG_IGN);
	setup_inotify();
	setup_eventfds();
	setup_epoll();
	setup_epoll_dups();
	setup_signalfd();
	setup_pty();
	wl_fdt_take(&fdt0);
	wl_ready();
	while (!go)
		pause();
	check_inotify();	/* first: our own checks make no events, but */
	wl_fdt_check("ev.fd_table", &fdt0);
	check_eventfds();
	check_epoll();
	check_epoll_dups();
	check_signalfd();
	check_pty_settings();
	check_pty_queues();
	return wl_done();
}
