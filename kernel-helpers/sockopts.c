// SPDX-License-Identifier: MIT
/*
 * Socket options.  On/off options are read as one bitmask.  Valued ones
 * go through one table, both ways: an image stores, as text
 * "name:value,...", those whose value differs from what a fresh socket of
 * the same family, type and protocol has, and restore sets them again in
 * table order (a filter before its lock).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/icmp6.h>
#include <linux/filter.h>
#include <linux/sockios.h>
#include <linux/udp.h>
#include <linux/icmp.h>
#include <linux/if_packet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "crfs/format.h"
#include "kh.h"

/* not in glibc's headers (linux/udp.h has them, but clashes with glibc's) */
#ifndef SOL_UDPLITE
#define SOL_UDPLITE 136
#endif
/* newer than the installed asm-generic/socket.h may be */
#ifndef IPV6_HDRINCL
#define IPV6_HDRINCL 36
#endif
#ifndef SOL_RAW
#define SOL_RAW 255
#endif
#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76
#endif
#ifndef SO_PASSRIGHTS
#define SO_PASSRIGHTS 83
#endif
#ifndef SO_TXREHASH
#define SO_TXREHASH 74
#endif
#ifndef IP_RECVFRAGSIZE
#define IP_RECVFRAGSIZE 25
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
#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif
#ifndef UDPLITE_SEND_CSCOV
#define UDPLITE_SEND_CSCOV 10
#define UDPLITE_RECV_CSCOV 11
#endif

uint32_t kh_sockopts_on(int sk, const struct kh_sockopt *o, int n)
{
	uint32_t on = 0;
	socklen_t l;
	int i, v;

	for (i = 0; i < n; i++) {
		l = sizeof(v);
		if (!getsockopt(sk, o[i].level, o[i].name, &v, &l) && v)
			on |= 1u << i;
	}
	return on;
}

enum vo_kind {
	VO_INT,		/* an int */
	VO_LINGER,	/* struct linger, "onoff/seconds" */
	VO_STR,		/* a name: congestion control, device */
	VO_FILTER,	/* a classic BPF program, hex, 8 bytes an insn */
	VO_HEX,		/* a struct of up to 40 bytes, hex */
	VO_MREQ,	/* a group joined, "ifindex@group" (mcast.c reads them) */
};

struct valopt {
	const char *name;
	int level, opt;
	enum vo_kind kind;
	int set_opt;	/* to set it, when not opt (the filter) */
};

#define I(n, l, o) { n, l, o, VO_INT, 0 }

/*
 * On/off options of kh_inet_opts (SO_REUSEADDR, SO_KEEPALIVE, ...) are
 * not repeated here.  Order is the order of setting: IP_TOS before the
 * priority it changes, the filter before its lock, the lock last.
 */
