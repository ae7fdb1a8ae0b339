// SPDX-License-Identifier: MIT
/* cgroup: render -> parse round trip, and what parse refuses. */
#include "unit.h"
#include "crfs/cgroup.h"

Test(cgroup, round_trip)
{
	static const char *const text =
		"ns 1\n"
		"cgroup cpu /ct\n"
		"limit cpu.shares 512\n"
		"limit cpu.cfs_quota_us -1\n"
		"cgroup v2 /ct\\040x\n"
		"limit cgroup.subtree_control memory\\040pids\n"
		"limit cpuset.cpus \\000\n"
		"limit cpu.max max\\040100000\n"
		"cgroup v2 /ct\\040x/r\n"
		"base cpu /\n"
		"nsroot cpu /ct\n"
		"proc 4242 cpu /ct\n"
		"base v2 /\n"
		"proc 4242 v2 /ct\\040x/r\n";
	struct crfs_cgroups c;
	struct strbuf sb;
	struct ut_text ut;
	char *s;

	cr_assert_eq(parse_cgroups(ut_text(&ut, "cgroup", text), &c), 0, "%s",
		     ut.err);
	cr_assert(c.ns);
	cr_assert_eq(c.ngroups, 3);
	cr_assert_str_eq(c.groups[1].path, "/ct x");
	cr_assert_eq(c.groups[1].nlimits, 3);
	cr_assert_str_eq(c.groups[1].limits[0].value, "memory pids");
	cr_assert_str_eq(c.groups[1].limits[1].value, "");
	cr_assert_str_eq(c.groups[1].limits[2].value, "max 100000");
	cr_assert_eq(c.groups[2].nlimits, 0);
	cr_assert_eq(c.nplaces, 5);
	cr_assert_eq(c.places[0].pid, -1);
	cr_assert_eq(c.places[1].pid, 0);
	cr_assert_eq(c.places[2].pid, 4242);
	cr_assert_str_eq(c.places[4].path, "/ct x/r");
	sb_init(&sb);
	cr_assert_eq(render_cgroups(&sb, &c), 0);
	s = ut_steal(&sb);
	cr_assert_str_eq(s, text);
	free(s);
	crfs_cgroups_free(&c);
}

Test(cgroup, refusals)
{
	static const char *const bad[] = {
		"ns 2\n",
		"limit cpu.shares 512\n",		/* no cgroup before */
		"cgroup cpu /ct\nlimit cgroup.procs 1\n",
		"cgroup cpu /ct\nlimit release_agent /x\n",
		"cgroup cpu ct\n", "cgroup cpu /a/../b\n",
		"cgroup cpu/x /a\n", "cgroup cpu\n", "cgroup cpu /a b\n",
		"proc 0 cpu /a\n", "proc x cpu /a\n", "proc 1 cpu a\n",
		"nsroot cpu\n", "frozen 1\n",
	};
	struct crfs_cgroups c;
	struct ut_text ut;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ut_expect_einval(parse_cgroups(ut_text(&ut, "cgroup", bad[i]),
					       &c), &ut, "cgroup", NULL);
}
