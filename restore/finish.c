// SPDX-License-Identifier: MIT
/*
 * The last step, done from outside: the restorer traps, we unmap it by
 * running munmap on its own "syscall" instruction (the task stops on the
 * way out, before it could fetch the next one), then load the saved
 * registers, XSAVE state and signal mask and let the task go.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kh.h"
#include "restore.h"
#include "restorer.h"

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -EINVAL)

static int child_gone(int st, int err_fd, char *err, size_t errlen)
{
	char msg[1024];
	ssize_t n = read(err_fd, msg, sizeof(msg) - 1);

	if (n > 0) {
		msg[n] = '\0';
		msg[strcspn(msg, "\n")] = '\0';
		return ERR("%s", msg);
	}
	if (WIFSIGNALED(st))
		return ERR("restoring process died of signal %d", WTERMSIG(st));
	return ERR("restoring process exited with status %d", WEXITSTATUS(st));
}

static int load_task_state(pid_t pid, struct proc_image *p)
{
	struct user_regs_struct regs;
	int ret;

	memcpy(&regs, p->th.regs, sizeof(regs));
	kh_syscall_restart(&regs, KH_RESTART_FRESH);
	ret = kh_set_regs(pid, &regs);
	ret = ret ?: kh_set_xstate(pid, p->th.xstate, p->th.xstate_size);
	return ret ?: kh_set_sigmask(pid, p->th.blocked);
}

int restore_finish(pid_t pid, struct proc_image *p, int err_fd, char *err,
		   size_t errlen)
{
	struct user_regs_struct trap;
	struct kh_remote r;
	long ret;
	int st;

	if (waitpid(pid, &st, __WALL) < 0)
		return ERR("waitpid: %s", strerror(errno));
	if (WIFEXITED(st) || WIFSIGNALED(st))
		return child_gone(st, err_fd, err, errlen);
	if (!WIFSTOPPED(st) || WSTOPSIG(st) != SIGTRAP || (st >> 16)) {
		kh_get_regs(pid, &trap);
		kill(pid, SIGKILL);
		return ERR("restorer stopped by signal %d at 0x%llx",
			   WSTOPSIG(st), trap.rip);
	}
	ret = kh_get_regs(pid, &trap);
	ret = ret ?: kh_remote_open(&r, pid, trap.rax + RST_GADGET_OFF);
	if (ret)
		goto fail;
	ret = kh_remote_syscall(&r, __NR_munmap, trap.rax, trap.rdx, 0, 0, 0, 0);
	close(r.memfd);
	if (ret)
		goto fail;
	ret = load_task_state(pid, p);
	ret = ret ?: kh_detach(pid, 0);
	if (!ret)
		return 0;
fail:
	kill(pid, SIGKILL);
	return ERR("cannot hand over to the restored process: %s",
		   strerror((int)-ret));
}
