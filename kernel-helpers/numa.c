// SPDX-License-Identifier: MIT
/*
 * NUMA memory policies of mappings (mbind), as /proc/PID/numa_maps shows
 * them: the policy word after each mapping's address is "default" unless
 * the mapping (or the shared memory object it maps) has one of its own,
 * or the task has one (set_mempolicy): numa_maps shows a mapping without
 * its own policy with the task's.  Those are asked of the task itself
 * (get_mempolicy with MPOL_F_ADDR says the mapping's own, or default,
 * with its flags and nodemask).
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
		ret = kh_remote_open(&q->r, pid, 0);
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


static int ask_close(struct vma_ask *q)
{
	int ret;

	if (!q->scratch)
		return 0;
	if (q->scratch > 0)
		kh_remote_syscall(&q->r, SYS_munmap, q->scratch, 4096, 0, 0,
				  0, 0);
	ret = kh_remote_close(&q->r);
	q->scratch = 0;
	return ret;
}

int kh_vma_policies(pid_t pid, struct crfs_vma *v, size_t n)
{
	char path[64], line[1024], word[64];
	struct vma_ask q = { .scratch = 0 };
	struct crfs_vma *m;
	uint64_t a;
	int ret = 0, cret;
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
		ret = own_policy(pid, &q, m);
	}
	fclose(f);
	cret = ask_close(&q);
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
