// SPDX-License-Identifier: MIT
/*
 * Damaged or foreign state files are refused with -EINVAL and a message
 * that names the file (and says why, where the reason matters to a user).
 */
#include <sys/mman.h>
#include <unistd.h>

#include "unit.h"

#define FREEZE_ID	"0123456789abcdef0123456789abcdef"
#define OTHER_ID	"fedcba9876543210fedcba9876543210"

/* A valid rendering of each file, to be damaged by the tests. */

static char *good_attr(void)
{
	struct crfs_attr a = {
		.pid = 10, .ppid = 1, .pgid = 10, .sid = 10, .comm = "daemon",
		.exe = "/bin/daemon", .cwd = "/", .root = "/", .umask = 022,
		.nthreads = 1,
	};
	struct strbuf sb;

	sb_init(&sb);
	cr_assert_eq(render_attr(&sb, &a), 0);
	return ut_steal(&sb);
}

static void base_header(struct crfs_header *h)
{
	static pid_t procs[] = { 10, 11 };
	static struct crfs_manifest_entry files[] = {
		{ .path = "10/attr", .size = 100, .has_hash = true,
		  .hash = 0x1234 },
		{ .path = "10/pages", .size = 8192 },
	};

	memset(h, 0, sizeof(*h));
	h->version = CRFS_FORMAT_VERSION;
	strcpy(h->arch, CRFS_ARCH);
	h->page_size = sysconf(_SC_PAGESIZE);
	strcpy(h->kernel, "6.8.0");
	strcpy(h->freeze_id, FREEZE_ID);
	h->root = 10;
	h->nprocs = ARRAY_SIZE(procs);
	h->procs = procs;
	h->nfiles = ARRAY_SIZE(files);
	h->files = files;
}

static char *header_text(const struct crfs_header *h)
{
	struct strbuf sb;

	sb_init(&sb);
	cr_assert_eq(render_header(&sb, h), 0);
	return ut_steal(&sb);
}

static char *good_header(void)
{
	struct crfs_header h;

	base_header(&h);
	return header_text(&h);
}

static char *good_sigactions(void)
{
	struct crfs_sigaction sa[CRFS_NSIG] = { { 0 } };
	struct strbuf sb;

	sb_init(&sb);
	cr_assert_eq(render_sigactions(&sb, sa), 0);
	return ut_steal(&sb);
}

static char *good_rlimits(void)
{
	struct crfs_rlimit rl[CRFS_NLIMITS];
	struct strbuf sb;
	int i;

	for (i = 0; i < CRFS_NLIMITS; i++) {
		rl[i].cur = 1024;
		rl[i].max = ~0ULL;
	}
	sb_init(&sb);
	cr_assert_eq(render_rlimits(&sb, rl), 0);
	return ut_steal(&sb);
}

/* header (image) */

static void expect_header_error(const char *text, const char *why)
{
	struct crfs_header h;
	struct ut_text ut;
	int ret;

	ret = parse_header(ut_text(&ut, "ckpt/image", text), &h);
	ut_expect_einval(ret, &ut, "ckpt/image", why);
	free_header(&h);
}

Test(errors, header_wrong_format)
{
	char *good = good_header(), *bad;

	bad = ut_edit_line(good, "format ", "format criu");
	expect_header_error(bad, "not a crfs image");
	free(bad);
	bad = ut_edit_line(good, "format ", NULL);
	expect_header_error(bad, "not a crfs image");
	free(bad);
	expect_header_error("", "not a crfs image");
	expect_header_error("\x7f" "ELF\x02\x01\x01\n", "not a crfs image");
	free(good);
}

Test(errors, header_newer_version)
{
	/* 4 and 5 had the hash of 32-byte blocks: their checksums would not
	 * match, so they are refused as older, not as corrupt */
	static const struct {
		const char *line, *want;
	} bad[] = {
		{ "version 99", "newer" },
		{ "version 0", "version" },
		{ "version 1", "older than this crfs-restore reads (6)" },
		{ "version 4", "format version 4 is older than this crfs-restore reads (6): checkpoint again" },
		{ "version 5", "format version 5 is older than this crfs-restore reads (6)" },
		{ "version one", "version" },
	};
	char *good = good_header(), *text;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		text = ut_edit_line(good, "version ", bad[i].line);
		cr_assert(strstr(text, bad[i].line));
		expect_header_error(text, bad[i].want);
		free(text);
	}
	free(good);
}

