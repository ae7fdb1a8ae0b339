// SPDX-License-Identifier: MIT
/*
 * The fill helper: a second worker for the restorer's UFFDIO_COPY fill,
 * so that restoring a big process uses both cores (restorer.c fill_ask).
 * Forked by crfs-restore before the tree, it serves every process of it
 * over one SOCK_SEQPACKET socket, one request at a time: a request brings
 * the process's userfaultfd (UFFDIO_COPY works from any process holding
 * it; the source is in our memory), its pages files and a private reply
 * socket; the run table is read from the restorer's memory.  We fill runs
 * from the back, the restorer from the front; a run is whoever's
 * UFFDIO_COPY of its first page succeeded, so we stop at the first EEXIST
 * (a late request finds every run taken and is answered at once).  A run
 * whose bytes do not match its checksum is reported by address, and the
 * restorer fails the restore as it does for one of its own.
 *
 * Its pid is none of the image's (a process with a pid restore needs is
 * forked again); it dies with crfs-restore (PR_SET_PDEATHSIG), and is
 * ended and reaped once the tree runs.
 *
 * On by default; CRFS_FILL_HELPER=0 turns it off, CRFS_FILL_HELPER=all
 * makes each restorer wait until we filled and checked all its runs (for
 * tests); CRFS_FILL_LOG=FILE makes us append a line per request served.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "restore.h"
#include "restorer.h"
#include "fill_helper.h"
#include "crfs/format.h"

#define PG 4096UL
#define CHUNK (512UL << 10)	/* as the restorer's FILL_BUF */
#define NFDS (2 + RST_FILL_FDS)
#define MAX_TRIES 64

static int fill_sk = -1;	/* the restore children's end */
static bool fill_first;		/* CRFS_FILL_HELPER=all */
static pid_t fill_pid = -1;

/* one request being served */
struct job {
	struct rst_fill_req q;
	int fds[NFDS];		/* reply socket, uffd, q.fd[] as ours */
	int nfds;
	pid_t pid;		/* the restorer, in our pid namespace */
	struct rst_run *runs;
	unsigned char *buf;
	uint32_t filled;
	uint64_t bytes, from;
};

static int step_err(struct rst_fill_reply *m, const char *step, int err)
{
	m->status = RST_FILL_ERR;
	m->err = -err;
	snprintf(m->step, sizeof(m->step), "fill helper: %s", step);
	return -1;
}

static int file_of(const struct job *j, int64_t fd)
{
	uint32_t i;

	for (i = 0; i < j->q.nfds; i++)
		if (j->q.fd[i] == fd)
			return j->fds[2 + i];
	return -1;
}

/* len bytes of new pages at dst: 0, -EEXIST, or another -errno */
static int copy_in(int uffd, uint64_t dst, const unsigned char *src,
		   uint64_t len)
{
	struct uffdio_copy c;
	int ret;

	while (len) {
		c = (struct uffdio_copy){ .dst = dst, .src = (uint64_t)src,
					  .len = len };
		ret = ioctl(uffd, UFFDIO_COPY, &c) ? -errno : 0;
		if (c.copy > 0) {
			dst += c.copy;
			src += c.copy;
			len -= c.copy;
		}
		if (ret && ret != -EAGAIN)
			return ret;
	}
	return 0;
}

static int read_all(int fd, unsigned char *buf, uint64_t n, uint64_t off)
{
	ssize_t got;

	while (n) {
		got = pread(fd, buf, n, off);
		if (got <= 0)
			return got ? -errno : -EIO;	/* short file */
		buf += got;
		off += got;
		n -= got;
	}
	return 0;
}

/* run r: 1 filled, 0 the restorer has it, -1 with m set */
static int fill_run(struct job *j, const struct rst_run *r,
		    struct rst_fill_reply *m)
{
	int fd = file_of(j, r->fd), uffd = j->fds[1], ret;
	uint64_t done = 0, n;
	struct crfs_hash h;

	if (fd < 0)
		return step_err(m, "a run of a pages file not sent", -EBADF);
	crfs_hash_init(&h);
	while (done < r->len) {
		n = r->len - done < CHUNK ? r->len - done : CHUNK;
		ret = read_all(fd, j->buf, n, r->off + done);
		if (ret)
			return step_err(m, "read pages", ret);
		ret = copy_in(uffd, r->addr + done, j->buf, done ? n : PG);
		if (!done && ret == -EEXIST)
			return 0;
		if (!done && !ret)
			ret = copy_in(uffd, r->addr + PG, j->buf + PG, n - PG);
		if (ret)
			return step_err(m, "UFFDIO_COPY of the pages", ret);
		if (r->check)
			crfs_hash_update(&h, j->buf, n);
		done += n;
	}
	if (r->check && crfs_hash_final(&h) != r->hash) {
		m->status = RST_FILL_BADSUM;
		m->addr = r->addr;
		return -1;
	}
	return 1;
}

