// SPDX-License-Identifier: MIT
/* The ns file's dev, dev_attr and dev_addr lines (lib/image_netdev.c). */
#include "unit.h"
#include "crfs/ns.h"

Test(netdev, round_trip)
{
	static const char *const text =
		"net 1\nlo_state up\nlo_mtu 65536\n"
		"dev veth e1 index 2 mtu 1500 flags 0x1080 mac 36:32:7b:ce:90:56 master br0 peer e0 link -\n"
		"dev bridge br0 index 3 mtu 1500 flags 0x1001 mac 36:32:7b:ce:90:56 master - peer - link -\n"
		"dev_attr br0 1 f4010000\n"
		"dev_attr br0 6 e803\n"
		"dev veth e0 index 50 mtu 1400 flags 0x1101 mac 02:00:00:00:00:e0 master - peer e1 link -\n"
		"dev macvlan mv0 index 6 mtu 1400 flags 0x1001 mac 02:00:00:00:00:c1 master - peer - link e0\n"
		"dev_attr mv0 9 -\n"
		"dev_addr br0 inet 10.60.0.1/24 scope 0 flags 0x80\n"
		"dev_addr e0 inet6 fd50::1/64 scope 0 flags 0x82\n"
		"route inet 10.70.0.0/16 via 10.50.0.2 src - dev e0 metric 5 scope 0 proto 3\n";
	struct crfs_ns ns;
	struct strbuf sb;
	struct ut_text ut;
	char *s;

	cr_assert_eq(parse_ns(ut_text(&ut, "ns", text), &ns), 0, "%s", ut.err);
	cr_assert_eq(ns.ndevs, 4);
	cr_assert_str_eq(ns.devs[0].master, "br0");
	cr_assert_str_eq(ns.devs[0].peer, "e0");
	cr_assert_eq(ns.devs[1].nattrs, 2);
	cr_assert_eq(ns.devs[1].attrs[1].type, 6);
	cr_assert_eq(ns.devs[1].attrs[1].len, 2);
	cr_assert_eq(ns.devs[1].attrs[1].val[0], 0xe8);
	cr_assert_eq(ns.devs[2].index, 50);
	cr_assert_eq(ns.devs[2].flags, 0x1101);
	cr_assert_str_eq(ns.devs[3].link, "e0");
	cr_assert_eq(ns.devs[3].attrs[0].len, 0);
	cr_assert_eq(ns.naddrs, 2);
	cr_assert(ns.addrs[0].on_dev && ns.addrs[1].on_dev);
	cr_assert_not_null(crfs_ns_dev_by_name(&ns, "mv0"));
	sb_init(&sb);
	cr_assert_eq(render_ns(&sb, &ns), 0);
	s = ut_steal(&sb);
	cr_assert_str_eq(s, text);
	free(s);
	crfs_ns_free(&ns);
}

Test(netdev, refusals)
{
	static const char *const bad[] = {
		"dev veth\n",
		"dev veth a index 1 mtu 1 flags 0x1 mac 00:00:00:00:00:00 master - peer b\n",
		"dev veth a/b index 1 mtu 1 flags 0x1 mac 00:00:00:00:00:00 master - peer - link -\n",
		"dev veth a index -1 mtu 1 flags 0x1 mac 00:00:00:00:00:00 master - peer - link -\n",
		"dev veth a index 1 mtu 0 flags 0x1 mac 00:00:00:00:00:00 master - peer - link -\n",
		"dev veth a index 1 mtu 1 flags 0x2 mac 00:00:00:00:00:00 master - peer - link -\n",
		"dev veth a index 1 mtu 1 flags 0x1 mac 00:00:00:00:00 master - peer - link -\n",
		"dev veth a index 1 mtu 1 flags 0x1 mac 00:00:00:00:00:00 master - peer - link - x\n",
		"dev veth 0123456789abcdef index 1 mtu 1 flags 0x1 mac 00:00:00:00:00:00 master - peer - link -\n",
		"dev_attr br0 1 00\n",
		"dev bridge b index 1 mtu 1 flags 0x1 mac 00:00:00:00:00:00 master - peer - link -\ndev_attr b 0 00\n",
		"dev bridge b index 1 mtu 1 flags 0x1 mac 00:00:00:00:00:00 master - peer - link -\ndev_attr b 1 0\n",
		"dev bridge b index 1 mtu 1 flags 0x1 mac 00:00:00:00:00:00 master - peer - link -\ndev_attr b 1 zz\n",
		"dev_addr\n",
	};
	struct ut_text ut;
	struct crfs_ns ns;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		cr_assert_neq(parse_ns(ut_text(&ut, "ns", bad[i]), &ns), 0,
			      "accepted %s", bad[i]);
}
