// SPDX-License-Identifier: MIT
/*
 * Unix sockets beyond pairs: bound to relative names (a listener with a
 * connection accepted through that name, a datagram socket), just
 * created and never bound or connected (stream, datagram, seqpacket), a
 * datagram socket shut down for writing, one bound in a directory removed
 * since, and a datagram server with several connected senders whose
 * messages wait interleaved in its queue.  argv[1]: a directory to work
 * in (our working directory from then on).
 *
 * READY; first SIGUSR1 (after freeze and thaw): names checked, CHECKED 1;
 * second (after restore): names again, then queues, reply routing,
 * connections through the restored names.
 */
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "wl_common.h"
#include "wl_fdtable.h"

#define NSEND 3

static char dir[512];
static int rl, rc, ra, rd;		/* relative: listener, client, accepted, dgram */
static int fresh[3];			/* stream, dgram, seqpacket: untouched */
static int shut;			/* dgram, shut down for writing */
static int gone;			/* bound in a directory removed since */
static int srv, snd[NSEND], anon;	/* dgram server and its senders */
static const char *round_name = "thaw";
static const int fresh_types[3] = { SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET };

static socklen_t addr(struct sockaddr_un *a, const char *path)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	snprintf(a->sun_path, sizeof(a->sun_path), "%s", path);
	return offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;
}

static int sock(int type, const char *bindto)
{
	struct sockaddr_un a;
	int sk = socket(AF_UNIX, type, 0);

	if (sk < 0)
		wl_die("socket");
	if (bindto && bind(sk, (struct sockaddr *)&a, addr(&a, bindto)))
		wl_die("bind %s", bindto);
	return sk;
}

static void connect_to(int sk, const char *path)
{
	struct sockaddr_un a;

	if (connect(sk, (struct sockaddr *)&a, addr(&a, path)))
		wl_die("connect %s", path);
}

static const char *abs_path(const char *name)
{
	static char buf[4][600];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static void setup_relative(void)
{
	if (mkdir("sub", 0755))
		wl_die("mkdir sub");
	rl = sock(SOCK_STREAM, "sub/rel.sock");
	if (listen(rl, 4))
		wl_die("listen");
	rc = sock(SOCK_STREAM, NULL);
	connect_to(rc, "sub/rel.sock");
	ra = accept(rl, NULL, NULL);
	if (ra < 0)
		wl_die("accept");
	rd = sock(SOCK_DGRAM, "rel.dgram");
}

static void setup_senders(void)
{
	char name[32], msg[32];
	int i, k;

	srv = sock(SOCK_DGRAM, abs_path("srv.sock"));
	for (i = 0; i < NSEND; i++) {
		snprintf(name, sizeof(name), "c%d.sock", i);
		snd[i] = sock(SOCK_DGRAM, abs_path(name));
		connect_to(snd[i], abs_path("srv.sock"));
	}
	anon = sock(SOCK_DGRAM, NULL);
	connect_to(anon, abs_path("srv.sock"));
	/* interleaved: 0 1 2 anon 0 1 2 anon */
	for (k = 0; k < 2; k++) {
		for (i = 0; i < NSEND; i++) {
			snprintf(msg, sizeof(msg), "from %d #%d", i, k);
			if (send(snd[i], msg, strlen(msg), 0) < 0)
				wl_die("send");
		}
		snprintf(msg, sizeof(msg), "anon #%d", k);
		if (send(anon, msg, strlen(msg), 0) < 0)
			wl_die("send anon");
	}
}

static void setup(void)
{
	int i;

	setup_relative();
	for (i = 0; i < 3; i++)
		fresh[i] = sock(fresh_types[i], NULL);
	shut = sock(SOCK_DGRAM, NULL);
	if (shutdown(shut, SHUT_WR))
		wl_die("shutdown");
	if (mkdir("gone", 0755))
		wl_die("mkdir gone");
	gone = sock(SOCK_DGRAM, abs_path("gone/g.sock"));
	if (unlink("gone/g.sock") || rmdir("gone"))
		wl_die("removing gone");
	setup_senders();
}

/* getsockname (or getpeername) says name; "" for none */
static void check_name(int sk, bool peer, const char *want, const char *what)
{
	struct sockaddr_un a;
	socklen_t l = sizeof(a);
	char name[64];
	int r;

	snprintf(name, sizeof(name), "%s.%s", round_name, what);
	memset(&a, 0, sizeof(a));
	r = peer ? getpeername(sk, (struct sockaddr *)&a, &l) :
		   getsockname(sk, (struct sockaddr *)&a, &l);
	if (r)
		wl_fail(name, "%s: %s", peer ? "getpeername" : "getsockname",
			strerror(errno));
	else if (a.sun_family != AF_UNIX || strcmp(a.sun_path, want) ||
		 (!want[0] && l != sizeof(sa_family_t)))
		wl_fail(name, "'%s' (%u bytes), want '%s'", a.sun_path, l, want);
	else
		wl_pass(name);
}

static void check_fresh(void)
{
	char name[64];
	socklen_t l;
	int i, t;

	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "%s.fresh%d", round_name, i);
		l = sizeof(t);
		if (getsockopt(fresh[i], SOL_SOCKET, SO_TYPE, &t, &l) ||
		    t != fresh_types[i])
			wl_fail(name, "type %d, want %d", t, fresh_types[i]);
		else if (!getpeername(fresh[i], (struct sockaddr *)&(struct sockaddr_un){ 0 },
				      &(socklen_t){ sizeof(struct sockaddr_un) }) ||
			 errno != ENOTCONN)
			wl_fail(name, "connected to something");
		else
			wl_pass(name);
		snprintf(name, sizeof(name), "fresh%d.name", i);
		check_name(fresh[i], false, "", name);
	}
}

