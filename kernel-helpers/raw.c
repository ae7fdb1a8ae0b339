// SPDX-License-Identifier: MIT
/*
 * A raw inet socket (SOCK_RAW): its protocol, the address it is bound to
 * and the one it is connected to.  getpeername() says ENOTCONN for a
 * connected raw socket (its port stays 0), so both addresses, the state
 * and the bytes queued come from /proc/PID/net/raw{,6}, the holder's
 * network namespace's table.  Queued packets cannot be put back: sent
 * again, they would reach the protocol's own handler (an echo request
 * answered twice), so a socket with any is refused.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "kh.h"
#include "kh_packet.h"

bool kh_sock_is_raw(int sk)
{
	socklen_t l = sizeof(int);
	int type = 0;

	return !getsockopt(sk, SOL_SOCKET, SO_TYPE, &type, &l) &&
	       type == SOCK_RAW;
}

/* "0100007F" (v4) or 32 hex digits (v6, four native words) */
static int hex_addr(const char *hex, int family, unsigned port,
		    struct sockaddr_storage *ss)
{
	struct sockaddr_in *a4 = (void *)ss;
	struct sockaddr_in6 *a6 = (void *)ss;
	unsigned w[4];

	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		if (sscanf(hex, "%8x", &w[0]) != 1)
			return -EINVAL;
		a4->sin_family = AF_INET;
		a4->sin_addr.s_addr = w[0];
		a4->sin_port = htons(port);
		return 0;
	}
	if (sscanf(hex, "%8x%8x%8x%8x", &w[0], &w[1], &w[2], &w[3]) != 4)
		return -EINVAL;
	a6->sin6_family = AF_INET6;
	memcpy(&a6->sin6_addr, w, sizeof(w));
	a6->sin6_port = htons(port);
	return 0;
}

struct raw_line {
	char src[40], dst[40];
	unsigned sport, dport, state, rxq;
};

static int find_line(pid_t pid, int family, uint64_t ino, struct raw_line *l)
{
	char path[64], line[512];
	unsigned long i;
	FILE *f;
	int ret = -ENOENT;

	snprintf(path, sizeof(path), "/proc/%d/net/raw%s", kh_via(pid),
		 family == AF_INET6 ? "6" : "");
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (ret && fgets(line, sizeof(line), f))
		if (sscanf(line, " %*d: %39[0-9A-F]:%x %39[0-9A-F]:%x %x %*x:%x %*x:%*x %*x %*u %*d %lu",
			   l->src, &l->sport, l->dst, &l->dport, &l->state,
			   &l->rxq, &i) == 7 && i == ino)
			ret = 0;
	fclose(f);
	return ret;
}

int kh_unset_buffers(int domain, int type, int protocol, int *sndbuf,
		     int *rcvbuf)
{
	int fresh = socket(domain, type | SOCK_CLOEXEC, protocol);
	socklen_t l = sizeof(int);
	int snd = 0, rcv = 0;

	if (fresh < 0)
		return -errno;
	getsockopt(fresh, SOL_SOCKET, SO_SNDBUF, &snd, &l);
	getsockopt(fresh, SOL_SOCKET, SO_RCVBUF, &rcv, &l);
	close(fresh);
	if (*sndbuf == snd)
		*sndbuf = 0;
	if (*rcvbuf == rcv)
		*rcvbuf = 0;
	return 0;
}

const char *kh_raw_read(pid_t pid, int sk, uint64_t ino, struct kh_raw *r,
			int *err)
{
	socklen_t l = sizeof(int);
	struct raw_line rl;

	memset(r, 0, sizeof(*r));
	*err = 0;
	if (getsockopt(sk, SOL_SOCKET, SO_DOMAIN, &r->family, &l) ||
	    getsockopt(sk, SOL_SOCKET, SO_PROTOCOL, &r->protocol, &l) ||
	    getsockopt(sk, SOL_SOCKET, SO_SNDBUF, &r->sndbuf, &l) ||
	    getsockopt(sk, SOL_SOCKET, SO_RCVBUF, &r->rcvbuf, &l)) {
		*err = -errno;
		return NULL;
	}
	*err = find_line(pid, r->family, ino, &rl);
	if (*err == -ENOENT)
		return "a raw socket of another network namespace than its holder's is not supported";
	*err = *err ?: hex_addr(rl.src, r->family, rl.sport, &r->addr);
	*err = *err ?: hex_addr(rl.dst, r->family, rl.dport, &r->peer);
	*err = *err ?: kh_unset_buffers(r->family, SOCK_RAW, r->protocol,
					  &r->sndbuf, &r->rcvbuf);
	if (*err)
		return NULL;
	if (rl.rxq)
		return "a raw socket with packets queued is not supported yet";
	r->connected = rl.state == 1;	/* TCP_ESTABLISHED: connect()ed */
	return NULL;
}
