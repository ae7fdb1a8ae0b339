// SPDX-License-Identifier: MIT
/*
 * An IPv4 or IPv6 socket: a TCP socket that is listening with nothing
 * waiting to be accepted, not yet connected, or connected (its connection
 * is read by tcp.c); a UDP or UDP-Lite socket, bound or connected, with
 * nothing queued.  Anything more (queued datagrams, other protocols) is
 * refused by name.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "kh.h"
#include "kh_packet.h"

/* the boolean options, bit i for kh_inet_opts[i] */
const struct kh_sockopt kh_inet_opts[KH_INET_NOPTS] = {
	{ SOL_SOCKET, SO_REUSEADDR }, { SOL_SOCKET, SO_REUSEPORT },
	{ SOL_SOCKET, SO_KEEPALIVE }, { SOL_SOCKET, SO_BROADCAST },
	{ IPPROTO_IPV6, IPV6_V6ONLY }, { IPPROTO_TCP, TCP_NODELAY },
};

/* "1.2.3.4:80", "[::1]:80"; "" for the unbound any address, port 0 */
int kh_inet_addr_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const struct sockaddr_in *a4 = (const void *)ss;
	const struct sockaddr_in6 *a6 = (const void *)ss;
	char ip[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &a4->sin_addr, ip, sizeof(ip));
		return snprintf(buf, len, "%s:%u", ip, ntohs(a4->sin_port));
	}
	inet_ntop(AF_INET6, &a6->sin6_addr, ip, sizeof(ip));
	return snprintf(buf, len, "[%s]:%u", ip, ntohs(a6->sin6_port));
}

int kh_inet_addr_parse(const char *s, struct sockaddr_storage *ss,
		       socklen_t *len)
{
	struct sockaddr_in *a4 = (void *)ss;
	struct sockaddr_in6 *a6 = (void *)ss;
	char ip[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(s, ':');
	unsigned port;
	char *end;

	memset(ss, 0, sizeof(*ss));
	if (!colon || (size_t)(colon - s) >= sizeof(ip))
		return -EINVAL;
	port = strtoul(colon + 1, &end, 10);
	if (*end || end == colon + 1 || port > 65535)
		return -EINVAL;
	memcpy(ip, s, colon - s);
	ip[colon - s] = '\0';
	if (ip[0] == '[' && ip[colon - s - 1] == ']') {
		ip[colon - s - 1] = '\0';
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		*len = sizeof(*a6);
		return inet_pton(AF_INET6, ip + 1, &a6->sin6_addr) == 1 ? 0 : -EINVAL;
	}
	a4->sin_family = AF_INET;
	a4->sin_port = htons(port);
	*len = sizeof(*a4);
	return inet_pton(AF_INET, ip, &a4->sin_addr) == 1 ? 0 : -EINVAL;
}

/* field (0-based) of a sysctl file of numbers; -1 if unreadable */
static long sysctl_field(const char *path, int field)
{
	FILE *f = fopen(path, "re");
	long v = -1;
	int i;

	for (i = 0; f && i <= field; i++)
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
	if (f)
		fclose(f);
	return v;
}

/*
 * Buffer sizes the program never set are left out: setting one locks it
 * (and a listener passes the lock to every connection it accepts), which
 * turns TCP's autotuning off.
 */
static void default_buffers(struct kh_inet *in)
{
	bool tcp = in->protocol == IPPROTO_TCP;

	if (in->sndbuf == sysctl_field(tcp ? "/proc/sys/net/ipv4/tcp_wmem" :
				       "/proc/sys/net/core/wmem_default", tcp))
		in->sndbuf = 0;
	if (in->rcvbuf == sysctl_field(tcp ? "/proc/sys/net/ipv4/tcp_rmem" :
				       "/proc/sys/net/core/rmem_default", tcp))
		in->rcvbuf = 0;
}

/*
 * A closed socket that was connected once (both FINs, or a reset) still
 * names its peer (SO_PEERNAME, where getpeername says ENOTCONN), reads
 * what it was sent and then the end, and fails a write with EPIPE: it is
 * saved as a connection in state close and made again through the
 * states that lead there (tcp.c).  One never connected has no peer: a
 * new socket is all it was.  An error not yet read (a reset: sk_err)
 * would be lost, so is refused.
 */
static const char *closed_conn(int sk, struct kh_inet *in)
{
	/* exactly the family's size: SO_PEERNAME says EINVAL to more */
	socklen_t l = in->addr.ss_family == AF_INET ?
		      sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	struct in_addr a4;
	unsigned port = 0;

	if (getsockopt(sk, SOL_SOCKET, SO_PEERNAME, &in->peer, &l))
		return NULL;
	kh_inet_v4_of(&in->peer, &a4, &port);
	if (!port)
		return NULL;
	if (kh_sock_error_pending(sk))
		return "a closed TCP connection with an error not yet read (SO_ERROR: reset by its peer) is not supported";
	in->tcp_state = TCP_CLOSE;
	in->connected = true;
	return NULL;
}

static const char *tcp_state(int sk, struct kh_inet *in)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);
	const char *why;
	char c;

	if (getsockopt(sk, IPPROTO_TCP, TCP_INFO, &ti, &l))
		return "cannot read its TCP state";
	if (ti.tcpi_state == TCP_LISTEN) {
		/* a listener's accept queue: its connections are matched
		 * with their clients once every file is known */
		in->accq = ti.tcpi_unacked;
		in->backlog = ti.tcpi_sacked;
		return NULL;
	}
	if (ti.tcpi_state == TCP_CLOSE) {
		why = closed_conn(sk, in);
		if (why || !in->connected)
			return why;
	} else {
		/* a connection: its state is saved by kh_tcp_save (tcp.c) */
		in->tcp_state = ti.tcpi_state;
		l = sizeof(in->peer);
		if (getpeername(sk, (struct sockaddr *)&in->peer, &l))
			return "cannot read the TCP connection's peer";
		in->connected = true;
	}
	/* the urgent pointer is no part of what TCP_REPAIR saves (a closed
	 * one's may still be unread) */
	if (recv(sk, &c, 1, MSG_OOB | MSG_PEEK | MSG_DONTWAIT) >= 0)
		return "a TCP connection with urgent data (MSG_OOB) not yet read is not supported";
	return kh_tcp_state_check(ti.tcpi_state);
}

