// SPDX-License-Identifier: MIT
/* Every state file survives render_X -> parse_X unchanged. */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

#define FREEZE_ID	"0123456789abcdef0123456789abcdef"

/* Parses text with parse(), which must succeed and leave no message. */
#define PARSE_OK(file, text, call)					\
	do {								\
		struct ut_text ut_;					\
		struct crfs_text *t = ut_text(&ut_, file, text);	\
		int ret_ = (call);					\
									\
		cr_assert_eq(ret_, 0, "%s: %d '%s' in:\n%s", file,	\
			     ret_, ut_.err, text);			\
		cr_assert_str_eq(ut_.err, "");				\
	} while (0)

Test(formats, attr_round_trip)
{
	struct crfs_attr a = {
		.pid = 4242, .ppid = 1, .pgid = 4242, .sid = 100,
		.comm = "my prog\twith", .exe = "/usr/bin/my prog",
		.cwd = "/home/\xc3\xa9t\xc3\xa9", .root = "/",
		.umask = 027, .personality = 0x0400000, .dumpable = 1,
		.no_new_privs = 1, .nthreads = 3,
	};
	struct crfs_attr b;
	struct strbuf sb;
	char *s;

	sb_init(&sb);
	cr_assert_eq(render_attr(&sb, &a), 0);
	s = ut_steal(&sb);
	cr_assert(strstr(s, "umask 027\n"), "%s", s);
	cr_assert(strstr(s, "comm my\\040prog\\011with\n"), "%s", s);
	PARSE_OK("1/attr", s, parse_attr(t, &b));
	cr_assert_eq(b.pid, a.pid);
	cr_assert_eq(b.ppid, a.ppid);
	cr_assert_eq(b.pgid, a.pgid);
	cr_assert_eq(b.sid, a.sid);
	cr_assert_str_eq(b.comm, a.comm);
	cr_assert_str_eq(b.exe, a.exe);
	cr_assert_str_eq(b.cwd, a.cwd);
	cr_assert_str_eq(b.root, a.root);
	cr_assert_eq(b.umask, a.umask);
	cr_assert_eq(b.personality, a.personality);
	cr_assert_eq(b.dumpable, a.dumpable);
	cr_assert_eq(b.no_new_privs, a.no_new_privs);
	cr_assert_eq(b.nthreads, a.nthreads);
	free(b.exe);
	free(b.cwd);
	free(b.root);
	free(s);
}

Test(formats, attr_edge_values)
{
	struct crfs_attr a = {
		.pid = 2147483647, .ppid = 0, .pgid = -1, .sid = 1,
		.comm = "0123456789abcdef", .exe = NULL, .cwd = "",
		.root = "/", .umask = 0, .personality = ~0UL,
		.dumpable = 0, .no_new_privs = 0, .nthreads = 1,
	};
	struct crfs_attr b;
	struct strbuf sb;
	char *s;

	sb_init(&sb);
	cr_assert_eq(render_attr(&sb, &a), 0);
	s = ut_steal(&sb);
	PARSE_OK("1/attr", s, parse_attr(t, &b));
	cr_assert_eq(b.pid, a.pid);
	cr_assert_eq(b.pgid, -1);
	cr_assert_str_eq(b.comm, a.comm);
	/* a missing string comes back empty */
	cr_assert_str_eq(b.exe, "");
	cr_assert_str_eq(b.cwd, "");
	cr_assert_eq(b.umask, 0);
	cr_assert_eq(b.personality, ~0UL);
	free(b.exe);
	free(b.cwd);
	free(b.root);
	free(s);
}

static void creds_round_trip(const struct crfs_creds *c)
{
	struct crfs_creds d;
	struct strbuf sb;
	int i;
	char *s;

	sb_init(&sb);
	cr_assert_eq(render_creds(&sb, c), 0);
	s = ut_steal(&sb);
	PARSE_OK("1/creds", s, parse_creds(t, &d));
	for (i = 0; i < 4; i++) {
		cr_assert_eq(d.uid[i], c->uid[i], "uid[%d]", i);
		cr_assert_eq(d.gid[i], c->gid[i], "gid[%d]", i);
	}
	cr_assert_eq(d.ngroups, c->ngroups);
	for (i = 0; i < c->ngroups; i++)
		cr_assert_eq(d.groups[i], c->groups[i], "group %d", i);
	cr_assert_eq(d.cap_inh, c->cap_inh);
	cr_assert_eq(d.cap_prm, c->cap_prm);
	cr_assert_eq(d.cap_eff, c->cap_eff);
	cr_assert_eq(d.cap_bnd, c->cap_bnd);
	cr_assert_eq(d.cap_amb, c->cap_amb);
	cr_assert_eq(d.securebits, c->securebits);
	free(d.groups);
	free(s);
}

Test(formats, creds_round_trip)
{
	gid_t groups[] = { 0, 4, 24, 27, 1000, 4294967294u };
	struct crfs_creds c = {
		.uid = { 1000, 0, 1001, 4294967295u },
		.gid = { 100, 101, 102, 103 },
		.ngroups = ARRAY_SIZE(groups), .groups = groups,
		.cap_inh = 0, .cap_prm = 0x1ffffffffff,
		.cap_eff = 0x1ffffffffff, .cap_bnd = ~0ULL,
		.cap_amb = 0x400, .securebits = 0x2f,
	};

	creds_round_trip(&c);
	c.ngroups = 0;
	c.groups = NULL;
	creds_round_trip(&c);
}

Test(formats, mm_round_trip)
{
	struct crfs_mm m = {
		.start_code = 0x555555554000, .end_code = 0x555555556000,
		.start_data = 0x555555557000, .end_data = 0x555555558000,
		.start_brk = 0x555555559000, .brk = 0x55555557a000,
		.start_stack = 0x7ffffffde000, .arg_start = 0x7ffffffde100,
		.arg_end = 0x7ffffffde200, .env_start = 0x7ffffffde200,
		.env_end = 0x7ffffffdefe0,
	};
	struct crfs_mm n;
	struct strbuf sb;
	char *s;
	int i;

	for (i = 0; i < 40; i += 2) {
		m.auxv[i] = i / 2 + 3;
		m.auxv[i + 1] = 0x7ffff7fc1000ULL + i * 0x1111;
	}
	m.auxv[38] = 0;		/* AT_NULL */
	m.auxv[39] = 0;
	m.auxv_len = 40;
	sb_init(&sb);
	cr_assert_eq(render_mm(&sb, &m), 0);
	s = ut_steal(&sb);
	PARSE_OK("1/mm", s, parse_mm(t, &n));
	cr_assert_eq(memcmp(&n, &m, offsetof(struct crfs_mm, auxv)), 0);
	cr_assert_eq(n.auxv_len, 40);
	cr_assert_arr_eq(n.auxv, m.auxv, 40 * sizeof(uint64_t));
	free(s);

	/* an empty vector too */
	m.auxv_len = 0;
	sb_init(&sb);
	cr_assert_eq(render_mm(&sb, &m), 0);
	s = ut_steal(&sb);
	PARSE_OK("1/mm", s, parse_mm(t, &n));
	cr_assert_eq(n.auxv_len, 0);
	free(s);
}

