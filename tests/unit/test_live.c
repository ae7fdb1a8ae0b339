// SPDX-License-Identifier: MIT
/* The live view's renderers: PID/fds lines and keys left out of a text. */
#include "unit.h"
#include "crfs/live.h"

Test(live, fds_lines)
{
	const struct crfs_live_fd f[] = {
		{ 0, false, "/dev/null" },
		{ 3, true, "/tmp/a b\\c" },
		{ 7, false, NULL },
	};
	struct strbuf sb;
	char *s;

	sb_init(&sb);
	cr_assert_eq(render_live_fds(&sb, f, ARRAY_SIZE(f)), 0);
	s = ut_steal(&sb);
	cr_assert_str_eq(s, "0 /dev/null -\n3 /tmp/a\\040b\\134c cloexec\n7 ? -\n");
	free(s);
	sb_init(&sb);
	cr_assert_eq(render_live_fds(&sb, f, 0), 0);
	cr_assert_eq(sb.len, 0);
	sb_free(&sb);
}

Test(live, drop_keys)
{
	static const char *const keys[] = { "brk", "mlockall", "auxv" };
	struct strbuf sb;
	char *s;

	sb_init(&sb);
	cr_assert_eq(sb_printf(&sb, "start_brk 0x1\nbrk 0x2\nbrk_x 0x3\nmlockall 0\nauxv 0x0 0x0\nend 1\n"), 0);
	cr_assert_eq(text_drop_keys(&sb, keys, ARRAY_SIZE(keys)), 0);
	s = ut_steal(&sb);
	/* a key only prefixed by one listed stays */
	cr_assert_str_eq(s, "start_brk 0x1\nbrk_x 0x3\nend 1\n");
	free(s);

	/* every line dropped, and a key with no value */
	sb_init(&sb);
	cr_assert_eq(sb_printf(&sb, "brk\nauxv 1\n"), 0);
	cr_assert_eq(text_drop_keys(&sb, keys, ARRAY_SIZE(keys)), 0);
	s = ut_steal(&sb);
	cr_assert_str_eq(s, "");
	free(s);

	/* not lines: refused, left as it was */
	sb_init(&sb);
	cr_assert_eq(sb_printf(&sb, "brk 0x2"), 0);
	cr_assert_eq(text_drop_keys(&sb, keys, ARRAY_SIZE(keys)), -EINVAL);
	s = ut_steal(&sb);
	cr_assert_str_eq(s, "brk 0x2");
	free(s);

	/* an empty text stays empty */
	sb_init(&sb);
	cr_assert_eq(text_drop_keys(&sb, keys, ARRAY_SIZE(keys)), 0);
	cr_assert_eq(sb.len, 0);
}

Test(live, attr_left_out)
{
	static const char *const keys[] = { "dumpable", "pdeathsig" };
	struct crfs_attr a = { .pid = 5, .ppid = 1, .dumpable = 1,
			       .exe = "/bin/x", .cwd = "/", .root = "/" };
	struct strbuf sb;
	char *s;

	sb_init(&sb);
	cr_assert_eq(render_attr(&sb, &a), 0);
	cr_assert_eq(text_drop_keys(&sb, keys, ARRAY_SIZE(keys)), 0);
	s = ut_steal(&sb);
	cr_assert(strstr(s, "pid 5\n") == s, "%s", s);
	cr_assert(strstr(s, "ppid 1\n"), "%s", s);
	cr_assert_null(strstr(s, "dumpable"), "%s", s);
	cr_assert_null(strstr(s, "pdeathsig"), "%s", s);
	free(s);
}
