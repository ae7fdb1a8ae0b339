// SPDX-License-Identifier: MIT
/*
 * While a connection is checkpointed its packets are dropped, both ways,
 * by nftables in the caller's network namespace (one transaction of ours
 * on netlink, no nft process: nfb.c): table inet crfs_tcp_lock,
 * one set element per connection (local address, port, peer address,
 * port).  Frozen, its socket must not move (an ack or data arriving after
 * the queues were read would be lost on restore); killed, no socket exists
 * and the kernel would answer the peer with RST; restoring, a socket
 * closed on failure would send one.  Nothing of the connection reaches
 * either side until the lock is lifted, but the segments crfs-restore
 * makes up for a half-closed connection (tcp_inject.c, marked).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "kh.h"
#include "kh_nfb.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define TABLE "crfs_tcp_lock"

/*
 * The ruleset, as one nf_tables transaction (nfb.c): what this nft script
 * made, message for message as nft sends it (nft --debug=mnl), so that a
 * table made by either is the same table (the kernel refuses to "add" a
 * set of another key):
 *
 *   add table inet crfs_tcp_lock
 *   add set inet crfs_tcp_lock c4 { type ipv4_addr . inet_service . ipv4_addr . inet_service; }
 *   add set inet crfs_tcp_lock c6 { type ipv6_addr . inet_service . ipv6_addr . inet_service; }
 *   add chain inet crfs_tcp_lock HOOK { type filter hook HOOK priority -300; policy accept; }
 *   flush chain inet crfs_tcp_lock HOOK
 *   add rule inet crfs_tcp_lock HOOK meta mark 0x63726673 accept
 *   add rule inet crfs_tcp_lock HOOK ip saddr . tcp sport . ip daddr . tcp dport @c4 drop
 *   add rule inet crfs_tcp_lock HOOK ip daddr . tcp dport . ip saddr . tcp sport @c4 drop
 *   (the same two for ip6 and @c6)
 *
 * for HOOK input and output.  The table, its sets and chains are added if
 * missing and the chains' rules written afresh, so that one transaction,
 * whatever was there, leaves exactly these (and the elements of every
 * connection locked).
 */
struct lock_set {
	const char *name;
	uint32_t id, key_type, key_len;
	uint8_t nfproto;
	unsigned saddr, daddr, alen;	/* in the network header */
};

/* nft's concatenated type: ipv4_addr 7, ipv6_addr 8, inet_service 13,
 * 6 bits each */
#define CAT4(a, b, c, d)	((((a) << 6 | (b)) << 6 | (c)) << 6 | (d))

static const struct lock_set sets[] = {
	{ "c4", 1, CAT4(7, 13, 7, 13), 16, NFPROTO_IPV4, 12, 16, 4 },
	{ "c6", 2, CAT4(8, 13, 8, 13), 40, NFPROTO_IPV6, 8, 24, 16 },
};

/* nft's user data of such a set (key byte order, and how it was typed),
 * for `nft list` to show it as it shows its own */
static const uint8_t set_udata[] = {
	0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x03, 0x08,
	0x00, 0x04, 0x0d, 0x00, 0x00, 0x00, 0x01, 0x00,
};

static size_t expr_start(struct nfb *b, const char *name, size_t *data)
{
	size_t e = nfb_nest(b, NFTA_LIST_ELEM);

	nfb_str(b, NFTA_EXPR_NAME, name);
	*data = nfb_nest(b, NFTA_EXPR_DATA);
	return e;
}

static void expr_end(struct nfb *b, size_t e, size_t data)
{
	nfb_end(b, data);
	nfb_end(b, e);
}

static void meta(struct nfb *b, uint32_t key)
{
	size_t d, e = expr_start(b, "meta", &d);

	nfb_be32(b, NFTA_META_KEY, key);
	nfb_be32(b, NFTA_META_DREG, NFT_REG_1);
	expr_end(b, e, d);
}

static void cmp_eq(struct nfb *b, const void *v, size_t len)
{
	size_t d, e = expr_start(b, "cmp", &d), n;

	nfb_be32(b, NFTA_CMP_SREG, NFT_REG_1);
	nfb_be32(b, NFTA_CMP_OP, NFT_CMP_EQ);
	n = nfb_nest(b, NFTA_CMP_DATA);
	nfb_put(b, NFTA_DATA_VALUE, v, len);
	nfb_end(b, n);
	expr_end(b, e, d);
}

