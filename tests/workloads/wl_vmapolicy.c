// SPDX-License-Identifier: MIT
/*
 * wl_vmapolicy: mappings with NUMA policies of their own (mbind), one per
 * mode and mode flag the kernel takes (MPOL_BIND, _PREFERRED,
 * _INTERLEAVE, _LOCAL, _PREFERRED_MANY, _WEIGHTED_INTERLEAVE, with
 * MPOL_F_STATIC_NODES, _RELATIVE_NODES, _NUMA_BALANCING), a mapping
 * whose middle pages alone have one (the kernel splits it), one of
 * shared memory, and mappings without one beside them; the main thread
 * has a policy of its own too (set_mempolicy), which numa_maps shows for
 * every mapping without one.  Each region holds its own pattern.
 *
 * Before READY it prints one line per mapping that has a policy, as
 * PID/mempolicy must hold it: "EXPECT START MODE FLAGS NODES".  On
 * SIGUSR1 it checks every page's policy (get_mempolicy MPOL_F_ADDR:
 * mode, flags, nodes; none where it set none), the thread's policy and
 * every region's bytes.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "wl_common.h"

#define PG 4096UL
#define NPG 4
/* not in this libc's headers without libnuma */
#define MPOL_DEFAULT_ 0
#define MPOL_PREFERRED_ 1
#define MPOL_BIND_ 2
#define MPOL_INTERLEAVE_ 3
#define MPOL_LOCAL_ 4
#define MPOL_PREFERRED_MANY_ 5
#define MPOL_WEIGHTED_INTERLEAVE_ 6
#define F_STATIC 0x8000
#define F_RELATIVE 0x4000
#define F_BALANCING 0x2000
#define MPOL_F_ADDR_ 2

struct region {
	const char *name;
	int mode, flags;	/* mode MPOL_DEFAULT_: none */
	int shared;		/* MAP_SHARED: a shmem object's policy */
	int split;		/* the policy on pages 1-2 of 4 only */
	char *p;
	int have;		/* the kernel took it (newer modes may not) */
};

static struct region regions[] = {
	{ "none_a", MPOL_DEFAULT_, 0, 0, 0, NULL, 0 },
	{ "bind", MPOL_BIND_, 0, 0, 0, NULL, 0 },
	{ "bind_static", MPOL_BIND_, F_STATIC, 0, 0, NULL, 0 },
	{ "bind_balancing", MPOL_BIND_, F_BALANCING, 0, 0, NULL, 0 },
	{ "preferred", MPOL_PREFERRED_, 0, 0, 0, NULL, 0 },
	{ "preferred_static", MPOL_PREFERRED_, F_STATIC, 0, 0, NULL, 0 },
	{ "preferred_relative", MPOL_PREFERRED_, F_RELATIVE, 0, 0, NULL, 0 },
	{ "none_b", MPOL_DEFAULT_, 0, 0, 0, NULL, 0 },
	{ "interleave", MPOL_INTERLEAVE_, 0, 0, 0, NULL, 0 },
	{ "interleave_relative", MPOL_INTERLEAVE_, F_RELATIVE, 0, 0, NULL, 0 },
	{ "interleave_static", MPOL_INTERLEAVE_, F_STATIC, 0, 0, NULL, 0 },
	{ "local", MPOL_LOCAL_, 0, 0, 0, NULL, 0 },
	{ "preferred_many", MPOL_PREFERRED_MANY_, 0, 0, 0, NULL, 0 },
	{ "weighted_interleave", MPOL_WEIGHTED_INTERLEAVE_, 0, 0, 0, NULL, 0 },
	{ "split_bind", MPOL_BIND_, F_STATIC, 0, 1, NULL, 0 },
	{ "shared_interleave", MPOL_INTERLEAVE_, 0, 1, 0, NULL, 0 },
	{ "none_c", MPOL_DEFAULT_, 0, 0, 0, NULL, 0 },
};

#define NREG (sizeof(regions) / sizeof(regions[0]))

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static unsigned long want_nodes(const struct region *r)
{
	return r->mode == MPOL_LOCAL_ || r->mode == MPOL_DEFAULT_ ? 0 : 1;
}

/* does page i of r carry r's policy? */
static int page_has(const struct region *r, int i)
{
	return r->mode != MPOL_DEFAULT_ && r->have &&
	       (!r->split || i == 1 || i == 2);
}