static void check_names(void)
{
	struct stat st;
	char name[64], cwd[512];
	int i;

	check_name(rl, false, "sub/rel.sock", "rel.listener");
	check_name(rc, true, "sub/rel.sock", "rel.client_peer");
	check_name(ra, false, "sub/rel.sock", "rel.accepted");
	check_name(rd, false, "rel.dgram", "rel.dgram");
	check_fresh();
	check_name(gone, false, abs_path("gone/g.sock"), "gone.name");
	snprintf(name, sizeof(name), "%s.gone.dir", round_name);
	if (!stat(abs_path("gone"), &st))
		wl_fail(name, "the removed directory is back");
	else
		wl_pass(name);
	snprintf(name, sizeof(name), "%s.cwd", round_name);
	if (!getcwd(cwd, sizeof(cwd)) || strcmp(cwd, dir))
		wl_fail(name, "cwd %s, want %s", cwd, dir);
	else
		wl_pass(name);
	for (i = 0; i < NSEND; i++) {
		snprintf(name, sizeof(name), "sender%d.peer", i);
		check_name(snd[i], true, abs_path("srv.sock"), name);
	}
	check_name(anon, true, abs_path("srv.sock"), "anon.peer");
}

/* the server's queue, in order, each from its sender; replies routed */
static void check_server(void)
{
	char buf[64], want[64], from[64];
	struct sockaddr_un a;
	socklen_t l;
	int mark = wl_mark(), i, k;
	ssize_t n;

	for (k = 0; k < 2; k++)
		for (i = 0; i <= NSEND; i++) {
			if (i < NSEND) {
				snprintf(want, sizeof(want), "from %d #%d", i, k);
				snprintf(from, sizeof(from), "c%d.sock", i);
			} else {
				snprintf(want, sizeof(want), "anon #%d", k);
			}
			l = sizeof(a);
			memset(&a, 0, sizeof(a));
			n = recvfrom(srv, buf, sizeof(buf) - 1, MSG_DONTWAIT,
				     (struct sockaddr *)&a, &l);
			buf[n > 0 ? n : 0] = '\0';
			if (strcmp(buf, want))
				wl_fail("server.queue", "'%s', want '%s'", buf, want);
			else if (i < NSEND && strcmp(a.sun_path, abs_path(from)))
				wl_fail("server.sender", "'%s' came from '%s'", buf,
					a.sun_path);
			else if (i == NSEND && l > sizeof(sa_family_t))
				wl_fail("server.sender", "'%s' came from '%s'", buf,
					a.sun_path);
			else if (i < NSEND && k == 0 &&
				 sendto(srv, want, strlen(want), 0,
					(struct sockaddr *)&a, l) < 0)
				wl_fail("server.reply", "%s", strerror(errno));
		}
	if (recv(srv, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		wl_fail("server.queue", "more than was sent");
	for (i = 0; i < NSEND; i++) {
		snprintf(want, sizeof(want), "from %d #0", i);
		n = recv(snd[i], buf, sizeof(buf) - 1, MSG_DONTWAIT);
		buf[n > 0 ? n : 0] = '\0';
		if (strcmp(buf, want))
			wl_fail("server.reply", "sender %d got '%s'", i, buf);
	}
	wl_verdict("server.routing", mark);
}

static void check_use(void)
{
	struct sockaddr_un a;
	char buf[8];
	int c;

	/* the relative listener takes a connection by its absolute path */
	c = sock(SOCK_STREAM, NULL);
	if (connect(c, (struct sockaddr *)&a, addr(&a, abs_path("sub/rel.sock"))) ||
	    send(c, "x", 1, 0) != 1)
		wl_fail("rel.connect", "%s", strerror(errno));
	else
		wl_pass("rel.connect");
	close(c);
	if (send(rc, "hi", 2, 0) != 2 || recv(ra, buf, 2, 0) != 2 ||
	    memcmp(buf, "hi", 2))
		wl_fail("rel.accepted_pair", "no data across");
	else
		wl_pass("rel.accepted_pair");
	if (sendto(fresh[1], "y", 1, 0, (struct sockaddr *)&a,
		   addr(&a, abs_path("rel.dgram"))) != 1 ||
	    recv(rd, buf, 1, MSG_DONTWAIT) != 1)
		wl_fail("fresh.dgram_use", "%s", strerror(errno));
	else
		wl_pass("fresh.dgram_use");
	if (sendto(shut, "z", 1, MSG_NOSIGNAL, (struct sockaddr *)&a,
		   addr(&a, abs_path("rel.dgram"))) != -1 || errno != EPIPE)
		wl_fail("shut.wr", "sending did not fail with EPIPE");
	else
		wl_pass("shut.wr");
}

static volatile sig_atomic_t usr1;

static void on_usr1(int sig)
{
	(void)sig;
	usr1++;
}

/* the descriptor table at READY (wl_fdtable.h) */
static struct wl_fdtable fdt0;

int main(int argc, char **argv)
{
	sigset_t block, old;

	if (argc < 2 || chdir(argv[1]) || !getcwd(dir, sizeof(dir)))
		wl_die("usage: wl_unixmore DIR");
	wl_own_session();
	signal(SIGUSR1, on_usr1);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);
	setup();
	wl_fdt_take(&fdt0);
	wl_ready();
	while (usr1 < 1)
		sigsuspend(&old);
	wl_fdt_check("unixmore.fd_table", &fdt0);
	check_names();
	fflush(stdout);
	if (write(STDOUT_FILENO, "CHECKED 1\n", 10) != 10)
		wl_die("write");
	while (usr1 < 2)
		sigsuspend(&old);
	round_name = "restore";
	check_names();
	check_server();
	check_use();
	return wl_done();
}
