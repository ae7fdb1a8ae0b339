// SPDX-License-Identifier: MIT
/* ns: render -> parse round trip, and what parse refuses. */
#include <arpa/inet.h>
#include <sys/socket.h>

#include "unit.h"
#include "crfs/ns.h"

Test(ns, round_trip)
{
	struct crfs_ns_sysctl sys[] = {
		{ "net/ipv4/ip_default_ttl", "77" },
		{ "net/ipv4/tcp_rmem", "4096\t131072\t6291456" },
		{ "net/core/empty", "" },
	};
	struct crfs_ns_addr addrs[2] = {
		{ .family = AF_INET, .prefix = 24, .flags = 0x80 },
		{ .family = AF_INET6, .prefix = 128, .scope = 254,
		  .flags = 0x282 },
	};
	struct crfs_ns a = {
		.uts = true, .hostname = "a b\\c", .domainname = "",
		.net = true, .lo_up = true, .lo_mtu = 9000,
		.addrs = addrs, .naddrs = 2, .sysctls = sys, .nsysctls = 3,
	}, b;
	struct strbuf sb;
	struct ut_text ut;
	size_t i;
	char *s;

	inet_pton(AF_INET, "10.7.0.1", addrs[0].addr);
	inet_pton(AF_INET6, "::1", addrs[1].addr);
	sb_init(&sb);
	cr_assert_eq(render_ns(&sb, &a), 0);
	s = ut_steal(&sb);
	cr_assert(strstr(s, "hostname a\\040b\\134c\n"), "%s", s);
	cr_assert(strstr(s, "addr inet 10.7.0.1/24 scope 0 flags 0x80\n"),
		  "%s", s);
	cr_assert(strstr(s, "addr inet6 ::1/128 scope 254 flags 0x282\n"),
		  "%s", s);
	cr_assert_eq(parse_ns(ut_text(&ut, "ns", s), &b), 0, "%s", ut.err);
	cr_assert(b.uts && b.net && b.lo_up && b.lo_mtu == 9000);
	cr_assert_str_eq(b.hostname, a.hostname);
	cr_assert_str_eq(b.domainname, "");
	cr_assert_eq(b.naddrs, 2);
	cr_assert_eq(memcmp(b.addrs, addrs, sizeof(addrs)), 0);
	cr_assert_eq(b.nsysctls, 3);
	for (i = 0; i < 3; i++) {
		cr_assert_str_eq(b.sysctls[i].key, sys[i].key);
		cr_assert_str_eq(b.sysctls[i].value, sys[i].value);
	}
	crfs_ns_free(&b);
	free(s);
}

Test(ns, veth_round_trip)
{
	static const char *const text =
		"net 1\nlo_state up\nlo_mtu 65536\n"
		"veth name vc0 mtu 1400 state up mac 62:d0:74:5e:71:f4 "
		"peer_name vh0 peer_mtu 1500 peer_state down "
		"peer_mac 4e:34:94:65:4d:64 peer_master br0\n"
		"veth_addr vc0 inet 10.8.0.2/24 scope 0 flags 0x80\n"
		"peer_addr vc0 inet6 fd00::1/64 scope 0 flags 0x82\n"
		"route inet 0.0.0.0/0 via 10.8.0.1 src - dev vc0 metric 0 scope 0 proto 3\n"
		"route inet6 fd09::/64 via - src fd00::7 dev - metric 77 scope 0 proto 4\n";
	struct crfs_ns ns;
	struct strbuf sb;
	struct ut_text ut;
	char *s;

	cr_assert_eq(parse_ns(ut_text(&ut, "ns", text), &ns), 0, "%s", ut.err);
	cr_assert_eq(ns.nveths, 1);
	cr_assert_str_eq(ns.veths[0].in.name, "vc0");
	cr_assert_str_eq(ns.veths[0].out.master, "br0");
	cr_assert(ns.veths[0].in.up && !ns.veths[0].out.up);
	cr_assert_eq(ns.veths[0].out.mac[5], 0x64);
	cr_assert_eq(ns.naddrs, 2);
	cr_assert(!ns.addrs[0].outside && ns.addrs[1].outside);
	cr_assert_str_eq(ns.addrs[1].dev, "vc0");
	cr_assert_eq(ns.nroutes, 2);
	cr_assert(ns.routes[0].has_gateway && !ns.routes[0].has_prefsrc);
	cr_assert(!ns.routes[1].has_gateway && ns.routes[1].has_prefsrc);
	cr_assert_eq(ns.routes[1].metric, 77);
	sb_init(&sb);
	cr_assert_eq(render_ns(&sb, &ns), 0);
	s = ut_steal(&sb);
	cr_assert_str_eq(s, text);
	free(s);
	crfs_ns_free(&ns);
}