const char *kh_inet_read(int sk, struct kh_inet *in, int *err)
{
	socklen_t l = sizeof(int), al = sizeof(in->addr);
	const char *why = NULL;
	char c;

	memset(in, 0, sizeof(*in));
	in->backlog = -1;
	*err = 0;
	if (getsockopt(sk, SOL_SOCKET, SO_TYPE, &in->type, &l) ||
	    getsockopt(sk, SOL_SOCKET, SO_PROTOCOL, &in->protocol, &l) ||
	    getsockopt(sk, SOL_SOCKET, SO_SNDBUF, &in->sndbuf, &l) ||
	    getsockopt(sk, SOL_SOCKET, SO_RCVBUF, &in->rcvbuf, &l) ||
	    getsockname(sk, (struct sockaddr *)&in->addr, &al)) {
		*err = -errno;
		return NULL;
	}
	if (in->type == SOCK_STREAM && in->protocol == IPPROTO_TCP)
		why = tcp_state(sk, in);
	else if (in->type == SOCK_DGRAM && (in->protocol == IPPROTO_UDP ||
					     in->protocol == IPPROTO_UDPLITE)) {
		/* recv() would take a pending error (sk_err) away; poll()
		 * shows it, or a queued one (IP_RECVERR), and leaves it */
		if (kh_sock_error_pending(sk))
			why = "a UDP socket with an error pending (SO_ERROR, IP_RECVERR) is not supported";
		else
			in->queued = recv(sk, &c, 1, MSG_PEEK | MSG_DONTWAIT) >= 0;
		al = sizeof(in->peer);
		in->connected = !getpeername(sk, (struct sockaddr *)&in->peer, &al);
	} else if (in->type == SOCK_DGRAM && (in->protocol == IPPROTO_ICMP ||
					    in->protocol == IPPROTO_ICMPV6)) {
		/* a "ping" socket: its id is its port; replies queued cannot
		 * be queued again (nothing sends a socket its echo replies) */
		if (kh_sock_error_pending(sk))
			why = "an ICMP datagram (ping) socket with an error pending is not supported";
		else if (recv(sk, &c, 1, MSG_PEEK | MSG_DONTWAIT) >= 0)
			why = "an ICMP datagram (ping) socket with replies queued (not read yet) is not supported";
		al = sizeof(in->peer);
		in->connected = !getpeername(sk, (struct sockaddr *)&in->peer, &al);
	} else
		why = "inet sockets other than TCP, UDP, UDP-Lite and ICMP datagram (ping) sockets are not supported yet";
	default_buffers(in);
	if (!why)
		in->opts = kh_sockopts_on(sk, kh_inet_opts, KH_INET_NOPTS);
	return why;
}