static const struct valopt valopts[] = {
	/* IP_TOS sets the priority as well: it goes first */
	I("ip_tos", IPPROTO_IP, IP_TOS),
	{ "linger", SOL_SOCKET, SO_LINGER, VO_LINGER, 0 },
	I("priority", SOL_SOCKET, SO_PRIORITY),
	I("mark", SOL_SOCKET, SO_MARK),
	I("rcvlowat", SOL_SOCKET, SO_RCVLOWAT),
	I("oobinline", SOL_SOCKET, SO_OOBINLINE),
	I("dontroute", SOL_SOCKET, SO_DONTROUTE),
	I("timestamp", SOL_SOCKET, SO_TIMESTAMP),
	I("timestampns", SOL_SOCKET, SO_TIMESTAMPNS),
	I("timestamp_new", SOL_SOCKET, SO_TIMESTAMP_NEW),
	I("timestampns_new", SOL_SOCKET, SO_TIMESTAMPNS_NEW),
	I("rxq_ovfl", SOL_SOCKET, SO_RXQ_OVFL),
	I("select_err_queue", SOL_SOCKET, SO_SELECT_ERR_QUEUE),
	I("busy_poll", SOL_SOCKET, SO_BUSY_POLL),
	I("rcvmark", SOL_SOCKET, SO_RCVMARK),
	I("passsec", SOL_SOCKET, SO_PASSSEC),
	I("passpidfd", SOL_SOCKET, SO_PASSPIDFD),
	I("passrights", SOL_SOCKET, SO_PASSRIGHTS),
	{ "bindtodevice", SOL_SOCKET, SO_BINDTODEVICE, VO_STR, 0 },
	I("buf_lock", SOL_SOCKET, SO_BUF_LOCK),
	I("no_check", SOL_SOCKET, SO_NO_CHECK),
	I("zerocopy", SOL_SOCKET, SO_ZEROCOPY),
	I("txrehash", SOL_SOCKET, SO_TXREHASH),
	/* a struct timeval; a unix socket's are keys of their own */
	{ "rcvtimeo", SOL_SOCKET, SO_RCVTIMEO, VO_HEX, 0 },
	{ "sndtimeo", SOL_SOCKET, SO_SNDTIMEO, VO_HEX, 0 },
	I("tcp_keepidle", IPPROTO_TCP, TCP_KEEPIDLE),
	I("tcp_keepintvl", IPPROTO_TCP, TCP_KEEPINTVL),
	I("tcp_keepcnt", IPPROTO_TCP, TCP_KEEPCNT),
	I("tcp_cork", IPPROTO_TCP, TCP_CORK),
	I("tcp_user_timeout", IPPROTO_TCP, TCP_USER_TIMEOUT),
	I("tcp_maxseg", IPPROTO_TCP, TCP_MAXSEG),
	I("tcp_quickack", IPPROTO_TCP, TCP_QUICKACK),
	I("tcp_defer_accept", IPPROTO_TCP, TCP_DEFER_ACCEPT),
	I("tcp_fastopen", IPPROTO_TCP, TCP_FASTOPEN),
	I("tcp_notsent_lowat", IPPROTO_TCP, TCP_NOTSENT_LOWAT),
	I("tcp_window_clamp", IPPROTO_TCP, TCP_WINDOW_CLAMP),
	I("tcp_syncnt", IPPROTO_TCP, TCP_SYNCNT),
	I("tcp_linger2", IPPROTO_TCP, TCP_LINGER2),
	I("tcp_thin_linear_timeouts", IPPROTO_TCP, TCP_THIN_LINEAR_TIMEOUTS),
	I("tcp_save_syn", IPPROTO_TCP, TCP_SAVE_SYN),
	I("tcp_tx_delay", IPPROTO_TCP, TCP_TX_DELAY),
	{ "tcp_congestion", IPPROTO_TCP, TCP_CONGESTION, VO_STR, 0 },
	I("ip_ttl", IPPROTO_IP, IP_TTL),
	I("ip_freebind", IPPROTO_IP, IP_FREEBIND),
	I("ip_transparent", IPPROTO_IP, IP_TRANSPARENT),
	I("ip_bind_address_no_port", IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT),
	I("ip_mtu_discover", IPPROTO_IP, IP_MTU_DISCOVER),
	I("ip_recverr", IPPROTO_IP, IP_RECVERR),
	I("ip_pktinfo", IPPROTO_IP, IP_PKTINFO),
	I("ip_recvtos", IPPROTO_IP, IP_RECVTOS),
	I("ip_recvttl", IPPROTO_IP, IP_RECVTTL),
	I("ip_recvorigdstaddr", IPPROTO_IP, IP_RECVORIGDSTADDR),
	I("ip_multicast_ttl", IPPROTO_IP, IP_MULTICAST_TTL),
	I("ip_multicast_loop", IPPROTO_IP, IP_MULTICAST_LOOP),
	I("ip_multicast_all", IPPROTO_IP, IP_MULTICAST_ALL),
	I("ip_multicast_if", IPPROTO_IP, IP_MULTICAST_IF),	/* an in_addr */
	I("ip_local_port_range", IPPROTO_IP, IP_LOCAL_PORT_RANGE),
	{ "ip_options", IPPROTO_IP, IP_OPTIONS, VO_HEX, 0 },	/* up to 40 bytes */
	I("ip_minttl", IPPROTO_IP, IP_MINTTL),
	I("ip_recvopts", IPPROTO_IP, IP_RECVOPTS),
	I("ip_retopts", IPPROTO_IP, IP_RETOPTS),
	I("ip_recvfragsize", IPPROTO_IP, IP_RECVFRAGSIZE),
	I("ip_passsec", IPPROTO_IP, IP_PASSSEC),
	I("ipv6_unicast_hops", IPPROTO_IPV6, IPV6_UNICAST_HOPS),
	I("ipv6_tclass", IPPROTO_IPV6, IPV6_TCLASS),
	I("ipv6_multicast_hops", IPPROTO_IPV6, IPV6_MULTICAST_HOPS),
	I("ipv6_multicast_loop", IPPROTO_IPV6, IPV6_MULTICAST_LOOP),
	I("ipv6_multicast_if", IPPROTO_IPV6, IPV6_MULTICAST_IF),
	I("ipv6_recvpktinfo", IPPROTO_IPV6, IPV6_RECVPKTINFO),
	I("ipv6_recvhoplimit", IPPROTO_IPV6, IPV6_RECVHOPLIMIT),
	I("ipv6_recvtclass", IPPROTO_IPV6, IPV6_RECVTCLASS),
	I("ipv6_recvorigdstaddr", IPPROTO_IPV6, IPV6_RECVORIGDSTADDR),
	I("ipv6_recverr", IPPROTO_IPV6, IPV6_RECVERR),
	I("ipv6_mtu_discover", IPPROTO_IPV6, IPV6_MTU_DISCOVER),
	I("ipv6_freebind", IPPROTO_IPV6, IPV6_FREEBIND),
	I("ipv6_transparent", IPPROTO_IPV6, IPV6_TRANSPARENT),
	I("ipv6_dontfrag", IPPROTO_IPV6, IPV6_DONTFRAG),
	I("ipv6_autoflowlabel", IPPROTO_IPV6, IPV6_AUTOFLOWLABEL),
	I("ipv6_minhopcount", IPPROTO_IPV6, IPV6_MINHOPCOUNT),
	I("ipv6_recvfragsize", IPPROTO_IPV6, IPV6_RECVFRAGSIZE),
	I("ipv6_recvrthdr", IPPROTO_IPV6, IPV6_RECVRTHDR),
	I("udp_cork", IPPROTO_UDP, UDP_CORK),
	I("udp_segment", IPPROTO_UDP, UDP_SEGMENT),
	I("udp_gro", IPPROTO_UDP, UDP_GRO),
	I("udplite_send_cscov", SOL_UDPLITE, UDPLITE_SEND_CSCOV),
	I("udplite_recv_cscov", SOL_UDPLITE, UDPLITE_RECV_CSCOV),
	/* raw inet sockets */
	I("ip_hdrincl", IPPROTO_IP, IP_HDRINCL),
	I("icmp_filter", SOL_RAW, ICMP_FILTER),		/* a type bitmask */
	I("ipv6_hdrincl", IPPROTO_IPV6, IPV6_HDRINCL),
	I("ipv6_checksum", IPPROTO_IPV6, IPV6_CHECKSUM),
	{ "icmp6_filter", IPPROTO_ICMPV6, ICMP6_FILTER, VO_HEX, 0 },
	/* packet sockets; their version and reserve before any ring */
	I("packet_version", SOL_PACKET, PACKET_VERSION),
	I("packet_reserve", SOL_PACKET, PACKET_RESERVE),
	I("packet_auxdata", SOL_PACKET, PACKET_AUXDATA),
	I("packet_origdev", SOL_PACKET, PACKET_ORIGDEV),
	I("packet_timestamp", SOL_PACKET, PACKET_TIMESTAMP),
	I("packet_loss", SOL_PACKET, PACKET_LOSS),
	I("packet_vnet_hdr", SOL_PACKET, PACKET_VNET_HDR),
	I("packet_qdisc_bypass", SOL_PACKET, PACKET_QDISC_BYPASS),
	I("packet_ignore_outgoing", SOL_PACKET, PACKET_IGNORE_OUTGOING),
	{ "filter", SOL_SOCKET, SO_GET_FILTER, VO_FILTER, SO_ATTACH_FILTER },
	I("lock_filter", SOL_SOCKET, SO_LOCK_FILTER),
	{ "ip_add_membership", IPPROTO_IP, IP_ADD_MEMBERSHIP, VO_MREQ, 0 },
	{ "ipv6_join_group", IPPROTO_IPV6, IPV6_JOIN_GROUP, VO_MREQ, 0 },
};
#define NVALOPTS ((int)(sizeof(valopts) / sizeof(valopts[0])))

