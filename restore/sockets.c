// SPDX-License-Identifier: MIT
/*
 * Unix sockets, all at once since they refer to each other: pairs come
 * back with socketpair(), listeners are bound and listen again, sockets
 * connected one way or not yet accepted connect again by name.  Each
 * receive queue is refilled by whoever can send to it: the peer, or a
 * scratch socket sending to the name.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "kh.h"
#include "files.h"
#include "safe_path.h"

struct sock_ctx {
	struct open_ctx *o;	/* the image, and where errors go */
	bool *done;		/* per file */
	/*
	 * Per file: what refills its queue once every socket exists (files
	 * in flight may be sockets created later): its peer's slot, a spare
	 * end (the peer was gone; closed after), BY_NAME, or NONE.
	 */
	int *sender;
	const struct crfs_file **byino;	/* the sockets, sorted by inode */
	size_t nsocks;
	struct kh_unix *host;	/* this host's, for bound files in the way */
	size_t nhost;
	bool host_listed;
	/* sockets bound at a removed name: reached through a link (below) */
	struct ghost_link *ghosts;
	size_t nghosts;
};

/*
 * A socket bound at a name removed since (a ghost) is bound there again
 * and the name removed again, as it was; but sockets of the image still
 * connect to it, or send it their queued datagrams, after that.  A unix
 * socket is found through its inode, so a hard link made before the name
 * goes reaches it (the address its peers see is the one it was bound
 * to).  The links, and the directories made for the while, go once every
 * socket is made (ghosts_drop).
 */
struct ghost_link {
	uint32_t id;			/* the file */
	struct safe_dir d;		/* held open until then */
	char link[NAME_MAX + 1];	/* in d */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

enum { NONE = -1, BY_NAME = -2 };


static const int sock_types[] = { SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET,
				  SOCK_RAW };


static int cmp_sock(const void *a, const void *b)
{
	uint64_t x = (*(const struct crfs_file *const *)a)->ino;
	uint64_t y = (*(const struct crfs_file *const *)b)->ino;

	return x < y ? -1 : x > y;
}

/* sockets name each other by inode: a lookup must not walk every file */
static int index_sockets(struct sock_ctx *c)
{
	const struct image *img = c->o->img;
	size_t i;

	c->byino = calloc(img->nfiles + 1, sizeof(*c->byino));
	if (!c->byino)
		return -ENOMEM;
	for (i = 0; i < img->nfiles; i++)
		if (img->files[i].kind == FK_UNIX)
			c->byino[c->nsocks++] = &img->files[i];
	qsort(c->byino, c->nsocks, sizeof(*c->byino), cmp_sock);
	return 0;
}

static const struct crfs_file *by_ino(const struct sock_ctx *c, uint64_t ino)
{
	struct crfs_file key = { .ino = ino };
	const struct crfs_file *k = &key, *const *hit;

	hit = bsearch(&k, c->byino, c->nsocks, sizeof(*c->byino), cmp_sock);
	return hit ? *hit : NULL;
}

static bool named(const struct crfs_file *f)
{
	return f->path || f->abstract;
}

static socklen_t addr_of(const struct crfs_file *f, struct sockaddr_un *a)
{
	size_t n;

	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (f->path) {
		n = strlen(f->path);
		if (n >= sizeof(a->sun_path))
			return 0;
		memcpy(a->sun_path, f->path, n);
		return offsetof(struct sockaddr_un, sun_path) + n + 1;
	}
	n = f->abstract_len;
	if (n + 1 > sizeof(a->sun_path))
		return 0;
	memcpy(a->sun_path + 1, f->abstract, n);
	return offsetof(struct sockaddr_un, sun_path) + n + 1;
}

static const char *name_of(const struct crfs_file *f)
{
	return f->path ?: f->abstract ?: "(unnamed)";
}

/*
 * Where to reach f: its name, or the link to it if it is a ghost of the
 * image (open_external's peer outside is a crfs_file of its own, with the
 * id of the socket that connects to it)
 */
static socklen_t dest_of(const struct sock_ctx *c, const struct crfs_file *f,
			 struct sockaddr_un *a)
{
	const struct crfs_file *files = c->o->img->files;
	size_t i, n;