Test(ns, time_round_trip)
{
	static const char *const text =
		"time 1\nmonotonic 86400 5\nboottime -3600 999999999\n";
	struct crfs_ns ns;
	struct strbuf sb;
	struct ut_text ut;
	char *s;

	cr_assert_eq(parse_ns(ut_text(&ut, "ns", text), &ns), 0, "%s", ut.err);
	cr_assert(ns.time && !ns.uts && !ns.net);
	cr_assert(ns.monotonic.sec == 86400 && ns.monotonic.nsec == 5);
	cr_assert(ns.boottime.sec == -3600 && ns.boottime.nsec == 999999999);
	sb_init(&sb);
	cr_assert_eq(render_ns(&sb, &ns), 0);
	s = ut_steal(&sb);
	cr_assert_str_eq(s, text);
	free(s);
	crfs_ns_free(&ns);
}

Test(ns, user_round_trip)
{
	static const char *const text =
		"user 1\nuser_owner 100000\nsetgroups deny\n"
		"uid_map 0 100000 65536\nuid_map 65536 4294901760 65536\n"
		"gid_map 0 100000 1\n";
	struct crfs_ns ns;
	struct strbuf sb;
	struct ut_text ut;
	uint32_t in;
	char *s;

	cr_assert_eq(parse_ns(ut_text(&ut, "ns", text), &ns), 0, "%s", ut.err);
	cr_assert(ns.user && ns.setgroups_deny && ns.user_owner == 100000);
	cr_assert(ns.nuid_map == 2 && ns.ngid_map == 1);
	cr_assert_eq(ns.uid_map[1].outside, 4294901760u);
	cr_assert_eq(crfs_idmap_inside(ns.uid_map, 2, 101000, &in), 0);
	cr_assert_eq(in, 1000);
	cr_assert_eq(crfs_idmap_inside(ns.uid_map, 2, 4294967295u, &in), 0);
	cr_assert_eq(in, 131071);
	cr_assert_eq(crfs_idmap_inside(ns.uid_map, 2, 99999, &in), -ENOENT);
	cr_assert_eq(crfs_idmap_inside(ns.gid_map, 1, 100001, &in), -ENOENT);
	sb_init(&sb);
	cr_assert_eq(render_ns(&sb, &ns), 0);
	s = ut_steal(&sb);
	cr_assert_str_eq(s, text);
	free(s);
	crfs_ns_free(&ns);
}

Test(ns, refusals)
{
	static const char *const bad[] = {
		"uts 2\n", "lo_state sideways\n", "lo_mtu 0\n", "time 0\n",
		"monotonic 1\n", "boottime 1 1000000000\n",
		"monotonic 1 -1\n", "monotonic 1 2 3\n",
		"addr inet 10.0.0.1\n",
		"addr inet 10.0.0.1/33 scope 0 flags 0x80\n",
		"addr inet 10.0.0.1/8\n", "addr inet 10.0.0.1/8 scope 256 flags 0\n",
		"addr inet 10.0.0.1/8 scope 0 flags 0 extra\n",
		"addr ipx 1/1 scope 0 flags 0\n", "sysctl ../../etc/passwd x\n",
		"hostname 01234567890123456789012345678901234567890123456789012345678901234\n",
		"colour blue\n", "veth_addr\n",
		"route inet 0.0.0.0/0 via 10.8.0.1 src - dev vc0 metric 0 scope 0\n",
		"route inet 1.0.0.0/8 via ::1 src - dev - metric 0 scope 0 proto 3\n",
		"route inet 1.0.0.0/8 via - src - dev - metric 0 scope 256 proto 3\n",
		"peer_addr inet 10.0.0.1/8 scope 0 flags 0x80\n",
		"veth name vc0 mtu 1400 state up mac 1:2:3:4:5:6\n",
		"veth name a/b mtu 1 state up mac 0:0:0:0:0:0 peer_name b "
		"peer_mtu 1 peer_state up peer_mac 0:0:0:0:0:0 peer_master -\n",
		"veth name a mtu 1 state up mac 0:0:0:0:0:999 peer_name b "
		"peer_mtu 1 peer_state up peer_mac 0:0:0:0:0:0 peer_master -\n",
		"user 2\n", "setgroups maybe\n", "user_owner -1\n",
		"user_owner 4294967296\n", "uid_map 0 0\n", "uid_map 0 0 0\n",
		"uid_map 0 -1 1\n", "gid_map 0 0 4294967297\n",
		"gid_map 4294967295 0 2\n", "uid_map 0 4294967296 1\n",
		"uid_map 0 0 1 extra\n",
	};
	struct ut_text ut;
	struct crfs_ns ns;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_neq(parse_ns(ut_text(&ut, "ns", bad[i]), &ns), 0,
			      "accepted %s", bad[i]);
}
