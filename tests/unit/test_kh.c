// SPDX-License-Identifier: MIT
/*
 * kernel-helpers: the syscall restart rules (pure), and the /proc and
 * pagemap readers run against the test process itself.
 */
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/socket.h>

#include "kh.h"
#include "unit.h"

#define NR_NANOSLEEP		35
#define NR_CLOCK_NANOSLEEP	230
#define NR_RESTART_SYSCALL	219
#define ERESTARTSYS		512
#define ERESTARTNOINTR		513
#define ERESTARTNOHAND		514
#define ERESTART_RESTARTBLOCK	516
#define SYSCALL_IP		0x401002ULL

/* A task stopped on return from syscall nr with the given result. */
static struct user_regs_struct stopped_in(long nr, long rax)
{
	struct user_regs_struct r;

	memset(&r, 0, sizeof(r));
	r.orig_rax = nr;
	r.rax = rax;
	r.rip = SYSCALL_IP;
	r.rdi = 0x1111;
	r.rsi = 0x2222;
	r.rdx = 0x3333;
	r.r10 = 0x4444;
	r.rsp = 0x7ffc0000f000;
	return r;
}

/* Everything but the named registers is left alone. */
static void assert_rest_equal(const struct user_regs_struct *a,
			      const struct user_regs_struct *b)
{
	struct user_regs_struct x = *a, y = *b;

	x.rax = y.rax = 0;
	x.orig_rax = y.orig_rax = 0;
	x.rip = y.rip = 0;
	x.rdi = y.rdi = 0;
	x.rdx = y.rdx = 0;
	cr_assert_arr_eq(&x, &y, sizeof(x), "other registers changed");
}

/* The plain restart codes: the same syscall again, whatever the mode. */
static void check_reissue(long nr, long code, enum kh_restart_mode mode)
{
	struct user_regs_struct r, orig;

	orig = r = stopped_in(nr, code);
	kh_syscall_restart(&r, mode);
	cr_assert_eq(r.rax, (unsigned long long)nr, "code %ld nr %ld mode %d",
		     code, nr, mode);
	cr_assert_eq(r.rip, SYSCALL_IP - 2);
	cr_assert_eq((long)r.orig_rax, -1);
	cr_assert_eq(r.rdi, orig.rdi);
	cr_assert_eq(r.rdx, orig.rdx);
	assert_rest_equal(&r, &orig);
}

Test(syscall_restart, restart_codes_reissue)
{
	static const long codes[] = {
		-ERESTARTNOHAND, -ERESTARTSYS, -ERESTARTNOINTR,
	};
	static const long nrs[] = { 0, 7, 61, 202, 271 };
	size_t c, n;

	for (c = 0; c < ARRAY_SIZE(codes); c++) {
		for (n = 0; n < ARRAY_SIZE(nrs); n++) {
			check_reissue(nrs[n], codes[c], KH_RESTART_IN_PLACE);
			check_reissue(nrs[n], codes[c], KH_RESTART_FRESH);
		}
	}
}

Test(syscall_restart, restart_block_in_place)
{
	static const long nrs[] = { NR_NANOSLEEP, NR_CLOCK_NANOSLEEP, 7 };
	struct user_regs_struct r, orig;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(nrs); i++) {
		orig = r = stopped_in(nrs[i], -ERESTART_RESTARTBLOCK);
		kh_syscall_restart(&r, KH_RESTART_IN_PLACE);
		cr_assert_eq(r.rax, NR_RESTART_SYSCALL);
		cr_assert_eq(r.rip, SYSCALL_IP - 2);
		cr_assert_eq((long)r.orig_rax, -1);
		cr_assert_eq(r.rdi, orig.rdi);
		cr_assert_eq(r.rdx, orig.rdx);
		assert_rest_equal(&r, &orig);
	}
}

Test(syscall_restart, fresh_nanosleep_resumes_from_rem)
{
	struct user_regs_struct r, orig;

	orig = r = stopped_in(NR_NANOSLEEP, -ERESTART_RESTARTBLOCK);
	kh_syscall_restart(&r, KH_RESTART_FRESH);
	cr_assert_eq(r.rax, NR_NANOSLEEP);
	cr_assert_eq(r.rip, SYSCALL_IP - 2);
	cr_assert_eq(r.rdi, orig.rsi, "req must become the remaining time");
	cr_assert_eq(r.rsi, orig.rsi);
	cr_assert_eq((long)r.orig_rax, -1);
	assert_rest_equal(&r, &orig);
}

