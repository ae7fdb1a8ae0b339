// SPDX-License-Identifier: MIT
/*
 * A listening TCP socket with connections not yet accepted.  The kernel
 * cannot put a connection back into an accept queue, so restore makes it
 * again: the client, a socket of the tree, connects for real from its old
 * port, in the order of the queue (restore/tcp_pending.c).  That holds
 * only when the client is ours and nothing was sent yet: the server end's
 * bytes cannot be read without accept(), which no thaw could undo.  Such a
 * client is not saved as a connection (no repair mode, no lock): it is
 * left alone, and a thaw finds it as it was.
 */
#include <errno.h>
#include <stdbool.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>

#include "files.h"
#include "kh_ns.h"

struct kids_call {
	struct sockaddr_storage listen;
	struct kh_tcp_child *kids;
	size_t n;
};

/* one queued connection and the client file it comes from */
struct waiting {
	const struct kh_tcp_child *k;
	uint32_t client;
};

/* the same connections, all aged alike since the dump before */
static bool steady(const struct kids_call *a, const struct kids_call *b)
{
	size_t i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (memcmp(&a->kids[i].peer, &b->kids[i].peer, sizeof(a->kids[i].peer)) ||
		    b->kids[i].age_ms - a->kids[i].age_ms !=
		    b->kids[0].age_ms - a->kids[0].age_ms)
			return false;
	return true;
}

/* one dump no clock tick crossed; -EAGAIN: one did */
static int clean_dump(struct kids_call *k)
{
	struct timespec a, b;
	int ret;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &a);
	ret = kh_tcp_children(&k->listen, &k->kids, &k->n);
	clock_gettime(CLOCK_MONOTONIC_COARSE, &b);
	if (ret || (a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec))
		return ret;
	free(k->kids);
	k->kids = NULL;
	k->n = 0;
	return -EAGAIN;
}

/*
 * Each age is counted in ticks up to the moment its socket is dumped: a
 * tick in the middle of a dump (which walks the whole connection hash, so
 * it often spans one) makes the sockets dumped after it look a tick older
 * and can swap two connections made in adjacent ticks.  A dump is taken
 * only when CLOCK_MONOTONIC_COARSE, which the same tick moves, reads the
 * same before and after it; and only once two such dumps agree (the same
 * connections, aged alike), which also covers the few microseconds
 * between the tick's two updates.  -ETIME: no such pair came.
 */
static int kids_fn(void *arg)
{
	struct kids_call *k = arg, prev = { .n = 0 };
	bool have = false;
	int ret = 0, tries;

	for (tries = 0; tries < 400; tries++) {
		ret = clean_dump(k);
		if (ret == -EAGAIN)
			continue;
		if (ret || (have && steady(&prev, k)))
			break;
		free(prev.kids);
		prev = *k;
		k->kids = NULL;
		have = true;
	}
	free(prev.kids);
	return tries < 400 ? ret : -ETIME;
}

/* the tree's socket at the other end of k, 0: none */
static uint32_t client_of(struct files_ctx *c, const struct kh_tcp_child *k)
{
	char local[INET6_ADDRSTRLEN + 16], peer[INET6_ADDRSTRLEN + 16];
	const struct crfs_file *f;
	size_t i;

	kh_inet_addr_str(&k->peer, local, sizeof(local));
	kh_inet_addr_str(&k->local, peer, sizeof(peer));
	for (i = 0; i < c->nfiles; i++) {
		f = &c->files[i];
		if (!c->bad[i] && f->kind == FK_INET &&
		    f->sock_type == SOCK_T_STREAM && f->dst && f->addr &&
		    !strcmp(f->addr, local) && !strcmp(f->dst, peer))
			return i + 1;
	}
	return 0;
}

/* bytes the client sent that the listener's end has not acknowledged */
static int unacked(struct files_ctx *c, uint32_t id)
{
	int fd = files_tcp_take(c, id), out = 0;

	if (fd < 0)
		return 0;	/* not held: checked by the caller first */
	if (ioctl(fd, SIOCOUTQ, &out))
		out = -errno;
	close(fd);
	return out;
}