static int read_runs(struct job *j, struct rst_fill_reply *m)
{
	size_t len = (size_t)j->q.nruns * sizeof(*j->runs);
	struct iovec local, remote;

	j->runs = malloc(len ?: 1);
	if (!j->runs)
		return step_err(m, "the run table", -ENOMEM);
	local = (struct iovec){ j->runs, len };
	remote = (struct iovec){ (void *)j->q.runs, len };
	if (process_vm_readv(j->pid, &local, 1, &remote, 1, 0) != (ssize_t)len)
		return step_err(m, "process_vm_readv of the run table",
				errno ? -errno : -EIO);
	return 0;
}

static void serve(struct job *j, int logfd)
{
	struct rst_fill_reply m = { .status = RST_FILL_DONE };
	uint32_t i;
	int ret = 0;

	if (j->nfds < 2)	/* no socket to answer on */
		return;
	if (j->nfds != 2 + (int)j->q.nfds || j->q.nfds > RST_FILL_FDS ||
	    j->q.nruns > (1U << 24))
		ret = step_err(&m, "a malformed request", -EINVAL);
	ret = ret ?: read_runs(j, &m);
	for (i = j->q.nruns; !ret && i-- > 0;) {
		if (!j->runs[i].uffd)
			continue;
		ret = fill_run(j, &j->runs[i], &m);
		if (ret <= 0)
			break;
		j->filled++;
		j->bytes += j->runs[i].len;
		j->from = j->runs[i].addr;
		ret = 0;
	}
	/* done with its memory before it hears so */
	close(j->fds[1]);
	j->fds[1] = -1;
	if (logfd >= 0)
		dprintf(logfd, "fill-helper %d: pid %d: %u of %u runs, %llu bytes, from 0x%llx, status %d\n",
			getpid(), j->pid, j->filled, j->q.nruns,
			(unsigned long long)j->bytes,
			(unsigned long long)j->from, m.status);
	send(j->fds[0], &m, sizeof(m), MSG_NOSIGNAL);
}

/* the next request: 1, 0 at EOF (crfs-restore and the tree are done) */
static int take(int sk, struct job *j)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * NFDS) +
			 CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} c;
	struct iovec iov = { &j->q, sizeof(j->q) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = c.buf,
			     .msg_controllen = sizeof(c.buf) };
	struct cmsghdr *cm;
	ssize_t n;
	int i;

	for (i = 0; i < NFDS; i++)
		j->fds[i] = -1;
	do
		n = recvmsg(sk, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return 0;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET)
			continue;
		if (cm->cmsg_type == SCM_RIGHTS) {
			j->nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			if (j->nfds > NFDS)	/* cannot be: the buffer holds NFDS */
				j->nfds = NFDS;
			memcpy(j->fds, CMSG_DATA(cm), j->nfds * sizeof(int));
		} else if (cm->cmsg_type == SCM_CREDENTIALS) {
			struct ucred uc;

			memcpy(&uc, CMSG_DATA(cm), sizeof(uc));
			j->pid = uc.pid;
		}
	}
	if (n != sizeof(j->q))
		j->q.nfds = RST_FILL_FDS + 1;	/* refused by serve */
	return 1;
}

static void drop(struct job *j)
{
	int i;

	for (i = 0; i < j->nfds; i++)
		if (j->fds[i] >= 0)
			close(j->fds[i]);
	free(j->runs);
}

static __attribute__((noreturn)) void helper_main(int sk, pid_t parent)
{
	const char *log = getenv("CRFS_FILL_LOG");
	unsigned char *buf;
	int logfd = -1, dn;
	struct job j;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	prctl(PR_SET_NAME, "crfs-fill");
	/* nothing else of crfs-restore's: a socket held here would keep
	 * its other end from reading EOF */
	if (sk < 3)	/* crfs-restore was started with 0-2 closed */
		sk = fcntl(sk, F_DUPFD_CLOEXEC, 3);
	if (sk > 3)
		syscall(SYS_close_range, 3, sk - 1, 0);
	syscall(SYS_close_range, sk + 1, ~0U, 0);
	/* not the caller's stdout: $(crfs-restore -d ...) */
	dn = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (dn >= 0) {
		dup2(dn, 0);
		dup2(dn, 1);
		if (dn > 2)
			close(dn);
	}
	if (log)
		logfd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
			     0600);
	/* UFFDIO_COPY takes page-aligned sources only */
	buf = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		_exit(1);
	for (;;) {
		memset(&j, 0, sizeof(j));
		j.buf = buf;
		if (!take(sk, &j))
			_exit(0);
		serve(&j, logfd);
		drop(&j);
	}
}

