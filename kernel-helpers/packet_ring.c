// SPDX-License-Identifier: MIT
/*
 * A packet socket's rings (PACKET_RX_RING, PACKET_TX_RING): their sizes
 * come from packet_diag (packet.c), their frames are read through a
 * mapping of our own copy of the socket.  Restore sets up rings of the
 * same sizes and maps them where they were, and the frames' bytes come
 * back with the process's pages; what it cannot set again is the kernel's
 * own place in each ring (a fresh ring starts at its first frame or
 * block).  So a ring is saved only where that place is the start: no
 * packet ever taken (RX), no frame ever written (TX); anything else is
 * refused by name.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/if_packet.h>

#include "kh.h"
#include "crfs/format.h"
#include "kh_packet.h"

bool kh_is_socket_map(const char *path)
{
	return !strncmp(path, "socket:[", 8);
}

int kh_packet_ring_vma(struct crfs_vma *v, const char **why)
{
	unsigned long long ino;
	int n = 0;

	if (sscanf(v->path, "socket:[%llu]%n", &ino, &n) != 1 || v->path[n])
		return (*why = "unknown kind of mapping"), 1;
	v->kind = VMA_PACKET;
	v->shm_ino = ino;
	v->file_size = v->end - v->start;
	/* the kernel maps a ring whole, at offset 0, shared */
	if (v->pgoff || !(v->flags & VMA_F_SHARED))
		return (*why = "a part of a packet socket's ring, or a private mapping of one, is not supported"), 1;
	return 0;
}

uint64_t kh_packet_ring_len(const struct kh_packet_ring *r)
{
	return (uint64_t)r->block_size * r->block_nr;
}

/* frame i's header: frames fill each block from its start, none
 * crosses a block */
static const unsigned char *frame(const unsigned char *ring,
				  const struct kh_packet_ring *r, uint32_t i)
{
	uint32_t per = r->block_size / r->frame_size;

	return ring + (uint64_t)(i / per) * r->block_size +
	       (uint64_t)(i % per) * r->frame_size;
}

static uint32_t u32_at(const unsigned char *p, size_t off)
{
	uint32_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

/* where a frame header holds tp_status and tp_len, by version (V1's
 * status is an unsigned long: its low half) */
static void header_offsets(int version, size_t *status, size_t *len)
{
	*status = version == TPACKET_V3 ? 20 : 0;
	*len = version == TPACKET_V1 ? 8 : version == TPACKET_V2 ? 4 : 16;
}

static __thread char why_buf[128];

/* user: frames (or blocks) the program has not given back; used: the
 * kernel has moved on from the ring's start */
static const char *rx_verdict(uint32_t user, const char *what, uint32_t used)
{
	if (user) {
		snprintf(why_buf, sizeof(why_buf),
			 "a packet socket's RX ring with %u %s not yet consumed is not supported",
			 user, what);
		return why_buf;
	}
	return used ? "a packet socket's RX ring that has taken packets is not supported (the kernel's place in it cannot be set again)" : NULL;
}

/* V3: blocks, each with a header the kernel fills and retires */
static const char *rx_blocks(const unsigned char *ring,
			     const struct kh_packet_ring *r)
{
	const struct tpacket_block_desc *bd;
	uint32_t b, user = 0, used = 0;

	for (b = 0; b < r->block_nr; b++) {
		bd = (const void *)(ring + (uint64_t)b * r->block_size);
		user += bd->hdr.bh1.block_status != TP_STATUS_KERNEL;
		/* the kernel opens block 0 first; any other opened, or a
		 * packet in any, moved its place */
		used += bd->hdr.bh1.num_pkts || (b && bd->hdr.bh1.seq_num);
	}
	return rx_verdict(user, "blocks", used);
}

static const char *rx_frames(const unsigned char *ring,
			     const struct kh_packet_ring *r, int version)
{
	uint32_t i, user = 0, used = 0;
	size_t so, lo;

	header_offsets(version, &so, &lo);
	for (i = 0; i < r->frame_nr; i++) {
		user += u32_at(frame(ring, r, i), so) != TP_STATUS_KERNEL;
		used += u32_at(frame(ring, r, i), lo) != 0;
	}
	return rx_verdict(user, "frames", used);
}

static const char *tx_frames(const unsigned char *ring,
			     const struct kh_packet_ring *r, int version)
{
	uint32_t i;
	size_t so, lo;

	header_offsets(version, &so, &lo);
	for (i = 0; i < r->frame_nr; i++)
		if (u32_at(frame(ring, r, i), so) != TP_STATUS_AVAILABLE ||
		    u32_at(frame(ring, r, i), lo))
			return "a packet socket's TX ring that was written to is not supported (the kernel's place in it cannot be set again)";
	return NULL;
}

static void lens(const struct kh_packet *p, uint64_t *rx, uint64_t *tx)
{
	*rx = p->has_ring[0] ? kh_packet_ring_len(&p->ring[0]) : 0;
	*tx = p->has_ring[1] ? kh_packet_ring_len(&p->ring[1]) : 0;
}

const char *kh_packet_rings_scan(const unsigned char *map,
				 const struct kh_packet *p)
{
	const char *why = NULL;
	uint64_t rx, tx;

	lens(p, &rx, &tx);
	if (rx)
		why = p->version == TPACKET_V3 ? rx_blocks(map, &p->ring[0]) :
		      rx_frames(map, &p->ring[0], p->version);
	if (!why && tx)
		why = tx_frames(map + rx, &p->ring[1], p->version);
	return why;
}

const char *kh_packet_rings_check(int sk, const struct kh_packet *p, int *err)
{
	const char *why;
	unsigned char *map;
	uint64_t rx, tx;

	*err = 0;
	lens(p, &rx, &tx);
	if (!rx && !tx)
		return NULL;
	if ((rx && p->ring[0].frame_size > p->ring[0].block_size) ||
	    (tx && p->ring[1].frame_size > p->ring[1].block_size))
		return "a packet socket's ring of an unknown layout is not supported";
	/* the RX ring first, the TX ring right after it: one mapping */
	map = mmap(NULL, rx + tx, PROT_READ, MAP_SHARED, sk, 0);
	if (map == MAP_FAILED) {
		*err = -errno;
		return NULL;
	}
	why = kh_packet_rings_scan(map, p);
	munmap(map, rx + tx);
	return why;
}