struct sk_id {
	int domain, type, protocol;
};

/* does the option belong to sockets of this kind at all? */
static bool applies(const struct valopt *o, const struct sk_id *id)
{
	/* the kernel refuses multicast options on stream sockets, and an
	 * accepted TCP socket reads other values than a fresh one */
	if (id->type == SOCK_STREAM && strstr(o->name, "multicast"))
		return false;
	/* kh_unix_options saves a unix socket's timeouts */
	if (id->domain == AF_UNIX && o->level == SOL_SOCKET &&
	    (o->opt == SO_RCVTIMEO || o->opt == SO_SNDTIMEO))
		return false;
	switch (o->level) {
	case IPPROTO_TCP:
		return id->protocol == IPPROTO_TCP;
	case SOL_UDPLITE:
		return id->protocol == IPPROTO_UDPLITE;
	case IPPROTO_UDP:
		return id->protocol == IPPROTO_UDP ||
		       id->protocol == IPPROTO_UDPLITE;
	case IPPROTO_IP:
		return id->domain == AF_INET;
	case IPPROTO_IPV6:
		return id->domain == AF_INET6;
	case SOL_RAW:
		return id->domain == AF_INET && id->type == SOCK_RAW;
	case IPPROTO_ICMPV6:
		return id->domain == AF_INET6 && id->type == SOCK_RAW &&
		       id->protocol == IPPROTO_ICMPV6;
	case SOL_PACKET:
		return id->domain == AF_PACKET;
	default:
		return true;
	}
}

