// SPDX-License-Identifier: MIT
/*
 * A packet socket again: same type and protocol, its options (version,
 * auxdata, ... and filter: its queue was empty), bound to its interface
 * by name in the restored tree's network namespace, its memberships
 * added as often as they were (the kernel counts them), and its fanout
 * group joined last (a group takes only running, bound sockets).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/if_packet.h>

#include "kh.h"
#include "files.h"

static int bind_if(struct open_ctx *c, int sk, const struct crfs_file *f)
{
	struct sockaddr_ll me = { .sll_family = AF_PACKET,
				  .sll_protocol = f->bound_proto };

	if (!f->ifname && f->bound_proto == f->protocol)
		return 0;
	if (f->ifname && !(me.sll_ifindex = if_nametoindex(f->ifname)))
		return FAIL(c, "file %u (packet socket): interface %s is not on this host",
			    f->id, f->ifname);
	if (bind(sk, (struct sockaddr *)&me, sizeof(me)))
		return FAIL(c, "file %u (packet socket on %s): bind: %s", f->id,
			    f->ifname ?: "every interface", strerror(errno));
	return 0;
}

/* one "IFNAME/TYPE/COUNT/HEX" of mclist */
static int add_membership(struct open_ctx *c, int sk,
			  const struct crfs_file *f, const char *m)
{
	char name[IF_NAMESIZE], hex[80];
	struct packet_mreq mr = { 0 };
	unsigned type, count, i, b;

	if (sscanf(m, "%15[^/]/%u/%u/%79[0-9a-f-]", name, &type, &count,
		   hex) != 4 || (strcmp(hex, "-") && strlen(hex) % 2) ||
	    strlen(hex) / 2 > sizeof(mr.mr_address))
		return FAIL(c, "file %u (packet socket): bad membership '%s'",
			    f->id, m);
	mr.mr_ifindex = if_nametoindex(name);
	if (!mr.mr_ifindex)
		return FAIL(c, "file %u (packet socket): interface %s of a membership is not on this host",
			    f->id, name);
	mr.mr_type = type;
	for (i = 0; strcmp(hex, "-") && i < strlen(hex) / 2; i++) {
		sscanf(hex + 2 * i, "%2x", &b);
		mr.mr_address[mr.mr_alen++] = b;
	}
	for (i = 0; i < count; i++)
		if (setsockopt(sk, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr,
			       sizeof(mr)))
			return FAIL(c, "file %u (packet socket): membership %s: %s",
				    f->id, m, strerror(errno));
	return 0;
}

/*
 * The kernel puts a new membership first and the diag lists them from
 * there: added from the last, they come back in the listed order.
 */
static int memberships(struct open_ctx *c, int sk, const struct crfs_file *f)
{
	char *copy, *m;
	int ret = 0;

	if (!f->mclist)
		return 0;
	copy = strdup(f->mclist);
	if (!copy)
		return -ENOMEM;
	while (!ret && (m = strrchr(copy, ';'))) {
		*m = '\0';
		ret = add_membership(c, sk, f, m + 1);
	}
	ret = ret ?: add_membership(c, sk, f, copy);
	free(copy);
	return ret;
}

int open_packet(struct open_ctx *c, const struct crfs_file *f)
{
	int type = f->sock_type == SOCK_T_DGRAM ? SOCK_DGRAM : SOCK_RAW;
	int sk = socket(AF_PACKET, type | SOCK_CLOEXEC, f->protocol);
	int ret;

	if (sk < 0)
		return FAIL(c, "file %u (packet socket, protocol 0x%04x): socket: %s",
			    f->id, f->protocol, strerror(errno));
	ret = set_valued_sockopts(c, sk, f);
	ret = ret ?: packet_rings_set(c, sk, f);
	ret = ret ?: bind_if(c, sk, f);
	ret = ret ?: memberships(c, sk, f);
	if (!ret && f->fanout &&
	    setsockopt(sk, SOL_PACKET, PACKET_FANOUT, &f->fanout,
		       sizeof(f->fanout)))
		ret = FAIL(c, "file %u (packet socket): join fanout group %u: %s",
			   f->id, f->fanout & 0xffff, strerror(errno));
	if (!ret && (set_buffers(sk, f) || fcntl(sk, F_SETFL, f->flags)))
		ret = FAIL(c, "file %u (packet socket): set its buffer sizes and flags: %s",
			   f->id, strerror(errno));
	if (ret) {
		close(sk);
		return ret;
	}
	return place(c, f, sk);
}