static void verdict(struct nfb *b, uint32_t code)
{
	size_t d, e = expr_start(b, "immediate", &d), n, v;

	nfb_be32(b, NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
	n = nfb_nest(b, NFTA_IMMEDIATE_DATA);
	v = nfb_nest(b, NFTA_DATA_VERDICT);
	nfb_be32(b, NFTA_VERDICT_CODE, code);
	nfb_end(b, v);
	nfb_end(b, n);
	expr_end(b, e, d);
}

/* a field of the packet into 32-bit register *reg on */
static void payload(struct nfb *b, uint32_t *reg, uint32_t base,
		    uint32_t off, uint32_t len)
{
	size_t d, e = expr_start(b, "payload", &d);

	nfb_be32(b, NFTA_PAYLOAD_DREG, *reg);
	nfb_be32(b, NFTA_PAYLOAD_BASE, base);
	nfb_be32(b, NFTA_PAYLOAD_OFFSET, off);
	nfb_be32(b, NFTA_PAYLOAD_LEN, len);
	expr_end(b, e, d);
	*reg += (len + 3) / 4;
}

static void rule_start(struct nfb *b, const char *chain, size_t *r)
{
	nfb_msg(b, NFT_MSG_NEWRULE, NFPROTO_INET, NLM_F_CREATE | NLM_F_APPEND);
	nfb_str(b, NFTA_RULE_TABLE, TABLE);
	nfb_str(b, NFTA_RULE_CHAIN, chain);
	*r = nfb_nest(b, NFTA_RULE_EXPRESSIONS);
}

/* meta mark KH_TCP_MARK accept */
static void mark_rule(struct nfb *b, const char *chain)
{
	uint32_t mark = KH_TCP_MARK;	/* the register holds it as is */
	size_t r;

	rule_start(b, chain, &r);
	meta(b, NFT_META_MARK);
	cmp_eq(b, &mark, sizeof(mark));
	verdict(b, NF_ACCEPT);
	nfb_end(b, r);
}

/* [ip|ip6] {s,d}addr . tcp {s,d}port . {d,s}addr . tcp {d,s}port @set drop:
 * src, the packet's source first, or its destination */
static void conn_rule(struct nfb *b, const char *chain,
		      const struct lock_set *s, bool src)
{
	uint32_t reg = NFT_REG32_00;
	uint8_t proto = IPPROTO_TCP;
	size_t r, d, e;

	rule_start(b, chain, &r);
	meta(b, NFT_META_NFPROTO);
	cmp_eq(b, &s->nfproto, 1);
	meta(b, NFT_META_L4PROTO);
	cmp_eq(b, &proto, 1);
	payload(b, &reg, NFT_PAYLOAD_NETWORK_HEADER, src ? s->saddr : s->daddr,
		s->alen);
	payload(b, &reg, NFT_PAYLOAD_TRANSPORT_HEADER, src ? 0 : 2, 2);
	payload(b, &reg, NFT_PAYLOAD_NETWORK_HEADER, src ? s->daddr : s->saddr,
		s->alen);
	payload(b, &reg, NFT_PAYLOAD_TRANSPORT_HEADER, src ? 2 : 0, 2);
	e = expr_start(b, "lookup", &d);
	nfb_be32(b, NFTA_LOOKUP_SREG, NFT_REG_1);
	nfb_str(b, NFTA_LOOKUP_SET, s->name);
	nfb_be32(b, NFTA_LOOKUP_SET_ID, s->id);
	expr_end(b, e, d);
	verdict(b, NF_DROP);
	nfb_end(b, r);
}

static void chain(struct nfb *b, const char *name, uint32_t hook)
{
	size_t h;
	size_t i;

	nfb_msg(b, NFT_MSG_NEWCHAIN, NFPROTO_INET, NLM_F_CREATE);
	nfb_str(b, NFTA_CHAIN_TABLE, TABLE);
	nfb_str(b, NFTA_CHAIN_NAME, name);
	nfb_str(b, NFTA_CHAIN_TYPE, "filter");
	nfb_be32(b, NFTA_CHAIN_POLICY, NF_ACCEPT);
	h = nfb_nest(b, NFTA_CHAIN_HOOK);
	nfb_be32(b, NFTA_HOOK_HOOKNUM, hook);
	nfb_be32(b, NFTA_HOOK_PRIORITY, (uint32_t)-300);
	nfb_end(b, h);
	/* flush chain */
	nfb_msg(b, NFT_MSG_DELRULE, NFPROTO_INET, 0);
	nfb_str(b, NFTA_RULE_TABLE, TABLE);
	nfb_str(b, NFTA_RULE_CHAIN, name);
	mark_rule(b, name);
	for (i = 0; i < ARRAY_SIZE(sets); i++) {
		conn_rule(b, name, &sets[i], true);
		conn_rule(b, name, &sets[i], false);
	}
}

static void lock_table(struct nfb *b)
{
	size_t i;

	nfb_msg(b, NFT_MSG_NEWTABLE, NFPROTO_INET, NLM_F_CREATE);
	nfb_str(b, NFTA_TABLE_NAME, TABLE);
	nfb_be32(b, NFTA_TABLE_FLAGS, 0);
	for (i = 0; i < ARRAY_SIZE(sets); i++) {
		nfb_msg(b, NFT_MSG_NEWSET, NFPROTO_INET, NLM_F_CREATE);
		nfb_str(b, NFTA_SET_TABLE, TABLE);
		nfb_str(b, NFTA_SET_NAME, sets[i].name);
		nfb_be32(b, NFTA_SET_FLAGS, 0);
		nfb_be32(b, NFTA_SET_KEY_TYPE, sets[i].key_type);
		nfb_be32(b, NFTA_SET_KEY_LEN, sets[i].key_len);
		nfb_be32(b, NFTA_SET_ID, sets[i].id);
		nfb_put(b, NFTA_SET_USERDATA, set_udata, sizeof(set_udata));
	}
	chain(b, "input", NF_INET_LOCAL_IN);
	chain(b, "output", NF_INET_LOCAL_OUT);
}

/* an IPv4-mapped IPv6 address travels as IPv4: its plain form */
bool kh_inet_v4_of(const struct sockaddr_storage *ss, struct in_addr *a,
		   unsigned *port)
{
	const struct sockaddr_in *a4 = (const void *)ss;
	const struct sockaddr_in6 *a6 = (const void *)ss;

	if (ss->ss_family == AF_INET) {
		*a = a4->sin_addr;
		*port = ntohs(a4->sin_port);
		return true;
	}
	*port = ntohs(a6->sin6_port);
	if (!IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr))
		return false;
	memcpy(a, &a6->sin6_addr.s6_addr[12], 4);
	return true;
}

