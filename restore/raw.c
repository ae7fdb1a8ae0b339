// SPDX-License-Identifier: MIT
/*
 * A raw inet socket again: same family and protocol, its options (set
 * before bind, as an inet socket's), bound to its address if it was, and
 * connected to its peer.  Its queue was empty (checkpoint refuses
 * otherwise).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "kh.h"
#include "files.h"

/* the any address needs no bind: a raw socket has no port to hold */
static bool is_any(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in6 *a6 = (const void *)ss;

	if (ss->ss_family == AF_INET)
		return !((const struct sockaddr_in *)ss)->sin_addr.s_addr;
	return IN6_IS_ADDR_UNSPECIFIED(&a6->sin6_addr);
}

static int bind_connect(int sk, const struct crfs_file *f, const char **step)
{
	struct sockaddr_storage ss;
	socklen_t len;

	*step = "read its addresses";
	if (kh_inet_addr_parse(f->addr, &ss, &len))
		return errno = EINVAL, -1;
	*step = "bind";
	if (!is_any(&ss) && bind(sk, (struct sockaddr *)&ss, len))
		return -1;
	if (!f->dst)
		return 0;
	*step = "connect";
	return inet_connect_dst(sk, f);
}

int open_raw(struct open_ctx *c, const struct crfs_file *f)
{
	int fam = f->addr && f->addr[0] == '[' ? AF_INET6 : AF_INET;
	int sk = socket(fam, SOCK_RAW | SOCK_CLOEXEC, f->protocol);
	const char *step = "socket";

	if (!f->addr)
		return FAIL(c, "file %u: raw socket without 'addr'", f->id);
	if (sk < 0)
		goto fail;
	if (set_valued_sockopts(c, sk, f)) {
		close(sk);
		return -EINVAL;
	}
	if (bind_connect(sk, f, &step))
		goto fail;
	step = "set its buffer sizes and flags";
	if (set_buffers(sk, f) || fcntl(sk, F_SETFL, f->flags))
		goto fail;
	return place(c, f, sk);
fail:
	if (sk >= 0)
		close(sk);
	return FAIL(c, "file %u (raw socket, protocol %d, %s): %s: %s", f->id,
		    f->protocol, f->addr, step, strerror(errno));
}