/* a pid the restore makes again: a process, a thread, a session or group
 * leader, a socket's peer */
static bool pid_of_image(const struct image *img, pid_t pid)
{
	size_t i, k;

	if (img->new_pidns)
		return false;
	for (i = 0; i < img->nprocs; i++) {
		const struct proc_image *p = &img->procs[i];

		if (p->pid == pid || p->attr.sid == pid || p->attr.pgid == pid)
			return true;
		for (k = 0; k < p->nthreads; k++)
			if (p->threads[k].tid == pid)
				return true;
	}
	for (i = 0; i < img->nfiles; i++)
		if (img->files[i].peer_pid == pid)
			return true;
	return false;
}

static pid_t fork_helper(int sk[2])
{
	pid_t self = getpid(), pid = fork();

	if (pid == 0) {
		close(sk[1]);
		helper_main(sk[0], self);
	}
	return pid;
}

/*
 * Some process has RST_FILL_MIN bytes of runs filled before the tree runs
 * (not the --lazy handler's), the least a restorer asks the helper for:
 * else none would, and its fork is saved (a lazy restore after pre-copy
 * has kilobytes of such runs; the fork took 2-3 ms of its downtime).
 */
static bool fill_wanted(const struct image *img)
{
	uint64_t bytes;
	size_t i, r;

	for (i = 0; i < img->nprocs; i++) {
		const struct proc_image *p = &img->procs[i];

		for (r = bytes = 0; r < p->nruns; r++)
			if (!p->lazy_runs || !p->lazy_runs[r])
				bytes += p->runs[r].npages * PG;
		if (bytes >= RST_FILL_MIN)
			return true;
	}
	return false;
}

int fill_helper_start(struct image *img, char *err, size_t errlen)
{
	const char *on = getenv("CRFS_FILL_HELPER");
	int sk[2], one = 1, tries = 0;
	pid_t pid = -1;

	if (on && !strcmp(on, "0"))
		return 0;
	fill_first = on && !strcmp(on, "all");
	if (!fill_first && !fill_wanted(img))
		return 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sk))
		return snprintf(err, errlen, "fill helper: socketpair: %s",
				strerror(errno)), -1;
	/* each request carries its restorer's pid, for process_vm_readv */
	if (setsockopt(sk[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)))
		goto fail;
	fflush(NULL);
	for (tries = 0; tries < MAX_TRIES; tries++) {
		pid = fork_helper(sk);
		if (pid < 0 || !pid_of_image(img, pid))
			break;
		/* the tree needs that pid: the next fork takes another */
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	if (pid < 0)
		goto fail;
	close(sk[0]);
	fill_sk = sk[1];
	fill_pid = pid;
	return 0;
fail:
	snprintf(err, errlen, "fill helper: cannot start it%s: %s",
		 tries == MAX_TRIES ? " with a pid the image does not use" : "",
		 strerror(errno));
	close(sk[0]);
	close(sk[1]);
	return -1;
}

void fill_helper_stop(void)
{
	if (fill_sk >= 0)
		close(fill_sk);
	fill_sk = -1;
	if (fill_pid > 0) {
		/* every restorer has its reply: nothing is left to do */
		kill(fill_pid, SIGKILL);
		waitpid(fill_pid, NULL, 0);
	}
	fill_pid = -1;
}

/* isolate_fds: our socket survives, above top; the new top */
int fill_keep_fd(int top)
{
	int nfd;

	if (fill_sk < 0)
		return top;
	nfd = fcntl(fill_sk, F_DUPFD_CLOEXEC, top + 1);
	close(fill_sk);
	fill_sk = nfd;
	return nfd > top ? nfd : top;
}

/* in the restore child: the socket, now its (-1: none) */
int fill_take_fd(bool *first)
{
	int fd = fill_sk;

	*first = fill_first;
	fill_sk = -1;
	return fd;
}
