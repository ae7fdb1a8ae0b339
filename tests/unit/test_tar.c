// SPDX-License-Identifier: MIT
/* lib/tar.c: the member headers crfs-send streams, GNU tar reading them
 * back, and their parse (crfs-restore --stream). */
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "crfs/tar.h"

static unsigned int field_octal(const unsigned char *h, size_t off, size_t len)
{
	char tmp[16] = { 0 };

	memcpy(tmp, h + off, len);
	return (unsigned int)strtoul(tmp, NULL, 8);
}

/* the checksum a reader computes: the field counted as spaces */
static void assert_checksum(const unsigned char *h)
{
	unsigned int sum = 0;
	size_t i;

	for (i = 0; i < CRFS_TAR_BLOCK; i++)
		sum += (i >= 148 && i < 156) ? ' ' : h[i];
	cr_assert_eq(field_octal(h, 148, 7), sum, "checksum");
}

static unsigned char *render(const struct crfs_tar_member *m, size_t *len)
{
	unsigned char *h;

	*len = crfs_tar_header_len(m);
	h = calloc(1, *len);
	cr_assert_not_null(h);
	cr_assert_eq(crfs_tar_header(m, h), 0, "%s", m->name);
	return h;
}

Test(tar, file_header)
{
	struct crfs_tar_member m = {
		.name = "123/task/123/regs", .type = '0', .mode = 0600,
		.uid = 1000, .gid = 100, .size = 1234, .mtime = 1796544582,
	};
	unsigned char *h;
	size_t len;

	h = render(&m, &len);
	cr_assert_eq(len, CRFS_TAR_BLOCK);
	cr_assert_str_eq((char *)h, "123/task/123/regs");
	cr_assert_eq(field_octal(h, 100, 8), 0600);
	cr_assert_eq(field_octal(h, 108, 8), 1000);
	cr_assert_eq(field_octal(h, 116, 8), 100);
	cr_assert_eq(field_octal(h, 124, 12), 1234);
	cr_assert_eq(field_octal(h, 136, 12), 1796544582u);
	cr_assert_eq(h[156], '0');
	cr_assert_eq(memcmp(h + 257, "ustar  ", 8), 0, "GNU magic");
	assert_checksum(h);
	free(h);
}

Test(tar, directory_ends_with_slash)
{
	struct crfs_tar_member m = { .name = "123/task", .type = '5', .mode = 0700 };
	unsigned char *h;
	size_t len;

	h = render(&m, &len);
	cr_assert_str_eq((char *)h, "123/task/");
	cr_assert_eq(h[156], '5');
	assert_checksum(h);
	free(h);
}

Test(tar, long_name_goes_first)
{
	char name[300];
	struct crfs_tar_member m = { .name = name, .type = '0', .mode = 0644,
				     .size = 5 };
	unsigned char *h;
	size_t len;

	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	h = render(&m, &len);
	/* the 'L' header, the name (300 bytes with its NUL) in one block,
	 * the member's own header */
	cr_assert_eq(len, 3 * CRFS_TAR_BLOCK);
	cr_assert_str_eq((char *)h, "././@LongLink");
	cr_assert_eq(h[156], 'L');
	cr_assert_eq(field_octal(h, 124, 12), sizeof(name));
	assert_checksum(h);
	cr_assert_str_eq((char *)h + CRFS_TAR_BLOCK, name);
	cr_assert_eq(memcmp(h + 2 * CRFS_TAR_BLOCK, name, 100), 0);
	cr_assert_eq(h[2 * CRFS_TAR_BLOCK + 156], '0');
	assert_checksum(h + 2 * CRFS_TAR_BLOCK);
	free(h);
}

/* sizes and ids the octal digits cannot hold go in base-256 */
Test(tar, large_numbers_in_base256)
{
	struct crfs_tar_member m = { .name = "p/pages", .type = '0',
				     .size = 9ULL << 30, .uid = 3000000 };
	unsigned char *h;
	size_t len;

	h = render(&m, &len);
	cr_assert_eq(h[124], 0x80);
	cr_assert_eq(h[135] | h[134] << 8 | h[133] << 16 | (uint64_t)h[132] << 24 |
		     (uint64_t)h[131] << 32, 9ULL << 30);
	cr_assert_eq(h[108], 0x80);
	cr_assert_eq(h[115] | h[114] << 8 | h[113] << 16, 3000000);
	assert_checksum(h);
	free(h);
}

