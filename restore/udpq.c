// SPDX-License-Identifier: MIT
/*
 * A UDP socket's queued datagrams again: once it is bound (and before it
 * is connected, which would turn away datagrams from others), each is
 * sent again from its sender's address and port, in order, through a raw
 * socket (kh_udpq_inject), each once the one before is in its queue.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>

#include "kh_packet.h"
#include "files.h"

#define ARRIVE_MS 5000

/* the destination must be ours here, or the datagram would leave */
static int local_addr(const struct kh_dgram *d, int protocol)
{
	struct sockaddr_storage a = d->dst;
	int sk = socket(a.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, protocol);
	int ret = 0;

	if (sk < 0)
		return -errno;
	if (a.ss_family == AF_INET)
		((struct sockaddr_in *)&a)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&a)->sin6_port = 0;
	if (bind(sk, (struct sockaddr *)&a, sizeof(a)))
		ret = -errno;
	close(sk);
	return ret;
}

static int dgram_lines(struct open_ctx *c, const struct crfs_file *f,
		       char *text, struct kh_dgram *d, size_t dlen)
{
	char *line, *save = NULL;
	uint64_t sum = 0;
	uint32_t n = 0;

	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (n >= f->nmsgs || kh_dgram_parse(line, &d[n]))
			return FAIL(c, "file %u: %s/%u.dgrams: bad line %u",
				    f->id, CRFS_D_FDATA, f->id, n + 1);
		sum += d[n++].len;
	}
	if (n != f->nmsgs || sum != dlen)
		return FAIL(c, "file %u: %s/%u.dgrams: %u datagrams of %lu bytes, %s says %u of %zu",
			    f->id, CRFS_D_FDATA, f->id, n, sum, CRFS_F_FILES,
			    f->nmsgs, dlen);
	return 0;
}

/*
 * Until d has arrived: the socket's queued bytes grew, or it dropped one.
 * Loopback delivers it at once unless softirqs are deferred; waiting for
 * each before sending the next keeps them in order even then (the next
 * might be sent from another CPU's backlog).
 */
static int arrived(struct open_ctx *c, int sk, const struct crfs_file *f,
		   uint32_t i, uint32_t *rmem, uint32_t *drops)
{
	struct timespec us = { 0, 100000 };
	uint32_t r, d;
	int n, ret;

	for (n = 0; n < ARRIVE_MS * 10; n++) {
		ret = kh_sock_meminfo(sk, &r, &d);
		if (ret)
			return FAIL(c, "file %u (UDP %s): SO_MEMINFO: %s",
				    f->id, f->addr, strerror(-ret));
		if (d != *drops)
			return FAIL(c, "file %u (UDP %s): queued datagram %u was dropped when sent again",
				    f->id, f->addr, i + 1);
		if (r != *rmem) {
			*rmem = r;
			return 0;
		}
		nanosleep(&us, NULL);
	}
	return FAIL(c, "file %u (UDP %s): queued datagram %u did not arrive again in %d ms",
		    f->id, f->addr, i + 1, ARRIVE_MS);
}

static int send_one(struct open_ctx *c, const struct crfs_file *f,
		    const struct kh_injector *in, const struct kh_dgram *d,
		    uint32_t i, const char *data)
{
	char what[256];
	int ret = 0;

	/* the same destination as the one before was checked already */
	if (!i || memcmp(&d[0].dst, &d[-1].dst, sizeof(d->dst)))
		ret = local_addr(d, f->protocol);
	kh_dgram_str(d, what, sizeof(what));
	if (ret)
		return FAIL(c, "file %u (UDP %s): queued datagram %u (%s): its destination is not an address of this host: %s",
			    f->id, f->addr, i + 1, what, strerror(-ret));
	ret = kh_udpq_inject(in, d, f->protocol, data);
	if (ret)
		return FAIL(c, "file %u (UDP %s): queued datagram %u (%s): send it again: %s",
			    f->id, f->addr, i + 1, what, strerror(-ret));
	return 0;
}

static int send_all(struct open_ctx *c, int sk, const struct crfs_file *f,
		    const struct kh_dgram *d, const char *data)
{
	struct kh_injector in;
	uint32_t i, rmem, drops;
	int ret;

	ret = kh_udpq_injector(&in);
	if (ret)
		return FAIL(c, "file %u (UDP %s): raw socket to send its datagrams again: %s",
			    f->id, f->addr, strerror(-ret));
	ret = kh_sock_meminfo(sk, &rmem, &drops);
	if (ret)
		ret = FAIL(c, "file %u (UDP %s): SO_MEMINFO: %s", f->id,
			   f->addr, strerror(-ret));
	for (i = 0; !ret && i < f->nmsgs; i++) {
		ret = send_one(c, f, &in, &d[i], i, data);
		ret = ret ?: arrived(c, sk, f, i, &rmem, &drops);
		data += d[i].len;
	}
	kh_udpq_injector_close(&in);
	return ret;
}

/*
 * Room for the whole queue while it is sent again (the image's buffer
 * size is set only later, and a datagram sent again may take a little
 * more memory than it did): one dropped would fail the restore.  *was
 * is the size to put back.
 */
static int widen(struct open_ctx *c, int sk, const struct crfs_file *f,
		 size_t bytes, int *was)
{
	socklen_t l = sizeof(*was);
	uint64_t room;

	if (getsockopt(sk, SOL_SOCKET, SO_RCVBUF, was, &l))
		return FAIL(c, "file %u (UDP %s): SO_RCVBUF: %s", f->id,
			    f->addr, strerror(errno));
	room = (uint64_t)*was + 2 * bytes + 4096ull * f->nmsgs;
	if (room > INT_MAX)
		room = INT_MAX;
	if (setsockopt(sk, SOL_SOCKET, SO_RCVBUFFORCE, &(int){ room / 2 },
		       sizeof(int)))
		return FAIL(c, "file %u (UDP %s): make room for %u datagrams (SO_RCVBUFFORCE): %s",
			    f->id, f->addr, f->nmsgs, strerror(errno));
	return 0;
}

int udpq_refill(struct open_ctx *c, int sk, const struct crfs_file *f)
{
	struct kh_dgram *d = calloc(f->nmsgs + 1, sizeof(*d));
	char *data = NULL, *text = NULL;
	size_t len, tlen;
	int ret, was = 0;

	if (!d)
		return -ENOMEM;
	ret = read_fdata(c, f, "", &data, &len);
	ret = ret ?: read_fdata(c, f, ".dgrams", &text, &tlen);
	ret = ret ?: dgram_lines(c, f, text, d, len);
	ret = ret ?: widen(c, sk, f, len, &was);
	ret = ret ?: send_all(c, sk, f, d, data);
	if (!ret && setsockopt(sk, SOL_SOCKET, SO_RCVBUFFORCE,
			       &(int){ was / 2 }, sizeof(int)))
		ret = FAIL(c, "file %u (UDP %s): SO_RCVBUFFORCE back: %s",
			   f->id, f->addr, strerror(errno));
	free(d);
	free(data);
	free(text);
	return ret;
}
