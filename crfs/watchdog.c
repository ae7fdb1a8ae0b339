// SPDX-License-Identifier: MIT
/*
 * The watchdog: a small process forked at mount that outlives a daemon
 * killed while it holds a container frozen.  ptrace lets the tasks go by
 * itself when its tracer dies, but a TCP connection stays in repair mode
 * and its packets stay dropped by the nft lock: those the daemon hands
 * over here (a copy of the socket and its addresses) as it takes them,
 * and takes back (synchronously, so that no copy outlives a kill) as it
 * lets them go.  When the daemon's end of the socket pair closes with
 * connections still handed over, the watchdog turns repair off and lifts
 * each one's lock in its socket's network namespace, then exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "kh.h"
#include "kh_ns.h"
#include "watchdog.h"

enum { WD_HOLD = 1, WD_FORGET, WD_SYNC };

struct wd_msg {
	uint32_t op;
	int reuse;		/* WD_HOLD: SO_REUSEADDR before repair mode */
	uint64_t key;
	struct kh_tcp_conn conn;
};

struct wd_conn {
	uint64_t key;
	int fd;
	int reuse;		/* SO_REUSEADDR when handed over */
	struct kh_tcp_conn conn;
};

static int wd_sock = -1;	/* the daemon's end */
static pid_t wd_pid;
static uint64_t wd_next_key = 1;

/* one message, with a descriptor if fd >= 0 */
static int wd_send(const struct wd_msg *m, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { (void *)m, sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;

	if (fd >= 0) {
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	return sendmsg(wd_sock, &mh, MSG_NOSIGNAL) == sizeof(*m) ? 0 : -EIO;
}

/* a message and its descriptor (-1 if none); 0 at the daemon's end */
static ssize_t wd_recv(int sk, struct wd_msg *m, int *fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { m, sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	ssize_t n;

	*fd = -1;
	do
		n = recvmsg(sk, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	cm = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL;
	if (cm && cm->cmsg_type == SCM_RIGHTS)
		memcpy(fd, CMSG_DATA(cm), sizeof(int));
	return n;
}

/* in the socket's own network namespace, then back in ours */
static void release_one(struct wd_conn *w, int own_net)
{
	int ns = ioctl(w->fd, SIOCGSKNS);

	kh_tcp_repair_off(w->fd, w->reuse);
	if (ns >= 0 && !setns(ns, CLONE_NEWNET)) {
		kh_tcp_lock(&w->conn, 1, false);
		setns(own_net, CLONE_NEWNET);
	}
	if (ns >= 0)
		close(ns);
	close(w->fd);
}

static void forget(struct wd_conn *c, size_t *n, uint64_t key)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (c[i].key == key) {
			close(c[i].fd);
			c[i] = c[--*n];
			return;
		}
}

static int hold(struct wd_conn **c, size_t *n, const struct wd_msg *m,
		int fd)
{
	struct wd_conn *nc = realloc(*c, (*n + 1) * sizeof(**c));

	if (!nc)
		return -ENOMEM;
	*c = nc;
	nc[(*n)++] = (struct wd_conn){ m->key, fd, m->reuse, m->conn };
	return 0;
}

static __attribute__((noreturn)) void watchdog_run(int sk)
{
	struct wd_conn *c = NULL;
	struct wd_msg m;
	size_t i, n = 0;
	int fd, own_net = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);

	prctl(PR_SET_NAME, "crfs-watchdog", 0, 0, 0);
	/* the daemon's terminal signals are not ours: we end with it */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	while (wd_recv(sk, &m, &fd) > 0) {
		if (m.op == WD_HOLD && fd >= 0 && hold(&c, &n, &m, fd))
			close(fd);
		else if (m.op == WD_FORGET)
			forget(c, &n, m.key);
		else if (m.op == WD_SYNC)
			send(sk, &m, sizeof(m), MSG_NOSIGNAL);
	}
	/* the daemon is gone: what it still held goes on */
	for (i = 0; i < n; i++)
		release_one(&c[i], own_net);
	_exit(0);
}

/* no copy of /dev/fuse (a dead daemon's mount must end), no terminal */
static __attribute__((noreturn)) void watchdog_child(int sk)
{
	int null = open("/dev/null", O_RDWR);

	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
	    dup2(null, 2) < 0 || dup2(sk, 3) < 0)
		_exit(1);
	close_range(4, ~0U, 0);
	setsid();
	watchdog_run(3);
}

int watchdog_start(void)
{
	int sp[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp))
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(sp[0]);
		close(sp[1]);
		return -errno;
	}
	if (pid == 0) {
		close(sp[0]);
		watchdog_child(sp[1]);
	}
	close(sp[1]);
	wd_sock = sp[0];
	wd_pid = pid;
	return 0;
}

/* at the end: it sees our end close, finds nothing held, and exits */
void watchdog_stop(void)
{
	if (wd_sock < 0)
		return;
	close(wd_sock);
	wd_sock = -1;
	while (waitpid(wd_pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* reuse: its SO_REUSEADDR, read before repair mode (kh_tcp_reuse) */
uint64_t watchdog_hold_tcp(int fd, const struct kh_tcp_conn *conn, int reuse)
{
	struct wd_msg m = { .op = WD_HOLD, .reuse = reuse,
			    .key = wd_next_key, .conn = *conn };

	if (wd_sock < 0 || wd_send(&m, fd))
		return 0;
	return wd_next_key++;
}

void watchdog_forget(uint64_t key)
{
	struct wd_msg m = { .op = WD_FORGET, .key = key };

	if (wd_sock >= 0 && key)
		wd_send(&m, -1);
}

/* after the forgets: the watchdog has closed its copies */
void watchdog_sync(void)
{
	struct wd_msg m = { .op = WD_SYNC };
	int fd;

	if (wd_sock < 0 || wd_send(&m, -1))
		return;
	if (wd_recv(wd_sock, &m, &fd) <= 0) {
		close(wd_sock);		/* it died: carry on without */
		wd_sock = -1;
	}
	if (fd >= 0)
		close(fd);
}
