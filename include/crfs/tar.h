/* SPDX-License-Identifier: MIT */
/*
 * tar member headers (GNU format), for crfs-send's stream of an image to
 * another host's `tar -x` or `crfs-restore --stream`.  lib/tar.c renders
 * them and parses them back.
 */
#ifndef CRFS_TAR_H
#define CRFS_TAR_H

#include <stddef.h>
#include <stdint.h>

#define CRFS_TAR_BLOCK	512
/* the record GNU tar pads an archive to (20 blocks) */
#define CRFS_TAR_RECORD	(20 * CRFS_TAR_BLOCK)

struct crfs_tar_member {
	const char *name;	/* relative; a directory's without its '/' */
	char type;		/* '0' a regular file, '5' a directory */
	unsigned int mode;	/* permission bits */
	unsigned int uid, gid;
	uint64_t size;		/* 0 for a directory */
	int64_t mtime;
};

/* the bytes of m's header blocks (a long name's GNU 'L' member first) */
size_t crfs_tar_header_len(const struct crfs_tar_member *m);
/* m's header blocks into out (crfs_tar_header_len bytes); -EINVAL for a
 * type, mode or mtime tar cannot hold */
int crfs_tar_header(const struct crfs_tar_member *m, unsigned char *out);
/* the zero bytes that follow SIZE bytes of a member's data */
size_t crfs_tar_pad(uint64_t size);

/* the longest name crfs_tar_parse gives, with its NUL */
#define CRFS_TAR_NAME_MAX 4096

/*
 * One header block h as read: 0 with m filled (m->name is name, which
 * holds namelen bytes; a ustar prefix joined, a directory's '/' dropped,
 * a type NUL made '0'); 1 when h is all zeros (the archive's end marker,
 * with the block after it); -EINVAL when its checksum or magic is wrong
 * or a number field is not one; -ENAMETOOLONG when the name does not fit.
 * A GNU long name ('L') comes back as a member of that type: its data is
 * the next member's name.
 */
int crfs_tar_parse(const unsigned char *h, struct crfs_tar_member *m,
		   char *name, size_t namelen);

#endif
