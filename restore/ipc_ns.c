// SPDX-License-Identifier: MIT
/*
 * ipc/ns: the tree had an IPC namespace of its own.  crfs-restore makes a
 * new one for itself, before it makes the objects and forks the root
 * (which inherits it), and gives it the saved limits.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "crfs/ipc.h"
#include "kh.h"
#include "restore.h"
#include "ns.h"

static bool has_file(const struct image *img, const char *rel)
{
	size_t i;

	for (i = 0; i < img->hdr.nfiles; i++)
		if (!strcmp(img->hdr.files[i].path, rel))
			return true;
	return false;
}

static int p_ns(struct crfs_text *t, void *o)
{
	return parse_ipc_ns(t, o);
}

/* one sysctl; kernel.sem takes its four numbers at once */
static int set_limit(const struct crfs_ipc_ns *ns, int i)
{
	const struct crfs_ipc_limit *l = &crfs_ipc_limits[i];
	char val[96];

	if (l->field || (l->optional && !ns->limit[i]))
		return 0;
	if (!strcmp(l->sysctl, "sem"))
		snprintf(val, sizeof(val), "%lu %lu %lu %lu",
			 ns->limit[CRFS_IPC_SEMMSL], ns->limit[CRFS_IPC_SEMMNS],
			 ns->limit[CRFS_IPC_SEMOPM], ns->limit[CRFS_IPC_SEMMNI]);
	else
		snprintf(val, sizeof(val), "%lu", ns->limit[i]);
	return kh_ipc_sysctl_set(l->sysctl, val);
}

int ipc_ns_restore(struct image *img, char *err, size_t errlen)
{
	struct crfs_ipc_ns ns;
	int i, ret;

	if (!has_file(img, CRFS_F_IPC_NS))
		return 0;
	ret = image_parse(img, CRFS_F_IPC_NS, p_ns, &ns, err, errlen);
	if (ret)
		return ret;
	/* the one inside the tree's user namespace, or a new one */
	ret = userns_join(CLONE_NEWIPC, err, errlen);
	if (ret < 0)
		return ret;
	if (!ret && unshare(CLONE_NEWIPC)) {
		ret = -errno;
		snprintf(err, errlen, "create an IPC namespace: %s",
			 strerror(errno));
		return ret;
	}
	ret = 0;
	for (i = 0; !ret && i < CRFS_IPC_NLIMITS; i++) {
		ret = set_limit(&ns, i);
		if (ret)
			snprintf(err, errlen, "IPC namespace: set %s%s: %s",
				 strchr(crfs_ipc_limits[i].sysctl, '/') ? "" : "kernel.",
				 crfs_ipc_limits[i].sysctl, strerror(-ret));
	}
	return ret;
}
