// SPDX-License-Identifier: MIT
/*
 * An established TCP connection at freeze: its packets are dropped both
 * ways (kh_tcp_lock), then its socket goes into repair mode and is read
 * (fdata/ID.tcp, .sndq, .rcvq).  It stays in repair mode, and locked,
 * while the container is frozen, through our own copy of the socket:
 * a thaw turns repair off and lifts the lock; a kill closes the sockets
 * in repair mode, silently, and leaves the lock for crfs-restore to lift
 * once the connection is back.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/tcp.h>

#include "files.h"
#include "crfs/array.h"
#include "crfs/tcp.h"

struct tcp_hold {
	int fd;			/* our copy, in repair mode */
	struct kh_tcp_conn conn;
};

static int hold(struct snapshot *s, int sk, const struct kh_tcp_conn *conn)
{
	struct tcp_hold *h = array_room(s->tcp, s->ntcp, sizeof(*h));
	int fd;

	if (!h)
		return -ENOMEM;
	s->tcp = h;
	fd = fcntl(sk, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	s->tcp[s->ntcp++] = (struct tcp_hold){ fd, *conn };
	return 0;
}

static int add_queue(struct files_ctx *c, uint32_t id, const char *suffix,
		     char *buf, unsigned len)
{
	if (len)
		return files_add_fdata(c, id, suffix, buf, len);
	free(buf);
	return 0;
}

/* fdata/ID.tcp and the queues; the socket is in repair mode */
static int save(struct files_ctx *c, int sk, struct crfs_file *cf,
		struct crfs_tcp *t)
{
	char *sndq, *rcvq, *text;
	struct strbuf sb;
	size_t len;
	int ret;

	ret = kh_tcp_save(sk, t, &sndq, &rcvq);
	if (ret)
		return ret;
	sb_init(&sb);
	ret = render_tcp(&sb, t);
	text = sb_steal(&sb, &len);
	if (ret) {
		free(text);
		free(sndq);
		free(rcvq);
		return ret;
	}
	/* each call takes its buffer, also when it fails */
	ret = files_add_fdata(c, cf->id, CRFS_TCP_SUFFIX, text, len);
	ret = add_queue(c, cf->id, CRFS_SNDQ_SUFFIX, sndq, t->sndq) ?: ret;
	return add_queue(c, cf->id, CRFS_RCVQ_SUFFIX, rcvq, t->rcvq) ?: ret;
}

/*
 * TCP_MAXSEG of a connection is what it sends now (bounded by the peer's
 * window too), not what the program asked for: the MSS it negotiated is
 * saved in .tcp (mss) and set by TCP_REPAIR_OPTIONS instead.
 */
static void drop_maxseg(char **text)
{
	char *opts = *text, *p = opts ? strstr(opts, "tcp_maxseg:") : NULL;
	size_t n;

	if (!p || (p != opts && p[-1] != ','))
		return;
	n = strcspn(p, ",");
	memmove(p, p + n + (p[n] == ','), strlen(p + n + (p[n] == ',')) + 1);
	n = strlen(opts);
	if (n && opts[n - 1] == ',')
		opts[n - 1] = '\0';
	if (!*opts) {
		free(opts);
		*text = NULL;
	}
}

const char *files_capture_tcp(struct files_ctx *c, int sk,
			      struct crfs_file *cf, const struct kh_inet *in,
			      int *err)
{
	struct kh_tcp_conn conn = { in->addr, in->peer };
	struct crfs_tcp t = { .state = in->tcp_state };
	int sh, ours = kh_sock_netns_is_ours(sk);

	if (ours < 0) {
		*err = ours;
		return NULL;
	}
	if (!ours)
		return "a TCP connection in a network namespace other than crfs's is not supported yet";
	drop_maxseg(&cf->sockopts);
	if (kh_tcp_lock(&conn, 1, true))
		return "cannot drop the TCP connection's packets with nftables (is nft installed?)";
	sh = kh_tcp_shutdown_bits(&in->addr, &in->peer);
	*err = sh < 0 ? sh : 0;
	/* a FIN received shuts it too: that is the state's, not SHUT_RD */
	t.shut_rd = sh & 1 && t.state != TCP_CLOSE_WAIT &&
		    t.state != TCP_LAST_ACK && t.state != TCP_CLOSING;
	*err = *err ?: save(c, sk, cf, &t);
	*err = *err ?: hold(c->s, sk, &conn);
	if (!*err)
		return NULL;
	kh_tcp_repair(sk, false);
	kh_tcp_lock(&conn, 1, false);
	if (*err == -EAGAIN) {
		*err = 0;
		return "the TCP connection changed state while it was saved";
	}
	return NULL;
}

/* thaw, or a freeze that failed: every connection goes on */
void tcp_resume(struct snapshot *s)
{
	struct kh_tcp_conn *conn = calloc(s->ntcp + 1, sizeof(*conn));
	size_t i;

	for (i = 0; i < s->ntcp; i++) {
		kh_tcp_repair(s->tcp[i].fd, false);
		close(s->tcp[i].fd);
		if (conn)
			conn[i] = s->tcp[i].conn;
	}
	if (conn)
		kh_tcp_lock(conn, s->ntcp, false);
	free(conn);
	free(s->tcp);
	s->tcp = NULL;
	s->ntcp = 0;
}

/* kill: closed in repair mode (silently); the lock stays for restore */
void tcp_drop(struct snapshot *s)
{
	size_t i;

	for (i = 0; i < s->ntcp; i++)
		close(s->tcp[i].fd);
	free(s->tcp);
	s->tcp = NULL;
	s->ntcp = 0;
}
