// SPDX-License-Identifier: MIT
/* PID/task/TID/seccomp: round trips and what the parser refuses. */
#include "unit.h"

#define F "1/task/1/seccomp"

static int parse_text(const char *s, struct crfs_thread *th,
		      struct ut_text *ut)
{
	memset(th, 0, sizeof(*th));
	return parse_seccomp(ut_text(ut, F, s), th);
}

Test(seccomp, filters_round_trip)
{
	struct crfs_bpf_insn a[] = { { 0x20, 0, 0, 0 }, { 0x15, 0, 1, 0x83 },
				     { 0x06, 0, 0, 0x50012 },
				     { 0x06, 0, 0, 0x7fff0000 } };
	struct crfs_bpf_insn b[] = { { 0x06, 0xff, 0x7, 0xffffffff } };
	struct crfs_seccomp_filter f[] = { { 0, 4, a }, { 2, 1, b } };
	struct crfs_thread th = { .seccomp_mode = 2, .filters = f,
				  .nfilters = 2 }, back;
	struct ut_text ut;
	struct strbuf sb;
	char *s;
	size_t i;

	sb_init(&sb);
	cr_assert_eq(render_seccomp(&sb, &th), 0);
	s = ut_steal(&sb);
	cr_assert_eq(parse_text(s, &back, &ut), 0, "%s", ut.err);
	cr_assert_eq(back.seccomp_mode, 2);
	cr_assert_eq(back.nfilters, 2);
	for (i = 0; i < 2; i++) {
		cr_assert_eq(back.filters[i].flags, f[i].flags);
		cr_assert_eq(back.filters[i].len, f[i].len);
		cr_assert_eq(memcmp(back.filters[i].insns, f[i].insns,
				    f[i].len * sizeof(*a)), 0);
	}
	free_seccomp(&back);
	free(s);
}

Test(seccomp, strict_round_trip)
{
	struct crfs_thread th = { .seccomp_mode = 1 }, back;
	struct ut_text ut;
	struct strbuf sb;
	char *s;

	sb_init(&sb);
	cr_assert_eq(render_seccomp(&sb, &th), 0);
	s = ut_steal(&sb);
	cr_assert_str_eq(s, "mode 1\nfilters 0\n");
	cr_assert_eq(parse_text(s, &back, &ut), 0, "%s", ut.err);
	cr_assert_eq(back.seccomp_mode, 1);
	cr_assert_eq(back.nfilters, 0);
	free_seccomp(&back);
	free(s);
}

Test(seccomp, refusals)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "mode 1\nfilters 1\nfilter 0x0 1\n0006 00 00 7fff0000\n", "mode 1 with 1" },
		{ "mode 2\nfilters 0\n", "mode 2 with 0" },
		{ "mode 3\nfilters 0\n", "mode 3" },
		{ "mode 2\nfilters 1\nfilter 0x1 1\n0006 00 00 7fff0000\n", "unknown filter flags" },
		{ "mode 2\nfilters 1\nfilter 0x0 0\n", "0 instructions" },
		{ "mode 2\nfilters 1\nfilter 0x0 2\n0006 00 00 7fff0000\n", "ends early" },
		{ "mode 2\nfilters 1\nfilter 0x0 1\n6 00 00 7fff0000\n", "CODE JT JF K" },
		{ "mode 2\nfilters 1\nfilter 0x0 1\n0006 00 00 7FFF0000\n", "CODE JT JF K" },
		{ "mode 2\nfilters 1\nfilter 0x0 1\n0006 00 00 7fff0000\nfilter 0x0 1\n", "more than 1" },
		{ "mode 2\nfilters 2\nfilter 0x0 1\n0006 00 00 7fff0000\n", "fewer filters" },
		{ "filters 0\nmode 0\n", "want 'mode N'" },
	};
	struct crfs_thread th;
	struct ut_text ut;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ut_expect_einval(parse_text(bad[i].text, &th, &ut), &ut, F,
				 bad[i].why);
		cr_assert_null(th.filters);
	}
}
