// SPDX-License-Identifier: MIT
/*
 * Unix sockets of the container: names, peers inside or declared outside,
 * listeners and their pending connections, accepted connections, queues,
 * and the files in flight in those queues (SCM_RIGHTS).
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include "files.h"
#include "kh_packet.h"
#include "kh_ns.h"
#include "crfs/array.h"

static int list_in_ns(void *arg)
{
	struct files_ctx *c = arg;

	return kh_unix_list(&c->socks, &c->nsocks);
}

/* is the root's network namespace another than ours? */
static bool root_netns(pid_t root)
{
	char *mine, *theirs;
	bool other = false;

	if (kh_proc_link(getpid(), "ns/net", &mine))
		return false;
	if (!kh_proc_link(root, "ns/net", &theirs)) {
		other = strcmp(mine, theirs) != 0;
		free(theirs);
	}
	free(mine);
	return other;
}

/* sock_diag lists the sockets of its own network namespace: the root's */
static int list_unix(struct files_ctx *c)
{
	pid_t root = c->s->procs[0].pid;

	if (c->socks_listed)
		return 0;
	c->socks_listed = true;
	if (!root_netns(root))
		return kh_unix_list(&c->socks, &c->nsocks);
	return kh_in_ns(root, "net", CLONE_NEWNET, list_in_ns, c);
}

/* is socket:[ino] one of ours (held by a process, or in flight)? */
static bool socket_inside(struct files_ctx *c, uint64_t ino)
{
	unsigned long long n;
	uint64_t *ni;
	size_t i;

	if (c->inside_of != c->s->nfds) {	/* files in flight came */
		ni = array_room(c->inside, c->s->nfds, sizeof(*ni));
		if (!ni)
			return false;
		c->inside = ni;
		c->ninside = 0;
		for (i = 0; i < c->s->nfds; i++)
			if (sscanf(c->s->fds[i].link, "socket:[%llu]", &n) == 1)
				c->inside[c->ninside++] = n;
		qsort(c->inside, c->ninside, sizeof(*c->inside), kh_cmp_u64);
		c->inside_of = c->s->nfds;
	}
	return bsearch(&ino, c->inside, c->ninside, sizeof(ino), kh_cmp_u64);
}

/*
 * The listener of ours holding a connection from ino not yet accepted.
 * (sock_diag shows such connections by their client's inode: the server
 * side has none yet.)
 */
static const struct kh_unix *listener_of(struct files_ctx *c, uint64_t ino)
{
	size_t i, k;

	for (i = 0; i < c->nsocks; i++)
		for (k = 0; k < c->socks[i].nicons; k++)
			if (c->socks[i].icons[k] == ino &&
			    socket_inside(c, c->socks[i].ino))
				return &c->socks[i];
	return NULL;
}

/*
 * A peer outside the container, declared external ("external unix" in
 * ctl): restore connects to its name again.  What it sent to a stream
 * socket cannot be queued again by anyone else.
 */
static const char *unix_external(struct files_ctx *c, const struct kh_unix *u,
				 struct crfs_file *cf)
{
	const struct kh_unix *p = kh_unix_find(c->socks, c->nsocks, u->peer);

	if (!c->s->ext_unix)
		return "connected to a socket outside the container (write 'external unix' to ctl before freeze to reconnect it by name)";
	if (!p || !p->namelen)
		return "connected to a socket outside the container that has no name to connect to again";
	if (p->name[0] && p->name[0] != '/')	/* from whose directory? */
		return "connected to a socket outside the container bound to a relative path";
	if (u->type != SOCK_DGRAM && u->rqlen)
		return "data queued from a socket outside the container on a stream socket is not supported";
	cf->external = true;
	cf->peername_len = p->namelen;
	cf->peername = malloc(p->namelen + 1);
	if (!cf->peername)
		return "out of memory";
	memcpy(cf->peername, p->name, p->namelen);
	cf->peername[p->namelen] = '\0';
	if (!cf->peername[0])
		cf->peername[0] = '@';
	return NULL;
}

