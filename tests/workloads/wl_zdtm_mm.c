/* SPDX-License-Identifier: MIT */
/*
 * Odd process and memory attributes of the kind CRIU's zdtm suite checks
 * (maps*, grow_map*, membarrier, thp_disable, vdso, prctl flags), those no
 * other workload covers: the GS base, an anonymous mapping's name
 * (PR_SET_VMA_ANON_NAME), a MAP_GROWSDOWN stack, a membarrier
 * registration, speculation control, the I/O flusher flag; and, set only
 * on request because the freeze refuses them (WL_ZDTM_SET), a guard
 * region (MADV_GUARD_INSTALL; in private anonymous memory, shared
 * anonymous memory, or a shared mapping of a file in the directory
 * argv[1]), the NUMA memory policy of the process and
 * of a mapping (set_mempolicy, mbind), an AIO context (io_setup),
 * memory-deny-write-execute (PR_SET_MDWE), a MAP_DROPPABLE mapping, a
 * child it traces
 * (PTRACE_SEIZE) and, in a child that does not read the clock, the TSC
 * mode; a child that unmapped its vDSO (vdso02).  READY; on SIGUSR1 each
 * is checked.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <asm/prctl.h>
#include <linux/aio_abi.h>
#include "wl_common.h"
#include "wl_fdtable.h"

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif
#ifndef PR_SET_IO_FLUSHER
#define PR_SET_IO_FLUSHER 57
#define PR_GET_IO_FLUSHER 58
#endif
#ifndef PR_SET_MDWE
#define PR_SET_MDWE 65
#define PR_GET_MDWE 66
#define PR_MDWE_REFUSE_EXEC_GAIN 1
#endif
#define MEMBARRIER_CMD_PRIVATE_EXPEDITED (1 << 3)
#define MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED (1 << 4)
#define MPOL_PREFERRED 1
#define MPOL_BIND 2
#define MPOL_INTERLEAVE 3

#define PG 4096
#define ANON_NAME "zdtm-named"

static volatile sig_atomic_t go;
static sigjmp_buf jb;
static char *named, *guarded, *bound;
static char guard_after[2 * 4096];	/* what the 2 pages after it hold */
static void *growsdown;
static unsigned long gsbase = 0x7e5700001000ul;
static int have_vmanuma, have_flusher, have_name, have_spec, have_numa, have_guard;
static int tsc_rd, tsc_wr;
static aio_context_t aio_ctx;
static int have_mdwe, have_membarrier;
static pid_t tracee;
static char *droppable;
static char *prot_rw, *prot_ro;	/* shared, PROT_READ: O_RDWR, O_RDONLY file */
#define MAP_DROPPABLE_ 0x08

/* set only when WL_ZDTM_SET names it: guard, numa, vmanuma, tsc, aio,
 * mdwe, ptrace, droppable */
#define want wl_zdtm_want

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void on_segv(int sig)
{
	(void)sig;
	siglongjmp(jb, 1);
}

/* the maps (or smaps) line of the mapping at addr, into line */
static int maps_line(const char *file, void *addr, char *line, size_t len)
{
	char path[64];
	unsigned long lo, hi;
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/self/%s", file);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, len, f))
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 &&
		    lo <= (unsigned long)addr && (unsigned long)addr < hi) {
			found = 1;
			break;
		}
	fclose(f);
	return found;
}

/* the VmFlags of the mapping at addr */
static int vmflags(void *addr, char *out, size_t len)
{
	char line[512];
	unsigned long lo, hi;
	int in = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return 0;
	*out = 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2)
			in = lo <= (unsigned long)addr && (unsigned long)addr < hi;
		else if (in && !strncmp(line, "VmFlags:", 8)) {
			snprintf(out, len, "%s", line + 8);
			break;
		}
	}
	fclose(f);
	return *out != 0;
}

/*
 * The TSC mode makes rdtsc fault, and the vDSO's clock reads use it: a
 * child that never reads the clock holds it and checks it on request.
 */
static void tsc_child(int rd, int wr)
{
	int mode = -1;
	char c;

	if (prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0))
		c = 'u';
	else
		c = 'r';
	if (write(wr, &c, 1) != 1 || read(rd, &c, 1) != 1)
		_exit(3);
	prctl(PR_GET_TSC, &mode, 0, 0, 0);
	c = mode == PR_TSC_SIGSEGV ? 'y' : 'n';
	_exit(write(wr, &c, 1) == 1 ? 0 : 3);
}

