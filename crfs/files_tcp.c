// SPDX-License-Identifier: MIT
/*
 * An established TCP connection at freeze: its packets are dropped both
 * ways (kh_tcp_lock, in the socket's network namespace: ours, or the
 * tree's own), then its socket goes into repair mode and is read
 * (fdata/ID.tcp, .sndq, .rcvq).  It stays in repair mode, and locked,
 * while the container is frozen, through our own copy of the socket:
 * a thaw turns repair off and lifts the lock; a kill closes the sockets
 * in repair mode, silently, and leaves the lock for crfs-restore to lift
 * once the connection is back.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/tcp.h>

#include "files.h"
#include "kh_ns.h"
#include "crfs/array.h"
#include "crfs/tcp.h"

struct tcp_hold {
	int fd;			/* our copy, in repair mode */
	pid_t ns_pid;		/* a holder whose network namespace it is
				 * in, 0: ours */
	struct kh_tcp_conn conn;
};

/*
 * The lock and sock_diag work in the caller's network namespace: for a
 * tree in one of its own, on a thread that joins its holder's.
 */
struct net_call {
	struct kh_tcp_conn *conn;
	size_t n;
	bool lock;
	int shut;
};

static int lock_fn(void *arg)
{
	struct net_call *nc = arg;

	return kh_tcp_lock(nc->conn, nc->n, nc->lock);
}

static int shut_fn(void *arg)
{
	struct net_call *nc = arg;

	nc->shut = kh_tcp_shutdown_bits(&nc->conn->local, &nc->conn->peer);
	return 0;
}

static int in_net(pid_t pid, int (*fn)(void *), void *arg)
{
	return pid ? kh_in_ns(pid, "net", CLONE_NEWNET, fn, arg) : fn(arg);
}

static int lock(pid_t ns_pid, struct kh_tcp_conn *conn, size_t n, bool on)
{
	struct net_call nc = { conn, n, on, 0 };

	return in_net(ns_pid, lock_fn, &nc);
}

static int hold(struct snapshot *s, int sk, pid_t ns_pid,
		const struct kh_tcp_conn *conn)
{
	struct tcp_hold *h = array_room(s->tcp, s->ntcp, sizeof(*h));
	int fd;

	if (!h)
		return -ENOMEM;
	s->tcp = h;
	fd = fcntl(sk, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	s->tcp[s->ntcp++] = (struct tcp_hold){ fd, ns_pid, *conn };
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

const char *files_capture_tcp(struct files_ctx *c, pid_t holder, int sk,
			      struct crfs_file *cf, const struct kh_inet *in,
			      int *err)
{
	struct kh_tcp_conn conn = { in->addr, in->peer };
	struct net_call nc = { &conn, 1, true, 0 };
	struct crfs_tcp t = { .state = in->tcp_state };
	int ours = kh_sock_netns_is_ours(sk);
	pid_t ns_pid = ours ? 0 : holder;

	if (ours < 0) {
		*err = ours;
		return NULL;
	}
	drop_maxseg(&cf->sockopts);
	if (lock(ns_pid, &conn, 1, true))
		return "cannot drop the TCP connection's packets with nftables (is nft installed?)";
	*err = in_net(ns_pid, shut_fn, &nc);
	*err = *err ?: nc.shut < 0 ? nc.shut : 0;
	/* a FIN received shuts it too: that is the state's, not SHUT_RD */
	t.shut_rd = nc.shut & 1 && t.state != TCP_CLOSE_WAIT &&
		    t.state != TCP_LAST_ACK && t.state != TCP_CLOSING;
	*err = *err ?: save(c, sk, cf, &t);
	*err = *err ?: hold(c->s, sk, ns_pid, &conn);
	if (!*err)
		return NULL;
	kh_tcp_repair(sk, false);
	lock(ns_pid, &conn, 1, false);
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
	size_t i, n = 0;

	for (i = 0; i < s->ntcp; i++) {
		kh_tcp_repair(s->tcp[i].fd, false);
		close(s->tcp[i].fd);
		if (s->tcp[i].ns_pid)
			lock(s->tcp[i].ns_pid, &s->tcp[i].conn, 1, false);
		else if (conn)
			conn[n++] = s->tcp[i].conn;
	}
	if (conn)
		lock(0, conn, n, false);
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
