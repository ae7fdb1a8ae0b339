// SPDX-License-Identifier: MIT
/*
 * Unix sockets: who is connected to whom, names and pending connections
 * come from sock_diag (NETLINK_SOCK_DIAG); queued data is peeked with
 * SO_PEEK_OFF so that nothing is taken from the frozen container.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/un.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>

#include "kh.h"

void kh_unix_free(struct kh_unix *u, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(u[i].icons);
	free(u);
}

static int parse_attrs(struct unix_diag_msg *m, size_t len, struct kh_unix *u)
{
	struct rtattr *a = (struct rtattr *)(m + 1);
	size_t rem = len - NLMSG_ALIGN(sizeof(*m));
	struct unix_diag_rqlen *rq;

	memset(u, 0, sizeof(*u));
	u->ino = m->udiag_ino;
	u->type = m->udiag_type;
	u->state = m->udiag_state;
	for (; RTA_OK(a, rem); a = RTA_NEXT(a, rem)) {
		void *d = RTA_DATA(a);
		size_t dl = RTA_PAYLOAD(a);

		switch (a->rta_type) {
		case UNIX_DIAG_NAME:
			u->namelen = dl < sizeof(u->name) ? dl : sizeof(u->name) - 1;
			memcpy(u->name, d, u->namelen);
			break;
		case UNIX_DIAG_PEER:
			u->peer = *(uint32_t *)d;
			break;
		case UNIX_DIAG_ICONS:
			u->icons = calloc(dl / 4 + 1, sizeof(uint64_t));
			if (!u->icons)
				return -ENOMEM;
			for (u->nicons = 0; u->nicons < dl / 4; u->nicons++)
				u->icons[u->nicons] = ((uint32_t *)d)[u->nicons];
			break;
		case UNIX_DIAG_RQLEN:
			rq = d;
			u->rqlen = rq->udiag_rqueue;
			u->wqlen = rq->udiag_wqueue;
			break;
		case UNIX_DIAG_SHUTDOWN:
			u->shutdown = *(uint8_t *)d;
			break;
		case UNIX_DIAG_VFS:
			u->vfs_ino = ((struct unix_diag_vfs *)d)->udiag_vfs_ino;
			u->vfs_dev = ((struct unix_diag_vfs *)d)->udiag_vfs_dev;
			break;
		}
	}
	return 0;
}

static int send_dump(int nl)
{
	struct {
		struct nlmsghdr nh;
		struct unix_diag_req r;
	} req = {
		.nh = { .nlmsg_len = sizeof(req),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.r = { .sdiag_family = AF_UNIX, .udiag_states = ~0u,
		       .udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER |
				     UDIAG_SHOW_ICONS | UDIAG_SHOW_RQLEN |
				     UDIAG_SHOW_VFS },
	};

	return send(nl, &req, sizeof(req), 0) < 0 ? -errno : 0;
}

static int add(struct kh_unix **out, size_t *n, size_t *cap,
	       struct nlmsghdr *h)
{
	struct kh_unix *nu;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		nu = realloc(*out, *cap * sizeof(*nu));
		if (!nu)
			return -ENOMEM;
		*out = nu;
	}
	return parse_attrs(NLMSG_DATA(h), h->nlmsg_len - NLMSG_HDRLEN,
			   &(*out)[(*n)++]);
}

static int cmp_ino(const void *a, const void *b)
{
	uint64_t x = ((const struct kh_unix *)a)->ino;
	uint64_t y = ((const struct kh_unix *)b)->ino;

	return x < y ? -1 : x > y;
}

int kh_unix_list(struct kh_unix **out, size_t *nout)
{
	static const size_t bufsz = 1 << 16;
	struct kh_unix *u = NULL;
	size_t n = 0, cap = 0;
	int nl, ret, done = 0;
	char *buf;
	ssize_t len;

	nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl < 0)
		return -errno;
	buf = malloc(bufsz);
	ret = buf ? send_dump(nl) : -ENOMEM;
	while (!ret && !done) {
		struct nlmsghdr *h = (struct nlmsghdr *)buf;

		len = recv(nl, buf, bufsz, 0);
		if (len < 0) {
			ret = -errno;
			break;
		}
		for (; !ret && NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				done = 1;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				ret = ((struct nlmsgerr *)NLMSG_DATA(h))->error ?: -EIO;
				break;
			}
			ret = add(&u, &n, &cap, h);
		}
	}
	free(buf);
	close(nl);
	if (ret) {
		kh_unix_free(u, n);
		return ret;
	}
	if (n)
		qsort(u, n, sizeof(*u), cmp_ino);
	*out = u;
	*nout = n;
	return 0;
}


/* u as kh_unix_list made it: sorted by inode */
const struct kh_unix *kh_unix_find(const struct kh_unix *u, size_t n,
				   uint64_t ino)
{
	struct kh_unix key = { .ino = ino };

	return bsearch(&key, u, n, sizeof(*u), cmp_ino);
}

void kh_unix_free_queue(struct kh_unix_queue *q)
{
	size_t i;
	int k;

	for (i = 0; i < q->nchunks; i++) {
		for (k = 0; k < q->chunks[i].nfds; k++)
			close(q->chunks[i].fds[k]);
		free(q->chunks[i].fds);
	}
	free(q->chunks);
	free(q->data);
	memset(q, 0, sizeof(*q));
}