static pid_t last_child;	/* child_with_pipes()'s */

/* a child running fn(rd, wr) with a pipe each way: our ends in *wr and
 * *rd; the first byte it writes */
static char child_with_pipes(void (*fn)(int rd, int wr), int *wr, int *rd)
{
	int a[2], b[2];
	char c = 0;
	pid_t p;

	if (pipe(a) || pipe(b))
		wl_die("pipe");
	p = fork();
	if (p < 0)
		wl_die("fork");
	if (!p) {
		fn(a[0], b[1]);
		_exit(3);
	}
	last_child = p;
	close(a[0]);
	close(b[1]);
	*wr = a[1];
	*rd = b[0];
	if (read(*rd, &c, 1) != 1)
		c = 0;
	return c;
}

/* the vDSO mappings ([vdso], [vvar], [vvar_vclock]) unmapped, or counted */
static int vdso_maps(int unmap)
{
	unsigned long lo, hi, at[8][2];
	char line[512];
	int n = 0, i;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if ((strstr(line, "[vdso]") || strstr(line, "[vvar")) && n < 8 &&
		    sscanf(line, "%lx-%lx", &lo, &hi) == 2) {
			at[n][0] = lo;
			at[n++][1] = hi;
		}
	fclose(f);
	for (i = 0; unmap && i < n; i++)
		if (syscall(SYS_munmap, at[i][0], at[i][1] - at[i][0]))
			return -1;
	return n;
}

/*
 * zdtm vdso02: a child that unmapped its vDSO (it reads no clock since)
 * has none after restore either.  As zdtm's, it stops itself (SIGSTOP):
 * a restored task stopped so has no syscall instruction behind it, and
 * with no vDSO a second freeze found none to run its syscalls with.
 */
static int novdso_rd, novdso_wr = -1;
static pid_t novdso_pid;

static void novdso_child(int rd, int wr)
{
	char c = vdso_maps(1) > 0 ? 'r' : 'u';

	if (write(wr, &c, 1) != 1)
		_exit(3);
	syscall(SYS_kill, getpid(), SIGSTOP);
	if (read(rd, &c, 1) != 1)
		_exit(3);
	c = vdso_maps(0) == 0 ? 'y' : 'n';
	_exit(write(wr, &c, 1) == 1 ? 0 : 3);
}

static void setup_novdso(void)
{
	int st;

	if (child_with_pipes(novdso_child, &novdso_wr, &novdso_rd) != 'r')
		wl_die("the child could not unmap its vDSO");
	novdso_pid = last_child;
	if (waitpid(novdso_pid, &st, WUNTRACED) != novdso_pid ||
	    !WIFSTOPPED(st))
		wl_die("the child without a vDSO did not stop");
}

static void check_novdso(void)
{
	char c = 'x';

	if (kill(novdso_pid, SIGCONT) || write(novdso_wr, &c, 1) != 1 ||
	    read(novdso_rd, &c, 1) != 1)
		wl_fail("novdso", "the child does not answer");
	else if (c != 'y')
		wl_fail("novdso", "the child has a vDSO mapping again");
	else
		wl_pass("novdso");
}

static void setup_tsc(void)
{
	if (child_with_pipes(tsc_child, &tsc_wr, &tsc_rd) != 'r') {
		close(tsc_wr);
		tsc_wr = -1;
	}
}

/*
 * The guard region's mapping: private anonymous memory ("guard"), shared
 * anonymous memory ("guardshm"), a shared mapping of a file in dir
 * ("guardfile"): the pages of the last two are their object's, not read
 * through the pagemap.
 */
static char *map_guarded(const char *dir)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS, fd = -1;
	char path[256];
	char *p;

	if (want("guardshm"))
		flags = MAP_SHARED | MAP_ANONYMOUS;
	if (want("guardfile")) {
		snprintf(path, sizeof(path), "%s/guarded", dir ? dir : "/tmp");
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || ftruncate(fd, 4 * PG))
			wl_die("%s", path);
		flags = MAP_SHARED;
	}
	p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (p == MAP_FAILED)
		wl_die("mmap");
	if (fd >= 0)
		close(fd);
	return p;
}