Test(syscall_restart, fresh_clock_nanosleep_relative)
{
	struct user_regs_struct r, orig;

	orig = r = stopped_in(NR_CLOCK_NANOSLEEP, -ERESTART_RESTARTBLOCK);
	r.rsi = 0;	/* flags: relative */
	orig = r;
	kh_syscall_restart(&r, KH_RESTART_FRESH);
	cr_assert_eq(r.rax, NR_CLOCK_NANOSLEEP);
	cr_assert_eq(r.rip, SYSCALL_IP - 2);
	cr_assert_eq(r.rdx, orig.r10, "req must become the remaining time");
	cr_assert_eq(r.r10, orig.r10);
	cr_assert_eq(r.rdi, orig.rdi, "clock id kept");
	cr_assert_eq((long)r.orig_rax, -1);
	assert_rest_equal(&r, &orig);
}

Test(syscall_restart, fresh_clock_nanosleep_absolute)
{
	struct user_regs_struct r, orig;

	r = stopped_in(NR_CLOCK_NANOSLEEP, -ERESTART_RESTARTBLOCK);
	r.rsi = 1;	/* TIMER_ABSTIME */
	r.r10 = 0;	/* no rem: irrelevant for an absolute sleep */
	orig = r;
	kh_syscall_restart(&r, KH_RESTART_FRESH);
	cr_assert_eq(r.rax, NR_CLOCK_NANOSLEEP);
	cr_assert_eq(r.rip, SYSCALL_IP - 2);
	cr_assert_eq(r.rdx, orig.rdx, "absolute deadline re-issued as is");
	cr_assert_eq(r.rdi, orig.rdi);
	cr_assert_eq((long)r.orig_rax, -1);
	assert_rest_equal(&r, &orig);
}

/* no time left to resume from: the whole wait again, never EINTR */
static void assert_reissued(long nr)
{
	struct user_regs_struct r, orig;

	r = stopped_in(nr, -ERESTART_RESTARTBLOCK);
	r.rsi = 0;
	r.r10 = 0;
	orig = r;
	kh_syscall_restart(&r, KH_RESTART_FRESH);
	cr_assert_eq((long)r.rax, nr, "syscall %ld", nr);
	cr_assert_eq(r.rip, SYSCALL_IP - 2, "syscall %ld", nr);
	cr_assert_eq(r.rdi, orig.rdi);
	cr_assert_eq(r.rdx, orig.rdx);
	cr_assert_eq((long)r.orig_rax, -1);
}

Test(syscall_restart, fresh_without_rem_reissues)
{
	assert_reissued(NR_NANOSLEEP);
	assert_reissued(NR_CLOCK_NANOSLEEP);
	assert_reissued(7);	/* poll */
	assert_reissued(202);	/* futex */
}

Test(syscall_restart, not_in_syscall_unchanged)
{
	static const long raxes[] = {
		-ERESTARTSYS, -ERESTART_RESTARTBLOCK, 0, 12345,
	};
	struct user_regs_struct r, orig;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(raxes); i++) {
		orig = r = stopped_in(-1, raxes[i]);
		kh_syscall_restart(&r, KH_RESTART_IN_PLACE);
		cr_assert_arr_eq(&r, &orig, sizeof(r), "rax %ld", raxes[i]);
		kh_syscall_restart(&r, KH_RESTART_FRESH);
		cr_assert_arr_eq(&r, &orig, sizeof(r), "rax %ld", raxes[i]);
	}
}

Test(syscall_restart, finished_syscall_keeps_result)
{
	struct user_regs_struct r, orig;

	orig = r = stopped_in(0, 42);
	kh_syscall_restart(&r, KH_RESTART_FRESH);
	cr_assert_eq(r.rax, 42);
	cr_assert_eq(r.rip, SYSCALL_IP);
	cr_assert_eq((long)r.orig_rax, -1);
	assert_rest_equal(&r, &orig);

	orig = r = stopped_in(0, -EINTR);
	kh_syscall_restart(&r, KH_RESTART_IN_PLACE);
	cr_assert_eq((long)r.rax, -EINTR);
	cr_assert_eq(r.rip, SYSCALL_IP);
}

/* /proc readers on the test process itself */

Test(proc, stat_matches_self)
{
	char name[CRFS_COMM_LEN + 1] = { 0 };
	struct kh_stat st;

	cr_assert_eq(kh_proc_stat(getpid(), &st), 0);
	cr_assert_eq(st.ppid, getppid());
	cr_assert_eq(st.pgid, getpgrp());
	cr_assert_eq(st.sid, getsid(0));
	cr_assert_eq(st.state, 'R');
	cr_assert_geq(st.nthreads, 1);
	cr_assert_eq(prctl(PR_GET_NAME, name), 0);
	cr_assert_str_eq(st.comm, name);
	cr_assert_lt(st.start_code, st.end_code);
	cr_assert_lt(st.arg_start, st.arg_end);
	cr_assert_lt(st.env_start, st.env_end);
	cr_assert_leq(st.start_brk, (uint64_t)sbrk(0));
	cr_assert_eq(kh_proc_stat(-5, &st), -ENOENT);
}

