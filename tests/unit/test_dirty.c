// SPDX-License-Identifier: MIT
/*
 * Dirty-page tracking on a real child: after kh_dirty_start, only the pages
 * it writes are reported written; the child keeps no extra descriptor; a
 * take (the daemon's get-and-clear) makes the next round count from there.
 */
#include <dirent.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"
#include "kh.h"
#include "kh_dirty.h"

#define NP	64

static int count_fds(pid_t pid)
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	dir = opendir(path);
	cr_assert(dir);
	while ((d = readdir(dir)))
		n += d->d_name[0] != '.';
	closedir(dir);
	return n;
}

/* the VmFlags line of smaps for the mapping at start: "uw" while tracked */
static bool vm_uffd_wp(pid_t pid, uint64_t start)
{
	char path[64], line[512], want[32];
	bool in = false, uw = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	snprintf(want, sizeof(want), "%lx-", (unsigned long)start);
	f = fopen(path, "r");
	cr_assert(f);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, want, strlen(want)))
			in = true;
		else if (in && !strncmp(line, "VmFlags:", 8)) {
			uw = strstr(line, " uw") != NULL;
			break;
		}
	}
	fclose(f);
	return uw;
}

/* the child writes the pages named on its command pipe, then says so */
static void child(char *mem, int cmd, int ack)
{
	unsigned char pg;

	memset(mem, 1, NP * 4096);
	if (write(ack, "r", 1) != 1)
		_exit(1);
	while (read(cmd, &pg, 1) == 1) {
		mem[pg * 4096 + 7]++;
		if (write(ack, "w", 1) != 1)
			_exit(1);
	}
	_exit(0);
}

static void poke(int cmd, int ack, unsigned char pg)
{
	char c;

	cr_assert_eq(write(cmd, &pg, 1), 1);
	cr_assert_eq(read(ack, &c, 1), 1);
}

/* the pages of [s, e) written since the last take, protected again */
static size_t take_pages(pid_t pid, uint64_t s, uint64_t e, bool *written)
{
	struct page_region *r;
	size_t n, i, total = 0;
	uint64_t a;

	memset(written, 0, NP);
	cr_assert_eq(kh_dirty_take(pid, s, e, &r, &n), 0);
	for (i = 0; i < n; i++)
		for (a = r[i].start; a < r[i].end; a += 4096, total++)
			written[(a - s) / 4096] = true;
	free(r);
	return total;
}

Test(dirty, written_pages_only)
{
	char *mem = mmap(NULL, NP * 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t s = (uintptr_t)mem, e = s + NP * 4096;
	struct crfs_vma v = { .start = s, .end = e, .kind = VMA_ANON,
			      .prot = PROT_READ | PROT_WRITE };
	int cmd[2], ack[2], uffd = -1, fds, st;
	bool written[NP];
	const char *why = NULL;
	pid_t pid;
	char c;

	cr_assert_neq(mem, MAP_FAILED);
	cr_assert_eq(pipe(cmd), 0);
	cr_assert_eq(pipe(ack), 0);
	pid = fork();
	if (!pid) {
		close(cmd[1]);
		close(ack[0]);
		child(mem, cmd[0], ack[1]);
	}
	close(cmd[0]);
	close(ack[1]);
	cr_assert_eq(read(ack[0], &c, 1), 1);
	fds = count_fds(pid);
	cr_assert_eq(kh_seize(pid), 0);
	cr_assert_eq(kh_dirty_start(pid, &v, 1, &uffd, &why), 0, "%s",
		     why ? why : "");
	cr_assert_eq(count_fds(pid), fds, "the child kept the userfaultfd");
	cr_assert(vm_uffd_wp(pid, s), "no uw in VmFlags while tracked");
	cr_assert_eq(kh_detach(pid, 0), 0);

	poke(cmd[1], ack[0], 3);
	poke(cmd[1], ack[0], 40);
	cr_assert_eq(kh_seize(pid), 0);
	cr_assert_eq(take_pages(pid, s, e, written), 2);
	cr_assert(written[3] && written[40] && !written[0] && !written[63]);
	cr_assert_eq(kh_detach(pid, 0), 0);

	/* after the take only the new write counts */
	poke(cmd[1], ack[0], 10);
	cr_assert_eq(kh_seize(pid), 0);
	cr_assert_eq(take_pages(pid, s, e, written), 1);
	cr_assert(written[10] && !written[3] && !written[40]);
	/* and that one is clean again after its take */
	cr_assert_eq(take_pages(pid, s, e, written), 0);
	cr_assert_eq(kh_detach(pid, 0), 0);

	/* closing our descriptor unregisters: the process sees no trace */
	close(uffd);
	cr_assert_not(vm_uffd_wp(pid, s), "uw left in VmFlags after the end");
	close(cmd[1]);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && !WEXITSTATUS(st));
	munmap(mem, NP * 4096);
}

/*
 * A scan whose answer is more regions than one call of the kernel takes:
 * 1700 present pages, each alone (the odd pages between never touched).
 * Asked in calls larger than the kernel's bounce buffer (512 regions),
 * one call returned a walk_end short of where it had walked, and the
 * next walked part of the range again: the same pages listed twice, out
 * of order.  In a take (the same loop, protecting as it walks) a page
 * written between the two calls was then taken for clean by track.c.
 * The answer must be each page once, in order.
 */
#define NR	1700

Test(dirty, scan_of_many_regions_in_order)
{
	size_t len = (size_t)NR * 2 * 4096, n, i;
	char *mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t s = (uintptr_t)mem;
	struct pm_scan_arg a = {
		.start = s, .end = s + len,
		.category_anyof_mask = PAGE_IS_PRESENT,
		.return_mask = PAGE_IS_PRESENT,
	};
	struct page_region *r;
	int pm;

	cr_assert_neq(mem, MAP_FAILED);
	/* no huge page would make the odd pages present */
	madvise(mem, len, MADV_NOHUGEPAGE);
	for (i = 0; i < NR; i++)
		mem[i * 2 * 4096] = 1;
	pm = kh_pagemap_open(getpid());
	cr_assert_geq(pm, 0);
	cr_assert_eq(kh_pagemap_scan(pm, &a, &r, &n), 0);
	cr_assert_eq(n, NR, "%zu regions for %d pages", n, NR);
	for (i = 0; i < n; i++)
		cr_assert(r[i].start == s + i * 2 * 4096 &&
			  r[i].end == r[i].start + 4096,
			  "region %zu is [%#lx, %#lx), page %zu expected", i,
			  (unsigned long)r[i].start, (unsigned long)r[i].end,
			  i * 2);
	free(r);
	close(pm);
	munmap(mem, len);
}

Test(dirty, regions_normalized)
{
	struct page_region r[] = {
		{ 0x1000, 0x3000, 2 }, { 0x5000, 0x6000, 2 },
		{ 0x2000, 0x4000, 2 }, { 0x9000, 0xa000, 2 },
		{ 0x5000, 0x6000, 2 }, { 0x6000, 0x7000, 2 },
	};
	size_t n = kh_regions_normalize(r, 6);

	cr_assert_eq(n, 3);
	cr_assert(r[0].start == 0x1000 && r[0].end == 0x4000);
	cr_assert(r[1].start == 0x5000 && r[1].end == 0x7000);
	cr_assert(r[2].start == 0x9000 && r[2].end == 0xa000);
	/* in order already: left as it is */
	cr_assert_eq(kh_regions_normalize(r, 3), 3);
	cr_assert_eq(kh_regions_normalize(r, 0), 0);
}
