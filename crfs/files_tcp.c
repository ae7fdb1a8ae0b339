// SPDX-License-Identifier: MIT
/*
 * An established TCP connection at freeze: its packets are dropped both
 * ways (kh_tcp_lock, in the socket's network namespace: ours, or the
 * tree's own), then its socket goes into repair mode and is read
 * (fdata/ID.tcp, .sndq, .rcvq).  Classifying a file only notes the
 * connection; files_tcp_finish then locks all of a namespace's in one
 * nf_tables transaction (kernel-helpers/nfb.c: a netlink message, no
 * nft process) and saves each.  It stays in repair mode, and locked,
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
#include "watchdog.h"
#include "kh_ns.h"
#include "crfs/array.h"
#include "crfs/tcp.h"

struct tcp_hold {
	int fd;			/* our copy, in repair mode once saved */
	pid_t ns_pid;		/* a holder whose network namespace it is
				 * in, 0: ours */
	struct kh_tcp_conn conn;
	uint32_t id;		/* its file */
	int state;
	int shut;		/* sock_diag's shutdown bits, -errno */
	int reuse;		/* SO_REUSEADDR before repair mode */
	bool locked, saved;
	uint64_t wd_key;	/* the watchdog's copy, 0: none */
};

static int in_net(pid_t pid, int (*fn)(void *), void *arg)
{
	return pid ? kh_in_ns(pid, "net", CLONE_NEWNET, fn, arg) : fn(arg);
}

/* the lock, for n connections of one namespace (ns_pid's) */
struct net_call {
	struct kh_tcp_conn *conn;
	size_t n;
	bool lock;
};

static int lock_fn(void *arg)
{
	struct net_call *nc = arg;

	return kh_tcp_lock(nc->conn, nc->n, nc->lock);
}

