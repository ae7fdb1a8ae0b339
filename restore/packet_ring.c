// SPDX-License-Identifier: MIT
/*
 * A packet socket's rings again: the same sizes set up with
 * PACKET_RX_RING and PACKET_TX_RING (after PACKET_VERSION and
 * PACKET_RESERVE, which a ring fixes), and each process's mapping of them
 * made from the socket itself (the restorer maps it where it was and fills
 * its pages as the image has them).  The daemon saved only rings whose
 * kernel place was their start, where a new ring's is.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/if_packet.h>

#include "kh.h"
#include "kh_packet.h"
#include "files.h"

/* one "rx/..." or "tx/..." of f->ring; *len its bytes */
static int parse_one(const char *s, int *tx, struct tpacket_req3 *r)
{
	char name[3];
	int n = 0;

	memset(r, 0, sizeof(*r));
	if (sscanf(s, "%2[rtx]/%u/%u/%u/%u/%u/%u/%u%n", name, &r->tp_block_size,
		   &r->tp_block_nr, &r->tp_frame_size, &r->tp_frame_nr,
		   &r->tp_retire_blk_tov, &r->tp_sizeof_priv,
		   &r->tp_feature_req_word, &n) != 8 ||
	    (s[n] && s[n] != ';') || (strcmp(name, "rx") && strcmp(name, "tx")))
		return -EINVAL;
	*tx = name[0] == 't';
	return 0;
}

/* bytes of f's rings, RX and TX together (as they are mapped); 0: none */
static int64_t rings_len(const struct crfs_file *f)
{
	struct tpacket_req3 r;
	const char *s = f->ring;
	int64_t len = 0;
	int tx;

	for (; s && *s; s += strcspn(s, ";"), s += *s == ';') {
		if (parse_one(s, &tx, &r))
			return -EINVAL;
		len += (int64_t)r.tp_block_size * r.tp_block_nr;
	}
	return len;
}

int packet_rings_set(struct open_ctx *c, int sk, const struct crfs_file *f)
{
	struct tpacket_req3 r;
	const char *s = f->ring;
	int version = TPACKET_V1, tx;
	socklen_t l = sizeof(version);

	if (s && getsockopt(sk, SOL_PACKET, PACKET_VERSION, &version, &l))
		return FAIL(c, "file %u (packet socket): PACKET_VERSION: %s",
			    f->id, strerror(errno));
	for (; s && *s; s += strcspn(s, ";"), s += *s == ';') {
		if (parse_one(s, &tx, &r))
			return FAIL(c, "file %u (packet socket): bad ring '%s'",
				    f->id, f->ring);
		if (setsockopt(sk, SOL_PACKET, tx ? PACKET_TX_RING : PACKET_RX_RING,
			       &r, version == TPACKET_V3 ? sizeof(r) :
			       sizeof(struct tpacket_req)))
			return FAIL(c, "file %u (packet socket): set up its %s ring (%s): %s",
				    f->id, tx ? "TX" : "RX", f->ring,
				    strerror(errno));
	}
	return 0;
}

/* by the process's own descriptor of it: its table is installed by now */
int packet_ring_fd(const struct image *img, const struct proc_image *p,
		   const struct crfs_vma *v)
{
	const struct crfs_file *f;
	size_t i;

	for (i = 0; i < p->nfds; i++) {
		f = p->fds[i].file && p->fds[i].file <= img->nfiles ?
		    &img->files[p->fds[i].file - 1] : NULL;
		if (!f || f->kind != FK_PACKET || f->ino != v->shm_ino)
			continue;
		/* the kernel maps a socket's rings whole, or not at all */
		if (!f->ring || rings_len(f) != (int64_t)(v->end - v->start))
			return -EINVAL;
		return fcntl(p->fds[i].fd, F_DUPFD_CLOEXEC, 0);
	}
	return -ENOENT;
}