Test(proc, stat_comm_with_spaces_and_parens)
{
	struct kh_stat st;

	cr_assert_eq(prctl(PR_SET_NAME, "a) (b c) x"), 0);
	cr_assert_eq(kh_proc_stat(getpid(), &st), 0);
	cr_assert_str_eq(st.comm, "a) (b c) x");
	cr_assert_eq(st.ppid, getppid());
	cr_assert_eq(st.sid, getsid(0));
}

/* W vforks; its child waits on a pipe: W sleeps in vfork until we write */
Test(proc, in_vfork_while_the_child_runs)
{
	int p[2], i, st;
	pid_t w;
	char c;

	cr_assert_not(kh_in_vfork(getpid()));
	cr_assert_eq(pipe(p), 0);
	w = fork();
	cr_assert_geq(w, 0);
	if (!w) {
		if (!vfork())
			_exit(read(p[0], &c, 1) == 1 ? 0 : 1);
		_exit(0);
	}
	for (i = 0; i < 5000 && !kh_in_vfork(w); i++)
		usleep(1000);
	cr_assert(kh_in_vfork(w), "pid %d never seen in vfork", w);
	cr_assert_eq(write(p[1], "x", 1), 1);
	cr_assert_eq(waitpid(w, &st, 0), w);
	cr_assert(WIFEXITED(st) && !WEXITSTATUS(st));
	close(p[0]);
	close(p[1]);
}

Test(proc, status_matches_self)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg, groups[256];
	struct crfs_creds c;
	unsigned int um;
	int nnp, seccomp, n, i;
	mode_t old;

	old = umask(027);
	cr_assert_eq(kh_proc_status(getpid(), &c, &um, &nnp, &seccomp), 0);
	umask(old);
	cr_assert_eq(getresuid(&ru, &eu, &su), 0);
	cr_assert_eq(getresgid(&rg, &eg, &sg), 0);
	cr_assert_eq(c.uid[0], getuid());
	cr_assert_eq(c.uid[0], ru);
	cr_assert_eq(c.uid[1], eu);
	cr_assert_eq(c.uid[2], su);
	cr_assert_eq(c.uid[3], eu);	/* fsuid follows euid */
	cr_assert_eq(c.gid[0], rg);
	cr_assert_eq(c.gid[1], eg);
	cr_assert_eq(c.gid[2], sg);
	cr_assert_eq(c.gid[3], eg);
	cr_assert_eq(um, 027);
	cr_assert_eq(nnp, prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	cr_assert_eq(seccomp, prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
	cr_assert_eq(c.cap_eff & ~c.cap_prm, 0, "effective within permitted");
	n = getgroups(ARRAY_SIZE(groups), groups);
	cr_assert_geq(n, 0);
	cr_assert_eq(c.ngroups, n);
	for (i = 0; i < n; i++)
		cr_assert_eq(c.groups[i], groups[i], "group %d", i);
	free(c.groups);
}

Test(proc, limits_match_getrlimit)
{
	struct crfs_rlimit rl[CRFS_NLIMITS];
	struct rlimit want;
	int i;

	/* something recognisable, below the hard limit */
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &want), 0);
	if (want.rlim_cur > 100) {
		want.rlim_cur = 100;
		cr_assert_eq(setrlimit(RLIMIT_NOFILE, &want), 0);
	}
	cr_assert_eq(kh_proc_limits(getpid(), rl), 0);
	for (i = 0; i < CRFS_NLIMITS; i++) {
		cr_assert_eq(getrlimit(i, &want), 0);
		cr_assert_eq(rl[i].cur, want.rlim_cur, "%s soft",
			     crfs_rlimit_names[i]);
		cr_assert_eq(rl[i].max, want.rlim_max, "%s hard",
			     crfs_rlimit_names[i]);
	}
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &want), 0);
	cr_assert_eq(rl[RLIMIT_NOFILE].cur, want.rlim_cur);
	cr_assert_eq(rl[RLIMIT_NOFILE].max, want.rlim_max);
}

Test(proc, auxv_matches_getauxval)
{
	uint64_t auxv[CRFS_AUXV_MAX];
	bool seen_pagesz = false, seen_entry = false;
	int len, i;

	cr_assert_eq(kh_proc_auxv(getpid(), auxv, &len), 0);
	cr_assert_gt(len, 2);
	cr_assert_eq(len % 2, 0);
	cr_assert_eq(auxv[len - 2], AT_NULL, "vector ends with AT_NULL");
	for (i = 0; i < len - 2; i += 2) {
		cr_assert_neq(auxv[i], AT_NULL, "AT_NULL at %d", i);
		if (auxv[i] == AT_PAGESZ) {
			cr_assert_eq(auxv[i + 1], getauxval(AT_PAGESZ));
			seen_pagesz = true;
		}
		if (auxv[i] == AT_ENTRY) {
			cr_assert_eq(auxv[i + 1], getauxval(AT_ENTRY));
			seen_entry = true;
		}
	}
	cr_assert(seen_pagesz);
	cr_assert(seen_entry);
}

