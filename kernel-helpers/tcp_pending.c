// SPDX-License-Identifier: MIT
/*
 * The connections in a listening TCP socket's accept queue: they have no
 * file yet, so no getsockopt reaches them; sock_diag lists them, in the
 * caller's network namespace, as sockets of the listener's port with no
 * inode (an accepted one has its file's; one closed after accept is in
 * FIN_WAIT or LAST_ACK, never ESTABLISHED or CLOSE_WAIT).  Half-open
 * connections (SYN_RECV) are not in the accept queue and not listed.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "kh.h"

struct dump {
	const struct sockaddr_storage *listen;
	struct kh_tcp_child *kids;
	size_t n;
};

static int request(int nl, int family)
{
	struct {
		struct nlmsghdr nh;
		struct inet_diag_req_v2 r;
	} req = {
		.nh = { .nlmsg_len = sizeof(req),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.r = { .sdiag_family = family, .sdiag_protocol = IPPROTO_TCP,
		       .idiag_ext = 1 << (INET_DIAG_INFO - 1),
		       .idiag_states = 1 << TCP_ESTABLISHED |
				       1 << TCP_CLOSE_WAIT },
	};

	return send(nl, &req, sizeof(req), 0) == sizeof(req) ? 0 : -errno;
}

/* an address of the answer as a sockaddr; IPv4-mapped ones as IPv4,
 * as the client's own socket (AF_INET) names them */
static void take_addr(int family, __be16 port, const __be32 *addr,
		      struct sockaddr_storage *ss)
{
	struct sockaddr_in *a4 = (void *)ss;
	struct sockaddr_in6 *a6 = (void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = port;
		memcpy(&a6->sin6_addr, addr, 16);
		if (!IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr))
			return;
		addr += 3;
	}
	a4->sin_family = AF_INET;
	a4->sin_port = port;
	a4->sin_addr.s_addr = addr[0];
}

/* the listener's address takes this one: same port, same or any address */
static bool of_listener(const struct sockaddr_storage *l,
			const struct sockaddr_storage *a)
{
	struct in_addr la, aa;
	unsigned lp, ap;
	bool l4 = kh_inet_v4_of(l, &la, &lp), a4 = kh_inet_v4_of(a, &aa, &ap);
	const struct sockaddr_in6 *l6 = (const void *)l;
	const struct sockaddr_in6 *a6 = (const void *)a;

	if (l4)
		return a4 && lp == ap && (!la.s_addr || la.s_addr == aa.s_addr);
	if (a->ss_family != AF_INET6)	/* any IPv6 address takes IPv4 too */
		return a4 && IN6_IS_ADDR_UNSPECIFIED(&l6->sin6_addr) &&
		       l6->sin6_port == htons(ap);
	return l6->sin6_port == a6->sin6_port &&
	       (IN6_IS_ADDR_UNSPECIFIED(&l6->sin6_addr) ||
		IN6_ARE_ADDR_EQUAL(&l6->sin6_addr, &a6->sin6_addr));
}

static int take(struct dump *d, struct nlmsghdr *h)
{
	struct inet_diag_msg *m = NLMSG_DATA(h);
	size_t alen = h->nlmsg_len - NLMSG_LENGTH(sizeof(*m));
	struct kh_tcp_child k = { .state = m->idiag_state,
				  .rqueue = m->idiag_rqueue,
				  .wqueue = m->idiag_wqueue };
	struct kh_tcp_child *more;
	struct rtattr *a;

	if (m->idiag_inode)
		return 0;
	take_addr(m->idiag_family, m->id.idiag_sport, m->id.idiag_src, &k.local);
	take_addr(m->idiag_family, m->id.idiag_dport, m->id.idiag_dst, &k.peer);
	if (!of_listener(d->listen, &k.local))
		return 0;
	for (a = (struct rtattr *)(m + 1); RTA_OK(a, alen); a = RTA_NEXT(a, alen))
		if (a->rta_type == INET_DIAG_INFO &&
		    RTA_PAYLOAD(a) >= offsetof(struct tcp_info, tcpi_last_data_recv))
			k.age_ms = ((struct tcp_info *)RTA_DATA(a))->tcpi_last_data_sent;
	more = realloc(d->kids, (d->n + 1) * sizeof(*more));
	if (!more)
		return -ENOMEM;
	d->kids = more;
	d->kids[d->n++] = k;
	return 0;
}

static int read_dump(int nl, struct dump *d)
{
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *h;
	ssize_t n;
	int ret;

	for (;;) {
		n = recv(nl, buf, sizeof(buf), 0);
		if (n < 0)
			return -errno;
		for (h = (void *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR)
				return ((struct nlmsgerr *)NLMSG_DATA(h))->error ?: -EIO;
			ret = take(d, h);
			if (ret)
				return ret;
		}
	}
}

int kh_tcp_children(const struct sockaddr_storage *listen,
		    struct kh_tcp_child **kids, size_t *n)
{
	struct dump d = { .listen = listen };
	int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
			NETLINK_SOCK_DIAG);
	int ret;

	*kids = NULL;
	*n = 0;
	if (nl < 0)
		return -errno;
	/* an IPv6 listener's IPv4 connections are IPv6 sockets too */
	ret = request(nl, listen->ss_family) ?: read_dump(nl, &d);
	close(nl);
	if (ret) {
		free(d.kids);
		return ret;
	}
	*kids = d.kids;
	*n = d.n;
	return 0;
}
