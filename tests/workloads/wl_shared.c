// SPDX-License-Identifier: MIT
/*
 * wl_shared - processes that share a descriptor table (CLONE_FILES) or
 * cwd, root and umask (CLONE_FS) with their parent without being its
 * threads, checkpointed, killed and restored.
 *
 * usage: wl_shared DIR		the sharing test
 *	  wl_shared DIR sibling	a child X and, cloned by X with CLONE_PARENT,
 *				its sibling Y sharing X's descriptor table:
 *				for the refusal of sharing between two
 *				processes neither of which is the other's
 *				parent
 *
 * R clones F with CLONE_FILES and S with CLONE_FS.  Before READY: F opens
 * DIR/before (R checks that it sees that fd), S chdir()s to DIR/a and sets
 * umask 027.  After SIGUSR1 (R passes it on), through a shared page:
 * F opens DIR/f_after, R must see it at the same fd; R opens DIR/r_after,
 * F must see it; S chdir()s to DIR/b and sets umask 077, R must see both;
 * R chdir()s to DIR/c, S must see it.  R prints every verdict; the
 * children only report through the page, so lines never interleave.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "wl_common.h"

struct page {
	volatile int step;	/* protocol position, see main() */
	volatile int f_fd, r_fd;	/* the fds each side opened */
	volatile int f_ok, s_ok;	/* the children's verdicts */
	char f_msg[128], s_msg[128];
};

static struct page *pg;
static const char *dir;
static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

/* wait until step reaches n, 10 s at most */
static int wait_step(int n)
{
	int i;

	for (i = 0; i < 10000 && pg->step < n; i++)
		usleep(1000);
	return pg->step >= n;
}

static ino_t ino_of(const char *name)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) ? 0 : st.st_ino;
}

static bool fd_is(int fd, const char *name)
{
	struct stat st;

	return fd >= 0 && !fstat(fd, &st) && st.st_ino == ino_of(name);
}

static int open_in(const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return open(path, O_RDWR | O_CREAT, 0600);
}

static int files_child(void *arg)
{
	(void)arg;
	pg->f_fd = open_in("before");
	pg->step = 1;
	while (!go)
		pause();
	pg->f_fd = open_in("f_after");
	pg->step = 3;
	if (!wait_step(4))
		snprintf(pg->f_msg, sizeof(pg->f_msg), "R never opened its file");
	else if (!fd_is(pg->r_fd, "r_after"))
		snprintf(pg->f_msg, sizeof(pg->f_msg),
			 "R's new fd %d is not r_after here", pg->r_fd);
	else
		pg->f_ok = 1;
	pg->step = 5;
	return 0;
}

static bool cwd_is(const char *name)
{
	struct stat st;

	return !stat(".", &st) && st.st_ino == ino_of(name);
}

static int fs_child(void *arg)
{
	char path[4096];

	(void)arg;
	snprintf(path, sizeof(path), "%s/a", dir);
	if (chdir(path))
		return 1;
	umask(027);
	while (pg->step < 1)
		usleep(1000);
	pg->step = 2;
	while (!go)
		pause();
	if (!wait_step(5))
		return 1;
	snprintf(path, sizeof(path), "%s/b", dir);
	if (chdir(path))
		return 1;
	umask(077);
	pg->step = 6;
	if (!wait_step(7))
		snprintf(pg->s_msg, sizeof(pg->s_msg), "R never moved");
	else if (!cwd_is("c"))
		snprintf(pg->s_msg, sizeof(pg->s_msg), "R's chdir to c not seen");
	else
		pg->s_ok = 1;
	pg->step = 8;
	return 0;
}

static pid_t spawn(int (*fn)(void *), int flags)
{
	size_t len = 256 << 10;
	char *stack = mmap(NULL, len, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	pid_t pid;

	if (stack == MAP_FAILED)
		wl_die("mmap stack");
	pid = clone(fn, stack + len, flags | SIGCHLD, NULL);
	if (pid < 0)
		wl_die("clone 0x%x", flags);
	return pid;
}

static void check_files(pid_t f)
{
	int mark = wl_mark();

	if (!fd_is(pg->f_fd, "before"))
		wl_fail("shared.files.before", "F's fd %d is not 'before' here",
			pg->f_fd);
	kill(f, SIGUSR1);
	if (!wait_step(3)) {
		wl_fail("shared.files", "F never opened its file");
		return;
	}
	if (!fd_is(pg->f_fd, "f_after"))
		wl_fail("shared.files", "F's new fd %d is not f_after here",
			pg->f_fd);
	pg->r_fd = open_in("r_after");
	pg->step = 4;
	if (!wait_step(5) || !pg->f_ok)
		wl_fail("shared.files", "in F: %s", pg->f_msg);
	wl_verdict("shared.files", mark);
}

static void check_fs(pid_t s)
{
	int mark = wl_mark();
	char path[4096];
	mode_t m;

	if (!cwd_is("a"))
		wl_fail("shared.fs.before", "S's chdir to a not seen");
	m = umask(027);
	if (m != 027)
		wl_fail("shared.fs.before", "umask %03o, S set 027", m);
	kill(s, SIGUSR1);
	if (!wait_step(6)) {
		wl_fail("shared.fs", "S never moved");
		return;
	}
	m = umask(077);
	if (!cwd_is("b") || m != 077)
		wl_fail("shared.fs", "S's chdir to b or umask 077 (%03o) not seen",
			m);
	snprintf(path, sizeof(path), "%s/c", dir);
	if (chdir(path))
		wl_fail("shared.fs", "chdir c: %m");
	pg->step = 7;
	if (!wait_step(8) || !pg->s_ok)
		wl_fail("shared.fs", "in S: %s", pg->s_msg);
	wl_verdict("shared.fs", mark);
}

static int vm_child(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return 0;
}

/* X: clones Y into our parent's children, with our table, and waits */
static void siblings(void)
{
	int p[2];
	pid_t x;
	char c;

	if (pipe(p))
		wl_die("pipe");
	x = fork();
	if (x < 0)
		wl_die("fork");
	if (!x) {
		close(p[0]);
		spawn(vm_child, CLONE_FILES | CLONE_PARENT);
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		close(p[1]);
		for (;;)
			pause();
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1)
		wl_die("sibling not made");
	close(p[0]);
}

static void mkdirs(void)
{
	static const char *const d[] = { "a", "b", "c" };
	char path[4096];
	size_t i;

	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, d[i]);
		if (mkdir(path, 0755) && errno != EEXIST)
			wl_die("mkdir %s", path);
	}
}

int main(int argc, char **argv)
{
	pid_t f, s;
	int st, ok = 1;

	if (argc < 2)
		wl_die("usage: wl_shared DIR [sibling]");
	dir = argv[1];
	wl_own_session();
	signal(SIGUSR1, on_usr1);
	if (argc > 2 && !strcmp(argv[2], "sibling")) {
		siblings();
		wl_ready();
		for (;;)
			pause();
	}
	mkdirs();
	pg = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (pg == MAP_FAILED)
		wl_die("mmap");
	f = spawn(files_child, CLONE_FILES);
	s = spawn(fs_child, CLONE_FS);
	if (!wait_step(2))
		wl_die("children not ready");
	wl_ready();
	while (!go)
		pause();
	check_files(f);
	check_fs(s);
	if (waitpid(f, &st, 0) != f || st)
		ok = 0;
	if (waitpid(s, &st, 0) != s || st)
		ok = 0;
	if (ok)
		wl_pass("shared.children");
	else
		wl_fail("shared.children", "a child failed (status 0x%x)", st);
	return wl_done();
}
