// SPDX-License-Identifier: MIT
/*
 * A TCP or UDP socket with no connection, again: its options, the address
 * and port it was bound to (free again once the killed process is gone),
 * listening with its backlog, or a UDP socket connected to its peer.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "kh.h"
#include "files.h"

/* the port f is bound to (network order), 0 if none */
static in_port_t bound_port(const struct crfs_file *f)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (!f->addr || kh_inet_addr_parse(f->addr, &ss, &len))
		return 0;
	/* sin6_port lies where sin_port does */
	return ((struct sockaddr_in *)&ss)->sin_port;
}

/*
 * A listener or datagram socket bound at port with SO_REUSEPORT off now,
 * where another socket of the image shares that port with it on (zdtm
 * socket-tcp-reuseport: both bound with it, then one turned it off): the
 * kernel lets them share the port only if both have it at bind, so this
 * one has it on until every file is made (inet_settle_reuseport).
 */
static bool reuseport_for_bind(const struct image *img,
			       const struct crfs_file *f, in_port_t port)
{
	size_t i;

	if (inet_reuseport(f) || !port || is_tcp_conn(f) || is_tcp_pending(f))
		return false;
	for (i = 0; i < img->nfiles; i++) {
		const struct crfs_file *g = &img->files[i];

		if (g != f && g->kind == FK_INET && inet_reuseport(g) &&
		    g->sock_type == f->sock_type && g->protocol == f->protocol &&
		    !is_tcp_conn(g) && bound_port(g) == port)
			return true;
	}
	return false;
}

void inet_settle_reuseport(struct open_ctx *c)
{
	const struct crfs_file *f;
	int off = 0;
	size_t i;

	for (i = 0; i < c->img->nfiles; i++) {
		f = &c->img->files[i];
		if (f->kind == FK_INET && !inet_reuseport(f) &&
		    reuseport_for_bind(c->img, f, bound_port(f)))
			setsockopt(slot(c->img, f->id), SOL_SOCKET,
				   SO_REUSEPORT, &off, sizeof(off));
	}
}

/*
 * An address its namespace did not have at the freeze (nonlocal): bound
 * with IP_FREEBIND on for that moment, then as it was (set before bind
 * from its options); any other must be there.
 */
static int bind_nonlocal(int sk, const struct crfs_file *f,
			 const struct sockaddr_storage *ss, socklen_t len)
{
	int lvl = ss->ss_family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP;
	int opt = ss->ss_family == AF_INET6 ? IPV6_FREEBIND : IP_FREEBIND;
	int one = 1, was = 0, ret;
	socklen_t l = sizeof(was);

	if (!f->nonlocal)
		return bind(sk, (const struct sockaddr *)ss, len);
	if (getsockopt(sk, lvl, opt, &was, &l) ||
	    setsockopt(sk, lvl, opt, &one, sizeof(one)))
		return -1;
	ret = bind(sk, (const struct sockaddr *)ss, len);
	if (setsockopt(sk, lvl, opt, &was, sizeof(was)))
		ret = -1;
	return ret;
}

/*
 * Bound with SO_REUSEADDR whatever it had: its own closed connections may
 * linger in TIME_WAIT on that port; then the option as it was.
 */
static int bind_to(struct open_ctx *c, int sk, const struct crfs_file *f)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, was = inet_reuseaddr(f);
	in_port_t port;

	if (kh_inet_addr_parse(f->addr, &ss, &len))
		return errno = EINVAL, -1;
	port = ((struct sockaddr_in *)&ss)->sin_port;
	if (!port)
		return 0;	/* never bound */
	if (setsockopt(sk, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    (reuseport_for_bind(c->img, f, port) &&
	     setsockopt(sk, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one))) ||
	    bind_nonlocal(sk, f, &ss, len))
		return -1;
	return setsockopt(sk, SOL_SOCKET, SO_REUSEADDR, &was, sizeof(was));
}

/* options, then bind (also for a client not yet accepted, tcp_pending.c):
 * -1 with errno for *step, or with *step NULL where c->err says why */
int inet_prepare(struct open_ctx *c, int sk, const struct crfs_file *f,
		 const char **step)
{
	*step = "set its options";
	if (set_sockopts(sk, kh_inet_opts, KH_INET_NOPTS, f->inopts))
		return -1;
	/* before bind: a device bound to, IP_FREEBIND, ... decide it */
	if (set_valued_sockopts(c, sk, f)) {
		*step = NULL;
		return -1;
	}
	*step = "bind";
	return bind_to(c, sk, f);
}

/* connect() to f->dst (also for raw sockets, raw.c) */
int inet_connect_dst(int sk, const struct crfs_file *f)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (kh_inet_addr_parse(f->dst, &ss, &len))
		return errno = EINVAL, -1;
	return connect(sk, (struct sockaddr *)&ss, len);
}

/*
 * A UDP socket shut down: again, after connect() (shutdown() of a
 * connected socket).  One never connected gets its bits set all the same
 * but the call says ENOTCONN.
 */
static int shut_again(int sk, uint32_t bits)
{
	if (!bits || !shutdown(sk, (int)(bits & 3) - 1) || errno == ENOTCONN)
		return 0;
	return -1;
}

int open_inet(struct open_ctx *c, const struct crfs_file *f)
{
	int fam = f->addr && f->addr[0] == '[' ? AF_INET6 : AF_INET;
	int type = f->sock_type == SOCK_T_STREAM ? SOCK_STREAM : SOCK_DGRAM;
	int sk = socket(fam, type | SOCK_CLOEXEC, f->protocol);
	const char *step = "socket";

	if (!f->addr)
		return FAIL(c, "file %u: inet socket without 'addr'", f->id);
	if (is_tcp_pending(f)) {
		close(sk);	/* once its listener is back (tcp_pending.c) */
		return 0;
	}
	if (is_tcp_conn(f)) {
		close(sk);
		return open_tcp(c, f);
	}
	if (sk < 0)
		goto fail;
	if (inet_prepare(c, sk, f, &step) && step)
		goto fail;
	if (!step) {
		close(sk);
		return -EINVAL;
	}
	/* queued datagrams, before connect() would turn others' away */
	if (type == SOCK_DGRAM && f->nmsgs && udpq_refill(c, sk, f)) {
		close(sk);
		return -EINVAL;
	}
	step = "listen";
	if (f->backlog >= 0 && listen(sk, f->backlog))
		goto fail;
	step = "connect";
	if (f->dst && inet_connect_dst(sk, f))
		goto fail;
	step = "shut it down";
	if (type == SOCK_DGRAM && shut_again(sk, f->shutdown))
		goto fail;
	step = "set its buffer sizes and flags";
	if (set_buffers(sk, f) || fcntl(sk, F_SETFL, f->flags))
		goto fail;
	return place(c, f, sk);
fail:
	if (sk >= 0)
		close(sk);
	return FAIL(c, "file %u (%s %s): %s: %s", f->id,
		    type == SOCK_STREAM ? "TCP" :
		    f->protocol == IPPROTO_UDPLITE ? "UDP-Lite" :
		    f->protocol == IPPROTO_UDP ? "UDP" : "ICMP (ping)",
		    f->addr, step, strerror(errno));
}