/* the set of c and its key: local address, port, peer address, port,
 * each field padded to 4 bytes as in the registers */
static int element(const struct kh_tcp_conn *c, uint8_t *key, size_t *len)
{
	const struct sockaddr_in6 *l6 = (const void *)&c->local;
	const struct sockaddr_in6 *p6 = (const void *)&c->peer;
	struct in_addr la, pa;
	unsigned lp, pp, alen;
	bool v4 = kh_inet_v4_of(&c->local, &la, &lp);
	const void *l = &la, *p = &pa;
	uint16_t port;

	if (kh_inet_v4_of(&c->peer, &pa, &pp) != v4)
		return -EINVAL;
	alen = v4 ? 4 : 16;
	if (!v4) {
		l = &l6->sin6_addr;
		p = &p6->sin6_addr;
	}
	memset(key, 0, 40);
	memcpy(key, l, alen);
	port = htons(lp);
	memcpy(key + alen, &port, 2);
	memcpy(key + alen + 4, p, alen);
	port = htons(pp);
	memcpy(key + 2 * alen + 4, &port, 2);
	*len = 2 * alen + 8;
	return v4 ? 0 : 1;
}

/* NEWSETELEM or DELSETELEM: the elements of c[0..n) that are in set s */
static int elements(struct nfb *b, const struct lock_set *s, int type,
		    const struct kh_tcp_conn *c, size_t n)
{
	size_t i, len, list = 0, el, k;
	bool any = false;
	uint8_t key[40];
	int which;

	for (i = 0; i < n; i++) {
		which = element(&c[i], key, &len);
		if (which < 0)
			return which;
		if (len != s->key_len)
			continue;
		if (!any) {
			nfb_msg(b, type, NFPROTO_INET,
				type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0);
			nfb_str(b, NFTA_SET_ELEM_LIST_TABLE, TABLE);
			nfb_str(b, NFTA_SET_ELEM_LIST_SET, s->name);
			nfb_be32(b, NFTA_SET_ELEM_LIST_SET_ID, s->id);
			list = nfb_nest(b, NFTA_SET_ELEM_LIST_ELEMENTS);
			any = true;
		}
		el = nfb_nest(b, NFTA_LIST_ELEM);
		k = nfb_nest(b, NFTA_SET_ELEM_KEY);
		nfb_put(b, NFTA_DATA_VALUE, key, len);
		nfb_end(b, k);
		nfb_end(b, el);
	}
	if (any)
		nfb_end(b, list);
	return 0;
}

/*
 * Unlocking adds each element before deleting it: a delete of one that
 * is not there (a second restore, another host) would fail the batch.
 * Unlocking needs the table too, for the same reason.
 */
int kh_tcp_lock(const struct kh_tcp_conn *c, size_t n, bool lock)
{
	struct nfb b;
	size_t i;
	int ret = 0;

	if (!n)
		return 0;
	nfb_init(&b);
	lock_table(&b);
	for (i = 0; !ret && i < ARRAY_SIZE(sets); i++) {
		ret = elements(&b, &sets[i], NFT_MSG_NEWSETELEM, c, n);
		if (!ret && !lock)
			ret = elements(&b, &sets[i], NFT_MSG_DELSETELEM, c, n);
	}
	ret = ret ?: nfb_commit(&b);
	nfb_free(&b);
	return ret;
}
