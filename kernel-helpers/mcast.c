// SPDX-License-Identifier: MIT
/*
 * The multicast groups a UDP socket has joined.  No interface lists a
 * socket's memberships, but MCAST_MSFILTER tells, for one group on one
 * device, whether the socket is a member (and with which source filter)
 * without changing anything: the candidates are the groups the socket's
 * network namespace has joined anywhere, from /proc/PID/net/igmp (IPv4)
 * or igmp6.  They are added to the socket's options text as
 * "ip_add_membership:IDX@ADDR" or "ipv6_join_group:IDX@ADDR" items, which
 * kh_sockopts_apply joins again.
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

/* is sk a member of group g (an in_addr or in6_addr) on device idx?
 * 1 yes, 0 no; why if it filters sources */
static int member(int sk, int family, int idx, const void *g, const char **why)
{
	struct group_filter gf = { .gf_interface = idx, .gf_numsrc = 0 };
	struct sockaddr_in *sin = (void *)&gf.gf_group;
	struct sockaddr_in6 *sin6 = (void *)&gf.gf_group;
	socklen_t l = sizeof(gf);

	gf.gf_group.ss_family = family;
	if (family == AF_INET)
		memcpy(&sin->sin_addr, g, sizeof(sin->sin_addr));
	else
		memcpy(&sin6->sin6_addr, g, sizeof(sin6->sin6_addr));
	if (getsockopt(sk, family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
		       MCAST_MSFILTER, &gf, &l))
		return 0;
	if (gf.gf_fmode != MCAST_EXCLUDE || gf.gf_numsrc)
		*why = "a multicast membership with a source filter (IP_ADD_SOURCE_MEMBERSHIP, MCAST_MSFILTER) is not supported";
	return 1;
}

/* a group of one line of igmp6 ("1 lo ff02...0001 1 0000000C 0") */
static int igmp6_line(const char *line, int *idx, struct in6_addr *g)
{
	char hex[33];
	unsigned x;
	int i;

	if (sscanf(line, "%d %*s %32s", idx, hex) != 2 || strlen(hex) != 32)
		return -EINVAL;
	for (i = 0; i < 16; i++) {
		if (sscanf(hex + 2 * i, "%2x", &x) != 1)
			return -EINVAL;
		g->s6_addr[i] = x;
	}
	return 0;
}

/* a group of igmp, whose device lines ("1\tlo : ...") come first;
 * the group is the u32 of its network-order bytes */
static int igmp_line(const char *line, int *idx, struct in_addr *g)
{
	unsigned hex;

	if (line[0] != '\t') {
		*idx = atoi(line);	/* 0: the header */
		return -EINVAL;
	}
	if (!*idx || sscanf(line, "%x", &hex) != 1)
		return -EINVAL;
	g->s_addr = hex;
	return 0;
}

static int scan(int sk, int family, FILE *f, struct strbuf *sb,
		const char **why)
{
	char line[256], ip[INET6_ADDRSTRLEN];
	union { struct in_addr a4; struct in6_addr a6; } g;
	int idx = 0, ret = 0;

	while (!ret && fgets(line, sizeof(line), f)) {
		if (family == AF_INET ? igmp_line(line, &idx, &g.a4) :
					igmp6_line(line, &idx, &g.a6))
			continue;
		if (!member(sk, family, idx, &g, why))
			continue;
		inet_ntop(family, &g, ip, sizeof(ip));
		ret = sb_printf(sb, "%s%s:%d@%s", sb->len ? "," : "",
				family == AF_INET ? "ip_add_membership" :
						    "ipv6_join_group", idx, ip);
	}
	return ret;
}

/* appends one item per group sk has joined to *text (NULL: none yet) */
int kh_mcast_read(int sk, int family, pid_t pid, char **text, const char **why)
{
	char path[64];
	struct strbuf sb;
	size_t len;
	FILE *f;
	int ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/net/%s", (int)pid,
		 family == AF_INET ? "igmp" : "igmp6");
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;	/* no such protocol */
	sb_init(&sb);
	if (*text)
		ret = sb_printf(&sb, "%s", *text);
	ret = ret ?: scan(sk, family, f, &sb, why);
	fclose(f);
	if (ret || !sb.len) {
		sb_free(&sb);
		return ret;
	}
	free(*text);
	*text = sb_steal(&sb, &len);
	return 0;
}
