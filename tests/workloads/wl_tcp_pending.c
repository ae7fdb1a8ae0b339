// SPDX-License-Identifier: MIT
/*
 * TCP connections not yet accepted, their clients in the tree, in a
 * network namespace of our own:
 *	l4: 127.0.0.1, one connection accepted (a0, from c0) with bytes
 *	    queued both ways, then three clients c1..c3 connected and not
 *	    accepted (c2 with TCP_NODELAY, c3 with O_NONBLOCK)
 *	l6: [::1], two clients d1, d2 not accepted
 *	lm: [::] (dual-stack), one IPv4 client e1 not accepted (its queued
 *	    connection has IPv4-mapped addresses)
 * READY once both accept queues hold them; on SIGUSR1 (after freeze and
 * thaw, or restore) each listener's queue gives exactly its clients, in
 * the order they connected, from the ports they had, with their options;
 * each pair carries bytes both ways; a0/c0's queued bytes are there.
 *
 * `wl_tcp_pending data`: c1 sent 5 bytes that l4 holds (refused); after
 * the thaw they are read.  `wl_tcp_pending outside`: a listener on
 * 127.0.0.1 in the test's namespace ("PORT N"), whose queue holds the
 * test's own client (refused); after the thaw it is accepted.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "wl_common.h"
#include "wl_net.h"

#define N4 3
#define N6 2

static int l4, l6, lm, a0, c0, c4[N4], c6[N6], cm[1];
static in_port_t p4[N4], p6[N6], pm[1];

static in_port_t port_of(int s)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);

	if (getsockname(s, (struct sockaddr *)&ss, &l))
		return 0;
	return ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
	       ((struct sockaddr_in6 *)&ss)->sin6_port;
}

static int listener(int fam, const char *ip)
{
	struct sockaddr_storage ss = { .ss_family = fam };
	int s = socket(fam, SOCK_STREAM, 0);

	if (fam == AF_INET)
		inet_pton(AF_INET, ip, &((struct sockaddr_in *)&ss)->sin_addr);
	else
		inet_pton(AF_INET6, ip, &((struct sockaddr_in6 *)&ss)->sin6_addr);
	if (s < 0 || bind(s, (struct sockaddr *)&ss, sizeof(ss)) || listen(s, 8))
		wl_die("listener %s", ip);
	return s;
}

static int client(int l)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *a4 = (void *)&ss;
	socklen_t len = sizeof(ss);
	int s;

	getsockname(l, (struct sockaddr *)&ss, &len);
	if (l == lm) {		/* IPv4 to the dual-stack listener */
		in_port_t port = ((struct sockaddr_in6 *)&ss)->sin6_port;

		memset(&ss, 0, sizeof(ss));
		a4->sin_family = AF_INET;
		a4->sin_port = port;
		a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*a4);
	}
	s = socket(ss.ss_family, SOCK_STREAM, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&ss, len))
		wl_die("connect");
	return s;
}

static int queue_len(int l)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (getsockopt(l, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return -1;
	return ti.tcpi_unacked;
}

/* the last handshake ACK is taken in softirq: wait until it is queued */
static void wait_queued(int l, int n)
{
	struct timespec ms = { 0, 1000000 };
	int i;

	for (i = 0; i < 10000 && queue_len(l) < n; i++)
		nanosleep(&ms, NULL);
	if (queue_len(l) != n)
		wl_die("accept queue holds %d, not %d", queue_len(l), n);
}

static int nodelay(int s)
{
	int v = 0;
	socklen_t l = sizeof(v);

	getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, &l);
	return v;
}

/* a byte string each way between a and c, blocking */
static int talk(int a, int c, int i)
{
	char out[16], in[16];
	int n = snprintf(out, sizeof(out), "hello %d", i);

	if (send(c, out, n, 0) != n || recv(a, in, n, MSG_WAITALL) != n ||
	    memcmp(in, out, n) || send(a, out, n, 0) != n)
		return -1;
	return recv(c, in, n, MSG_WAITALL) == n && !memcmp(in, out, n) ? 0 : -1;
}

