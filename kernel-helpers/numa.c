// SPDX-License-Identifier: MIT
/*
 * NUMA memory policies of mappings (mbind).  Only the task can say them
 * exactly: get_mempolicy with MPOL_F_ADDR gives the policy of the mapping
 * at an address, its mode flags OR-ed into the mode, its nodemask, and
 * MPOL_DEFAULT when the mapping has none of its own.  mbind on part of a
 * mapping splits it, so one question at each start in /proc/PID/maps is
 * exact.  (A shmem object's policy is the object's, per offset: one set
 * by another process on part of what a mapping of ours covers does not
 * split ours.  numa_maps shows the policy at the mapping's start too.)
 *
 * Which mappings to ask: every one (a remote syscall each, two ptrace
 * stops), or those /proc/PID/numa_maps shows a policy for.  numa_maps
 * shows a mapping without a policy of its own with the task's
 * (set_mempolicy), so even those are asked; but it walks every resident
 * page to count pages per node, which costs more than the questions
 * unless the mappings are many for the memory (the caller chooses).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "kh.h"
#include "crfs/format.h"

struct vma_ask {
	struct kh_remote r;
	long scratch;	/* 0: not open yet */
};

/* the mapping v's own policy, if any, into its mpol_* */
static int own_policy(pid_t pid, struct vma_ask *q, struct crfs_vma *v)
{
	struct { int32_t mode, pad; uint64_t nodes; } got;
	int ret;

	if (!q->scratch) {
		ret = kh_remote_open_stepping(&q->r, pid);
		if (ret)
			return ret;
		q->scratch = kh_remote_syscall(&q->r, SYS_mmap, 0, 4096,
					       PROT_READ | PROT_WRITE,
					       MAP_PRIVATE | MAP_ANONYMOUS,
					       -1, 0);
		if (q->scratch < 0 && q->scratch > -4096)
			return (int)q->scratch;
	}
	ret = (int)kh_remote_syscall(&q->r, SYS_get_mempolicy, q->scratch,
				     q->scratch + 8, CRFS_NUMA_NODES, v->start,
				     2 /* MPOL_F_ADDR */, 0);
	if (ret)
		return ret;
	if (kh_mem_read(q->r.tid, q->r.memfd, q->scratch, &got,
			sizeof(got)) != sizeof(got))
		return -EIO;
	v->mpol_mode = got.mode & ~CRFS_MPOL_MODE_FLAGS;
	v->mpol_flags = (uint32_t)got.mode & CRFS_MPOL_MODE_FLAGS;
	v->mpol_nodes = v->mpol_mode ? got.nodes : 0;
	return 0;
}

static int ask_close(struct vma_ask *q, int *pending_sig)
{
	int ret;

	if (!q->scratch)
		return 0;
	if (q->scratch > 0)
		kh_remote_syscall(&q->r, SYS_munmap, q->scratch, 4096, 0, 0,
				  0, 0);
	*pending_sig = q->r.pending_sig;
	ret = kh_remote_close(&q->r);
	q->scratch = 0;
	return ret;
}

/* those numa_maps shows with a policy (their own, or the task's) */
static int ask_listed(pid_t pid, struct vma_ask *q, struct crfs_vma *v,
		      size_t n)
{
	char path[64], line[1024], word[64];
	struct crfs_vma *m;
	uint64_t a;
	int ret = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/numa_maps", kh_via(pid));
	f = fopen(path, "re");
	if (!f)
		/* a kernel without CONFIG_NUMA has no numa_maps: no policy */
		return errno == ENOENT ? 0 : -errno;
	while (!ret && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%" SCNx64 " %63s", &a, word) != 2 ||
		    !strcmp(word, "default") || !(m = vma_starting_at(v, n, a)))
			continue;
		ret = own_policy(pid, q, m);
	}
	fclose(f);
	return ret;
}

/*
 * Every mapping but [vsyscall], which is no mapping of the task's
 * (get_mempolicy finds none there; numa_maps shows it with the task's
 * policy).  A kernel without NUMA answers -ENOSYS: no policy anywhere.
 */
static int ask_each(pid_t pid, struct vma_ask *q, struct crfs_vma *v,
		    size_t n)
{
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < n; i++)
		if (v[i].kind != VMA_VSYSCALL)
			ret = own_policy(pid, q, &v[i]);
	return ret == -ENOSYS ? 0 : ret;
}

int kh_vma_policies(pid_t pid, struct crfs_vma *v, size_t n, bool each_vma,
		    int *pending_sig)
{
	struct vma_ask q = { .scratch = 0 };
	int ret, cret;

	*pending_sig = 0;
	ret = each_vma ? ask_each(pid, &q, v, n) : ask_listed(pid, &q, v, n);
	cret = ask_close(&q, pending_sig);
	return ret ?: cret;
}

/*
 * The nodes (0-63) our memory may come from (MPOL_F_MEMS_ALLOWED: the
 * cpuset's, of those online); a kernel without NUMA has node 0 alone.
 */
int kh_numa_allowed(uint64_t *mask)
{
	unsigned long m[16] = { 0 };	/* get_mempolicy wants nr_node_ids bits */
	int mode;

	if (syscall(SYS_get_mempolicy, &mode, m, sizeof(m) * 8, 0,
		    1 << 2 /* MPOL_F_MEMS_ALLOWED */)) {
		if (errno != ENOSYS)
			return -errno;
		m[0] = 1;
	}
	*mask = m[0];
	return 0;
}