/* an accepted socket shares its listener's name: is that one ours? */
static const struct kh_unix *named_listener(struct files_ctx *c,
					    const struct kh_unix *u)
{
	size_t i;

	if (!u->namelen)
		return NULL;
	for (i = 0; i < c->nsocks; i++)
		if (c->socks[i].state == TCP_LISTEN &&
		    c->socks[i].namelen == u->namelen &&
		    !memcmp(c->socks[i].name, u->name, u->namelen) &&
		    socket_inside(c, c->socks[i].ino))
			return &c->socks[i];
	return NULL;
}

static const char *unix_name(struct files_ctx *c, const struct kh_unix *u,
			     pid_t holder, struct crfs_file *cf)
{
	const char *why;
	struct stat st;
	char *look;

	if (!u->namelen)
		return NULL;
	if (u->name[0]) {
		if (u->name[0] != '/') {
			why = unix_relative_name(c, u, holder, cf);
			if (why)
				return why;
		} else {
			cf->path = strndup(u->name, u->namelen);
		}
		/* the socket file was unlinked (maybe another is there now) */
		look = cf->path ? mnt_path(holder, cf->path) : NULL;
		cf->ghost = cf->path && (!look || stat(look, &st) ||
					 !kh_unix_bound_file(u, &st));
		free(look);
		if (cf->path && !cf->ghost) {	/* its file's mode and owner */
			cf->mode = st.st_mode;
			cf->fuid = st.st_uid;
			cf->fgid = st.st_gid;
		}
		return NULL;
	}
	cf->abstract_len = u->namelen - 1;
	cf->abstract = malloc(cf->abstract_len + 1);
	if (cf->abstract) {
		memcpy(cf->abstract, u->name + 1, cf->abstract_len);
		cf->abstract[cf->abstract_len] = '\0';
	}
	return NULL;
}

static const char *unix_links(struct files_ctx *c, const struct kh_unix *u,
			      struct crfs_file *cf)
{
	const struct kh_unix *l;
	size_t k;

	if (u->state == TCP_LISTEN) {
		cf->backlog = u->wqlen;
		for (k = 0; k < u->nicons; k++)
			if (!socket_inside(c, u->icons[k]))
				return "a connection not yet accepted comes from outside the container";
		return NULL;
	}
	if (u->peer) {
		if (!socket_inside(c, u->peer))
			return unix_external(c, u, cf);
		cf->peer = u->peer;
		l = u->type == SOCK_DGRAM ? NULL : named_listener(c, u);
		cf->accepted = l ? l->ino : 0;
		return NULL;
	}
	l = u->type == SOCK_DGRAM ? NULL : listener_of(c, u->ino);
	if (!l)
		return NULL;
	if (!l->namelen)
		return "connecting to an unnamed listener";
	/* what it sent sits in a socket no one holds yet */
	if (u->wqlen)
		return "data sent on a connection not yet accepted is not supported";
	cf->connect_to = l->ino;
	return NULL;
}

/* sk: our copy of the socket */
static int unix_queue(struct files_ctx *c, int sk, struct crfs_file *cf)
{
	struct kh_unix_queue q;
	struct queue *nq;
	int ret;

	ret = kh_unix_peek(sk, cf->sock_type == SOCK_T_STREAM,
			   cf->shutdown & 1, &q);
	if (ret)
		return ret;
	cf->data = q.len;
	if (q.len)
		ret = files_add_fdata(c, cf->id, "", q.data, q.len);
	else
		free(q.data);
	q.data = NULL;
	/* stream bytes with no file attached need no boundaries, and an
	 * empty queue no list */
	if (ret || !q.nchunks || (cf->sock_type == SOCK_T_STREAM && !q.nfds)) {
		kh_unix_free_queue(&q);
		return ret;
	}
	cf->nmsgs = q.nchunks;
	nq = array_room(c->queues, c->nqueues, sizeof(*nq));
	if (!nq) {
		kh_unix_free_queue(&q);
		return -ENOMEM;
	}
	c->queues = nq;
	nq[c->nqueues++] = (struct queue){ cf->id, q, NULL };
	return 0;
}

