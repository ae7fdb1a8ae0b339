// SPDX-License-Identifier: MIT
/*
 * While a connection is checkpointed its packets are dropped, both ways,
 * by nftables in the caller's network namespace: table inet crfs_tcp_lock,
 * one set element per connection (local address, port, peer address,
 * port).  Frozen, its socket must not move (an ack or data arriving after
 * the queues were read would be lost on restore); killed, no socket exists
 * and the kernel would answer the peer with RST; restoring, a socket
 * closed on failure would send one.  Nothing of the connection reaches
 * either side until the lock is lifted, but the segments crfs-restore
 * makes up for a half-closed connection (tcp_inject.c, marked).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "kh.h"
#include "kh_ns.h"
#include "crfs/format.h"

#define TABLE "inet crfs_tcp_lock"

/*
 * The table, its sets and chains are added if missing and the chains'
 * rules written afresh, so that one nft run, whatever was there, leaves
 * exactly these (and the elements of every connection locked).
 */
#define RULES(hook)							\
	"add chain " TABLE " " hook " { type filter hook " hook		\
	" priority -300; policy accept; }\n"				\
	"flush chain " TABLE " " hook "\n"				\
	"add rule " TABLE " " hook " meta mark " KH_TCP_MARK_TEXT " accept\n" \
	"add rule " TABLE " " hook					\
	" ip saddr . tcp sport . ip daddr . tcp dport @c4 drop\n"	\
	"add rule " TABLE " " hook					\
	" ip daddr . tcp dport . ip saddr . tcp sport @c4 drop\n"	\
	"add rule " TABLE " " hook					\
	" ip6 saddr . tcp sport . ip6 daddr . tcp dport @c6 drop\n"	\
	"add rule " TABLE " " hook					\
	" ip6 daddr . tcp dport . ip6 saddr . tcp sport @c6 drop\n"

static const char lock_table[] =
	"add table " TABLE "\n"
	"add set " TABLE " c4 { type ipv4_addr . inet_service . ipv4_addr . inet_service; }\n"
	"add set " TABLE " c6 { type ipv6_addr . inet_service . ipv6_addr . inet_service; }\n"
	RULES("input") RULES("output");

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

/* "c4 { 127.0.0.1 . 40000 . 127.0.0.1 . 5000 }" */
static int element(const struct kh_tcp_conn *c, char *buf, size_t len)
{
	char l[INET6_ADDRSTRLEN], p[INET6_ADDRSTRLEN];
	const struct sockaddr_in6 *l6 = (const void *)&c->local;
	const struct sockaddr_in6 *p6 = (const void *)&c->peer;
	struct in_addr la, pa;
	unsigned lp, pp;
	bool v4 = kh_inet_v4_of(&c->local, &la, &lp);

	if (kh_inet_v4_of(&c->peer, &pa, &pp) != v4)
		return -EINVAL;
	if (v4) {
		inet_ntop(AF_INET, &la, l, sizeof(l));
		inet_ntop(AF_INET, &pa, p, sizeof(p));
	} else {
		inet_ntop(AF_INET6, &l6->sin6_addr, l, sizeof(l));
		inet_ntop(AF_INET6, &p6->sin6_addr, p, sizeof(p));
	}
	snprintf(buf, len, "c%c { %s . %u . %s . %u }", v4 ? '4' : '6', l,
		 lp, p, pp);
	return 0;
}

/* nft -f on a script held in a memfd: no temporary file to clean up */
static int run_script(const char *text, size_t len)
{
	int fd = memfd_create("crfs-tcp-lock", MFD_CLOEXEC), st = 0, ret;
	char path[64];

	if (fd < 0)
		return -errno;
	ret = write(fd, text, len) == (ssize_t)len ? 0 : -EIO;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", getpid(), fd);
	ret = ret ?: kh_nft_load(path, &st);
	close(fd);
	if (!ret && (!WIFEXITED(st) || WEXITSTATUS(st)))
		ret = -EIO;
	return ret;
}

/*
 * Unlocking adds each element before deleting it: a delete of one that
 * is not there (a second restore, another host) would fail the batch.
 */
static int elements(struct strbuf *sb, const struct kh_tcp_conn *c, size_t n,
		    bool lock)
{
	char el[256];
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < n; i++) {
		ret = element(&c[i], el, sizeof(el));
		ret = ret ?: sb_printf(sb, "add element " TABLE " %s\n", el);
		if (!ret && !lock)
			ret = sb_printf(sb, "delete element " TABLE " %s\n", el);
	}
	return ret;
}

int kh_tcp_lock(const struct kh_tcp_conn *c, size_t n, bool lock)
{
	struct strbuf sb;
	int ret;

	if (!n)
		return 0;
	if (!kh_nft_path())
		return -ENOENT;
	sb_init(&sb);
	/* unlocking needs the table too: elements are added, then deleted */
	ret = sb_printf(&sb, "%s", lock_table);
	ret = ret ?: elements(&sb, c, n, lock);
	ret = ret ?: run_script(sb.buf, sb.len);
	sb_free(&sb);
	return ret;
}
