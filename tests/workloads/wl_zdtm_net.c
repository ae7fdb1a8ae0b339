/* SPDX-License-Identifier: MIT */
/*
 * Socket state of the kind CRIU's zdtm suite checks (sk-unix*, sockets*,
 * socket_udp*, socket-tcp*, sock_opts*) in the details no other workload
 * covers:
 *  - receive and send timeouts of a TCP listener and a UDP socket;
 *  - TCP options of an idle socket: window clamp, SYN retries, FIN_WAIT2
 *    time, thin-stream timeouts; SO_ZEROCOPY, SO_TXREHASH;
 *  - IP_OPTIONS, IP_LOCAL_PORT_RANGE, IP_MINTTL, IP_RECVOPTS, IP_RETOPTS,
 *    IP_RECVFRAGSIZE, IP_PASSSEC of a UDP socket; IPV6_DONTFRAG,
 *    IPV6_AUTOFLOWLABEL, IPV6_MINHOPCOUNT, IPV6_RECVFRAGSIZE,
 *    IPV6_RECVRTHDR of a UDP6 one; TCP_SAVE_SYN, TCP_TX_DELAY;
 *  - multicast group memberships of a UDP, a raw and a UDP6 socket
 *    (joining again is refused);
 *  - unix stream options: SO_RCVLOWAT, SO_PASSCRED, timeouts, SO_SNDBUF;
 *  - a unix stream pair shut down one way: EOF one side, EPIPE the other;
 *    a seqpacket pair shut down for reading at one end;
 *  - datagrams queued on a bound unix socket from two bound senders: each
 *    still comes with its sender's name;
 *  - a unix socket file's mode and owner (sockets00);
 *  - SO_NO_CHECK of a UDP socket (sock_opts00);
 *  - with WL_ZDTM_SET=scmcreds, a queued unix datagram with SCM_CREDENTIALS
 *    of another uid/gid to a SO_PASSCRED socket (refused; still there
 *    after the thaw);
 *  - with WL_ZDTM_SET=unixoob, an out-of-band byte queued on a unix stream
 *    socket (refused; still there after the thaw);
 *  - an empty datagram queued on a unix pair before a non-empty one;
 *  - two TCP listeners of one port bound with SO_REUSEPORT, one of them
 *    with it off since (socket-tcp-reuseport);
 *  - a UDP, a UDP6 and a TCP listener bound to addresses the namespace
 *    does not have, with IP_FREEBIND off since (sk-freebind-false);
 *  - unix sockets bound at names removed since, in a directory removed
 *    too (sk-unix01, sk-unix-dgram-ghost): a datagram one with a client
 *    connected, a listener with a connection accepted; both still reach
 *    them, by the names they were bound to; one whose name is a FIFO
 *    since (fifo_upon_unix_socket00);
 *  - a datagram queued on one end of a unix pair whose other end is
 *    closed since (socket_close_data, scm09): it is read, then a send
 *    says ECONNREFUSED, as to a peer that went.
 * Usage: wl_zdtm_net DIR.  READY; on SIGUSR1 each is checked.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <poll.h>
#include <sys/stat.h>
#include "wl_common.h"
#include "wl_fdtable.h"

#ifndef SO_TXREHASH
#define SO_TXREHASH 74
#endif
#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif

/* in linux/in.h and in6.h, not all in glibc's */
#ifndef IP_MINTTL
#define IP_MINTTL 21
#endif
#ifndef IP_RECVFRAGSIZE
#define IP_RECVFRAGSIZE 25
#endif
#ifndef IPV6_DONTFRAG
#define IPV6_DONTFRAG 62
#endif
#ifndef IPV6_AUTOFLOWLABEL
#define IPV6_AUTOFLOWLABEL 70
#endif
#ifndef IPV6_MINHOPCOUNT
#define IPV6_MINHOPCOUNT 73
#endif
#ifndef IPV6_RECVFRAGSIZE
#define IPV6_RECVFRAGSIZE 77
#endif
#ifndef IPV6_RECVRTHDR
#define IPV6_RECVRTHDR 56
#endif

static volatile sig_atomic_t go;
static int rw, tl, tu, u4, u6, us[2], ush[2], ud, ud1, ud2, ul, ucr[2], uoob[2],
	   uem[2], usq[2];
static const char *dir;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

struct iopt {
	const char *name;
	int *sk, level, opt, want;
};