Test(formats, sigactions_round_trip)
{
	struct crfs_sigaction sa[CRFS_NSIG], sb_[CRFS_NSIG];
	struct strbuf sb;
	uint64_t seed = 11;
	char *s;
	int i;

	for (i = 0; i < CRFS_NSIG; i++) {
		sa[i].handler = i % 3 == 0 ? 0 : i % 3 == 1 ? 1 :
				ut_rand(&seed);
		sa[i].flags = ut_rand(&seed) & 0xffffffff;
		sa[i].restorer = i % 2 ? ut_rand(&seed) : 0;
		sa[i].mask = ut_rand(&seed);
	}
	sa[CRFS_NSIG - 1].mask = ~0ULL;
	sb_init(&sb);
	cr_assert_eq(render_sigactions(&sb, sa), 0);
	s = ut_steal(&sb);
	memset(sb_, 0xa5, sizeof(sb_));
	PARSE_OK("1/sigactions", s, parse_sigactions(t, sb_));
	for (i = 0; i < CRFS_NSIG; i++) {
		cr_assert_eq(sb_[i].handler, sa[i].handler, "signal %d", i + 1);
		cr_assert_eq(sb_[i].flags, sa[i].flags, "signal %d", i + 1);
		cr_assert_eq(sb_[i].restorer, sa[i].restorer, "signal %d",
			     i + 1);
		cr_assert_eq(sb_[i].mask, sa[i].mask, "signal %d", i + 1);
	}
	free(s);
}

Test(formats, rlimits_round_trip)
{
	struct crfs_rlimit rl[CRFS_NLIMITS], back[CRFS_NLIMITS];
	struct strbuf sb;
	char *s;
	int i;

	for (i = 0; i < CRFS_NLIMITS; i++) {
		rl[i].cur = (uint64_t)i * 1000;
		rl[i].max = i % 3 ? ~0ULL : rl[i].cur + 5;
	}
	rl[3].cur = ~0ULL;	/* both unlimited */
	rl[3].max = ~0ULL;
	rl[7].cur = 1024;	/* nofile */
	rl[7].max = 1048576;
	sb_init(&sb);
	cr_assert_eq(render_rlimits(&sb, rl), 0);
	s = ut_steal(&sb);
	cr_assert(strstr(s, "stack unlimited unlimited\n"), "%s", s);
	cr_assert(strstr(s, "nofile 1024 1048576\n"), "%s", s);
	PARSE_OK("1/rlimits", s, parse_rlimits(t, back));
	for (i = 0; i < CRFS_NLIMITS; i++) {
		cr_assert_eq(back[i].cur, rl[i].cur, "%s",
			     crfs_rlimit_names[i]);
		cr_assert_eq(back[i].max, rl[i].max, "%s",
			     crfs_rlimit_names[i]);
	}
	free(s);
}

static void assert_vma_eq(const struct crfs_vma *a, const struct crfs_vma *b,
			  size_t i)
{
	cr_assert_eq(a->start, b->start, "vma %zu start", i);
	cr_assert_eq(a->end, b->end, "vma %zu end", i);
	cr_assert_eq(a->pgoff, b->pgoff, "vma %zu pgoff", i);
	cr_assert_eq(a->prot, b->prot, "vma %zu prot", i);
	cr_assert_eq(a->flags, b->flags, "vma %zu flags", i);
	cr_assert_eq(a->kind, b->kind, "vma %zu kind", i);
	if (a->kind != VMA_FILE) {
		cr_assert_null(a->path, "vma %zu has a path", i);
		return;
	}
	cr_assert_eq(a->file_size, b->file_size, "vma %zu size", i);
	cr_assert_eq(a->file_mtime_ns, b->file_mtime_ns, "vma %zu mtime", i);
	cr_assert_str_eq(a->path, b->path, "vma %zu path", i);
}

Test(formats, maps_round_trip)
{
	const struct crfs_vma v[] = {
		{ .start = 0x400000, .end = 0x401000, .pgoff = 0x2000,
		  .prot = PROT_READ | PROT_EXEC, .kind = VMA_FILE,
		  .file_size = 123456, .file_mtime_ns = 1700000000123456789,
		  .path = "/opt/my app/bin\\x" },
		{ .start = 0x401000, .end = 0x403000,
		  .prot = PROT_READ | PROT_WRITE, .kind = VMA_FILE,
		  .file_size = 0, .file_mtime_ns = -5,
		  .flags = VMA_F_SHARED, .path = "/dev/shm/seg" },
		{ .start = 0x600000, .end = 0x800000,
		  .prot = PROT_READ | PROT_WRITE, .kind = VMA_HEAP },
		{ .start = 0x7f0000000000, .end = 0x7f0000010000,
		  .prot = PROT_READ | PROT_WRITE, .kind = VMA_ANON,
		  .flags = VMA_F_DONTFORK | VMA_F_DONTDUMP },
		{ .start = 0x7f0000010000, .end = 0x7f0000011000,
		  .prot = 0, .kind = VMA_ANON },
		{ .start = 0x7f0000011000, .end = 0x7f0000020000,
		  .prot = PROT_READ | PROT_WRITE, .kind = VMA_ANON,
		  .flags = VMA_F_SHARED | VMA_F_LOCKED | VMA_F_HUGEPAGE },
		{ .start = 0x7ffc00000000, .end = 0x7ffc00021000,
		  .prot = PROT_READ | PROT_WRITE, .kind = VMA_STACK,
		  .flags = VMA_F_GROWSDOWN },
		{ .start = 0x7ffc00100000, .end = 0x7ffc00104000,
		  .prot = PROT_READ, .kind = VMA_VVAR },
		{ .start = 0x7ffc00104000, .end = 0x7ffc00106000,
		  .prot = PROT_READ | PROT_EXEC, .kind = VMA_VDSO },
		{ .start = 0xffffffffff600000, .end = 0xffffffffff601000,
		  .prot = PROT_EXEC, .kind = VMA_VSYSCALL },
	};
	struct crfs_vma *back;
	struct strbuf sb;
	size_t n, i;
	char *s;

	sb_init(&sb);
	cr_assert_eq(render_maps(&sb, v, ARRAY_SIZE(v)), 0);
	s = ut_steal(&sb);
	cr_assert(strstr(s, " r-xp 0x2000 file - 123456:1700000000123456789 /opt/my\\040app/bin\\134x\n"),
		  "%s", s);
	cr_assert(strstr(s, " rw-s 0x0 file shared 0:-5 /dev/shm/seg\n"),
		  "%s", s);
	cr_assert(strstr(s, " rw-p 0x0 stack growsdown - -\n"), "%s", s);
	cr_assert(strstr(s, " r-xp 0x0 vdso - - -\n"), "%s", s);
	PARSE_OK("1/maps", s, parse_maps(t, &back, &n));
	cr_assert_eq(n, ARRAY_SIZE(v));
	for (i = 0; i < n; i++)
		assert_vma_eq(&back[i], &v[i], i);
	free_maps(back, n);
	free(s);
}