Test(tar, refusals_and_padding)
{
	struct crfs_tar_member m = { .name = "x", .type = '2' };
	unsigned char h[CRFS_TAR_BLOCK];

	cr_assert_eq(crfs_tar_header(&m, h), -EINVAL, "a symlink");
	m.type = '0';
	m.mode = 010000;
	cr_assert_eq(crfs_tar_header(&m, h), -EINVAL, "mode beyond 07777");
	m.mode = 0644;
	m.mtime = -1;
	cr_assert_eq(crfs_tar_header(&m, h), -EINVAL, "a time before 1970");
	cr_assert_eq(crfs_tar_pad(0), 0);
	cr_assert_eq(crfs_tar_pad(1), 511);
	cr_assert_eq(crfs_tar_pad(512), 0);
	cr_assert_eq(crfs_tar_pad(513), 511);
}

static const char zeros[1024];

static void put(FILE *f, const struct crfs_tar_member *m, const char *data)
{
	unsigned char *h;
	size_t len;

	h = render(m, &len);
	cr_assert_eq(fwrite(h, 1, len, f), len);
	free(h);
	if (m->size) {
		cr_assert_eq(fwrite(data, 1, m->size, f), m->size);
		cr_assert_eq(fwrite(zeros, 1, crfs_tar_pad(m->size), f),
			     crfs_tar_pad(m->size));
	}
}

/* what GNU tar -x makes of an archive of these headers */
Test(tar, gnu_tar_reads_it)
{
	char dir[] = "/tmp/crfs-unit-tar.XXXXXX", path[512], cmd[1024];
	char deep[200], got[64] = "";
	struct crfs_tar_member d = { .name = "p", .type = '5', .mode = 0700,
				     .mtime = 1000000000 };
	struct crfs_tar_member f = { .name = "p/f", .type = '0', .mode = 0640,
				     .size = 11, .mtime = 1000000000 };
	struct crfs_tar_member l = { .name = deep, .type = '0', .mode = 0600,
				     .size = 3, .mtime = 1000000000 };
	struct stat st;
	FILE *a;

	if (system("tar --version >/dev/null 2>&1"))
		cr_skip_test("no tar");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(deep, sizeof(deep), "p/%0150d", 7);
	snprintf(path, sizeof(path), "%s/a.tar", dir);
	a = fopen(path, "w");
	cr_assert_not_null(a);
	put(a, &d, NULL);
	put(a, &f, "hello world");
	put(a, &l, "abc");
	cr_assert_eq(fwrite(zeros, 1, 1024, a), 1024);
	fclose(a);
	snprintf(cmd, sizeof(cmd), "tar -C %s -xf %s/a.tar 2>%s/err", dir, dir, dir);
	cr_assert_eq(system(cmd), 0, "tar -x failed");
	snprintf(path, sizeof(path), "%s/p/f", dir);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0640);
	cr_assert_eq(st.st_size, 11);
	cr_assert_eq(st.st_mtime, 1000000000);
	a = fopen(path, "r");
	cr_assert_not_null(fgets(got, sizeof(got), a));
	fclose(a);
	cr_assert_str_eq(got, "hello world");
	snprintf(path, sizeof(path), "%s/%s", dir, deep);
	cr_assert_eq(stat(path, &st), 0, "the long name");
	cr_assert_eq(st.st_size, 3);
	snprintf(path, sizeof(path), "%s/p", dir);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0700);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

/* --- the parse ------------------------------------------------------------ */

static void parse_ok(const unsigned char *h, struct crfs_tar_member *m,
		     char *name)
{
	cr_assert_eq(crfs_tar_parse(h, m, name, CRFS_TAR_NAME_MAX), 0);
}

Test(tar, parse_gives_back_what_was_rendered)
{
	struct crfs_tar_member in = {
		.name = "123/task/123/regs", .type = '0', .mode = 0640,
		.uid = 1000, .gid = 100, .size = 9ULL << 30,
		.mtime = 1796544582,
	}, out;
	char name[CRFS_TAR_NAME_MAX];
	unsigned char *h;
	size_t len;

	h = render(&in, &len);
	parse_ok(h, &out, name);
	cr_assert_str_eq(out.name, in.name);
	cr_assert_eq(out.type, '0');
	cr_assert_eq(out.mode, 0640);
	cr_assert_eq(out.uid, 1000);
	cr_assert_eq(out.gid, 100);
	cr_assert_eq(out.size, 9ULL << 30, "base-256 size");
	cr_assert_eq(out.mtime, 1796544582);
	free(h);
	in = (struct crfs_tar_member){ .name = "123/task", .type = '5',
				       .mode = 0700, .uid = 3000000 };
	h = render(&in, &len);
	parse_ok(h, &out, name);
	cr_assert_str_eq(out.name, "123/task", "a directory's '/' dropped");
	cr_assert_eq(out.type, '5');
	cr_assert_eq(out.uid, 3000000, "base-256 uid");
	free(h);
}