/* proc_maps and pagemap */

/* What kh_proc_maps() said it cannot checkpoint (the test runner's own
 * shared-memory arena, for one). */
struct reports {
	int n;
	char msg[32][256];
};

static void record_report(void *ctx, const char *fmt, ...)
{
	struct reports *r = ctx;
	va_list ap;

	/* unprivileged, every file mapping is reported: keep the first ones */
	if (r->n < (int)ARRAY_SIZE(r->msg)) {
		va_start(ap, fmt);
		vsnprintf(r->msg[r->n], sizeof(r->msg[0]), fmt, ap);
		va_end(ap);
		cr_log_info("report: %s", r->msg[r->n]);
	}
	r->n++;
}

/* None of them about a mapping every process has. */
static void assert_no_report_on_specials(const struct reports *r)
{
	static const char *const specials[] = {
		"[stack]", "[heap]", "[vdso]", "[vvar", "[vsyscall]",
		"anonymous",
	};
	size_t k;
	int i;

	for (i = 0; i < r->n && i < (int)ARRAY_SIZE(r->msg); i++)
		for (k = 0; k < ARRAY_SIZE(specials); k++)
			cr_assert_null(strstr(r->msg[i], specials[k]),
				       "report: %s", r->msg[i]);
}

static const struct crfs_vma *vma_of(const struct crfs_vma *v, size_t n,
				     uint64_t addr)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].start <= addr && addr < v[i].end)
			return &v[i];
	return NULL;
}

Test(proc_maps, self_has_stack_and_vdso)
{
	struct reports rep = { 0 };
	const struct crfs_vma *stack, *vdso, *heap;
	struct crfs_vma *v;
	size_t n, i;
	int local;

	cr_assert_eq(kh_proc_maps(getpid(), &v, &n, record_report, &rep), 0);
	cr_assert_gt(n, 3);
	for (i = 1; i < n; i++)
		cr_assert_leq(v[i - 1].end, v[i].start, "vma %zu unsorted", i);

	stack = vma_of(v, n, (uint64_t)&local);
	cr_assert_not_null(stack);
	cr_assert_eq(stack->kind, VMA_STACK);
	cr_assert(stack->flags & VMA_F_GROWSDOWN);
	cr_assert_eq(stack->prot, PROT_READ | PROT_WRITE);
	cr_assert_null(stack->path);

	vdso = vma_of(v, n, getauxval(AT_SYSINFO_EHDR));
	cr_assert_not_null(vdso);
	cr_assert_eq(vdso->kind, VMA_VDSO);
	cr_assert_eq(vdso->start, getauxval(AT_SYSINFO_EHDR));
	cr_assert(vdso->prot & PROT_EXEC);

	heap = vma_of(v, n, (uint64_t)sbrk(0) - 1);
	if (heap)
		cr_assert_eq(heap->kind, VMA_HEAP);

	/* no report about the mappings every process has */
	for (i = 0; i < n; i++)
		if (v[i].kind != VMA_FILE && v[i].kind != VMA_ANON &&
		    v[i].kind != VMA_DELETED)
			cr_assert_null(v[i].path);
	assert_no_report_on_specials(&rep);
	free_maps(v, n);
}

Test(proc_maps, self_file_mappings)
{
	struct reports rep = { 0 };
	const struct crfs_vma *text;
	struct crfs_vma *v;
	char link[96], *exe;
	struct stat st;
	size_t n;

	cr_assert_eq(kh_proc_maps(getpid(), &v, &n, record_report, &rep), 0);
	cr_assert_eq(kh_proc_link(getpid(), "exe", &exe), 0);
	text = vma_of(v, n, (uint64_t)&vma_of);
	cr_assert_not_null(text);
	cr_assert_eq(text->kind, VMA_FILE);
	snprintf(link, sizeof(link), "/proc/self/map_files/%lx-%lx",
		 text->start, text->end);
	if (stat(link, &st) && (errno == EPERM || errno == EACCES)) {
		free(exe);
		free_maps(v, n);
		cr_skip_test("map_files needs CAP_CHECKPOINT_RESTORE");
	}
	cr_assert_eq(stat(exe, &st), 0);
	cr_assert_str_eq(text->path, exe);
	cr_assert(text->prot & PROT_EXEC);
	cr_assert_eq(text->file_size, (uint64_t)st.st_size);
	cr_assert_eq(text->file_mtime_ns,
		     st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec);
	free(exe);
	free_maps(v, n);
}

