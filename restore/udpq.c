// SPDX-License-Identifier: MIT
/*
 * A UDP socket's queued datagrams again: once it is bound (and before it
 * is connected, which would turn away datagrams from others), each is
 * sent again from its sender's address and port, in order, through a raw
 * socket (kh_udpq_inject), and we wait until all are in its queue.
 */
#include <errno.h>
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

static int wait_arrival(struct open_ctx *c, int sk, const struct crfs_file *f)
{
	struct timespec ms = { 0, 1000000 };
	size_t n = 0;
	int i, ret;

	for (i = 0; i < ARRIVE_MS; i++) {
		ret = kh_udpq_count(sk, &n);
		if (ret)
			return FAIL(c, "file %u (UDP %s): count its datagrams: %s",
				    f->id, f->addr, strerror(-ret));
		if (n >= f->nmsgs)
			return 0;
		nanosleep(&ms, NULL);
	}
	return FAIL(c, "file %u (UDP %s): %zu of its %u datagrams arrived again",
		    f->id, f->addr, n, f->nmsgs);
}

static int send_all(struct open_ctx *c, const struct crfs_file *f,
		    const struct kh_dgram *d, const char *data)
{
	char what[256];
	uint32_t i;
	int ret;

	for (i = 0; i < f->nmsgs; i++) {
		ret = local_addr(&d[i], f->protocol);
		kh_dgram_str(&d[i], what, sizeof(what));
		if (ret)
			return FAIL(c, "file %u (UDP %s): queued datagram %u (%s): its destination is not an address of this host: %s",
				    f->id, f->addr, i + 1, what,
				    strerror(-ret));
		ret = kh_udpq_inject(&d[i], f->protocol, data);
		if (ret)
			return FAIL(c, "file %u (UDP %s): queued datagram %u (%s): send it again: %s",
				    f->id, f->addr, i + 1, what,
				    strerror(-ret));
		data += d[i].len;
	}
	return 0;
}

int udpq_refill(struct open_ctx *c, int sk, const struct crfs_file *f)
{
	struct kh_dgram *d = calloc(f->nmsgs + 1, sizeof(*d));
	char *data = NULL, *text = NULL;
	size_t len, tlen;
	int ret;

	if (!d)
		return -ENOMEM;
	ret = read_fdata(c, f, "", &data, &len);
	ret = ret ?: read_fdata(c, f, ".dgrams", &text, &tlen);
	ret = ret ?: dgram_lines(c, f, text, d, len);
	ret = ret ?: send_all(c, f, d, data);
	ret = ret ?: wait_arrival(c, sk, f);
	free(d);
	free(data);
	free(text);
	return ret;
}