Test(errors, header_foreign_arch)
{
	char *good = good_header(), *bad;

	bad = ut_edit_line(good, "arch ", "arch aarch64");
	expect_header_error(bad, "aarch64");
	expect_header_error(bad, "architecture");
	free(bad);
	free(good);
}

Test(errors, header_checksum_mismatch)
{
	char *good = good_header(), *bad = ut_strdup(good), *p;

	/* one byte of the body, in a line that still parses by itself */
	p = strstr(bad, "process 11\n");
	cr_assert_not_null(p);
	p[9] = '2';
	expect_header_error(bad, "checksum");

	strcpy(bad, good);
	p = strstr(bad, FREEZE_ID);
	cr_assert_not_null(p);
	p[5] ^= 0x01;
	expect_header_error(bad, "checksum");

	/* or of the checksum itself */
	strcpy(bad, good);
	p = strstr(bad, "\nend ");
	cr_assert_not_null(p);
	p[6] = p[6] == '0' ? '1' : '0';
	expect_header_error(bad, "checksum");
	free(bad);
	free(good);
}

Test(errors, header_truncated)
{
	char *good = good_header(), *bad;
	size_t len = strlen(good);

	bad = ut_edit_line(good, "end ", NULL);
	expect_header_error(bad, "truncated");
	free(bad);

	/* cut in the middle of the end line, or of the line before it */
	bad = ut_strdup(good);
	bad[len - 1] = '\0';
	expect_header_error(bad, "truncated");
	bad[len - 10] = '\0';
	expect_header_error(bad, "truncated");
	bad[len - 24] = '\0';
	expect_header_error(bad, "truncated");
	free(bad);
	free(good);
}

Test(errors, header_data_after_end)
{
	char *good = good_header(), *body, *bad;
	char end[32];

	/* a second, correctly checksummed end line after more data */
	body = ut_concat(good, "process 12\n");
	snprintf(end, sizeof(end), "end %016lx\n",
		 crfs_hash(body, strlen(body)));
	bad = ut_concat(body, end);
	expect_header_error(bad, "after 'end'");
	free(bad);
	free(body);
	free(good);
}

/* Correctly checksummed headers with bad contents. */
static void expect_header_path_error(const char *path)
{
	struct crfs_manifest_entry file = { .path = (char *)path, .size = 1 };
	struct crfs_header h;
	char *s;

	base_header(&h);
	h.nfiles = 1;
	h.files = &file;
	s = header_text(&h);
	expect_header_error(s, "bad file path");
	free(s);
}

Test(errors, header_bad_contents)
{
	struct crfs_header h;
	char *s;

	expect_header_path_error("/etc/shadow");
	expect_header_path_error("../../etc/shadow");
	expect_header_path_error("10/../../x");

	base_header(&h);
	h.root = 0;
	s = header_text(&h);
	expect_header_error(s, "root");
	free(s);

	base_header(&h);
	strcpy(h.freeze_id, "1234");
	s = header_text(&h);
	expect_header_error(s, "freeze_id");
	free(s);

	base_header(&h);
	h.page_size = sysconf(_SC_PAGESIZE) * 16;
	s = header_text(&h);
	expect_header_error(s, "page size");
	free(s);
}

/* attr, through the kv table parser */

static void expect_attr_error(const char *text, const char *why)
{
	struct crfs_attr a;
	struct ut_text ut;
	int ret;

	ret = parse_attr(ut_text(&ut, "10/attr", text), &a);
	/* the strings parsed before the error are the caller's to free */
	free(a.exe);
	free(a.cwd);
	free(a.root);
	ut_expect_einval(ret, &ut, "10/attr", why);
}

Test(errors, attr_missing_key)
{
	char *good = good_attr(), *bad;

	bad = ut_edit_line(good, "umask ", NULL);
	expect_attr_error(bad, "umask");
	expect_attr_error(bad, "missing");
	free(bad);
	bad = ut_edit_line(good, "pid ", NULL);
	expect_attr_error(bad, "'pid' is missing");
	free(bad);
	free(good);
}

