// SPDX-License-Identifier: MIT
/*
 * Namespaces of the network, UTS and mount kinds are per thread: a thread
 * of ours can join a container's (or make a fresh one) to look inside
 * while every other thread of the daemon stays in its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

#include "kh.h"
#include "kh_ns.h"

struct ns_job {
	pid_t pid;
	const char *name;
	int nstype;
	int (*fn)(void *);
	void *arg;
	int ret;
};

static void *ns_thread(void *p)
{
	struct ns_job *j = p;
	int fd;

	if (!j->pid) {
		j->ret = unshare(j->nstype) ? -errno : j->fn(j->arg);
		return NULL;
	}
	fd = kh_ns_open(j->pid, j->name);
	if (fd < 0) {
		j->ret = fd;
		return NULL;
	}
	j->ret = setns(fd, j->nstype) ? -errno : j->fn(j->arg);
	close(fd);
	return NULL;
}

int kh_in_ns(pid_t pid, const char *name, int nstype, int (*fn)(void *),
	     void *arg)
{
	struct ns_job j = { pid, name, nstype, fn, arg, 0 };
	pthread_t t;
	int ret;

	ret = pthread_create(&t, NULL, ns_thread, &j);
	if (ret)
		return -ret;
	pthread_join(t, NULL);
	return j.ret;
}
