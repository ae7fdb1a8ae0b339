// SPDX-License-Identifier: MIT
/* lib/hash.c: streaming equals one-shot, and the hash tells inputs apart. */
#include "unit.h"

#define BIG_LEN		(1024 * 1024 + 13)

static uint64_t hash_chunked(const unsigned char *buf, size_t len,
			     size_t chunk)
{
	struct crfs_hash h;
	size_t off, n;

	crfs_hash_init(&h);
	for (off = 0; off < len; off += n) {
		n = len - off < chunk ? len - off : chunk;
		crfs_hash_update(&h, buf + off, n);
	}
	return crfs_hash_final(&h);
}

Test(hash, stream_equals_oneshot_all_lengths)
{
	static const size_t chunks[] = {
		1, 2, 3, 5, 7, 8, 13, 16, 31, 32, 33, 63, 64, 65, 100, 200,
	};
	unsigned char buf[200];
	size_t len, c;

	ut_fill(buf, sizeof(buf), 42);
	for (len = 0; len <= sizeof(buf); len++) {
		uint64_t want = crfs_hash(buf, len);

		for (c = 0; c < ARRAY_SIZE(chunks); c++)
			cr_assert_eq(hash_chunked(buf, len, chunks[c]), want,
				     "length %zu in chunks of %zu", len,
				     chunks[c]);
	}
}

Test(hash, stream_irregular_chunks_big_buffer)
{
	unsigned char *buf = malloc(BIG_LEN);
	uint64_t want, seed = 7;
	struct crfs_hash h;
	size_t off, n;
	int round;

	cr_assert_not_null(buf);
	ut_fill(buf, BIG_LEN, 1234);
	want = crfs_hash(buf, BIG_LEN);
	for (round = 0; round < 4; round++) {
		crfs_hash_init(&h);
		for (off = 0; off < BIG_LEN; off += n) {
			/* sizes 0..4099, zero-length updates included */
			n = ut_rand(&seed) % 4100;
			if (n > BIG_LEN - off)
				n = BIG_LEN - off;
			crfs_hash_update(&h, buf + off, n);
		}
		cr_assert_eq(crfs_hash_final(&h), want, "round %d", round);
	}
	free(buf);
}

