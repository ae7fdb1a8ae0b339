// SPDX-License-Identifier: MIT
/*
 * An established TCP connection again: a new socket in repair mode gets
 * the saved addresses, sequence numbers, negotiated options, queues and
 * window (kh_tcp_restore), then leaves repair mode.  Its packets are still
 * dropped (the lock crfs took at freeze) until the whole tree is back:
 * tcp_unlock lifts it (restore_finish, just before the tasks are let go),
 * so a restore that fails sends the peer nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "kh.h"
#include "files.h"
#include "crfs/tcp.h"

bool is_tcp_conn(const struct crfs_file *f)
{
	return f->kind == FK_INET && f->sock_type == SOCK_T_STREAM && f->dst &&
	       !f->pending;
}

/* fdata/ID.tcp and the queues, their lengths as it says */
static int load(struct open_ctx *c, const struct crfs_file *f,
		struct crfs_tcp *t, char **sndq, char **rcvq)
{
	struct crfs_text txt;
	char *buf, name[64];
	size_t len, sl = 0, rl = 0;
	int ret;

	*sndq = *rcvq = NULL;
	ret = read_fdata(c, f, CRFS_TCP_SUFFIX, &buf, &len);
	if (ret)
		return ret;
	snprintf(name, sizeof(name), "%s/%u%s", CRFS_D_FDATA, f->id,
		 CRFS_TCP_SUFFIX);
	text_init(&txt, name, buf, len, c->err, c->errlen);
	ret = parse_tcp(&txt, t);
	free(buf);
	if (ret)
		return ret;
	if (t->sndq)
		ret = read_fdata(c, f, CRFS_SNDQ_SUFFIX, sndq, &sl);
	if (!ret && t->rcvq)
		ret = read_fdata(c, f, CRFS_RCVQ_SUFFIX, rcvq, &rl);
	if (!ret && (sl != t->sndq || rl != t->rcvq || t->unsent > t->sndq))
		ret = FAIL(c, "%s: its queues are not as long as it says", name);
	if (ret) {
		free(*sndq);
		free(*rcvq);
	}
	return ret;
}

static int rebuild(struct open_ctx *c, const struct crfs_file *f, int sk,
		   const struct crfs_tcp *t, const char *sndq, const char *rcvq)
{
	const char *step = "read its addresses";
	struct kh_tcp_conn conn;
	socklen_t len;
	int ret = -EINVAL, reuse = inet_reuseaddr(f);

	if (kh_inet_addr_parse(f->addr, &conn.local, &len) ||
	    kh_inet_addr_parse(f->dst, &conn.peer, &len) ||
	    conn.local.ss_family != conn.peer.ss_family)
		goto fail;
	step = "set its options";
	ret = set_sockopts(sk, kh_inet_opts, KH_INET_NOPTS, f->inopts);
	if (ret)
		goto fail;
	if (set_valued_sockopts(c, sk, f))
		return -EINVAL;
	/* after SO_REUSEADDR: repair mode forces the reuse of the port */
	step = "turn repair mode on";
	ret = kh_tcp_repair(sk, true);
	if (ret)
		goto fail;
	ret = kh_tcp_restore(sk, t, sndq, rcvq, &conn, &step);
	if (ret)
		goto fail;
	step = "set its buffer sizes and flags";
	if (set_buffers(sk, f) || fcntl(sk, F_SETFL, f->flags)) {
		ret = -errno;
		goto fail;
	}
	/* SO_REUSEADDR as it was (repair mode off clears it): a listener of
	 * the same port may bind after us (zdtm socket-tcp) */
	step = "turn repair mode off";
	ret = kh_tcp_repair_off(sk, reuse);
	if (!ret)
		return 0;
fail:
	return FAIL(c, "file %u (TCP connection %s to %s): %s: %s", f->id,
		    f->addr, f->dst, step, strerror(-ret));
}

int open_tcp(struct open_ctx *c, const struct crfs_file *f)
{
	int fam = f->addr[0] == '[' ? AF_INET6 : AF_INET;
	char *sndq, *rcvq;
	struct crfs_tcp t;
	int sk, ret;

	ret = load(c, f, &t, &sndq, &rcvq);
	if (ret)
		return ret;
	sk = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
	if (sk < 0)
		ret = FAIL(c, "file %u (TCP connection %s to %s): socket: %s",
			   f->id, f->addr, f->dst, strerror(errno));
	else
		ret = rebuild(c, f, sk, &t, sndq, rcvq);
	free(sndq);
	free(rcvq);
	if (ret) {
		/* still in repair mode, or its RST is dropped: silent */
		if (sk >= 0)
			close(sk);
		return ret;
	}
	return place(c, f, sk);
}

/* the image's connections, n of them */
static struct kh_tcp_conn *conns(const struct image *img, size_t *n)
{
	struct kh_tcp_conn *conn = calloc(img->nfiles + 1, sizeof(*conn));
	socklen_t len;
	size_t i;

	*n = 0;
	for (i = 0; conn && i < img->nfiles; i++)
		if (is_tcp_conn(&img->files[i]) &&
		    !kh_inet_addr_parse(img->files[i].addr, &conn[*n].local, &len) &&
		    !kh_inet_addr_parse(img->files[i].dst, &conn[*n].peer, &len))
			(*n)++;
	return conn;
}

/*
 * Before any connection is made: its packets are dropped (the lock crfs
 * took is there already on the same host; a new network namespace, or
 * another host, has none), so that nothing reaches the peer before the
 * whole tree is back, nor if the restore fails.
 */
int tcp_lock(const struct image *img, char *err, size_t errlen)
{
	size_t n;
	struct kh_tcp_conn *conn = conns(img, &n);
	int ret = conn ? kh_tcp_lock(conn, n, true) : -ENOMEM;

	free(conn);
	if (ret)
		snprintf(err, errlen, "cannot drop the packets of the image's TCP connections with nftables (netlink transaction to table inet crfs_tcp_lock): %s",
			 strerror(-ret));
	return ret;
}

/* the tree is back: its connections' packets pass again */
void tcp_unlock(const struct image *img)
{
	size_t n;
	struct kh_tcp_conn *conn = conns(img, &n);
	int ret = conn ? kh_tcp_lock(conn, n, false) : -ENOMEM;

	if (ret)
		fprintf(stderr, "crfs-restore: warning: cannot let the TCP connections' packets pass again (nf_tables table inet crfs_tcp_lock): %s\n",
			strerror(-ret));
	free(conn);
}
