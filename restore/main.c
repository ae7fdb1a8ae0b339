// SPDX-License-Identifier: MIT
/*
 * crfs-restore [-d] [--pidfile FILE] [--shell-job] [--cgroup-root R]
 *              [--stream] [--times] DIR
 *
 * Check the whole image, recreate the process with its saved pid (the
 * child restores itself, we trace it), hand over, then either wait for it
 * and exit with its status or (-d) print its pid and leave it running.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sched.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include "kh.h"
#include "restore.h"
#include "files.h"
#include "ns.h"
#include "mounts.h"
#include "cgroup.h"
#include "lazy.h"
#include "fill_helper.h"
#include "crfs/array.h"

struct opts {
	bool detach;
	bool shell_job;
	bool orphan_pipes;
	bool stream;
	bool times;
	struct inherit *inherit;
	size_t ninherit;
	struct cg_root *cg_roots;
	size_t ncg_roots;
	const char *pidfile;
	const char *dir;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: crfs-restore [-d] [--pidfile FILE] [--shell-job] DIR\n"
		   "  -d, --detach      return once the tree runs, print the root pid\n"
		   "      --pidfile F   write the root pid to F\n"
		   "  -j, --shell-job   a terminal from outside the image becomes ours\n"
		   "      --inherit-fd pipe:[INO]=FD\n"
		   "                    our FD becomes the image's pipe INO, whose other\n"
		   "                    end was outside\n"
		   "      --orphan-pipes  such pipes come back with no other end\n"
		   "      --cgroup-root [HIER:]PATH\n"
		   "                    the tree's cgroups go below PATH (of HIER,\n"
		   "                    or of every hierarchy not named alone)\n"
		   "      --lazy        post-copy: the tree runs before its private\n"
		   "                    memory is in; a handler (pid to PIDFILE.lazy)\n"
		   "                    fills it on demand and in the background\n"
		   "      --stream      the image comes on stdin as crfs-send --stream's\n"
		   "                    tar: unpacked into DIR (new or empty), then\n"
		   "                    restored (exit 3: the stream did not come whole)\n"
		   "      --times       with -d: the pid, then when the image was in and\n"
		   "                    when the tree ran (seconds since the epoch)\n"
		   "      --version     print the version\n");
}

/* [HIER:]PATH, PATH absolute */
static int add_cg_root(struct opts *o, char *arg)
{
	struct cg_root *nr, r = { NULL, arg };
	char *colon = arg[0] == '/' ? NULL : strchr(arg, ':');

	if (colon) {
		*colon = '\0';
		r = (struct cg_root){ arg, colon + 1 };
	}
	if (r.path[0] != '/' || strstr(r.path, "/..") ||
	    (r.hier && !r.hier[0])) {
		fprintf(stderr, "crfs-restore: --cgroup-root: want [HIERARCHY:]/PATH\n");
		return -1;
	}
	nr = array_room(o->cg_roots, o->ncg_roots, sizeof(*nr));
	if (!nr)
		return -1;
	o->cg_roots = nr;
	nr[o->ncg_roots++] = r;
	return 0;
}

/* pipe:[INO]=FD, FD open in crfs-restore */
static int add_inherit(struct opts *o, const char *arg)
{
	unsigned long long ino;
	struct inherit *ni;
	int fd, n = 0;

	if (sscanf(arg, "pipe:[%llu]=%d%n", &ino, &fd, &n) != 2 || arg[n] ||
	    fcntl(fd, F_GETFD) < 0) {
		fprintf(stderr, "crfs-restore: --inherit-fd %s: want pipe:[INO]=FD with FD open\n",
			arg);
		return -1;
	}
	ni = array_room(o->inherit, o->ninherit, sizeof(*ni));
	if (!ni)
		return -1;
	o->inherit = ni;
	ni[o->ninherit++] = (struct inherit){ ino, fd };
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "detach", no_argument, NULL, 'd' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "shell-job", no_argument, NULL, 'j' },
		{ "inherit-fd", required_argument, NULL, 'i' },
		{ "orphan-pipes", no_argument, NULL, 'o' },
		{ "cgroup-root", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "lazy", no_argument, NULL, 'L' },
		{ "stream", no_argument, NULL, 's' },
		{ "times", no_argument, NULL, 't' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "djh", lo, NULL)) != -1) {
		switch (c) {
		case 'j':
			o->shell_job = true;
			break;
		case 'o':
			o->orphan_pipes = true;
			break;
		case 'c':
			if (add_cg_root(o, optarg))
				return -1;
			break;
		case 'i':
			if (add_inherit(o, optarg))
				return -1;
			break;
		case 'd':
			o->detach = true;
			break;
		case 'L':
			lazy_on = true;
			break;
		case 's':
			o->stream = true;
			break;
		case 't':
			o->times = true;
			break;
		case 'p':
			o->pidfile = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("crfs-restore %s\n", CRFS_VERSION);
			exit(0);
		default:
			return -1;
		}
	}
	if (optind != argc - 1 || (o->times && !o->detach))
		return -1;
	o->dir = argv[optind];
	return 0;
}

