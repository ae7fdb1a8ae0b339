// SPDX-License-Identifier: MIT
/*
 * A segment as if from a connection's peer, to a socket of ours being
 * rebuilt: TCP_REPAIR has no way to say "the peer's FIN was received" or
 * "the peer acknowledged our FIN", so that FIN or ACK is sent to the
 * socket through a raw socket (the kernel's own path then moves its state
 * to CLOSE_WAIT, FIN_WAIT2, ...).  It carries KH_TCP_MARK, which the lock
 * lets pass; it goes to an address of this host, so through lo.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "kh.h"

static uint32_t sum16(const void *p, size_t len, uint32_t s)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		s += (uint32_t)b[len - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return htons((uint16_t)~s);
}

/* the TCP header, its checksum over the pseudo-header of src and dst */
static void tcp_header(struct tcphdr *th, const struct kh_tcp_segment *sg,
		       const void *src, const void *dst, size_t alen)
{
	uint32_t s;

	memset(th, 0, sizeof(*th));
	th->source = htons(sg->sport);
	th->dest = htons(sg->dport);
	th->seq = htonl(sg->seq);
	th->ack_seq = htonl(sg->ack);
	th->doff = sizeof(*th) / 4;
	th->fin = sg->fin;
	th->ack = 1;
	th->window = htons(sg->window);
	s = sum16(src, alen, 0);
	s = sum16(dst, alen, s);
	s += IPPROTO_TCP + sizeof(*th);
	th->check = fold(sum16(th, sizeof(*th), s));
}

static int send_raw(int fam, const void *pkt, size_t len,
		    const struct sockaddr *to, socklen_t tolen)
{
	int sk = socket(fam, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	int mark = KH_TCP_MARK, ret = 0;

	if (sk < 0)
		return -errno;
	if (setsockopt(sk, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) ||
	    sendto(sk, pkt, len, 0, to, tolen) != (ssize_t)len)
		ret = -errno;
	close(sk);
	return ret;
}

static int inject4(const struct kh_tcp_segment *sg, struct in_addr src,
		   struct in_addr dst)
{
	struct {
		struct iphdr ip;
		struct tcphdr th;
	} p = { .ip = { .version = 4, .ihl = 5, .ttl = 64,
			.protocol = IPPROTO_TCP, .saddr = src.s_addr,
			.daddr = dst.s_addr, .tot_len = htons(sizeof(p)) } };
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr = dst };

	tcp_header(&p.th, sg, &src, &dst, sizeof(src));
	return send_raw(AF_INET, &p, sizeof(p), (struct sockaddr *)&to,
			sizeof(to));
}

static int inject6(const struct kh_tcp_segment *sg, const struct in6_addr *src,
		   const struct in6_addr *dst)
{
	struct {
		struct ip6_hdr ip;
		struct tcphdr th;
	} p;
	struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_addr = *dst };

	memset(&p, 0, sizeof(p));
	p.ip.ip6_flow = htonl(6 << 28);
	p.ip.ip6_plen = htons(sizeof(p.th));
	p.ip.ip6_nxt = IPPROTO_TCP;
	p.ip.ip6_hlim = 64;
	p.ip.ip6_src = *src;
	p.ip.ip6_dst = *dst;
	tcp_header(&p.th, sg, src, dst, sizeof(*src));
	return send_raw(AF_INET6, &p, sizeof(p), (struct sockaddr *)&to,
			sizeof(to));
}

int kh_tcp_inject(const struct kh_tcp_conn *c, struct kh_tcp_segment *sg)
{
	const struct sockaddr_in6 *l6 = (const void *)&c->local;
	const struct sockaddr_in6 *p6 = (const void *)&c->peer;
	struct in_addr la, pa;
	unsigned lp, pp;

	if (kh_inet_v4_of(&c->local, &la, &lp) != kh_inet_v4_of(&c->peer, &pa, &pp))
		return -EINVAL;
	sg->sport = pp;
	sg->dport = lp;
	if (kh_inet_v4_of(&c->local, &la, &lp))
		return inject4(sg, pa, la);
	return inject6(sg, &p6->sin6_addr, &l6->sin6_addr);
}
