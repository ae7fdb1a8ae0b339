// SPDX-License-Identifier: MIT
/*
 * A thread's seccomp state: its mode and filter count from /proc, each
 * filter program and its flags through ptrace (the thread must be stopped
 * by us; reading filters needs CAP_SYS_ADMIN).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <linux/filter.h>
#include <linux/ptrace.h>

#include "kh.h"
#include "crfs/array.h"

_Static_assert(sizeof(struct sock_filter) == sizeof(struct crfs_bpf_insn),
	       "a BPF instruction is copied as it is");

static int status_int(const char *buf, const char *key, int *v)
{
	const char *p = strstr(buf, key);

	if (!p || sscanf(p + strlen(key), " %d", v) != 1)
		return -EINVAL;
	return 0;
}

int kh_seccomp_mode(pid_t pid, pid_t tid, int *mode, int *nfilters)
{
	char path[64], *buf;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	ret = kh_read_file(path, &buf, NULL);
	if (ret)
		return ret;
	ret = status_int(buf, "\nSeccomp:", mode);
	/* Seccomp_filters: is missing without CONFIG_SECCOMP_FILTER */
	if (!ret && status_int(buf, "\nSeccomp_filters:", nfilters))
		*nfilters = 0;
	free(buf);
	return ret;
}

/* Filter idx as the kernel counts: 0 is the oldest (installed first). */
static int get_filter(pid_t tid, int idx, struct crfs_seccomp_filter *f)
{
	struct seccomp_metadata md = { .filter_off = idx };
	struct sock_filter *prog;
	long n;

	n = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, idx, NULL);
	if (n < 0)
		return -errno;
	if (n == 0 || n > CRFS_SECCOMP_MAX_INSNS)
		return -EINVAL;
	prog = calloc(n, sizeof(*prog));
	f->insns = calloc(n, sizeof(*f->insns));
	if (!prog || !f->insns) {
		free(prog);
		return -ENOMEM;
	}
	errno = 0;
	if (ptrace(PTRACE_SECCOMP_GET_FILTER, tid, idx, prog) != n ||
	    ptrace(PTRACE_SECCOMP_GET_METADATA, tid, sizeof(md), &md) < 0) {
		free(prog);
		return errno ? -errno : -EAGAIN;
	}
	f->len = n;
	f->flags = md.flags;
	memcpy(f->insns, prog, n * sizeof(*prog));
	free(prog);
	return 0;
}

static void free_filters(struct crfs_seccomp_filter *f, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(f[i].insns);
	free(f);
}

/* Asked until the kernel has no more: /proc's count may be missing */
int kh_seccomp_filters(pid_t tid, struct crfs_seccomp_filter **out, int *nout)
{
	struct crfs_seccomp_filter *f = NULL, *nf;
	int n = 0, ret;

	for (;;) {
		nf = array_room(f, n, sizeof(*f));
		if (!nf) {
			free_filters(f, n);
			return -ENOMEM;
		}
		f = nf;
		memset(&f[n], 0, sizeof(f[n]));
		/* oldest first: the order they are installed in again */
		ret = get_filter(tid, n, &f[n]);
		if (ret)
			break;
		n++;
	}
	free(f[n].insns);
	if (ret == -ENOENT && n) {
		*out = f;
		*nout = n;
		return 0;
	}
	free_filters(f, n);
	return ret == -ENOENT ? -EINVAL : ret;
}