/*
 * A zombie still holds its pid until its parent (or init, which reaps
 * orphans only now and then) collects it: give that until the deadline.
 */
static bool zombie_gone(pid_t pid, const struct timespec *deadline)
{
	struct timespec now;
	struct kh_stat st;

	for (;;) {
		if (kh_proc_stat(pid, &st))
			return true;
		if (st.state != 'Z' && st.state != 'X')
			return false;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > deadline->tv_sec ||
		    (now.tv_sec == deadline->tv_sec &&
		     now.tv_nsec > deadline->tv_nsec))
			return false;
		usleep(20000);
	}
}

static int pid_in_use(pid_t pid, const struct timespec *deadline, char *err,
		      size_t errlen)
{
	char path[64], *comm = NULL;

	if ((kill(pid, 0) && errno == ESRCH) || zombie_gone(pid, deadline))
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	kh_read_file(path, &comm, NULL);
	if (comm)
		comm[strcspn(comm, "\n")] = '\0';
	snprintf(err, errlen, "pid %d is taken (by '%s'); end it first", pid,
		 comm ? comm : "?");
	free(comm);
	return -EEXIST;
}

/*
 * After a failed restore: the pids we created.  In a new pid namespace the
 * image's pids are not ours to see; its init takes everything with it.
 */
static void kill_all(struct image *img, pid_t root)
{
	size_t i;

	kill(root, SIGKILL);
	for (i = 0; !img->new_pidns && i < img->nprocs; i++)
		kill(img->procs[i].pid, SIGKILL);
}

/*
 * A killed thread-group leader is reported only once its other threads
 * are reaped, and those we trace are ours to reap: waiting for the root
 * alone would wait forever.  Reap everything until the root is gone.
 */
static void reap_until(pid_t root)
{
	pid_t got;

	do
		got = waitpid(-1, NULL, __WALL);
	while (got != root && !(got < 0 && errno == ECHILD));
}

static int spawn(struct image *img, pid_t *out, char *err, size_t errlen)
{
	uint64_t flags = !img->new_pidns ? 0 : CLONE_NEWPID |
			 (img->procs[0].attr.proc_mount ? CLONE_NEWNS : 0);
	int go[2], ep[2], ret;
	pid_t pid;

	if (pipe2(go, O_CLOEXEC) || pipe2(ep, O_CLOEXEC))
		return snprintf(err, errlen, "pipe: %s", strerror(errno)), -1;
	/* a leader's pid taken meanwhile: as one in use (pgrp.c) */
	if (!userns_clone_root(flags, &pid) &&
	    (!root_needs_leader(img) ||
	     (pid = clone_root_under_leader(img)) < 0))
		pid = kh_clone_with_pid(img->new_pidns ? 1 : img->procs[0].pid,
					flags, NULL);
	if (pid == 0) {
		close(go[1]);
		close(ep[0]);
		restore_child(img, 0, go[0], ep[1]);
	}
	close(go[0]);
	close(ep[1]);
	files_close(img);
	if (pid > 0 && mnt_leave(img)) {
		snprintf(err, errlen, "cannot go back to our mount namespace: %s",
			 strerror(errno));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		ret = -1;
		goto out;
	}
	if (pid < 0) {
		snprintf(err, errlen, pid == -EEXIST ?
			 "pid %d is taken; end its process first" :
			 "cannot create pid %d: %s", img->procs[0].pid,
			 strerror(-pid));
		ret = -1;
		goto out;
	}
	/*
	 * Every task the tree creates is traced from birth; if we die
	 * half-way, so does the half-restored tree.  The seccomp filters the
	 * restorer installs stay suspended until we let the tasks go (which
	 * takes CAP_SYS_ADMIN: asked only of images that have filters).
	 */
	if (ptrace(PTRACE_SEIZE, pid, 0,
		   PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL |
		   PTRACE_O_TRACEFORK | PTRACE_O_TRACECLONE |
		   (image_has_seccomp(img) ? PTRACE_O_SUSPEND_SECCOMP : 0)) ||
	    write(go[1], "g", 1) != 1) {
		snprintf(err, errlen, "cannot trace the restoring process%s: %s",
			 image_has_seccomp(img) ?
			 " with its seccomp filters suspended" : "",
			 strerror(errno));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		ret = -1;
		goto out;
	}
	close(go[1]);
	go[1] = -1;
	restore_pause("spawned");
	restore_profile("spawn");
	ret = restore_finish(img, ep[0], err, errlen);
	/* every restorer is done with it, and reap_until waits for all */
	fill_helper_stop();
	if (ret) {
		kill_all(img, pid);
		reap_until(pid);
	}
	*out = pid;
out:
	if (go[1] >= 0)
		close(go[1]);
	close(ep[0]);
	return ret;
}

