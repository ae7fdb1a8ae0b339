// SPDX-License-Identifier: MIT
/*
 * wl_threadcreds - threads of one process with credentials of their own.
 *
 * Credentials belong to each thread in the kernel: glibc's setuid() and
 * friends change every thread (a signal broadcast), the raw syscalls only
 * the caller.  Three threads change theirs with raw syscalls:
 *
 *	A  uid/euid/suid 1001/1002/1003, gid 2001/2002/2003, groups {7, 8}
 *	B  still root, fsuid 1005 and fsgid 2005, CAP_NET_RAW dropped
 *	   from its effective set
 *	C  like the process (root, all caps)
 *
 * then they wait on a pipe.  After SIGUSR1 each thread reads its own
 * credentials back with raw syscalls and the main thread its own; every
 * difference is a FAIL.
 */
#define _GNU_SOURCE
#include <linux/capability.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>

#include "wl_common.h"
#include "wl_fdtable.h"

struct want {
	const char *name;
	uid_t uid[3], fsuid;
	gid_t gid[3], fsgid;
	int ngroups;
	gid_t groups[4];
	uint64_t drop_eff;	/* capability bits dropped from effective */
	int result;		/* 1 pass, -1 fail */
	char why[160];
};

static struct want want[3] = {
	{ "creds.thread_ids", { 1001, 1002, 1003 }, 1002,
	  { 2001, 2002, 2003 }, 2002, 2, { 7, 8 }, 0, 0, "" },
	{ "creds.thread_fsids_caps", { 0, 0, 0 }, 1005, { 0, 0, 0 }, 2005, 0,
	  { 0 }, 1ULL << CAP_NET_RAW, 0, "" },
	{ "creds.thread_same", { 0, 0, 0 }, 0, { 0, 0, 0 }, 0, 0, { 0 }, 0, 0,
	  "" },
};

static int go[2];
static volatile sig_atomic_t usr1;

static void on_usr1(int sig)
{
	(void)sig;
	usr1 = 1;
}

static uint64_t eff_caps(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return ~0ULL;
	return d[0].effective | (uint64_t)d[1].effective << 32;
}

static void set_own(struct want *w, uint64_t full)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (w->ngroups && syscall(SYS_setgroups, w->ngroups, w->groups))
		wl_die("setgroups");
	if (w->gid[0] && syscall(SYS_setresgid, w->gid[0], w->gid[1],
				 w->gid[2]))
		wl_die("setresgid");
	if (w->uid[0] && syscall(SYS_setresuid, w->uid[0], w->uid[1],
				 w->uid[2]))
		wl_die("setresuid");
	if (w->fsuid && !w->uid[0]) {
		syscall(SYS_setfsgid, w->fsgid);
		syscall(SYS_setfsuid, w->fsuid);
	}
	if (w->drop_eff) {
		if (syscall(SYS_capget, &h, d))
			wl_die("capget");
		full &= ~w->drop_eff;
		d[0].effective = (uint32_t)full;
		d[1].effective = (uint32_t)(full >> 32);
		if (syscall(SYS_capset, &h, d))
			wl_die("capset");
	}
}

static int check_own(struct want *w, uint64_t full)
{
	uid_t r, e, s;
	gid_t gr, ge, gs, g[8];
	int n, i;

	syscall(SYS_getresuid, &r, &e, &s);
	if (r != w->uid[0] || e != w->uid[1] || s != w->uid[2])
		return snprintf(w->why, sizeof(w->why), "uids %u/%u/%u", r, e,
				s), -1;
	syscall(SYS_getresgid, &gr, &ge, &gs);
	if (gr != w->gid[0] || ge != w->gid[1] || gs != w->gid[2])
		return snprintf(w->why, sizeof(w->why), "gids %u/%u/%u", gr,
				ge, gs), -1;
	/* setfsuid returns the old value; asking for -1 changes nothing */
	if ((uid_t)syscall(SYS_setfsuid, -1) != w->fsuid ||
	    (gid_t)syscall(SYS_setfsgid, -1) != w->fsgid)
		return snprintf(w->why, sizeof(w->why), "fsuid/fsgid"), -1;
	n = syscall(SYS_getgroups, 8, g);
	if (w->ngroups && n != w->ngroups)
		return snprintf(w->why, sizeof(w->why), "%d groups", n), -1;
	for (i = 0; w->ngroups && i < n; i++)
		if (g[i] != w->groups[i])
			return snprintf(w->why, sizeof(w->why), "group %u", g[i]), -1;
	if (!w->uid[0] && eff_caps() != (full & ~w->drop_eff))
		return snprintf(w->why, sizeof(w->why), "effective caps %llx",
				(unsigned long long)eff_caps()), -1;
	return 1;
}

static uint64_t full_caps;

static void *thread_main(void *arg)
{
	struct want *w = arg;
	char c;

	set_own(w, full_caps);
	if (read(go[0], &c, 1) != 1)
		w->result = -1;
	else
		w->result = check_own(w, full_caps);
	return NULL;
}

/* the descriptor table at READY (wl_fdtable.h) */
static struct wl_fdtable fdt0;

int main(void)
{
	struct want self = { "creds.main", { 0, 0, 0 }, 0, { 0, 0, 0 }, 0, 0,
			     { 0 }, 0, 0, "" };
	pthread_t t[3];
	sigset_t block;
	int i;

	setvbuf(stdout, NULL, _IONBF, 0);
	wl_own_session();
	if (getuid())
		wl_die("must run as root");
	if (pipe(go))
		wl_die("pipe");
	full_caps = eff_caps();
	signal(SIGUSR1, on_usr1);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &block, NULL);	/* threads inherit */
	for (i = 0; i < 3; i++)
		if (pthread_create(&t[i], NULL, thread_main, &want[i]))
			wl_die("pthread_create");
	pthread_sigmask(SIG_UNBLOCK, &block, NULL);
	usleep(100000);		/* the threads have set their own */
	wl_fdt_take(&fdt0);
	wl_ready();
	while (!usr1)
		pause();
	wl_fdt_check("threadcreds.fd_table", &fdt0);
	if (write(go[1], "xxx", 3) != 3)
		wl_die("write");
	for (i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		if (want[i].result == 1)
			wl_pass(want[i].name);
		else
			wl_fail(want[i].name, "%s", want[i].why);
	}
	if (check_own(&self, full_caps) == 1)
		wl_pass(self.name);
	else
		wl_fail(self.name, "%s", self.why);
	return wl_done();
}
