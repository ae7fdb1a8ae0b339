// SPDX-License-Identifier: MIT
/*
 * Connections that waited in a listener's accept queue: the kernel cannot
 * queue one again, so the client connects for real (no repair mode, no
 * lock: both ends are ours) from the port it had, once every listener is
 * back.  One at a time, each waiting until the listener has queued it, so
 * that accept() takes them in the saved order.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "kh.h"
#include "files.h"

static int accept_queue(int sk)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);

	return getsockopt(sk, IPPROTO_TCP, TCP_INFO, &ti, &l) ? -errno :
	       (int)ti.tcpi_unacked;
}

/* the handshake's last ACK is taken in softirq: up to 2 s under load */
static int queued(int listener, int n)
{
	struct timespec ms = { 0, 1000000 };
	int i, now = accept_queue(listener);

	for (i = 0; now >= 0 && now < n && i < 2000; i++) {
		nanosleep(&ms, NULL);
		now = accept_queue(listener);
	}
	return now < 0 ? now : now >= n ? 0 : -ETIMEDOUT;
}

static int by_place(const void *a, const void *b)
{
	const struct crfs_file *x = *(const struct crfs_file *const *)a;
	const struct crfs_file *y = *(const struct crfs_file *const *)b;

	if (x->pending != y->pending)
		return x->pending < y->pending ? -1 : 1;
	return x->pending_pos < y->pending_pos ? -1 :
	       x->pending_pos > y->pending_pos;
}

/* names a listening TCP socket whose queue held this many, once each */
static int check(struct open_ctx *c, const struct crfs_file *f,
		 const struct crfs_file *prev)
{
	const struct image *img = c->img;
	const struct crfs_file *l = f->pending <= img->nfiles ?
				    &img->files[f->pending - 1] : NULL;

	if (!l || l->kind != FK_INET || l->sock_type != SOCK_T_STREAM ||
	    l->backlog < 0)
		return FAIL(c, "file %u: 'pending %u' does not name a listening TCP socket",
			    f->id, f->pending);
	if (!f->dst || !f->addr || f->pending_pos < 1 ||
	    f->pending_pos > l->accq ||
	    f->pending_pos != (prev && prev->pending == f->pending ?
			       prev->pending_pos + 1 : 1u))
		return FAIL(c, "file %u: 'pending_pos %u' is not the next place in the accept queue of file %u (accq %u)",
			    f->id, f->pending_pos, f->pending, l->accq);
	return 0;
}

static int connect_one(struct open_ctx *c, const struct crfs_file *f)
{
	int fam = f->addr[0] == '[' ? AF_INET6 : AF_INET, sk, ret;
	const char *step = "socket";

	sk = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
	if (sk < 0)
		goto fail;
	if (inet_prepare(c, sk, f, &step) && step)
		goto fail;
	if (!step) {
		close(sk);
		return -EINVAL;
	}
	step = "connect";
	if (inet_connect_dst(sk, f))
		goto fail;
	step = "wait for the listener to queue it";
	ret = queued(slot(c->img, f->pending), f->pending_pos);
	if (ret) {
		errno = -ret;
		goto fail;
	}
	step = "set its buffer sizes and flags";
	if (set_buffers(sk, f) || fcntl(sk, F_SETFL, f->flags))
		goto fail;
	return place(c, f, sk);
fail:
	ret = errno;
	if (sk >= 0)
		close(sk);
	return FAIL(c, "file %u (TCP connection %s to %s, not yet accepted by file %u): %s: %s",
		    f->id, f->addr, f->dst, f->pending, step, strerror(ret));
}

/* every listener's queue is there whole: as many clients as it held */
static int all_there(struct open_ctx *c, const struct crfs_file **w, size_t n)
{
	const struct image *img = c->img;
	uint32_t id, k;
	size_t i;

	for (id = 1; id <= img->nfiles; id++) {
		if (img->files[id - 1].kind != FK_INET || !img->files[id - 1].accq)
			continue;
		for (i = 0, k = 0; i < n; i++)
			k += w[i]->pending == id;
		if (k != img->files[id - 1].accq)
			return FAIL(c, "file %u: its accept queue held %u connections; the image has %u clients for it",
				    id, img->files[id - 1].accq, k);
	}
	return 0;
}

int tcp_pending_open(struct open_ctx *c)
{
	const struct image *img = c->img;
	const struct crfs_file **w = calloc(img->nfiles + 1, sizeof(*w));
	size_t i, n = 0;
	int ret = 0;

	if (!w)
		return FAIL(c, "out of memory");
	for (i = 0; i < img->nfiles; i++)
		if (is_tcp_pending(&img->files[i]))
			w[n++] = &img->files[i];
	qsort(w, n, sizeof(*w), by_place);
	for (i = 0; !ret && i < n; i++)
		ret = check(c, w[i], i ? w[i - 1] : NULL);
	ret = ret ?: all_there(c, w, n);
	for (i = 0; !ret && i < n; i++)
		ret = connect_one(c, w[i]);
	free(w);
	return ret;
}

bool is_tcp_pending(const struct crfs_file *f)
{
	return f->kind == FK_INET && f->pending;
}
