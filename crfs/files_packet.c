// SPDX-License-Identifier: MIT
/*
 * A packet socket: type, protocol, the interface it is bound to (by
 * name), memberships, fanout group, valued options (PACKET_VERSION,
 * PACKET_AUXDATA, ..., as sockopts) and a classic filter.  Its queue
 * must be empty and it must have no ring (kh_packet_read).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "kh_packet.h"

const char *files_classify_packet(const struct kh_fd *f, int sk,
				  struct crfs_file *cf, int *err)
{
	struct kh_packet p;
	const char *why;

	why = kh_packet_read(f->pid, sk, f->st.st_ino, &p, err);
	if (!why && !*err)
		*err = kh_sockopts_read(sk, &cf->sockopts, &why);
	if (why || *err) {
		free(p.mclist);
		return why;
	}
	cf->kind = FK_PACKET;
	cf->sock_type = p.type == SOCK_DGRAM ? SOCK_T_DGRAM : SOCK_T_RAW;
	cf->protocol = p.protocol;
	cf->bound_proto = p.bound_proto;
	cf->fanout = p.fanout;
	cf->mclist = p.mclist;
	cf->sndbuf = p.sndbuf;
	cf->rcvbuf = p.rcvbuf;
	if (p.ifname[0] && !(cf->ifname = strdup(p.ifname)))
		*err = -ENOMEM;
	return NULL;
}