Test(hash, final_leaves_state_usable)
{
	unsigned char buf[100];
	struct crfs_hash h;
	uint64_t mid;

	ut_fill(buf, sizeof(buf), 3);
	crfs_hash_init(&h);
	crfs_hash_update(&h, buf, 45);
	mid = crfs_hash_final(&h);
	cr_assert_eq(mid, crfs_hash_final(&h));
	cr_assert_eq(mid, crfs_hash(buf, 45));
	crfs_hash_update(&h, buf + 45, 55);
	cr_assert_eq(crfs_hash_final(&h), crfs_hash(buf, 100));
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void assert_all_distinct(uint64_t *h, size_t n, const char *what)
{
	size_t i;

	qsort(h, n, sizeof(*h), cmp_u64);
	for (i = 1; i < n; i++)
		cr_assert_neq(h[i], h[i - 1], "%s: two hashes are %016lx",
			      what, h[i]);
}

Test(hash, different_inputs_differ)
{
	unsigned char buf[201], zero[202] = { 0 };
	uint64_t h[402];
	size_t len;

	ut_fill(buf, sizeof(buf), 99);
	/* every prefix of a random buffer, and non-empty zero runs */
	for (len = 0; len < sizeof(buf); len++) {
		h[len] = crfs_hash(buf, len);
		h[201 + len] = crfs_hash(zero, len + 1);
	}
	assert_all_distinct(h, ARRAY_SIZE(h), "prefixes and zero runs");

	cr_assert_neq(crfs_hash("abc", 3), crfs_hash("abd", 3));
	cr_assert_neq(crfs_hash("abc", 3), crfs_hash("cba", 3));
	cr_assert_neq(crfs_hash("", 0), crfs_hash("", 1));
}

Test(hash, single_bit_flip_changes_hash)
{
	static const size_t lens[] = { 1, 7, 8, 31, 32, 33, 63, 64, 65, 100, 200,
				       1024, 1100 };
	static unsigned char buf[1100];
	static uint64_t h[1100 * 8 + 1];
	size_t l, i, len;
	int bit;

	for (l = 0; l < ARRAY_SIZE(lens); l++) {
		len = lens[l];
		ut_fill(buf, len, 5 + len);
		h[0] = crfs_hash(buf, len);
		for (i = 0; i < len; i++) {
			for (bit = 0; bit < 8; bit++) {
				buf[i] ^= 1u << bit;
				h[1 + i * 8 + bit] = crfs_hash(buf, len);
				buf[i] ^= 1u << bit;
			}
		}
		cr_assert_eq(crfs_hash(buf, len), h[0]);
		assert_all_distinct(h, 1 + len * 8, "bit flips");
	}
}

Test(hash, bit_flip_in_big_buffer)
{
	static const size_t at[] = {
		0, 31, 32, 4096, BIG_LEN / 2, BIG_LEN - 1,
	};
	unsigned char *buf = malloc(BIG_LEN);
	uint64_t orig;
	size_t i;

	cr_assert_not_null(buf);
	ut_fill(buf, BIG_LEN, 77);
	orig = crfs_hash(buf, BIG_LEN);
	for (i = 0; i < ARRAY_SIZE(at); i++) {
		buf[at[i]] ^= 0x10;
		cr_assert_neq(crfs_hash(buf, BIG_LEN), orig, "flip at %zu",
			      at[i]);
		buf[at[i]] ^= 0x10;
	}
	free(buf);
}

/* FORMAT.md's Python reference gave these for bytes (i * 7 + 3) & 255 */
Test(hash, matches_the_reference)
{
	static const struct {
		size_t len;
		uint64_t want;
	} v[] = {
		{ 0, 0x8c55e11093d04f18ULL },	 { 3, 0x5835bee1e3edf7fdULL },
		{ 63, 0x86c7310cf7641a49ULL },	 { 64, 0x9e1bebecc8f44824ULL },
		{ 1000, 0x94695d0c8d85589aULL }, { 1024, 0x8000b4729bd478c9ULL },
		{ 1088, 0xd43a06d5ff391146ULL }, { 4101, 0x92886aaaccbe85bbULL },
	};
	unsigned char buf[4101];
	size_t i;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (i * 7 + 3) & 255;
	for (i = 0; i < ARRAY_SIZE(v); i++)
		cr_assert_eq(crfs_hash(buf, v[i].len), v[i].want,
			     "length %zu: %016lx", v[i].len,
			     crfs_hash(buf, v[i].len));
}

static uint64_t hash_split(const unsigned char *buf, size_t len, size_t cut,
			   int avx2)
{
	struct crfs_hash h;

	crfs_hash_init(&h);
	h.avx2 = avx2;
	crfs_hash_update(&h, buf, cut);
	crfs_hash_update(&h, buf + cut, len - cut);
	return crfs_hash_final(&h);
}

/* the SSE2 code every x86-64 runs gives what the AVX2 code gives */
Test(hash, sse2_and_avx2_agree)
{
	static const size_t lens[] = { 64, 1023, 1024, 4096, 65536 + 77 };
	unsigned char *buf = malloc(65536 + 77);
	struct crfs_hash probe;
	size_t l, cut;

	cr_assert_not_null(buf);
	crfs_hash_init(&probe);
	if (!probe.avx2) {
		free(buf);
		cr_skip_test("no AVX2 here");
	}
	ut_fill(buf, 65536 + 77, 21);
	for (l = 0; l < ARRAY_SIZE(lens); l++)
		for (cut = 0; cut <= lens[l]; cut += 1 + cut / 3)
			cr_assert_eq(hash_split(buf, lens[l], cut, 0),
				     hash_split(buf, lens[l], cut, 1),
				     "length %zu cut at %zu", lens[l], cut);
	free(buf);
}

static void swap_bytes(unsigned char *a, unsigned char *b, size_t n)
{
	unsigned char t;

	while (n--) {
		t = *a;
		*a++ = *b;
		*b++ = t;
	}
}

/* words, stripes, blocks and pages put in another order */
Test(hash, reordered_data_differs)
{
	static const struct {
		size_t a, b, n;
	} sw[] = {
		{ 0, 8, 8 },		/* two words of a stripe */
		{ 0, 64, 64 },		/* two stripes of a block */
		{ 64, 64 + 1024, 64 },	/* the same place in two blocks */
		{ 0, 1024, 1024 },	/* two blocks */
		{ 0, 4096, 4096 },	/* two pages */
	};
	unsigned char buf[8192];
	uint64_t orig;
	size_t i;

	ut_fill(buf, sizeof(buf), 8);
	orig = crfs_hash(buf, sizeof(buf));
	for (i = 0; i < ARRAY_SIZE(sw); i++) {
		swap_bytes(buf + sw[i].a, buf + sw[i].b, sw[i].n);
		cr_assert_neq(crfs_hash(buf, sizeof(buf)), orig, "swap %zu", i);
		swap_bytes(buf + sw[i].a, buf + sw[i].b, sw[i].n);
	}
	cr_assert_eq(crfs_hash(buf, sizeof(buf)), orig);
}
