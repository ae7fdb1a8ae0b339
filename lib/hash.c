// SPDX-License-Identifier: MIT
/*
 * A fast 64-bit checksum for image integrity (not cryptographic).  Input
 * goes in 64-byte stripes into eight 64-bit lanes: each word is added to
 * the lane beside its own and, mixed with a key word that depends on the
 * stripe's place in its 1 KiB block, multiplied low half by high half
 * into its own lane; after each block every lane is scrambled (shift,
 * key, multiply), so that order matters across blocks too.  The lanes are
 * independent, so the compiler makes vector code of them: with AVX2 a
 * stripe is a few instructions, and restore checks a page faster than it
 * copies it (the four-lane multiply-rotate hash before this took a fifth
 * of a restore's CPU).  The same source is compiled twice, with and
 * without AVX2, for the same result on any x86-64; FORMAT.md has it in
 * Python.
 */
#include <string.h>
#include <immintrin.h>

#include "crfs/format.h"

#define P1 0x9e3779b185ebca87ULL
#define P2 0xc2b2ae3d27d4eb4fULL
#define P3 0x165667b19e3779f9ULL
#define P32 0x9e3779b1ULL
#define STRIPE 64
#define BLOCK 16	/* stripes */

/* splitmix64 from 0, 24 outputs (FORMAT.md) */
static const uint64_t K[24] = {
	0xe220a8397b1dcdafULL, 0x6e789e6aa1b965f4ULL, 0x06c45d188009454fULL,
	0xf88bb8a8724c81ecULL, 0x1b39896a51a8749bULL, 0x53cb9f0c747ea2eaULL,
	0x2c829abe1f4532e1ULL, 0xc584133ac916ab3cULL, 0x3ee5789041c98ac3ULL,
	0xf3b8488c368cb0a6ULL, 0x657eecdd3cb13d09ULL, 0xc2d326e0055bdef6ULL,
	0x8621a03fe0bbdb7bULL, 0x8e1f7555983aa92fULL, 0xb54e0f1600cc4d19ULL,
	0x84bb3f97971d80abULL, 0x7d29825c75521255ULL, 0xc3cf17102b7f7f86ULL,
	0x3466e9a083914f64ULL, 0xd81a8d2b5a4485acULL, 0xdb01602b100b9ed7ULL,
	0xa9038a921825f10dULL, 0xedf5f1d90dca2f6aULL, 0x54496ad67bd2634cULL,
};

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

/*
 * n stripes from p into acc, the first at stripe s of its block, written
 * once for both instruction sets: P the intrinsics' prefix, BITS a
 * register's width, W = 8 * 64 / BITS registers for the eight lanes.
 * Per stripe, the lane beside each word gets the word, each lane the
 * product of its word's halves (pmuludq, 32 x 32 -> 64 bits), the word
 * mixed with its key first; after each block every lane is scrambled:
 * a ^= a >> 47; a ^= key; a *= P32 (mod 2^64, from two 32-bit products).
 */
#define STRIPES(name, attr, P, BITS)					\
static attr void name(uint64_t *acc, uint32_t s, const unsigned char *p, \
		      size_t n)						\
{									\
	enum { W = 512 / BITS, L = BITS / 64 };	/* registers, lanes each */ \
	__m##BITS##i a[W], d, k, m = P##_set1_epi64x((long long)P32);	\
	uint32_t i;							\
									\
	for (i = 0; i < W; i++)						\
		a[i] = P##_loadu_si##BITS((const void *)(acc + L * i));	\
	for (; n; n--, p += STRIPE) {					\
		for (i = 0; i < W; i++) {				\
			d = P##_loadu_si##BITS((const void *)(p + 8 * L * i)); \
			k = P##_xor_si##BITS(d, P##_loadu_si##BITS(	\
				(const void *)(K + s + L * i)));	\
			a[i] = P##_add_epi64(a[i], P##_add_epi64(	\
				P##_shuffle_epi32(d, 0x4e),		\
				P##_mul_epu32(k, P##_srli_epi64(k, 32)))); \
		}							\
		if (++s < BLOCK)					\
			continue;					\
		for (i = 0; i < W; i++) {				\
			k = P##_loadu_si##BITS((const void *)(K + 16 + L * i)); \
			d = P##_xor_si##BITS(P##_xor_si##BITS(a[i],	\
				P##_srli_epi64(a[i], 47)), k);		\
			a[i] = P##_add_epi64(P##_mul_epu32(d, m),	\
				P##_slli_epi64(P##_mul_epu32(		\
					P##_srli_epi64(d, 32), m), 32)); \
		}							\
		s = 0;							\
	}								\
	for (i = 0; i < W; i++)						\
		P##_storeu_si##BITS((void *)(acc + L * i), a[i]);	\
}

