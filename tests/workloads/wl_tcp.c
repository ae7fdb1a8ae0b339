// SPDX-License-Identifier: MIT
/*
 * Established TCP connections with data queued both ways.
 *
 * `wl_tcp peer`: the peer outside the tree.  Listens on 127.0.0.1 with a
 * tiny receive buffer, prints "PORT N", accepts one connection, sends its
 * stream until the connection takes no more, prints FILLED and reads
 * nothing until SIGUSR1; then streams both ways to the end and checks that
 * every byte came in order, that the connection was never reset nor ended
 * early.
 *
 * `wl_tcp PORT`: the tree.  Connects to the peer (IPv4) with options set
 * (nodelay, keepalive times, user timeout, congestion control, linger,
 * receive buffer); a pair of its own over IPv6 ([::1]), one end with a tiny
 * receive buffer and TCP_CORK, each end writing until the other's window
 * is shut and reading nothing; a pair over IPv4 whose one end shut its
 * receiving side (SHUT_RD) with bytes still queued; an IPv4 client of a
 * dual-stack IPv6 listener (IPv4-mapped addresses).  On SIGUSR2 (the peer
 * has filled its way) it fills its way to the peer; READY once every queue
 * holds data; on SIGUSR1 (after freeze and thaw, or restore) every option,
 * address and queue is checked and every stream runs to its end.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <poll.h>
#include <signal.h>
#include <arpa/inet.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "wl_common.h"

#define TOTAL	(16 << 20)	/* bytes each way on each connection */
#define SEED_W	1		/* the tree's stream to the peer */
#define SEED_P	2		/* the peer's stream */
#define SEED_C	3		/* [::1] pair: connecting end's */
#define SEED_A	4		/* [::1] pair: accepted end's */

static volatile sig_atomic_t got_usr1, got_usr2;

static void on_usr1(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else
		got_usr2 = 1;
}

static void wait_flag(volatile sig_atomic_t *flag)
{
	sigset_t none;

	sigemptyset(&none);
	while (!*flag)
		sigsuspend(&none);
	*flag = 0;
}

static void wait_usr1(void)
{
	wait_flag(&got_usr1);
}

/* byte i of stream seed */
static unsigned char stream_byte(uint64_t seed, uint64_t i)
{
	return (unsigned char)(wl_mix(seed * 0x100000001b3ull + i / 8) >>
			       (8 * (i % 8)));
}

struct end {
	const char *name;
	int fd;
	uint64_t send_seed, recv_seed;
	uint64_t sent, rcvd;
	int shut, eof, bad;
};

/* writes until the connection takes no more (EAGAIN) */
static void fill(struct end *e)
{
	unsigned char buf[4096];
	ssize_t n;
	size_t i;

	while (e->sent < TOTAL / 2) {
		for (i = 0; i < sizeof(buf); i++)
			buf[i] = stream_byte(e->send_seed, e->sent + i);
		n = send(e->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n <= 0)
			break;
		e->sent += n;
	}
	if (e->sent < TOTAL / 2 && errno != EAGAIN)
		wl_die("%s: fill", e->name);
}

static void step_send(struct end *e)
{
	unsigned char buf[16384];
	size_t i, len = sizeof(buf);
	ssize_t n;

	if (e->sent == TOTAL) {
		if (!e->shut && shutdown(e->fd, SHUT_WR))
			wl_fail(e->name, "shutdown: %s", strerror(errno)), e->bad = 1;
		e->shut = 1;
		return;
	}
	if (len > TOTAL - e->sent)
		len = TOTAL - e->sent;
	for (i = 0; i < len; i++)
		buf[i] = stream_byte(e->send_seed, e->sent + i);
	n = send(e->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n > 0)
		e->sent += n;
	else if (errno != EAGAIN)
		wl_fail(e->name, "send at byte %lu: %s", (unsigned long)e->sent,
			strerror(errno)), e->bad = 1;
}

static void step_recv(struct end *e)
{
	unsigned char buf[16384];
	ssize_t n = recv(e->fd, buf, sizeof(buf), MSG_DONTWAIT);
	ssize_t i;

	if (n < 0) {
		if (errno != EAGAIN)
			wl_fail(e->name, "recv at byte %lu: %s",
				(unsigned long)e->rcvd, strerror(errno)), e->bad = 1;
		return;
	}
	if (n == 0) {
		e->eof = 1;
		if (e->rcvd != TOTAL)
			wl_fail(e->name, "end of stream after %lu bytes of %d",
				(unsigned long)e->rcvd, TOTAL), e->bad = 1;
		return;
	}
	for (i = 0; i < n; i++)
		if (buf[i] != stream_byte(e->recv_seed, e->rcvd + i)) {
			wl_fail(e->name, "byte %lu differs", (unsigned long)(e->rcvd + i));
			e->bad = 1;
			return;
		}
	e->rcvd += n;
}

