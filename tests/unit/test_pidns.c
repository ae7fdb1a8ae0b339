// SPDX-License-Identifier: MIT
/*
 * Nested pid namespaces in attr (nspid, pidns, pidns_children) and
 * sigstate (nstid), and namespace files in files: render -> parse keeps
 * them; bad pid lists are refused by name.
 */
#include "unit.h"

Test(pidns, attr_levels_round_trip)
{
	struct crfs_attr a = {
		.pid = 4242, .ppid = 4200, .pgid = 4200, .sid = 4200,
		.comm = "init", .exe = "/bin/sh", .cwd = "/", .root = "/",
		.nthreads = 1, .vpid = 1, .pidns = 4026532250u,
		.pidns_children = 4026532300u, .nspid_n = 3,
		.nspid = { 4242, 7, 1 },
	}, b;
	struct ut_text ut;
	struct strbuf sb;
	char *s;

	sb_init(&sb);
	cr_assert_eq(render_attr(&sb, &a), 0);
	s = ut_steal(&sb);
	cr_assert(strstr(s, "nspid 4242 7 1\n"), "%s", s);
	cr_assert(strstr(s, "pidns 4026532250\npidns_children 4026532300\n"),
		  "%s", s);
	cr_assert_eq(parse_attr(ut_text(&ut, "4242/attr", s), &b), 0, "%s",
		     ut.err);
	cr_assert_eq(b.nspid_n, 3);
	cr_assert_eq(b.nspid[0], 4242);
	cr_assert_eq(b.nspid[1], 7);
	cr_assert_eq(b.nspid[2], 1);
	cr_assert_eq(b.pidns, a.pidns);
	cr_assert_eq(b.pidns_children, a.pidns_children);
	free(b.exe);
	free(b.cwd);
	free(b.root);
	free(s);
}

Test(pidns, bad_nspid_refused)
{
	static const char *const bad[] = {
		"nspid 12 x\n", "nspid 12 -3\n", "nspid 12 0\n",
		"nspid 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34\n",
	};
	struct crfs_attr a = {
		.pid = 12, .comm = "x", .exe = "/x", .cwd = "/", .root = "/",
		.nspid_n = 1, .nspid = { 12 },
	}, b;
	struct ut_text ut;
	struct strbuf sb;
	char *good, *cut, *text;
	size_t i;

	sb_init(&sb);
	cr_assert_eq(render_attr(&sb, &a), 0);
	good = ut_steal(&sb);
	cut = strstr(good, "nspid ");
	cr_assert_not_null(cut);
	*cut = '\0';
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		cr_assert_eq(asprintf(&text, "%s%s", good, bad[i]) > 0, 1);
		cr_assert_neq(parse_attr(ut_text(&ut, "12/attr", text), &b), 0,
			      "%s", bad[i]);
		cr_assert(strstr(ut.err, "nspid"), "%s", ut.err);
		free(b.exe);
		free(b.cwd);
		free(b.root);
		free(text);
	}
	/* an attr without it is refused by name */
	cr_assert_neq(parse_attr(ut_text(&ut, "12/attr", good), &b), 0);
	cr_assert(strstr(ut.err, "nspid"), "%s", ut.err);
	free(b.exe);
	free(b.cwd);
	free(b.root);
	free(good);
}

Test(pidns, sigstate_nstid_round_trip)
{
	struct crfs_thread th = { .vtid = 3, .nstid_n = 3,
				  .nstid = { 5001, 9, 3 } }, back;
	struct ut_text ut;
	struct strbuf sb;
	char *s;

	sb_init(&sb);
	cr_assert_eq(render_sigstate(&sb, &th), 0);
	s = ut_steal(&sb);
	cr_assert(strstr(s, "nstid 5001 9 3\n"), "%s", s);
	memset(&back, 0, sizeof(back));
	cr_assert_eq(parse_sigstate(ut_text(&ut, "1/task/5001/sigstate", s),
				    &back), 0, "%s", ut.err);
	cr_assert_eq(back.nstid_n, 3);
	cr_assert_eq(back.nstid[1], 9);
	cr_assert_eq(back.nstid[2], 3);
	free(s);
}

Test(pidns, ns_file_round_trip)
{
	struct crfs_file f[2];
	struct crfs_file *back = NULL;
	struct ut_text ut;
	struct strbuf sb;
	size_t n = 0;
	char *s;

	init_file(&f[0]);
	init_file(&f[1]);
	f[0].id = 1;
	f[0].kind = FK_NSFD;
	f[0].ns_type = "net";
	f[1].id = 2;
	f[1].kind = FK_NSFD;
	f[1].ns_type = "pid";
	f[1].ns_pid = 4243;
	sb_init(&sb);
	cr_assert_eq(render_files(&sb, f, 2), 0);
	s = ut_steal(&sb);
	cr_assert(strstr(s, "1 ns ") && strstr(s, "nstype=net ns_pid=0"),
		  "%s", s);
	cr_assert(strstr(s, "nstype=pid ns_pid=4243"), "%s", s);
	cr_assert_eq(parse_files(ut_text(&ut, "files", s), &back, &n), 0, "%s",
		     ut.err);
	cr_assert_eq(n, 2);
	cr_assert_eq(back[0].kind, FK_NSFD);
	cr_assert_str_eq(back[0].ns_type, "net");
	cr_assert_eq(back[0].ns_pid, 0);
	cr_assert_str_eq(back[1].ns_type, "pid");
	cr_assert_eq(back[1].ns_pid, 4243);
	free_files(back, n);
	free(s);
}
