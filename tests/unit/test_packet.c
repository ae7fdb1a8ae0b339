// SPDX-License-Identifier: MIT
/*
 * Raw and packet sockets in the files table (render, parse, refusals);
 * kernel-helpers/udpq.c: a datagram's line both ways, peeking a UDP
 * queue without taking it, and sending a datagram again from a sender
 * that does not exist.
 */
#include <fcntl.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "kh.h"
#include "kh_packet.h"
#include "unit.h"

Test(packet, files_round_trip)
{
	const struct crfs_file f[] = {
		{ .id = 1, .kind = FK_RAW, .flags = O_RDWR, .ino = 5,
		  .sock_type = SOCK_T_RAW, .protocol = 1,
		  .addr = "127.0.0.1:1", .dst = "127.0.0.2:1",
		  .sockopts = "icmp_filter:-2", .backlog = -1, .seals = 1 },
		{ .id = 2, .kind = FK_PACKET, .flags = O_RDWR, .ino = 6,
		  .sock_type = SOCK_T_DGRAM, .protocol = 0, .bound_proto = 8,
		  .ifname = "lo", .fanout = 0x10002a,
		  .mclist = "lo/0/2/01005e0000fb;lo/1/1/-", .backlog = -1,
		  .seals = 1 },
		{ .id = 3, .kind = FK_INET, .flags = O_RDWR, .ino = 7,
		  .sock_type = SOCK_T_DGRAM, .protocol = 17,
		  .addr = "0.0.0.0:53", .nmsgs = 2, .data = 9, .backlog = -1,
		  .seals = 1 },
	};
	struct crfs_file *back;
	struct ut_text ut;
	struct strbuf sb;
	size_t n, i;
	char *s;

	sb_init(&sb);
	cr_assert_eq(render_files(&sb, f, ARRAY_SIZE(f)), 0);
	s = ut_steal(&sb);
	cr_assert(strstr(s, "2 packet flags=02 ino=6 type=dgram proto=0 "), "%s", s);
	cr_assert_eq(parse_files(ut_text(&ut, "files", s), &back, &n), 0,
		     "%s", ut.err);
	cr_assert_eq(n, ARRAY_SIZE(f));
	for (i = 0; i < n; i++) {
		cr_assert_eq(back[i].kind, f[i].kind);
		cr_assert_eq(back[i].sock_type, f[i].sock_type);
		cr_assert_eq(back[i].protocol, f[i].protocol);
		cr_assert_eq(back[i].bound_proto, f[i].bound_proto);
		cr_assert_eq(back[i].fanout, f[i].fanout);
		cr_assert_eq(back[i].nmsgs, f[i].nmsgs);
	}
	cr_assert_str_eq(back[0].dst, "127.0.0.2:1");
	cr_assert_str_eq(back[0].sockopts, "icmp_filter:-2");
	cr_assert_str_eq(back[1].ifname, "lo");
	cr_assert_str_eq(back[1].mclist, f[1].mclist);
	cr_assert_null(back[2].ifname);
	free_files(back, n);
	free(s);
}

static void expect_error(const char *text, const char *why)
{
	struct crfs_file *f = NULL;
	struct ut_text ut;
	size_t n = 0;

	ut_expect_einval(parse_files(ut_text(&ut, "files", text), &f, &n),
			 &ut, "files", why);
}

Test(packet, files_bad_lines)
{
	expect_error("1 raw flags=02 type=dgram proto=1 addr=0.0.0.0:1\n",
		     "raw socket of socket type dgram");
	expect_error("1 packet flags=02 type=stream proto=0 bound_proto=8\n",
		     "packet socket of socket type stream");
	expect_error("1 packet flags=02 type=raw proto=0\n",
		     "without 'bound_proto'");
	expect_error("1 raw flags=02 type=raw addr=0.0.0.0:1\n",
		     "without 'proto'");
}

Test(packet, dgram_line_both_ways)
{
	struct kh_dgram d;
	char line[256];

	cr_assert_eq(kh_dgram_parse("5 [::1]:7 [::1]:9 9 32", &d), 0);
	cr_assert_eq(d.len, 5);
	cr_assert_eq(d.ttl, 9);
	cr_assert_eq(d.tos, 32);
	kh_dgram_str(&d, line, sizeof(line));
	cr_assert_str_eq(line, "5 [::1]:7 [::1]:9 9 32");
	cr_assert_eq(kh_dgram_parse("0 1.2.3.4:5 [::ffff:1.2.3.4]:6 64 0", &d),
		     -EINVAL, "families differ");
	cr_assert_eq(kh_dgram_parse("3 1.2.3.4:5 1.2.3.4:6 256 0", &d), -EINVAL);
	cr_assert_eq(kh_dgram_parse("70000 1.2.3.4:5 1.2.3.4:6 64 0", &d),
		     -EINVAL);
	cr_assert_eq(kh_dgram_parse("3 1.2.3.4:5 1.2.3.4:6 64", &d), -EINVAL);
}