static const struct iopt iopts[] = {
	{ "tcp.window_clamp", &tu, IPPROTO_TCP, TCP_WINDOW_CLAMP, 40000 },
	{ "tcp.syncnt", &tu, IPPROTO_TCP, TCP_SYNCNT, 3 },
	{ "tcp.linger2", &tu, IPPROTO_TCP, TCP_LINGER2, 17 },
	{ "tcp.thin_lto", &tu, IPPROTO_TCP, TCP_THIN_LINEAR_TIMEOUTS, 1 },
	{ "tcp.zerocopy", &tu, SOL_SOCKET, SO_ZEROCOPY, 1 },
	{ "tcp.txrehash", &tu, SOL_SOCKET, SO_TXREHASH, 0 },
	{ "udp.local_port_range", &u4, IPPROTO_IP, IP_LOCAL_PORT_RANGE,
	  (int)(40000u | 41000u << 16) },
	{ "unix.rcvlowat", &us[0], SOL_SOCKET, SO_RCVLOWAT, 7 },
	{ "unix.passcred", &us[0], SOL_SOCKET, SO_PASSCRED, 1 },
	{ "udp.no_check", &u4, SOL_SOCKET, SO_NO_CHECK, 1 },
	{ "udp.ip_minttl", &u4, IPPROTO_IP, IP_MINTTL, 9 },
	{ "udp.ip_recvopts", &u4, IPPROTO_IP, IP_RECVOPTS, 1 },
	{ "udp.ip_retopts", &u4, IPPROTO_IP, IP_RETOPTS, 1 },
	{ "udp.ip_recvfragsize", &u4, IPPROTO_IP, IP_RECVFRAGSIZE, 1 },
	{ "udp.ip_passsec", &u4, IPPROTO_IP, IP_PASSSEC, 1 },
	{ "udp6.dontfrag", &u6, IPPROTO_IPV6, IPV6_DONTFRAG, 1 },
	{ "udp6.autoflowlabel", &u6, IPPROTO_IPV6, IPV6_AUTOFLOWLABEL, 0 },
	{ "udp6.minhopcount", &u6, IPPROTO_IPV6, IPV6_MINHOPCOUNT, 7 },
	{ "udp6.recvfragsize", &u6, IPPROTO_IPV6, IPV6_RECVFRAGSIZE, 1 },
	{ "udp6.recvrthdr", &u6, IPPROTO_IPV6, IPV6_RECVRTHDR, 1 },
	{ "tcp.save_syn", &tu, IPPROTO_TCP, TCP_SAVE_SYN, 1 },
	{ "tcp.tx_delay", &tu, IPPROTO_TCP, TCP_TX_DELAY, 1000 },
};
#define NIOPTS (sizeof(iopts) / sizeof(iopts[0]))

static const struct {
	const char *name;
	int *sk, opt;
	long usec;
} timeos[] = {
	{ "tcp.rcvtimeo", &tl, SO_RCVTIMEO, 2500000 },
	{ "tcp.sndtimeo", &tl, SO_SNDTIMEO, 1300000 },
	{ "udp.rcvtimeo", &u4, SO_RCVTIMEO, 700000 },
	{ "unix.rcvtimeo", &us[0], SO_RCVTIMEO, 3100000 },
	{ "unix.sndtimeo", &us[1], SO_SNDTIMEO, 900000 },
};
#define NTIMEOS (sizeof(timeos) / sizeof(timeos[0]))

static const unsigned char ipopts[] = { IPOPT_NOP, IPOPT_NOP, IPOPT_NOP, IPOPT_END };
static struct ip_mreqn mreq;
static struct ipv6_mreq mreq6 = { .ipv6mr_interface = 1 };	/* lo */

static int sock(int domain, int type)
{
	int sk = socket(domain, type, 0);

	if (sk < 0)
		wl_die("socket %d/%d", domain, type);
	return sk;
}

static void set_int(int sk, int level, int opt, int v, const char *what)
{
	if (setsockopt(sk, level, opt, &v, sizeof(v)))
		wl_die("setsockopt %s", what);
}

static socklen_t unix_name(struct sockaddr_un *a, const char *leaf)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	snprintf(a->sun_path, sizeof(a->sun_path), "%s/%s", dir, leaf);
	unlink(a->sun_path);
	return sizeof(*a);
}

static int unix_dgram_bound(const char *leaf)
{
	struct sockaddr_un a;
	int sk = sock(AF_UNIX, SOCK_DGRAM);

	if (bind(sk, (void *)&a, unix_name(&a, leaf)))
		wl_die("bind %s", leaf);
	return sk;
}