static int grow_files(struct files_ctx *c)
{
	size_t n = c->nfiles + 1;
	struct crfs_file *nf = array_room(c->files, n, sizeof(*nf));
	bool *nb;
	size_t *nr;

	if (!nf)
		return -ENOMEM;
	c->files = nf;
	memset(&c->files[n - 1], 0, 2 * sizeof(*nf));
	nb = array_room(c->bad, n, sizeof(*nb));
	if (!nb)
		return -ENOMEM;
	c->bad = nb;
	c->bad[n - 1] = false;
	nr = array_room(c->rep, n, sizeof(*nr));
	if (!nr)
		return -ENOMEM;
	c->rep = nr;
	return 0;
}

/*
 * The file id of a file in flight (our copy at fd): a description the
 * container holds, or a new one that only the queue holds.  A new one is
 * described from our own /proc entries like any other.
 */
static int inflight_file(struct files_ctx *c, int fd, uint32_t *id)
{
	struct kh_fd self = { .pid = getpid(), .fd = fd }, *nf;
	struct snapshot *s = c->s;
	uint32_t *nfid;
	size_t i;
	int ret;

	for (i = 0; i < s->nfds; i++)
		if (!kh_kcmp_file(&self, &s->fds[i])) {
			*id = c->fid[i];
			close(fd);
			return 0;
		}
	ret = kh_self_fd(fd, &self);
	if (ret) {
		close(fd);
		return ret;
	}
	nf = array_room(s->fds, s->nfds, sizeof(*nf));
	nfid = array_room(c->fid, s->nfds, sizeof(*nfid));
	if (nf)
		s->fds = nf;
	if (nfid)
		c->fid = nfid;
	if (!nf || !nfid || grow_files(c)) {
		free(self.link);
		free(self.info);
		close(fd);
		return -ENOMEM;
	}
	s->capfds = s->nfds + 1;
	s->fds[s->nfds] = self;
	c->fid[s->nfds] = ++c->nfiles;
	c->rep[c->nfiles - 1] = s->nfds++;
	*id = c->nfiles;
	return 0;
}

/*
 * The socket of ours a datagram came from, by the name it was sent from:
 * restore sends it from there again, so recvfrom() tells the same sender.
 * Runs of messages from one sender are the rule: the last hit is tried
 * first.
 */
static uint64_t sender_of(struct files_ctx *c, const struct kh_unix_chunk *ch,
			  size_t *last)
{
	const struct kh_unix *u;
	size_t i;

	if (!ch->fromlen)
		return 0;
	for (i = 0; i < c->nsocks; i++) {
		u = &c->socks[(*last + i) % c->nsocks];
		if (kh_unix_same_name(u->name, u->namelen, ch->from,
				      ch->fromlen) && socket_inside(c, u->ino)) {
			*last = (*last + i) % c->nsocks;
			return u->ino;
		}
	}
	return 0;
}

static int render_msgs(struct files_ctx *c, struct queue *q)
{
	bool dgram = c->files[q->id - 1].sock_type == SOCK_T_DGRAM;
	size_t i, len, last = 0;
	struct kh_unix_chunk *ch;
	struct strbuf sb;
	int k, ret = 0;
	uint64_t from;
	char *data;

	sb_init(&sb);
	for (i = 0; !ret && i < q->q.nchunks; i++) {
		ch = &q->q.chunks[i];
		ret = sb_printf(&sb, "%u", ch->len);
		for (k = 0; !ret && k < ch->nfds; k++)
			ret = sb_printf(&sb, "%c%u", k ? ',' : ' ', q->ids[i][k]);
		from = dgram ? sender_of(c, ch, &last) : 0;
		if (!ret && from)
			ret = sb_printf(&sb, " from=%lu", from);
		ret = ret ?: sb_printf(&sb, "\n");
	}
	if (ret) {
		sb_free(&sb);
		return ret;
	}
	data = sb_steal(&sb, &len);
	return files_add_fdata(c, q->id, ".msgs", data, len);
}