Test(errors, attr_unknown_key)
{
	char *good = good_attr(), *bad;

	bad = ut_concat(good, "colour blue\n");
	expect_attr_error(bad, "colour");
	/* the line after the last key of the file */
	{
		char want[32];
		int lines = 0;

		for (const char *c = good; *c; c++)
			lines += *c == '\n';
		snprintf(want, sizeof(want), "10/attr:%d:", lines + 1);
		expect_attr_error(bad, want);
	}
	free(bad);
	free(good);
}

Test(errors, attr_repeated_key)
{
	char *good = good_attr(), *bad;

	bad = ut_concat(good, "ppid 1\n");
	expect_attr_error(bad, "twice");
	free(bad);
	free(good);
}

Test(errors, attr_bad_values)
{
	static const struct {
		const char *line;
		const char *prefix;
	} bad[] = {
		{ "pid abc", "pid " },
		{ "pid 2147483648", "pid " },
		{ "pid", "pid " },
		{ "pid 1 2", "pid " },
		{ "personality 12", "personality " },
		{ "personality 0xzz", "personality " },
		{ "umask 0999", "umask " },
		{ "umask 0x", "umask " },
		{ "comm 0123456789abcdefg", "comm " },
		{ "exe /bin/a\\9", "exe " },
		{ "threads -", "threads " },
	};
	char *good = good_attr(), *text;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		text = ut_edit_line(good, bad[i].prefix, bad[i].line);
		expect_attr_error(text, "10/attr:");
		free(text);
	}
	text = ut_edit_line(good, "pid ", "pid abc");
	expect_attr_error(text, "bad value 'abc' for key 'pid'");
	free(text);
	text = ut_edit_line(good, "sid ", "");
	expect_attr_error(text, "empty line");
	free(text);
	free(good);
}

/* maps */

static void expect_maps_error(const char *text, const char *why)
{
	struct crfs_vma *v = NULL;
	struct ut_text ut;
	size_t n = 0;
	int ret;

	ret = parse_maps(ut_text(&ut, "10/maps", text), &v, &n);
	ut_expect_einval(ret, &ut, "10/maps", why);
}

Test(errors, maps_named_shmem)
{
	expect_maps_error("0x1000 0x2000 rw-s 0x0 shmem shared,named 100:5 /dev/shm/x\n",
			  "named shmem needs 'size:inode:uid:gid:mode'");
	expect_maps_error("0x1000 0x2000 rw-s 0x0 shmem shared,named 100:5:0:0:17777 /dev/shm/x\n",
			  "named shmem needs 'size:inode:uid:gid:mode'");
	expect_maps_error("0x1000 0x2000 rw-s 0x0 shmem shared,named 100:5:0:0:600 -\n",
			  "named shmem needs an absolute path");
	expect_maps_error("0x1000 0x2000 rw-s 0x0 file shared,named 1:1 /a\n",
			  "only shmem can be named");
}

Test(errors, maps_packet_ring)
{
	const char *why = "packet needs a shared mapping at offset 0, 'size:inode' of its size and '-'";

	expect_maps_error("0x1000 0x3000 rw-s 0x0 packet shared 4096:7 -\n", why);
	expect_maps_error("0x1000 0x2000 rw-p 0x0 packet - 4096:7 -\n", why);
	expect_maps_error("0x1000 0x2000 rw-s 0x1000 packet shared 4096:7 -\n", why);
	expect_maps_error("0x1000 0x2000 rw-s 0x0 packet shared 4096:7 /x\n", why);
}

Test(errors, maps_overlap_or_unsorted)
{
	expect_maps_error("0x1000 0x3000 rw-p 0x0 anon - - -\n"
			  "0x2000 0x4000 rw-p 0x0 anon - - -\n",
			  "overlap");
	expect_maps_error("0x5000 0x6000 rw-p 0x0 anon - - -\n"
			  "0x1000 0x2000 rw-p 0x0 anon - - -\n",
			  "unsorted");
	expect_maps_error("0x1000 0x2000 rw-p 0x0 anon - - -\n"
			  "0x1000 0x2000 rw-p 0x0 anon - - -\n",
			  "10/maps:2:");
	/* and the file path of an earlier line is not leaked or reused */
	expect_maps_error("0x1000 0x3000 r--p 0x0 file - 1:1 /a\n"
			  "0x2000 0x4000 r--p 0x0 file - 1:1 /b\n",
			  "overlap");
}