/* an option's value as text; -errno if the kernel gives none */
static int opt_text(int sk, const struct valopt *o, char *buf, size_t len)
{
	union { int i; struct linger l; char s[40]; } v;
	socklen_t l = sizeof(v);

	memset(&v, 0, sizeof(v));
	*buf = '\0';	/* an empty VO_HEX (no IP options) */
	if (o->kind == VO_INT)
		l = sizeof(int);
	if (getsockopt(sk, o->level, o->opt, &v, &l))
		return -errno;
	if (o->kind == VO_INT)
		snprintf(buf, len, "%d", v.i);
	else if (o->kind == VO_LINGER)
		snprintf(buf, len, "%d/%d", v.l.l_onoff, v.l.l_linger);
	else if (o->kind == VO_HEX)
		for (socklen_t i = 0; i < l && 2 * i + 2 < len; i++)
			snprintf(buf + 2 * i, 3, "%02x", (unsigned char)v.s[i]);
	else
		snprintf(buf, len, "%.*s", (int)l, v.s);
	return 0;
}

/* the classic filter attached, hex; "" for none */
static int filter_text(int sk, struct strbuf *sb, const char **why)
{
	struct sock_filter *f;
	socklen_t n = 0, i;
	int ret = 0;

	if (getsockopt(sk, SOL_SOCKET, SO_GET_FILTER, NULL, &n)) {
		if (errno == EACCES)	/* an eBPF program: no source to read */
			*why = "an eBPF socket filter (SO_ATTACH_BPF) is not supported";
		return errno == EACCES ? 0 : -errno;
	}
	if (!n)
		return 0;
	f = calloc(n, sizeof(*f));
	if (!f)
		return -ENOMEM;
	if (getsockopt(sk, SOL_SOCKET, SO_GET_FILTER, f, &n))
		ret = -errno;
	ret = ret ?: sb_printf(sb, "%sfilter:", sb->len ? "," : "");
	for (i = 0; !ret && i < n; i++)
		ret = sb_printf(sb, "%04x%02x%02x%08x", f[i].code, f[i].jt,
				f[i].jf, f[i].k);
	free(f);
	return ret;
}

