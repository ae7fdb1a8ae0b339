// SPDX-License-Identifier: MIT
/*
 * The 64-bit mount ids the kernel never reuses (Linux 6.8+: statx's
 * STATX_MNT_ID_UNIQUE, listmount(2), statmount(2)): taken from one
 * counter as mounts are made, so they order mounts by birth, which
 * mountinfo's recycled ids do not.  The system headers may predate them:
 * the few constants and the prefix of struct statmount we read are here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "kh_mount.h"

#ifndef SYS_statmount
#define SYS_statmount 457
#endif
#ifndef SYS_listmount
#define SYS_listmount 458
#endif
#define KH_STATX_MNT_ID_UNIQUE 0x4000U
#define KH_STATMOUNT_MNT_BASIC 0x2U
#define KH_LSMT_ROOT 0xffffffffffffffffULL

struct kh_mnt_id_req {
	uint32_t size, spare;
	uint64_t mnt_id, param;
};

/* the start of struct statmount, as of its first version */
struct kh_statmount {
	uint32_t size, mnt_opts;
	uint64_t mask;
	uint32_t sb_dev_major, sb_dev_minor;
	uint64_t sb_magic;
	uint32_t sb_flags, fs_type;
	uint64_t mnt_id, mnt_parent_id;
	uint32_t mnt_id_old, mnt_parent_id_old;
	uint64_t mnt_attr, mnt_propagation, mnt_peer_group, mnt_master;
	uint64_t propagate_from;
	uint32_t mnt_root, mnt_point;
	uint64_t spare[50];
};

int kh_mnt_unique_id(const char *path, uint64_t *id)
{
	struct statx stx;

	if (statx(AT_FDCWD, path, 0, KH_STATX_MNT_ID_UNIQUE, &stx))
		return -errno;
	if (!(stx.stx_mask & KH_STATX_MNT_ID_UNIQUE))
		return -EOPNOTSUPP;
	*id = stx.stx_mnt_id;
	return 0;
}

/* the unique id of the mount of ours whose mountinfo id is old_id */
static int unique_of(uint64_t id, int old_id, uint64_t *out)
{
	struct kh_mnt_id_req req = { .size = 24, .mnt_id = id,
				     .param = KH_STATMOUNT_MNT_BASIC };
	struct kh_statmount sm;

	memset(&sm, 0, sizeof(sm));
	if (syscall(SYS_statmount, &req, &sm, sizeof(sm), 0))
		return -errno;
	if (!(sm.mask & KH_STATMOUNT_MNT_BASIC))
		return -EOPNOTSUPP;
	if ((int)sm.mnt_id_old != old_id)
		return -ENOENT;
	*out = sm.mnt_id;
	return 0;
}

int kh_mnt_unique_of_old(int old_id, uint64_t *out)
{
	struct kh_mnt_id_req req = { .size = 24, .mnt_id = KH_LSMT_ROOT };
	uint64_t ids[512];
	long n, i;
	int ret = -ENOENT;

	/* our namespace only: its mounts from the root, 512 at a time */
	for (;;) {
		n = syscall(SYS_listmount, &req, ids, 512, 0);
		if (n < 0)
			return -errno;
		for (i = 0; i < n; i++) {
			ret = unique_of(ids[i], old_id, out);
			if (ret != -ENOENT)
				return ret;
		}
		if (n < 512)
			return -ENOENT;
		req.param = ids[n - 1];
	}
}