/* zdtm maps_file_prot: one file mapped shared PROT_READ twice, through
 * an O_RDWR and an O_RDONLY descriptor, both closed */
static void setup_file_prot(const char *dir)
{
	char path[4096];
	int rw, ro;

	snprintf(path, sizeof(path), "%s/prot", dir ? dir : "/tmp");
	rw = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ro = open(path, O_RDONLY);
	if (rw < 0 || ro < 0 || ftruncate(rw, 2 * PG))
		wl_die("file_prot file");
	prot_rw = mmap(NULL, PG, PROT_READ, MAP_SHARED, rw, 0);
	prot_ro = mmap(NULL, PG, PROT_READ, MAP_SHARED, ro, PG);
	if (prot_rw == MAP_FAILED || prot_ro == MAP_FAILED)
		wl_die("file_prot mmap");
	close(rw);
	close(ro);
}

/* the first may be made writable (and writes reach the file), the
 * second not */
static void check_file_prot(void)
{
	if (mprotect(prot_rw, PG, PROT_READ | PROT_WRITE))
		wl_fail("mm.file_prot", "mprotect RW of a mapping of an O_RDWR file: %s",
			strerror(errno));
	else if (!mprotect(prot_ro, PG, PROT_READ | PROT_WRITE))
		wl_fail("mm.file_prot", "mprotect RW of a mapping of an O_RDONLY file worked");
	else if (errno != EACCES)
		wl_fail("mm.file_prot", "mprotect of the O_RDONLY one: %s",
			strerror(errno));
	else if ((prot_rw[5] = 7, msync(prot_rw, PG, MS_SYNC)))
		wl_fail("mm.file_prot", "msync: %s", strerror(errno));
	else
		wl_pass("mm.file_prot");
}

static void setup(const char *dir)
{
	unsigned long mask = 1;
	struct sigaction sa = { .sa_handler = on_segv };

	sigaction(SIGSEGV, &sa, NULL);
	setup_file_prot(dir);
	if (syscall(SYS_arch_prctl, ARCH_SET_GS, gsbase))
		wl_die("ARCH_SET_GS");

	named = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (named == MAP_FAILED)
		wl_die("mmap");
	wl_fill(named, 4 * PG, 11);
	have_name = !prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, named, 4 * PG,
			   ANON_NAME);

	growsdown = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0);
	if (growsdown == MAP_FAILED)
		wl_die("mmap MAP_GROWSDOWN");
	wl_fill((char *)growsdown + 4 * PG, 4 * PG, 12);

	guarded = map_guarded(dir);
	wl_fill(guarded, 4 * PG, 13);
	/* the freeze refuses a guard region: only on request */
	have_guard = (want("guard") || want("guardshm") ||
		       want("guardfile")) &&
		     !madvise(guarded + PG, PG, MADV_GUARD_INSTALL);
	memcpy(guard_after, guarded + 2 * PG, 2 * PG);

	bound = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (bound == MAP_FAILED)
		wl_die("mmap");
	have_numa = want("numa") &&
		    !syscall(SYS_set_mempolicy, MPOL_PREFERRED, &mask, 64);
	have_vmanuma = want("vmanuma") &&
		       !syscall(SYS_mbind, bound, 4 * PG, MPOL_BIND, &mask, 64, 0);
	wl_fill(bound, 4 * PG, 14);

	have_spec = !prctl(PR_SET_SPECULATION_CTRL, PR_SPEC_STORE_BYPASS,
			   PR_SPEC_DISABLE, 0, 0);
	/* it takes CAP_SYS_RESOURCE */
	have_flusher = !prctl(PR_SET_IO_FLUSHER, 1, 0, 0, 0);
	if (want("aio") && syscall(SYS_io_setup, 8, &aio_ctx))
		wl_die("io_setup");
	if (want("droppable")) {
		droppable = mmap(NULL, PG, PROT_READ | PROT_WRITE,
				 MAP_DROPPABLE_ | MAP_ANONYMOUS, -1, 0);
		if (droppable == MAP_FAILED)
			wl_die("mmap MAP_DROPPABLE");
		droppable[0] = 1;
	}
	have_mdwe = want("mdwe") &&
		    !prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0);
	have_membarrier = !syscall(SYS_membarrier,
				   MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0);
	if (want("ptrace")) {
		tracee = fork();
		if (tracee < 0)
			wl_die("fork");
		if (!tracee)
			for (;;)
				pause();
		if (ptrace(PTRACE_SEIZE, tracee, 0, 0))
			wl_die("PTRACE_SEIZE");
	}
	tsc_wr = -1;
	if (want("tsc"))
		setup_tsc();
	setup_novdso();
}

