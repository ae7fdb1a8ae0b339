// SPDX-License-Identifier: MIT
/* attr's job-control keys survive render -> parse; missing ones refused. */
#include <signal.h>

#include "unit.h"

Test(jobctl, attr_stop_keys)
{
	struct crfs_attr a = {
		.pid = 7, .ppid = 6, .pgid = 7, .sid = 6, .comm = "job",
		.exe = "/bin/sh", .cwd = "/", .root = "/", .nthreads = 1,
		.stop_signal = SIGTSTP, .stop_waited = 1,
	}, b;
	struct ut_text ut;
	struct strbuf sb;
	char *s, *cut;

	sb_init(&sb);
	cr_assert_eq(render_attr(&sb, &a), 0);
	s = ut_steal(&sb);
	cr_assert(strstr(s, "stop_signal 20\nstop_waited 1\n"), "%s", s);
	cr_assert_eq(parse_attr(ut_text(&ut, "7/attr", s), &b), 0, "%s",
		     ut.err);
	cr_assert_eq(b.stop_signal, SIGTSTP);
	cr_assert_eq(b.stop_waited, 1);
	free(b.exe);
	free(b.cwd);
	free(b.root);
	/* an attr without them is refused by name */
	cut = strstr(s, "stop_signal");
	*cut = '\0';
	cr_assert_neq(parse_attr(ut_text(&ut, "7/attr", s), &b), 0);
	cr_assert(strstr(ut.err, "stop_signal"), "%s", ut.err);
	/* a refused parse leaves what it had read for the caller to free */
	free(b.exe);
	free(b.cwd);
	free(b.root);
	free(s);
}