/*
 * zdtm socket-tcp-reuseport: two listeners of one port, both bound with
 * SO_REUSEPORT, then the first turned it off
 */
static int rp1 = -1, rp2 = -1;

static void setup_reuseport(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);

	rp1 = sock(AF_INET, SOCK_STREAM);
	rp2 = sock(AF_INET, SOCK_STREAM);
	set_int(rp1, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT");
	set_int(rp2, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT");
	if (bind(rp1, (void *)&a, sizeof(a)) || listen(rp1, 4) ||
	    getsockname(rp1, (void *)&a, &len) ||
	    bind(rp2, (void *)&a, sizeof(a)) || listen(rp2, 4))
		wl_die("listeners sharing a port");
	set_int(rp1, SOL_SOCKET, SO_REUSEPORT, 0, "SO_REUSEPORT off");
}

/* both listen on the one port, SO_REUSEPORT as it was; a client gets in */
static void check_reuseport(void)
{
	struct sockaddr_in a, b;
	socklen_t la = sizeof(a), lb = sizeof(b), l = sizeof(int);
	int v1 = -1, v2 = -1, c, acc = -1;
	struct pollfd p[2] = { { rp1, POLLIN, 0 }, { rp2, POLLIN, 0 } };

	getsockopt(rp1, SOL_SOCKET, SO_REUSEPORT, &v1, &l);
	getsockopt(rp2, SOL_SOCKET, SO_REUSEPORT, &v2, &l);
	if (getsockname(rp1, (void *)&a, &la) || getsockname(rp2, (void *)&b, &lb) ||
	    a.sin_port != b.sin_port || !a.sin_port) {
		wl_fail("tcp.reuseport", "the listeners' ports differ");
		return;
	}
	if (v1 != 0 || v2 != 1) {
		wl_fail("tcp.reuseport", "SO_REUSEPORT %d and %d, want 0 and 1", v1, v2);
		return;
	}
	c = sock(AF_INET, SOCK_STREAM);
	if (connect(c, (void *)&a, sizeof(a)) || poll(p, 2, 5000) < 1)
		wl_fail("tcp.reuseport", "no listener took a connection: %s",
			strerror(errno));
	else if ((acc = accept(p[0].revents ? rp1 : rp2, NULL, NULL)) < 0)
		wl_fail("tcp.reuseport", "accept: %s", strerror(errno));
	else
		wl_pass("tcp.reuseport");
	close(c);
	if (acc >= 0)
		close(acc);
}

/*
 * zdtm sk-freebind-false: sockets bound to addresses this namespace does
 * not have (TEST-NET, documentation prefix) with IP_FREEBIND, which each
 * turned off since: a UDP, a UDP6 and a TCP listener
 */
static int nl_sk[3] = { -1, -1, -1 };
static struct sockaddr_storage nl_at[3];

static void setup_nonlocal(void)
{
	static const char *const where[3] = { "192.0.2.77", "2001:db8::77",
					      "192.0.2.78" };
	int i, fam, lvl, opt;
	socklen_t len;

	for (i = 0; i < 3; i++) {
		struct sockaddr_in *a = (void *)&nl_at[i];
		struct sockaddr_in6 *b = (void *)&nl_at[i];

		fam = i == 1 ? AF_INET6 : AF_INET;
		lvl = fam == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP;
		opt = fam == AF_INET6 ? IPV6_FREEBIND : IP_FREEBIND;
		nl_sk[i] = sock(fam, i == 2 ? SOCK_STREAM : SOCK_DGRAM);
		memset(&nl_at[i], 0, sizeof(nl_at[i]));
		nl_at[i].ss_family = fam;
		if (fam == AF_INET)
			inet_pton(fam, where[i], &a->sin_addr);
		else
			inet_pton(fam, where[i], &b->sin6_addr);
		len = fam == AF_INET6 ? sizeof(*b) : sizeof(*a);
		set_int(nl_sk[i], lvl, opt, 1, "IP_FREEBIND");
		if (bind(nl_sk[i], (void *)&nl_at[i], len) ||
		    (i == 2 && listen(nl_sk[i], 4)) ||
		    getsockname(nl_sk[i], (void *)&nl_at[i], &len))
			wl_die("bind to a non-local address");
		set_int(nl_sk[i], lvl, opt, 0, "IP_FREEBIND off");
	}
}

/* the same address and port, IP_FREEBIND off, the listener listening */
static void check_nonlocal(void)
{
	struct sockaddr_storage ss;
	socklen_t len, l;
	int i, fb, acc;

	for (i = 0; i < 3; i++) {
		len = sizeof(ss);
		l = sizeof(int);
		fb = acc = -1;
		memset(&ss, 0, sizeof(ss));
		getsockopt(nl_sk[i], i == 1 ? IPPROTO_IPV6 : IPPROTO_IP,
			   i == 1 ? IPV6_FREEBIND : IP_FREEBIND, &fb, &l);
		l = sizeof(int);
		getsockopt(nl_sk[i], SOL_SOCKET, SO_ACCEPTCONN, &acc, &l);
		if (getsockname(nl_sk[i], (void *)&ss, &len) ||
		    memcmp(&ss, &nl_at[i], len)) {
			wl_fail("inet.nonlocal", "socket %d: not bound where it was", i);
			return;
		}
		if (fb != 0 || acc != (i == 2)) {
			wl_fail("inet.nonlocal", "socket %d: IP_FREEBIND %d, listening %d",
				i, fb, acc);
			return;
		}
	}
	wl_pass("inet.nonlocal");
}

static void setup_inet(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	size_t i;

	tl = sock(AF_INET, SOCK_STREAM);
	if (bind(tl, (void *)&a, sizeof(a)) || listen(tl, 4))
		wl_die("tcp listener");
	tu = sock(AF_INET, SOCK_STREAM);
	u4 = sock(AF_INET, SOCK_DGRAM);
	u6 = sock(AF_INET6, SOCK_DGRAM);
	if (bind(u4, (void *)&a, sizeof(a)))
		wl_die("udp bind");
	for (i = 0; i < NIOPTS; i++)
		if (*iopts[i].sk == tu || *iopts[i].sk == u4 || *iopts[i].sk == u6)
			set_int(*iopts[i].sk, iopts[i].level, iopts[i].opt,
				iopts[i].want, iopts[i].name);
	if (setsockopt(u4, IPPROTO_IP, IP_OPTIONS, ipopts, sizeof(ipopts)))
		wl_die("IP_OPTIONS");
	mreq.imr_multiaddr.s_addr = inet_addr("239.7.7.7");
	mreq.imr_ifindex = 1;	/* lo */
	if (setsockopt(u4, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof(mreq)))
		wl_die("IP_ADD_MEMBERSHIP");
	rw = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	if (rw < 0 || setsockopt(rw, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof(mreq)))
		wl_die("raw socket's IP_ADD_MEMBERSHIP");
	inet_pton(AF_INET6, "ff15::77", &mreq6.ipv6mr_multiaddr);
	if (setsockopt(u6, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mreq6, sizeof(mreq6)))
		wl_die("IPV6_JOIN_GROUP");
}

static void setup_unix(void)
{
	struct sockaddr_un a;
	size_t i;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, us) ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, ush))
		wl_die("socketpair");
	for (i = 0; i < NIOPTS; i++)
		if (*iopts[i].sk == us[0])
			set_int(us[0], iopts[i].level, iopts[i].opt,
				iopts[i].want, iopts[i].name);
	set_int(us[1], SOL_SOCKET, SO_SNDBUF, 50000, "unix sndbuf");
	if (shutdown(ush[0], SHUT_WR))
		wl_die("shutdown");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, usq) || shutdown(usq[0], SHUT_RD))
		wl_die("seqpacket shutdown");
	ud = unix_dgram_bound("srv");
	ud1 = unix_dgram_bound("cl1");
	ud2 = unix_dgram_bound("cl2");
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s/srv", dir);
	if (sendto(ud1, "one", 3, 0, (void *)&a, sizeof(a)) != 3 ||
	    sendto(ud2, "two", 3, 0, (void *)&a, sizeof(a)) != 3)
		wl_die("unix dgram send");
}

