// SPDX-License-Identifier: MIT
/*
 * SO_PEERCRED of a unix socket is the calling task's tgid, euid and egid
 * at socketpair(), at connect() (the accepted end) and at listen() (what
 * a connector gets): the kernel offers no way to set it.  So the call is
 * made by a short-lived helper with the saved pid (clone3 set_tid, free
 * again before the tree is made) and the saved uid and gid, sharing our
 * descriptor table (CLONE_FILES) so what it makes is ours.  Where that
 * pid is taken (by a process outside the tree), or the tree has a pid
 * namespace of its own (not made yet: the pid would be of ours), we make
 * the call ourselves and the socket names crfs-restore (docs/SUPPORT.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>
#include <linux/sched.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kh.h"
#include "files.h"

static int do_op(struct peer_op *op)
{
	switch (op->op) {
	case PEER_PAIR:
		return socketpair(AF_UNIX, op->type | SOCK_CLOEXEC, 0, op->sv);
	case PEER_LISTEN:
		return listen(op->sk, op->backlog);
	default:
		return connect(op->sk, op->addr, op->len);
	}
}

/* in the helper: our numbers are the parent's reserved ones */
static int __attribute__((noreturn)) helper(const struct crfs_file *as,
					    struct peer_op *op)
{
	int want[2] = { op->sv[0], op->sv[1] };

	/* raw calls: per task, not glibc's broadcast to the threads */
	if (syscall(SYS_setresgid, as->peer_gid, as->peer_gid, as->peer_gid) ||
	    syscall(SYS_setresuid, as->peer_uid, as->peer_uid, as->peer_uid) ||
	    do_op(op))
		_exit(errno & 0xff ?: EIO);
	if (op->op == PEER_PAIR &&
	    (dup3(op->sv[0], want[0], O_CLOEXEC) < 0 ||
	     dup3(op->sv[1], want[1], O_CLOEXEC) < 0))
		_exit(errno & 0xff ?: EIO);
	/* the table is ours too: the pair's first numbers must not stay
	 * open in it, or the socket outlives its last restored holder (a
	 * peer then never reads EOF) */
	if (op->op == PEER_PAIR) {
		close(op->sv[0]);
		close(op->sv[1]);
	}
	_exit(0);
}

static int reserve(struct peer_op *op)
{
	op->sv[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	op->sv[1] = op->sv[0] < 0 ? -1 : open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (op->sv[1] >= 0)
		return 0;
	if (op->sv[0] >= 0)
		close(op->sv[0]);
	return -1;
}

int peer_op(struct open_ctx *c, const struct crfs_file *as, struct peer_op *op)
{
	pid_t pid;
	int st;

	if (!as || as->peer_pid <= 0 || c->img->new_pidns)
		return do_op(op);
	if (op->op == PEER_PAIR && reserve(op))
		return -1;
	pid = kh_clone_with_pid(as->peer_pid, CLONE_FILES, NULL);
	if (!pid)
		helper(as, op);
	if (pid < 0) {
		/* the pid is taken: as crfs-restore (documented) */
		if (op->op == PEER_PAIR) {
			close(op->sv[0]);
			close(op->sv[1]);
		}
		return do_op(op);
	}
	if (waitpid(pid, &st, __WALL) != pid)
		st = EIO << 8;
	if (WIFEXITED(st) && !WEXITSTATUS(st))
		return 0;
	if (op->op == PEER_PAIR) {
		close(op->sv[0]);
		close(op->sv[1]);
	}
	errno = WIFEXITED(st) ? WEXITSTATUS(st) : EIO;
	return -1;
}
