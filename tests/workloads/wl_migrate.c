// SPDX-License-Identifier: MIT
/*
 * wl_migrate: a counter server and its client, for a server moved to
 * another host with the client connected (t_migrate, make bench).
 *
 *   wl_migrate server PORT [MIB]   accept one client; answer each "N" with
 *                                  "N COUNT", N the next number expected
 *                                  and COUNT the lines served; at "end"
 *                                  check MIB of random memory and say
 *                                  PASS or FAIL
 *   wl_migrate client ADDR PORT    send 1, 2, 3, ... and check each answer;
 *                                  "AT N" every 20 answers; at SIGUSR1
 *                                  send "end" and say PASS with the longest
 *                                  wait for an answer (the downtime the
 *                                  client saw) or FAIL at the first error,
 *                                  wrong answer, end of stream or an
 *                                  answer later than 60 s
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "wl_common.h"

static volatile sig_atomic_t stop;

static void on_usr1(int s)
{
	(void)s;
	stop = 1;
}

/* one line (without its newline) from sk into buf; 0 at end of stream */
static int get_line(int sk, char *buf, size_t len, int timeout_ms)
{
	static char in[4096];
	static size_t have;
	char *nl;
	ssize_t n;

	for (;;) {
		nl = memchr(in, '\n', have);
		if (nl) {
			size_t l = nl - in;

			if (l >= len)
				return -EMSGSIZE;
			memcpy(buf, in, l);
			buf[l] = 0;
			memmove(in, nl + 1, have - l - 1);
			have -= l + 1;
			return 1;
		}
		if (have == sizeof(in))
			return -EMSGSIZE;
		if (timeout_ms >= 0) {
			struct pollfd p = { .fd = sk, .events = POLLIN };
			int r = poll(&p, 1, timeout_ms);

			if (r == 0)
				return -ETIMEDOUT;
			if (r < 0 && errno == EINTR)
				continue;
		}
		n = read(sk, in + have, sizeof(in) - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		have += n;
	}
}

static void put_line(int sk, const char *line)
{
	size_t len = strlen(line), off = 0;
	ssize_t n;

	while (off < len) {
		n = write(sk, line + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			wl_die("write to the peer: %s", strerror(errno));
		off += n;
	}
}

/*
 * WL_MIGRATE_RATE=MIB (make bench): a thread rewrites the memory at MIB
 * MiB/s, cycling through it, each page with the bytes it has (dirty, the
 * pattern the end checks unchanged)
 */
struct rewrite {
	char *mem;
	size_t len, rate;
};

static void *rewriter(void *arg)
{
	struct rewrite *w = arg;
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	size_t step = (w->rate << 20) / 100, at = 0, k;
	static char page[4096];

	for (;;) {
		for (k = 0; k < step; k += sizeof(page)) {
			memcpy(page, w->mem + at, sizeof(page));
			memcpy(w->mem + at, page, sizeof(page));
			at = (at + sizeof(page)) % w->len;
		}
		nanosleep(&tick, NULL);
	}
	return NULL;
}

static void start_rewriter(void *mem, size_t len)
{
	static struct rewrite w;
	const char *r = getenv("WL_MIGRATE_RATE");
	pthread_t t;

	w = (struct rewrite){ mem, len, r ? strtoul(r, NULL, 0) : 0 };
	if (w.rate && len && pthread_create(&t, NULL, rewriter, &w))
		wl_die("pthread_create");
}

static int server(int port, size_t mib)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	char line[128], out[128];
	unsigned long next = 1, n;
	size_t len = mib << 20;
	void *mem = NULL;
	int ls, sk, one = 1, r;

	if (len) {
		mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (mem == MAP_FAILED)
			wl_die("mmap %zu MiB", mib);
		wl_fill(mem, len, port);
		start_rewriter(mem, len);
	}
	ls = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ls < 0 || bind(ls, (void *)&a, sizeof(a)) || listen(ls, 4))
		wl_die("listen on port %d: %s", port, strerror(errno));
	wl_ready();
	sk = accept(ls, NULL, NULL);
	if (sk < 0)
		wl_die("accept: %s", strerror(errno));
	close(ls);
	setsockopt(sk, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	while ((r = get_line(sk, line, sizeof(line), -1)) > 0) {
		if (!strcmp(line, "end"))
			break;
		if (sscanf(line, "%lu", &n) != 1 || n != next) {
			wl_fail("server", "got '%s', want %lu", line, next);
			return wl_done();
		}
		snprintf(out, sizeof(out), "%lu %lu\n", n, next);
		put_line(sk, out);
		next++;
	}
	if (r <= 0) {
		wl_fail("server", "the client went away after %lu (%s)", next - 1,
			r ? strerror(-r) : "end of stream");
		return wl_done();
	}
	snprintf(out, sizeof(out), "bye %lu\n", next - 1);
	put_line(sk, out);
	if (len && wl_check(mem, len, port) != (size_t)-1)
		wl_fail("memory", "the %zu MiB changed", mib);
	else
		wl_pass("server");
	printf("served %lu\n", next - 1);
	return wl_done();
}

static int client(const char *addr, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct timespec pace = { 0, 5 * 1000 * 1000 };
	double last, now, gap = 0;
	char line[128], want[128];
	unsigned long i;
	int sk, one = 1, r, wait_ms = 60000;

	signal(SIGUSR1, on_usr1);
	if (inet_pton(AF_INET, addr, &a.sin_addr) != 1)
		wl_die("bad address %s", addr);
	sk = socket(AF_INET, SOCK_STREAM, 0);
	if (sk < 0 || connect(sk, (void *)&a, sizeof(a)))
		wl_die("connect to %s:%d: %s", addr, port, strerror(errno));
	setsockopt(sk, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* WL_MIGRATE_WAIT=S (make bench): a plain move of 1 GiB on a loaded
	 * VM keeps the server away for minutes */
	if (getenv("WL_MIGRATE_WAIT"))
		wait_ms = atoi(getenv("WL_MIGRATE_WAIT")) * 1000;
	wl_ready();
	last = wl_now(CLOCK_MONOTONIC);
	for (i = 1; !stop; i++) {
		snprintf(line, sizeof(line), "%lu\n", i);
		put_line(sk, line);
		r = get_line(sk, line, sizeof(line), wait_ms);
		if (r <= 0) {
			wl_fail("client", "no answer to %lu: %s", i,
				r ? strerror(-r) : "end of stream");
			return wl_done();
		}
		snprintf(want, sizeof(want), "%lu %lu", i, i);
		if (strcmp(line, want)) {
			wl_fail("client", "answer '%s' to %lu, want '%s'", line, i, want);
			return wl_done();
		}
		now = wl_now(CLOCK_MONOTONIC);
		if (now - last > gap)
			gap = now - last;
		last = now;
		if (i % 20 == 0) {
			printf("AT %lu\n", i);
			fflush(stdout);
		}
		nanosleep(&pace, NULL);
	}
	put_line(sk, "end\n");
	r = get_line(sk, line, sizeof(line), wait_ms);
	snprintf(want, sizeof(want), "bye %lu", i - 1);
	if (r <= 0 || strcmp(line, want))
		wl_fail("client", "answer to end: '%s', want '%s'", r > 0 ? line : "",
			want);
	else
		wl_pass("client");
	printf("maxgap_ms %.0f\n", gap * 1000);
	return wl_done();
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 3 && !strcmp(argv[1], "server"))
		return server(atoi(argv[2]), argc > 3 ? strtoul(argv[3], NULL, 0) : 0);
	if (argc == 4 && !strcmp(argv[1], "client"))
		return client(argv[2], atoi(argv[3]));
	fprintf(stderr, "usage: wl_migrate server PORT [MIB] | client ADDR PORT\n");
	return 2;
}