/* the 'L' member comes back as one: its data is the next one's name */
Test(tar, parse_long_name)
{
	char long_name[300], name[CRFS_TAR_NAME_MAX];
	struct crfs_tar_member in = { .name = long_name, .type = '0',
				      .mode = 0644, .size = 5 }, out;
	unsigned char *h;
	size_t len;

	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = 0;
	h = render(&in, &len);
	parse_ok(h, &out, name);
	cr_assert_eq(out.type, 'L');
	cr_assert_eq(out.size, sizeof(long_name));
	cr_assert_str_eq((char *)h + CRFS_TAR_BLOCK, long_name);
	parse_ok(h + 2 * CRFS_TAR_BLOCK, &out, name);
	cr_assert_eq(strlen(out.name), 100, "the header keeps 100 bytes");
	free(h);
}

Test(tar, parse_refusals)
{
	struct crfs_tar_member in = { .name = "x", .type = '0', .mode = 0600 },
			       out;
	unsigned char zero[CRFS_TAR_BLOCK] = { 0 }, *h;
	char name[CRFS_TAR_NAME_MAX];
	size_t len;

	cr_assert_eq(crfs_tar_parse(zero, &out, name, sizeof(name)), 1,
		     "a zero block: the end");
	h = render(&in, &len);
	h[0] = 'y';
	cr_assert_eq(crfs_tar_parse(h, &out, name, sizeof(name)), -EINVAL,
		     "a byte changed: the checksum");
	free(h);
	h = render(&in, &len);
	memcpy(h + 257, "ustaR  ", 8);
	cr_assert_eq(crfs_tar_parse(h, &out, name, sizeof(name)), -EINVAL,
		     "not tar's magic");
	free(h);
	h = render(&in, &len);
	cr_assert_eq(crfs_tar_parse(h, &out, name, 1), -ENAMETOOLONG);
	h[124] = 'z';	/* the size: not a number (the checksum made again) */
	memset(h + 148, ' ', 8);
	{
		unsigned int sum = 0;

		for (size_t i = 0; i < CRFS_TAR_BLOCK; i++)
			sum += h[i];
		snprintf((char *)h + 148, 8, "%06o", sum);
	}
	cr_assert_eq(crfs_tar_parse(h, &out, name, sizeof(name)), -EINVAL,
		     "a size that is not a number");
	free(h);
}

/* what GNU tar -c writes, POSIX ustar too (a name split into prefix) */
Test(tar, parse_what_gnu_tar_writes)
{
	char dir[] = "/tmp/crfs-unit-tar.XXXXXX", path[600], cmd[1400];
	char deep[200], name[CRFS_TAR_NAME_MAX], want[400];
	static const char *const formats[] = { "gnu", "ustar" };
	unsigned char h[CRFS_TAR_BLOCK];
	struct crfs_tar_member m;
	FILE *f;
	int k;

	if (system("tar --version >/dev/null 2>&1"))
		cr_skip_test("no tar");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(deep, sizeof(deep), "%0120d", 7);
	snprintf(path, sizeof(path), "%s/d/%s", dir, deep);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s && echo hi >%s/f", path, path);
	cr_assert_eq(system(cmd), 0);
	for (k = 0; k < 2; k++) {
		snprintf(cmd, sizeof(cmd), "tar -C %s --format=%s -cf %s/%s.tar d/%s/f",
			 dir, formats[k], dir, formats[k], deep);
		cr_assert_eq(system(cmd), 0, "tar -c");
		snprintf(path, sizeof(path), "%s/%s.tar", dir, formats[k]);
		f = fopen(path, "r");
		cr_assert_not_null(f);
		cr_assert_eq(fread(h, 1, sizeof(h), f), sizeof(h));
		parse_ok(h, &m, name);
		if (m.type == 'L') {	/* GNU: the name as data */
			cr_assert_eq(fread(h, 1, sizeof(h), f), sizeof(h));
			snprintf(want, sizeof(want), "d/%s/f", deep);
			cr_assert_str_eq((char *)h, want);
			cr_assert_eq(fread(h, 1, sizeof(h), f), sizeof(h));
			parse_ok(h, &m, name);
		} else {
			snprintf(want, sizeof(want), "d/%s/f", deep);
			cr_assert_str_eq(m.name, want, "prefix joined");
		}
		cr_assert_eq(m.type, '0', "%s", formats[k]);
		cr_assert_eq(m.size, 3);
		fclose(f);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}