Test(errors, maps_bad_range)
{
	expect_maps_error("0x2000 0x1000 rw-p 0x0 anon - - -\n", "range");
	expect_maps_error("0x2000 0x2000 rw-p 0x0 anon - - -\n", "range");
	expect_maps_error("0x1001 0x2000 rw-p 0x0 anon - - -\n", "range");
	expect_maps_error("0x1000 0x2000 rw-p 0x10 anon - - -\n", "offset");
	expect_maps_error("0x1000 0x2000 rw-p 0x0 anon -\n", "want");
}

Test(errors, maps_unknown_kind)
{
	expect_maps_error("0x1000 0x2000 rw-p 0x0 anon - - -\n"
			  "0x2000 0x3000 rw-p 0x0 shm - - -\n",
			  "unknown mapping kind 'shm'");
	expect_maps_error("0x1000 0x2000 rw-p 0x0 anon bogus - -\n",
			  "unknown flag");
	expect_maps_error("0x1000 0x2000 rw-p 0x0 anon - 1:2 /x\n",
			  "only file mappings");
}

Test(errors, maps_bad_prot)
{
	static const char *const prots[] = {
		"rwzp", "rw-", "rw-pp", "rwxq", "wr-p", "----", "RW-P",
	};
	char line[128];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(prots); i++) {
		snprintf(line, sizeof(line),
			 "0x1000 0x2000 %s 0x0 anon - - -\n", prots[i]);
		expect_maps_error(line, "protection");
	}
}

Test(errors, maps_bad_file)
{
	expect_maps_error("0x1000 0x2000 r--p 0x0 file - 12 /x\n", "file id");
	expect_maps_error("0x1000 0x2000 r--p 0x0 file - 12: /x\n", "file id");
	expect_maps_error("0x1000 0x2000 r--p 0x0 file - a:1 /x\n", "file id");
	expect_maps_error("0x1000 0x2000 r--p 0x0 file - 1:1 x\n", "path");
	expect_maps_error("0x1000 0x2000 r--p 0x0 file - 1:1 /x\\8\n", "path");
}

/* pages.idx */

static void expect_pages_idx_error(const char *text, const char *why)
{
	struct crfs_page_run *r = NULL;
	struct ut_text ut;
	size_t n = 0;
	int ret;

	ret = parse_pages_idx(ut_text(&ut, "10/pages.idx", text), FREEZE_ID, 0,
			      &r, &n);
	ut_expect_einval(ret, &ut, "10/pages.idx", why);
}

/* pages.idx text for the given runs, under the given freeze id and count */
static char *pages_idx(const char *freeze_id, size_t count,
		       const struct crfs_page_run *r, size_t n)
{
	char *buf = malloc(256 + n * PAGES_IDX_LINE_LEN), *p;
	size_t i;

	cr_assert_not_null(buf);
	p = buf + render_pages_idx_head(buf, 256, freeze_id, count);
	for (i = 0; i < n; i++)
		p += render_pages_idx_line(p, &r[i]);
	*p = '\0';
	return buf;
}

Test(errors, pages_idx_other_freeze)
{
	const struct crfs_page_run r = { .addr = 0x1000, .npages = 1 };
	char *s = pages_idx(OTHER_ID, 1, &r, 1);

	expect_pages_idx_error(s, "another freeze");
	expect_pages_idx_error(s, OTHER_ID);
	free(s);
	expect_pages_idx_error("runs 0\n", "freeze_id");
	expect_pages_idx_error("", "freeze_id");
}