STRIPES(stripes_avx2, __attribute__((target("avx2"), noinline)), _mm256, 256)
/* the same with SSE2, which every x86-64 has */
STRIPES(stripes_sse2, __attribute__((noinline)), _mm, 128)

void crfs_hash_init_cpu(struct crfs_hash *h, int avx2)
{
	int i;

	for (i = 0; i < 8; i++)
		h->acc[i] = K[i] ^ P1;
	h->len = 0;
	h->tail_len = 0;
	h->avx2 = avx2;
}

/* the restorer has no writable data: crfs-restore asks for it */
#ifndef CRFS_HASH_NO_STATIC
/* AVX2, and the kernel saves the YMM registers (XCR0 bits 1, 2) */
static int have_avx2(void)
{
	unsigned a, b, c, d, lo, hi;

	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
			 : "a"(0), "c"(0));
	if (a < 7)
		return 0;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
			 : "a"(1), "c"(0));
	if (!(c & (1u << 27)))	/* OSXSAVE */
		return 0;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	if ((lo & 6) != 6)
		return 0;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
			 : "a"(7), "c"(0));
	return !!(b & (1u << 5));
}

int crfs_hash_avx2(void)
{
	static int known = -1;
	int v = __atomic_load_n(&known, __ATOMIC_RELAXED);

	/* cpuid traps to the hypervisor in a VM: asked once (threads that
	 * race here find the same answer) */
	if (v < 0) {
		v = have_avx2();
		__atomic_store_n(&known, v, __ATOMIC_RELAXED);
	}
	return v;
}

void crfs_hash_init(struct crfs_hash *h)
{
	crfs_hash_init_cpu(h, crfs_hash_avx2());
}
#endif

/* taken: the stripes so far, which tell where in its block the next is */
static void stripes(struct crfs_hash *h, uint64_t taken,
		    const unsigned char *p, size_t n)
{
	uint32_t at = taken % BLOCK;

	if (h->avx2)
		stripes_avx2(h->acc, at, p, n);
	else
		stripes_sse2(h->acc, at, p, n);
}

void crfs_hash_update(struct crfs_hash *h, const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t taken = (h->len - h->tail_len) / STRIPE;
	size_t n;

	h->len += len;
	if (h->tail_len) {
		size_t take = STRIPE - h->tail_len;

		if (take > len)
			take = len;
		memcpy(h->tail + h->tail_len, p, take);
		h->tail_len += take;
		p += take;
		len -= take;
		if (h->tail_len < STRIPE)
			return;
		stripes(h, taken++, h->tail, 1);
		h->tail_len = 0;
	}
	n = len / STRIPE;
	if (n)
		stripes(h, taken, p, n);
	p += n * STRIPE;
	len -= n * STRIPE;
	memcpy(h->tail, p, len);
	h->tail_len = len;
}

uint64_t crfs_hash_final(const struct crfs_hash *h)
{
	uint64_t acc = h->len * P3;
	size_t i;

	for (i = 0; i < 8; i++)
		acc = lane(acc, h->acc[i]);
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

#ifndef CRFS_HASH_NO_STATIC
uint64_t crfs_hash(const void *data, size_t len)
{
	struct crfs_hash h;

	crfs_hash_init(&h);
	crfs_hash_update(&h, data, len);
	return crfs_hash_final(&h);
}
#endif
