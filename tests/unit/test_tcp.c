// SPDX-License-Identifier: MIT
/* fdata/ID.tcp: render -> parse round trip, and what parse refuses. */
#include <netinet/tcp.h>

#include "unit.h"
#include "crfs/tcp.h"

/* a renders to text starting with head, which parses back to a */
static void round_trip(const struct crfs_tcp *a, const char *head)
{
	struct crfs_tcp b;
	struct strbuf sb;
	struct ut_text ut;
	char *s;

	sb_init(&sb);
	cr_assert_eq(render_tcp(&sb, a), 0);
	s = ut_steal(&sb);
	cr_assert(!strncmp(s, head, strlen(head)), "%s", s);
	cr_assert_eq(parse_tcp(ut_text(&ut, "fdata/3.tcp", s), &b), 0, "%s",
		     ut.err);
	cr_assert_eq(memcmp(a, &b, sizeof(b)), 0, "%s", s);
	free(s);
}

Test(tcp, round_trip)
{
	struct crfs_tcp a = {
		.state = TCP_LAST_ACK, .snd_seq = 4294967295u, .rcv_seq = 7,
		.sndq = 2176000, .unsent = 2048, .rcvq = 80384, .mss = 65483,
		.sack = 1, .timestamps = 1, .wscale = 1, .snd_wscale = 7,
		.rcv_wscale = 10, .timestamp = 3170370024u, .snd_wl1 = 1,
		.snd_wnd = 2048, .max_window = 65535, .rcv_wnd = 9216,
		.rcv_wup = 6, .shut_rd = 1,
	};

	round_trip(&a, "state last_ack\nsnd_seq 4294967295\n");
}

/* a connection that ended (both FINs) is "close"; one never made is not */
Test(tcp, closed_state)
{
	struct crfs_tcp a = { .state = TCP_CLOSE, .rcvq = 3 };
	struct strbuf sb;

	round_trip(&a, "state close\n");
	a.state = TCP_LISTEN;
	sb_init(&sb);
	cr_assert_eq(render_tcp(&sb, &a), -EINVAL);
	sb_free(&sb);
}

Test(tcp, refusals)
{
	struct crfs_tcp a = { .state = TCP_ESTABLISHED }, b;
	struct strbuf sb;
	struct ut_text ut;
	char *s, *bad;

	a.state = TCP_TIME_WAIT;
	sb_init(&sb);
	cr_assert_eq(render_tcp(&sb, &a), -EINVAL);
	sb_free(&sb);
	a.state = TCP_ESTABLISHED;
	sb_init(&sb);
	cr_assert_eq(render_tcp(&sb, &a), 0);
	s = ut_steal(&sb);
	/* an unknown state, a missing key */
	bad = strdup(s);
	memcpy(strstr(bad, "established"), "listening!!", 11);
	cr_assert_neq(parse_tcp(ut_text(&ut, "fdata/3.tcp", bad), &b), 0);
	*strstr(s, "shut_rd") = '\0';
	cr_assert_neq(parse_tcp(ut_text(&ut, "fdata/3.tcp", s), &b), 0);
	cr_assert(strstr(ut.err, "shut_rd"), "%s", ut.err);
	free(bad);
	free(s);
}
