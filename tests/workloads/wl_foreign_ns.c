// SPDX-License-Identifier: MIT
/*
 * wl_foreign_ns - state that lives in another namespace than its process's,
 * which crfs refuses by name (restore would put it back in the process's):
 *   thread-net, thread-uts, thread-ipc, thread-cgroup, thread-pidc,
 *   thread-mnt: a second thread unshares that namespace (pidc: a pid
 *   namespace for its children; mnt: with its own fs, as the kernel wants);
 *   thread-fs, thread-files: a second thread unshares its working directory
 *   (and chdirs to /dev) or its descriptor table;
 *   thread-pers: a second thread sets its own personality
 *   (ADDR_NO_RANDOMIZE);
 *   thread-sem: a second thread unshares its SysV semaphore undo list and
 *   makes one of its own (semop SEM_UNDO, in an IPC namespace of the
 *   process's own);
 *   sock-setns: a UDP socket made in a network namespace the process
 *   left again (setns back), bound to 127.0.0.1;
 *   sock-before: a UDP socket made before unshare(CLONE_NEWNET);
 *   sock-unix: a unix socketpair made in a network namespace the process
 *   left again.
 * After SIGUSR1 it checks the thread's namespace (or the socket's) is
 * still the one it made: a silent restore into the process's fails.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/syscall.h>
#include <linux/kcmp.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/sockios.h>
#include <netinet/in.h>

#include "wl_common.h"

static const char *mode;
static pid_t thread_tid;
static char thread_ns[64];	/* what the thread showed before */
static char ns_kind[32];
static unsigned long sock_ns;	/* the socket's namespace inode before */
static int sk = -1;
static volatile sig_atomic_t go;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int thread_ready;

