// SPDX-License-Identifier: MIT
/*
 * wl_peercred - SO_PEERCRED of unix sockets (zdtm sock_peercred): the
 * kernel takes it from the calling task at socketpair(), connect() and
 * listen().  The root makes a socketpair and a listener, forks a child
 * that becomes uid and gid 1234, listens itself and connects to the
 * root's listener; the root accepts and connects to the child's.  READY;
 * on SIGUSR1 (passed on to the child) each checks the pid, uid and gid
 * every one of its sockets reports.  Usage: wl_peercred [DIR] (unused).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "wl_common.h"
#include "wl_fdtable.h"

#define ID 1234

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static socklen_t name_of(struct sockaddr_un *a, pid_t pid)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1,
		 "crfs-peercred-%d", (int)pid);
	return offsetof(struct sockaddr_un, sun_path) + 1 +
	       strlen(a->sun_path + 1);
}

static int listener(pid_t pid)
{
	struct sockaddr_un a;
	socklen_t l = name_of(&a, pid);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	if (s < 0 || bind(s, (struct sockaddr *)&a, l) || listen(s, 4))
		wl_die("listener");
	return s;
}

static int connector(pid_t pid)
{
	struct sockaddr_un a;
	socklen_t l = name_of(&a, pid);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	if (s < 0 || connect(s, (struct sockaddr *)&a, l))
		wl_die("connect");
	return s;
}

static void check(const char *name, int s, pid_t pid, uid_t id)
{
	struct ucred u;
	socklen_t l = sizeof(u);

	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &u, &l))
		wl_fail(name, "SO_PEERCRED: %s", strerror(errno));
	else if (u.pid != pid || u.uid != id || u.gid != id)
		wl_fail(name, "pid %d uid %u gid %u, want %d %u %u", u.pid,
			u.uid, u.gid, pid, id, id);
	else
		wl_pass(name);
	fflush(stdout);
}

static int child(pid_t root, int sp, int root_l)
{
	int l, conn, acc;
	char b;

	close(root_l);
	if (setresgid(ID, ID, ID) || setresuid(ID, ID, ID))
		wl_die("become %d", ID);
	l = listener(getpid());
	conn = connector(root);
	if (write(conn, "l", 1) != 1)
		wl_die("tell the root");
	acc = accept(l, NULL, NULL);
	if (acc < 0 || read(acc, &b, 1) != 1)
		wl_die("accept");
	while (!go)
		pause();
	check("peercred.child.pair", sp, root, 0);
	check("peercred.child.listener", l, getpid(), ID);
	check("peercred.child.connected", conn, root, 0);
	check("peercred.child.accepted", acc, root, 0);
	return wl_done();
}

/* the descriptor table at READY (wl_fdtable.h) */
static struct wl_fdtable fdt0;

int main(void)
{
	int sp[2], l, acc, conn, st;
	pid_t me, kid;
	char b;

	wl_own_session();
	signal(SIGUSR1, on_usr1);
	me = getpid();
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp))
		wl_die("socketpair");
	l = listener(me);
	kid = fork();
	if (kid < 0)
		wl_die("fork");
	if (!kid) {
		close(sp[0]);
		exit(child(me, sp[1], l));
	}
	close(sp[1]);
	/* the child listens before it connects to us */
	acc = accept(l, NULL, NULL);
	if (acc < 0 || read(acc, &b, 1) != 1)
		wl_die("accept");
	conn = connector(kid);
	if (write(conn, "c", 1) != 1)
		wl_die("connect to the child");
	wl_fdt_take(&fdt0);
	wl_ready();
	while (!go)
		pause();
	wl_fdt_check("peercred.fd_table", &fdt0);
	check("peercred.root.pair", sp[0], me, 0);
	check("peercred.root.listener", l, me, 0);
	check("peercred.root.accepted", acc, kid, ID);
	check("peercred.root.connected", conn, kid, ID);
	kill(kid, SIGUSR1);
	if (waitpid(kid, &st, 0) != kid || !WIFEXITED(st) || WEXITSTATUS(st))
		wl_fail("peercred.child", "status %#x", st);
	return wl_done();
}
