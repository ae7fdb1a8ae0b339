// SPDX-License-Identifier: MIT
/*
 * wl_uts - a tree in a UTS namespace of its own (run under unshare --uts):
 * the root sets a hostname and domainname (with a space and at the 64-byte
 * limit, to exercise the escaping and the length) and forks a child; after
 * SIGUSR1 both check that they still see those names.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/utsname.h>

#include "wl_common.h"
#include "wl_fdtable.h"

#define HOST "crfs uts\\host"
#define DOMAIN "d123456789012345678901234567890123456789012345678901234567890123"

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static int names_ok(const char *who)
{
	struct utsname u;
	int bad = 0;

	if (uname(&u))
		wl_die("uname");
	if (strcmp(u.nodename, HOST)) {
		printf("FAIL uts.%s.hostname: '%s', want '%s'\n", who,
		       u.nodename, HOST);
		bad = 1;
	}
	if (strcmp(u.domainname, DOMAIN)) {
		printf("FAIL uts.%s.domainname: '%s', want '%s'\n", who,
		       u.domainname, DOMAIN);
		bad = 1;
	}
	fflush(stdout);
	return bad;
}

/* the descriptor table at READY (wl_fdtable.h) */
static struct wl_fdtable fdt0;

int main(void)
{
	int st;
	pid_t kid;

	wl_own_session();
	signal(SIGUSR1, on_usr1);
	if (sethostname(HOST, strlen(HOST)) ||
	    setdomainname(DOMAIN, strlen(DOMAIN)))
		wl_die("set the names (not in a uts namespace of its own?)");
	kid = fork();
	if (kid < 0)
		wl_die("fork");
	if (!kid) {
		while (!go)
			pause();
		exit(names_ok("child"));
	}
	wl_fdt_take(&fdt0);
	wl_ready();
	while (!go)
		pause();
	wl_fdt_check("uts.fd_table", &fdt0);
	if (names_ok("root"))
		wl_nfail++;
	else
		wl_pass("uts.root");
	kill(kid, SIGUSR1);
	if (waitpid(kid, &st, 0) != kid || !WIFEXITED(st) ||
	    WEXITSTATUS(st))
		wl_fail("uts.child", "child status %#x", st);
	else
		wl_pass("uts.child");
	return wl_done();
}
