// SPDX-License-Identifier: MIT
/*
 * A raw inet socket: protocol, bound and connected addresses, buffer
 * sizes, valued options (IP_HDRINCL, ICMP_FILTER, IP_TTL, ...) and a
 * classic filter.  Its queue must be empty (kh_raw_read).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "files.h"
#include "kh_packet.h"

static char *addr_text(const struct sockaddr_storage *ss)
{
	char buf[80];

	kh_inet_addr_str(ss, buf, sizeof(buf));
	return strdup(buf);
}

const char *files_classify_raw(const struct kh_fd *f, int sk,
			       struct crfs_file *cf, int *err)
{
	const char *why;
	struct kh_raw r;

	why = kh_raw_read(f->pid, sk, f->st.st_ino, &r, err);
	if (why || *err)
		return why;
	*err = kh_sockopts_read(sk, &cf->sockopts, &why);
	if (!why && !*err)	/* a raw socket joins groups as UDP does */
		*err = kh_mcast_read(sk, r.addr.ss_family, f->pid,
				     &cf->sockopts, &why);
	if (why || *err)
		return why;
	cf->kind = FK_RAW;
	cf->sock_type = SOCK_T_RAW;
	cf->protocol = r.protocol;
	cf->sndbuf = r.sndbuf;
	cf->rcvbuf = r.rcvbuf;
	cf->addr = addr_text(&r.addr);
	cf->dst = r.connected ? addr_text(&r.peer) : NULL;
	if (!cf->addr || (r.connected && !cf->dst))
		*err = -ENOMEM;
	return NULL;
}