	for (i = 0; i < c->nghosts && &files[c->ghosts[i].id - 1] != f; i++)
		;
	if (i == c->nghosts)
		return addr_of(f, a);
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	n = strlen(c->ghosts[i].path);
	memcpy(a->sun_path, c->ghosts[i].path, n);
	return offsetof(struct sockaddr_un, sun_path) + n + 1;
}

/*
 * The ghost's name, linked as .crfs-ghost-ID beside it first, if that
 * path fits a socket address (else peers made later cannot reach it, and
 * say so by name).  0 when linked: the caller hands d to the last entry.
 */
static int ghost_unlink(struct sock_ctx *c, const struct crfs_file *f,
			const struct safe_dir *d)
{
	struct ghost_link *g = realloc(c->ghosts, (c->nghosts + 1) * sizeof(*g));
	const char *slash = strrchr(f->path, '/');
	int dirlen = slash ? (int)(slash - f->path) + 1 : 0;

	if (g)
		c->ghosts = g;
	g = g ? &c->ghosts[c->nghosts] : NULL;
	if (g) {
		snprintf(g->link, sizeof(g->link), ".crfs-ghost-%u", f->id);
		if (snprintf(g->path, sizeof(g->path), "%.*s%s", dirlen,
			     f->path, g->link) >= (int)sizeof(g->path) ||
		    linkat(d->fd, d->name, d->fd, g->link, 0))
			g = NULL;
	}
	unlinkat(d->fd, d->name, 0);
	if (!g)
		return -1;
	g->id = f->id;
	g->d = (struct safe_dir){ .fd = -1 };
	c->nghosts++;
	return 0;
}

/* every socket is made: the links go, then the directories, last first */
static void ghosts_drop(struct sock_ctx *c)
{
	size_t i;

	for (i = 0; i < c->nghosts; i++)
		unlinkat(c->ghosts[i].d.fd, c->ghosts[i].link, 0);
	for (i = c->nghosts; i--;)
		safe_dir_close(&c->ghosts[i].d);
	free(c->ghosts);
}

/* is a live socket bound to this file?  sock_diag knows, untouched */
static bool held(struct sock_ctx *c, const struct stat *st)
{
	size_t i;

	if (!c->host_listed && !kh_unix_list(&c->host, &c->nhost))
		c->host_listed = true;
	if (!c->host_listed)
		return true;	/* cannot tell: leave it alone */
	for (i = 0; i < c->nhost; i++)
		if (kh_unix_bound_file(&c->host[i], st))
			return true;
	return false;
}

/*
 * A socket file left by the killed container goes; one a live socket
 * holds stays, and the restore is refused, unless ours was unlinked
 * (ghost): then the file there is moved aside while we bind, and ours is
 * unlinked again, as it was.
 */
static int bind_name(struct sock_ctx *c, int sk, const struct crfs_file *f)
{
	char aside[NAME_MAX + 16], why[PATH_MAX + 64];
	struct safe_dir d = { .fd = -1 };
	bool moved = false, taken, linked = false;
	struct sockaddr_un a;
	struct stat st;
	socklen_t len;
	int ret = 0;

	if (!named(f))
		return 0;
	/* everything at the name is done in its directory, held from here
	 * on; a ghost's directories gone since are made for the while */
	if (f->path && safe_dir_open(&d, f->path, f->ghost, why, sizeof(why)))
		return FAIL(c->o, "file %u: unix socket %s: %s", f->id,
			    f->path, why);
	len = addr_of(f, &a);
	/* a ghost's path was not its own: whatever is there stays (it may
	 * be another socket of this very image, bound a moment ago) */
	taken = len && f->path &&
		!fstatat(d.fd, d.name, &st, AT_SYMLINK_NOFOLLOW);
	if (taken && f->ghost) {
		snprintf(aside, sizeof(aside), "%s.crfs-aside", d.name);
		if (renameat(d.fd, d.name, d.fd, aside)) {
			ret = FAIL(c->o, "file %u: moving %s aside: %s",
				   f->id, f->path, strerror(errno));
			goto out;
		}
		moved = true;
	} else if (taken) {
		/* only a stale socket is removed, never another file */
		if (!S_ISSOCK(st.st_mode) || held(c, &st)) {
			ret = FAIL(c->o, "file %u: %s is taken by %s", f->id,
				   f->path, S_ISSOCK(st.st_mode) ?
				   "a live socket" : "another file");
			goto out;
		}
		unlinkat(d.fd, d.name, 0);
	}
	if (!len || unix_bind(sk, f, &a, len, d.fd))
		ret = FAIL(c->o, "file %u: binding the unix socket to %s%s: %s",
			   f->id, f->abstract ? "@" : "", name_of(f),
			   strerror(errno));
	else if (f->ghost && f->path && f->path[0] == '/')
		linked = !ghost_unlink(c, f, &d);
	else if (f->ghost)
		unlinkat(d.fd, d.name, 0);
	/* who may connect is the file's mode; some programs keep state in it
	 * (screen: attached or not) */
	else if (f->path && f->mode &&
		 (fchmodat(d.fd, d.name, f->mode & 07777, AT_SYMLINK_NOFOLLOW) ||
		  fchownat(d.fd, d.name, f->fuid, f->fgid, AT_SYMLINK_NOFOLLOW)))
		ret = FAIL(c->o, "file %u: mode and owner of %s: %s", f->id,
			   f->path, strerror(errno));
	if (moved && renameat(d.fd, aside, d.fd, d.name) && !ret)
		ret = FAIL(c->o, "file %u: putting %s back: %s", f->id,
			   f->path, strerror(errno));
out:
	if (linked)
		c->ghosts[c->nghosts - 1].d = d;	/* ghosts_drop's now */
	else
		safe_dir_close(&d);
	return ret;
}

/* connect() as the task file as's SO_PEERCRED names (NULL: ourselves) */
static int connect_to(struct sock_ctx *c, int sk, const struct crfs_file *f,
		      const struct crfs_file *to, const struct crfs_file *as)
{
	struct sockaddr_un a;
	struct peer_op op = { .op = PEER_CONNECT, .sk = sk,
			      .addr = (struct sockaddr *)&a };

	if (!named(to))
		return FAIL(c->o, "file %u: its peer, file %u, has no name to connect to",
			    f->id, to->id);
	op.len = dest_of(c, to, &a);
	if (peer_op(c->o, as, &op))
		return FAIL(c->o, "file %u: connecting to %s: %s", f->id,
			    name_of(to), strerror(errno));
	return 0;
}


static ssize_t send_part(int sk, const char *p, size_t n, const struct msg *m,
			 struct sockaddr_un *to, socklen_t tolen)
{
	char ctl[CMSG_SPACE(253 * sizeof(int))];
	struct iovec iov = { (void *)p, n };
	struct msghdr mh = { .msg_name = tolen ? to : NULL, .msg_namelen = tolen,
			     .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;

