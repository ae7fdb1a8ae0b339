// SPDX-License-Identifier: MIT
/*
 * A batch is BATCH_BEGIN, the messages, BATCH_END (nfnetlink.h); the
 * kernel processes it within our sendmsg and queues one answer per
 * message asking for an ACK (an error, or 0), all before sendmsg returns:
 * they are read without waiting.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/netfilter/nfnetlink.h>

#include "kh_nfb.h"

#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

static void *room(struct nfb *b, size_t n)
{
	size_t want = b->len + NLMSG_ALIGN(n);
	char *p;

	if (b->err)
		return NULL;
	if (want > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;

		while (cap < want)
			cap *= 2;
		p = realloc(b->buf, cap);
		if (!p) {
			b->err = -ENOMEM;
			return NULL;
		}
		b->buf = p;
		b->cap = cap;
	}
	p = b->buf + b->len;
	memset(p, 0, NLMSG_ALIGN(n));
	b->len = want;
	return p;
}

/* the message being built ends where the buffer does */
static void close_msg(struct nfb *b)
{
	struct nlmsghdr *h;

	if (b->err || b->msg == (size_t)-1)
		return;
	h = (void *)(b->buf + b->msg);
	h->nlmsg_len = b->len - b->msg;
}

static void header(struct nfb *b, int type, int family, int flags,
		   uint16_t res_id)
{
	struct nlmsghdr *h;
	struct nfgenmsg *g;

	close_msg(b);
	b->msg = b->len;
	h = room(b, NLMSG_HDRLEN + sizeof(*g));
	if (!h)
		return;
	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | flags;
	h->nlmsg_seq = b->nmsg + 1;	/* 1..: the answers say which */
	g = NLMSG_DATA(h);
	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	g->res_id = htons(res_id);
}

void nfb_init(struct nfb *b)
{
	memset(b, 0, sizeof(*b));
	b->msg = (size_t)-1;
	header(b, NFNL_MSG_BATCH_BEGIN, AF_UNSPEC, 0, NFNL_SUBSYS_NFTABLES);
}

void nfb_free(struct nfb *b)
{
	free(b->buf);
	memset(b, 0, sizeof(*b));
}

void nfb_msg(struct nfb *b, int type, int family, int flags)
{
	header(b, (NFNL_SUBSYS_NFTABLES << 8) | type, family,
	       NLM_F_ACK | flags, 0);
	b->nmsg++;
}

void nfb_put(struct nfb *b, int type, const void *data, size_t len)
{
	struct nlattr *a = room(b, NLA_HDRLEN + len);

	if (!a)
		return;
	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy((char *)a + NLA_HDRLEN, data, len);
}

void nfb_str(struct nfb *b, int type, const char *s)
{
	nfb_put(b, type, s, strlen(s) + 1);
}

void nfb_be32(struct nfb *b, int type, uint32_t v)
{
	v = htonl(v);
	nfb_put(b, type, &v, sizeof(v));
}

size_t nfb_nest(struct nfb *b, int type)
{
	size_t off = b->len;
	struct nlattr *a = room(b, NLA_HDRLEN);

	if (a)
		a->nla_type = NLA_F_NESTED | type;
	return off;
}

void nfb_end(struct nfb *b, size_t nest)
{
	struct nlattr *a;

	if (b->err)
		return;
	a = (void *)(b->buf + nest);
	a->nla_len = b->len - nest;
}

/* the answers queued for us: 0 once all nmsg said 0 */
static int answers(int sk, unsigned nmsg)
{
	char buf[8192] __attribute__((aligned(4)));
	unsigned acked = 0;
	int ret = 0;
	ssize_t n;

	while ((n = recv(sk, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		struct nlmsghdr *h = (void *)buf;
		size_t left = n;

		for (; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			struct nlmsgerr *e = NLMSG_DATA(h);

			if (h->nlmsg_type != NLMSG_ERROR)
				continue;
			if (e->error)
				ret = ret ?: e->error;
			else
				acked++;
		}
	}
	if (n < 0 && errno != EAGAIN)
		ret = ret ?: -errno;
	if (!ret && acked != nmsg)
		ret = -EPROTO;	/* an answer missing: not known applied */
	return ret;
}

int nfb_commit(struct nfb *b)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int sk, one = 1, ret;
	ssize_t sent;

	header(b, NFNL_MSG_BATCH_END, AF_UNSPEC, 0, NFNL_SUBSYS_NFTABLES);
	close_msg(b);
	if (b->err)
		return b->err;
	sk = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (sk < 0)
		return -errno;
	/* an answer need not carry our message back */
	setsockopt(sk, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	sent = sendto(sk, b->buf, b->len, 0, (void *)&sa, sizeof(sa));
	if (sent < 0)
		ret = -errno;
	else if ((size_t)sent != b->len)
		ret = -EIO;	/* netlink takes a message whole or not */
	else
		ret = answers(sk, b->nmsg);
	close(sk);
	return ret;
}