static void check_gs(void)
{
	unsigned long v = 0;

	syscall(SYS_arch_prctl, ARCH_GET_GS, &v);
	if (v != gsbase)
		wl_fail("mm.gsbase", "GS base is %#lx, want %#lx", v, gsbase);
	else
		wl_pass("mm.gsbase");
}

static void check_named(void)
{
	char line[512];
	size_t off;

	if (!have_name)
		wl_skip("mm.anon_name", "no CONFIG_ANON_VMA_NAME here");
	else if (!maps_line("maps", named, line, sizeof(line)))
		wl_fail("mm.anon_name", "no mapping at %p", (void *)named);
	else if (!strstr(line, "[anon:" ANON_NAME "]"))
		wl_fail("mm.anon_name", "maps says %s", line);
	else if ((off = wl_check(named, 4 * PG, 11)) != (size_t)-1)
		wl_fail("mm.anon_name", "byte %zu differs", off);
	else
		wl_pass("mm.anon_name");
}

static void check_growsdown(void)
{
	char fl[256];
	size_t off;

	if (!vmflags((char *)growsdown + 4 * PG, fl, sizeof(fl)))
		wl_fail("mm.growsdown", "no mapping at %p", growsdown);
	else if (!strstr(fl, " gd"))
		wl_fail("mm.growsdown", "VmFlags lack gd:%s", fl);
	else if ((off = wl_check((char *)growsdown + 4 * PG, 4 * PG, 12)) !=
		 (size_t)-1)
		wl_fail("mm.growsdown", "byte %zu differs", off);
	else
		wl_pass("mm.growsdown");
}

static void check_guard(void)
{
	volatile char *p = guarded + PG;
	int faulted = 0;
	size_t off;

	if (!have_guard) {
		wl_skip("mm.guard", "no guard region set (WL_ZDTM_SET), or not supported here");
		return;
	}
	if (!sigsetjmp(jb, 1))
		(void)*p;
	else
		faulted = 1;
	if (!faulted)
		wl_fail("mm.guard", "the guard page at %p reads without a fault",
			(void *)p);
	else if ((off = wl_check(guarded, PG, 13)) != (size_t)-1)
		wl_fail("mm.guard", "byte %zu before the guard differs", off);
	else if (memcmp(guarded + 2 * PG, guard_after, 2 * PG))
		wl_fail("mm.guard", "the pages after the guard differ");
	else
		wl_pass("mm.guard");
}

static void check_numa(void)
{
	unsigned long mask = 0;
	int mode = -1;

	if (!have_numa && !have_vmanuma) {
		wl_skip("mm.numa", "no NUMA policy set (WL_ZDTM_SET)");
		return;
	}
	if (have_numa) {
		syscall(SYS_get_mempolicy, &mode, &mask, 64, NULL, 0);
		if (mode != MPOL_PREFERRED || mask != 1)
			wl_fail("mm.numa", "process policy is %d mask %#lx, want %d 0x1",
				mode, mask, MPOL_PREFERRED);
		else
			wl_pass("mm.numa");
	}
	if (have_vmanuma) {
		mode = -1;
		mask = 0;
		syscall(SYS_get_mempolicy, &mode, &mask, 64, bound,
			2 /* MPOL_F_ADDR */);
		if (mode != MPOL_BIND || mask != 1)
			wl_fail("mm.vmanuma", "mapping policy is %d mask %#lx, want %d 0x1",
				mode, mask, MPOL_BIND);
		else
			wl_pass("mm.vmanuma");
	}
}