/*
 * nv mappings rendered as maps must read want, and parse back: the parsed
 * ones (free_maps(back, nv) after)
 */
static struct crfs_vma *maps_round(const struct crfs_vma *v, size_t nv,
				   const char *want)
{
	struct crfs_vma *back;
	struct strbuf sb;
	size_t n;
	char *s;

	sb_init(&sb);
	cr_assert_eq(render_maps(&sb, v, nv), 0);
	s = ut_steal(&sb);
	cr_assert_str_eq(s, want);
	PARSE_OK("1/maps", s, parse_maps(t, &back, &n));
	cr_assert_eq(n, nv);
	free(s);
	return back;
}

/* named POSIX shm: size, inode, owner and mode after the sizes */
Test(formats, maps_named_shmem)
{
	const struct crfs_vma v = {
		.start = 0x7f0000000000, .end = 0x7f0000004000,
		.prot = PROT_READ | PROT_WRITE, .kind = VMA_SHMEM,
		.flags = VMA_F_SHARED | VMA_F_NAMED, .file_size = 12388,
		.shm_ino = 77, .obj_uid = 101, .obj_gid = 104,
		.obj_mode = 0600, .path = "/dev/shm/PostgreSQL.42",
	};
	struct crfs_vma *back = maps_round(&v, 1,
					   "0x7f0000000000 0x7f0000004000 rw-s 0x0 shmem shared,named 12388:77:101:104:600 /dev/shm/PostgreSQL.42\n");

	cr_assert_eq(back[0].flags, v.flags);
	cr_assert_eq(back[0].file_size, 12388);
	cr_assert_eq(back[0].shm_ino, 77);
	cr_assert_eq(back[0].obj_uid, 101);
	cr_assert_eq(back[0].obj_gid, 104);
	cr_assert_eq(back[0].obj_mode, 0600);
	cr_assert_str_eq(back[0].path, v.path);
	free_maps(back, 1);
}

/* a packet socket's rings: the mapping's size and the socket's inode */
Test(formats, maps_packet_ring)
{
	const struct crfs_vma v = {
		.start = 0x7f0000000000, .end = 0x7f0000008000,
		.prot = PROT_READ | PROT_WRITE, .kind = VMA_PACKET,
		.flags = VMA_F_SHARED, .file_size = 0x8000, .shm_ino = 4242,
	};
	struct crfs_vma *back = maps_round(&v, 1,
					   "0x7f0000000000 0x7f0000008000 rw-s 0x0 packet shared 32768:4242 -\n");

	assert_vma_eq(&back[0], &v, 0);
	free_maps(back, 1);
}

Test(formats, maps_empty)
{
	struct crfs_vma *back = NULL;
	size_t n = 99;

	PARSE_OK("1/maps", "", parse_maps(t, &back, &n));
	cr_assert_eq(n, 0);
	free_maps(back, n);
}

Test(formats, fds_round_trip)
{
	const struct crfs_fd f[] = {
		{ .fd = 0, .file = 1, .cloexec = false },
		{ .fd = 1, .file = 2, .cloexec = true },
		{ .fd = 1000, .file = 1, .cloexec = false },
	};
	struct crfs_fd *back;
	struct strbuf sb;
	size_t n, i;
	char *s;

	sb_init(&sb);
	cr_assert_eq(render_fds(&sb, f, ARRAY_SIZE(f)), 0);
	s = ut_steal(&sb);
	cr_assert_str_eq(s, "0 1 -\n1 2 cloexec\n1000 1 -\n");
	PARSE_OK("1/fds", s, parse_fds(t, &back, &n));
	cr_assert_eq(n, ARRAY_SIZE(f));
	for (i = 0; i < n; i++) {
		cr_assert_eq(back[i].fd, f[i].fd, "fd %zu", i);
		cr_assert_eq(back[i].file, f[i].file, "fd %zu", i);
		cr_assert_eq(back[i].cloexec, f[i].cloexec, "fd %zu", i);
	}
	free(back);
	free(s);
}