/*
 * Files in flight get their ids, new files are described (they may be
 * sockets with files in flight themselves), then each queue's list.
 */
int files_resolve_inflight(struct files_ctx *c, uint32_t *classified)
{
	struct kh_unix_chunk *ch;
	size_t i, n;
	int k, ret = 0;

	for (n = 0; !ret && n < c->nqueues; n++) {
		struct queue *q = &c->queues[n];

		q->ids = calloc(q->q.nchunks + 1, sizeof(*q->ids));
		if (!q->ids)
			return -ENOMEM;
		for (i = 0; !ret && i < q->q.nchunks; i++) {
			ch = &q->q.chunks[i];
			q->ids[i] = calloc(ch->nfds + 1, sizeof(uint32_t));
			if (!q->ids[i])
				return -ENOMEM;
			for (k = 0; !ret && k < ch->nfds; k++) {
				ret = inflight_file(c, ch->fds[k], &q->ids[i][k]);
				ch->fds[k] = -1;	/* closed or kept */
			}
		}
		while (!ret && *classified < c->nfiles)
			ret = files_classify(c, ++*classified);
		q = &c->queues[n];	/* classify may have moved it */
		ret = ret ?: render_msgs(c, q);
	}
	return ret;
}

/* valued options and a filter; why: one that cannot be saved */
static const char *read_sockopts(int sk, struct crfs_file *cf, int *err)
{
	const char *why = NULL;

	*err = kh_sockopts_read(sk, &cf->sockopts, &why);
	return why;
}

static const char *classify_netlink(int sk, struct crfs_file *cf, int *err)
{
	struct kh_netlink nl;
	const char *why = kh_netlink_read(sk, &nl, err);

	if (why || *err)
		return why;
	why = read_sockopts(sk, cf, err);
	if (why || *err)
		return why;
	cf->kind = FK_NETLINK;
	cf->sock_type = nl.type == SOCK_DGRAM ? SOCK_T_DGRAM : SOCK_T_RAW;
	cf->protocol = nl.protocol;
	cf->portid = nl.portid;
	cf->dst_portid = nl.dst_portid;
	cf->dst_group = nl.dst_group;
	cf->groups = nl.groups;
	cf->nlflags = nl.flags;
	cf->sndbuf = nl.sndbuf;
	cf->rcvbuf = nl.rcvbuf;
	return NULL;
}

static char *addr_text(const struct sockaddr_storage *ss)
{
	char buf[INET6_ADDRSTRLEN + 16];

	kh_inet_addr_str(ss, buf, sizeof(buf));
	return strdup(buf);
}

/*
 * A UDP socket's shutdown bits (RCV_SHUTDOWN 1, SEND_SHUTDOWN 2; the same
 * as the image's shutdown key), asked of sock_diag in the socket's own
 * network namespace; 0 for other sockets.  A socket sock_diag cannot find
 * (never bound: no port to look it up by) counts as open both ways.
 */
static uint32_t udp_shut(int sk, const struct kh_inet *in)
{
	struct sockaddr_storage none = { .ss_family = in->addr.ss_family };
	int bits;

	if (in->type != SOCK_DGRAM ||
	    (in->protocol != IPPROTO_UDP && in->protocol != IPPROTO_UDPLITE))
		return 0;
	/* udp_diag looks the socket up as a datagram's receiver: its
	 * source the peer (none: any), its destination our address */
	bits = kh_inet_shutdown_bits_of(sk, in->protocol,
					in->connected ? &in->peer : &none,
					&in->addr);
	return bits > 0 ? bits & 3 : 0;
}