/* peeking gave us copies of the files in flight: keep them */
static int take_rights(struct msghdr *mh, struct kh_unix_chunk *ch)
{
	struct cmsghdr *c;
	size_t k, nfd;
	int *nf;

	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		nf = realloc(ch->fds, (ch->nfds + nfd) * sizeof(int));
		if (!nf) {
			for (k = 0; k < nfd; k++)
				close(((int *)CMSG_DATA(c))[k]);
			return -ENOMEM;
		}
		ch->fds = nf;
		memcpy(ch->fds + ch->nfds, CMSG_DATA(c), nfd * sizeof(int));
		ch->nfds += nfd;
	}
	return 0;
}

static int grow(char **buf, size_t *cap, size_t need)
{
	char *nb;

	if (need <= *cap)
		return 0;
	while (*cap < need)
		*cap = *cap ? *cap * 2 : 65536;
	nb = realloc(*buf, *cap);
	if (!nb)
		return -ENOMEM;
	*buf = nb;
	return 0;
}

/* sock_diag gives the kernel's own dev_t: 12 bits major, 20 minor */
bool kh_unix_bound_file(const struct kh_unix *u, const struct stat *st)
{
	return u->vfs_ino && st->st_ino == u->vfs_ino &&
	       major(st->st_dev) == u->vfs_dev >> 20 &&
	       minor(st->st_dev) == (u->vfs_dev & 0xfffff);
}

bool kh_unix_same_name(const char *a, int alen, const char *b, int blen)
{
	if (!alen || !blen || !a[0] != !b[0])
		return false;
	if (a[0]) {
		alen = strnlen(a, alen);
		blen = strnlen(b, blen);
	}
	return alen == blen && !memcmp(a, b, alen);
}

/* has the peer sent a byte with MSG_OOB that is still unread?  (Peeking
 * leaves it; with SO_OOBINLINE it is part of the stream and this says no) */
bool kh_unix_oob_pending(int sk)
{
	char c;

	return recv(sk, &c, 1, MSG_OOB | MSG_PEEK | MSG_DONTWAIT) >= 0;
}

/* one peek: the next message (or stream bytes) after the peek offset */
static ssize_t peek_one(int sk, char *buf, size_t len, struct kh_unix_chunk *ch)
{
	char ctl[CMSG_SPACE(253 * sizeof(int))];
	struct sockaddr_un from;
	struct iovec iov = { buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_name = &from, .msg_namelen = sizeof(from),
			     .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	ssize_t n = recvmsg(sk, &mh, MSG_PEEK | MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	const int at = offsetof(struct sockaddr_un, sun_path);
	int ret;

	if (n < 0)
		return -errno;
	if ((int)mh.msg_namelen > at && mh.msg_namelen <= sizeof(from)) {
		ch->fromlen = mh.msg_namelen - at;
		memcpy(ch->from, from.sun_path, ch->fromlen);
	}
	ret = take_rights(&mh, ch);
	if (ret)
		return ret;
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
		return -EMSGSIZE;
	return n;
}

static int add_chunk(struct kh_unix_queue *q, const struct kh_unix_chunk *ch)
{
	struct kh_unix_chunk *nc;

	if (!(q->nchunks & (q->nchunks - 1)) || !q->nchunks) {
		nc = realloc(q->chunks, (q->nchunks ? q->nchunks * 2 : 16) *
			     sizeof(*nc));
		if (!nc)
			return -ENOMEM;
		q->chunks = nc;
	}
	q->chunks[q->nchunks++] = *ch;
	return 0;
}

int kh_unix_peek(int sk, bool stream, bool shut, struct kh_unix_queue *q)
{
	int off = -1, zero = 0, ret;
	socklen_t ol = sizeof(off);
	struct kh_unix_chunk ch;
	size_t cap = 0;
	ssize_t n;

	memset(q, 0, sizeof(*q));
	if (getsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &off, &ol) ||
	    setsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero)))
		return -errno;
	for (;;) {
		memset(&ch, 0, sizeof(ch));
		ret = grow(&q->data, &cap, q->len + 65536 * 4);
		if (ret)
			break;
		n = peek_one(sk, q->data + q->len, cap - q->len, &ch);
		/* the end: nothing more, or end of file once shut down (a
		 * datagram of 0 bytes is a message otherwise) */
		if (n == -EAGAIN || (n == 0 && !ch.nfds && (stream || shut))) {
			ret = 0;
			break;
		}
		if (n < 0 || q->len > (1UL << 32)) {
			ret = n < 0 ? (int)n : -EFBIG;
			free(ch.fds);
			break;
		}
		ch.len = n;
		ret = add_chunk(q, &ch);
		if (ret)
			break;
		q->len += n;
		q->nfds += ch.nfds;
	}
	setsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off));
	if (ret)
		kh_unix_free_queue(q);
	return ret;
}

/* the options a program may have set on a unix socket (our copy, sk) */
int kh_unix_options(int sk, struct kh_unix_opts *o)
{
	struct timeval rt, st;
	socklen_t l = sizeof(int), tl = sizeof(rt);
	int ret = 0;

	if (getsockopt(sk, SOL_SOCKET, SO_RCVTIMEO, &rt, &tl) ||
	    getsockopt(sk, SOL_SOCKET, SO_SNDTIMEO, &st, &tl) ||
	    getsockopt(sk, SOL_SOCKET, SO_SNDBUF, &o->sndbuf, &l) ||
	    getsockopt(sk, SOL_SOCKET, SO_RCVBUF, &o->rcvbuf, &l) ||
	    getsockopt(sk, SOL_SOCKET, SO_PASSCRED, &o->passcred, &l) ||
	    getsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &o->peek_off, &l))
		ret = -errno;
	o->rcvtimeo = rt.tv_sec * 1000000ULL + rt.tv_usec;
	o->sndtimeo = st.tv_sec * 1000000ULL + st.tv_usec;
	return ret;
}