static int pids_free(struct image *img, char *err, size_t errlen)
{
	struct timespec deadline;
	size_t i, k;
	int ret = 0;

	/* a new pid namespace has every pid free */
	if (img->new_pidns)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += 15;
	for (i = 0; !ret && i < img->nprocs; i++) {
		if (needs_session_helper(img, i))
			ret = pid_in_use(img->procs[i].attr.sid, &deadline, err,
					 errlen);
		if (!ret && needs_group_helper(img, i))
			ret = pid_in_use(img->procs[i].attr.pgid, &deadline,
					 err, errlen);
		ret = ret ?: pid_in_use(img->procs[i].pid, &deadline, err, errlen);
		for (k = 1; !ret && !img->procs[i].attr.zombie &&
			    k < img->procs[i].nthreads; k++)
			ret = pid_in_use(img->procs[i].threads[k].tid,
					 &deadline, err, errlen);
	}
	return ret;
}

static int write_pidfile(const char *path, pid_t pid)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fprintf(f, "%d\n", pid);
	return fclose(f);
}

static int wait_root(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 1;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	fprintf(stderr, "crfs-restore: process %d killed by signal %d\n", pid,
		WTERMSIG(st));
	return 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct timespec t_in, t_run;
	struct image img;
	char err[2048];
	pid_t pid;
	int ret;

	if (parse_opts(argc, argv, &o)) {
		usage(stderr);
		return 2;
	}
	if (o.stream && tar_in(o.dir, STDIN_FILENO, err, sizeof(err))) {
		fprintf(stderr, "crfs-restore: %s\n", err);
		return 3;
	}
	clock_gettime(CLOCK_REALTIME, &t_in);
	restore_profile("start");
	ret = image_load(o.dir, &img, err, sizeof(err));
	restore_profile("load");
	ret = ret ?: hugetlb_check(&img, err, sizeof(err));
	ret = ret ?: mnt_check(&img, err, sizeof(err));
	ret = ret ?: vm_share_check(&img, err, sizeof(err));
	ret = ret ?: pids_free(&img, err, sizeof(err));
	restore_profile("checks");
	if (!ret)
		restore_pause("loaded");
	ret = ret ?: lazy_start(&img, o.pidfile, o.detach, err,
					  sizeof(err));
	/* forked before we enter the tree's namespaces and cgroups */
	ret = ret ?: fill_helper_start(&img, err, sizeof(err));
	restore_profile("handler");
	ret = ret ?: cgroup_prepare(&img, o.cg_roots, o.ncg_roots, err,
				    sizeof(err));
	ret = ret ?: shm_prepare(&img, err, sizeof(err));
	/* the daemon's namespace files, before we enter the tree's */
	ret = ret ?: nsfd_prepare(&img, err, sizeof(err));
	ret = ret ?: ns_restore(&img, err, sizeof(err));
	ret = ret ?: netns_sub_prepare(&img, err, sizeof(err));
	image_unmap_pages(&img);
	restore_profile("namespaces");
	img.shell_job = o.shell_job;
	img.orphan_pipes = o.orphan_pipes;
	img.detach = o.detach;
	if (!ret && o.detach && img.nprocs && img.procs[0].attr.pdeathsig)
		fprintf(stderr, "crfs-restore: process %d: its parent-death signal %d is not set again (--detach: its parent, crfs-restore, exits now)\n",
			img.procs[0].pid, img.procs[0].attr.pdeathsig);
	img.inherit = o.inherit;
	img.ninherit = o.ninherit;
	ret = ret ?: ipc_sysv_restore(&img, err, sizeof(err));
	/* in the tree's network namespace, before any of its sockets is made */
	ret = ret ?: tcp_lock(&img, err, sizeof(err));
	restore_profile("SysV IPC, TCP lock");
	ret = ret ?: mnt_restore(&img, err, sizeof(err));
	ret = ret ?: files_open(&img, err, sizeof(err));
	ret = ret ?: lazy_ready(err, sizeof(err));
	restore_profile("mounts, files");
	ret = ret ?: spawn(&img, &pid, err, sizeof(err));
	clock_gettime(CLOCK_REALTIME, &t_run);
	fill_helper_stop();
	restore_profile("running");
	lazy_started();
	nsfd_done();
	netns_sub_done();
	if (ret) {
		ipc_sysv_undo();
		shm_undo(&img);
	} else {
		ipc_sysv_done();	/* restore_finish lifted the TCP lock */
	}
	ipc_sysv_free();
	mnt_free(&img);
	if (ret)
		cgroup_undo();
	cgroup_free();
	image_free(&img);
	free(o.inherit);
	free(o.cg_roots);
	if (ret) {
		fprintf(stderr, "crfs-restore: %s\n", err);
		return 1;
	}
	if (o.pidfile && write_pidfile(o.pidfile, pid))
		fprintf(stderr, "crfs-restore: %s: %s\n", o.pidfile,
			strerror(errno));
	if (!o.detach)
		return wait_root(pid);
	if (o.times)
		printf("%d %lld.%09ld %lld.%09ld\n", pid, (long long)t_in.tv_sec,
		       t_in.tv_nsec, (long long)t_run.tv_sec, t_run.tv_nsec);
	else
		printf("%d\n", pid);
	return 0;
}
