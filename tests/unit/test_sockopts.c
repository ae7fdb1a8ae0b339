// SPDX-License-Identifier: MIT
/*
 * kernel-helpers/sockopts.c: valued options as text, read from sockets of
 * the test process and set on new ones; what is refused.
 */
#include <fcntl.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/filter.h>
#include <sys/socket.h>

#include "kh.h"
#include "unit.h"

static char *read_opts(int sk)
{
	const char *why = NULL;
	char *text = NULL;

	cr_assert_eq(kh_sockopts_read(sk, &text, &why), 0);
	cr_assert_null(why);
	return text;
}

Test(sockopts, fresh_socket_has_none)
{
	int sk = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert_null(read_opts(sk));
	close(sk);
}

Test(sockopts, round_trip_tcp)
{
	struct linger lg = { 1, 7 };
	int sk = socket(AF_INET, SOCK_STREAM, 0), again, v = 5;
	char *text, *text2;
	const char *bad;

	cr_assert_eq(setsockopt(sk, SOL_SOCKET, SO_PRIORITY, &v, sizeof(v)), 0);
	cr_assert_eq(setsockopt(sk, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	cr_assert_eq(setsockopt(sk, IPPROTO_TCP, TCP_CONGESTION, "reno", 4), 0);
	text = read_opts(sk);
	cr_assert_not_null(text);
	cr_assert(strstr(text, "priority:5"), "%s", text);
	cr_assert(strstr(text, "linger:1/7"), "%s", text);
	cr_assert(strstr(text, "tcp_congestion:reno"), "%s", text);
	again = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_eq(kh_sockopts_apply(again, text, &bad), 0, "%s", bad);
	text2 = read_opts(again);
	cr_assert_str_eq(text2, text);
	free(text);
	free(text2);
	close(sk);
	close(again);
}

Test(sockopts, round_trip_filter_and_lock)
{
	struct sock_filter f[] = { BPF_STMT(BPF_RET | BPF_K, 4) };
	struct sock_fprog p = { 1, f };
	int sv[2], one = 1, again;
	char *text, *text2;
	const char *bad;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	cr_assert_eq(setsockopt(sv[0], SOL_SOCKET, SO_ATTACH_FILTER, &p, sizeof(p)), 0);
	cr_assert_eq(setsockopt(sv[0], SOL_SOCKET, SO_LOCK_FILTER, &one, sizeof(one)), 0);
	text = read_opts(sv[0]);
	cr_assert_str_eq(text, "filter:0006000000000004,lock_filter:1");
	again = socket(AF_UNIX, SOCK_DGRAM, 0);
	cr_assert_eq(kh_sockopts_apply(again, text, &bad), 0, "%s", bad);
	text2 = read_opts(again);
	cr_assert_str_eq(text2, text);
	free(text);
	free(text2);
	close(sv[0]);
	close(sv[1]);
	close(again);
}

Test(sockopts, bad_text_names_the_option)
{
	int sk = socket(AF_INET, SOCK_DGRAM, 0);
	const char *bad;

	cr_assert_eq(kh_sockopts_apply(sk, "nosuch:1", &bad), -EINVAL);
	cr_assert_str_eq(bad, "an unknown option");
	cr_assert_eq(kh_sockopts_apply(sk, "priority:x", &bad), -EINVAL);
	cr_assert_str_eq(bad, "priority");
	cr_assert_eq(kh_sockopts_apply(sk, "filter:0006", &bad), -EINVAL);
	cr_assert_str_eq(bad, "filter");
	cr_assert_eq(kh_sockopts_apply(sk, "priority", &bad), -EINVAL);
	close(sk);
}

/* the files keys: a relative name, the options text */
Test(sockopts, files_keys_round_trip)
{
	const struct crfs_file f[] = {
		{ .id = 1, .kind = FK_UNIX, .flags = O_RDWR, .ino = 9,
		  .sock_type = SOCK_T_DGRAM, .backlog = -1, .seals = 1,
		  .path = "/w/sub/rel.sock", .bindname = "sub/rel.sock",
		  .sockopts = "priority:4,filter:0006000000000004" },
	};
	struct crfs_file *back;
	struct ut_text ut;
	struct strbuf sb;
	size_t n;
	char *s;

	sb_init(&sb);
	cr_assert_eq(render_files(&sb, f, 1), 0);
	s = sb_steal(&sb, &n);
	cr_assert_eq(parse_files(ut_text(&ut, "files", s), &back, &n), 0,
		     "%s: %s", ut.err, s);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(back[0].bindname, "sub/rel.sock");
	cr_assert_str_eq(back[0].sockopts, f[0].sockopts);
	free_files(back, n);
	free(s);
}

Test(sockopts, bindname_must_end_path)
{
	static const char *const bad[] = {
		"1 unix flags=02 ino=9 type=dgram peer=0 backlog=-1 shutdown=0 sndbuf=1 rcvbuf=1 path=/w/x.sock bindname=y.sock\n",
		"1 unix flags=02 ino=9 type=dgram peer=0 backlog=-1 shutdown=0 sndbuf=1 rcvbuf=1 path=/w/x.sock bindname=/w/x.sock\n",
		"1 unix flags=02 ino=9 type=dgram peer=0 backlog=-1 shutdown=0 sndbuf=1 rcvbuf=1 bindname=x.sock\n",
	};
	struct crfs_file *back = NULL;
	struct ut_text ut;
	size_t i, n;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		cr_assert_neq(parse_files(ut_text(&ut, "files", bad[i]), &back, &n),
			      0, "%s", bad[i]);
		cr_assert(strstr(ut.err, "bindname"), "%s", ut.err);
	}
}
