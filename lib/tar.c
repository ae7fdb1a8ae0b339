// SPDX-License-Identifier: MIT
/*
 * tar member headers in GNU tar's own format (magic "ustar  "), the one
 * `tar -c` writes by default and every `tar -x` reads; and their parse,
 * for crfs-restore --stream (GNU's and POSIX ustar headers).  A name longer
 * than the header's 100 bytes goes first as a GNU long-name member
 * ("././@LongLink", type 'L'); a size of 8 GiB or more in base-256, as
 * GNU tar writes it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "crfs/tar.h"

#define NAME_LEN	100
#define LONGLINK	"././@LongLink"

static size_t blocks(uint64_t n)
{
	return (n + CRFS_TAR_BLOCK - 1) / CRFS_TAR_BLOCK * CRFS_TAR_BLOCK;
}

size_t crfs_tar_pad(uint64_t size)
{
	return blocks(size) - size;
}

/* a directory's name ends with '/', as tar -c writes it */
static size_t full_len(const struct crfs_tar_member *m)
{
	return strlen(m->name) + (m->type == '5');
}

size_t crfs_tar_header_len(const struct crfs_tar_member *m)
{
	size_t n = full_len(m);

	if (n <= NAME_LEN)
		return CRFS_TAR_BLOCK;
	return 2 * CRFS_TAR_BLOCK + blocks(n + 1);
}

/* v in octal, zero-padded, in a field of len bytes ending with a NUL */
static int octal(unsigned char *f, size_t len, uint64_t v)
{
	char tmp[24];

	if (snprintf(tmp, sizeof(tmp), "%0*llo", (int)len - 1,
		     (unsigned long long)v) != (int)len - 1)
		return -EINVAL;
	memcpy(f, tmp, len);	/* with the NUL */
	return 0;
}

/* a number the field's octal digits cannot hold (a size of 8 GiB, a
 * uid of 2^21): base-256, high bit set, as GNU tar writes it */
static void number(unsigned char *f, size_t len, uint64_t v)
{
	size_t i;

	if (v < 1ULL << (3 * (len - 1))) {
		octal(f, len, v);
		return;
	}
	memset(f, 0, len);
	for (i = len; i-- > 1 && v; v >>= 8)
		f[i] = v & 0xff;
	f[0] = 0x80;
}

static void checksum(unsigned char *h)
{
	unsigned int sum = 0;
	size_t i;

	memset(h + 148, ' ', 8);
	for (i = 0; i < CRFS_TAR_BLOCK; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);	/* then NUL, space */
	h[155] = ' ';
}

/* one header block of m, under name (n bytes, the first 100 kept) */
static int one_header(unsigned char *h, const struct crfs_tar_member *m,
		      const char *name, size_t n)
{
	memset(h, 0, CRFS_TAR_BLOCK);
	memcpy(h, name, n < NAME_LEN ? n : NAME_LEN);
	if (m->mtime < 0 || octal(h + 100, 8, m->mode) ||
	    octal(h + 136, 12, (uint64_t)m->mtime))
		return -EINVAL;
	number(h + 108, 8, m->uid);
	number(h + 116, 8, m->gid);
	number(h + 124, 12, m->size);
	h[156] = m->type;
	memcpy(h + 257, "ustar  ", 8);	/* magic and version, GNU's */
	checksum(h);
	return 0;
}

int crfs_tar_header(const struct crfs_tar_member *m, unsigned char *out)
{
	size_t n = full_len(m);
	char name[4096];
	int ret;

	if ((m->type != '0' && m->type != '5') || m->mode > 07777 ||
	    n >= sizeof(name))
		return -EINVAL;
	snprintf(name, sizeof(name), "%s%s", m->name, m->type == '5' ? "/" : "");
	if (n > NAME_LEN) {
		/* the name as the data of a member before it */
		struct crfs_tar_member l = { .type = 'L', .size = n + 1 };

		ret = one_header(out, &l, LONGLINK, strlen(LONGLINK));
		if (ret)
			return ret;
		out += CRFS_TAR_BLOCK;
		memset(out, 0, blocks(n + 1));
		memcpy(out, name, n);
		out += blocks(n + 1);
	}
	return one_header(out, m, name, n);
}

