// SPDX-License-Identifier: MIT
/* Incremental images: LEVEL:PID runs and the parent line of image. */
#include <unistd.h>

#include "unit.h"

#define FREEZE_ID	"0123456789abcdef0123456789abcdef"
#define PARENT_ID	"fedcba9876543210fedcba9876543210"

static char *idx_text(const struct crfs_page_run *r, size_t n)
{
	size_t size = pages_idx_size(FREEZE_ID, n), i;
	char *buf = malloc(size + 1), *p;

	cr_assert_not_null(buf);
	p = buf + render_pages_idx_head(buf, size + 1, FREEZE_ID, n);
	for (i = 0; i < n; i++)
		p += render_pages_idx_line(p, &r[i]);
	cr_assert_eq((size_t)(p - buf), size);
	*p = '\0';
	return buf;
}

Test(incr, ancestor_runs_round_trip)
{
	const struct crfs_page_run r[] = {
		{ .addr = 0x400000, .npages = 2, .src = 7, .offset = 0 },
		{ .addr = 0x402000, .npages = 1,
		  .src = CRFS_SRC_ANCESTOR(1, 7), .offset = 0x5000 },
		{ .addr = 0x403000, .npages = 9,
		  .src = CRFS_SRC_ANCESTOR(CRFS_MAX_LEVEL, 4194303),
		  .offset = 0x9000, .hash = ~0ULL },
		{ .addr = 0x40c000, .npages = 1, .src = 7, .offset = 0x2000 },
	};
	struct crfs_page_run *back;
	struct ut_text ut;
	size_t n, i;
	char *s = idx_text(r, ARRAY_SIZE(r));

	cr_assert(strstr(s, "        1:7 0x"), "%s", s);
	cr_assert(strstr(s, " 99:4194303 0x"), "%s", s);
	cr_assert_eq(parse_pages_idx(ut_text(&ut, "7/pages.idx", s), FREEZE_ID,
				     7, &back, &n), 0, "%s", ut.err);
	cr_assert_eq(n, ARRAY_SIZE(r));
	for (i = 0; i < n; i++) {
		cr_assert_eq(back[i].src, r[i].src, "run %zu", i);
		cr_assert_eq(back[i].offset, r[i].offset, "run %zu", i);
	}
	cr_assert_eq(CRFS_SRC_LEVEL(back[2].src), CRFS_MAX_LEVEL);
	cr_assert_eq(CRFS_SRC_PID(back[2].src), 4194303);
	cr_assert_eq(CRFS_SRC_OWNER(back[1].src), 7);
	cr_assert_eq(CRFS_SRC_OWNER(back[0].src), 7);
	free(back);
	free(s);
}

/* a SRC that is neither a pid nor LEVEL:PID with LEVEL 1..511 */
Test(incr, bad_sources_refused)
{
	static const char *const bad[] = {
		"0:7", "100:7", "1:0", "1:4194304", "-3", ":7", "1:", "1:7:2",
		"x:7",
	};
	struct crfs_page_run one = { .addr = 0x400000, .npages = 1, .src = 7 };
	struct crfs_page_run *back = NULL;
	struct ut_text ut;
	size_t i, n;
	char *s, *at, field[16];

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		s = idx_text(&one, 1);
		at = strstr(s, "         7 0x");
		cr_assert_not_null(at);
		snprintf(field, sizeof(field), "%10s", bad[i]);
		memcpy(at, field, 10);
		cr_assert_eq(parse_pages_idx(ut_text(&ut, "7/pages.idx", s),
					     FREEZE_ID, 7, &back, &n), -EINVAL,
			     "%s accepted", bad[i]);
		cr_assert(strstr(ut.err, "bad run"), "%s: %s", bad[i], ut.err);
		free(s);
	}
}

static char *header_text(int version, char *parent)
{
	struct crfs_header h = { .version = version, .page_size = 0,
				 .root = 10, .parent = parent };
	static pid_t procs[] = { 10 };
	struct strbuf sb;

	strcpy(h.arch, CRFS_ARCH);
	h.page_size = sysconf(_SC_PAGESIZE);
	strcpy(h.freeze_id, FREEZE_ID);
	strcpy(h.parent_id, PARENT_ID);
	h.procs = procs;
	h.nprocs = 1;
	sb_init(&sb);
	cr_assert_eq(render_header(&sb, &h), 0);
	return ut_steal(&sb);
}

