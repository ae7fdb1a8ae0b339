// SPDX-License-Identifier: MIT
/* mounts: render -> parse round trip, and what parse refuses. */
#include "unit.h"
#include "crfs/mounts.h"

Test(mounts, round_trip)
{
	static const char *const text =
		"193 168 / /srv/root\\040fs ext4 /dev/vda rw,relatime rw,discard private host /srv/root\\040fs\n"
		"170 193 /proc / proc proc rw,nosuid,nodev,noexec,relatime rw private fresh -\n"
		"174 193 /data / tmpfs crfsdata rw,nosuid rw,size=4096k,mode=750 unbindable tmpfs -\n"
		"173 193 /tmp / tmpfs tmpfs rw,relatime rw,size=8192k shared tmpfs -\n"
		"117 170 /proc/sys /sys proc proc ro,relatime rw private bind 170\n";
	struct crfs_mounts ms = { 0 };
	struct strbuf sb;
	struct ut_text ut;
	char *s;

	cr_assert_eq(parse_mounts(ut_text(&ut, "mounts", text), &ms), 0,
		     "%s", ut.err);
	cr_assert_eq(ms.n, 5);
	cr_assert_eq(ms.m[4].kind, CRFS_MNT_BIND);
	cr_assert_eq(ms.m[4].src, 170);
	cr_assert_null(ms.m[4].host);
	cr_assert_eq(ms.m[0].id, 193);
	cr_assert_eq(ms.m[0].kind, CRFS_MNT_HOST);
	cr_assert_str_eq(ms.m[0].host, "/srv/root fs");
	cr_assert_str_eq(ms.m[0].root, "/srv/root fs");
	cr_assert_eq(ms.m[1].kind, CRFS_MNT_FRESH);
	cr_assert_null(ms.m[1].host);
	cr_assert_eq(ms.m[2].kind, CRFS_MNT_TMPFS);
	cr_assert_str_eq(ms.m[2].super, "rw,size=4096k,mode=750");
	cr_assert_str_eq(ms.m[2].prop, "unbindable");
	sb_init(&sb);
	cr_assert_eq(render_mounts(&sb, &ms), 0);
	s = ut_steal(&sb);
	cr_assert_str_eq(s, text);
	free(s);
	crfs_mounts_free(&ms);
}

Test(mounts, refusals)
{
	static const char *const bad[] = {
		"x 1 / / ext4 a rw rw private host /h\n",
		"1 1 / / ext4 a rw rw private host\n",
		"1 1 / / ext4 a rw rw private host -\n",
		"1 1 / / ext4 a rw rw private host rel\n",
		"1 1 / / tmpfs a rw rw private sideways -\n",
		"1 1 rel / tmpfs a rw rw private tmpfs -\n",
		"1 1 / / tmpfs a rw rw private tmpfs - extra\n",
		"1 1 / / tmpfs a\\9 rw rw private tmpfs -\n",
		"2 1 /p /sys proc proc ro rw private bind -\n",
		"2 1 /p /sys proc proc ro rw private bind\n",
	};
	struct crfs_mounts ms;
	struct ut_text ut;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&ms, 0, sizeof(ms));
		ut_expect_einval(parse_mounts(ut_text(&ut, "mounts", bad[i]),
					      &ms), &ut, "mounts", NULL);
	}
}
