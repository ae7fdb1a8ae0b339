// SPDX-License-Identifier: MIT
/*
 * tar member headers in GNU tar's own format (magic "ustar  "), the one
 * `tar -c` writes by default and every `tar -x` reads.  A name longer
 * than the header's 100 bytes goes first as a GNU long-name member
 * ("././@LongLink", type 'L'); a size of 8 GiB or more in base-256, as
 * GNU tar writes it.
 */
#include <errno.h>
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
