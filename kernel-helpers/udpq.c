// SPDX-License-Identifier: MIT
/*
 * The datagrams queued on a UDP or UDP-Lite socket.  The kernel lets us
 * look without taking: with SO_PEEK_OFF at 0 every MSG_PEEK moves the
 * offset past the datagram it returned, so successive peeks walk the
 * queue (a zero-length datagram is marked peeked and skipped the next
 * time).  The ancillary options that tell where a datagram went and how
 * it came (IP_PKTINFO, IP_RECVTTL, IP_RECVTOS, their IPv6 twins) are
 * computed at receive time from the packet's headers, so turning them on
 * for the look works for datagrams already queued; the program's own
 * settings are put back afterwards.
 *
 * At restore a datagram is sent again through a raw socket with the IP
 * header written by us: the source address and port are the sender's
 * whether or not the sender exists or its address is bindable, and the
 * TTL and TOS are those it arrived with.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <linux/sock_diag.h>

#include "kh.h"
#include "kh_packet.h"
#include "crfs/array.h"

#define DGRAM_MAX 65536		/* more than any UDP payload */

struct flag {
	int level, opt;
};

/* the receive options our look needs; IPv4's also on an IPv6 socket,
 * which may receive IPv4 datagrams (v4-mapped) */
static const struct flag look_flags[] = {
	{ IPPROTO_IP, IP_PKTINFO }, { IPPROTO_IP, IP_RECVTTL },
	{ IPPROTO_IP, IP_RECVTOS }, { IPPROTO_IPV6, IPV6_RECVPKTINFO },
	{ IPPROTO_IPV6, IPV6_RECVHOPLIMIT }, { IPPROTO_IPV6, IPV6_RECVTCLASS },
};
#define NFLAGS ((int)(sizeof(look_flags) / sizeof(look_flags[0])))

/* saves each flag (-1: none on this socket) and sets it to v, or back */
static void set_flags(int sk, int *saved, int v)
{
	socklen_t l;
	int i;

	for (i = 0; i < NFLAGS; i++) {
		if (v >= 0) {
			l = sizeof(int);
			if (getsockopt(sk, look_flags[i].level,
				       look_flags[i].opt, &saved[i], &l))
				saved[i] = -1;
		}
		if (saved[i] >= 0)
			setsockopt(sk, look_flags[i].level, look_flags[i].opt,
				   v >= 0 ? &v : &saved[i], sizeof(int));
	}
}

static void mapped_v4(struct sockaddr_storage *ss, const struct in6_addr *a,
		      uint16_t port)
{
	struct sockaddr_in6 *s6 = (void *)ss;

	memset(ss, 0, sizeof(*ss));
	s6->sin6_family = AF_INET6;
	s6->sin6_addr = *a;
	s6->sin6_port = port;
}

/* the destination, TTL and TOS from a datagram's control messages */
static void read_cmsgs(struct msghdr *m, struct kh_dgram *d, int family,
		       uint16_t port)
{
	struct sockaddr_in *d4 = (void *)&d->dst;
	struct cmsghdr *c;
	struct in_pktinfo pi;
	struct in6_pktinfo pi6;

	for (c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
		    family == AF_INET) {
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			d4->sin_family = AF_INET;
			d4->sin_addr = pi.ipi_addr;
			d4->sin_port = port;
		} else if (c->cmsg_level == IPPROTO_IPV6 &&
			   c->cmsg_type == IPV6_PKTINFO) {
			memcpy(&pi6, CMSG_DATA(c), sizeof(pi6));
			mapped_v4(&d->dst, &pi6.ipi6_addr, port);
		} else if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) ||
			   (c->cmsg_level == IPPROTO_IPV6 &&
			    c->cmsg_type == IPV6_HOPLIMIT)) {
			memcpy(&d->ttl, CMSG_DATA(c), sizeof(int));
		} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS) {
			d->tos = *(unsigned char *)CMSG_DATA(c);
		} else if (c->cmsg_level == IPPROTO_IPV6 &&
			   c->cmsg_type == IPV6_TCLASS) {
			memcpy(&d->tos, CMSG_DATA(c), sizeof(int));
		}
	}
}