#define CR_UID 1234
#define CR_GID 5678

/* a datagram whose credentials name another uid and gid */
static void setup_creds(void)
{
	struct ucred uc = { getpid(), CR_UID, CR_GID };
	char cbuf[CMSG_SPACE(sizeof(uc))];
	struct iovec iov = { "cred", 4 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, ucr))
		wl_die("socketpair");
	set_int(ucr[1], SOL_SOCKET, SO_PASSCRED, 1, "passcred");
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_CREDENTIALS;
	cm->cmsg_len = CMSG_LEN(sizeof(uc));
	memcpy(CMSG_DATA(cm), &uc, sizeof(uc));
	if (sendmsg(ucr[0], &mh, 0) != 4)
		wl_die("sendmsg SCM_CREDENTIALS");
}

static int uself = -1;	/* a datagram socket connected to itself */

/* zdtm sockets_dgram: bound, connected to its own name, a datagram queued */
static void setup_self(void)
{
	struct sockaddr_un a;
	socklen_t len = unix_name(&a, "self");

	uself = sock(AF_UNIX, SOCK_DGRAM);
	if (bind(uself, (void *)&a, len) || connect(uself, (void *)&a, len) ||
	    send(uself, "queued", 6, 0) != 6)
		wl_die("self-connected datagram socket");
}