static bool done(const struct end *e)
{
	return e->bad || (e->shut && e->eof);
}

/* every stream to its end, TOTAL bytes each way, checked */
static void run(struct end *e, int n)
{
	struct pollfd p[8];
	double end = wl_now(CLOCK_MONOTONIC) + 60;
	int i, left;

	for (;;) {
		for (i = left = 0; i < n; i++) {
			p[i].fd = done(&e[i]) ? -1 : e[i].fd;
			p[i].events = (e[i].eof ? 0 : POLLIN) |
				      (e[i].shut ? 0 : POLLOUT);
			left += !done(&e[i]);
		}
		if (!left)
			break;
		if (wl_now(CLOCK_MONOTONIC) > end) {
			for (i = 0; i < n; i++)
				if (!done(&e[i]))
					wl_fail(e[i].name, "stalled: sent %lu, received %lu",
						(unsigned long)e[i].sent,
						(unsigned long)e[i].rcvd);
			return;
		}
		if (poll(p, n, 1000) < 0 && errno != EINTR)
			wl_die("poll");
		for (i = 0; i < n; i++) {
			if (p[i].fd < 0)
				continue;
			if (p[i].revents & (POLLIN | POLLHUP | POLLERR))
				step_recv(&e[i]);
			if (!e[i].bad && (p[i].revents & (POLLOUT | POLLERR)))
				step_send(&e[i]);
			else if (!e[i].bad && e[i].sent == TOTAL)
				step_send(&e[i]);
		}
	}
	for (i = 0; i < n; i++)
		if (!e[i].bad)
			wl_pass(e[i].name);
}

static int queued(int fd, int req)
{
	int v = -1;

	ioctl(fd, req, &v);
	return v;
}

static int tcp_listener(int fam, int rcvbuf)
{
	int fd = socket(fam, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6,
				   .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in a4 = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	if (fd < 0)
		wl_die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (rcvbuf && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)))
		wl_die("SO_RCVBUF");
	if ((fam == AF_INET6 ? bind(fd, (void *)&a6, sizeof(a6)) :
			       bind(fd, (void *)&a4, sizeof(a4))) ||
	    listen(fd, 4))
		wl_die("bind/listen");
	return fd;
}

static int connect_to(int fam, int port)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6,
				   .sin6_addr = IN6ADDR_LOOPBACK_INIT,
				   .sin6_port = htons(port) };
	struct sockaddr_in a4 = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				  .sin_port = htons(port) };
	int fd = socket(fam, SOCK_STREAM, 0);

	if (fd < 0 || (fam == AF_INET6 ? connect(fd, (void *)&a6, sizeof(a6)) :
					 connect(fd, (void *)&a4, sizeof(a4))))
		wl_die("connect to port %d", port);
	return fd;
}

static int port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);

	getsockname(fd, (void *)&ss, &l);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* until fd has bytes to read: the other side's fill has arrived */
static void wait_readable(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };

	if (poll(&p, 1, 20000) != 1)
		wl_die("nothing arrived");
}

static int peer(void)
{
	int l = tcp_listener(AF_INET, 2048), fd;
	struct end e = { "peer", -1, SEED_P, SEED_W, 0, 0, 0, 0, 0 };

	printf("PORT %d\n", port_of(l));
	fflush(stdout);
	fd = accept(l, NULL, NULL);
	if (fd < 0)
		wl_die("accept");
	close(l);
	e.fd = fd;
	fill(&e);
	printf("FILLED %lu\n", (unsigned long)e.sent);
	fflush(stdout);
	wait_usr1();
	run(&e, 1);
	return wl_done();
}

struct iopt {
	const char *name;
	int level, opt, want;
};