static bool is_multicast(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *a4 = (const void *)ss;
	const struct sockaddr_in6 *a6 = (const void *)ss;

	if (ss->ss_family == AF_INET)
		return IN_MULTICAST(ntohl(a4->sin_addr.s_addr)) ||
		       a4->sin_addr.s_addr == INADDR_BROADCAST;
	if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr))
		return IN_MULTICAST(ntohl(a6->sin6_addr.s6_addr32[3])) ||
		       a6->sin6_addr.s6_addr32[3] == INADDR_BROADCAST;
	return IN6_IS_ADDR_MULTICAST(&a6->sin6_addr);
}

/* the next datagram at the peek offset: its length, or -errno */
static ssize_t peek_one(int sk, char *buf, struct kh_dgram *d, int family,
			uint16_t port)
{
	char cbuf[256];
	struct iovec iov = { buf, DGRAM_MAX };
	struct msghdr m = { .msg_name = &d->src, .msg_namelen = sizeof(d->src),
			    .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	ssize_t n;

	memset(d, 0, sizeof(*d));
	d->ttl = -1;
	d->tos = -1;
	n = recvmsg(sk, &m, MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0)
		return errno == EAGAIN ? -EAGAIN : -errno;
	if (n > DGRAM_MAX)
		return -EMSGSIZE;
	read_cmsgs(&m, d, family, port);
	d->len = n;
	return n;
}

static uint16_t port_of(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ?
	       ((const struct sockaddr_in *)ss)->sin_port :
	       ((const struct sockaddr_in6 *)ss)->sin6_port;
}

struct walk {
	int sk, family;
	uint16_t port;
	char *buf;
	struct kh_dgram *d;
	size_t n;
	char *data;		/* payloads end to end */
	size_t dlen;
	const char **why;
};

static int add_bytes(struct walk *w, size_t len)
{
	char *nd = array_room(w->data, w->dlen + len, 1);

	if (!nd)
		return -ENOMEM;
	w->data = nd;
	memcpy(w->data + w->dlen, w->buf, len);
	w->dlen += len;
	return 0;
}

static int walk_queue(struct walk *w)
{
	struct kh_dgram d, *nd;
	ssize_t len;
	int ret = 0;

	while ((len = peek_one(w->sk, w->buf, &d, w->family, w->port)) >= 0) {
		if (!d.dst.ss_family || d.ttl < 0 || d.tos < 0) {
			*w->why = "a queued datagram whose destination cannot be read";
			return 0;
		}
		if (is_multicast(&d.dst)) {
			*w->why = "a datagram sent to a multicast or broadcast address is queued (not supported)";
			return 0;
		}
		nd = array_room(w->d, w->n, sizeof(*nd));
		if (!nd)
			return -ENOMEM;
		w->d = nd;
		ret = add_bytes(w, len);
		if (ret)
			return ret;
		w->d[w->n++] = d;
	}
	return len == -EAGAIN ? 0 : (int)len;
}

/* walks the queue of sk with our options on, then puts sk back as it was */
static int peek_all(struct walk *w)
{
	struct sockaddr_storage me;
	socklen_t l = sizeof(me);
	int saved[NFLAGS], off = -1, zero = 0, ret;

	l = sizeof(int);
	if (getsockopt(w->sk, SOL_SOCKET, SO_PEEK_OFF, &off, &l))
		return -errno;
	if (off >= 0) {
		*w->why = "SO_PEEK_OFF on a UDP socket with datagrams queued is not supported";
		return 0;
	}
	l = sizeof(me);
	if (getsockname(w->sk, (struct sockaddr *)&me, &l))
		return -errno;
	w->family = me.ss_family;
	w->port = port_of(&me);
	w->buf = malloc(DGRAM_MAX);
	if (!w->buf)
		return -ENOMEM;
	set_flags(w->sk, saved, 1);
	if (setsockopt(w->sk, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero)))
		ret = -errno;
	else
		ret = walk_queue(w);
	setsockopt(w->sk, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off));
	set_flags(w->sk, saved, -1);
	free(w->buf);
	return ret;
}