static void check_prctls(void)
{
	int v;
	char c = 'c';

	if (have_spec) {
		v = prctl(PR_GET_SPECULATION_CTRL, PR_SPEC_STORE_BYPASS, 0, 0, 0);
		if (v < 0 || !(v & PR_SPEC_DISABLE))
			wl_fail("prctl.spec_ctrl", "store bypass control is %#x", v);
		else
			wl_pass("prctl.spec_ctrl");
	} else {
		wl_skip("prctl.spec_ctrl", "not controllable here");
	}
	v = prctl(PR_GET_IO_FLUSHER, 0, 0, 0, 0);
	if (!have_flusher)
		wl_skip("prctl.io_flusher", "PR_SET_IO_FLUSHER not permitted here");
	else if (v != 1)
		wl_fail("prctl.io_flusher", "PR_GET_IO_FLUSHER says %d", v);
	else
		wl_pass("prctl.io_flusher");
	if (tsc_wr < 0) {
		wl_skip("prctl.tsc", "no TSC mode set (WL_ZDTM_SET), or not supported here");
		return;
	}
	if (write(tsc_wr, &c, 1) != 1 || read(tsc_rd, &c, 1) != 1)
		wl_fail("prctl.tsc", "the child did not answer");
	else if (c != 'y')
		wl_fail("prctl.tsc", "the child's TSC mode is not PR_TSC_SIGSEGV");
	else
		wl_pass("prctl.tsc");
	wait(NULL);
}

/* a context that is gone (or moved) fails io_destroy with EINVAL */
static void check_aio(void)
{
	if (!aio_ctx)
		wl_skip("mm.aio", "no AIO context set (WL_ZDTM_SET)");
	else if (syscall(SYS_io_destroy, aio_ctx))
		wl_fail("mm.aio", "io_destroy of context %#llx: %s",
			(unsigned long long)aio_ctx, strerror(errno));
	else
		wl_pass("mm.aio");
}

static void check_mdwe_membarrier(void)
{
	int v;

	if (!have_mdwe) {
		wl_skip("prctl.mdwe", "not set (WL_ZDTM_SET), or not supported here");
	} else {
		v = prctl(PR_GET_MDWE, 0, 0, 0, 0);
		if (v != PR_MDWE_REFUSE_EXEC_GAIN)
			wl_fail("prctl.mdwe", "PR_GET_MDWE says %d", v);
		else
			wl_pass("prctl.mdwe");
	}
	if (!have_membarrier)
		wl_skip("mm.membarrier", "not supported here");
	else if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0))
		wl_fail("mm.membarrier", "MEMBARRIER_CMD_PRIVATE_EXPEDITED: %s",
			strerror(errno));
	else
		wl_pass("mm.membarrier");
}

/* the kernel may drop its page: only its flags are checked */
static void check_droppable(void)
{
	char fl[256];

	if (!droppable)
		wl_skip("mm.droppable", "not set (WL_ZDTM_SET)");
	else if (!vmflags(droppable, fl, sizeof(fl)) || !strstr(fl, " dp"))
		wl_fail("mm.droppable", "VmFlags lack dp:%s", fl);
	else
		wl_pass("mm.droppable");
}

/* our tracee is still ours: TracerPid names us */
static void check_tracee(void)
{
	char path[64], line[256];
	long tracer = -1;
	FILE *f;

	if (!tracee) {
		wl_skip("ptrace", "no tracee (WL_ZDTM_SET)");
		return;
	}
	snprintf(path, sizeof(path), "/proc/%d/status", tracee);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "TracerPid: %ld", &tracer) == 1)
			break;
	if (f)
		fclose(f);
	if (tracer != getpid())
		wl_fail("ptrace", "the tracee's TracerPid is %ld, want %d",
			tracer, getpid());
	else
		wl_pass("ptrace");
	kill(tracee, SIGKILL);
	waitpid(tracee, NULL, 0);
}

/* the descriptor table at READY (wl_fdtable.h) */
static struct wl_fdtable fdt0;

int main(int argc, char **argv)
{
	signal(SIGUSR1, on_usr1);
	setup(argc > 1 ? argv[1] : NULL);
	wl_fdt_take(&fdt0);
	wl_ready();
	while (!go)
		pause();
	wl_fdt_check("zdtm_mm.fd_table", &fdt0);
	check_gs();
	check_named();
	check_growsdown();
	check_guard();
	check_numa();
	check_prctls();
	check_aio();
	check_mdwe_membarrier();
	check_tracee();
	check_droppable();
	check_file_prot();
	check_novdso();
	return wl_done();
}