/* bound to one address (not any), a port taken */
static bool bound_to_one(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *b = (const struct sockaddr_in6 *)ss;

	if (ss->ss_family == AF_INET)
		return a->sin_port && a->sin_addr.s_addr != htonl(INADDR_ANY);
	return ss->ss_family == AF_INET6 && b->sin6_port &&
	       !IN6_IS_ADDR_UNSPECIFIED(&b->sin6_addr);
}

/*
 * A socket bound to an address its namespace does not have (bound with
 * IP_FREEBIND since turned off, or the address removed since: zdtm
 * sk-freebind-false) is bound so again with IP_FREEBIND for that moment;
 * one whose address is there now must find it at restore.  Sockets not
 * connected only: a connection's address is the route's.
 */
static int check_nonlocal(int sk, const struct kh_inet *in,
			  struct crfs_file *cf)
{
	int local;

	if (in->connected || !bound_to_one(&in->addr))
		return 0;
	local = kh_inet_addr_local(sk, &in->addr);
	if (local < 0)
		return local;
	cf->nonlocal = !local;
	return 0;
}

static const char *classify_inet(struct files_ctx *c, pid_t holder, int sk,
				 struct crfs_file *cf, int *err)
{
	struct kh_inet in;
	const char *why = kh_inet_read(sk, &in, err);

	if (why || *err)
		return why;
	why = read_sockopts(sk, cf, err);
	if (why || *err)
		return why;
	if (in.type == SOCK_DGRAM)
		*err = kh_mcast_read(sk, in.addr.ss_family, holder,
				     &cf->sockopts, &why);
	if (why || *err)
		return why;
	cf->kind = FK_INET;
	cf->shutdown = udp_shut(sk, &in);
	cf->sock_type = in.type == SOCK_STREAM ? SOCK_T_STREAM : SOCK_T_DGRAM;
	cf->protocol = in.protocol;
	cf->backlog = in.backlog;
	cf->accq = in.accq;
	cf->inopts = in.opts;
	cf->nmsgs = in.queued;	/* counted by files_capture_udpq() */
	cf->sndbuf = in.sndbuf;
	cf->rcvbuf = in.rcvbuf;
	cf->addr = addr_text(&in.addr);
	cf->dst = in.connected ? addr_text(&in.peer) : NULL;
	if (!cf->addr || (in.connected && !cf->dst))
		*err = -ENOMEM;
	*err = *err ?: check_nonlocal(sk, &in, cf);
	if (*err || !in.connected || in.type != SOCK_STREAM)
		return NULL;
	return files_capture_tcp(c, holder, sk, cf, &in, err);
}

/* netlink and inet sockets as far as supported; other families refused */
static const char *classify_other(struct files_ctx *c, const struct kh_fd *f,
				  int sk, struct crfs_file *cf, int *err)
{
	socklen_t len = sizeof(int);
	const char *why = NULL;
	int dom = -1;

	if (getsockopt(sk, SOL_SOCKET, SO_DOMAIN, &dom, &len))
		*err = -errno;
	else if (dom == AF_NETLINK)
		why = classify_netlink(sk, cf, err);
	else if ((dom == AF_INET || dom == AF_INET6) && kh_sock_is_raw(sk))
		why = files_classify_raw(f, sk, cf, err);
	else if (dom == AF_INET || dom == AF_INET6)
		why = classify_inet(c, f->pid, sk, cf, err);
	else if (dom == AF_PACKET)
		why = files_classify_packet(f, sk, cf, err);
	else
		why = "sockets of this family are not supported";
	return why;
}

/* SO_PEERCRED, as this (the daemon's) pid namespace sees the pid */
static void peer_cred(int sk, struct crfs_file *cf)
{
	struct ucred u;
	socklen_t l = sizeof(u);

	if (getsockopt(sk, SOL_SOCKET, SO_PEERCRED, &u, &l) || u.pid <= 0)
		return;
	cf->peer_pid = u.pid;
	cf->peer_uid = u.uid;
	cf->peer_gid = u.gid;
}

