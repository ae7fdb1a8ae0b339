// SPDX-License-Identifier: MIT
/* ipc/msg, ipc/sem, ID.messages and ipc/ns: round trips and refusals. */
#include "unit.h"
#include "crfs/ipc.h"

Test(ipc, sem_round_trip)
{
	unsigned short v[3] = { 3, 0, 32767 };
	struct crfs_ipc_obj a = {
		.id = 32769, .key = 0x43521234, .mode = 0604, .uid = 1234,
		.gid = 5, .cuid = 0, .cgid = 7, .ctime = 0x693115e2,
		.count = 3, .semval = v,
	}, b;
	struct strbuf sb;
	struct ut_text ut;
	char *s;

	sb_init(&sb);
	cr_assert_eq(render_ipc_obj(&sb, CRFS_IPC_SEM, &a), 0);
	s = ut_steal(&sb);
	cr_assert(strstr(s, "values 3 0 32767\n"), "%s", s);
	cr_assert(!strstr(s, "qbytes"), "%s", s);
	cr_assert_eq(parse_ipc_obj(ut_text(&ut, "ipc/sem/32769", s),
				   CRFS_IPC_SEM, &b), 0, "%s", ut.err);
	cr_assert_eq(b.id, a.id);
	cr_assert_eq(b.key, a.key);
	cr_assert_eq(b.mode, a.mode);
	cr_assert_eq(b.cgid, a.cgid);
	cr_assert_eq(b.ctime, a.ctime);
	cr_assert_eq(b.count, 3);
	cr_assert_eq(memcmp(b.semval, v, sizeof(v)), 0);
	free_ipc_obj(&b);
	free(s);
}

Test(ipc, msgs_round_trip)
{
	struct crfs_ipc_msg m[3] = {
		{ 5, "ab\n", 3 }, { 1, "", 0 }, { 2147483647, "\0\xff", 2 },
	}, *out;
	struct strbuf sb;
	struct ut_text ut;
	size_t n, i;
	char *s;

	sb_init(&sb);
	cr_assert_eq(render_ipc_msgs(&sb, m, 3), 0);
	s = ut_steal(&sb);
	cr_assert_str_eq(s, "5 61620a\n1 -\n2147483647 00ff\n");
	cr_assert_eq(parse_ipc_msgs(ut_text(&ut, "ipc/msg/1.messages", s),
				    &out, &n), 0, "%s", ut.err);
	cr_assert_eq(n, 3);
	for (i = 0; i < n; i++) {
		cr_assert_eq(out[i].type, m[i].type);
		cr_assert_eq(out[i].len, m[i].len);
		cr_assert_eq(memcmp(out[i].data, m[i].data, m[i].len), 0);
	}
	free_ipc_msgs(out, n);
	free(s);
}

Test(ipc, refusals)
{
	static const char *const bad_msgs[] = {
		"0 00\n", "5 0\n", "5 zz\n", "5\n", "5 00 00\n", "-1 00\n",
	};
	static const char *const bad_sem[] = {
		"values 1 x\n", "values\n", "values 40000\n",
	};
	static const char *const sem_head =
		"id 1\nkey 0x0\nmode 0600\nuid 0\ngid 0\ncuid 0\ncgid 0\nctime 0x1\n";
	struct crfs_ipc_msg *out;
	struct crfs_ipc_obj o;
	struct ut_text ut;
	char buf[256];
	size_t i, n;

	for (i = 0; i < sizeof(bad_msgs) / sizeof(bad_msgs[0]); i++)
		cr_assert_eq(parse_ipc_msgs(ut_text(&ut, "m", bad_msgs[i]),
					    &out, &n), -EINVAL, "%s", bad_msgs[i]);
	for (i = 0; i < sizeof(bad_sem) / sizeof(bad_sem[0]); i++) {
		snprintf(buf, sizeof(buf), "%s%s", sem_head, bad_sem[i]);
		cr_assert_eq(parse_ipc_obj(ut_text(&ut, "s", buf), CRFS_IPC_SEM,
					   &o), -EINVAL, "%s", bad_sem[i]);
	}
	/* a queue needs its count of messages */
	cr_assert_eq(parse_ipc_obj(ut_text(&ut, "q", sem_head), CRFS_IPC_MSG,
				   &o), -EINVAL);
}

Test(ipc, ns_round_trip)
{
	struct crfs_ipc_ns a, b;
	struct strbuf sb;
	struct ut_text ut;
	char *s;
	int i;

	for (i = 0; i < CRFS_IPC_NLIMITS; i++)
		a.limit[i] = 1000 + i;
	a.limit[CRFS_IPC_SHMMAX] = 18446744073692774399ULL;
	sb_init(&sb);
	cr_assert_eq(render_ipc_ns(&sb, &a), 0);
	s = ut_steal(&sb);
	cr_assert(strstr(s, "shmmax 18446744073692774399\n"), "%s", s);
	cr_assert_eq(parse_ipc_ns(ut_text(&ut, "ipc/ns", s), &b), 0, "%s",
		     ut.err);
	cr_assert_eq(memcmp(&a, &b, sizeof(a)), 0);
	free(s);
	cr_assert_eq(parse_ipc_ns(ut_text(&ut, "ipc/ns", "shmmax 1\n"), &b),
		     -EINVAL);
}

Test(ipc, shm_round_trip)
{
	struct crfs_ipc_obj a = {
		.id = 65538, .key = 0x43531234, .mode = 0640, .uid = 1234,
		.ctime = 0x693115e2, .size = 12392, .removed = 1,
	}, b;
	struct strbuf sb;
	struct ut_text ut;
	char *s;

	sb_init(&sb);
	cr_assert_eq(render_ipc_obj(&sb, CRFS_IPC_SHM, &a), 0);
	s = ut_steal(&sb);
	cr_assert(strstr(s, "size 0x3068\nremoved 1\n"), "%s", s);
	cr_assert_eq(parse_ipc_obj(ut_text(&ut, "ipc/shm/65538", s),
				   CRFS_IPC_SHM, &b), 0, "%s", ut.err);
	cr_assert_eq(b.id, a.id);
	cr_assert_eq(b.size, a.size);
	cr_assert_eq(b.removed, 1);
	cr_assert_eq(b.uid, 1234);
	free(s);
	/* a segment needs its size */
	cr_assert_eq(parse_ipc_obj(ut_text(&ut, "s",
		"id 1\nkey 0x0\nmode 0600\nuid 0\ngid 0\ncuid 0\ncgid 0\nctime 0x1\nremoved 0\n"),
		CRFS_IPC_SHM, &b), -EINVAL);
}
