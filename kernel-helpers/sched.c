// SPDX-License-Identifier: MIT
/*
 * Scheduling attributes of one thread, read and set from outside by tid:
 * policy and its flags, nice, rt priority (sched_getattr/setattr), CPU
 * affinity, I/O priority (ioprio_get/set with IOPRIO_WHO_PROCESS, which
 * takes a tid) and timer slack (/proc/TID/timerslack_ns, which is the
 * thread's own, as prctl(PR_GET_TIMERSLACK) is).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "kh.h"

/* the kernel's struct sched_attr, SCHED_ATTR_SIZE_VER1 (with util clamps) */
struct ksched_attr {
	uint32_t size;
	uint32_t policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime, deadline, period;
	uint32_t util_min, util_max;
};

#define SCHED_ATTR_SIZE_VER0	48
#ifndef SCHED_FLAG_RESET_ON_FORK
#define SCHED_FLAG_RESET_ON_FORK 0x01
#endif
#define IOPRIO_WHO_PROCESS_	1	/* <linux/ioprio.h> clashes with glibc */
#define IOPRIO_CLASS_SHIFT_	13
#define UCLAMP_MAX_DEFAULT	1024	/* SCHED_CAPACITY_SCALE */

static int slack_path(pid_t tid, char *path, size_t len)
{
	/* not under task/: the file lives in the tgid directory only, but
	 * /proc/TID reaches any thread and means that thread */
	return snprintf(path, len, "/proc/%d/timerslack_ns", tid) < 0 ?
	       -EINVAL : 0;
}

static int get_slack(pid_t tid, uint64_t *ns)
{
	char path[64], buf[32];
	ssize_t n;
	int fd;

	slack_path(tid, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = '\0';
	return sscanf(buf, "%lu", ns) == 1 ? 0 : -EIO;
}

static int set_slack(pid_t tid, uint64_t ns)
{
	char path[64], buf[32];
	int fd, n, ret = 0;

	slack_path(tid, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%lu", ns);
	if (write(fd, buf, n) != n)
		ret = -errno ?: -EIO;
	close(fd);
	return ret;
}

/* *clamped: utilization clamps other than the defaults are in force */
int kh_sched_get(pid_t tid, struct crfs_sched *s, bool *clamped)
{
	struct ksched_attr a = { 0 };
	long r;

	memset(s, 0, sizeof(*s));
	if (syscall(SYS_sched_getattr, tid, &a, sizeof(a), 0))
		return -errno;
	s->policy = a.policy;
	s->reset_on_fork = !!(a.flags & SCHED_FLAG_RESET_ON_FORK);
	s->rt_priority = a.priority;
	/* a kernel without CONFIG_UCLAMP_TASK reports 0 for both */
	*clamped = a.util_min || (a.util_max && a.util_max != UCLAMP_MAX_DEFAULT);
	/* sched_getattr gives no nice for an RT thread, which still has one */
	errno = 0;
	r = getpriority(PRIO_PROCESS, tid);
	if (r == -1 && errno)
		return -errno;
	s->nice = (int)r;
	r = syscall(SYS_sched_getaffinity, tid, sizeof(s->affinity),
		    s->affinity);
	if (r < 0)
		return -errno;
	r = syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS_, tid);
	if (r < 0)
		return -errno;
	s->ioprio_class = (int)(r >> IOPRIO_CLASS_SHIFT_);
	s->ioprio_level = (int)(r & ((1 << IOPRIO_CLASS_SHIFT_) - 1));
	return get_slack(tid, &s->timerslack_ns);
}

static int set_affinity(pid_t tid, const struct crfs_sched *s)
{
	uint64_t now[CRFS_MAX_CPUS / 64] = { 0 };

	if (syscall(SYS_sched_setaffinity, tid, sizeof(s->affinity),
		    s->affinity))
		return -errno;
	/* the kernel drops CPUs this host lacks without a word */
	if (syscall(SYS_sched_getaffinity, tid, sizeof(now), now) < 0)
		return -errno;
	return memcmp(now, s->affinity, sizeof(now)) ? -ENXIO : 0;
}

/*
 * In this order: timer slack first (setting an RT policy zeroes it, and
 * the kernel ignores writes for RT threads), the policy late in the step.
 * *step names what failed.
 */
int kh_sched_set(pid_t tid, const struct crfs_sched *s, const char **step)
{
	struct ksched_attr a = {
		.size = SCHED_ATTR_SIZE_VER0,
		.policy = s->policy,
		.flags = s->reset_on_fork ? SCHED_FLAG_RESET_ON_FORK : 0,
		.nice = s->nice,
		.priority = s->rt_priority,
	};
	int ret;

	*step = "timer slack";
	/* 0 is an RT thread's; written, it would mean "the default" */
	if (s->timerslack_ns && (ret = set_slack(tid, s->timerslack_ns)))
		return ret;
	*step = "nice";
	if (setpriority(PRIO_PROCESS, tid, s->nice))
		return -errno;
	*step = "CPU affinity";
	ret = set_affinity(tid, s);
	if (ret)
		return ret;
	/* class none: never set, the kernel derives it from nice */
	*step = "I/O priority";
	if (s->ioprio_class &&
	    syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS_, tid,
		    s->ioprio_class << IOPRIO_CLASS_SHIFT_ | s->ioprio_level))
		return -errno;
	*step = "scheduling policy";
	if (syscall(SYS_sched_setattr, tid, &a, 0))
		return -errno;
	return 0;
}

/*
 * The calling thread as SCHED_FIFO (lowest priority) for a short loop
 * that the tasks it wakes must not preempt; *old: what to go back to.
 * -errno where that is refused (no CAP_SYS_NICE, a cgroup without an RT
 * budget): the caller goes on as it was.
 */
int kh_sched_hold(struct kh_sched_old *old)
{
	struct sched_param fifo = { .sched_priority = 1 };

	old->policy = sched_getscheduler(0);
	if (old->policy < 0 || sched_getparam(0, &old->param))
		return -errno;
	return sched_setscheduler(0, SCHED_FIFO, &fifo) ? -errno : 0;
}

void kh_sched_release(const struct kh_sched_old *old)
{
	sched_setscheduler(0, old->policy, &old->param);
}