Test(errors, pages_idx_overlapping_runs)
{
	const struct crfs_page_run overlap[] = {
		{ .addr = 0x10000, .npages = 4, .offset = 0 },
		{ .addr = 0x12000, .npages = 1, .offset = 0x4000 },
	};
	const struct crfs_page_run unsorted[] = {
		{ .addr = 0x10000, .npages = 1, .offset = 0 },
		{ .addr = 0x8000, .npages = 1, .offset = 0x1000 },
	};
	const struct crfs_page_run hole[] = {
		{ .addr = 0x10000, .npages = 1, .offset = 0 },
		{ .addr = 0x20000, .npages = 1, .offset = 0x2000 },
	};
	const struct crfs_page_run shared[] = {
		{ .addr = 0x10000, .npages = 2, .offset = 0 },
		{ .addr = 0x20000, .npages = 1, .offset = 0x1000 },
	};
	char *s;

	s = pages_idx(FREEZE_ID, 2, overlap, 2);
	expect_pages_idx_error(s, "overlap");
	free(s);
	s = pages_idx(FREEZE_ID, 2, unsorted, 2);
	expect_pages_idx_error(s, "overlap");
	free(s);
	s = pages_idx(FREEZE_ID, 2, hole, 2);
	expect_pages_idx_error(s, "holes");
	free(s);
	s = pages_idx(FREEZE_ID, 2, shared, 2);
	expect_pages_idx_error(s, "10/pages.idx:4:");
	free(s);
}

Test(errors, pages_idx_count_mismatch)
{
	const struct crfs_page_run r[] = {
		{ .addr = 0x10000, .npages = 1, .offset = 0 },
		{ .addr = 0x20000, .npages = 1, .offset = 0x1000 },
	};
	char *s;

	s = pages_idx(FREEZE_ID, 3, r, 2);
	expect_pages_idx_error(s, "only 2 of 3 runs");
	free(s);
	s = pages_idx(FREEZE_ID, 1, r, 2);
	expect_pages_idx_error(s, "trailing");
	free(s);
	s = pages_idx(FREEZE_ID, 2, r, 2);
	s[strlen(s) - 1] = '\0';
	expect_pages_idx_error(s, "truncated");
	free(s);
}

Test(errors, pages_idx_bad_run)
{
	const struct crfs_page_run r[] = {
		{ .addr = 0x10000, .npages = 0, .offset = 0 },
	};
	const struct crfs_page_run unaligned[] = {
		{ .addr = 0x10010, .npages = 1, .offset = 0 },
	};
	char *s;

	s = pages_idx(FREEZE_ID, 1, r, 1);
	expect_pages_idx_error(s, "bad run");
	free(s);
	s = pages_idx(FREEZE_ID, 1, unaligned, 1);
	expect_pages_idx_error(s, "bad run");
	free(s);
	expect_pages_idx_error("freeze_id " FREEZE_ID "\nruns x\n", "runs");
}

/* fds, files */

static void expect_fds_error(const char *text, const char *why)
{
	struct crfs_fd *f = NULL;
	struct ut_text ut;
	size_t n = 0;
	int ret;

	ret = parse_fds(ut_text(&ut, "10/fds", text), &f, &n);
	ut_expect_einval(ret, &ut, "10/fds", why);
}

Test(errors, fds_unsorted)
{
	expect_fds_error("3 1 -\n1 2 -\n", "unsorted");
	expect_fds_error("3 1 -\n3 2 -\n", "10/fds:2:");
}

Test(errors, fds_bad_lines)
{
	expect_fds_error("-1 1 -\n", "bad, unsorted");
	expect_fds_error("3 0 -\n", "file id");
	expect_fds_error("3 x -\n", "file id");
	expect_fds_error("3 1 yes\n", "cloexec or -");
	expect_fds_error("3 1\n", "want");
}

static void expect_files_error(const char *text, const char *why)
{
	struct crfs_file *f = NULL;
	struct ut_text ut;
	size_t n = 0;
	int ret;

	ret = parse_files(ut_text(&ut, "files", text), &f, &n);
	ut_expect_einval(ret, &ut, "files", why);
}