/* the listener's queue gives exactly clients c[] from ports p[], in order */
static void check_queue(const char *name, int l, int *c, in_port_t *p, int n)
{
	struct sockaddr_storage ss;
	int mark = wl_mark(), i, a;
	socklen_t len;
	in_port_t got;

	if (queue_len(l) != n)
		wl_fail(name, "accept queue holds %d, not %d", queue_len(l), n);
	for (i = 0; i < n; i++) {
		len = sizeof(ss);
		a = accept4(l, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK);
		if (a < 0) {
			wl_fail(name, "accept %d: %s", i + 1, strerror(errno));
			return;
		}
		got = ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
		      ((struct sockaddr_in6 *)&ss)->sin6_port;
		if (got != p[i] || port_of(c[i]) != p[i]) {
			/* not talked to: the other client's bytes would not come */
			wl_fail(name, "accept %d: from port %u, client on %u, want %u",
				i + 1, ntohs(got), ntohs(port_of(c[i])), ntohs(p[i]));
			close(a);
			continue;
		}
		fcntl(a, F_SETFL, 0);
		fcntl(c[i], F_SETFL, 0);
		if (talk(a, c[i], i))
			wl_fail(name, "connection %d carries nothing", i + 1);
		close(a);
	}
	fcntl(l, F_SETFL, O_NONBLOCK);
	a = accept(l, NULL, NULL);
	if (a >= 0 || errno != EAGAIN)
		wl_fail(name, "a connection more than %d was queued", n);
	fcntl(l, F_SETFL, 0);
	wl_verdict(name, mark);
}

static void setup(void)
{
	int one = 1, i;

	l4 = listener(AF_INET, "127.0.0.1");
	l6 = listener(AF_INET6, "::1");
	c0 = client(l4);
	a0 = accept(l4, NULL, NULL);
	if (a0 < 0 || send(c0, "c0", 2, 0) != 2 || send(a0, "a0", 2, 0) != 2)
		wl_die("first connection");
	for (i = 0; i < N4; i++) {
		c4[i] = client(l4);
		p4[i] = port_of(c4[i]);
		wait_queued(l4, i + 1);
	}
	setsockopt(c4[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(c4[2], F_SETFL, O_NONBLOCK);
	for (i = 0; i < N6; i++) {
		c6[i] = client(l6);
		p6[i] = port_of(c6[i]);
		wait_queued(l6, i + 1);
	}
	lm = listener(AF_INET6, "::");
	cm[0] = client(lm);
	pm[0] = port_of(cm[0]);
	wait_queued(lm, 1);
}

static void check(void)
{
	char buf[4] = "";
	int mark = wl_mark();

	if (nodelay(c4[1]) != 1 || nodelay(c4[0]) != 0)
		wl_fail("options", "TCP_NODELAY c1 %d c2 %d", nodelay(c4[0]),
			nodelay(c4[1]));
	if (!(fcntl(c4[2], F_GETFL) & O_NONBLOCK))
		wl_fail("options", "c3 lost O_NONBLOCK");
	wl_verdict("options", mark);
	mark = wl_mark();
	if (recv(a0, buf, 2, MSG_WAITALL) != 2 || memcmp(buf, "c0", 2) ||
	    recv(c0, buf, 2, MSG_WAITALL) != 2 || memcmp(buf, "a0", 2))
		wl_fail("accepted", "a0/c0 lost their queued bytes");
	else if (talk(a0, c0, 0))
		wl_fail("accepted", "a0/c0 carries nothing");
	wl_verdict("accepted", mark);
	check_queue("queue4", l4, c4, p4, N4);
	check_queue("queue6", l6, c6, p6, N6);
	check_queue("queue_mapped", lm, cm, pm, 1);
}

/* the refused cases: after the thaw, what was queued is still there */
static int data_mode(void)
{
	char buf[8] = "";
	int a;

	l4 = listener(AF_INET, "127.0.0.1");
	c4[0] = client(l4);
	wait_queued(l4, 1);
	if (send(c4[0], "early", 5, 0) != 5)
		wl_die("send");
	wl_ready();
	wl_wait_usr1();
	a = accept(l4, NULL, NULL);
	if (a < 0 || recv(a, buf, 5, MSG_WAITALL) != 5 || memcmp(buf, "early", 5))
		wl_fail("data", "the queued connection lost its bytes (%s)", buf);
	else
		wl_pass("data");
	return wl_done();
}

static int outside_mode(void)
{
	int a;

	l4 = listener(AF_INET, "127.0.0.1");
	printf("PORT %u\n", ntohs(port_of(l4)));
	wl_ready();
	wl_wait_usr1();
	fcntl(l4, F_SETFL, O_NONBLOCK);
	a = accept(l4, NULL, NULL);
	if (a < 0)
		wl_fail("outside", "the outside connection is gone: %s", strerror(errno));
	else
		wl_pass("outside");
	return wl_done();
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	wl_usr1_setup();
	if (argc > 1 && !strcmp(argv[1], "outside"))
		return outside_mode();
	wl_own_net();
	if (argc > 1 && !strcmp(argv[1], "data"))
		return data_mode();
	setup();
	wl_ready();
	wl_wait_usr1();
	check();
	return wl_done();
}