static int lock(pid_t ns_pid, struct kh_tcp_conn *conn, size_t n, bool on)
{
	struct net_call nc = { conn, n, on };

	return in_net(ns_pid, lock_fn, &nc);
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

/* noted while the files are classified; saved by files_tcp_finish */
const char *files_capture_tcp(struct files_ctx *c, pid_t holder, int sk,
			      struct crfs_file *cf, const struct kh_inet *in,
			      int *err)
{
	struct snapshot *s = c->s;
	struct tcp_hold *h = array_room(s->tcp, s->ntcp, sizeof(*h));
	int ours = kh_sock_netns_is_ours(sk), fd;

	*err = ours < 0 ? ours : h ? 0 : -ENOMEM;
	if (*err)
		return NULL;
	s->tcp = h;
	fd = fcntl(sk, F_DUPFD_CLOEXEC, 0);
	if (fd < 0) {
		*err = -errno;
		return NULL;
	}
	drop_maxseg(&cf->sockopts);
	s->tcp[s->ntcp++] = (struct tcp_hold){
		.fd = fd, .ns_pid = ours ? 0 : holder,
		.conn = { in->addr, in->peer }, .id = cf->id,
		.state = in->tcp_state, .reuse = kh_tcp_reuse(fd),
	};
	/* before repair and the lock: undone if we die while frozen */
	s->tcp[s->ntcp - 1].wd_key = watchdog_hold_tcp(fd, &s->tcp[s->ntcp - 1].conn,
							  s->tcp[s->ntcp - 1].reuse);
	return NULL;
}

/* not locked yet: the watchdog lets go of it, and so do we (the caller
 * closes the fd) */
int files_tcp_take(struct files_ctx *c, uint32_t id)
{
	struct snapshot *s = c->s;
	size_t i;
	int fd;

	for (i = 0; i < s->ntcp && s->tcp[i].id != id; i++)
		;
	if (i == s->ntcp || s->tcp[i].locked)
		return -ENOENT;
	fd = s->tcp[i].fd;
	watchdog_forget(s->tcp[i].wd_key);
	s->tcp[i] = s->tcp[--s->ntcp];
	return fd;
}

/* in one namespace: the lock for all its connections, then each one's
 * shutdown bits */
struct group {
	struct snapshot *s;
	pid_t ns_pid;
};

static bool of_group(const struct tcp_hold *h, pid_t ns_pid)
{
	return !h->saved && h->ns_pid == ns_pid;
}

static int group_fn(void *arg)
{
	struct group *g = arg;
	struct snapshot *s = g->s;
	struct kh_tcp_conn *conn = calloc(s->ntcp + 1, sizeof(*conn));
	size_t i, n = 0;
	int ret;

	if (!conn)
		return -ENOMEM;
	for (i = 0; i < s->ntcp; i++)
		if (of_group(&s->tcp[i], g->ns_pid))
			conn[n++] = s->tcp[i].conn;
	ret = kh_tcp_lock(conn, n, true);
	free(conn);
	for (i = 0; !ret && i < s->ntcp; i++)
		if (of_group(&s->tcp[i], g->ns_pid)) {
			s->tcp[i].locked = true;
			/* a closed one is in no table sock_diag reads (its
			 * address may be a TIME_WAIT's): shut both ways */
			s->tcp[i].shut = s->tcp[i].state == TCP_CLOSE ? 3 :
				kh_tcp_shutdown_bits(&s->tcp[i].conn.local,
						     &s->tcp[i].conn.peer);
		}
	return ret;
}

static int add_queue(struct files_ctx *c, uint32_t id, const char *suffix,
		     char *buf, unsigned len)
{
	if (len)
		return files_add_fdata(c, id, suffix, buf, len);
	free(buf);
	return 0;
}

/* fdata/ID.tcp and the queues; the socket is in repair mode after */
static int save(struct files_ctx *c, struct tcp_hold *h)
{
	struct crfs_tcp t = { .state = h->state };
	char *sndq, *rcvq, *text;
	struct strbuf sb;
	size_t len;
	int ret;

	if (h->shut < 0)
		return h->shut;
	/* a FIN received shuts it too: that is the state's, not SHUT_RD */
	t.shut_rd = h->shut & 1 && t.state != TCP_CLOSE_WAIT &&
		    t.state != TCP_LAST_ACK && t.state != TCP_CLOSING &&
		    t.state != TCP_CLOSE;
	ret = kh_tcp_save(h->fd, &t, &sndq, &rcvq);
	if (ret)
		return ret;
	sb_init(&sb);
	ret = render_tcp(&sb, &t);
	text = sb_steal(&sb, &len);
	if (ret) {
		free(text);
		free(sndq);
		free(rcvq);
		return ret;
	}
	/* each call takes its buffer, also when it fails */
	ret = files_add_fdata(c, h->id, CRFS_TCP_SUFFIX, text, len);
	ret = add_queue(c, h->id, CRFS_SNDQ_SUFFIX, sndq, t.sndq) ?: ret;
	return add_queue(c, h->id, CRFS_RCVQ_SUFFIX, rcvq, t.rcvq) ?: ret;
}

/* h could not be saved: reported, its lock lifted, forgotten */
static void give_up(struct files_ctx *c, size_t i, const char *why)
{
	struct tcp_hold *h = &c->s->tcp[i];

	files_report(c, &c->s->fds[c->rep[h->id - 1]], why);
	c->bad[h->id - 1] = true;
	kh_tcp_repair_off(h->fd, h->reuse);
	if (h->locked)
		lock(h->ns_pid, &h->conn, 1, false);
	watchdog_forget(h->wd_key);
	close(h->fd);
	c->s->tcp[i] = c->s->tcp[--c->s->ntcp];
}

int files_tcp_finish(struct files_ctx *c)
{
	struct snapshot *s = c->s;
	struct group g = { s, 0 };
	size_t i, k;
	int ret;

	for (i = 0; i < s->ntcp; i++) {
		for (k = 0; k < i && !of_group(&s->tcp[k], s->tcp[i].ns_pid); k++)
			;
		if (s->tcp[i].saved || k < i)
			continue;	/* its namespace's are done */
		g.ns_pid = s->tcp[i].ns_pid;
		in_net(g.ns_pid, group_fn, &g);
	}
	for (i = 0; i < s->ntcp; i++) {
		if (s->tcp[i].saved)
			continue;
		if (!s->tcp[i].locked) {
			give_up(c, i--, "cannot drop the TCP connection's packets with nftables (netlink transaction to table inet crfs_tcp_lock refused)");
			continue;
		}
		ret = save(c, &s->tcp[i]);
		if (ret == -ENOMEM)
			return ret;
		if (!ret)
			s->tcp[i].saved = true;
		else
			give_up(c, i--, ret == -EAGAIN ?
				"the TCP connection changed state while it was saved" :
				"cannot read the TCP connection in repair mode");
	}
	return 0;
}

/* kill: closed in repair mode (silently); the lock stays for restore */
void tcp_drop(struct snapshot *s)
{
	size_t i;

	for (i = 0; i < s->ntcp; i++)
		watchdog_forget(s->tcp[i].wd_key);
	/* no copy may outlive a kill: restore binds the same addresses */
	if (s->ntcp)
		watchdog_sync();
	for (i = 0; i < s->ntcp; i++)
		close(s->tcp[i].fd);
	free(s->tcp);
	s->tcp = NULL;
	s->ntcp = 0;
}

/* thaw, or a freeze that failed: every connection goes on */
void tcp_resume(struct snapshot *s)
{
	struct kh_tcp_conn *conn = calloc(s->ntcp + 1, sizeof(*conn));
	size_t i, n = 0;

	for (i = 0; i < s->ntcp; i++) {
		kh_tcp_repair_off(s->tcp[i].fd, s->tcp[i].reuse);
		if (s->tcp[i].ns_pid)
			lock(s->tcp[i].ns_pid, &s->tcp[i].conn, 1, false);
		else if (conn)
			conn[n++] = s->tcp[i].conn;
	}
	if (conn)
		lock(0, conn, n, false);
	free(conn);
	tcp_drop(s);
}
