// SPDX-License-Identifier: MIT
/*
 * wl_userns - a tree in a user namespace of its own.
 *
 *   wl_userns [thread]   run under unshare --user --map-root-user --fork
 *                        (with or without other namespaces)
 *   wl_userns pidmaps    a child made with CLONE_NEWUSER | CLONE_NEWPID,
 *                        init of its pid namespace, whose maps we write
 *                        ("0 100000 65536", setgroups allow); it becomes
 *                        root inside, and its child takes groups other
 *                        than its own (inside: setgroups allowed)
 *   wl_userns maps       makes the namespace itself: a child becomes uid
 *                        and gid 100000 with groups 0 and 100005, unshares
 *                        a user namespace, and we write setgroups deny and
 *                        "0 100000 65536" as newuidmap would; that child
 *                        is the tree's root
 *
 * The root forks a child that changes its credentials inside (maps: uid
 * and gid 1000; otherwise: capabilities down to CAP_NET_BIND_SERVICE), and
 * with "thread" starts a thread.  Each records what it sees of itself (its
 * maps, setgroups, ids, groups and capabilities as the namespace shows
 * them, the namespace's owner, which of its other namespaces the user
 * namespace owns, its pid and time offsets) and after SIGUSR1 checks that
 * every bit is the same.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <grp.h>
#include <stdbool.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <linux/nsfs.h>

#include "wl_common.h"
#include "wl_fdtable.h"

static volatile sig_atomic_t go;
static char thread_before[4096];
static int thread_bad = -1;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void add_file(char *buf, size_t len, const char *path)
{
	char tmp[2048];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	n = fd < 0 ? -1 : read(fd, tmp, sizeof(tmp) - 1);
	if (fd >= 0)
		close(fd);
	tmp[n < 0 ? 0 : n] = '\0';
	snprintf(buf + strlen(buf), len - strlen(buf), "%s:\n%s", path, tmp);
}

/* the lines of /proc/thread-self/status about credentials */
static void add_status(char *buf, size_t len)
{
	static const char *const keys[] = { "Uid:", "Gid:", "Groups:",
		"CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:", NULL };
	char tmp[4096], *line, *cur;
	ssize_t n;
	int fd = open("/proc/thread-self/status", O_RDONLY), i;

	n = fd < 0 ? -1 : read(fd, tmp, sizeof(tmp) - 1);
	if (fd >= 0)
		close(fd);
	tmp[n < 0 ? 0 : n] = '\0';
	for (cur = tmp; (line = strsep(&cur, "\n"));)
		for (i = 0; keys[i]; i++)
			if (!strncmp(line, keys[i], strlen(keys[i])))
				snprintf(buf + strlen(buf), len - strlen(buf),
					 "%s\n", line);
}

/* who owns each other namespace: our user namespace, one outside, or? */
static void add_owners(char *buf, size_t len)
{
	static const char *const kinds[] = { "uts", "ipc", "net", "pid", "mnt",
					     "time", "cgroup", NULL };
	struct stat user, st;
	char path[64];
	int i, fd, ufd;
	uid_t owner = -1;

	if (stat("/proc/thread-self/ns/user", &user))
		wl_die("stat ns/user");
	fd = open("/proc/thread-self/ns/user", O_RDONLY);
	if (fd < 0 || ioctl(fd, NS_GET_OWNER_UID, &owner))
		wl_die("NS_GET_OWNER_UID");
	close(fd);
	snprintf(buf + strlen(buf), len - strlen(buf), "owner %d\n", (int)owner);
	for (i = 0; kinds[i]; i++) {
		snprintf(path, sizeof(path), "/proc/thread-self/ns/%s", kinds[i]);
		fd = open(path, O_RDONLY);
		ufd = fd < 0 ? -1 : ioctl(fd, NS_GET_USERNS);
		snprintf(buf + strlen(buf), len - strlen(buf), "%s owned by %s\n",
			 kinds[i],
			 ufd < 0 ? (errno == EPERM ? "an outer user namespace" : "?") :
			 fstat(ufd, &st) ? "?" :
			 st.st_ino == user.st_ino ? "ours" : "another");
		if (ufd >= 0)
			close(ufd);
		if (fd >= 0)
			close(fd);
	}
}