static void assert_file_eq(const struct crfs_file *a, const struct crfs_file *b)
{
	cr_assert_eq(a->id, b->id);
	cr_assert_eq(a->peer_pid, b->peer_pid, "file %u", b->id);
	cr_assert_eq(a->peer_uid, b->peer_uid, "file %u", b->id);
	cr_assert_eq(a->peer_gid, b->peer_gid, "file %u", b->id);
	cr_assert_eq(a->map_type, b->map_type, "file %u", b->id);
	cr_assert_eq(a->key_size, b->key_size, "file %u", b->id);
	cr_assert_eq(a->value_size, b->value_size, "file %u", b->id);
	cr_assert_eq(a->max_entries, b->max_entries, "file %u", b->id);
	cr_assert_eq(a->map_flags, b->map_flags, "file %u", b->id);
	cr_assert_eq(a->frozen, b->frozen, "file %u", b->id);
	cr_assert_eq(!a->map_name, !b->map_name, "file %u", b->id);
	if (b->map_name)
		cr_assert_str_eq(a->map_name, b->map_name, "file %u", b->id);
	cr_assert_eq(a->kind, b->kind, "file %u", b->id);
	cr_assert_eq(a->flags, b->flags, "file %u", b->id);
	cr_assert_eq(a->pos, b->pos, "file %u", b->id);
	cr_assert_eq(a->mode, b->mode, "file %u", b->id);
	cr_assert_eq(!a->path, !b->path, "file %u", b->id);
	if (b->path)
		cr_assert_str_eq(a->path, b->path, "file %u", b->id);
	cr_assert_eq(!a->abstract, !b->abstract, "file %u", b->id);
	cr_assert_eq(a->abstract_len, b->abstract_len, "file %u", b->id);
	if (b->abstract)
		cr_assert_eq(memcmp(a->abstract, b->abstract, b->abstract_len),
			     0, "file %u", b->id);
	cr_assert_eq(a->ino, b->ino, "file %u", b->id);
	cr_assert_eq(a->data, b->data, "file %u", b->id);
	cr_assert_eq(a->pipe_size, b->pipe_size, "file %u", b->id);
	cr_assert_eq(a->sock_type, b->sock_type, "file %u", b->id);
	cr_assert_eq(a->peer, b->peer, "file %u", b->id);
	cr_assert_eq(a->backlog, b->backlog, "file %u", b->id);
	cr_assert_eq(a->shutdown, b->shutdown, "file %u", b->id);
	cr_assert_eq(a->nmsgs, b->nmsgs, "file %u", b->id);
	cr_assert_eq(a->connect_to, b->connect_to, "file %u", b->id);
	cr_assert_eq(a->count, b->count, "file %u", b->id);
	cr_assert_eq(a->semaphore, b->semaphore, "file %u", b->id);
	cr_assert_eq(a->clock, b->clock, "file %u", b->id);
	cr_assert_eq(a->ticks, b->ticks, "file %u", b->id);
	cr_assert_eq(a->value_ns, b->value_ns, "file %u", b->id);
	cr_assert_eq(a->interval_ns, b->interval_ns, "file %u", b->id);
	cr_assert_eq(a->sigmask, b->sigmask, "file %u", b->id);
	cr_assert_eq(a->owner, b->owner, "file %u", b->id);
	cr_assert_eq(a->flock, b->flock, "file %u", b->id);
	cr_assert_eq(a->seals, b->seals, "file %u", b->id);
	cr_assert_eq(a->fown, b->fown, "file %u", b->id);
	cr_assert_eq(a->fown_type, b->fown_type, "file %u", b->id);
	cr_assert_eq(a->fsig, b->fsig, "file %u", b->id);
	cr_assert_eq(a->ghost, b->ghost, "file %u", b->id);
	cr_assert_eq(a->nonlocal, b->nonlocal, "file %u", b->id);
	cr_assert_eq(a->pidfd_pid, b->pidfd_pid, "file %u", b->id);
	cr_assert_eq(a->exit_status, b->exit_status, "file %u", b->id);
	cr_assert_eq(a->fuid, b->fuid, "file %u", b->id);
	cr_assert_eq(a->fgid, b->fgid, "file %u", b->id);
	cr_assert_eq(a->protocol, b->protocol, "file %u", b->id);
	cr_assert_eq(a->portid, b->portid, "file %u", b->id);
	cr_assert_eq(a->dst_portid, b->dst_portid, "file %u", b->id);
	cr_assert_eq(a->dst_group, b->dst_group, "file %u", b->id);
	cr_assert_eq(a->groups, b->groups, "file %u", b->id);
	cr_assert_eq(a->nlflags, b->nlflags, "file %u", b->id);
	cr_assert_eq(a->inopts, b->inopts, "file %u", b->id);
	cr_assert_eq(!a->addr, !b->addr, "file %u", b->id);
	if (b->addr)
		cr_assert_str_eq(a->addr, b->addr, "file %u", b->id);
	cr_assert_eq(!a->dst, !b->dst, "file %u", b->id);
	if (b->dst)
		cr_assert_str_eq(a->dst, b->dst, "file %u", b->id);
	cr_assert_eq(a->tflags, b->tflags, "file %u", b->id);
	cr_assert_eq(a->expires, b->expires, "file %u", b->id);
	cr_assert_eq(a->lease, b->lease, "file %u", b->id);
	cr_assert_eq(a->rdev, b->rdev, "file %u", b->id);
	cr_assert_eq(!a->times, !b->times, "file %u", b->id);
	if (b->times)
		cr_assert_str_eq(a->times, b->times, "file %u", b->id);
}

