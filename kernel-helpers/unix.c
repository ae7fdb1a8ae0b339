// SPDX-License-Identifier: MIT
/*
 * Unix sockets: who is connected to whom, names and pending connections
 * come from sock_diag (NETLINK_SOCK_DIAG); queued data is peeked with
 * SO_PEEK_OFF so that nothing is taken from the frozen container.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
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
				     UDIAG_SHOW_ICONS | UDIAG_SHOW_RQLEN },
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
	*out = u;
	*nout = n;
	return 0;
}

const struct kh_unix *kh_unix_find(const struct kh_unix *u, size_t n,
				   uint64_t ino)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (u[i].ino == ino)
			return &u[i];
	return NULL;
}

static bool has_rights(struct msghdr *mh)
{
	struct cmsghdr *c;
	bool found = false;

	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		int *fds = (int *)CMSG_DATA(c);
		size_t k, nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		found = true;
		for (k = 0; k < nfd; k++)
			close(fds[k]);	/* peeking gave us copies */
	}
	return found;
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

static int add_len(uint32_t **lens, size_t n, uint32_t len)
{
	uint32_t *nl;

	if (!(n & (n - 1)) || !n) {
		nl = realloc(*lens, (n ? n * 2 : 16) * sizeof(*nl));
		if (!nl)
			return -ENOMEM;
		*lens = nl;
	}
	(*lens)[n] = len;
	return 0;
}

/* one peek: the next message (or stream bytes) after the peek offset */
static ssize_t peek_one(int sk, char *buf, size_t len, bool *rights)
{
	char ctl[CMSG_SPACE(253 * sizeof(int))];
	struct iovec iov = { buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	ssize_t n = recvmsg(sk, &mh, MSG_PEEK | MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

	if (n >= 0 && has_rights(&mh))
		*rights = true;
	if (n >= 0 && (mh.msg_flags & MSG_TRUNC))
		return -EMSGSIZE;
	return n < 0 ? -errno : n;
}

int kh_unix_peek(int sk, bool stream, bool shut, char **out, size_t *outlen,
		 uint32_t **lens, size_t *nmsgs)
{
	int off = -1, zero = 0;
	socklen_t ol = sizeof(off);
	size_t len = 0, cap = 0;
	bool rights = false;
	char *buf = NULL;
	ssize_t n;
	int ret;

	*lens = NULL;
	*nmsgs = 0;
	if (getsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &off, &ol) ||
	    setsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero)))
		return -errno;
	for (;;) {
		ret = grow(&buf, &cap, len + 65536 * 4);
		if (ret)
			break;
		n = peek_one(sk, buf + len, cap - len, &rights);
		/* the end: nothing more, or end of file once shut down (a
		 * datagram of 0 bytes is a message otherwise) */
		if (n == -EAGAIN || (n == 0 && (stream || shut))) {
			ret = 0;
			break;
		}
		if (len > (1UL << 32)) {
			ret = -EFBIG;
			break;
		}
		if (n < 0) {
			ret = (int)n;
			break;
		}
		if (!stream && (ret = add_len(lens, (*nmsgs)++, n)))
			break;
		len += n;
	}
	setsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off));
	if (!ret && rights)
		ret = -EXDEV;	/* file descriptors in flight */
	if (ret) {
		free(buf);
		free(*lens);
		*lens = NULL;
		return ret;
	}
	*out = buf;
	*outlen = len;
	return 0;
}

/* why a socket that is not a unix socket cannot be checkpointed */
const char *kh_socket_family(pid_t pid, int fd)
{
	int sk = kh_steal_fd(pid, fd), dom = -1;
	socklen_t len = sizeof(dom);

	if (sk >= 0) {
		getsockopt(sk, SOL_SOCKET, SO_DOMAIN, &dom, &len);
		close(sk);
	}
	switch (dom) {
	case AF_INET:
		return "inet (IPv4) sockets are not supported yet";
	case AF_INET6:
		return "inet6 (IPv6) sockets are not supported yet";
	case AF_NETLINK:
		return "netlink sockets are not supported";
	case AF_PACKET:
		return "packet sockets are not supported";
	default:
		return "only unix sockets are supported";
	}
}