/* options the program set on its connection to the peer */
static const struct iopt c4_opts[] = {
	{ "c4.nodelay", IPPROTO_TCP, TCP_NODELAY, 1 },
	{ "c4.keepalive", SOL_SOCKET, SO_KEEPALIVE, 1 },
	{ "c4.keepidle", IPPROTO_TCP, TCP_KEEPIDLE, 77 },
	{ "c4.keepintvl", IPPROTO_TCP, TCP_KEEPINTVL, 11 },
	{ "c4.keepcnt", IPPROTO_TCP, TCP_KEEPCNT, 4 },
	{ "c4.user_timeout", IPPROTO_TCP, TCP_USER_TIMEOUT, 120000 },
	{ "c4.rcvbuf", SOL_SOCKET, SO_RCVBUF, 2 * 50000 },
};

static void set_opts(int fd)
{
	struct linger lg = { 1, 7 };
	size_t i;

	for (i = 0; i < sizeof(c4_opts) / sizeof(c4_opts[0]); i++) {
		int v = c4_opts[i].opt == SO_RCVBUF ? c4_opts[i].want / 2 :
			c4_opts[i].want;

		if (setsockopt(fd, c4_opts[i].level, c4_opts[i].opt, &v, sizeof(v)))
			wl_die("%s", c4_opts[i].name);
	}
	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "reno", 4))
		wl_die("linger/congestion");
}

static void check_opts(int c4, int a6)
{
	struct linger lg;
	socklen_t l;
	char cc[16] = "";
	int v, mark = wl_mark();
	size_t i;

	for (i = 0; i < sizeof(c4_opts) / sizeof(c4_opts[0]); i++) {
		l = sizeof(v);
		v = -1;
		getsockopt(c4, c4_opts[i].level, c4_opts[i].opt, &v, &l);
		if (v != c4_opts[i].want && !(c4_opts[i].want == 1 && v > 0))
			wl_fail(c4_opts[i].name, "%d, want %d", v, c4_opts[i].want);
	}
	l = sizeof(lg);
	if (getsockopt(c4, SOL_SOCKET, SO_LINGER, &lg, &l) || !lg.l_onoff ||
	    lg.l_linger != 7)
		wl_fail("c4.linger", "%d %d", lg.l_onoff, lg.l_linger);
	l = sizeof(cc);
	if (getsockopt(c4, IPPROTO_TCP, TCP_CONGESTION, cc, &l) || strcmp(cc, "reno"))
		wl_fail("c4.congestion", "'%s'", cc);
	l = sizeof(v);
	if (getsockopt(a6, IPPROTO_TCP, TCP_CORK, &v, &l) || v != 1)
		wl_fail("a6.cork", "%d", v);
	wl_verdict("options", mark);
}

/* the addresses each connection had */
struct names {
	struct sockaddr_storage self, peer;
};

static void names_of(int fd, struct names *n)
{
	socklen_t l = sizeof(n->self);

	memset(n, 0, sizeof(*n));
	getsockname(fd, (void *)&n->self, &l);
	l = sizeof(n->peer);
	getpeername(fd, (void *)&n->peer, &l);
}

static void check_names(const char *what, int fd, const struct names *was)
{
	struct names now;

	names_of(fd, &now);
	if (memcmp(&now, was, sizeof(now)))
		wl_fail(what, "addresses changed");
}