/* what it sends comes back to it (after the one queued) */
static void check_self(void)
{
	char buf[8] = "", buf2[8] = "";

	if (send(uself, "after", 5, MSG_DONTWAIT) != 5)
		wl_fail("unix.dgram_self", "send: %s", strerror(errno));
	else if (recv(uself, buf, sizeof(buf), MSG_DONTWAIT) != 6 ||
		 memcmp(buf, "queued", 6))
		wl_fail("unix.dgram_self", "the queued datagram: '%s'", buf);
	else if (recv(uself, buf2, sizeof(buf2), MSG_DONTWAIT) != 5 ||
		 memcmp(buf2, "after", 5))
		wl_fail("unix.dgram_self", "what it sent did not come back: %s",
			strerror(errno));
	else
		wl_pass("unix.dgram_self");
}

static int ughost = -1, ugcli = -1, uglsn = -1, ugcon = -1, ugacc = -1;
static int ugfifo = -1, ugfcli = -1;	/* a FIFO at its name since */
static char ugdir[108];

/* sk-unix-dgram-ghost, sk-unix01: bound, connected to, names removed */
static void setup_ghosts(void)
{
	struct sockaddr_un a;
	socklen_t len;

	snprintf(ugdir, sizeof(ugdir), "%s/gone", dir);
	if (mkdir(ugdir, 0755) && errno != EEXIST)
		wl_die("mkdir %s", ugdir);
	len = unix_name(&a, "gone/dg");
	ughost = sock(AF_UNIX, SOCK_DGRAM);
	ugcli = sock(AF_UNIX, SOCK_DGRAM);
	if (bind(ughost, (void *)&a, len) || connect(ugcli, (void *)&a, len) ||
	    unlink(a.sun_path))
		wl_die("ghost datagram socket");
	len = unix_name(&a, "gone/st");
	uglsn = sock(AF_UNIX, SOCK_STREAM);
	ugcon = sock(AF_UNIX, SOCK_STREAM);
	if (bind(uglsn, (void *)&a, len) || listen(uglsn, 4) ||
	    connect(ugcon, (void *)&a, len) ||
	    (ugacc = accept(uglsn, NULL, NULL)) < 0 || unlink(a.sun_path) ||
	    rmdir(ugdir))
		wl_die("ghost listener");
	/* fifo_upon_unix_socket00 */
	len = unix_name(&a, "fifo-sk");
	ugfifo = sock(AF_UNIX, SOCK_DGRAM);
	ugfcli = sock(AF_UNIX, SOCK_DGRAM);
	if (bind(ugfifo, (void *)&a, len) || connect(ugfcli, (void *)&a, len) ||
	    unlink(a.sun_path) || mkfifo(a.sun_path, 0600))
		wl_die("ghost socket under a FIFO");
}

/* what cli sends (2 bytes) arrives at srv; cli's peer is named want, if
 * want is given: 0, or why not in why */
static int reaches(int cli, int srv, const char *msg, const char *want,
		   char *why, size_t len)
{
	struct sockaddr_un a = { 0 };
	socklen_t l = sizeof(a);
	char buf[8] = "";

	if (send(cli, msg, 2, MSG_DONTWAIT) != 2 ||
	    recv(srv, buf, sizeof(buf), MSG_DONTWAIT) != 2 || strcmp(buf, msg))
		snprintf(why, len, "what the client sent did not arrive: %s",
			 strerror(errno));
	else if (want && (getpeername(cli, (void *)&a, &l) ||
			  strcmp(a.sun_path, want)))
		snprintf(why, len, "the client's peer is '%s'", a.sun_path);
	else
		return 0;
	return -1;
}