/*
 * crfs-restore makes every socket in the root's network namespace: one
 * made in another (before a setns, or passed from there) would come back
 * bound, listening or connected in the wrong one.  Not knowing is no
 * answer either: an error refuses the copy.
 */
static const char *foreign_netns(struct files_ctx *c, int sk, int *err)
{
	unsigned long ino;

	*err = c->root_net ? 0 :
	       kh_ns_ino(c->s->procs[0].pid, "net", &c->root_net);
	*err = *err ?: kh_sock_netns_ino(sk, &ino);
	if (*err || ino == c->root_net)
		return NULL;
	snprintf(c->why, sizeof(c->why), "a socket of network namespace net:[%lu], not the root's (net:[%u]): sockets of a network namespace other than the root's are not supported",
		 ino, c->root_net);
	return c->why;
}

/* a unix socket: its options, name, peers and queue, read through sk */
static const char *classify_unix(struct files_ctx *c, const struct kh_fd *f,
				 const struct kh_unix *u, int sk,
				 struct crfs_file *cf, int *err)
{
	struct kh_unix_opts o;
	const char *why;

	cf->kind = FK_UNIX;
	switch (u->type) {
	case SOCK_STREAM:
		cf->sock_type = SOCK_T_STREAM;
		break;
	case SOCK_DGRAM:
		cf->sock_type = SOCK_T_DGRAM;
		break;
	case SOCK_SEQPACKET:
		cf->sock_type = SOCK_T_SEQPACKET;
		break;
	default:
		return "unknown unix socket type";
	}
	cf->shutdown = u->shutdown;
	*err = kh_unix_options(sk, &o);
	if (*err)
		return NULL;
	cf->sndbuf = o.sndbuf;
	cf->rcvbuf = o.rcvbuf;
	cf->passcred = o.passcred;
	cf->peek_off = o.peek_off;
	cf->rcvtimeo = o.rcvtimeo;
	cf->sndtimeo = o.sndtimeo;
	peer_cred(sk, cf);
	/* the byte sent with MSG_OOB sits apart from the stream's queue */
	if (u->type == SOCK_STREAM && kh_unix_oob_pending(sk))
		return "a unix stream socket with an out-of-band byte queued (MSG_OOB) is not supported";
	why = read_sockopts(sk, cf, err);
	if (!why && !*err)
		why = unix_name(c, u, f->pid, cf) ?: unix_links(c, u, cf);
	/* a stream or seqpacket socket never connected has no queue (and
	 * recv refuses to look) */
	if (!why && !*err && (u->type == SOCK_DGRAM ||
			      u->state == TCP_ESTABLISHED))
		*err = unix_queue(c, sk, cf);
	/* the sender a message names (SCM_CREDENTIALS) may be a process
	 * not there yet when restore queues it again.  Stream bytes are let
	 * through (their credentials are not restored, SUPPORT.md): a
	 * stream has no messages whose sender a reader could tell apart */
	if (!why && !*err && cf->passcred && u->type != SOCK_STREAM &&
	    (cf->data || cf->nmsgs))
		why = "queued messages on a unix datagram or seqpacket socket with SO_PASSCRED (their senders' SCM_CREDENTIALS) are not supported";
	return why;
}

const char *files_classify_socket(struct files_ctx *c, const struct kh_fd *f,
				  struct crfs_file *cf, int *err)
{
	const struct kh_unix *u;
	const char *why;
	int sk;

	*err = list_unix(c);
	if (*err)
		return NULL;
	/* one copy of the socket for all that is asked of it */
	sk = kh_steal_fd(f->pid, f->fd);
	if (sk < 0) {
		*err = sk;
		return NULL;
	}
	why = foreign_netns(c, sk, err);
	if (!why && !*err) {
		cf->ino = f->st.st_ino;
		u = kh_unix_find(c->socks, c->nsocks, cf->ino);
		why = u ? classify_unix(c, f, u, sk, cf, err) :
			  classify_other(c, f, sk, cf, err);
	}
	close(sk);
	return why;
}