static const struct {
	const char *mode, *kind;
	int flags;
} rows[] = {
	{ "thread-net", "net", CLONE_NEWNET },
	{ "thread-uts", "uts", CLONE_NEWUTS },
	{ "thread-ipc", "ipc", CLONE_NEWIPC },
	{ "thread-cgroup", "cgroup", CLONE_NEWCGROUP },
	{ "thread-pidc", "pid_for_children", CLONE_NEWPID },
	{ "thread-mnt", "mnt", CLONE_FS | CLONE_NEWNS },
	{ "thread-fs", "cwd", CLONE_FS },
	{ "thread-files", "fd", CLONE_FILES },
	{ "thread-pers", "personality", 0 },
	{ "thread-sem", "semundo", CLONE_SYSVSEM },
};

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static int link_of(pid_t tid, const char *kind, char *buf, size_t len)
{
	char path[96];
	ssize_t n;

	if (!strcmp(kind, "personality")) {
		int fd;

		snprintf(path, sizeof(path), "/proc/self/task/%d/personality",
			 tid);
		fd = open(path, O_RDONLY);
		n = fd < 0 ? -1 : read(fd, buf, len - 1);
		if (fd >= 0)
			close(fd);
		if (n < 0)
			return -1;
		buf[n] = '\0';
		return 0;
	}
	if (!strcmp(kind, "semundo")) {
		long r = syscall(SYS_kcmp, getpid(), tid, KCMP_SYSVSEM, 0, 0);

		if (r < 0)
			return -1;
		snprintf(buf, len, "%s", r ? "own" : "shared");
		return 0;
	}
	if (!strcmp(kind, "cwd") || !strcmp(kind, "fd"))
		snprintf(path, sizeof(path), "/proc/self/task/%d/%s", tid,
			 !strcmp(kind, "fd") ? "fd" : "cwd");
	else
		snprintf(path, sizeof(path), "/proc/self/task/%d/ns/%s", tid,
			 kind);
	if (!strcmp(kind, "fd")) {
		/* a table of its own: fd 100 is open there only */
		snprintf(path, sizeof(path), "/proc/self/task/%d/fd/100", tid);
		snprintf(buf, len, "%s", access(path, F_OK) ? "none" : "own");
		return 0;
	}
	n = readlink(path, buf, len - 1);
	/* a pid namespace no child entered yet has no link to show */
	if (n < 0 && errno == ENOENT && !strcmp(kind, "pid_for_children"))
		return snprintf(buf, len, "none"), 0;
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/*
 * An undo list of this thread's own: a semop with SEM_UNDO on a set of
 * the process's IPC namespace (main() made one for it, so the set goes
 * with the process whatever ends it)
 */
static void sem_undo_own(void)
{
	struct sembuf op = { .sem_num = 0, .sem_op = 1, .sem_flg = SEM_UNDO };
	int id = semget(IPC_PRIVATE, 1, 0600);

	if (id < 0 || semop(id, &op, 1))
		wl_die("semget/semop SEM_UNDO");
}

static void *thread_main(void *arg)
{
	int flags = *(int *)arg;
	sigset_t usr1;

	/* SIGUSR1 is the main thread's to take */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	thread_tid = gettid();
	if (!flags && personality(personality(0xffffffff) | ADDR_NO_RANDOMIZE) < 0)
		wl_die("personality in a thread");
	if (flags && unshare(flags))
		wl_die("unshare(%#x) in a thread", flags);
	if (flags == CLONE_FS && chdir("/dev"))
		wl_die("chdir /dev");
	if (flags == CLONE_FILES && dup2(0, 100) != 100)
		wl_die("dup2 100");
	if (flags == CLONE_SYSVSEM)
		sem_undo_own();
	if (link_of(thread_tid, ns_kind, thread_ns, sizeof(thread_ns)))
		wl_die("readlink own %s", ns_kind);
	pthread_mutex_lock(&lock);
	thread_ready = 1;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
	for (;;)
		pause();
	return NULL;
}

static void start_thread(int flags)
{
	static int f;
	pthread_t t;

	f = flags;
	if (pthread_create(&t, NULL, thread_main, &f))
		wl_die("pthread_create");
	pthread_mutex_lock(&lock);
	while (!thread_ready)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
}

static unsigned long netns_of_sock(int s)
{
	struct stat st;
	int ns = ioctl(s, SIOCGSKNS);

	if (ns < 0 || fstat(ns, &st))
		return 0;
	close(ns);
	return st.st_ino;
}

static int udp_socket(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	if (s < 0)
		wl_die("socket");
	/* lo of a fresh namespace is down: only a bind to any works there */
	if (bind(s, (struct sockaddr *)&a, sizeof(a)))
		a.sin_addr.s_addr = htonl(INADDR_ANY);
	if (a.sin_addr.s_addr == htonl(INADDR_ANY) &&
	    bind(s, (struct sockaddr *)&a, sizeof(a)))
		wl_die("bind");
	return s;
}

static void sock_setup(void)
{
	int own = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), sv[2];

	if (own < 0)
		wl_die("open own netns");
	if (!strcmp(mode, "sock-before")) {
		sk = udp_socket();
		if (unshare(CLONE_NEWNET))
			wl_die("unshare(CLONE_NEWNET)");
	} else {
		if (unshare(CLONE_NEWNET))
			wl_die("unshare(CLONE_NEWNET)");
		if (!strcmp(mode, "sock-unix")) {
			if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
				wl_die("socketpair");
			sk = sv[0];
		} else {
			sk = udp_socket();
		}
		if (setns(own, CLONE_NEWNET))
			wl_die("setns back");
	}
	close(own);
	sock_ns = netns_of_sock(sk);
	if (!sock_ns)
		wl_die("SIOCGSKNS");
}

static void check(void)
{
	char now[64];

	if (sk >= 0) {
		if (netns_of_sock(sk) == sock_ns)
			wl_pass("sock.netns");
		else
			wl_fail("sock.netns", "socket in net:[%lu], was net:[%lu]",
				netns_of_sock(sk), sock_ns);
		return;
	}
	if (link_of(thread_tid, ns_kind, now, sizeof(now)))
		wl_fail("thread.ns", "cannot read the thread's %s", ns_kind);
	else if (strcmp(now, thread_ns))
		wl_fail("thread.ns", "thread %d %s is %s, was %s", thread_tid,
			ns_kind, now, thread_ns);
	else
		wl_pass("thread.ns");
}

int main(int argc, char **argv)
{
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	mode = argc > 1 ? argv[1] : "";
	signal(SIGUSR1, on_usr1);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (!strcmp(mode, rows[i].mode))
			break;
	if (i < sizeof(rows) / sizeof(rows[0])) {
		snprintf(ns_kind, sizeof(ns_kind), "%s", rows[i].kind);
		if (rows[i].flags == CLONE_SYSVSEM && unshare(CLONE_NEWIPC))
			wl_die("unshare(CLONE_NEWIPC)");
		start_thread(rows[i].flags);
	} else if (!strncmp(mode, "sock-", 5)) {
		sock_setup();
	} else {
		wl_die("unknown mode '%s'", mode);
	}
	wl_ready();
	while (!go)
		pause();
	check();
	return wl_done();
}
