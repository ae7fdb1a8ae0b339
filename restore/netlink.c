// SPDX-License-Identifier: MIT
/*
 * A netlink socket again: same protocol and type, bound to the port id it
 * had (the killed process's is free again), the same groups joined, the
 * same peer, options and buffer sizes.  Its queue was empty (checkpoint
 * refuses otherwise).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/netlink.h>

#include "kh.h"
#include "files.h"

static int join(int sk, const struct crfs_file *f)
{
	int g;

	for (g = 1; g <= 64; g++)
		if ((f->groups >> (g - 1) & 1) &&
		    setsockopt(sk, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g,
			       sizeof(g)))
			return -1;
	return set_sockopts(sk, kh_netlink_opts, KH_NL_NOPTS, f->nlflags);
}

int open_netlink(struct open_ctx *c, const struct crfs_file *f)
{
	struct sockaddr_nl me = { .nl_family = AF_NETLINK, .nl_pid = f->portid };
	struct sockaddr_nl to = { .nl_family = AF_NETLINK,
				  .nl_pid = f->dst_portid,
				  .nl_groups = f->dst_group };
	int type = f->sock_type == SOCK_T_DGRAM ? SOCK_DGRAM : SOCK_RAW;
	int sk = socket(AF_NETLINK, type | SOCK_CLOEXEC, f->protocol);
	const char *step = "socket";

	if (sk < 0)
		goto fail;
	step = "bind to its port id";
	if (f->portid && bind(sk, (struct sockaddr *)&me, sizeof(me)))
		goto fail;
	step = "join its groups and set its options";
	if (join(sk, f))
		goto fail;
	step = "connect";
	if ((f->dst_portid || f->dst_group) &&
	    connect(sk, (struct sockaddr *)&to, sizeof(to)))
		goto fail;
	step = "set its buffer sizes and flags";
	if (set_buffers(sk, f) || fcntl(sk, F_SETFL, f->flags))
		goto fail;
	if (set_valued_sockopts(c, sk, f)) {	/* a filter (udev's), ... */
		close(sk);
		return -EINVAL;
	}
	return place(c, f, sk);
fail:
	if (sk >= 0)
		close(sk);
	return FAIL(c, "file %u (netlink protocol %d, port id %u): %s: %s",
		    f->id, f->protocol, f->portid, step, strerror(errno));
}
