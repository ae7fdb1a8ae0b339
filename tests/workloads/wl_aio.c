// SPDX-License-Identifier: MIT
/*
 * wl_aio - two AIO contexts (io_setup) with completed events not yet
 * reaped.  ctx A (128 requested): 10 reads of a file submitted, all
 * completed, 4 reaped: 6 events wait in its ring.  ctx B (one page of
 * ring, 127 slots): 120 reads submitted and reaped, then 20 more: its tail
 * has wrapped past the ring's end, 20 wait.  After SIGUSR1 both contexts
 * have the same ids (the ring addresses), their rings the same head and
 * tail; io_getevents returns the waiting events in order with their
 * data, iocb and result, the buffers hold what was read; then both take
 * and complete new requests, as many as before.
 *
 * wl_aio FILE fork: a child forked after io_setup keeps the rings' mapping
 * but not the contexts; crfs must refuse the tree (READY, then waits).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <linux/aio_abi.h>
#include <sys/syscall.h>

#include "wl_common.h"

#define BLK 4096
#define NA 10
#define NB_DONE 120
#define NB_WAIT 20

struct ring {
	unsigned id, nr, head, tail, magic, compat, incompat, hdrlen;
};

static volatile sig_atomic_t go;
static struct iocb cbs[NA + NB_DONE + NB_WAIT];
static char bufs[NA + NB_WAIT][BLK] __attribute__((aligned(BLK)));

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static long io_setup_(unsigned n, aio_context_t *c)
{
	return syscall(SYS_io_setup, n, c);
}

static long submit(aio_context_t c, struct iocb *cb)
{
	return syscall(SYS_io_submit, c, 1, &cb);
}

static long reap(aio_context_t c, struct io_event *ev, long n)
{
	struct timespec ts = { 5, 0 };

	return syscall(SYS_io_getevents, c, n, n, ev, &ts);
}

static void prep(struct iocb *cb, int fd, void *buf, uint64_t tag, off_t off)
{
	memset(cb, 0, sizeof(*cb));
	cb->aio_data = tag;
	cb->aio_lio_opcode = IOCB_CMD_PREAD;
	cb->aio_fildes = fd;
	cb->aio_buf = (uintptr_t)buf;
	cb->aio_nbytes = BLK;
	cb->aio_offset = off;
}

/* the file: block i holds pattern i */
static int make_file(const char *path)
{
	static char blk[BLK] __attribute__((aligned(8)));
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600), i;

	if (fd < 0)
		wl_die("open %s", path);
	for (i = 0; i < 16; i++) {
		wl_fill(blk, BLK, 1000 + i);
		if (write(fd, blk, BLK) != BLK)
			wl_die("write");
	}
	return fd;
}

/* n events waiting in c: tags first, first+1, ..., each a full block */
static void check_waiting(const char *name, aio_context_t c, uint64_t first,
			  int n)
{
	struct io_event ev[32];
	long got = reap(c, ev, n);
	int i;

	if (got != n)
		return wl_fail(name, "io_getevents: %ld of %d (%s)", got, n,
			       got < 0 ? strerror(errno) : "short");
	for (i = 0; i < n; i++) {
		struct iocb *cb = (struct iocb *)(uintptr_t)ev[i].obj;

		if (ev[i].data != first + i || ev[i].res != BLK ||
		    !cb || cb->aio_data != ev[i].data)
			return wl_fail(name, "event %d: data %llu res %lld, want %llu %d",
				       i, (unsigned long long)ev[i].data,
				       (long long)ev[i].res,
				       (unsigned long long)(first + i), BLK);
		if (wl_check((void *)(uintptr_t)cb->aio_buf, BLK,
			     1000 + cb->aio_offset / BLK) != (size_t)-1)
			return wl_fail(name, "event %d: buffer differs", i);
	}
	wl_pass(name);
}