static int tree(int port)
{
	int c4, l6, c6, a6, l2, s1, s2, lm, m4, m6, one = 1, mark;
	struct sockaddr_in6 any6 = { .sin6_family = AF_INET6 };
	struct end e[3] = {
		{ "c4", -1, SEED_W, SEED_P, 0, 0, 0, 0, 0 },
		{ "c6", -1, SEED_C, SEED_A, 0, 0, 0, 0, 0 },
		{ "a6", -1, SEED_A, SEED_C, 0, 0, 0, 0, 0 },
	};
	struct names n4, n6c, n6a, n2;
	char buf[16];
	ssize_t n;

	signal(SIGUSR1, on_usr1);
	signal(SIGUSR2, on_usr1);
	c4 = connect_to(AF_INET, port);
	set_opts(c4);
	e[0].fd = c4;
	l6 = tcp_listener(AF_INET6, 4096);
	c6 = connect_to(AF_INET6, port_of(l6));
	a6 = accept(l6, NULL, NULL);
	if (a6 < 0)
		wl_die("accept [::1]");
	if (setsockopt(a6, IPPROTO_TCP, TCP_CORK, &one, sizeof(one)))
		wl_die("TCP_CORK");
	e[1].fd = c6;
	e[2].fd = a6;
	l2 = tcp_listener(AF_INET, 0);
	s1 = connect_to(AF_INET, port_of(l2));
	s2 = accept(l2, NULL, NULL);
	if (s2 < 0 || send(s2, "hello", 5, 0) != 5)
		wl_die("shut_rd pair");
	/* the listener above its accepted connection (zdtm socket-tcp): it
	 * is bound after it, on the port the connection holds */
	if (dup2(l2, 300) != 300 || close(l2))
		wl_die("dup2 listener");
	l2 = 300;
	wait_readable(s1);
	if (shutdown(s1, SHUT_RD))
		wl_die("SHUT_RD");
	/* an IPv4 client of a dual-stack listener: [::ffff:127.0.0.1] */
	lm = socket(AF_INET6, SOCK_STREAM, 0);
	one = 0;
	if (lm < 0 || setsockopt(lm, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) ||
	    bind(lm, (void *)&any6, sizeof(any6)) || listen(lm, 1))
		wl_die("dual-stack listener");
	m4 = connect_to(AF_INET, port_of(lm));
	m6 = accept(lm, NULL, NULL);
	if (m6 < 0 || send(m4, "mapped", 6, 0) != 6)
		wl_die("mapped pair");
	wait_readable(m6);
	fill(&e[1]);
	fill(&e[2]);
	/*
	 * Ours to the peer last, once the peer has filled its way (SIGUSR2
	 * from the test): then what we send is not acknowledged by the
	 * peer's data, and the test may drop the peer's bare ACKs.
	 */
	wait_flag(&got_usr2);
	fill(&e[0]);
	wait_readable(c4);
	wait_readable(c6);
	wait_readable(a6);
	names_of(c4, &n4);
	names_of(c6, &n6c);
	names_of(a6, &n6a);
	names_of(s1, &n2);
	printf("QUEUES c4 out %d in %d, c6 out %d in %d, a6 out %d in %d\n",
	       queued(c4, SIOCOUTQ), queued(c4, SIOCINQ), queued(c6, SIOCOUTQ),
	       queued(c6, SIOCINQ), queued(a6, SIOCOUTQ), queued(a6, SIOCINQ));
	wl_ready();
	wait_usr1();

	check_opts(c4, a6);
	{
		int v = 0;
		socklen_t vl = sizeof(v);

		/* inherited from its listener; repair mode clears it */
		if (getsockopt(s2, SOL_SOCKET, SO_REUSEADDR, &v, &vl) || v != 1)
			wl_fail("tcp.reuseaddr", "SO_REUSEADDR of an accepted connection is %d, want 1", v);
		else
			wl_pass("tcp.reuseaddr");
	}
	mark = wl_mark();
	check_names("c4.names", c4, &n4);
	check_names("c6.names", c6, &n6c);
	check_names("a6.names", a6, &n6a);
	check_names("s1.names", s1, &n2);
	wl_verdict("addresses", mark);
	/* the half shut down: its queued bytes, then the end; it still sends */
	n = recv(s1, buf, sizeof(buf), MSG_DONTWAIT);
	if (n != 5 || memcmp(buf, "hello", 5))
		wl_fail("shut_rd.queue", "recv gave %zd", n);
	else if ((n = recv(s1, buf, sizeof(buf), MSG_DONTWAIT)) != 0)
		wl_fail("shut_rd.eof", "recv after the queue gave %zd (%s)", n,
			n < 0 ? strerror(errno) : "data");
	else if (send(s1, "world", 5, MSG_NOSIGNAL) != 5)
		wl_fail("shut_rd.send", "%s", strerror(errno));
	else if (recv(s2, buf, sizeof(buf), 0) != 5 || memcmp(buf, "world", 5))
		wl_fail("shut_rd.send", "the other end got no 'world'");
	else
		wl_pass("shut_rd");
	if (recv(m6, buf, sizeof(buf), MSG_DONTWAIT) != 6 || memcmp(buf, "mapped", 6) ||
	    send(m6, "back", 4, 0) != 4 || recv(m4, buf, sizeof(buf), 0) != 4 ||
	    memcmp(buf, "back", 4))
		wl_fail("mapped", "the IPv4 client of [::] lost its bytes");
	else
		wl_pass("mapped");
	one = 0;
	setsockopt(a6, IPPROTO_TCP, TCP_CORK, &one, sizeof(one));
	run(e, 3);
	return wl_done();
}