Test(formats, files_round_trip)
{
	const struct crfs_file f[] = {
		{ .id = 1, .kind = FK_FILE, .flags = O_RDWR | O_APPEND,
		  .pos = 0x123456789, .mode = S_IFREG | 0644,
		  .path = "/var/log/my log\n.txt", .backlog = -1, .flock = 'w' },
		{ .id = 2, .kind = FK_PIPE, .flags = O_RDONLY | O_NONBLOCK,
		  .ino = 4242, .pipe_size = 1 << 20, .data = 70000,
		  .backlog = -1 },
		{ .id = 3, .kind = FK_UNIX, .flags = O_RDWR, .ino = 77,
		  .sock_type = SOCK_T_DGRAM, .peer = 78, .backlog = -1,
		  .nmsgs = 3, .data = 12, .abstract = "my\0name", .abstract_len = 7,
		  .shutdown = 2 },
		{ .id = 4, .kind = FK_UNIX, .flags = O_RDWR, .ino = 79,
		  .sock_type = SOCK_T_STREAM, .backlog = 128,
		  .path = "/run/x.sock" },
		{ .id = 5, .kind = FK_UNIX, .flags = O_RDWR, .ino = 80,
		  .sock_type = SOCK_T_SEQPACKET, .backlog = -1, .connect_to = 79 },
		{ .id = 6, .kind = FK_EVENTFD, .flags = O_RDWR, .count = 7,
		  .semaphore = true, .backlog = -1 },
		{ .id = 7, .kind = FK_TIMERFD, .flags = O_RDWR, .clock = 1,
		  .ticks = 3, .value_ns = 999999999, .interval_ns = 1000000001,
		  .backlog = -1 },
		{ .id = 8, .kind = FK_SIGNALFD, .flags = O_RDWR,
		  .sigmask = 0x800000200ULL, .backlog = -1 },
		{ .id = 9, .kind = FK_EPOLL, .flags = O_RDWR, .owner = 100,
		  .data = 40, .backlog = -1 },
		{ .id = 10, .kind = FK_DELETED, .flags = O_RDONLY, .pos = 5,
		  .mode = S_IFREG | 0600, .path = "/memfd:gone", .data = 10,
		  .backlog = -1, .seals = 0xe },
		{ .id = 11, .kind = FK_NETLINK, .flags = O_RDWR | O_ASYNC,
		  .sock_type = SOCK_T_RAW, .protocol = 0, .portid = 4242,
		  .groups = 0x300000001ULL, .nlflags = 0x20, .backlog = -1,
		  .seals = 1, .fown = 4242, .fown_type = 1, .fsig = 40 },
		{ .id = 12, .kind = FK_INET, .flags = O_RDWR,
		  .sock_type = SOCK_T_STREAM, .protocol = 6,
		  .addr = "[::1]:8080", .backlog = 5, .inopts = 0x11,
		  .seals = 1 },
		{ .id = 13, .kind = FK_INET, .flags = O_RDWR,
		  .sock_type = SOCK_T_DGRAM, .protocol = 17,
		  .addr = "127.0.0.1:5353", .dst = "127.0.0.1:53", .backlog = -1,
		  .seals = 1, .shutdown = 3 },
		{ .id = 14, .kind = FK_UNIX, .flags = O_RDWR, .ino = 81,
		  .sock_type = SOCK_T_STREAM, .backlog = 3, .ghost = true,
		  .path = "/run/old.sock", .seals = 1 },
		{ .id = 15, .kind = FK_UNIX, .flags = O_RDWR, .ino = 82,
		  .sock_type = SOCK_T_STREAM, .backlog = 3, .path = "/run/s.sock",
		  .mode = S_IFSOCK | 0600, .fuid = 1000, .fgid = 100, .seals = 1 },
		{ .id = 16, .kind = FK_TIMERFD, .flags = O_RDWR, .clock = 0,
		  .tflags = 3, .value_ns = 5, .expires = 1700000000123456789ULL,
		  .backlog = -1, .seals = 1 },
		{ .id = 17, .kind = FK_FILE, .flags = O_RDONLY,
		  .mode = S_IFREG | 0644, .path = "/srv/leased", .lease = 'r',
		  .backlog = -1, .seals = 1 },
		{ .id = 18, .kind = FK_CHR, .flags = O_RDWR, .ghost = true,
		  .mode = S_IFCHR | 0666, .path = "/tmp/null", .rdev = 0x103,
		  .times = "1000000000.000000005,1100000000.000000007",
		  .fuid = 12, .fgid = 13, .backlog = -1, .seals = 1 },
		{ .id = 19, .kind = FK_BPFMAP, .flags = O_RDWR, .ino = 42,
		  .map_type = 1, .key_size = 8, .value_size = 16,
		  .max_entries = 32, .map_flags = 1, .map_name = "crfs_hash",
		  .frozen = true, .nmsgs = 2, .data = 48, .backlog = -1,
		  .seals = 1 },
		{ .id = 20, .kind = FK_UNIX, .flags = O_RDWR, .ino = 83,
		  .sock_type = SOCK_T_STREAM, .peer = 84, .backlog = -1,
		  .peer_pid = 4242, .peer_uid = 1234, .peer_gid = 99,
		  .seals = 1 },
		{ .id = 21, .kind = FK_INET, .flags = O_RDWR,
		  .sock_type = SOCK_T_DGRAM, .protocol = 17,
		  .addr = "[2001:db8::77]:56789", .nonlocal = true,
		  .backlog = -1, .seals = 1 },
		{ .id = 22, .kind = FK_PIDFD, .flags = O_RDWR | O_NONBLOCK,
		  .pidfd_pid = -1, .ino = 4616042, .exit_status = 7 << 8,
		  .backlog = -1, .seals = 1 },
		{ .id = 23, .kind = FK_PIDFD, .flags = O_RDWR, .pidfd_pid = 1,
		  .backlog = -1, .seals = 1 },
	};
	struct crfs_file *back;
	struct strbuf sb;
	size_t n, i;
	char *s;

	sb_init(&sb);
	cr_assert_eq(render_files(&sb, f, ARRAY_SIZE(f)), 0);
	s = ut_steal(&sb);
	cr_assert(strstr(s, "2 pipe flags=04000 ino=4242 pipe_size=1048576 "), "%s", s);
	cr_assert(strstr(s, "12 inet flags=02 type=stream proto=6 addr=[::1]:8080 inopts=17 backlog=5"), "%s", s);
	cr_assert(strstr(s, " nonlocal=1"), "%s", s);
	cr_assert(strstr(s, "22 pidfd flags=04002 ino=4616042 "), "%s", s);
	cr_assert(strstr(s, " pid=-1 exit_status=1792 "), "%s", s);
	PARSE_OK("files", s, parse_files(t, &back, &n));
	cr_assert_eq(n, ARRAY_SIZE(f));
	for (i = 0; i < n; i++)
		assert_file_eq(&back[i], &f[i]);
	free_files(back, n);
	free(s);
}

Test(formats, lists_round_trip)
{
	const struct crfs_epoll_item e[] = {
		{ 3, 2, 0x80000019, 0x1234 }, { 1000, 9, 1, ~0ULL },
	};
	const struct crfs_inotify_watch w[] = {
		{ 1, 0x300, "/tmp", 0 }, { 7, 0xfff, "/a b", 12 },
	};
	const struct crfs_lock l[] = {
		{ .ofd = false, .write = true, .pid = 10, .file = 1, .start = 10, .len = 5 },
		{ .ofd = true, .write = false, .pid = 10, .file = 2, .start = 100, .len = 0 },
	};
	const struct crfs_timer tm[] = {
		{ .id = 0, .value_ns = 1500000000, .interval_ns = 0 },
		{ .posix = true, .id = 3, .clock = 1, .notify = 0, .signo = 12,
		  .sigval = 0x77, .tid = 0, .value_ns = 5, .interval_ns = 6,
		  .overrun = 2 },
	};
	struct crfs_epoll_item *eb;
	struct crfs_inotify_watch *wb;
	struct crfs_lock *lb;
	struct crfs_timer *tb;
	struct strbuf sb;
	size_t n;
	char *s;

	sb_init(&sb);
	cr_assert_eq(render_epoll(&sb, e, 2), 0);
	s = ut_steal(&sb);
	PARSE_OK("fdata/9", s, parse_epoll(t, &eb, &n));
	cr_assert_eq(n, 2);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(eb[i].tfd, e[i].tfd);
		cr_assert_eq(eb[i].file, e[i].file);
		cr_assert_eq(eb[i].events, e[i].events);
		cr_assert_eq(eb[i].data, e[i].data);
	}
	free(eb);
	free(s);
	cr_assert_eq(render_inotify(&sb, w, 2), 0);
	s = ut_steal(&sb);
	PARSE_OK("fdata/4", s, parse_inotify(t, &wb, &n));
	cr_assert_eq(n, 2);
	cr_assert_eq(wb[1].wd, 7);
	cr_assert_eq(wb[1].mask, 0xfff);
	cr_assert_str_eq(wb[1].path, "/a b");
	cr_assert_eq(wb[0].file, 0);
	cr_assert_eq(wb[1].file, 12);
	free_inotify(wb, n);
	free(s);
	cr_assert_eq(render_locks(&sb, l, 2), 0);
	s = ut_steal(&sb);
	cr_assert_str_eq(s, "posix w 1 0xa 0x5 10\nofd r 2 0x64 0x0 10\n");
	PARSE_OK("locks", s, parse_locks(t, &lb, &n));
	cr_assert_eq(n, 2);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(lb[i].ofd, l[i].ofd);
		cr_assert_eq(lb[i].write, l[i].write);
		cr_assert_eq(lb[i].pid, l[i].pid);
		cr_assert_eq(lb[i].file, l[i].file);
		cr_assert_eq(lb[i].start, l[i].start);
		cr_assert_eq(lb[i].len, l[i].len);
	}
	free(lb);
	free(s);
	cr_assert_eq(render_timers(&sb, tm, 2), 0);
	s = ut_steal(&sb);
	PARSE_OK("1/timers", s, parse_timers(t, &tb, &n));
	cr_assert_eq(n, 2);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(tb[i].posix, tm[i].posix);
		cr_assert_eq(tb[i].id, tm[i].id);
		cr_assert_eq(tb[i].clock, tm[i].clock);
		cr_assert_eq(tb[i].signo, tm[i].signo);
		cr_assert_eq(tb[i].sigval, tm[i].sigval);
		cr_assert_eq(tb[i].value_ns, tm[i].value_ns);
		cr_assert_eq(tb[i].interval_ns, tm[i].interval_ns);
		cr_assert_eq(tb[i].overrun, tm[i].overrun);
	}
	free(tb);
	free(s);
}