/* loopback delivers at once, unless softirqs wait: a bound, not a hang */
static void recv_within(int s)
{
	struct timeval tv = { 5, 0 };

	cr_assert_eq(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
}

static int bound_udp(struct sockaddr_in *a)
{
	socklen_t l = sizeof(*a);
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	a->sin_family = AF_INET;
	a->sin_port = 0;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert(s >= 0 && !bind(s, (struct sockaddr *)a, sizeof(*a)) &&
		  !getsockname(s, (struct sockaddr *)a, &l));
	return s;
}

/* peeked, the queue is still there; sent again from 127.0.0.9:1234 */
Test(packet, udp_queue_peek_and_inject)
{
	struct sockaddr_in r, s, from;
	socklen_t fl = sizeof(from);
	int rs = bound_udp(&r), ss = bound_udp(&s), one = 1;
	struct kh_injector in;
	struct kh_dgram *d = NULL, x;
	const char *why = NULL;
	char *data = NULL, buf[16];
	uint32_t rmem, drops;
	size_t n = 0, len = 0;

	cr_assert_eq(setsockopt(rs, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)), 0);
	cr_assert_eq(sendto(ss, "one", 3, 0, (struct sockaddr *)&r, sizeof(r)), 3);
	cr_assert_eq(sendto(ss, "", 0, 0, (struct sockaddr *)&r, sizeof(r)), 0);
	cr_assert_eq(kh_udpq_peek(rs, &d, &n, &data, &len, &why), 0);
	cr_assert_null(why);
	cr_assert_eq(n, 2);
	cr_assert_eq(len, 3);
	cr_assert_eq(memcmp(data, "one", 3), 0);
	cr_assert_eq(d[0].len, 3);
	cr_assert_eq(d[1].len, 0);
	cr_assert_eq(((struct sockaddr_in *)&d[0].src)->sin_port, s.sin_port);
	cr_assert_eq(d[0].ttl, 64);
	/* our option back as it was, the peek offset off again */
	cr_assert_eq(recv(rs, buf, sizeof(buf), MSG_DONTWAIT), 3);
	cr_assert_eq(recv(rs, buf, sizeof(buf), MSG_DONTWAIT), 0);

	x = d[0];
	inet_pton(AF_INET, "127.0.0.9", &((struct sockaddr_in *)&x.src)->sin_addr);
	((struct sockaddr_in *)&x.src)->sin_port = htons(1234);
	cr_assert_eq(kh_sock_meminfo(rs, &rmem, &drops), 0);
	cr_assert_eq(rmem, 0);
	cr_assert_eq(kh_udpq_injector(&in), 0);
	cr_assert_eq(kh_udpq_inject(&in, &x, IPPROTO_UDP, "one"), 0);
	kh_udpq_injector_close(&in);
	recv_within(rs);
	cr_assert_eq(recvfrom(rs, buf, sizeof(buf), 0, (struct sockaddr *)&from,
			      &fl), 3);
	cr_assert_eq(from.sin_port, htons(1234));
	cr_assert_eq(from.sin_addr.s_addr, htonl(0x7f000009));
	free(d);
	free(data);
	close(rs);
	close(ss);
}

/* IPv6 and UDP-Lite: the checksum over the pseudo header and coverage 0 */
Test(packet, udplite6_inject)
{
	struct sockaddr_in6 r = { .sin6_family = AF_INET6,
				  .sin6_addr = IN6ADDR_LOOPBACK_INIT }, from;
	socklen_t l = sizeof(r), fl = sizeof(from);
	int rs = socket(AF_INET6, SOCK_DGRAM, IPPROTO_UDPLITE);
	struct kh_injector in;
	struct kh_dgram d;
	char buf[16];

	cr_assert(rs >= 0 && !bind(rs, (struct sockaddr *)&r, sizeof(r)) &&
		  !getsockname(rs, (struct sockaddr *)&r, &l));
	cr_assert_eq(kh_dgram_parse("5 [::1]:4321 [::1]:1 7 0", &d), 0);
	((struct sockaddr_in6 *)&d.dst)->sin6_port = r.sin6_port;
	cr_assert_eq(kh_udpq_injector(&in), 0);
	cr_assert_eq(kh_udpq_inject(&in, &d, IPPROTO_UDPLITE, "hello"), 0);
	kh_udpq_injector_close(&in);
	recv_within(rs);
	cr_assert_eq(recvfrom(rs, buf, sizeof(buf), 0,
			      (struct sockaddr *)&from, &fl), 5,
		     "errno %d", errno);
	cr_assert_eq(memcmp(buf, "hello", 5), 0);
	cr_assert_eq(from.sin6_port, htons(4321));
	close(rs);
}