static void view(char *buf, size_t len)
{
	uid_t r, e, s;
	gid_t gr, ge, gs, groups[64];
	int i, n;

	buf[0] = '\0';
	getresuid(&r, &e, &s);
	getresgid(&gr, &ge, &gs);
	snprintf(buf, len, "pid %d tid %ld\nuids %u %u %u fsuid %d\ngids %u %u %u fsgid %d\ngroups",
		 getpid(), syscall(SYS_gettid), r, e, s, setfsuid(-1), gr, ge, gs,
		 setfsgid(-1));
	n = getgroups(64, groups);
	for (i = 0; i < n; i++)
		snprintf(buf + strlen(buf), len - strlen(buf), " %u", groups[i]);
	snprintf(buf + strlen(buf), len - strlen(buf), "\n");
	add_file(buf, len, "/proc/self/uid_map");
	add_file(buf, len, "/proc/self/gid_map");
	add_file(buf, len, "/proc/self/setgroups");
	add_file(buf, len, "/proc/self/timens_offsets");
	add_status(buf, len);
	add_owners(buf, len);
}

/* 0 if the same; else a FAIL line for each line that changed */
static int same(const char *who, const char *before, const char *after)
{
	char *b = strdup(before), *a = strdup(after), *bl, *al, *bc = b, *ac = a;
	int bad = 0;

	for (;;) {
		bl = strsep(&bc, "\n");
		al = strsep(&ac, "\n");
		if (!bl && !al)
			break;
		if (bl && al && !strcmp(bl, al))
			continue;
		printf("FAIL userns.%s: '%s' is now '%s'\n", who, bl ? bl : "",
		       al ? al : "");
		bad = 1;
	}
	free(b);
	free(a);
	return bad;
}

static void *thread_main(void *arg)
{
	char now[4096];

	(void)arg;
	view(thread_before, sizeof(thread_before));
	while (!go)
		usleep(10000);
	view(now, sizeof(now));
	thread_bad = same("thread", thread_before, now);
	return NULL;
}

/* the child: credentials of its own, changed inside the namespace */
/* groups other than the root's: 0 inside, or none if that is what it has */
static void other_groups(void)
{
	gid_t g[64], zero = 0;
	int n = getgroups(64, g);

	if (n == 1 && g[0] == 0 ? setgroups(0, NULL) : setgroups(1, &zero))
		wl_die("setgroups inside");
}

static int child(bool maps, bool groups)
{

	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = { { 0 } };
	char before[4096], now[4096];

	if (groups)
		other_groups();
	if (maps) {
		if (setresgid(1000, 1000, 1000) || setresuid(1000, 1000, 1000))
			wl_die("setresuid 1000 inside");
	} else {
		d[0].effective = d[0].permitted = 1u << CAP_NET_BIND_SERVICE;
		if (syscall(SYS_capset, &h, d))
			wl_die("capset");
	}
	view(before, sizeof(before));
	while (!go)
		pause();
	view(now, sizeof(now));
	return same("child", before, now);
}

/* the descriptor table at READY (wl_fdtable.h) */
static struct wl_fdtable fdt0;