Test(formats, regs_round_trip)
{
	struct crfs_thread th = { .tid = 777 }, back;
	uint64_t seed = 3;
	struct strbuf sb;
	char *s;
	int i;

	for (i = 0; i < CRFS_NREGS; i++)
		th.regs[i] = ut_rand(&seed) >> (i % 4 * 16);
	th.regs[0] = 0;
	th.regs[15] = ~0ULL;	/* orig_rax -1 */
	sb_init(&sb);
	cr_assert_eq(render_regs(&sb, &th), 0);
	s = ut_steal(&sb);
	cr_assert_eq(strncmp(s, "tid 777\n", 8), 0, "%s", s);
	cr_assert(strstr(s, "\norig_rax 0xffffffffffffffff\n"), "%s", s);
	memset(&back, 0, sizeof(back));
	PARSE_OK("1/task/777/regs", s, parse_regs(t, &back));
	cr_assert_eq(back.tid, 777);
	cr_assert_arr_eq(back.regs, th.regs, sizeof(th.regs));
	free(s);
}

static void xstate_round_trip(uint32_t size, const uint8_t *data,
			      int want_lines)
{
	struct crfs_thread th = {
		.xstate_size = size, .xstate = (uint8_t *)data,
	};
	struct crfs_thread back = { 0 };
	struct strbuf sb;
	int lines = 0;
	char *s, *p;

	sb_init(&sb);
	cr_assert_eq(render_xstate(&sb, &th), 0);
	s = ut_steal(&sb);
	for (p = s; *p; p++)
		lines += *p == '\n';
	cr_assert_eq(lines, want_lines + 1, "size %u:\n%s", size, s);
	PARSE_OK("1/task/1/xstate", s, parse_xstate(t, &back));
	cr_assert_eq(back.xstate_size, size);
	cr_assert_arr_eq(back.xstate, data, size);
	free(back.xstate);
	free(s);
}

Test(formats, xstate_round_trip)
{
	uint8_t buf[1000] = { 0 };
	char *s;

	/* 1000 bytes: 31 full lines and a last one of 8 bytes */
	buf[0] = 0x7f;			/* line 0x0000 */
	buf[31] = 0x01;
	memset(buf + 160, 0xff, 32);	/* line 0x00a0 */
	buf[513] = 0xab;		/* line 0x0200 */
	buf[999] = 0x80;		/* short line 0x03e0 */
	xstate_round_trip(sizeof(buf), buf, 4);

	/* a short last line that is all zero is left out too */
	buf[999] = 0;
	xstate_round_trip(sizeof(buf), buf, 3);

	/* exact multiple of 32, all zero: only the size line */
	memset(buf, 0, sizeof(buf));
	xstate_round_trip(576, buf, 0);

	/* every line present */
	memset(buf, 0x5a, sizeof(buf));
	xstate_round_trip(832, buf, 26);

	/* the zero lines really are missing from the text */
	{
		struct crfs_thread th = { .xstate_size = 600,
					  .xstate = buf };
		struct strbuf sb;

		memset(buf, 0, sizeof(buf));
		buf[64] = 1;
		buf[599] = 2;
		sb_init(&sb);
		cr_assert_eq(render_xstate(&sb, &th), 0);
		s = ut_steal(&sb);
		cr_assert_str_eq(s, "size 600\n"
			"0x0040 0100000000000000000000000000000000000000000000000000000000000000\n"
			"0x0240 000000000000000000000000000000000000000000000002\n");
		free(s);
	}
}

Test(formats, sigstate_round_trip)
{
	struct crfs_thread th = {
		.blocked = 0x8000000000010002, .ss_sp = 0x7f0012340000,
		.ss_size = 0x8000, .ss_flags = 2 /* SS_DISABLE */,
		.clear_child_tid = 0x7f00123459d0, .rseq_ptr = 0x7f0012345fe0,
		.rseq_size = 32, .rseq_sig = 0x53053053,
	};
	struct crfs_thread back;
	struct strbuf sb;
	char *s;

	sb_init(&sb);
	cr_assert_eq(render_sigstate(&sb, &th), 0);
	s = ut_steal(&sb);
	memset(&back, 0, sizeof(back));
	PARSE_OK("1/task/1/sigstate", s, parse_sigstate(t, &back));
	cr_assert_eq(back.blocked, th.blocked);
	cr_assert_eq(back.ss_sp, th.ss_sp);
	cr_assert_eq(back.ss_size, th.ss_size);
	cr_assert_eq(back.ss_flags, th.ss_flags);
	cr_assert_eq(back.clear_child_tid, th.clear_child_tid);
	cr_assert_eq(back.rseq_ptr, th.rseq_ptr);
	cr_assert_eq(back.rseq_size, th.rseq_size);
	cr_assert_eq(back.rseq_sig, th.rseq_sig);
	free(s);
}

/* Renders pages.idx the way the daemon does; the length must be exact. */
static char *render_pages_idx(const char *freeze_id,
			      const struct crfs_page_run *r, size_t n)
{
	size_t size = pages_idx_size(freeze_id, n), i;
	char *buf = malloc(size + 1), *p;
	int head;

	cr_assert_not_null(buf);
	memset(buf, '#', size + 1);
	head = render_pages_idx_head(buf, size + 1, freeze_id, n);
	cr_assert_gt(head, 0);
	p = buf + head;
	for (i = 0; i < n; i++) {
		cr_assert_eq(render_pages_idx_line(p, &r[i]),
			     PAGES_IDX_LINE_LEN);
		p += PAGES_IDX_LINE_LEN;
	}
	cr_assert_eq((size_t)(p - buf), size, "rendered %zu, announced %zu",
		     (size_t)(p - buf), size);
	cr_assert_eq(p[-1], '\n');
	*p = '\0';
	return buf;
}

