// SPDX-License-Identifier: MIT
/*
 * A tree in a copy of our mount namespace (unshare --mount-proc, or
 * crfs-restore's for such a tree) lacks what we mounted after the copy
 * was made: that is the host's since, not a mount the tree took away.
 * The kernel's unique mount ids tell which: they grow as mounts are made,
 * and the copy's mounts (the tree's root among them) were all made at
 * once.  A mount of ours older than the tree's root was there when the
 * copy was made: the tree unmounted it, and is not a plain copy.
 */
#include <stdio.h>

#include "kh_mount.h"
#include "snapshot.h"

bool mounted_since_copy(pid_t root, int our_id)
{
	uint64_t theirs, ours;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/root", kh_via(root));
	if (kh_mnt_unique_id(path, &theirs) ||
	    kh_mnt_unique_of_old(our_id, &ours))
		return false;
	return ours > theirs;
}
