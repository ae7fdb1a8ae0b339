// SPDX-License-Identifier: MIT
/*
 * A netlink socket, as our own copy of it tells: protocol, the port id it
 * is bound to, the groups it joined, where it is connected, its options.
 * Messages in its queue cannot be put back from user space as the kernel
 * sent them (the sender would show a port id other than 0), so a socket
 * with any is refused.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>

#include "kh.h"

/* the boolean options, bit i for kh_netlink_opts[i] */
const struct kh_sockopt kh_netlink_opts[KH_NL_NOPTS] = {
	{ SOL_NETLINK, NETLINK_PKTINFO }, { SOL_NETLINK, NETLINK_BROADCAST_ERROR },
	{ SOL_NETLINK, NETLINK_NO_ENOBUFS }, { SOL_NETLINK, NETLINK_LISTEN_ALL_NSID },
	{ SOL_NETLINK, NETLINK_CAP_ACK }, { SOL_NETLINK, NETLINK_EXT_ACK },
	{ SOL_NETLINK, NETLINK_GET_STRICT_CHK },
};

static const char *groups_of(int sk, struct kh_netlink *nl, int *err)
{
	uint32_t g[1024] = { 0 };
	socklen_t len = sizeof(g);
	size_t i;

	if (getsockopt(sk, SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, g, &len)) {
		*err = -errno;
		return NULL;
	}
	if (len > sizeof(g))
		return "netlink groups above 64 are not supported";
	for (i = 2; i < len / sizeof(g[0]); i++)
		if (g[i])
			return "netlink groups above 64 are not supported";
	nl->groups = g[0] | (uint64_t)g[1] << 32;
	return NULL;
}

const char *kh_netlink_read(int sk, struct kh_netlink *nl, int *err)
{
	struct sockaddr_nl me, peer;
	socklen_t l = sizeof(int), ml = sizeof(me), pl = sizeof(peer);
	char c;

	memset(nl, 0, sizeof(*nl));
	*err = 0;
	if (recv(sk, &c, 1, MSG_PEEK | MSG_DONTWAIT) >= 0)
		return "a netlink socket with messages queued is not supported";
	if (getsockopt(sk, SOL_SOCKET, SO_TYPE, &nl->type, &l) ||
	    getsockopt(sk, SOL_SOCKET, SO_PROTOCOL, &nl->protocol, &l) ||
	    getsockopt(sk, SOL_SOCKET, SO_SNDBUF, &nl->sndbuf, &l) ||
	    getsockopt(sk, SOL_SOCKET, SO_RCVBUF, &nl->rcvbuf, &l) ||
	    getsockname(sk, (struct sockaddr *)&me, &ml) ||
	    getpeername(sk, (struct sockaddr *)&peer, &pl)) {
		*err = -errno;
		return NULL;
	}
	nl->portid = me.nl_pid;
	nl->dst_portid = peer.nl_pid;
	nl->dst_group = peer.nl_groups;
	nl->flags = kh_sockopts_on(sk, kh_netlink_opts, KH_NL_NOPTS);
	return groups_of(sk, nl, err);
}