/* oldest first: the accept queue's order, to a jiffy; then the clients'
 * file order (the order they were made in, as a program mostly connects) */
static int by_age(const void *a, const void *b)
{
	const struct waiting *x = a, *y = b;

	if (x->k->age_ms != y->k->age_ms)
		return x->k->age_ms > y->k->age_ms ? -1 : 1;
	return x->client < y->client ? -1 : x->client > y->client;
}

/* why the queue cannot be made again; NULL: w[] holds it */
static const char *match(struct files_ctx *c, const struct kids_call *k,
			 uint32_t accq, struct waiting *w, char *buf,
			 size_t len)
{
	char addr[INET6_ADDRSTRLEN + 16];
	size_t i;

	for (i = 0; i < k->n; i++) {
		w[i].k = &k->kids[i];
		w[i].client = client_of(c, &k->kids[i]);
		if (!w[i].client) {
			kh_inet_addr_str(&k->kids[i].peer, addr, sizeof(addr));
			snprintf(buf, len, "a listening TCP socket with a connection not yet accepted from outside the tree (%s) is not supported",
				 addr);
			return buf;
		}
		if (k->kids[i].state != TCP_ESTABLISHED)
			return "a listening TCP socket with a connection not yet accepted that its client shut down is not supported";
		if (k->kids[i].rqueue)
			return "a listening TCP socket with data sent on a connection not yet accepted is not supported";
	}
	/* a listener sharing its port (SO_REUSEPORT) shows the other's too */
	if (k->n != accq)
		return "cannot tell which connections not yet accepted are this listening TCP socket's (another listens on its port)";
	return NULL;
}

static int one_listener(struct files_ctx *c, uint32_t id)
{
	struct crfs_file *l = &c->files[id - 1];
	const struct kh_fd *fd = &c->s->fds[c->rep[id - 1]];
	struct kids_call k = { .n = 0 };
	struct waiting *w = NULL;
	const char *why = NULL;
	char buf[160];
	socklen_t sl;
	size_t i;
	int ret;

	if (kh_inet_addr_parse(l->addr, &k.listen, &sl))
		return -EINVAL;
	ret = kh_in_ns(fd->pid, "net", CLONE_NEWNET, kids_fn, &k);
	if (!ret && !(w = calloc(k.n + 1, sizeof(*w))))
		ret = -ENOMEM;
	if (ret == -ENOMEM)
		goto out;
	if (ret == -ETIME)
		why = "cannot tell the order of a listening TCP socket's connections not yet accepted (no dump of them fell within one clock tick)";
	else if (ret)
		why = "cannot list the connections not yet accepted of a listening TCP socket (sock_diag)";
	else
		why = match(c, &k, l->accq, w, buf, sizeof(buf));
	/* nothing the client sent may wait unacknowledged either; a client
	 * taken out of the saved connections is never touched, so a refusal
	 * (which fails the freeze) leaves it as it was */
	for (i = 0; !why && i < k.n; i++)
		if (unacked(c, w[i].client))
			why = "a listening TCP socket with data sent on a connection not yet accepted is not supported";
	if (why) {
		files_report(c, fd, why);
		c->bad[id - 1] = true;
		goto out;
	}
	qsort(w, k.n, sizeof(*w), by_age);
	for (i = 0; i < k.n; i++) {
		c->files[w[i].client - 1].pending = id;
		c->files[w[i].client - 1].pending_pos = i + 1;
	}
out:
	free(w);
	free(k.kids);
	return ret == -ENOMEM ? ret : 0;
}

int files_tcp_pending(struct files_ctx *c)
{
	const struct crfs_file *f;
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < c->nfiles; i++) {
		f = &c->files[i];
		if (!c->bad[i] && f->kind == FK_INET && f->accq &&
		    f->sock_type == SOCK_T_STREAM)
			ret = one_listener(c, i + 1);
	}
	return ret;
}