int kh_udpq_peek(int sk, struct kh_dgram **out, size_t *n, char **data,
		 size_t *dlen, const char **why)
{
	struct walk w = { .sk = sk, .why = why };
	int ret;

	*why = NULL;
	ret = peek_all(&w);
	if (ret || *why) {
		free(w.d);
		free(w.data);
		return ret;
	}
	*out = w.d;
	*n = w.n;
	*data = w.data;
	*dlen = w.dlen;
	return 0;
}

int kh_sock_meminfo(int sk, uint32_t *rmem, uint32_t *drops)
{
	uint32_t m[SK_MEMINFO_VARS];
	socklen_t l = sizeof(m);

	if (getsockopt(sk, SOL_SOCKET, SO_MEMINFO, m, &l))
		return -errno;
	*rmem = m[SK_MEMINFO_RMEM_ALLOC];
	*drops = m[SK_MEMINFO_DROPS];
	return 0;
}

bool kh_sock_error_pending(int sk)
{
	struct pollfd p = { sk, 0, 0 };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLERR);
}

/* "LEN SRC DST TTL TOS" */
int kh_dgram_str(const struct kh_dgram *d, char *buf, size_t len)
{
	char src[80], dst[80];

	kh_inet_addr_str(&d->src, src, sizeof(src));
	kh_inet_addr_str(&d->dst, dst, sizeof(dst));
	return snprintf(buf, len, "%u %s %s %d %d", d->len, src, dst, d->ttl,
			d->tos);
}

int kh_dgram_parse(const char *line, struct kh_dgram *d)
{
	char src[80], dst[80];
	socklen_t l;

	memset(d, 0, sizeof(*d));
	if (sscanf(line, "%u %79s %79s %d %d", &d->len, src, dst, &d->ttl,
		   &d->tos) != 5 || d->len >= DGRAM_MAX ||
	    d->ttl < 0 || d->ttl > 255 || d->tos < 0 || d->tos > 255)
		return -EINVAL;
	if (kh_inet_addr_parse(src, &d->src, &l) ||
	    kh_inet_addr_parse(dst, &d->dst, &l) ||
	    d->src.ss_family != d->dst.ss_family)
		return -EINVAL;
	return 0;
}

/* the internet checksum of a pseudo header and the datagram */
static uint16_t csum(const void *pseudo, size_t plen, const void *dg,
		     size_t len)
{
	const uint8_t *p;
	uint64_t sum = 0;
	size_t i;

	for (p = pseudo, i = 0; i + 1 < plen; i += 2)
		sum += (p[i] << 8) | p[i + 1];
	for (p = dg, i = 0; i + 1 < len; i += 2)
		sum += (p[i] << 8) | p[i + 1];
	if (len & 1)
		sum += p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	return htons(sum ? sum : 0xffff);
}