/*
 * `wl_tcp half`: connections half closed, each state held by a peer that
 * does not read (a tiny receive buffer) so that a FIN waits behind data:
 *	F: f1 wrote NQ bytes and shut down (FIN_WAIT1), f2 reads nothing
 *	C: c1 shut down (FIN_WAIT2), c2 has "hello" and the FIN (CLOSE_WAIT)
 *	L: h1 shut down, then h2 wrote NQ bytes and shut down (LAST_ACK)
 *	X: x1 wrote NQ bytes and shut down, x2 shut down: x2's FIN came in
 *	   while x1's waits (CLOSING), x1 acknowledged it (FIN_WAIT2)
 *	Z: z2 wrote "bye" and both shut down: both closed (TCP_CLOSE), z1
 *	   with "bye" not yet read; each still names its peer (SO_PEERNAME)
 */
#define NQ	200000
#define SEED_H	5

static int pair(int rcvbuf_of_second, int *b)
{
	int l = tcp_listener(AF_INET, rcvbuf_of_second), a, big = 1 << 20;

	a = connect_to(AF_INET, port_of(l));
	*b = accept(l, NULL, NULL);
	if (*b < 0)
		wl_die("accept");
	close(l);
	if (setsockopt(a, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big)))
		wl_die("SO_SNDBUF");
	return a;
}

/* NQ bytes of seed, all queued at once (the send buffer holds them) */
static void write_nq(int fd)
{
	struct end e = { "nq", fd, SEED_H, 0, 0, 0, 0, 0, 0 };
	unsigned char buf[4096];
	size_t i, len;
	ssize_t n;

	while (e.sent < NQ) {
		len = NQ - e.sent < sizeof(buf) ? NQ - e.sent : sizeof(buf);
		for (i = 0; i < len; i++)
			buf[i] = stream_byte(SEED_H, e.sent + i);
		n = send(fd, buf, len, MSG_DONTWAIT);
		if (n <= 0)
			wl_die("write_nq at %lu", (unsigned long)e.sent);
		e.sent += n;
	}
}

static int tcp_state(int fd)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);

	return getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l) ? -1 : ti.tcpi_state;
}

/* until fd is in state st (the kernel moves it as segments arrive) */
static void wait_state(int fd, int st)
{
	double end = wl_now(CLOCK_MONOTONIC) + 10;

	while (tcp_state(fd) != st)
		if (wl_now(CLOCK_MONOTONIC) > end)
			wl_die("state %d, want %d", tcp_state(fd), st);
		else
			usleep(1000);
}

/* reads to the end: want bytes of stream SEED_H (or of text) */
static void drain(const char *name, int fd, size_t want, const char *text)
{
	unsigned char buf[16384];
	struct pollfd p = { fd, POLLIN, 0 };
	size_t got = 0;
	ssize_t n, i;

	for (;;) {
		if (poll(&p, 1, 30000) != 1) {
			wl_fail(name, "stalled after %zu bytes", got);
			return;
		}
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0) {
			wl_fail(name, "recv after %zu bytes: %s", got, strerror(errno));
			return;
		}
		if (!n)
			break;
		for (i = 0; i < n; i++)
			if (got + i >= want ||
			    buf[i] != (text ? (unsigned char)text[got + i] :
					      stream_byte(SEED_H, got + i))) {
				wl_fail(name, "byte %zu differs", got + i);
				return;
			}
		got += n;
	}
	if (got != want)
		wl_fail(name, "end after %zu bytes, want %zu", got, want);
	else
		wl_pass(name);
}

struct held {
	const char *name;
	int fd, state;
};

/* a closed socket's addresses: its own, and the peer SO_PEERNAME keeps */
static void closed_names(int fd, struct names *n)
{
	socklen_t l = sizeof(struct sockaddr_in);

	memset(n, 0, sizeof(*n));
	getsockname(fd, (void *)&n->self, &l);
	l = sizeof(struct sockaddr_in);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERNAME, &n->peer, &l))
		wl_die("SO_PEERNAME: %s", strerror(errno));
}

/* after the text it had: the end; no write; the same addresses */
static void check_closed(const char *name, int fd, const char *text,
			 const struct names *was)
{
	char what[32];
	struct names now;
	struct sockaddr_storage p;
	socklen_t l = sizeof(p);

	snprintf(what, sizeof(what), "%s.read", name);
	drain(what, fd, strlen(text), text);
	snprintf(what, sizeof(what), "%s.closed", name);
	closed_names(fd, &now);
	if (memcmp(&now, was, sizeof(now)))
		wl_fail(what, "addresses changed");
	else if (send(fd, "x", 1, MSG_NOSIGNAL) != -1 || errno != EPIPE)
		wl_fail(what, "send did not fail with EPIPE (%s)", strerror(errno));
	else if (getpeername(fd, (void *)&p, &l) != -1 || errno != ENOTCONN)
		wl_fail(what, "getpeername did not fail with ENOTCONN");
	else
		wl_pass(what);
}