	if (m && m->nfds) {
		memset(ctl, 0, sizeof(ctl));
		mh.msg_control = ctl;
		mh.msg_controllen = CMSG_SPACE(m->nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(m->nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), m->fds, m->nfds * sizeof(int));
	}
	n = sendmsg(sk, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	return (ssize_t)n < 0 ? -errno : (ssize_t)n;
}

/*
 * Where a datagram sent to f's name goes out from: its sender of ours if
 * that socket exists (and takes the big buffer until finish() sets its
 * own), so that recvfrom() names it; else sk, which has no name.
 */
static int sender_for(struct sock_ctx *c, const struct msg *m, int sk)
{
	const struct crfs_file *g = m->from ? by_ino(c, m->from) : NULL;
	int big = 1 << 30;

	if (!g || !c->done[g->id - 1] || g->sock_type != SOCK_T_DGRAM)
		return sk;
	sk = slot(c->o->img, g->id);
	setsockopt(sk, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
	return sk;
}

/*
 * Sends f's queue through sk: to its peer, or (to) to f's name.  Stream
 * bytes may go out in parts; a message, and the files with it, at once.
 */
static int refill(struct sock_ctx *c, int sk, const struct crfs_file *f,
		  bool to)
{
	bool stream = f->sock_type == SOCK_T_STREAM;
	struct msg *msgs, whole = { 0 };
	size_t len, off = 0, i, n;
	int big = 1 << 30, ret;
	struct sockaddr_un a;
	socklen_t alen = to ? dest_of(c, f, &a) : 0;
	char *buf = NULL;
	ssize_t s;

	if (!f->data && !f->nmsgs)
		return 0;
	ret = f->data ? read_fdata(c->o, f, "", &buf, &len) : (len = 0, 0);
	ret = ret ?: read_msgs(c->o, f, &msgs);
	if (ret) {
		free(buf);
		return ret;
	}
	setsockopt(sk, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
	whole.len = len;
	n = msgs ? f->nmsgs : 1;
	for (i = 0; !ret && i < n; i++) {
		struct msg *m = msgs ? &msgs[i] : &whole;
		int from = alen ? sender_for(c, m, sk) : sk;
		size_t done = 0;

		do {
			s = send_part(from, buf + off + done, m->len - done,
				      done ? NULL : m, &a, alen);
			/* the sender may not reach f (f took others since) */
			if (s < 0 && from != sk)
				s = send_part(from = sk, buf + off + done,
					      m->len - done, done ? NULL : m,
					      &a, alen);
			if (s < 0)
				ret = FAIL(c->o, "file %u: queueing %zu bytes again: %s",
					   f->id, len, strerror((int)-s));
			else
				done += s;
		} while (!ret && stream && done < m->len);
		off += m->len;
	}
	free(msgs);
	free(buf);
	return ret;
}

/* the socket in its slot, and done */
static int put(struct sock_ctx *c, const struct crfs_file *f, int sk)
{
	c->done[f->id - 1] = true;
	return place(c->o, f, sk);
}

static int open_pair(struct sock_ctx *c, const struct crfs_file *f,
		     const struct crfs_file *g)
{
	struct peer_op op = { .op = PEER_PAIR, .type = sock_types[f->sock_type] };
	int *sv = op.sv, ret;

	if (peer_op(c->o, f, &op))
		return FAIL(c->o, "file %u: socketpair: %s", f->id, strerror(errno));
	if (!g) {
		/* the peer was gone already: a spare end refills, then goes */
		c->sender[f->id - 1] = sv[1];
		return put(c, f, sv[0]);
	}
	ret = put(c, f, sv[0]);
	ret = ret ?: put(c, g, sv[1]);
	c->sender[f->id - 1] = slot(c->o->img, g->id);
	c->sender[g->id - 1] = slot(c->o->img, f->id);
	return ret;
}

static int refill_by_name(struct sock_ctx *c, const struct crfs_file *f)
{
	int tmp, ret;

	if (!f->data && !f->nmsgs)
		return 0;
	if (f->sock_type == SOCK_T_STREAM || !named(f))
		return FAIL(c->o, "file %u: cannot queue its data again: it has no peer to send it",
			    f->id);
	tmp = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (tmp < 0)
		return FAIL(c->o, "socket: %s", strerror(errno));
	ret = refill(c, tmp, f, true);
	close(tmp);
	return ret;
}

/* a socket on its own: maybe named, maybe listening, maybe connecting */
static int open_single(struct sock_ctx *c, const struct crfs_file *f,
		       const struct crfs_file *to)
{
	int sk = socket(AF_UNIX, sock_types[f->sock_type] | SOCK_CLOEXEC, 0);
	struct peer_op op = { .op = PEER_LISTEN, .sk = sk,
			      .backlog = f->backlog };
	int ret;

	if (sk < 0)
		return FAIL(c->o, "file %u: socket: %s", f->id, strerror(errno));
	ret = bind_name(c, sk, f);
	/* connected one way, it takes nothing from others: refill first */
	if (to)
		ret = ret ?: refill_by_name(c, f);
	else
		c->sender[f->id - 1] = BY_NAME;
	/* a connector gets the listener's SO_PEERCRED, set at listen() */
	if (!ret && f->backlog >= 0 && peer_op(c->o, f, &op))
		ret = FAIL(c->o, "file %u: listen: %s", f->id, strerror(errno));
	ret = ret ?: (to ? connect_to(c, sk, f, to, NULL) : 0);
	if (ret) {
		close(sk);
		return ret;
	}
	return put(c, f, sk);
}

/* a socket whose peer is outside the image: connect to its name again */
static int open_external(struct sock_ctx *c, const struct crfs_file *f)
{
	struct crfs_file to = { .id = f->id };
	int ret;

	if (f->peername[0] == '@') {
		to.abstract = f->peername + 1;
		to.abstract_len = f->peername_len - 1;
	} else {
		to.path = f->peername;
	}
	ret = open_single(c, f, &to);
	if (ret && !strncmp(c->o->err, "file", 4))
		snprintf(c->o->err + strlen(c->o->err),
			 c->o->errlen - strlen(c->o->err),
			 " (its peer is outside the image)");
	return ret;
}

static int first_pass(struct sock_ctx *c, const struct crfs_file *f)
{
	const struct crfs_file *g = f->peer ? by_ino(c, f->peer) : NULL;

	if (f->external && !c->done[f->id - 1])
		return open_external(c, f);
	if (c->done[f->id - 1] || f->connect_to || f->accepted ||
	    (g && g->accepted))
		return 0;
	/* connected to itself (a datagram socket): bound, then connected
	 * to its own name; a pair would leave it talking to a lost end */
	if (g == f)
		return open_single(c, f, f);
	if (g && g->peer == f->ino)
		return open_pair(c, f, g);
	if (g)
		return 0;	/* connected one way: once its peer is bound */
	if (f->sock_type != SOCK_T_DGRAM && f->backlog < 0 && f->data)
		return open_pair(c, f, NULL);
	/* datagrams queued on a socket with no name came from the other
	 * end of its pair, closed since (zdtm socket_close_data, scm09):
	 * a spare end sends them, then is closed too, as the peer was */
	if (f->sock_type == SOCK_T_DGRAM && !named(f) && f->nmsgs)
		return open_pair(c, f, NULL);
	return open_single(c, f, NULL);
}

/*
 * A connection accepted from a listener of ours is made again the same
 * way, so both ends have the names they had: the peer connects to the
 * listener, and we accept.  Before any connection still pending there.
 */
static int accept_pass(struct sock_ctx *c, const struct crfs_file *f)
{
	const struct crfs_file *l, *g;
	int sk, a, ret;

	if (c->done[f->id - 1] || !f->accepted)
		return 0;
	l = by_ino(c, f->accepted);
	g = by_ino(c, f->peer);
	if (!l || !g || !c->done[l->id - 1])
		return FAIL(c->o, "file %u: its listener (socket %lu) or peer is not in the image",
			    f->id, f->accepted);
	sk = socket(AF_UNIX, sock_types[g->sock_type] | SOCK_CLOEXEC, 0);
	if (sk < 0)
		return FAIL(c->o, "file %u: socket: %s", g->id, strerror(errno));
	ret = bind_name(c, sk, g);
	/* the accepted end's SO_PEERCRED is the connecting task's */
	ret = ret ?: connect_to(c, sk, g, l, f);
	a = ret ? -1 : accept4(slot(c->o->img, l->id), NULL, NULL, SOCK_CLOEXEC);
	if (!ret && a < 0)
		ret = FAIL(c->o, "file %u: accept on %s: %s", f->id, name_of(l),
			   strerror(errno));
	if (ret) {
		close(sk);
		return ret;
	}
	ret = put(c, f, a);
	ret = ret ?: put(c, g, sk);
	c->sender[f->id - 1] = slot(c->o->img, g->id);
	c->sender[g->id - 1] = slot(c->o->img, f->id);
	return ret;
}

static int second_pass(struct sock_ctx *c, const struct crfs_file *f)
{
	const struct crfs_file *to;

	if (c->done[f->id - 1])
		return 0;
	to = by_ino(c, f->connect_to ?: f->peer);
	if (!to)
		return FAIL(c->o, "file %u: socket %lu is not in the image", f->id,
			    f->connect_to ?: f->peer);
	return open_single(c, f, to);
}

static int refill_pass(struct sock_ctx *c, const struct crfs_file *f)
{
	int s = c->sender[f->id - 1], ret;

	if (s == NONE)
		return 0;
	if (s == BY_NAME)
		return refill_by_name(c, f);
	ret = refill(c, s, f, false);
	if (s < c->o->img->fd_base || s >= c->o->img->fd_end) {
		close(s);	/* a spare end */
		c->sender[f->id - 1] = NONE;
	}
	return ret;
}

/* the kernel doubles what it is given: give half of what it showed */
static int set_options(struct sock_ctx *c, int sk, const struct crfs_file *f)
{
	struct timeval rt = { f->rcvtimeo / 1000000, f->rcvtimeo % 1000000 };
	struct timeval st = { f->sndtimeo / 1000000, f->sndtimeo % 1000000 };
	int pc = f->passcred;

	if (setsockopt(sk, SOL_SOCKET, SO_RCVTIMEO, &rt, sizeof(rt)) ||
	    setsockopt(sk, SOL_SOCKET, SO_SNDTIMEO, &st, sizeof(st)) ||
	    set_buffers(sk, f) ||
	    setsockopt(sk, SOL_SOCKET, SO_PASSCRED, &pc, sizeof(int)) ||
	    (f->peek_off >= 0 &&
	     setsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &f->peek_off, sizeof(int))))
		return FAIL(c->o, "file %u: socket options: %s", f->id, strerror(errno));
	/* after the refill: a filter would drop what is queued again */
	return set_valued_sockopts(c->o, sk, f);
}

static int finish(struct sock_ctx *c, const struct crfs_file *f)
{
	int sk = slot(c->o->img, f->id);

	if (set_options(c, sk, f))
		return -EINVAL;

	if (f->shutdown & 2)
		shutdown(sk, SHUT_WR);
	if (f->shutdown & 1)
		shutdown(sk, SHUT_RD);
	if (fcntl(sk, F_SETFL, f->flags & O_NONBLOCK))
		return FAIL(c->o, "file %u: F_SETFL: %s", f->id, strerror(errno));
	return 0;
}

int sockets_open(struct open_ctx *o)
{
	struct image *img = o->img;
	struct sock_ctx c = { .o = o };
	int (*pass[])(struct sock_ctx *, const struct crfs_file *) = {
		first_pass, accept_pass, second_pass, refill_pass, finish,
	};
	size_t i, k;
	int ret = 0;

	c.done = calloc(img->nfiles + 1, sizeof(bool));
	c.sender = malloc((img->nfiles + 1) * sizeof(int));
	if (!c.done || !c.sender || index_sockets(&c)) {
		free(c.done);
		free(c.sender);
		free(c.byino);
		return FAIL(o, "out of memory");
	}
	for (i = 0; i < img->nfiles; i++)
		c.sender[i] = NONE;
	for (k = 0; !ret && k < 5; k++)
		for (i = 0; !ret && i < img->nfiles; i++)
			if (img->files[i].kind == FK_UNIX)
				ret = pass[k](&c, &img->files[i]);
	for (i = 0; ret && i < img->nfiles; i++)
		if (c.sender[i] >= 0 && (c.sender[i] < img->fd_base ||
					 c.sender[i] >= img->fd_end))
			close(c.sender[i]);
	ghosts_drop(&c);
	free(c.done);
	free(c.sender);
	free(c.byino);
	kh_unix_free(c.host, c.nhost);
	return ret;
}