Test(errors, files_bad_lines)
{
	expect_files_error("1 sock flags=02\n", "unknown file kind");
	expect_files_error("1 file flags=02 mode=0100644 pos=0x0\n",
			   "without 'path'");
	expect_files_error("1 file flags=02 mode=0100644 pos=0x0 path=a\n",
			   "not absolute");
	expect_files_error("1 file flags=09 mode=0100644 pos=0x0 path=/a\n",
			   "bad flags");
	expect_files_error("1 eventfd flags=02 count=0x1 semaphore=1 color=red\n",
			   "unknown key");
	expect_files_error("1 eventfd flags=02 count=0x1 semaphore=1 count=0x2\n",
			   "repeated");
	expect_files_error("1 eventfd flags=02 count\n", "key=value");
	expect_files_error("2 eventfd flags=02 count=0x1 semaphore=1\n",
			   "count up from 1");
	expect_files_error("1 unix flags=02 ino=1 type=sticky peer=0 backlog=-1 shutdown=0\n",
			   "socket type");
	expect_files_error("1 unix flags=02 ino=1 type=raw peer=0 backlog=-1 shutdown=0 sndbuf=1 rcvbuf=1\n",
			   "socket type raw");
	expect_files_error("1 netlink flags=02 type=stream proto=0\n",
			   "socket type stream");
	expect_files_error("1 pidfd flags=02 pid=-2\n", "a pidfd of pid -2");
	expect_files_error("1 pidfd flags=02 pid=0\n", "a pidfd of pid 0");
	/* a core dump, a stop, a live one with a status */
	expect_files_error("1 pidfd flags=02 pid=-1 exit_status=139\n",
			   "exit_status 0x8b");
	expect_files_error("1 pidfd flags=02 pid=-1 exit_status=4991\n",
			   "exit_status 0x137f");
	expect_files_error("1 pidfd flags=02 pid=5 exit_status=256\n",
			   "a pidfd of pid 5 with exit_status 0x100");
}

Test(errors, lists_bad_lines)
{
	struct crfs_lock *l = NULL;
	struct crfs_timer *tm = NULL;
	struct crfs_epoll_item *e = NULL;
	struct crfs_inotify_watch *w = NULL;
	struct ut_text ut;
	size_t n = 0;

	ut_expect_einval(parse_locks(ut_text(&ut, "locks", "posix x 1 0 0 1\n"),
				     &l, &n), &ut, "locks", "want");
	ut_expect_einval(parse_timers(ut_text(&ut, "1/timers", "real 1\n"),
				      &tm, &n), &ut, "1/timers", "want");
	ut_expect_einval(parse_epoll(ut_text(&ut, "fdata/1", "3 0 1 1\n"),
				     &e, &n), &ut, "fdata/1", "want");
	ut_expect_einval(parse_inotify(ut_text(&ut, "fdata/2",
					       "2 0x1 /a\n1 0x1 /b\n"),
				       &w, &n), &ut, "fdata/2", "unsorted");
}

/* rlimits */

static void expect_rlimits_error(const char *text, const char *why)
{
	struct crfs_rlimit rl[CRFS_NLIMITS];
	struct ut_text ut;
	int ret;

	ret = parse_rlimits(ut_text(&ut, "10/rlimits", text), rl);
	ut_expect_einval(ret, &ut, "10/rlimits", why);
}

Test(errors, rlimits_soft_above_hard)
{
	char *good = good_rlimits(), *bad;

	bad = ut_edit_line(good, "nofile ", "nofile 2048 1024");
	expect_rlimits_error(bad, "nofile");
	free(bad);
	bad = ut_edit_line(good, "core ", "core unlimited 0");
	expect_rlimits_error(bad, "core");
	free(bad);
	free(good);
}

Test(errors, rlimits_bad_lines)
{
	char *good = good_rlimits(), *bad, *tmp;

	bad = ut_edit_line(good, "nofile ", NULL);
	expect_rlimits_error(bad, "nofile");
	free(bad);
	bad = ut_edit_line(good, "as ", "as 1 2 3");
	expect_rlimits_error(bad, "as");
	free(bad);
	bad = ut_edit_line(good, "as ", "as infinite unlimited");
	expect_rlimits_error(bad, "bad limits");
	free(bad);
	bad = ut_concat(good, "extra 1 2\n");
	expect_rlimits_error(bad, "trailing");
	free(bad);
	/* swapped lines */
	tmp = ut_edit_line(good, "cpu ", "fsize 0 0");
	bad = ut_edit_line(tmp, "fsize 1024", "cpu 0 0");
	expect_rlimits_error(bad, "'cpu'");
	free(bad);
	free(tmp);
	free(good);
}

