// SPDX-License-Identifier: MIT
/* netns_sub: render -> parse round trip, and what parse refuses. */
#include "unit.h"
#include "crfs/netns_sub.h"

Test(netns_sub, round_trip)
{
	struct crfs_netns_member a[] = { { 120, 1 }, { 121, 2 }, { 130, 1 } };
	struct crfs_netns_member *b = NULL;
	struct strbuf sb;
	struct ut_text ut;
	size_t n = 0;
	char *s;

	sb_init(&sb);
	cr_assert_eq(render_netns_sub(&sb, a, ARRAY_SIZE(a)), 0);
	s = ut_steal(&sb);
	cr_assert_str_eq(s, "120 1\n121 2\n130 1\n");
	cr_assert_eq(parse_netns_sub(ut_text(&ut, "netns_sub", s), &b, &n), 0,
		     "%s", ut.err);
	cr_assert_eq(n, ARRAY_SIZE(a));
	cr_assert_eq(memcmp(a, b, sizeof(a)), 0);
	free(b);
	free(s);
}

Test(netns_sub, refusals)
{
	static const char *const bad[] = {
		"120\n", "120 0\n", "120 65\n", "0 1\n", "120 1 x\n",
		"x 1\n", "120 1",
	};
	struct crfs_netns_member *m = NULL;
	struct ut_text ut;
	size_t i, n;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		ut_expect_einval(parse_netns_sub(ut_text(&ut, "netns_sub",
							 bad[i]), &m, &n),
				 &ut, "netns_sub", NULL);
}