static int half(void)
{
	int f1, f2, c1, c2, h1, h2, x1, x2, z1, z2, mark;
	struct names zn1, zn2;
	size_t i;

	signal(SIGUSR1, on_usr1);
	f1 = pair(2048, &f2);
	write_nq(f1);
	shutdown(f1, SHUT_WR);
	c1 = pair(0, &c2);
	if (send(c1, "hello", 5, 0) != 5)
		wl_die("send hello");
	shutdown(c1, SHUT_WR);
	wait_state(c2, TCP_CLOSE_WAIT);
	h2 = pair(2048, &h1);	/* h1 accepted, with the tiny buffer */
	shutdown(h1, SHUT_WR);
	wait_state(h2, TCP_CLOSE_WAIT);
	write_nq(h2);
	shutdown(h2, SHUT_WR);
	x1 = pair(2048, &x2);
	write_nq(x1);
	shutdown(x1, SHUT_WR);
	shutdown(x2, SHUT_WR);
	z1 = pair(0, &z2);
	if (send(z2, "bye", 3, 0) != 3)
		wl_die("send bye");
	shutdown(z1, SHUT_WR);
	shutdown(z2, SHUT_WR);
	wait_state(x1, TCP_CLOSING);
	wait_state(x2, TCP_FIN_WAIT2);
	wait_state(z1, TCP_CLOSE);
	wait_state(z2, TCP_CLOSE);
	closed_names(z1, &zn1);
	closed_names(z2, &zn2);
	wait_state(c1, TCP_FIN_WAIT2);
	wait_state(h1, TCP_FIN_WAIT2);

	const struct held held[] = {
		{ "f1", f1, TCP_FIN_WAIT1 }, { "f2", f2, TCP_ESTABLISHED },
		{ "c1", c1, TCP_FIN_WAIT2 }, { "c2", c2, TCP_CLOSE_WAIT },
		{ "h1", h1, TCP_FIN_WAIT2 }, { "h2", h2, TCP_LAST_ACK },
		{ "x1", x1, TCP_CLOSING }, { "x2", x2, TCP_FIN_WAIT2 },
		{ "z1", z1, TCP_CLOSE }, { "z2", z2, TCP_CLOSE },
	};
	for (i = 0; i < sizeof(held) / sizeof(held[0]); i++)
		if (tcp_state(held[i].fd) != held[i].state)
			wl_die("%s: state %d, want %d", held[i].name,
			       tcp_state(held[i].fd), held[i].state);
	wl_ready();
	wait_usr1();

	mark = wl_mark();
	for (i = 0; i < sizeof(held) / sizeof(held[0]); i++)
		if (tcp_state(held[i].fd) != held[i].state)
			wl_fail(held[i].name, "state %d, want %d",
				tcp_state(held[i].fd), held[i].state);
	wl_verdict("states", mark);
	drain("f2.stream", f2, NQ, NULL);
	shutdown(f2, SHUT_WR);
	drain("f1.end", f1, 0, NULL);
	drain("c2.hello", c2, 5, "hello");
	if (send(c2, "late", 4, MSG_NOSIGNAL) != 4)
		wl_fail("c2.send", "%s", strerror(errno));
	shutdown(c2, SHUT_WR);
	drain("c1.late", c1, 4, "late");
	drain("h1.stream", h1, NQ, NULL);
	drain("h2.end", h2, 0, NULL);
	drain("x2.stream", x2, NQ, NULL);
	drain("x1.end", x1, 0, NULL);
	check_closed("z1", z1, "bye", &zn1);
	check_closed("z2", z2, "", &zn2);
	return wl_done();
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGUSR1, on_usr1);
	if (argc == 2 && !strcmp(argv[1], "peer"))
		return peer();
	if (argc == 2 && !strcmp(argv[1], "half")) {
		wl_own_session();
		return half();
	}
	if (argc == 2) {
		wl_own_session();
		return tree(atoi(argv[1]));
	}
	fprintf(stderr, "usage: wl_tcp peer | wl_tcp half | wl_tcp PORT\n");
	return 2;
}