/* what the clients send arrives; the names are the removed ones; nothing
 * of the restore's is left where they were */
static void check_ghosts(void)
{
	struct sockaddr_un want;
	char why[256];
	struct stat st;

	unix_name(&want, "gone/dg");
	if (reaches(ugcli, ughost, "dg", want.sun_path, why, sizeof(why)))
		wl_fail("unix.ghost_dgram", "%s", why);
	else
		wl_pass("unix.ghost_dgram");
	unix_name(&want, "gone/st");
	if (reaches(ugcon, ugacc, "st", want.sun_path, why, sizeof(why)))
		wl_fail("unix.ghost_listener", "%s", why);
	else if (!stat(ugdir, &st))
		wl_fail("unix.ghost_listener", "%s is there again", ugdir);
	else
		wl_pass("unix.ghost_listener");
	snprintf(want.sun_path, sizeof(want.sun_path), "%s/fifo-sk", dir);
	if (reaches(ugfcli, ugfifo, "ff", NULL, why, sizeof(why)))
		wl_fail("unix.ghost_under_fifo", "%s", why);
	else if (stat(want.sun_path, &st) || !S_ISFIFO(st.st_mode))
		wl_fail("unix.ghost_under_fifo", "%s is no longer the FIFO",
			want.sun_path);
	else
		wl_pass("unix.ghost_under_fifo");
}

static int uorphan = -1;

static void setup_orphan(void)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) ||
	    send(sv[1], "orphan", 6, 0) != 6)
		wl_die("datagram pair");
	close(sv[1]);
	uorphan = sv[0];
}

static void check_orphan(void)
{
	char buf[8] = "";

	if (recv(uorphan, buf, sizeof(buf), MSG_DONTWAIT) != 6 ||
	    memcmp(buf, "orphan", 6))
		wl_fail("unix.dgram_peer_closed", "the queued datagram: '%s' (%s)",
			buf, strerror(errno));
	else if (send(uorphan, "x", 1, MSG_DONTWAIT) != -1 ||
		 errno != ECONNREFUSED)
		wl_fail("unix.dgram_peer_closed", "a send did not say ECONNREFUSED: %s",
			strerror(errno));
	else
		wl_pass("unix.dgram_peer_closed");
}

static void setup_unix_more(void)
{
	struct sockaddr_un a;

	setup_self();
	setup_ghosts();
	setup_orphan();

	ul = sock(AF_UNIX, SOCK_STREAM);
	if (bind(ul, (void *)&a, unix_name(&a, "lsn")) || listen(ul, 2) ||
	    chmod(a.sun_path, 0640) || chown(a.sun_path, 4321, 4322))
		wl_die("unix listener file");
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, uoob) ||
	    socketpair(AF_UNIX, SOCK_DGRAM, 0, uem))
		wl_die("socketpair");
	if (wl_zdtm_want("scmcreds"))
		setup_creds();
	if (wl_zdtm_want("unixoob") &&
	    (send(uoob[0], "ab", 2, 0) != 2 || send(uoob[0], "c", 1, MSG_OOB) != 1))
		wl_die("send MSG_OOB");
	if (send(uem[0], "", 0, 0) != 0 || send(uem[0], "full", 4, 0) != 4)
		wl_die("send empty datagram");
}