/* a new request still completes, and n can be in flight as before */
static void check_more(const char *name, aio_context_t c, int fd, int n)
{
	struct io_event ev[64];
	int i;

	for (i = 0; i < n; i++) {
		prep(&cbs[i], fd, bufs[i % (NA + NB_WAIT)], 5000 + i,
		     (i % 16) * BLK);
		if (submit(c, &cbs[i]) != 1)
			return wl_fail(name, "io_submit %d: %s", i, strerror(errno));
	}
	if (reap(c, ev, n) != n)
		return wl_fail(name, "io_getevents: %s", strerror(errno));
	for (i = 0; i < n; i++)
		if (ev[i].data != 5000u + i || ev[i].res != BLK)
			return wl_fail(name, "event %d: data %llu res %lld", i,
				       (unsigned long long)ev[i].data,
				       (long long)ev[i].res);
	wl_pass(name);
}

static void check_ring(const char *name, aio_context_t c, unsigned head,
		       unsigned tail)
{
	const struct ring *r = (const struct ring *)c;

	if (r->magic != 0xa10a10a1u || r->head != head || r->tail != tail)
		return wl_fail(name, "magic %#x head %u tail %u, want head %u tail %u",
			       r->magic, r->head, r->tail, head, tail);
	wl_pass(name);
}

int main(int argc, char **argv)
{
	aio_context_t a = 0, b = 0, a0, b0;
	struct io_event ev[NB_DONE];
	unsigned ahead, atail, bhead, btail;
	int fd, i;

	if (argc < 2)
		wl_die("usage: wl_aio FILE");
	wl_own_session();
	signal(SIGUSR1, on_usr1);
	fd = make_file(argv[1]);
	if (io_setup_(128, &a) || io_setup_(1, &b))
		wl_die("io_setup");
	for (i = 0; i < NA; i++) {
		prep(&cbs[i], fd, bufs[i], 100 + i, (i % 16) * BLK);
		if (submit(a, &cbs[i]) != 1)
			wl_die("io_submit a");
	}
	/* all ten complete before we announce READY: none is in flight */
	while (((struct ring *)a)->tail != NA)
		usleep(1000);
	if (reap(a, ev, 4) != 4)
		wl_die("reap a");
	if (((struct ring *)b)->nr != 127)
		wl_die("ring b has %u slots, want 127", ((struct ring *)b)->nr);
	for (i = 0; i < NB_DONE; i++) {
		prep(&cbs[NA + i], fd, bufs[0], 200 + i, 0);
		if (submit(b, &cbs[NA + i]) != 1 || reap(b, ev, 1) != 1)
			wl_die("io_submit b");
	}
	for (i = 0; i < NB_WAIT; i++) {
		prep(&cbs[NA + NB_DONE + i], fd, bufs[NA + i], 300 + i,
		     (i % 16) * BLK);
		if (submit(b, &cbs[NA + NB_DONE + i]) != 1)
			wl_die("io_submit b");
	}
	while (((struct ring *)b)->tail != (NB_DONE + NB_WAIT) % 127)
		usleep(1000);
	if (argc > 2 && !strcmp(argv[2], "fork")) {
		pid_t kid = fork();

		if (kid < 0)
			wl_die("fork");
		if (!kid)
			for (;;)
				pause();
		wl_ready();
		for (;;)
			pause();
	}
	a0 = a, b0 = b;
	ahead = ((struct ring *)a)->head, atail = ((struct ring *)a)->tail;
	bhead = ((struct ring *)b)->head, btail = ((struct ring *)b)->tail;
	wl_ready();
	while (!go)
		pause();
	if (a != a0 || b != b0)
		wl_fail("aio.ids", "contexts moved");
	check_ring("aio.a.ring", a, ahead, atail);
	check_ring("aio.b.ring", b, bhead, btail);
	check_waiting("aio.a.waiting", a, 104, NA - 4);
	check_waiting("aio.b.waiting", b, 300, NB_WAIT);
	check_more("aio.a.more", a, fd, 60);
	check_more("aio.b.more", b, fd, 60);
	return wl_done();
}
