// SPDX-License-Identifier: MIT
/*
 * The datagrams queued on a UDP or UDP-Lite socket: payloads end to end
 * in fdata/ID, one line each in fdata/ID.dgrams (length, sender,
 * destination, TTL, TOS).  Peeked, so a thawed container reads them as
 * if nothing happened.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "files.h"
#include "kh_packet.h"

static int dgram_lines(struct files_ctx *c, uint32_t id,
		       const struct kh_dgram *d, size_t n)
{
	struct strbuf sb;
	char line[256];
	size_t i, len;
	char *text;
	int ret = 0;

	sb_init(&sb);
	for (i = 0; !ret && i < n; i++) {
		kh_dgram_str(&d[i], line, sizeof(line));
		ret = sb_printf(&sb, "%s\n", line);
	}
	if (ret) {
		sb_free(&sb);
		return ret;
	}
	text = sb_steal(&sb, &len);
	return files_add_fdata(c, id, ".dgrams", text, len);
}

static const char *port_of(const char *addr)
{
	const char *colon = addr ? strrchr(addr, ':') : NULL;

	return colon ? colon + 1 : "";
}

/*
 * Sent again, a datagram goes to whichever socket the kernel picks for
 * its destination: with two of ours on one port (SO_REUSEADDR or
 * SO_REUSEPORT) it could land in the other one's queue.
 */
static bool port_shared(const struct files_ctx *c, const struct crfs_file *cf)
{
	const struct crfs_file *o;
	size_t i;

	for (i = 0; i < c->nfiles; i++) {
		o = &c->files[i];
		if (o != cf && !c->bad[i] && o->kind == FK_INET &&
		    o->sock_type == SOCK_T_DGRAM &&
		    o->protocol == cf->protocol &&
		    !strcmp(port_of(o->addr), port_of(cf->addr)))
			return true;
	}
	return false;
}

/* classify saw something queued (nmsgs 1); now the whole queue */
int files_capture_udpq(struct files_ctx *c, uint32_t id)
{
	const struct kh_fd *f = &c->s->fds[c->rep[id - 1]];
	struct crfs_file *cf = &c->files[id - 1];
	const char *why = NULL;
	struct kh_dgram *d = NULL;
	size_t n = 0, len = 0;
	char *data = NULL;
	int sk, ret;

	/* the filter passed them once; restore sends them again, through it */
	if (cf->sockopts && strstr(cf->sockopts, "filter:"))
		why = "a UDP socket with a socket filter and datagrams queued is not supported";
	else if (port_shared(c, cf))
		why = "a UDP socket with datagrams queued whose port another UDP socket of the container is bound to too is not supported";
	sk = why ? -EBADF : kh_steal_fd(f->pid, f->fd);
	if (sk < 0 && !why)
		return sk;
	ret = why ? 0 : kh_udpq_peek(sk, &d, &n, &data, &len, &why);
	if (sk >= 0)
		close(sk);
	if (ret || why) {
		c->bad[id - 1] = !!why;
		if (why)
			files_report(c, f, why);
		return ret;
	}
	cf->nmsgs = n;
	cf->data = len;
	ret = dgram_lines(c, id, d, n);
	free(d);
	if (!ret && len)
		return files_add_fdata(c, id, "", data, len);
	free(data);
	return ret;
}