static void check_creds(void)
{
	char buf[8] = "", cbuf[CMSG_SPACE(sizeof(struct ucred))];
	struct iovec iov = { buf, sizeof(buf) - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct ucred uc = { 0, 0, 0 };
	struct cmsghdr *cm;
	ssize_t n;

	if (!wl_zdtm_want("scmcreds"))
		return;
	n = recvmsg(ucr[1], &mh, MSG_DONTWAIT);
	cm = CMSG_FIRSTHDR(&mh);
	if (cm && cm->cmsg_type == SCM_CREDENTIALS)
		memcpy(&uc, CMSG_DATA(cm), sizeof(uc));
	if (n != 4 || memcmp(buf, "cred", 4))
		wl_fail("unix.scm_creds", "read %zd '%s'", n, buf);
	else if (uc.uid != CR_UID || uc.gid != CR_GID || uc.pid != getpid())
		wl_fail("unix.scm_creds", "pid %d uid %u gid %u, want %d %u %u",
			uc.pid, uc.uid, uc.gid, getpid(), CR_UID, CR_GID);
	else
		wl_pass("unix.scm_creds");
}

static void check_oob(void)
{
	char c = 0, buf[2];
	ssize_t n;

	if (!wl_zdtm_want("unixoob"))
		return;
	n = recv(uoob[1], &c, 1, MSG_OOB | MSG_DONTWAIT);
	if (n != 1 || c != 'c')
		wl_fail("unix.oob", "MSG_OOB read %zd (%s)", n,
			n < 0 ? strerror(errno) : "another byte");
	else if (recv(uoob[1], buf, 2, MSG_DONTWAIT) != 2 || memcmp(buf, "ab", 2))
		wl_fail("unix.oob", "in-band data lost");
	else
		wl_pass("unix.oob");
}

static void check_unix_more(void)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)], buf[8] = "";
	struct stat st;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/lsn", dir);
	if (stat(path, &st) || !S_ISSOCK(st.st_mode))
		wl_fail("unix.file_mode", "%s: not a socket", path);
	else if ((st.st_mode & 07777) != 0640 || st.st_uid != 4321 || st.st_gid != 4322)
		wl_fail("unix.file_mode", "mode %o uid %u gid %u, want 640 4321 4322",
			st.st_mode & 07777, st.st_uid, st.st_gid);
	else
		wl_pass("unix.file_mode");
	check_self();
	check_ghosts();
	check_orphan();
	check_creds();
	check_oob();
	n = recv(uem[1], buf, sizeof(buf), MSG_DONTWAIT);
	if (n != 0)
		wl_fail("unix.empty_dgram", "first read %zd, want the empty one", n);
	else if (recv(uem[1], buf, sizeof(buf), MSG_DONTWAIT) != 4)
		wl_fail("unix.empty_dgram", "the second datagram lost");
	else
		wl_pass("unix.empty_dgram");
}

static void setup_timeos(void)
{
	size_t i;

	for (i = 0; i < NTIMEOS; i++) {
		struct timeval tv = { timeos[i].usec / 1000000,
				      timeos[i].usec % 1000000 };

		if (setsockopt(*timeos[i].sk, SOL_SOCKET, timeos[i].opt, &tv,
			       sizeof(tv)))
			wl_die("setsockopt %s", timeos[i].name);
	}
}

static void check_opts(void)
{
	size_t i;

	for (i = 0; i < NIOPTS; i++) {
		int v = -1;
		socklen_t l = sizeof(v);

		if (getsockopt(*iopts[i].sk, iopts[i].level, iopts[i].opt, &v, &l))
			wl_fail(iopts[i].name, "getsockopt: %s", strerror(errno));
		else if (v != iopts[i].want)
			wl_fail(iopts[i].name, "%d, want %d", v, iopts[i].want);
		else
			wl_pass(iopts[i].name);
	}
	for (i = 0; i < NTIMEOS; i++) {
		struct timeval tv = { 0, 0 };
		socklen_t l = sizeof(tv);
		long us;

		if (getsockopt(*timeos[i].sk, SOL_SOCKET, timeos[i].opt, &tv, &l)) {
			wl_fail(timeos[i].name, "getsockopt: %s", strerror(errno));
			continue;
		}
		us = tv.tv_sec * 1000000L + tv.tv_usec;
		/* the kernel keeps jiffies: within a tick of what was set */
		if (labs(us - timeos[i].usec) > 10000)
			wl_fail(timeos[i].name, "%ld us, want %ld", us, timeos[i].usec);
		else
			wl_pass(timeos[i].name);
	}
}

static void check_inet_more(void)
{
	unsigned char o[40];
	socklen_t l = sizeof(o);
	int v = 0;

	if (getsockopt(u4, IPPROTO_IP, IP_OPTIONS, o, &l))
		wl_fail("udp.ip_options", "getsockopt: %s", strerror(errno));
	else if (l != sizeof(ipopts) || memcmp(o, ipopts, l))
		wl_fail("udp.ip_options", "%u bytes, want %zu", l, sizeof(ipopts));
	else
		wl_pass("udp.ip_options");
	if (!setsockopt(u4, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof(mreq)))
		wl_fail("udp.mcast_member", "joined 239.7.7.7 again: it was not a member");
	else if (errno != EADDRINUSE)
		wl_fail("udp.mcast_member", "join again: %s", strerror(errno));
	else
		wl_pass("udp.mcast_member");
	if (!setsockopt(rw, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof(mreq)))
		wl_fail("raw.mcast_member", "joined 239.7.7.7 again: it was not a member");
	else if (errno != EADDRINUSE)
		wl_fail("raw.mcast_member", "join again: %s", strerror(errno));
	else
		wl_pass("raw.mcast_member");
	if (!setsockopt(u6, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mreq6, sizeof(mreq6)))
		wl_fail("udp6.mcast_member", "joined ff15::77 again: it was not a member");
	else if (errno != EADDRINUSE)
		wl_fail("udp6.mcast_member", "join again: %s", strerror(errno));
	else
		wl_pass("udp6.mcast_member");
	l = sizeof(v);
	if (getsockopt(us[1], SOL_SOCKET, SO_SNDBUF, &v, &l) || v != 100000)
		wl_fail("unix.sndbuf", "%d, want 100000", v);
	else
		wl_pass("unix.sndbuf");
}

