/* SPDX-License-Identifier: MIT */
/*
 * tar member headers (GNU format), for crfs-send's stream of an image to
 * another host's `tar -x`.  lib/tar.c renders; nothing here reads.
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

#endif
