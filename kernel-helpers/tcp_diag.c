// SPDX-License-Identifier: MIT
/*
 * Whether the program shut a connection's receiving side (SHUT_RD), or
 * either side of a UDP socket: no socket option tells, sock_diag does
 * (INET_DIAG_SHUTDOWN), asked for the one socket of that address pair (no
 * peer: an unconnected UDP socket), in the caller's network namespace.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "kh.h"

static void put_addr(const struct sockaddr_storage *ss, __be16 *port,
		     __be32 *addr)
{
	const struct sockaddr_in *a4 = (const void *)ss;
	const struct sockaddr_in6 *a6 = (const void *)ss;

	if (ss->ss_family == AF_INET) {
		*port = a4->sin_port;
		addr[0] = a4->sin_addr.s_addr;
	} else {
		*port = a6->sin6_port;
		memcpy(addr, &a6->sin6_addr, 16);
	}
}

static int ask(int nl, int proto, const struct sockaddr_storage *local,
	       const struct sockaddr_storage *peer)
{
	struct {
		struct nlmsghdr nh;
		struct inet_diag_req_v2 r;
	} req = {
		.nh = { .nlmsg_len = sizeof(req),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST },
		.r = { .sdiag_family = local->ss_family,
		       .sdiag_protocol = proto,
		       .idiag_states = ~0U,
		       .id.idiag_cookie = { INET_DIAG_NOCOOKIE,
					    INET_DIAG_NOCOOKIE } },
	};

	put_addr(local, &req.r.id.idiag_sport, req.r.id.idiag_src);
	if (peer)
		put_addr(peer, &req.r.id.idiag_dport, req.r.id.idiag_dst);
	return send(nl, &req, sizeof(req), 0) == sizeof(req) ? 0 : -errno;
}

/* the INET_DIAG_SHUTDOWN bits of the answer */
static int shutdown_of(struct nlmsghdr *nh, size_t len)
{
	struct inet_diag_msg *m;
	struct rtattr *a;
	size_t alen;

	if (!NLMSG_OK(nh, len))
		return -EIO;
	if (nh->nlmsg_type == NLMSG_ERROR)
		return ((struct nlmsgerr *)NLMSG_DATA(nh))->error ?: -EIO;
	m = NLMSG_DATA(nh);
	alen = nh->nlmsg_len - NLMSG_LENGTH(sizeof(*m));
	for (a = (struct rtattr *)(m + 1); RTA_OK(a, alen); a = RTA_NEXT(a, alen))
		if (a->rta_type == INET_DIAG_SHUTDOWN)
			return *(unsigned char *)RTA_DATA(a);
	return -EIO;
}

int kh_inet_shutdown_bits(int proto, const struct sockaddr_storage *local,
			  const struct sockaddr_storage *peer)
{
	char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
			NETLINK_SOCK_DIAG);
	ssize_t n;
	int ret;

	if (nl < 0)
		return -errno;
	ret = ask(nl, proto, local, peer);
	n = ret ? 0 : recv(nl, buf, sizeof(buf), 0);
	if (!ret)
		ret = n < 0 ? -errno : shutdown_of((struct nlmsghdr *)buf, n);
	close(nl);
	return ret;
}

int kh_tcp_shutdown_bits(const struct sockaddr_storage *local,
			 const struct sockaddr_storage *peer)
{
	return kh_inet_shutdown_bits(IPPROTO_TCP, local, peer);
}

/* 1: the socket lives in the caller's network namespace, 0: another */
int kh_sock_netns_is_ours(int sk)
{
	struct stat a, b;
	int ns = ioctl(sk, SIOCGSKNS);
	int ret;

	if (ns < 0)
		return -errno;
	ret = fstat(ns, &a) || stat("/proc/thread-self/ns/net", &b) ? -errno :
	      a.st_dev == b.st_dev && a.st_ino == b.st_ino;
	close(ns);
	return ret;
}

/*
 * sock_diag answers only for sockets of the asking socket's network
 * namespace (and a bind tells what is local in its own): for a socket of
 * another (a tree's own), a thread of ours joins the socket's namespace.
 */
struct sockns_job {
	int ns, ret;
	int (*fn)(void *);
	void *arg;
};

static void *sockns_thread(void *p)
{
	struct sockns_job *j = p;

	j->ret = setns(j->ns, CLONE_NEWNET) ? -errno : j->fn(j->arg);
	return NULL;
}

int kh_in_sock_ns(int sk, int (*fn)(void *), void *arg)
{
	struct sockns_job j = { .fn = fn, .arg = arg };
	pthread_t t;
	int ret = kh_sock_netns_is_ours(sk);

	if (ret)
		return ret < 0 ? ret : fn(arg);
	j.ns = ioctl(sk, SIOCGSKNS);
	if (j.ns < 0)
		return -errno;
	ret = -pthread_create(&t, NULL, sockns_thread, &j);
	if (!ret) {
		pthread_join(t, NULL);
		ret = j.ret;
	}
	close(j.ns);
	return ret;
}

struct shut_job {
	int proto;
	const struct sockaddr_storage *local, *peer;
};

static int shut_bits(void *p)
{
	struct shut_job *j = p;

	return kh_inet_shutdown_bits(j->proto, j->local, j->peer);
}

int kh_inet_shutdown_bits_of(int sk, int proto,
			     const struct sockaddr_storage *local,
			     const struct sockaddr_storage *peer)
{
	struct shut_job j = { .proto = proto, .local = local, .peer = peer };

	return kh_in_sock_ns(sk, shut_bits, &j);
}

/*
 * Whether addr (a socket's, bound) is an address of the socket's network
 * namespace now: a new datagram socket there binds to it (port 0), with
 * neither IP_FREEBIND nor IP_TRANSPARENT.  1 local, 0 not, or -errno.
 */
static int addr_local(void *p)
{
	struct sockaddr_storage ss = *(const struct sockaddr_storage *)p;
	socklen_t len = ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
						   sizeof(struct sockaddr_in);
	int sk = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret;
	int off = 0;

	if (sk < 0)
		return -errno;
	/* a v4-mapped address binds only if this socket takes IPv4 too
	 * (net.ipv6.bindv6only 1 would say EINVAL) */
	if (ss.ss_family == AF_INET6)
		setsockopt(sk, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	((struct sockaddr_in *)&ss)->sin_port = 0;	/* sin6_port too */
	ret = bind(sk, (struct sockaddr *)&ss, len) ? -errno : 1;
	close(sk);
	return ret == -EADDRNOTAVAIL ? 0 : ret;
}

int kh_inet_addr_local(int sk, const struct sockaddr_storage *addr)
{
	return kh_in_sock_ns(sk, addr_local, (void *)addr);
}
