// SPDX-License-Identifier: MIT
/*
 * A fast 64-bit checksum for image integrity (not cryptographic): four
 * independent multiply-rotate lanes so the CPU overlaps them, which keeps
 * it well above memory bandwidth.
 */
#include <string.h>

#include "crfs/format.h"

#define P1 0x9e3779b185ebca87ULL
#define P2 0xc2b2ae3d27d4eb4fULL
#define P3 0x165667b19e3779f9ULL

static inline uint64_t rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64_t lane(uint64_t acc, uint64_t v)
{
	acc += v * P2;
	acc = rotl(acc, 31);
	return acc * P1;
}

static inline uint64_t load64(const unsigned char *p)
{
	uint64_t v;

	__builtin_memcpy(&v, p, sizeof(v));	/* inlined in the restorer too */
	return v;
}

void crfs_hash_init(struct crfs_hash *h)
{
	h->v[0] = P1 + P2;
	h->v[1] = P2;
	h->v[2] = 0;
	h->v[3] = -P1;
	h->len = 0;
	h->tail_len = 0;
}

static void hash_block(struct crfs_hash *h, const unsigned char *p)
{
	h->v[0] = lane(h->v[0], load64(p));
	h->v[1] = lane(h->v[1], load64(p + 8));
	h->v[2] = lane(h->v[2], load64(p + 16));
	h->v[3] = lane(h->v[3], load64(p + 24));
}

void crfs_hash_update(struct crfs_hash *h, const void *data, size_t len)
{
	const unsigned char *p = data;

	h->len += len;
	if (h->tail_len) {
		size_t take = 32 - h->tail_len;

		if (take > len)
			take = len;
		memcpy(h->tail + h->tail_len, p, take);
		h->tail_len += take;
		p += take;
		len -= take;
		if (h->tail_len < 32)
			return;
		hash_block(h, h->tail);
		h->tail_len = 0;
	}
	while (len >= 32) {
		hash_block(h, p);
		p += 32;
		len -= 32;
	}
	memcpy(h->tail, p, len);
	h->tail_len = len;
}

uint64_t crfs_hash_final(const struct crfs_hash *h)
{
	uint64_t acc = rotl(h->v[0], 1) + rotl(h->v[1], 7) +
		       rotl(h->v[2], 12) + rotl(h->v[3], 18);
	size_t i;

	acc ^= h->len * P3;
	for (i = 0; i + 8 <= h->tail_len; i += 8)
		acc = lane(acc, load64(h->tail + i)) ^ (acc >> 29);
	for (; i < h->tail_len; i++)
		acc = (acc ^ (h->tail[i] * P3)) * P1;
	acc ^= acc >> 33;
	acc *= P2;
	acc ^= acc >> 29;
	acc *= P3;
	acc ^= acc >> 32;
	return acc;
}

uint64_t crfs_hash(const void *data, size_t len)
{
	struct crfs_hash h;

	crfs_hash_init(&h);
	crfs_hash_update(&h, data, len);
	return crfs_hash_final(&h);
}