/* an IPv4 datagram (also one a v4-mapped address stands for) */
static int send_v4(int sk, const struct kh_dgram *d, int proto, char *pkt,
		   size_t len)
{
	const struct sockaddr_in6 *s6 = (const void *)&d->src;
	const struct sockaddr_in6 *d6 = (const void *)&d->dst;
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct iphdr *ip = (void *)pkt;
	struct udphdr *u = (void *)(ip + 1);
	struct { uint32_t s, d; uint8_t z, p; uint16_t l; } __attribute__((packed)) ph;
	int ret = 0;

	if (d->src.ss_family == AF_INET) {
		ip->saddr = ((const struct sockaddr_in *)&d->src)->sin_addr.s_addr;
		ip->daddr = ((const struct sockaddr_in *)&d->dst)->sin_addr.s_addr;
	} else {
		ip->saddr = s6->sin6_addr.s6_addr32[3];
		ip->daddr = d6->sin6_addr.s6_addr32[3];
	}
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = d->tos;
	ip->ttl = d->ttl;
	ip->protocol = proto;
	ip->tot_len = htons(len);	/* the kernel sets it, and the id, and
					 * the header checksum */
	ph = (typeof(ph)){ ip->saddr, ip->daddr, 0, proto,
			   htons(len - sizeof(*ip)) };
	u->check = csum(&ph, sizeof(ph), u, len - sizeof(*ip));
	to.sin_addr.s_addr = ip->daddr;
	if (sendto(sk, pkt, len, 0, (struct sockaddr *)&to, sizeof(to)) !=
	    (ssize_t)len)
		ret = -errno;
	return ret;
}

static int send_v6(int sk, const struct kh_dgram *d, int proto, char *pkt,
		   size_t len)
{
	struct sockaddr_in6 to = *(const struct sockaddr_in6 *)&d->dst;
	struct ip6_hdr *ip = (void *)pkt;
	struct udphdr *u = (void *)(ip + 1);
	struct { struct in6_addr s, d; uint32_t l; uint8_t z[3], p; } ph;
	int ret = 0;

	ip->ip6_flow = htonl(6u << 28 | (uint32_t)d->tos << 20);
	ip->ip6_plen = htons(len - sizeof(*ip));
	ip->ip6_nxt = proto;
	ip->ip6_hlim = d->ttl;
	ip->ip6_src = ((const struct sockaddr_in6 *)&d->src)->sin6_addr;
	ip->ip6_dst = to.sin6_addr;
	memset(&ph, 0, sizeof(ph));
	ph.s = ip->ip6_src;
	ph.d = ip->ip6_dst;
	ph.l = htonl(len - sizeof(*ip));
	ph.p = proto;
	u->check = csum(&ph, sizeof(ph), u, len - sizeof(*ip));
	to.sin6_port = 0;
	if (sendto(sk, pkt, len, 0, (struct sockaddr *)&to, sizeof(to)) !=
	    (ssize_t)len)
		ret = -errno;
	return ret;
}

int kh_udpq_injector(struct kh_injector *in)
{
	in->sk4 = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	in->sk6 = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (in->sk4 >= 0 && in->sk6 >= 0)
		return 0;
	kh_udpq_injector_close(in);
	return -errno;
}

void kh_udpq_injector_close(struct kh_injector *in)
{
	if (in->sk4 >= 0)
		close(in->sk4);
	if (in->sk6 >= 0)
		close(in->sk6);
	in->sk4 = in->sk6 = -1;
}

int kh_udpq_inject(const struct kh_injector *in, const struct kh_dgram *d,
		   int protocol, const char *data)
{
	const struct sockaddr_in6 *s6 = (const void *)&d->src;
	bool v4 = d->src.ss_family == AF_INET ||
		  IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr);
	size_t hl = v4 ? sizeof(struct iphdr) : sizeof(struct ip6_hdr);
	size_t len = hl + sizeof(struct udphdr) + d->len;
	char *pkt = calloc(1, len);
	struct udphdr *u = (void *)(pkt + hl);
	int ret;

	if (!pkt)
		return -ENOMEM;
	u->source = port_of(&d->src);
	u->dest = port_of(&d->dst);
	/* UDP-Lite: the checksum's coverage, 0 for all of it */
	u->len = protocol == IPPROTO_UDPLITE ? 0 :
		 htons(sizeof(*u) + d->len);
	memcpy(u + 1, data, d->len);
	ret = v4 ? send_v4(in->sk4, d, protocol, pkt, len) :
		   send_v6(in->sk6, d, protocol, pkt, len);
	free(pkt);
	return ret;
}