static int sk_ident(int sk, struct sk_id *id)
{
	socklen_t l = sizeof(int);

	if (getsockopt(sk, SOL_SOCKET, SO_DOMAIN, &id->domain, &l) ||
	    getsockopt(sk, SOL_SOCKET, SO_TYPE, &id->type, &l) ||
	    getsockopt(sk, SOL_SOCKET, SO_PROTOCOL, &id->protocol, &l))
		return -errno;
	return 0;
}

static int add_changed(int sk, int fresh, const struct sk_id *id,
		       struct strbuf *sb, const char **why)
{
	char have[96], def[96];
	int i, ret = 0;

	for (i = 0; !ret && i < NVALOPTS; i++) {
		const struct valopt *o = &valopts[i];

		if (!applies(o, id) || o->kind == VO_MREQ)
			continue;
		if (o->kind == VO_FILTER) {
			ret = filter_text(sk, sb, why);
			continue;
		}
		if (opt_text(sk, o, have, sizeof(have)) ||
		    opt_text(fresh, o, def, sizeof(def)) || !strcmp(have, def))
			continue;
		ret = sb_printf(sb, "%s%s:%s", sb->len ? "," : "", o->name,
				have);
	}
	return ret;
}

/* what a corked UDP socket holds back is not in any queue we can read */
static void corked_udp(int sk, const struct sk_id *id, const char **why)
{
	socklen_t l = sizeof(int);
	int cork = 0, out = 0;

	if ((id->protocol != IPPROTO_UDP && id->protocol != IPPROTO_UDPLITE) ||
	    getsockopt(sk, IPPROTO_UDP, UDP_CORK, &cork, &l) || !cork)
		return;
	if (!ioctl(sk, SIOCOUTQ, &out) && out > 0)
		*why = "a corked UDP socket with data not yet sent (UDP_CORK) is not supported";
}

/*
 * The new socket whose options are the defaults: of the same family, type
 * and protocol, but for an ICMP datagram ("ping") socket, which only a
 * group in our namespace's net.ipv4.ping_group_range may make (none, by
 * default): a UDP socket of its family, an inet datagram socket with the
 * same defaults at the socket and IP levels (the UDP level is read of UDP
 * sockets only).
 */
static int ref_protocol(const struct sk_id *id)
{
	if (id->type == SOCK_DGRAM && (id->protocol == IPPROTO_ICMP ||
				       id->protocol == IPPROTO_ICMPV6))
		return IPPROTO_UDP;
	return id->protocol;
}

int kh_sockopts_read(int sk, char **text, const char **why)
{
	struct strbuf sb;
	struct sk_id id;
	size_t len;
	int fresh, ret;

	*text = NULL;
	ret = sk_ident(sk, &id);
	if (ret)
		return ret;
	corked_udp(sk, &id, why);
	fresh = socket(id.domain, id.type | SOCK_CLOEXEC, ref_protocol(&id));
	if (fresh < 0)
		return -errno;
	sb_init(&sb);
	ret = add_changed(sk, fresh, &id, &sb, why);
	close(fresh);
	if (ret || !sb.len) {
		sb_free(&sb);
		return ret;
	}
	*text = sb_steal(&sb, &len);
	return 0;
}

