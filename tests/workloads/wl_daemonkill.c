// SPDX-License-Identifier: MIT
/*
 * wl_daemonkill - a tree that outlives its checkpointer's death.
 *
 * usage: wl_daemonkill [MIB]
 *
 * The root holds a TCP connection over 127.0.0.1 (both ends, each with
 * bytes queued unread), MIB MiB of patterned memory (default 8, so that a
 * copy takes a while) and a child with its own pattern.  It prints
 * "PORT N" (the listener's port, part of the connection's nft lock
 * element) and READY, then waits for SIGUSR1, which it passes to the
 * child.  Then it checks: both ends out of repair mode (a daemon killed
 * while frozen must not leave them in it), the queued bytes, a fresh
 * exchange both ways within 5 s (its packets not dropped by a lock left
 * behind), its memory and the child's verdict.
 */
#include <poll.h>
#include <signal.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "wl_common.h"

#define SEED_ROOT	0xd1e0
#define SEED_KID	0xd1e1
#define SEED_Q		0xd1e2
#define QLEN		4096

static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

static void wait_usr1(void)
{
	sigset_t none;

	sigemptyset(&none);
	while (!got_usr1)
		sigsuspend(&none);
}

static unsigned char *patterned(size_t len, uint64_t seed)
{
	unsigned char *m = malloc(len);

	if (!m)
		wl_die("malloc %zu", len);
	wl_fill(m, len, seed);
	return m;
}

static void check_mem(const char *name, unsigned char *m, size_t len,
		      uint64_t seed)
{
	size_t off = wl_check(m, len, seed);

	if (off == (size_t)-1)
		wl_pass(name);
	else
		wl_fail(name, "differs at offset %zu", off);
}

/* the child: its memory, checked on SIGUSR1; exit status is the verdict */
static void kid(size_t len)
{
	unsigned char *m = patterned(len, SEED_KID);

	wait_usr1();
	check_mem("kid memory", m, len, SEED_KID);
	exit(wl_done());
}

static void pair(int *a, int *b, int *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l < 0 || bind(l, (void *)&sin, sizeof(sin)) || listen(l, 1) ||
	    getsockname(l, (void *)&sin, &sl))
		wl_die("listener");
	*a = socket(AF_INET, SOCK_STREAM, 0);
	if (*a < 0 || connect(*a, (void *)&sin, sizeof(sin)))
		wl_die("connect");
	*b = accept(l, NULL, NULL);
	if (*b < 0)
		wl_die("accept");
	close(l);
	*port = ntohs(sin.sin_port);
}

static void send_all(int fd, const unsigned char *buf, size_t len)
{
	if (write(fd, buf, len) != (ssize_t)len)
		wl_die("write %zu bytes", len);
}

/* len bytes from fd within 5 s, equal to seed's pattern */
static void expect_bytes(const char *name, int fd, size_t len, uint64_t seed)
{
	unsigned char *buf = calloc(1, len);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t got = 0, off;
	ssize_t n;

	while (buf && got < len && poll(&p, 1, 5000) == 1) {
		n = read(fd, buf + got, len - got);
		if (n <= 0)
			break;
		got += n;
	}
	if (got < len) {
		wl_fail(name, "%zu of %zu bytes in 5 s", got, len);
	} else {
		off = wl_check(buf, len, seed);
		if (off == (size_t)-1)
			wl_pass(name);
		else
			wl_fail(name, "byte %zu differs", off);
	}
	free(buf);
}

static void check_repair(const char *name, int fd)
{
	int v = -1;
	socklen_t l = sizeof(v);

	if (getsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &v, &l))
		wl_fail(name, "getsockopt TCP_REPAIR: %s", strerror(errno));
	else if (v)
		wl_fail(name, "still in repair mode (%d)", v);
	else
		wl_pass(name);
}

int main(int argc, char **argv)
{
	size_t len = (argc > 1 ? strtoul(argv[1], NULL, 0) : 8) << 20;
	unsigned char *mem, *q;
	int a, b, port, st;
	pid_t k;

	setvbuf(stdout, NULL, _IONBF, 0);
	wl_own_session();
	signal(SIGUSR1, on_usr1);
	k = fork();
	if (k < 0)
		wl_die("fork");
	if (k == 0)
		kid(len / 2);
	mem = patterned(len, SEED_ROOT);
	pair(&a, &b, &port);
	q = patterned(QLEN, SEED_Q);
	send_all(a, q, QLEN);
	send_all(b, q, QLEN);
	printf("PORT %d\n", port);
	wl_ready();
	wait_usr1();
	kill(k, SIGUSR1);
	check_repair("repair off (connecting end)", a);
	check_repair("repair off (accepted end)", b);
	expect_bytes("queue a->b", b, QLEN, SEED_Q);
	expect_bytes("queue b->a", a, QLEN, SEED_Q);
	send_all(a, q, QLEN);
	send_all(b, q, QLEN);
	expect_bytes("fresh a->b", b, QLEN, SEED_Q);
	expect_bytes("fresh b->a", a, QLEN, SEED_Q);
	check_mem("root memory", mem, len, SEED_ROOT);
	if (waitpid(k, &st, 0) != k)
		wl_fail("kid", "waitpid: %s", strerror(errno));
	else if (!WIFEXITED(st) || WEXITSTATUS(st))
		wl_fail("kid", "status 0x%x", st);
	else
		wl_pass("kid");
	return wl_done();
}
