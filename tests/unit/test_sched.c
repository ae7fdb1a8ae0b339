// SPDX-License-Identifier: MIT
/* task/TID/sched: render -> parse round trip, and what parse refuses. */
#include "unit.h"

static struct crfs_sched sample(void)
{
	struct crfs_sched s = {
		.policy = 2, .reset_on_fork = 1, .nice = -4, .rt_priority = 3,
		.ioprio_class = 1, .ioprio_level = 5, .timerslack_ns = 0,
	};

	s.affinity[0] = 0x2d;		/* 0,2-3,5 */
	s.affinity[127] = 1ULL << 63;	/* the last CPU */
	return s;
}

Test(sched, round_trip)
{
	struct crfs_sched a = sample(), b;
	struct strbuf sb;
	struct ut_text ut;
	char *s;

	sb_init(&sb);
	cr_assert_eq(render_sched(&sb, &a), 0);
	s = ut_steal(&sb);
	cr_assert(strstr(s, "policy rr\n"), "%s", s);
	cr_assert(strstr(s, "ioprio_class rt\n"), "%s", s);
	cr_assert(strstr(s, "affinity 0,2-3,5,8191\n"), "%s", s);
	cr_assert_eq(parse_sched(ut_text(&ut, "1/task/1/sched", s), &b), 0,
		     "%s", ut.err);
	cr_assert_eq(memcmp(&a, &b, sizeof(a)), 0, "%s", s);
	free(s);
}

Test(sched, refusals)
{
	static const char *const bad[] = {
		"policy deadline\n", "ioprio_class best\n",
		"affinity 3-1\n", "affinity 8192\n", "affinity \n",
		"timerslack_ns -1\n",
	};
	struct crfs_sched a = sample(), b;
	struct strbuf sb;
	struct ut_text ut;
	char *s, *line, buf[1024];
	size_t i;

	a.policy = 6;	/* SCHED_DEADLINE has no name in the file */
	sb_init(&sb);
	cr_assert_neq(render_sched(&sb, &a), 0);
	free(ut_steal(&sb));
	a = sample();
	sb_init(&sb);
	cr_assert_eq(render_sched(&sb, &a), 0);
	s = ut_steal(&sb);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* the sample with one line replaced by a bad one */
		const char *key_end = strchr(bad[i], ' ');

		line = strstr(s, strndupa(bad[i], key_end - bad[i] + 1));
		cr_assert(line);
		snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(line - s), s,
			 bad[i], strchr(line, '\n') + 1);
		cr_assert_neq(parse_sched(ut_text(&ut, "sched", buf), &b), 0,
			      "accepted:\n%s", buf);
	}
	free(s);
}