static int set_filter(int sk, const struct valopt *o, const char *hex)
{
	size_t n = strlen(hex) / 16, i;
	struct sock_fprog prog = { .len = n };
	unsigned code, jt, jf, k;
	int ret = 0;

	if (!n || strlen(hex) % 16 || n > BPF_MAXINSNS)
		return -EINVAL;
	prog.filter = calloc(n, sizeof(*prog.filter));
	if (!prog.filter)
		return -ENOMEM;
	for (i = 0; !ret && i < n; i++) {
		if (sscanf(hex + i * 16, "%4x%2x%2x%8x", &code, &jt, &jf, &k) != 4)
			ret = -EINVAL;
		prog.filter[i] = (struct sock_filter){ code, jt, jf, k };
	}
	if (!ret && setsockopt(sk, o->level, o->set_opt, &prog, sizeof(prog)))
		ret = -errno;
	free(prog.filter);
	return ret;
}

static int set_hex(int sk, const struct valopt *o, const char *hex)
{
	unsigned char b[40];
	size_t n = strlen(hex) / 2, i;
	unsigned x;

	if (!n || strlen(hex) % 2 || n > sizeof(b))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (sscanf(hex + 2 * i, "%2x", &x) != 1)
			return -EINVAL;
		b[i] = x;
	}
	return setsockopt(sk, o->level, o->opt, b, n) ? -errno : 0;
}

static int set_mreq(int sk, const struct valopt *o, const char *v)
{
	struct ip_mreqn m = { .imr_ifindex = atoi(v) };
	struct ipv6_mreq m6 = { .ipv6mr_interface = atoi(v) };
	const char *at = strchr(v, '@');

	if (!at || m.imr_ifindex <= 0)
		return -EINVAL;
	if (o->level == IPPROTO_IPV6) {
		if (inet_pton(AF_INET6, at + 1, &m6.ipv6mr_multiaddr) != 1)
			return -EINVAL;
		return setsockopt(sk, o->level, o->opt, &m6, sizeof(m6)) ?
		       -errno : 0;
	}
	if (inet_pton(AF_INET, at + 1, &m.imr_multiaddr) != 1)
		return -EINVAL;
	return setsockopt(sk, o->level, o->opt, &m, sizeof(m)) ? -errno : 0;
}

static int set_one(int sk, const struct valopt *o, const char *v)
{
	struct linger l;
	char *end;
	long i;

	switch (o->kind) {
	case VO_FILTER:
		return set_filter(sk, o, v);
	case VO_HEX:
		return set_hex(sk, o, v);
	case VO_MREQ:
		return set_mreq(sk, o, v);
	case VO_STR:
		return setsockopt(sk, o->level, o->opt, v, strlen(v)) ? -errno : 0;
	case VO_LINGER:
		if (sscanf(v, "%d/%d", &l.l_onoff, &l.l_linger) != 2)
			return -EINVAL;
		return setsockopt(sk, o->level, o->opt, &l, sizeof(l)) ? -errno : 0;
	default:
		i = strtol(v, &end, 10);
		if (*end || end == v)
			return -EINVAL;
		return setsockopt(sk, o->level, o->opt, &(int){ i },
				  sizeof(int)) ? -errno : 0;
	}
}

static const struct valopt *find_opt(const char *name, size_t len)
{
	int i;

	for (i = 0; i < NVALOPTS; i++)
		if (strlen(valopts[i].name) == len &&
		    !strncmp(valopts[i].name, name, len))
			return &valopts[i];
	return NULL;
}

/* sets what kh_sockopts_read gave; *bad names the option that failed */
int kh_sockopts_apply(int sk, const char *text, const char **bad)
{
	char *copy = strdup(text), *cur, *item, *colon;
	const struct valopt *o;
	int ret = copy ? 0 : -ENOMEM;

	*bad = "an unknown option";
	for (cur = copy; !ret && (item = strsep(&cur, ","));) {
		colon = strchr(item, ':');
		o = colon ? find_opt(item, colon - item) : NULL;
		if (!o)
			return free(copy), -EINVAL;
		*bad = o->name;
		ret = set_one(sk, o, colon + 1);
	}
	free(copy);
	return ret;
}
