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
 * One stripe: the lane beside each word gets the word, each lane the
 * product of its word's halves, the word mixed with its key first.  The
 * multiply is the vector unit's 32 x 32 -> 64 bits (pmuludq).
 */
#define MIX(T, add, xor, mul, srl, swap, a, d, k)			\
	do {								\
		T k_ = xor(d, k);					\
		a = add(a, add(swap(d), mul(k_, srl(k_, 32))));		\
	} while (0)

/* after each block: a ^= a >> 47; a ^= key; a *= P32 (mod 2^64) */
#define SCRAMBLE(T, add, xor, mul, srl, sll, set1, a, k)		\
	do {								\
		T p_ = set1((long long)P32);				\
		a = xor(xor(a, srl(a, 47)), k);				\
		a = add(mul(a, p_), sll(mul(srl(a, 32), p_), 32));	\
	} while (0)

#define SWAP2(x) _mm256_shuffle_epi32(x, 0x4e)	/* 64-bit halves of 128 */
#define LD2(p) _mm256_loadu_si256((const __m256i *)(p))

static __attribute__((target("avx2"), noinline)) void
stripes_avx2(uint64_t *acc, uint32_t *at, const unsigned char *p, size_t n)
{
	__m256i a[2] = { LD2(acc), LD2(acc + 4) };
	uint32_t s = *at, i;

	for (; n; n--, p += STRIPE) {
		for (i = 0; i < 2; i++)
			MIX(__m256i, _mm256_add_epi64, _mm256_xor_si256,
			    _mm256_mul_epu32, _mm256_srli_epi64, SWAP2, a[i],
			    LD2(p + 32 * i), LD2(K + s + 4 * i));
		if (++s < BLOCK)
			continue;
		for (i = 0; i < 2; i++)
			SCRAMBLE(__m256i, _mm256_add_epi64, _mm256_xor_si256,
				 _mm256_mul_epu32, _mm256_srli_epi64,
				 _mm256_slli_epi64, _mm256_set1_epi64x, a[i],
				 LD2(K + 16 + 4 * i));
		s = 0;
	}
	_mm256_storeu_si256((__m256i *)acc, a[0]);
	_mm256_storeu_si256((__m256i *)(acc + 4), a[1]);
	*at = s;
}

#define SWAP1(x) _mm_shuffle_epi32(x, 0x4e)
#define LD1(p) _mm_loadu_si128((const __m128i *)(p))

/* the same with SSE2, which every x86-64 has */
static __attribute__((noinline)) void
stripes_sse2(uint64_t *acc, uint32_t *at, const unsigned char *p, size_t n)
{
	__m128i a[4] = { LD1(acc), LD1(acc + 2), LD1(acc + 4), LD1(acc + 6) };
	uint32_t s = *at, i;

	for (; n; n--, p += STRIPE) {
		for (i = 0; i < 4; i++)
			MIX(__m128i, _mm_add_epi64, _mm_xor_si128, _mm_mul_epu32,
			    _mm_srli_epi64, SWAP1, a[i], LD1(p + 16 * i),
			    LD1(K + s + 2 * i));
		if (++s < BLOCK)
			continue;
		for (i = 0; i < 4; i++)
			SCRAMBLE(__m128i, _mm_add_epi64, _mm_xor_si128,
				 _mm_mul_epu32, _mm_srli_epi64, _mm_slli_epi64,
				 _mm_set1_epi64x, a[i], LD1(K + 16 + 2 * i));
		s = 0;
	}
	for (i = 0; i < 4; i++)
		_mm_storeu_si128((__m128i *)(acc + 2 * i), a[i]);
	*at = s;
}

void crfs_hash_init_cpu(struct crfs_hash *h, int avx2)
{
	int i;

	for (i = 0; i < 8; i++)
		h->acc[i] = K[i] ^ P1;
	h->len = 0;
	h->tail_len = 0;
	h->at = 0;
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

static void stripes(struct crfs_hash *h, const unsigned char *p, size_t n)
{
	if (h->avx2)
		stripes_avx2(h->acc, &h->at, p, n);
	else
		stripes_sse2(h->acc, &h->at, p, n);
}

void crfs_hash_update(struct crfs_hash *h, const void *data, size_t len)
{
	const unsigned char *p = data;
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
		stripes(h, h->tail, 1);
		h->tail_len = 0;
	}
	n = len / STRIPE;
	if (n)
		stripes(h, p, n);
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