static void check_shut(void)
{
	char c;
	ssize_t n;

	n = recv(ush[1], &c, 1, MSG_DONTWAIT);
	if (n != 0)
		wl_fail("unix.shut_eof", "peer read %zd (%s), want EOF", n,
			n < 0 ? strerror(errno) : "data");
	else
		wl_pass("unix.shut_eof");
	signal(SIGPIPE, SIG_IGN);
	n = send(ush[0], "x", 1, MSG_DONTWAIT);
	if (n != -1 || errno != EPIPE)
		wl_fail("unix.shut_epipe", "send on the shut side: %zd (%s)", n,
			n < 0 ? strerror(errno) : "sent");
	else
		wl_pass("unix.shut_epipe");
	n = send(usq[1], "z", 1, MSG_DONTWAIT);
	if (n != -1 || errno != EPIPE)
		wl_fail("unix.seqpacket_shut_rd", "send to a peer shut for reading: %zd (%s)",
			n, n < 0 ? strerror(errno) : "sent");
	else if (send(usq[0], "w", 1, MSG_DONTWAIT) != 1 ||
		 recv(usq[1], &c, 1, MSG_DONTWAIT) != 1 || c != 'w')
		wl_fail("unix.seqpacket_shut_rd", "the open direction does not carry data");
	else
		wl_pass("unix.seqpacket_shut_rd");
	n = send(ush[1], "y", 1, MSG_DONTWAIT);
	if (n != 1 || recv(ush[0], &c, 1, MSG_DONTWAIT) != 1 || c != 'y')
		wl_fail("unix.shut_other_way", "the open direction does not carry data");
	else
		wl_pass("unix.shut_other_way");
}

static void check_dgram_from(void)
{
	static const char *const want[][2] = { { "one", "cl1" }, { "two", "cl2" } };
	int i, mark = wl_mark();

	for (i = 0; i < 2; i++) {
		struct sockaddr_un from;
		socklen_t fl = sizeof(from);
		char buf[8] = "", path[sizeof(from.sun_path)];
		ssize_t n;

		memset(&from, 0, sizeof(from));
		n = recvfrom(ud, buf, sizeof(buf) - 1, MSG_DONTWAIT,
			     (void *)&from, &fl);
		snprintf(path, sizeof(path), "%s/%s", dir, want[i][1]);
		if (n != 3 || strcmp(buf, want[i][0]))
			wl_fail("unix.dgram_from", "message %d: %zd '%s'", i, n, buf);
		else if (fl <= sizeof(sa_family_t) || strcmp(from.sun_path, path))
			wl_fail("unix.dgram_from", "message %d from '%s' (len %u), want %s",
				i, fl > sizeof(sa_family_t) ? from.sun_path : "",
				fl, path);
	}
	wl_verdict("unix.dgram_from", mark);
}

/* the descriptor table at READY: flags and paths too (wl_fdtable.h) */
static struct wl_fdtable fdt0;

int main(int argc, char **argv)
{
	sigset_t m, wait_mask;

	if (argc < 2)
		wl_die("usage: wl_zdtm_net DIR");
	dir = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGUSR1, on_usr1);
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &m, &wait_mask))
		wl_die("sigprocmask");
	sigdelset(&wait_mask, SIGUSR1);
	setup_inet();
	setup_reuseport();
	setup_nonlocal();
	setup_unix();
	setup_unix_more();
	setup_timeos();
	wl_fdt_take(&fdt0);
	wl_ready();
	while (!go)
		sigsuspend(&wait_mask);
	wl_fdt_check("net.fd_table", &fdt0);
	check_opts();
	check_inet_more();
	check_reuseport();
	check_nonlocal();
	check_shut();
	check_dgram_from();
	check_unix_more();
	return wl_done();
}