Test(proc_maps, self_renders_and_parses)
{
	struct reports rep = { 0 };
	struct crfs_vma *v, *back;
	struct ut_text ut;
	struct strbuf sb;
	size_t n, nb, i;
	char *s;
	int ret;

	cr_assert_eq(kh_proc_maps(getpid(), &v, &n, record_report, &rep), 0);
	sb_init(&sb);
	cr_assert_eq(render_maps(&sb, v, n), 0);
	s = ut_steal(&sb);
	ret = parse_maps(ut_text(&ut, "self/maps", s), &back, &nb);
	cr_assert_eq(ret, 0, "%s\n%s", ut.err, s);
	cr_assert_eq(nb, n);
	for (i = 0; i < n; i++) {
		cr_assert_eq(back[i].start, v[i].start);
		cr_assert_eq(back[i].end, v[i].end);
		cr_assert_eq(back[i].flags, v[i].flags);
		cr_assert_eq(back[i].kind, v[i].kind);
	}
	free_maps(back, nb);
	free_maps(v, n);
	free(s);
}

/* a shared file mapping may be made writable only if its file was opened
 * O_RDWR (zdtm maps_file_prot): "maywrite" says so */
Test(proc_maps, shared_file_maywrite)
{
	char path[] = "/tmp/crfs-unit-mw.XXXXXX";
	struct reports rep = { 0 };
	const struct crfs_vma *m;
	struct crfs_vma *v;
	int fd = mkstemp(path), ro;
	char *a, *b;
	size_t n;

	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, 8192), 0);
	ro = open(path, O_RDONLY);
	cr_assert_geq(ro, 0);
	a = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	b = mmap(NULL, 4096, PROT_READ, MAP_SHARED, ro, 4096);
	cr_assert(a != MAP_FAILED && b != MAP_FAILED);
	unlink(path);
	cr_assert_eq(kh_proc_maps(getpid(), &v, &n, record_report, &rep), 0);
	m = vma_of(v, n, (uint64_t)a);
	cr_assert(m && (m->flags & VMA_F_MAYWRITE), "O_RDWR file: no maywrite");
	m = vma_of(v, n, (uint64_t)b);
	cr_assert(m && !(m->flags & VMA_F_MAYWRITE), "O_RDONLY file: maywrite");
	free_maps(v, n);
	munmap(a, 4096);
	munmap(b, 4096);
	close(fd);
	close(ro);
}