Test(formats, pages_idx_round_trip)
{
	const struct crfs_page_run r[] = {
		{ .addr = 0x400000, .npages = 1, .offset = 0,
		  .hash = 0x0123456789abcdef },
		{ .addr = 0x401000, .npages = 3, .offset = 0x1000,
		  .hash = 0 },
		{ .addr = 0x7ffc00000000, .npages = 4294967295u,
		  .offset = 0x4000, .hash = ~0ULL },
		{ .addr = 0x00fffff000000000, .npages = 9999999999ULL,
		  .offset = 0x4000 + 4294967295ULL * 4096,
		  .hash = 0xfedcba9876543210 },
	};
	struct crfs_page_run *back;
	size_t n, i;
	char *s;

	s = render_pages_idx(FREEZE_ID, r, ARRAY_SIZE(r));
	cr_assert_eq(strncmp(s, "freeze_id " FREEZE_ID "\nruns 4\n", 48), 0,
		     "%s", s);
	PARSE_OK("1/pages.idx", s, parse_pages_idx(t, FREEZE_ID, 0, &back, &n));
	cr_assert_eq(n, ARRAY_SIZE(r));
	for (i = 0; i < n; i++) {
		cr_assert_eq(back[i].addr, r[i].addr, "run %zu", i);
		cr_assert_eq(back[i].npages, r[i].npages, "run %zu", i);
		cr_assert_eq(back[i].offset, r[i].offset, "run %zu", i);
		cr_assert_eq(back[i].hash, r[i].hash, "run %zu", i);
	}
	free(back);
	free(s);
}

Test(formats, pages_idx_sizes)
{
	static const size_t counts[] = { 0, 1, 9, 10, 99, 100, 12345 };
	struct crfs_page_run *r, *back;
	size_t c, i, n;
	char *s;

	for (c = 0; c < ARRAY_SIZE(counts); c++) {
		r = calloc(counts[c] ?: 1, sizeof(*r));
		cr_assert_not_null(r);
		for (i = 0; i < counts[c]; i++) {
			r[i].addr = 0x10000000 + i * 0x3000;
			r[i].npages = 2;
			r[i].offset = i * 0x2000;
			r[i].hash = i * 0x9e3779b97f4a7c15ULL;
		}
		s = render_pages_idx(FREEZE_ID, r, counts[c]);
		cr_assert_eq(strlen(s), pages_idx_size(FREEZE_ID, counts[c]));
		PARSE_OK("1/pages.idx", s,
			 parse_pages_idx(t, FREEZE_ID, 0, &back, &n));
		cr_assert_eq(n, counts[c]);
		if (n)
			cr_assert_arr_eq(back, r, n * sizeof(*r));
		free(back);
		free(r);
		free(s);
	}
}

static void fill_header(struct crfs_header *h, bool hashes)
{
	static pid_t procs[] = { 100, 101, 205 };
	static struct crfs_manifest_entry files[] = {
		{ .path = "100/attr", .size = 321, .has_hash = true,
		  .hash = 0x00000000deadbeef },
		{ .path = "100/pages", .size = 1ULL << 40, .has_hash = true,
		  .hash = 0xfedcba9876543210 },
		{ .path = "101/dir with space/x", .size = 0,
		  .has_hash = false },
	};

	memset(h, 0, sizeof(*h));
	h->version = CRFS_FORMAT_VERSION;
	strcpy(h->arch, CRFS_ARCH);
	h->page_size = sysconf(_SC_PAGESIZE);
	strcpy(h->kernel, "6.1.0-18-amd64 #1 SMP PREEMPT_DYNAMIC");
	strcpy(h->freeze_id, FREEZE_ID);
	h->root = 100;
	h->nprocs = ARRAY_SIZE(procs);
	h->procs = procs;
	h->nfiles = ARRAY_SIZE(files);
	h->files = files;
	files[0].has_hash = hashes;
	files[1].has_hash = hashes;
}

static void header_round_trip(bool hashes)
{
	struct crfs_header h, back;
	struct strbuf sb;
	size_t i;
	char *s;

	fill_header(&h, hashes);
	sb_init(&sb);
	cr_assert_eq(render_header(&sb, &h), 0);
	s = ut_steal(&sb);
	cr_assert_eq(strncmp(s, "format crfs\nversion 6\narch x86_64\n", 34),
		     0, "%s", s);
	PARSE_OK("image", s, parse_header(t, &back));
	cr_assert_eq(back.version, h.version);
	cr_assert_str_eq(back.arch, h.arch);
	cr_assert_eq(back.page_size, h.page_size);
	cr_assert_str_eq(back.kernel, h.kernel);
	cr_assert_str_eq(back.freeze_id, h.freeze_id);
	cr_assert_eq(back.root, h.root);
	cr_assert_eq(back.nprocs, h.nprocs);
	cr_assert_arr_eq(back.procs, h.procs, h.nprocs * sizeof(pid_t));
	cr_assert_eq(back.nfiles, h.nfiles);
	for (i = 0; i < h.nfiles; i++) {
		cr_assert_str_eq(back.files[i].path, h.files[i].path);
		cr_assert_eq(back.files[i].size, h.files[i].size);
		cr_assert_eq(back.files[i].has_hash, h.files[i].has_hash);
		if (h.files[i].has_hash)
			cr_assert_eq(back.files[i].hash, h.files[i].hash);
	}
	free_header(&back);
	cr_assert_null(back.files);
	free(s);
}

Test(formats, header_round_trip_with_hashes)
{
	header_round_trip(true);
}

Test(formats, header_round_trip_without_hashes)
{
	header_round_trip(false);
}

Test(formats, header_minimal)
{
	struct crfs_header h, back;
	struct strbuf sb;
	char *s;

	fill_header(&h, false);
	h.nprocs = 0;
	h.nfiles = 0;
	h.kernel[0] = '\0';
	sb_init(&sb);
	cr_assert_eq(render_header(&sb, &h), 0);
	s = ut_steal(&sb);
	PARSE_OK("image", s, parse_header(t, &back));
	cr_assert_eq(back.nprocs, 0);
	cr_assert_eq(back.nfiles, 0);
	cr_assert_str_eq(back.kernel, "");
	free_header(&back);
	free(s);
}