/* sigactions */

static void expect_sigactions_error(const char *text, const char *why)
{
	struct crfs_sigaction sa[CRFS_NSIG];
	struct ut_text ut;
	int ret;

	ret = parse_sigactions(ut_text(&ut, "10/sigactions", text), sa);
	ut_expect_einval(ret, &ut, "10/sigactions", why);
}

Test(errors, sigactions_missing_signal)
{
	char *good = good_sigactions(), *bad;

	bad = ut_edit_line(good, "5 ", NULL);
	expect_sigactions_error(bad, "signal 5");
	free(bad);
	bad = ut_edit_line(good, "64 ", NULL);
	expect_sigactions_error(bad, "63 signals, want 64");
	free(bad);
	expect_sigactions_error("", "0 signals");
	free(good);
}

Test(errors, sigactions_bad_lines)
{
	char *good = good_sigactions(), *bad;

	bad = ut_edit_line(good, "9 ", "9 0x0 0x0 0x0");
	expect_sigactions_error(bad, "signal 9");
	free(bad);
	bad = ut_edit_line(good, "9 ", "9 0x0 0x0 0x0 0x0 0x0");
	expect_sigactions_error(bad, "signal 9");
	free(bad);
	bad = ut_edit_line(good, "9 ", "9 0xq 0x0 0x0 0x0");
	expect_sigactions_error(bad, "0xq");
	free(bad);
	bad = ut_concat(good, "65 0x0 0x0 0x0 0x0\n");
	expect_sigactions_error(bad, "trailing");
	free(bad);
	free(good);
}

/* per-thread files */

#define ZERO_LINE \
	"0000000000000000000000000000000000000000000000000000000000000000"
#define ZERO_LINE_G \
	"000000000000000000000000000000000000000000000000000000000000000g"

Test(errors, xstate_bad)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "size 100\n", "size" },
		{ "size 20000\n", "size" },
		{ "0x0000 00\n", "size" },
		{ "size 576\n0x0010 00\n", "offset" },
		{ "size 576\n0x0040 " ZERO_LINE "\n0x0020 " ZERO_LINE "\n",
		  "ascending" },
		{ "size 576\n0x0040 " ZERO_LINE "\n0x0040 " ZERO_LINE "\n",
		  "ascending" },
		{ "size 576\n0x0240 " ZERO_LINE "\n", "length" },
		{ "size 576\n0x0000 0011\n", "length" },
		{ "size 600\n0x0240 0011\n", "length" },
		{ "size 576\n0x0000 " ZERO_LINE_G "\n", "hex" },
		{ "size 576\n0x0000 " ZERO_LINE "00\n", "length" },
		{ "size 576\n0x0000 " ZERO_LINE " 00\n", "ascending" },
	};
	struct crfs_thread th;
	struct ut_text ut;
	size_t i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(&th, 0, sizeof(th));
		ret = parse_xstate(ut_text(&ut, "10/task/10/xstate",
					   bad[i].text), &th);
		ut_expect_einval(ret, &ut, "10/task/10/xstate", bad[i].why);
		free(th.xstate);
	}
}

Test(errors, regs_bad)
{
	struct crfs_thread th;
	struct strbuf sb;
	struct ut_text ut;
	char *good, *bad;
	int ret;

	memset(&th, 0, sizeof(th));
	th.tid = 10;
	sb_init(&sb);
	cr_assert_eq(render_regs(&sb, &th), 0);
	good = ut_steal(&sb);

	bad = ut_edit_line(good, "rip ", NULL);
	memset(&th, 0, sizeof(th));
	ret = parse_regs(ut_text(&ut, "10/task/10/regs", bad), &th);
	ut_expect_einval(ret, &ut, "10/task/10/regs", "'rip' is missing");
	free(bad);

	bad = ut_edit_line(good, "rip ", "rip 1234");
	memset(&th, 0, sizeof(th));
	ret = parse_regs(ut_text(&ut, "10/task/10/regs", bad), &th);
	ut_expect_einval(ret, &ut, "10/task/10/regs", "rip");
	free(bad);

	/* the tid in the file must be the one the caller expects */
	memset(&th, 0, sizeof(th));
	th.tid = 11;
	ret = parse_regs(ut_text(&ut, "10/task/11/regs", good), &th);
	ut_expect_einval(ret, &ut, "10/task/11/regs", "tid");
	free(good);
}