Test(proc_maps, anon_mapping_flags)
{
	struct reports rep = { 0 };
	const struct crfs_vma *m;
	struct crfs_vma *v;
	long page = sysconf(_SC_PAGESIZE);
	char *p;
	size_t n;

	p = mmap(NULL, 4 * page, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(p, MAP_FAILED);
	cr_assert_eq(madvise(p, 4 * page, MADV_DONTFORK), 0);
	cr_assert_eq(kh_proc_maps(getpid(), &v, &n, record_report, &rep), 0);
	m = vma_of(v, n, (uint64_t)p);
	cr_assert_not_null(m);
	cr_assert_eq(m->start, (uint64_t)p);
	cr_assert_eq(m->end, (uint64_t)p + 4 * page);
	cr_assert_eq(m->kind, VMA_SHMEM);
	cr_assert_eq(m->prot, PROT_READ);
	/* shared memory may always be made writable */
	cr_assert_eq(m->flags, VMA_F_SHARED | VMA_F_DONTFORK | VMA_F_MAYWRITE);
	cr_assert_eq(m->file_size, 4 * page);
	cr_assert_neq(m->shm_ino, 0);
	assert_no_report_on_specials(&rep);
	free_maps(v, n);
	munmap(p, 4 * page);
}

Test(pagemap, runs_follow_written_pages)
{
	static const int written[] = { 0, 1, 5 };
	struct crfs_page_run *runs;
	struct reports rep = { 0 };
	const struct crfs_vma *m;
	struct crfs_vma *v;
	uint64_t base, off = 0;
	size_t n, nruns, i, inside = 0;
	long page = sysconf(_SC_PAGESIZE);
	char *guard, *p;

	cr_assert_eq(page, 4096);
	/* PROT_NONE guards keep the kernel from merging it with neighbours */
	guard = mmap(NULL, 18 * page, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	cr_assert_neq(guard, MAP_FAILED);
	p = guard + page;
	cr_assert_eq(mprotect(p, 16 * page, PROT_READ | PROT_WRITE), 0);
	/* no (m)THP, so that one write faults in one page */
	cr_assert_eq(madvise(p, 16 * page, MADV_NOHUGEPAGE), 0);
	for (i = 0; i < ARRAY_SIZE(written); i++)
		p[written[i] * page + 100] = 1;
	base = (uint64_t)p;

	cr_assert_eq(kh_proc_maps(getpid(), &v, &n, record_report, &rep), 0);
	m = vma_of(v, n, base);
	cr_assert_not_null(m);
	cr_assert_eq(m->start, base);
	cr_assert_eq(m->end, base + 16 * page);
	cr_assert_eq(m->kind, VMA_ANON);
	cr_assert(m->flags & VMA_F_NOHUGEPAGE);

	cr_assert_eq(kh_page_runs(getpid(), v, n, NULL, 0, &runs, &nruns, NULL), 0);
	cr_assert_gt(nruns, 0);
	for (i = 0; i < nruns; i++) {
		const struct crfs_vma *in = vma_of(v, n, runs[i].addr);
		uint64_t end = runs[i].addr + runs[i].npages * page;

		cr_assert_gt(runs[i].npages, 0);
		cr_assert_not_null(in, "run at 0x%lx outside every VMA",
				   runs[i].addr);
		cr_assert_leq(end, in->end,
			      "run 0x%lx+%lu crosses the end of 0x%lx-0x%lx",
			      runs[i].addr, runs[i].npages, in->start,
			      in->end);
		cr_assert_eq(runs[i].offset, off, "run %zu offset", i);
		off += runs[i].npages * page;
		if (i)
			cr_assert_leq(runs[i - 1].addr +
				      runs[i - 1].npages * page, runs[i].addr);
		if (end <= base || runs[i].addr >= base + 16 * page)
			continue;
		/* inside the test mapping: exactly [0..1] and [5] */
		cr_assert_lt(inside, 2, "extra run at page %ld",
			     (long)((runs[i].addr - base) / page));
		if (inside == 0) {
			cr_assert_eq(runs[i].addr, base);
			cr_assert_eq(runs[i].npages, 2);
		} else {
			cr_assert_eq(runs[i].addr, base + 5 * page);
			cr_assert_eq(runs[i].npages, 1);
		}
		inside++;
	}
	cr_assert_eq(inside, 2);
	free(runs);
	free_maps(v, n);
	munmap(guard, 18 * page);
}

Test(pagemap, runs_split_at_vma_boundary)
{
	struct crfs_page_run *runs;
	struct reports rep = { 0 };
	struct crfs_vma *v;
	uint64_t base;
	size_t n, nruns, i, inside = 0;
	long page = sysconf(_SC_PAGESIZE);
	char *guard, *p;

	guard = mmap(NULL, 10 * page, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	cr_assert_neq(guard, MAP_FAILED);
	p = guard + page;
	base = (uint64_t)p;
	/* two adjacent VMAs (different protections), all pages written */
	cr_assert_eq(mprotect(p, 4 * page, PROT_READ | PROT_WRITE), 0);
	cr_assert_eq(mprotect(p + 4 * page, 4 * page,
			      PROT_READ | PROT_WRITE | PROT_EXEC), 0);
	cr_assert_eq(madvise(p, 8 * page, MADV_NOHUGEPAGE), 0);
	for (i = 0; i < 8; i++)
		p[i * page] = 1;

	cr_assert_eq(kh_proc_maps(getpid(), &v, &n, record_report, &rep), 0);
	cr_assert_eq(kh_page_runs(getpid(), v, n, NULL, 0, &runs, &nruns, NULL), 0);
	for (i = 0; i < nruns; i++) {
		if (runs[i].addr + runs[i].npages * page <= base ||
		    runs[i].addr >= base + 8 * page)
			continue;
		cr_assert_eq(runs[i].addr, base + inside * 4 * page,
			     "run %zu in the test mapping", inside);
		cr_assert_eq(runs[i].npages, 4);
		inside++;
	}
	cr_assert_eq(inside, 2);
	free(runs);
	free_maps(v, n);
	munmap(guard, 10 * page);
}

/*
 * pagemap only shows this process's page table: a page of shared anonymous
 * memory written through another process (or reclaimed to swap) has no PTE
 * here, yet holds data: kh_page_runs must find it in the shmem object.
 */
Test(pagemap, shared_anon_page_written_elsewhere)
{
	struct crfs_page_run *runs;
	struct reports rep = { 0 };
	struct crfs_vma *v;
	uint64_t base, covered = 0;
	size_t n, nruns, i;
	long page = sysconf(_SC_PAGESIZE);
	pid_t pid;
	char *p;

	p = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(p, MAP_FAILED);
	base = (uint64_t)p;
	pid = fork();
	cr_assert_geq(pid, 0);
	if (!pid) {
		p[3 * page] = 7;
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, NULL, 0), pid);

	cr_assert_eq(kh_proc_maps(getpid(), &v, &n, record_report, &rep), 0);
	cr_assert_eq(kh_page_runs(getpid(), v, n, NULL, 0, &runs, &nruns, NULL), 0);
	for (i = 0; i < nruns; i++)
		if (runs[i].addr <= base + 3 * page &&
		    base + 3 * page < runs[i].addr + runs[i].npages * page)
			covered = 1;
	cr_assert(covered, "page 3 holds %d but is in no run", p[3 * page]);
	free(runs);
	free_maps(v, n);
	munmap(p, 4 * page);
}

/* peeking takes nothing: what was queued is still read afterwards */
Test(peek, pipe_keeps_its_bytes)
{
	char data[5000], got[6000], *buf;
	struct kh_packets pk = { 0 };
	uint32_t size;
	size_t len;
	int p[2];

	memset(data, 'x', sizeof(data));
	data[0] = 'a';
	data[sizeof(data) - 1] = 'z';
	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(write(p[1], data, sizeof(data)), (ssize_t)sizeof(data));
	cr_assert_eq(kh_pipe_peek(getpid(), p[1], &buf, &len, &size, &pk), 0);
	cr_assert_eq(pk.n, 0, "a byte stream has no packets");
	cr_assert_eq(len, sizeof(data));
	cr_assert_eq(memcmp(buf, data, len), 0);
	cr_assert_geq(size, 4096);
	free(buf);
	cr_assert_eq(read(p[0], got, sizeof(got)), (ssize_t)sizeof(data));
	cr_assert_eq(memcmp(got, data, sizeof(data)), 0);
	close(p[0]);
	close(p[1]);
}

Test(peek, pipe_packets_keep_their_lengths)
{
	struct kh_packets pk = { 0 };
	uint32_t size;
	char *buf, got[8];
	size_t len;
	int p[2];

	cr_assert_eq(pipe2(p, O_DIRECT), 0);
	cr_assert_eq(write(p[1], "abc", 3), 3);
	cr_assert_eq(write(p[1], "defgh", 5), 5);
	cr_assert_eq(kh_pipe_peek(getpid(), p[0], &buf, &len, &size, &pk), 0);
	cr_assert_eq(len, 8);
	cr_assert_eq(memcmp(buf, "abcdefgh", 8), 0);
	cr_assert_eq(pk.n, 2);
	cr_assert_eq(pk.len[0], 3);
	cr_assert_eq(pk.len[1], 5);
	free(pk.len);
	free(buf);
	/* nothing was taken: the first read still ends with the packet */
	cr_assert_eq(read(p[0], got, sizeof(got)), 3);
	close(p[0]);
	close(p[1]);
}

Test(peek, unix_dgram_keeps_boundaries_and_files)
{
	char ctl[CMSG_SPACE(sizeof(int))], b[16];
	struct iovec iov = { "two", 3 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	struct kh_unix_queue q;
	int sv[2], nul = open("/dev/null", O_RDONLY);

	cr_assert_eq(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	cr_assert_eq(send(sv[0], "one", 3, 0), 3);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &nul, sizeof(int));
	cr_assert_eq(sendmsg(sv[0], &mh, 0), 3);
	cr_assert_eq(send(sv[0], "", 0, 0), 0);
	cr_assert_eq(kh_unix_peek(sv[1], false, false, &q), 0);
	cr_assert_eq(q.nchunks, 3);
	cr_assert_eq(q.len, 6);
	cr_assert_eq(q.chunks[0].len, 3);
	cr_assert_eq(q.chunks[1].nfds, 1);
	cr_assert_eq(q.chunks[2].len, 0);
	cr_assert_eq(memcmp(q.data, "onetwo", 6), 0);
	kh_unix_free_queue(&q);
	/* still all there, in order */
	cr_assert_eq(recv(sv[1], b, sizeof(b), 0), 3);
	cr_assert_eq(recv(sv[1], b, sizeof(b), 0), 3);
	cr_assert_eq(memcmp(b, "two", 3), 0);
	cr_assert_eq(recv(sv[1], b, sizeof(b), MSG_DONTWAIT), 0);
	close(sv[0]);
	close(sv[1]);
	close(nul);
}

/* sock_diag sees a socket pair as two sockets, each the other's peer */
Test(unix_diag, pair_peers)
{
	const struct kh_unix *a, *b;
	struct kh_unix *u;
	struct stat sa, sb;
	int sv[2];
	size_t n;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	cr_assert_eq(fstat(sv[0], &sa), 0);
	cr_assert_eq(fstat(sv[1], &sb), 0);
	cr_assert_eq(kh_unix_list(&u, &n), 0);
	a = kh_unix_find(u, n, sa.st_ino);
	b = kh_unix_find(u, n, sb.st_ino);
	cr_assert(a && b);
	cr_assert_eq(a->peer, (uint64_t)sb.st_ino);
	cr_assert_eq(b->peer, (uint64_t)sa.st_ino);
	cr_assert_eq(a->type, SOCK_SEQPACKET);
	cr_assert_null(kh_unix_find(u, n, 1));
	kh_unix_free(u, n);
	close(sv[0]);
	close(sv[1]);
}

Test(unix_names, path_with_or_without_its_nul)
{
	cr_assert(kh_unix_same_name("/run/a.sock", 11, "/run/a.sock", 12));
	cr_assert(kh_unix_same_name("/run/a.sock", 12, "/run/a.sock", 11));
	cr_assert(!kh_unix_same_name("/run/a.sock", 11, "/run/a.soc", 10));
	cr_assert(!kh_unix_same_name("/run/a", 6, "", 0));
}

Test(unix_names, abstract_names_are_bytes)
{
	cr_assert(kh_unix_same_name("\0a\0b", 4, "\0a\0b", 4));
	cr_assert(!kh_unix_same_name("\0a\0b", 4, "\0a\0c", 4));
	cr_assert(!kh_unix_same_name("\0a", 2, "\0a\0", 3));
	/* an abstract name is never a path, whatever its bytes */
	cr_assert(!kh_unix_same_name("\0/x", 3, "/x", 2));
}

Test(inet_addr, text_and_back)
{
	struct sockaddr_storage ss, back;
	socklen_t len;
	char buf[64];
	const char *const good[] = { "127.0.0.1:8080", "0.0.0.0:0",
				     "[::1]:443", "[::]:0", "[fe80::1]:65535" };
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cr_assert_eq(kh_inet_addr_parse(good[i], &ss, &len), 0, "%s", good[i]);
		kh_inet_addr_str(&ss, buf, sizeof(buf));
		cr_assert_str_eq(buf, good[i]);
		cr_assert_eq(kh_inet_addr_parse(buf, &back, &len), 0);
		cr_assert_eq(memcmp(&ss, &back, sizeof(ss)), 0);
	}
}

Test(inet_addr, refuses_what_is_not_an_address)
{
	struct sockaddr_storage ss;
	socklen_t len;
	const char *const bad[] = { "", "127.0.0.1", "127.0.0.1:", "1.2.3:80",
				    "127.0.0.1:65536", "::1:80", "[::1:80",
				    "[::1]:x", "localhost:80" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_neq(kh_inet_addr_parse(bad[i], &ss, &len), 0, "%s", bad[i]);
}

/*
 * Runs end at every multiple of CRFS_RUN_CUT too (restore's two fill
 * workers share out whole runs): a written mapping of 3 cuts and a half,
 * not aligned to one, comes out as a run up to each cut and whole cuts.
 */
Test(pagemap, runs_cut_at_fixed_addresses)
{
	size_t len = 3 * CRFS_RUN_CUT + CRFS_RUN_CUT / 2, n, nruns, i, k = 0;
	struct crfs_page_run *runs;
	struct reports rep = { 0 };
	uint64_t base, at;
	struct crfs_vma *v;
	char *p;

	/* one cut more, so a start between two cuts can be picked */
	p = mmap(NULL, len + CRFS_RUN_CUT, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(p, MAP_FAILED);
	base = ((uint64_t)p + CRFS_RUN_CUT - 1) / CRFS_RUN_CUT * CRFS_RUN_CUT +
	       16 * 4096;
	cr_assert_eq(madvise((void *)base, len, MADV_NOHUGEPAGE), 0);
	memset((void *)base, 1, len);
	cr_assert_eq(kh_proc_maps(getpid(), &v, &n, record_report, &rep), 0);
	cr_assert_eq(kh_page_runs(getpid(), v, n, NULL, 0, &runs, &nruns, NULL), 0);
	for (at = base, i = 0; i < nruns; i++) {
		uint64_t end = runs[i].addr + runs[i].npages * 4096;

		cr_assert_eq((runs[i].addr / CRFS_RUN_CUT),
			     ((end - 1) / CRFS_RUN_CUT),
			     "run 0x%lx+%lu crosses a cut", runs[i].addr,
			     runs[i].npages);
		if (end <= base || runs[i].addr >= base + len)
			continue;
		cr_assert_eq(runs[i].addr, at, "run %zu of the mapping", k);
		at = (at / CRFS_RUN_CUT + 1) * CRFS_RUN_CUT;
		if (at > base + len)
			at = base + len;
		cr_assert_eq(end, at, "run %zu of the mapping ends", k);
		k++;
	}
	cr_assert_eq(k, 4);
	free(runs);
	free_maps(v, n);
	munmap(p, len + CRFS_RUN_CUT);
}