/* --- reading ------------------------------------------------------------ */

/* a number field: octal digits (leading spaces allowed, ended by a NUL or
 * a space, or filling the field), or base-256 (GNU: high bit set, and
 * never negative here) */
static int get_number(const unsigned char *f, size_t len, uint64_t *v)
{
	size_t i = 0;
	bool digits = false;

	*v = 0;
	if (f[0] & 0x80) {
		if (f[0] != 0x80)
			return -EINVAL;	/* negative, or too big */
		for (i = 1; i < len; i++) {
			if (*v >> 56)
				return -EINVAL;
			*v = *v << 8 | f[i];
		}
		return 0;
	}
	while (i < len && f[i] == ' ')
		i++;
	for (; i < len && f[i] >= '0' && f[i] <= '7'; i++) {
		if (*v >> 60)
			return -EINVAL;
		*v = *v << 3 | (uint64_t)(f[i] - '0');
		digits = true;
	}
	if (i < len && f[i] != '\0' && f[i] != ' ')
		return -EINVAL;
	return digits ? 0 : -EINVAL;
}

/* the stored checksum against both sums tar readers accept (the header's
 * bytes unsigned, and signed as some old tars made it), its own field
 * counted as spaces */
static bool checksum_ok(const unsigned char *h)
{
	uint64_t want;
	long sum = 0, ssum = 0;
	size_t i;

	if (get_number(h + 148, 8, &want))
		return false;
	for (i = 0; i < CRFS_TAR_BLOCK; i++) {
		unsigned char c = i >= 148 && i < 156 ? ' ' : h[i];

		sum += c;
		ssum += (signed char)c;
	}
	return (long)want == sum || (long)want == ssum;
}

/* a field's bytes up to its NUL or its end */
static size_t field_len(const unsigned char *f, size_t len)
{
	const unsigned char *z = memchr(f, '\0', len);

	return z ? (size_t)(z - f) : len;
}

static int get_name(const unsigned char *h, char *name, size_t namelen,
		    bool posix)
{
	size_t n = field_len(h, NAME_LEN), p = 0;

	/* POSIX ustar: a prefix (155 bytes at 345) before the name */
	if (posix)
		p = field_len(h + 345, 155);
	if (p + !!p + n + 1 > namelen)
		return -ENAMETOOLONG;
	memcpy(name, h + 345, p);
	if (p)
		name[p++] = '/';
	memcpy(name + p, h, n);
	name[p + n] = '\0';
	return 0;
}

int crfs_tar_parse(const unsigned char *h, struct crfs_tar_member *m,
		   char *name, size_t namelen)
{
	uint64_t mode, uid, gid, size, mtime;
	bool posix;
	size_t i, n;
	int ret;

	for (i = 0; i < CRFS_TAR_BLOCK && !h[i]; i++)
		;
	if (i == CRFS_TAR_BLOCK)
		return 1;
	posix = !memcmp(h + 257, "ustar\0" "00", 8);
	if ((!posix && memcmp(h + 257, "ustar  \0", 8)) || !checksum_ok(h))
		return -EINVAL;
	if (get_number(h + 100, 8, &mode) || get_number(h + 108, 8, &uid) ||
	    get_number(h + 116, 8, &gid) || get_number(h + 124, 12, &size) ||
	    get_number(h + 136, 12, &mtime) || mode > 07777 ||
	    uid > UINT32_MAX || gid > UINT32_MAX || mtime > INT64_MAX)
		return -EINVAL;
	ret = get_name(h, name, namelen, posix);
	if (ret)
		return ret;
	n = strlen(name);
	while (h[156] == '5' && n > 1 && name[n - 1] == '/')
		name[--n] = '\0';
	*m = (struct crfs_tar_member){
		.name = name, .type = h[156] ? (char)h[156] : '0',
		.mode = (unsigned int)mode, .uid = (unsigned int)uid,
		.gid = (unsigned int)gid, .size = size, .mtime = (int64_t)mtime,
	};
	return 0;
}