static void set_up(struct region *r, uint64_t seed)
{
	unsigned long mask = 1;
	char *at, *room;
	size_t len;


	/* PROT_NONE pages either side: no two regions merge into one mapping */
	room = mmap(NULL, (NPG + 2) * PG, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (room == MAP_FAILED)
		wl_die("mmap room for %s", r->name);
	r->p = mmap(room + PG, NPG * PG, PROT_READ | PROT_WRITE,
		    (r->shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS |
		    MAP_FIXED, -1, 0);
	if (r->p == MAP_FAILED)
		wl_die("mmap %s", r->name);
	if (r->mode != MPOL_DEFAULT_) {
		at = r->split ? r->p + PG : r->p;
		len = (r->split ? 2 : NPG) * PG;
		r->have = !syscall(SYS_mbind, at, len, r->mode | r->flags,
				   r->mode == MPOL_LOCAL_ ? NULL : &mask,
				   r->mode == MPOL_LOCAL_ ? 0 : 65, 0);
		/* modes newer than the kernel: not checked */
		if (!r->have && errno != EINVAL)
			wl_die("mbind %s", r->name);
		if (!r->have)
			printf("SKIP %s: mbind: %s\n", r->name,
			       strerror(errno));
	}
	/* the last page untouched: a policy on memory not yet faulted */
	wl_fill(r->p, (NPG - 1) * PG, seed);
}

/* one line per mapping PID/mempolicy must name, as it must name it */
static void expect(const struct region *r)
{
	if (r->mode == MPOL_DEFAULT_ || !r->have)
		return;
	printf("EXPECT 0x%lx %d 0x%x 0x%lx\n",
	       (unsigned long)(r->split ? r->p + PG : r->p), r->mode, r->flags,
	       want_nodes(r));
}

static void check_page(const struct region *r, int i)
{
	char name[64];
	unsigned long nodes = 0, wn;
	int mode = -1, want;

	snprintf(name, sizeof(name), "%s.page%d", r->name, i);
	if (syscall(SYS_get_mempolicy, &mode, &nodes, 64, r->p + i * PG,
		    MPOL_F_ADDR_)) {
		wl_fail(name, "get_mempolicy: %s", strerror(errno));
		return;
	}
	want = page_has(r, i) ? r->mode | r->flags : MPOL_DEFAULT_;
	wn = page_has(r, i) ? want_nodes(r) : 0;
	if (mode != want || nodes != wn)
		wl_fail(name, "policy 0x%x nodes 0x%lx, want 0x%x nodes 0x%lx",
			mode, nodes, want, wn);
	else
		wl_pass(name);
}

static void check_region(const struct region *r, uint64_t seed)
{
	size_t off = wl_check(r->p, (NPG - 1) * PG, seed);
	int i;

	for (i = 0; i < NPG; i++)
		check_page(r, i);
	if (off != (size_t)-1)
		wl_fail(r->name, "bytes differ at offset %zu", off);
	else
		wl_pass(r->name);
}

static void check_thread(void)
{
	unsigned long nodes = 0;
	int mode = -1;

	if (syscall(SYS_get_mempolicy, &mode, &nodes, 64, NULL, 0))
		wl_fail("thread", "get_mempolicy: %s", strerror(errno));
	else if (mode != MPOL_PREFERRED_ || nodes != 1)
		wl_fail("thread", "policy 0x%x nodes 0x%lx, want 0x%x nodes 0x1",
			mode, nodes, MPOL_PREFERRED_);
	else
		wl_pass("thread");
}

int main(void)
{
	unsigned long mask = 1;
	sigset_t usr1, old;
	size_t i;

	signal(SIGUSR1, on_usr1);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &old);
	for (i = 0; i < NREG; i++)
		set_up(&regions[i], 100 + i);
	/* numa_maps shows this for every mapping without a policy of its own */
	if (syscall(SYS_set_mempolicy, MPOL_PREFERRED_, &mask, 65))
		wl_die("set_mempolicy");
	for (i = 0; i < NREG; i++)
		expect(&regions[i]);
	fflush(stdout);
	wl_ready();
	while (!go)
		sigsuspend(&old);
	check_thread();
	for (i = 0; i < NREG; i++)
		check_region(&regions[i], 100 + i);
	return wl_done();
}
