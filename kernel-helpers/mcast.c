// SPDX-License-Identifier: MIT
/*
 * The IPv4 multicast groups a socket has joined.  No interface lists a
 * socket's memberships, but MCAST_MSFILTER tells, for one group on one
 * device, whether the socket is a member (and with which source filter)
 * without changing anything: the candidates are the groups the socket's
 * network namespace has joined anywhere, from /proc/PID/net/igmp.  They
 * are added to the socket's options text as "ip_add_membership:IDX@ADDR"
 * items, which kh_sockopts_apply joins again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "crfs/format.h"
#include "kh.h"

/* is sk a member of group g on device idx?  1 yes, 0 no; why if filtered */
static int member(int sk, int idx, struct in_addr g, const char **why)
{
	struct group_filter gf = { .gf_interface = idx, .gf_numsrc = 0 };
	struct sockaddr_in *sin = (void *)&gf.gf_group;
	socklen_t l = sizeof(gf);

	sin->sin_family = AF_INET;
	sin->sin_addr = g;
	if (getsockopt(sk, IPPROTO_IP, MCAST_MSFILTER, &gf, &l))
		return 0;
	if (gf.gf_fmode != MCAST_EXCLUDE || gf.gf_numsrc)
		*why = "a multicast membership with a source filter (IP_ADD_SOURCE_MEMBERSHIP, MCAST_MSFILTER) is not supported";
	return 1;
}

/* appends one item per group sk has joined to *text (NULL: none yet) */
int kh_mcast_read(int sk, pid_t pid, char **text, const char **why)
{
	char path[64], line[256], ip[INET_ADDRSTRLEN];
	struct strbuf sb;
	struct in_addr g;
	unsigned hex;
	size_t len;
	FILE *f;
	int idx = 0, ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/net/igmp", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;	/* no IPv4 */
	sb_init(&sb);
	if (*text)
		ret = sb_printf(&sb, "%s", *text);
	while (!ret && fgets(line, sizeof(line), f)) {
		if (line[0] != '\t') {
			idx = atoi(line);	/* "1\tlo : ..."; 0 the header */
			continue;
		}
		/* the group as the u32 of its network-order bytes */
		if (!idx || sscanf(line, "%x", &hex) != 1)
			continue;
		g.s_addr = hex;
		if (!member(sk, idx, g, why))
			continue;
		inet_ntop(AF_INET, &g, ip, sizeof(ip));
		ret = sb_printf(&sb, "%sip_add_membership:%d@%s",
				sb.len ? "," : "", idx, ip);
	}
	fclose(f);
	if (ret || !sb.len) {
		sb_free(&sb);
		return ret;
	}
	free(*text);
	*text = sb_steal(&sb, &len);
	return 0;
}