static int root(bool maps, bool thread, bool groups)
{
	char before[4096], now[4096];
	pthread_t t;
	pid_t kid;
	int st;

	signal(SIGUSR1, on_usr1);
	if (getuid() != 0)
		wl_die("not root inside a user namespace (uid %u)", getuid());
	kid = fork();
	if (kid < 0)
		wl_die("fork");
	if (!kid)
		exit(child(maps, groups));
	if (thread && pthread_create(&t, NULL, thread_main, NULL))
		wl_die("pthread_create");
	while (thread && !thread_before[0])
		usleep(1000);
	view(before, sizeof(before));
	printf("VIEW root\n%sEND\n", before);
	wl_fdt_take(&fdt0);
	wl_ready();
	while (!go)
		pause();
	wl_fdt_check("userns.fd_table", &fdt0);
	view(now, sizeof(now));
	if (!same("root", before, now))
		wl_pass("userns.root");
	else
		wl_nfail++;
	kill(kid, SIGUSR1);
	if (waitpid(kid, &st, 0) != kid || !WIFEXITED(st) || WEXITSTATUS(st))
		wl_fail("userns.child", "child status %#x", st);
	else
		wl_pass("userns.child");
	if (thread) {
		pthread_join(t, NULL);
		if (thread_bad)
			wl_fail("userns.thread", "its view changed");
		else
			wl_pass("userns.thread");
	}
	return wl_done();
}

static void write_file(pid_t pid, const char *name, const char *text)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		wl_die("write %s", path);
	close(fd);
}

/*
 * The maps of kid's user namespace, setgroups first; then kid may go on
 * (a byte on go) and its exit status is ours.
 */
static int write_maps(pid_t kid, bool deny, int go)
{
	int st;

	if (deny)
		write_file(kid, "setgroups", "deny");
	write_file(kid, "uid_map", "0 100000 65536\n");
	write_file(kid, "gid_map", "0 100000 65536\n");
	if (write(go, "g", 1) != 1)
		wl_die("handshake");
	if (waitpid(kid, &st, 0) != kid)
		wl_die("waitpid");
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

/* init of a pid namespace its user namespace owns, root inside */
static int with_pid_maps(void)
{
	int to[2];
	pid_t kid;
	char c;

	if (pipe(to))
		wl_die("pipe");
	kid = syscall(SYS_clone, CLONE_NEWUSER | CLONE_NEWPID | SIGCHLD, 0, 0,
		      0, 0);
	if (kid < 0)
		wl_die("clone");
	if (!kid) {
		close(to[1]);
		if (read(to[0], &c, 1) != 1)
			wl_die("handshake");
		close(to[0]);
		if (setresgid(0, 0, 0) || setresuid(0, 0, 0))
			wl_die("become root inside");
		wl_own_session();
		exit(root(false, false, true));
	}
	close(to[0]);
	return write_maps(kid, false, to[1]);
}

/* newuidmap-style: the child unshares, we write its maps from outside */
static int with_maps(void)
{
	gid_t groups[] = { 0, 100005 };
	int to[2], from[2];
	pid_t kid;
	char c;

	if (pipe(to) || pipe(from))
		wl_die("pipe");
	kid = fork();
	if (kid < 0)
		wl_die("fork");
	if (!kid) {
		close(to[1]);
		close(from[0]);
		if (setgroups(2, groups) || setresgid(100000, 100000, 100000) ||
		    setresuid(100000, 100000, 100000) ||
		    unshare(CLONE_NEWUSER))
			wl_die("become 100000 in a new user namespace");
		if (write(from[1], "u", 1) != 1 || read(to[0], &c, 1) != 1)
			wl_die("handshake");
		close(to[0]);
		close(from[1]);
		wl_own_session();
		exit(root(true, false, false));
	}
	close(to[0]);
	close(from[1]);
	if (read(from[0], &c, 1) != 1)
		wl_die("the child did not unshare");
	return write_maps(kid, true, to[1]);
}

static bool has_arg(int argc, char **argv, const char *what)
{
	int i;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], what))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	if (has_arg(argc, argv, "maps"))
		return with_maps();
	if (has_arg(argc, argv, "pidmaps"))
		return with_pid_maps();
	wl_own_session();
	return root(false, has_arg(argc, argv, "thread"), false);
}