Test(formats, fanotify_round_trip)
{
	const struct crfs_fanotify_mark m[] = {
		{ FAN_T_INODE, 0x40, 0x0, 0x20, "/tmp/a b" },
		{ FAN_T_MOUNT, 0, 0x8, 0, "/" },
		{ FAN_T_FS, 0, 0x8000100, 0, "/srv" },
	};
	struct crfs_fanotify_mark *mb;
	struct strbuf sb;
	size_t n;
	char *s;

	sb_init(&sb);
	cr_assert_eq(render_fanotify(&sb, m, 3), 0);
	s = ut_steal(&sb);
	cr_assert_str_eq(s, "inode 0x40 0x0 0x20 /tmp/a\\040b\nmount 0x0 0x8 0x0 /\nfs 0x0 0x8000100 0x0 /srv\n");
	PARSE_OK("fdata/5", s, parse_fanotify(t, &mb, &n));
	cr_assert_eq(n, 3);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(mb[i].target, m[i].target);
		cr_assert_eq(mb[i].mflags, m[i].mflags);
		cr_assert_eq(mb[i].mask, m[i].mask);
		cr_assert_eq(mb[i].ignored, m[i].ignored);
		cr_assert_str_eq(mb[i].path, m[i].path);
	}
	free_fanotify(mb, n);
	free(s);
}

Test(formats, mq_msgs_round_trip)
{
	const unsigned int prio[] = { 31, 5, 0 };
	const size_t len[] = { 3, 128, 0 };
	unsigned int pb[3];
	size_t lb[3];
	struct strbuf sb;
	char *s;

	sb_init(&sb);
	cr_assert_eq(render_mq_msgs(&sb, prio, len, 3), 0);
	s = ut_steal(&sb);
	cr_assert_str_eq(s, "3 31\n128 5\n0 0\n");
	cr_assert_eq(parse_mq_msgs(s, 3, 131, pb, lb), 0);
	for (size_t i = 0; i < 3; i++) {
		cr_assert_eq(pb[i], prio[i]);
		cr_assert_eq(lb[i], len[i]);
	}
	/* a line too many or too few, or lengths that do not sum up */
	cr_assert_eq(parse_mq_msgs(s, 2, 131, pb, lb), -EINVAL);
	cr_assert_eq(parse_mq_msgs("3 31\n", 2, 3, pb, lb), -EINVAL);
	cr_assert_eq(parse_mq_msgs(s, 3, 130, pb, lb), -EINVAL);
	cr_assert_eq(parse_mq_msgs("3\n", 1, 3, pb, lb), -EINVAL);
	free(s);
}

/* MAP_DROPPABLE: a flag of private anonymous memory, back as such */
Test(formats, maps_droppable)
{
	const struct crfs_vma v = {
		.start = 0x7f0000000000, .end = 0x7f0000001000,
		.prot = PROT_READ | PROT_WRITE, .kind = VMA_ANON,
		.flags = VMA_F_WIPEONFORK | VMA_F_NORESERVE | VMA_F_DROPPABLE,
	};
	struct crfs_vma *back = maps_round(&v, 1,
					   "0x7f0000000000 0x7f0000001000 rw-p 0x0 anon wipeonfork,noreserve,droppable - -\n");

	cr_assert_eq(back[0].flags, v.flags);
	free_maps(back, 1);
}

/* hugetlb: the page size after the VmFlags, back as flag and size */
Test(formats, maps_hugetlb)
{
	const struct crfs_vma v[] = {
		{ .start = 0x7f0000000000, .end = 0x7f0000400000,
		  .prot = PROT_READ | PROT_WRITE, .kind = VMA_ANON,
		  .flags = VMA_F_HUGETLB, .huge_kb = 2048 },
		{ .start = 0x7f0000400000, .end = 0x7f0000800000,
		  .prot = PROT_READ | PROT_WRITE, .kind = VMA_SHMEM,
		  .flags = VMA_F_SHARED | VMA_F_HUGETLB, .huge_kb = 2048,
		  .file_size = 0x400000, .shm_ino = 9, .path = "/memfd:h" },
	};
	struct crfs_vma *back = maps_round(v, 2,
					   "0x7f0000000000 0x7f0000400000 rw-p 0x0 anon hugetlb=2048 - -\n"
					   "0x7f0000400000 0x7f0000800000 rw-s 0x0 shmem shared,hugetlb=2048 4194304:9 /memfd:h\n");

	cr_assert_eq(back[0].flags, VMA_F_HUGETLB);
	cr_assert_eq(back[0].huge_kb, 2048);
	cr_assert_eq(back[1].flags, VMA_F_SHARED | VMA_F_HUGETLB);
	cr_assert_eq(back[1].huge_kb, 2048);
	cr_assert_str_eq(back[1].path, "/memfd:h");
	free_maps(back, 2);
}

/* PID/guards: ranges of whole pages in order, each inside one mapping that
 * may have guard pages; anything else is refused with the line's problem */
Test(formats, guards_round_trip_and_refusals)
{
	struct crfs_vma v[3] = {
		{ .start = 0x10000, .end = 0x20000, .kind = VMA_ANON },
		{ .start = 0x20000, .end = 0x40000, .kind = VMA_ANON },
		{ .start = 0x40000, .end = 0x42000, .kind = VMA_VDSO },
	};
	/* the last two touch: one run over two mappings */
	struct crfs_guard g[3] = { { 0x11000, 0x13000 }, { 0x1f000, 0x20000 },
				   { 0x20000, 0x21000 } }, *got;
	static const char *const bad[] = {
		"0x11000\n",			/* one field */
		"0x11001 0x12000\n",		/* not a page */
		"0x12000 0x12000\n",		/* empty */
		"0x20000 0x21000\n0x11000 0x12000\n",	/* out of order */
		"0x11000 0x13000\n0x12000 0x14000\n",	/* overlapping */
		"0x3f000 0x41000\n",		/* across two mappings */
		"0x40000 0x41000\n",		/* in the vDSO */
		"0x50000 0x51000\n",		/* in none */
	};
	struct ut_text ut;
	struct strbuf sb;
	size_t n, i;
	char *s;

	sb_init(&sb);
	cr_assert_eq(render_guards(&sb, g, 3), 0);
	s = ut_steal(&sb);
	cr_assert_str_eq(s, "0x11000 0x13000\n0x1f000 0x20000\n0x20000 0x21000\n");
	PARSE_OK("1/guards", s, parse_guards(t, v, 3, &got, &n));
	cr_assert_eq(n, 3);
	cr_assert_arr_eq(got, g, sizeof(g));
	free(got);
	free(s);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = strdup(bad[i]);
		cr_assert_neq(parse_guards(ut_text(&ut, "1/guards", s), v, 3,
					   &got, &n), 0, "%s", bad[i]);
		cr_assert_null(got);
		cr_assert_neq(ut.err[0], 0, "%s", bad[i]);
		free(s);
	}
}
