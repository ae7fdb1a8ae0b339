// SPDX-License-Identifier: MIT
/*
 * The tree's network namespaces other than the root's (netns_sub,
 * netns.N): made by crfs-restore once it is in the root's, each one
 * unshared, given its saved state and held open; then back to the
 * root's.  Every process of the tree enters the one it was in right after
 * it is forked, before its children are (they inherit it, and enter their
 * own in turn).  The descriptors are ours: a process's clean-up of its
 * table closes them, done closes ours.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "crfs/ns.h"
#include "crfs/netns_sub.h"
#include "restore.h"
#include "ns.h"

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -EINVAL)

struct members {
	struct crfs_netns_member *m;
	size_t n;
};

static struct members mem;
/* [0] the root's namespace, [N] netns.N's; -1 for none */
static int held[CRFS_NETNS_SUB_MAX + 1] = { [0 ... CRFS_NETNS_SUB_MAX] = -1 };
static ino_t held_ino[CRFS_NETNS_SUB_MAX + 1];

/* fd k is held open: its inode too */
static int hold(unsigned int k)
{
	struct stat st;

	held[k] = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (held[k] < 0 || fstat(held[k], &st))
		return -errno;
	held_ino[k] = st.st_ino;
	return 0;
}

static int p_members(struct crfs_text *t, void *o)
{
	struct members *m = o;

	return parse_netns_sub(t, &m->m, &m->n);
}

static int p_ns(struct crfs_text *t, void *o) { return parse_ns(t, o); }

/* namespace k: what netns.k holds, in a new one we are left in */
static int make_one(struct image *img, unsigned int k, char *err,
		    size_t errlen)
{
	struct crfs_ns ns = { 0 };
	char rel[32];
	int ret;

	snprintf(rel, sizeof(rel), CRFS_F_NETNS_FMT, k);
	if (!ns_image_has(img, rel))
		return ERR("%s/%s: a process is in network namespace %u, but %s is missing",
			   img->dir, CRFS_F_NETNS_SUB, k, rel);
	ret = image_parse(img, rel, p_ns, &ns, err, errlen);
	if (!ret && (!ns.net || ns.nveths || ns.ndevs || ns.uts || ns.time ||
		     ns.user))
		ret = ERR("%s/%s: only lo and its state are restored in a network namespace other than the root's",
			  img->dir, rel);
	if (!ret && unshare(CLONE_NEWNET))
		ret = ERR("%s/%s: cannot create a network namespace: %s",
			  img->dir, rel, strerror(errno));
	if (!ret && (ret = ns_restore_net(&ns, err, errlen)))
		ret = -EINVAL;	/* err names the step */
	if (!ret && hold(k))
		ret = ERR("%s/%s: cannot open the new network namespace: %s",
			  img->dir, rel, strerror(errno));
	crfs_ns_free(&ns);
	return ret;
}

static int check_members(const struct image *img, unsigned int *max,
			 char *err, size_t errlen)
{
	size_t i;

	*max = 0;
	for (i = 0; i < mem.n; i++) {
		if (!image_proc(img, mem.m[i].pid))
			return ERR("%s/%s: process %d, which is not in the image",
				   img->dir, CRFS_F_NETNS_SUB, mem.m[i].pid);
		if (mem.m[i].idx > *max)
			*max = mem.m[i].idx;
	}
	return 0;
}

int netns_sub_prepare(struct image *img, char *err, size_t errlen)
{
	unsigned int max = 0, k;
	int ret;

	if (!ns_image_has(img, CRFS_F_NETNS_SUB))
		return 0;
	ret = image_parse(img, CRFS_F_NETNS_SUB, p_members, &mem, err, errlen);
	ret = ret ?: check_members(img, &max, err, errlen);
	if (!ret && hold(0))
		ret = ERR("cannot open the root's network namespace: %s",
			  strerror(errno));
	for (k = 1; !ret && k <= max; k++) {
		ret = make_one(img, k, err, errlen);
		if (setns(held[0], CLONE_NEWNET) && !ret)
			ret = ERR("cannot go back to the root's network namespace: %s",
				  strerror(errno));
	}
	if (ret)
		netns_sub_done();
	return ret;
}

void netns_sub_enter(const struct image *img, int idx, int err_fd)
{
	unsigned int k = 0;
	struct stat st;
	size_t i;

	if (held[0] < 0)
		return;
	for (i = 0; i < mem.n; i++)
		if (mem.m[i].pid == img->procs[idx].pid)
			k = mem.m[i].idx;
	/* inherited from whoever forked us (whose table, shared, may
	 * have dropped ours already) */
	if (!stat("/proc/thread-self/ns/net", &st) && st.st_ino == held_ino[k])
		return;
	if (setns(held[k], CLONE_NEWNET))
		child_fail(err_fd, "process %d: cannot enter its network namespace (%s %u): %m",
			   img->procs[idx].pid, k ? "netns." : "the root's", k);
}

void netns_sub_done(void)
{
	size_t k;

	for (k = 0; k <= CRFS_NETNS_SUB_MAX; k++) {
		if (held[k] >= 0)
			close(held[k]);
		held[k] = -1;
	}
	free(mem.m);
	mem.m = NULL;
	mem.n = 0;
}