/*
 * Keys handled outside the kv tables (creds: securebits, groups; mm: auxv;
 * sigstate: rseq_signature) are neither required nor checked for repeats,
 * so a file cut cleanly before its last line parses with zero values.
 * Enable once kv_parse's extra keys are held to the same rules.
 */
Test(errors, extra_keys_missing_or_repeated)
{
	struct crfs_creds c = { .ngroups = 2, .groups = (gid_t[]){ 5, 6 } };
	struct crfs_creds out;
	struct crfs_thread th = { .rseq_sig = 0x53053053 };
	struct crfs_mm mm = { .auxv_len = 2, .auxv = { 6, 4096 } };
	struct ut_text ut;
	struct strbuf sb;
	char *good, *bad;
	int ret;

	sb_init(&sb);
	cr_assert_eq(render_creds(&sb, &c), 0);
	good = ut_steal(&sb);
	/* a refused parse leaves the groups it read for the caller to free */
	bad = ut_edit_line(good, "groups", NULL);
	memset(&out, 0, sizeof(out));
	ret = parse_creds(ut_text(&ut, "10/creds", bad), &out);
	ut_expect_einval(ret, &ut, "10/creds", "groups");
	free(out.groups);
	free(bad);
	bad = ut_concat(good, "groups 7\n");
	memset(&out, 0, sizeof(out));
	ret = parse_creds(ut_text(&ut, "10/creds", bad), &out);
	ut_expect_einval(ret, &ut, "10/creds", "groups");
	free(out.groups);
	free(bad);
	bad = ut_edit_line(good, "securebits", NULL);
	memset(&out, 0, sizeof(out));
	ret = parse_creds(ut_text(&ut, "10/creds", bad), &out);
	ut_expect_einval(ret, &ut, "10/creds", "securebits");
	free(out.groups);
	free(bad);
	free(good);

	sb_init(&sb);
	cr_assert_eq(render_mm(&sb, &mm), 0);
	good = ut_steal(&sb);
	bad = ut_edit_line(good, "auxv", NULL);
	ret = parse_mm(ut_text(&ut, "10/mm", bad), &mm);
	ut_expect_einval(ret, &ut, "10/mm", "auxv");
	free(bad);
	free(good);

	sb_init(&sb);
	cr_assert_eq(render_sigstate(&sb, &th), 0);
	good = ut_steal(&sb);
	bad = ut_edit_line(good, "rseq_signature", NULL);
	memset(&th, 0, sizeof(th));
	ret = parse_sigstate(ut_text(&ut, "10/task/10/sigstate", bad), &th);
	ut_expect_einval(ret, &ut, "10/task/10/sigstate", "rseq_signature");
	free(bad);
	free(good);
}

Test(errors, maps_hugetlb)
{
	const char *why = "hugetlb needs an anon, shmem, deleted or sysv mapping of whole huge pages";

	expect_maps_error("0x200000 0x300000 rw-p 0x0 anon hugetlb=2048 - -\n", why);
	expect_maps_error("0x200000 0x400000 rw-p 0x0 heap hugetlb=2048 - -\n", why);
	expect_maps_error("0x200000 0x400000 rw-p 0x0 anon hugetlb=3000 - -\n",
			  "unknown flag in 'hugetlb=3000'");
	expect_maps_error("0x200000 0x400000 rw-p 0x0 anon hugetlb=2048,hugetlb=2048 - -\n",
			  "unknown flag in 'hugetlb=2048,hugetlb=2048'");
}

Test(errors, maps_droppable)
{
	const char *why = "droppable needs a private anon mapping of small pages";

	expect_maps_error("0x200000 0x400000 rw-s 0x0 anon shared,droppable - -\n", why);
	expect_maps_error("0x200000 0x400000 rw-p 0x0 heap droppable - -\n", why);
	expect_maps_error("0x200000 0x400000 rw-p 0x0 anon droppable,hugetlb=2048 - -\n", why);
}