Test(incr, header_parent_round_trip)
{
	char *s = header_text(CRFS_FORMAT_VERSION_INCR, "../ckpt 1");
	struct crfs_header back;
	struct ut_text ut;

	cr_assert(strstr(s, "\nparent ../ckpt\\0401 " PARENT_ID "\nroot 10\n"),
		  "%s", s);
	cr_assert_eq(parse_header(ut_text(&ut, "image", s), &back), 0, "%s",
		     ut.err);
	cr_assert_str_eq(back.parent, "../ckpt 1");
	cr_assert_str_eq(back.parent_id, PARENT_ID);
	free_header(&back);
	free(s);
}

/* version 7 is incremental, and only it: a parent line is refused in 6 */
Test(incr, header_parent_only_in_the_incremental_version)
{
	struct crfs_header back;
	struct ut_text ut;
	char *s;

	s = header_text(CRFS_FORMAT_VERSION_INCR, NULL);
	cr_assert_eq(parse_header(ut_text(&ut, "image", s), &back), -EINVAL);
	cr_assert(strstr(ut.err, "want 'parent PATH FREEZE_ID'"), "%s", ut.err);
	free_header(&back);
	free(s);
	s = header_text(CRFS_FORMAT_VERSION, "../x");
	cr_assert_eq(parse_header(ut_text(&ut, "image", s), &back), -EINVAL);
	free_header(&back);
	free(s);
	s = header_text(CRFS_FORMAT_VERSION_INCR, "/abs");
	cr_assert_eq(parse_header(ut_text(&ut, "image", s), &back), -EINVAL);
	cr_assert(strstr(ut.err, "must be relative"), "%s", ut.err);
	free_header(&back);
	free(s);
}

/* a pre-dump says so after root, in version 6 and 7 alike; "predump"
 * takes no value */
Test(incr, header_predump_round_trip)
{
	struct crfs_header h = { .version = CRFS_FORMAT_VERSION, .root = 10,
				 .predump = true }, back;
	static pid_t procs[] = { 10 };
	struct ut_text ut;
	struct strbuf sb;
	char *s, *at;

	strcpy(h.arch, CRFS_ARCH);
	h.page_size = sysconf(_SC_PAGESIZE);
	strcpy(h.freeze_id, FREEZE_ID);
	h.procs = procs;
	h.nprocs = 1;
	sb_init(&sb);
	cr_assert_eq(render_header(&sb, &h), 0);
	s = ut_steal(&sb);
	cr_assert(strstr(s, "\nroot 10\npredump\nprocess 10\n"), "%s", s);
	cr_assert_eq(parse_header(ut_text(&ut, "image", s), &back), 0, "%s",
		     ut.err);
	cr_assert(back.predump);
	free_header(&back);
	at = strstr(s, "predump\n");
	memcpy(at, "predum ", 7);	/* an edit: refused (end checksum) */
	cr_assert_eq(parse_header(ut_text(&ut, "image", s), &back), -EINVAL);
	free_header(&back);
	free(s);
	s = header_text(CRFS_FORMAT_VERSION_INCR, "../p");
	cr_assert_eq(parse_header(ut_text(&ut, "image", s), &back), 0, "%s",
		     ut.err);
	cr_assert(!back.predump);
	free_header(&back);
	free(s);
}

/* the search restore/cow.c and the freeze's donor check share */
Test(runs, first_above)
{
	static const struct crfs_page_run r[] = {
		{ .addr = 0x1000, .npages = 2 },	/* 0x1000-0x3000 */
		{ .addr = 0x5000, .npages = 1 },	/* 0x5000-0x6000 */
		{ .addr = 0x8000, .npages = 4 },	/* 0x8000-0xc000 */
	};
	static const struct { uint64_t addr; size_t want; } c[] = {
		{ 0, 0 }, { 0x1000, 0 }, { 0x2fff, 0 }, { 0x3000, 1 },
		{ 0x5fff, 1 }, { 0x6000, 2 }, { 0xbfff, 2 }, { 0xc000, 3 },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(c); i++)
		cr_assert_eq(crfs_runs_first_above(r, ARRAY_SIZE(r), c[i].addr),
			     c[i].want, "addr 0x%llx",
			     (unsigned long long)c[i].addr);
	cr_assert_eq(crfs_runs_first_above(r, 0, 0x1000), 0, "no runs");
}
