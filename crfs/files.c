// SPDX-License-Identifier: MIT
/*
 * Open file descriptions are the container's, not a process's: every fd
 * of every process is matched with kcmp(KCMP_FILE), each description is
 * described once in `files` (payloads in fdata/ID), and PID/fds only says
 * which description each descriptor refers to.  That keeps dup()ed and
 * inherited descriptors sharing one offset and one set of flags.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/timerfd.h>

#include "files.h"
#include "kh.h"
#include "crfs/array.h"

int files_add_process(struct snapshot *s, pid_t pid)
{
	struct kh_fd *f, *nf;
	size_t n, i;
	int ret;

	ret = kh_proc_fds(pid, &f, &n);
	if (ret)
		return ret;
	if (s->nfds + n > s->capfds) {
		size_t cap = (s->nfds + n) * 2;

		nf = realloc(s->fds, cap * sizeof(*nf));
		if (!nf) {
			kh_free_fds(f, n);
			return -ENOMEM;
		}
		s->fds = nf;
		s->capfds = cap;
	}
	for (i = 0; i < s->nprocs; i++)
		if (s->procs[i].pid == pid) {
			s->procs[i].has_fds = true;
			s->procs[i].fds_at = s->nfds;
			s->procs[i].nfds = n;
		}
	for (i = 0; i < n; i++)
		s->fds[s->nfds++] = f[i];
	free(f);
	return 0;
}

/*
 * A total order on open file descriptions: by inode first (cheap, and
 * different inodes are different descriptions), then kcmp(KCMP_FILE)
 * among the descriptors of one inode.
 */
static int cmp_desc(const void *a, const void *b, void *arg)
{
	const struct kh_fd *fds = arg;
	const struct kh_fd *x = &fds[*(const size_t *)a];
	const struct kh_fd *y = &fds[*(const size_t *)b];

	if (x->st_ok && y->st_ok) {
		if (x->st.st_dev != y->st.st_dev)
			return x->st.st_dev < y->st.st_dev ? -1 : 1;
		if (x->st.st_ino != y->st.st_ino)
			return x->st.st_ino < y->st.st_ino ? -1 : 1;
	} else if (x->st_ok != y->st_ok) {
		return x->st_ok ? -1 : 1;
	}
	return kh_kcmp_file(x, y);
}

/* file ids: one per description, numbered by first appearance */
static int number_files(struct files_ctx *c)
{
	struct snapshot *s = c->s;
	uint32_t *grp, *id_of;
	size_t i, g = 0, *order;

	c->fid = calloc(s->nfds + 1, sizeof(uint32_t));
	c->rep = malloc((s->nfds + 1) * sizeof(size_t));
	order = malloc((s->nfds + 1) * sizeof(size_t));
	grp = malloc((s->nfds + 1) * sizeof(uint32_t));
	id_of = calloc(s->nfds + 1, sizeof(uint32_t));
	if (!c->fid || !c->rep || !order || !grp || !id_of) {
		free(order);
		free(grp);
		free(id_of);
		return -ENOMEM;
	}
	for (i = 0; i < s->nfds; i++)
		order[i] = i;
	qsort_r(order, s->nfds, sizeof(size_t), cmp_desc, s->fds);
	for (i = 0; i < s->nfds; i++) {
		if (i && cmp_desc(&order[i - 1], &order[i], s->fds))
			g++;
		grp[order[i]] = g;
	}
	free(order);
	for (i = 0; i < s->nfds; i++) {
		if (!id_of[grp[i]]) {
			id_of[grp[i]] = ++c->nfiles;
			c->rep[c->nfiles - 1] = i;
		}
		c->fid[i] = id_of[grp[i]];
	}
	free(grp);
	free(id_of);
	c->files = calloc(c->nfiles + 1, sizeof(*c->files));
	c->bad = calloc(c->nfiles + 1, sizeof(bool));
	return c->files && c->bad ? 0 : -ENOMEM;
}

void files_report(struct files_ctx *c, const struct kh_fd *f, const char *why)
{
	if (f->pid == getpid())
		snapshot_report(c->s, "a file in flight in a unix socket's queue (%s): %s",
				f->link, why);
	else
		snapshot_report(c->s, "process %d fd %d (%s): %s", f->pid,
				f->fd, f->link, why);
}

int files_add_fdata(struct files_ctx *c, uint32_t id, const char *suffix,
		    char *data, size_t len)
{
	char path[64];

	snprintf(path, sizeof(path), "%s/%u%s", CRFS_D_FDATA, id, suffix);
	return snapshot_add(c->s, path, E_TEXT, data, len, -1);
}

/* fdata/ID.msgs of a packet-mode pipe: a packet's length a line */
static int packet_list(struct files_ctx *c, struct crfs_file *cf,
		       struct kh_packets *pk)
{
	struct strbuf sb;
	size_t i, len;
	char *data;
	int ret = 0;

	sb_init(&sb);
	for (i = 0; !ret && i < pk->n; i++)
		ret = sb_printf(&sb, "%u\n", pk->len[i]);
	free(pk->len);
	if (ret) {
		sb_free(&sb);
		return ret;
	}
	cf->nmsgs = pk->n;
	data = sb_steal(&sb, &len);
	return files_add_fdata(c, cf->id, ".msgs", data, len);
}

/* the queued bytes of a pipe or FIFO go with its first description */
static int pipe_data(struct files_ctx *c, const struct kh_fd *f,
		     struct crfs_file *cf)
{
	struct kh_packets pk = { 0 };
	size_t i, len;
	char *buf;
	int ret;

	for (i = 0; i + 1 < cf->id; i++)
		if ((c->files[i].kind == FK_PIPE || c->files[i].kind == FK_FIFO) &&
		    c->files[i].ino == cf->ino) {
			cf->pipe_size = c->files[i].pipe_size;
			return 0;
		}
	ret = kh_pipe_peek(f->pid, f->fd, &buf, &len, &cf->pipe_size, &pk);
	if (ret)
		return ret;
	cf->data = len;
	if (!len) {
		free(buf);
		return 0;
	}
	ret = files_add_fdata(c, cf->id, "", buf, len);
	if (pk.n)
		ret = ret ?: packet_list(c, cf, &pk);
	else
		free(pk.len);
	return ret;
}

/*
 * The signal owner (F_SETOWN) and signal (F_SETSIG) are the description's,
 * so our own copy tells them.  Programs set them without O_ASYNC too (a
 * socket's SIGURG goes to its owner), so every description is asked.
 */
static int sigio_owner(const struct kh_fd *f, struct crfs_file *cf)
{
	struct f_owner_ex o;
	int fd = kh_steal_fd(f->pid, f->fd), ret = 0;

	if (fd < 0)
		return fd;
	if (fcntl(fd, F_GETOWN_EX, &o) || (cf->fsig = fcntl(fd, F_GETSIG)) < 0)
		ret = -errno;
	cf->fown = o.pid;
	cf->fown_type = o.type;
	close(fd);
	return ret;
}

/*
 * A deleted file's bytes, and for a memfd what it allows and forbids
 * (F_GET_SEALS): quietly through the process's descriptor (watchers of
 * its directory would find events of ours queued at thaw), else through
 * an open of it.
 */
static int deleted_contents(const struct kh_fd *f, struct crfs_file *cf,
			    char **buf, size_t *len)
{
	char path[64];
	int fd, s, ret;

	/* the process's own description, unless it cannot be mapped */
	fd = kh_steal_fd(f->pid, f->fd);
	ret = fd < 0 ? fd : kh_read_fd_quiet(fd, buf, len);
	if (!ret) {
		s = strncmp(cf->path, "/memfd:", 7) ? -1 : fcntl(fd, F_GET_SEALS);
		if (s >= 0)
			cf->seals = s;
	}
	if (fd >= 0)
		close(fd);
	if (!ret)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", kh_via(f->pid), f->fd);
	/* the checkpoint must not touch its atime */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = kh_read_fd(fd, buf, len);
	s = strncmp(cf->path, "/memfd:", 7) ? -1 : fcntl(fd, F_GET_SEALS);
	if (s >= 0)
		cf->seals = s;
	close(fd);
	return ret;
}

/*
 * A login program or grantpt() gives the slave to its user (owner, group
 * tty, mode 0620 or 0600); a fresh one is root's.  The master's line
 * keeps the slave's (mode, fuid, fgid), as the slave need not be open.
 */
static int pts_owner(struct crfs_file *cf)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/dev/pts/%d", cf->pty_index);
	if (stat(path, &st))
		return -errno;
	cf->mode = st.st_mode;
	cf->fuid = st.st_uid;
	cf->fgid = st.st_gid;
	return 0;
}

static int classify_pty(struct files_ctx *c, const struct kh_fd *f,
			struct crfs_file *cf, const char **why)
{
	struct kh_pty t;
	int ret;

	ret = kh_pty_state(f->pid, f->fd, f->st.st_rdev, &t);
	if (ret)
		return ret;
	if (t.pkt_status) {
		free(t.termios);
		free(t.winsize);
		*why = "a pty master in packet mode (TIOCPKT) with a status byte not yet read is not supported";
		return 0;
	}
	cf->kind = t.master ? FK_PTMX : FK_PTS;
	cf->pty_index = t.index;
	cf->locked = t.locked;
	cf->packet = t.packet;
	cf->excl = t.excl;
	cf->session = t.session;
	cf->fg = t.fg;
	if (t.master) {
		cf->termios = t.termios;
		cf->winsize = t.winsize;
		cf->lockterm = t.lock;
		ret = pts_owner(cf);
	} else {
		free(t.termios);
		free(t.winsize);
		free(t.lock);
	}
	cf->data = t.outlen;
	cf->pty_input = t.inlen;
	ret = t.outlen ? files_add_fdata(c, cf->id, "", t.output, t.outlen) : 0;
	if (!t.outlen)
		free(t.output);
	if (!ret && t.inlen)
		return files_add_fdata(c, cf->id, ".input", t.input, t.inlen);
	free(t.input);
	return ret;
}

/*
 * /dev/tty is whatever terminal controls the process: a pty slave of ours
 * (or a shell job's).  It comes back as that slave itself.
 */
static const char *classify_devtty(const struct kh_fd *f, struct crfs_file *cf)
{
	unsigned int maj, min;
	struct kh_stat st;

	if (kh_proc_stat(f->pid, &st) || !st.tty_nr)
		return "a /dev/tty descriptor of a process without a controlling terminal is not supported";
	maj = (st.tty_nr >> 8) & 0xfff;
	min = (st.tty_nr & 0xff) | ((st.tty_nr >> 12) & 0xfff00);
	if (!kh_is_pts(makedev(maj, min)))
		return "a /dev/tty descriptor whose terminal is not a pseudo-terminal is not supported";
	cf->kind = FK_PTS;
	cf->devtty = true;
	cf->pty_index = (maj - 136) * 256 + min;
	return NULL;
}

static const char *classify_node(struct files_ctx *c, const struct kh_fd *f,
				 struct crfs_file *cf, int *err);

static const char *classify_path(struct files_ctx *c, const struct kh_fd *f,
				 struct crfs_file *cf, int *err)
{
	size_t n = strlen(f->link), len;
	const struct stat *st = &f->st;
	const char *why;
	char *buf;

	if (!f->st_ok)
		return "cannot stat it";
	cf->mode = st->st_mode;
	if (files_proc_pid(f))
		return files_classify_proc(c, f, cf, err);
	/* "/NAME" would be taken for a file of the root directory */
	if (kh_fd_is_mqueue(f))
		return files_classify_mqueue(c, f, cf, err);
	/* its bytes cannot be read, not even through /proc */
	if (!strcmp(f->link, "/secretmem (deleted)"))
		return "secret memory (memfd_secret) is not supported";
	if (n > 10 && !strcmp(f->link + n - 10, " (deleted)") &&
	    (!S_ISREG(st->st_mode) ||
	     (st->st_nlink && strncmp(f->link, "/memfd:", 7)))) {
		cf->path = strndup(f->link, n - 10);
		if (!cf->path) {
			*err = -ENOMEM;
			return NULL;
		}
		why = S_ISREG(st->st_mode) ? NULL : classify_node(c, f, cf, err);
		return why || *err ? why : files_classify_ghost(st, cf, err);
	}
	if (n > 10 && !strcmp(f->link + n - 10, " (deleted)")) {
		/* reading it would break a write lease */
		if (strstr(f->info, " LEASE "))
			return "a lease on a deleted file is not supported";
		why = files_hugetlb_why(c, f, st);
		if (why)
			return why;
		cf->kind = FK_DELETED;
		cf->ino = st->st_ino;	/* a memfd may be mapped as well */
		cf->path = strndup(f->link, n - 10);
		*err = cf->path ? files_ghost_attrs(st, cf) : -ENOMEM;
		*err = *err ?: deleted_contents(f, cf, &buf, &len);
		if (*err)
			return NULL;
		cf->data = len;
		*err = len ? files_add_fdata(c, cf->id, "", buf, len) : 0;
		if (!len)
			free(buf);
		return NULL;
	}
	cf->path = strdup(f->link);
	if (!cf->path) {
		*err = -ENOMEM;
		return NULL;
	}
	return classify_node(c, f, cf, err);
}

/* what the file at cf->path is: by its type and device */
static const char *classify_node(struct files_ctx *c, const struct kh_fd *f,
				 struct crfs_file *cf, int *err)
{
	const struct stat *st = &f->st;

	/* a symlink itself, held O_PATH | O_NOFOLLOW (zdtm symlink): opened
	 * at its path that way again, and restore checks it is a symlink */
	if (S_ISREG(st->st_mode) || S_ISDIR(st->st_mode) ||
	    S_ISLNK(st->st_mode)) {
		cf->kind = FK_FILE;
		return NULL;
	}
	/* /dev/null, zero, full, random, urandom: reopening them is exact */
	if (S_ISCHR(st->st_mode) && major(st->st_rdev) == 1) {
		cf->kind = FK_CHR;
		return NULL;
	}
	if (S_ISFIFO(st->st_mode)) {
		cf->kind = FK_FIFO;
		cf->ino = st->st_ino;
		/* refilling it at restore writes it: its times then */
		*err = pipe_data(c, f, cf) ?: files_times(st, cf);
		return NULL;
	}
	if (S_ISCHR(st->st_mode) && major(st->st_rdev) == 5 &&
	    minor(st->st_rdev) == 0)
		return classify_devtty(f, cf);
	if (S_ISCHR(st->st_mode) && st->st_rdev == makedev(10, 200))
		return files_classify_tun(c, f, cf, err);	/* /dev/net/tun */
	if (S_ISCHR(st->st_mode) &&
	    (kh_is_ptmx(st->st_rdev) || kh_is_pts(st->st_rdev))) {
		const char *why = NULL;

		*err = classify_pty(c, f, cf, &why);
		return why;
	}
	if (S_ISCHR(st->st_mode))
		return "terminals other than pseudo-terminals, and other character devices, are not supported";
	if (S_ISBLK(st->st_mode))
		return "block devices are not supported";
	return "unknown kind of file";
}

static int parse_time(const char *info, const char *key, uint64_t *ns)
{
	unsigned long long sec, nsec;
	const char *p = strstr(info, key);

	if (!p || sscanf(p + strlen(key), " (%llu, %llu)", &sec, &nsec) != 2)
		return -EINVAL;
	*ns = sec * 1000000000ULL + nsec;
	return 0;
}

/*
 * A periodic timer that fired is re-armed only when read or asked
 * (timerfd_gettime); until then fdinfo shows no time left, as if it were
 * disarmed.  Asking through our own copy re-arms it and counts what it
 * missed into its ticks, as the process's next read or timerfd_gettime
 * would.
 */
static void timerfd_forward(const struct kh_fd *f, const struct crfs_file *cf)
{
	struct itimerspec its;
	int fd;

	if (!cf->interval_ns || cf->value_ns)
		return;
	fd = kh_steal_fd(f->pid, f->fd);
	if (fd < 0)
		return;
	timerfd_gettime(fd, &its);
	close(fd);
}

/*
 * The time left and ticks, read afresh.  An absolute timer must fire at
 * the same time of its clock, however long the container stays down: the
 * time left plus the clock's now right after gives that time to within
 * microseconds.
 */
static int timerfd_times(const struct kh_fd *f, struct crfs_file *cf)
{
	struct timespec now;
	char path[64], *info;
	size_t len;
	int fd, ret;

	timerfd_forward(f, cf);
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", kh_via(f->pid), f->fd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = kh_read_fd(fd, &info, &len);
	close(fd);
	if (ret)
		return ret;
	if (parse_time(info, "it_value:", &cf->value_ns) ||
	    kh_fdinfo_u64(info, "ticks:", 10, &cf->ticks))
		ret = -EINVAL;
	else if (clock_gettime(cf->clock, &now))
		ret = -errno;
	else if (cf->value_ns && (cf->tflags & TFD_TIMER_ABSTIME))
		cf->expires = now.tv_sec * 1000000000ULL + now.tv_nsec +
			      cf->value_ns;
	free(info);
	return ret;
}

/*
 * A pidfd of a process that has exited and was reaped ("Pid: -1"): what
 * the kernel keeps of it is how it ended (PIDFD_INFO_EXIT) and which
 * pidfds share it (their pidfs inode).  Restore makes them of a stand-in
 * that ends the same way.  Its credentials and cgroup (PIDFD_INFO_CREDS,
 * _CGROUPID ask them of a live process only) are not kept.  The stand-in
 * is crfs-restore's child: in a tree of its own pid namespace it would
 * not be of that namespace, where PIDFD_INFO_EXIT answers ESRCH for it.
 */
static const char *pidfd_dead(struct files_ctx *c, const struct kh_fd *f,
			      struct crfs_file *cf)
{
	int status, ret;

	if (files_own_pid_ns(c->s))
		return "a pidfd of a process that has exited, in a tree with a pid namespace of its own, is not supported yet";
	ret = kh_pidfd_exit_status(f->pid, f->fd, &status);

	if (ret == -ENODATA || ret == -ENOTTY || ret == -EINVAL)
		return "a pidfd of a process that has exited, whose exit status the kernel does not tell (before Linux 6.15), is not supported";
	if (ret)
		return "cannot read the exit status of the pidfd's process";
	if (WIFSIGNALED(status) && WCOREDUMP(status))
		return "a pidfd of a process that dumped core is not supported";
	cf->pidfd_pid = -1;
	cf->exit_status = status;
	cf->ino = f->st_ok ? f->st.st_ino : 0;
	return NULL;
}

static const char *classify_anon(struct files_ctx *c, const struct kh_fd *f,
				 struct crfs_file *cf)
{
	const char *what = f->link + 11;
	uint64_t v;

	if (!strcmp(what, "[eventfd]")) {
		cf->kind = FK_EVENTFD;
		if (kh_fdinfo_u64(f->info, "eventfd-count:", 16, &cf->count))
			return "cannot read the eventfd counter";
		cf->semaphore = !kh_fdinfo_u64(f->info, "eventfd-semaphore:", 10,
					       &v) && v;
		return NULL;
	}
	if (!strcmp(what, "[timerfd]")) {
		cf->kind = FK_TIMERFD;
		if (kh_fdinfo_u64(f->info, "clockid:", 10, &v))
			return "cannot read the timerfd clock";
		cf->clock = (int)v;
		kh_fdinfo_u64(f->info, "ticks:", 10, &cf->ticks);
		if (!kh_fdinfo_u64(f->info, "settime flags:", 8, &v))
			cf->tflags = (int)v;
		if (parse_time(f->info, "it_value:", &cf->value_ns) ||
		    parse_time(f->info, "it_interval:", &cf->interval_ns))
			return "cannot read the timerfd times";
		if (timerfd_times(f, cf))
			return "cannot read the timerfd times";
		return NULL;
	}
	if (!strcmp(what, "[signalfd]")) {
		cf->kind = FK_SIGNALFD;
		if (kh_fdinfo_u64(f->info, "sigmask:", 16, &cf->sigmask))
			return "cannot read the signalfd mask";
		return NULL;
	}
	if (!strcmp(what, "[eventpoll]")) {
		cf->kind = FK_EPOLL;
		return NULL;	/* interest list once every id is known */
	}
	if (!strcmp(what, "inotify")) {
		int queued = 0;

		cf->kind = FK_INOTIFY;
		if (kh_inotify_queued(f->pid, f->fd, &queued))
			return "cannot read how many inotify events are queued";
		/* they cannot be read without taking them from a thaw */
		if (queued)
			return "an inotify descriptor with events queued (not read yet) is not supported";
		return NULL;
	}
	if (!strcmp(what, "[fanotify]"))
		return files_classify_fanotify(f, cf);
	if (!strcmp(what, "[pidfd]")) {
		cf->kind = FK_PIDFD;
		if (kh_fdinfo_u64(f->info, "Pid:", 10, &v) || (int)v == 0)
			return "cannot read the pidfd's process";
		if ((int)v < 0)
			return pidfd_dead(c, f, cf);
		cf->pidfd_pid = (pid_t)v;
		for (size_t i = 0; i < c->s->nprocs; i++)
			if (c->s->procs[i].pid == cf->pidfd_pid)
				return NULL;
		/* PIDFD_THREAD is O_EXCL; restore opens it by pid again */
		if (cf->flags & O_EXCL)
			return "a pidfd of a thread other than a main thread (PIDFD_THREAD) is not supported yet";
		return "a pidfd of a process outside the container is not supported";
	}
	return "this kind of anonymous inode is not supported";
}

/*
 * A lease (F_SETLEASE) is the description's: "lock:\tN: LEASE  ACTIVE
 * READ ..." in fdinfo.  One being broken would need its break to go on
 * after restore, with its timer: not done.
 */
static const char *lease_of(const struct kh_fd *f, struct crfs_file *cf)
{
	char kind[16], state[16], rw[16];
	const char *p = f->info;

	while ((p = strstr(p, "lock:\t"))) {
		p += 6;
		if (sscanf(p, "%*d: %15s %15s %15s", kind, state, rw) != 3)
			continue;
		if (!strcmp(kind, "DELEG"))
			return "delegations are not supported";
		if (strcmp(kind, "LEASE"))
			continue;
		if (strcmp(state, "ACTIVE"))
			return "a lease being broken is not supported";
		if (cf->kind != FK_FILE)
			return "a lease on a deleted file is not supported";
		cf->lease = strcmp(rw, "WRITE") ? 'r' : 'w';
	}
	return NULL;
}

int files_classify(struct files_ctx *c, uint32_t id)
{
	const struct kh_fd *f = &c->s->fds[c->rep[id - 1]];
	struct crfs_file *cf = &c->files[id - 1];
	uint64_t v;
	const char *why = NULL;
	int err = 0;

	init_file(cf);
	cf->id = id;
	if (kh_fdinfo_u64(f->info, "flags:", 8, &v)) {
		c->bad[id - 1] = true;
		return files_report(c, f, "cannot read its fdinfo"), 0;
	}
	cf->flags = (uint32_t)v & ~O_CLOEXEC;
	kh_fdinfo_u64(f->info, "pos:", 10, &cf->pos);
	if (f->link[0] == '/')
		why = classify_path(c, f, cf, &err);
	else if (!strncmp(f->link, "pipe:", 5)) {
		cf->kind = FK_PIPE;
		cf->ino = f->st.st_ino;
		err = pipe_data(c, f, cf);
	} else if (!strncmp(f->link, "socket:", 7))
		why = files_classify_socket(c, f, cf, &err);
	else if (!strcmp(f->link, "anon_inode:bpf-map"))
		why = files_classify_bpfmap(c, f, cf, &err);
	else if (!strncmp(f->link, "anon_inode:", 11))
		why = classify_anon(c, f, cf);
	else
		why = files_classify_nsfd(c, f, cf);
	if (!why && !err)
		why = lease_of(f, cf);
	/* an O_PATH descriptor has no owner (fcntl says EBADF) */
	if (!why && !err && !(cf->flags & O_PATH))
		err = sigio_owner(f, cf);
	if (why || err)
		files_report(c, f, why ?: strerror(-err));
	c->bad[id - 1] = why || err;
	return err == -ENOMEM ? err : 0;
}

/* a slave whose master is not ours is a terminal outside (a shell job's) */
static void pty_links(struct files_ctx *c)
{
	struct crfs_file *f, *m;
	size_t i, k;

	for (i = 0; i < c->nfiles; i++) {
		f = &c->files[i];
		if (c->bad[i] || f->kind != FK_PTS)
			continue;
		for (k = 0, m = NULL; k < c->nfiles; k++)
			if (c->files[k].kind == FK_PTMX &&
			    c->files[k].pty_index == f->pty_index)
				m = &c->files[k];
		f->external = !m;
		if (m) {
			f->session = m->session;
			f->fg = m->fg;
		}
	}
}

/*
 * A pipe of which the container holds only one direction may have its
 * other end outside (a harness reading our stdout): then it is external,
 * and restore wants to be told what to connect it to.
 */
static bool one_way(struct files_ctx *c, size_t i)
{
	bool rd = false, wr = false;
	int acc;
	size_t k;

	for (k = 0; k < c->nfiles; k++) {
		if (c->files[k].kind != FK_PIPE ||
		    c->files[k].ino != c->files[i].ino)
			continue;
		acc = c->files[k].flags & O_ACCMODE;
		rd |= acc != O_WRONLY;
		wr |= acc != O_RDONLY;
	}
	return !(rd && wr);
}

static int pipe_links(struct files_ctx *c)
{
	uint64_t *inos = calloc(c->nfiles + 1, sizeof(*inos));
	bool *out = calloc(c->nfiles + 1, sizeof(*out));
	pid_t *pids = calloc(c->s->nprocs + 1, sizeof(*pids));
	size_t i, n = 0;
	uint64_t *hit;
	int ret = -ENOMEM;

	if (!inos || !out || !pids)
		goto free;
	for (i = 0; i < c->s->nprocs; i++)
		pids[i] = c->s->procs[i].pid;
	for (i = 0; i < c->nfiles; i++)
		if (!c->bad[i] && c->files[i].kind == FK_PIPE && one_way(c, i))
			inos[n++] = c->files[i].ino;
	qsort(inos, n, sizeof(*inos), kh_cmp_u64);
	ret = kh_pipes_held_outside(inos, n, pids, c->s->nprocs, out);
	for (i = 0; !ret && n && i < c->nfiles; i++) {
		if (c->files[i].kind != FK_PIPE)
			continue;
		hit = bsearch(&c->files[i].ino, inos, n, sizeof(*inos), kh_cmp_u64);
		c->files[i].external = hit && out[hit - inos];
	}
free:
	free(inos);
	free(out);
	free(pids);
	return ret;
}

/* a text list as fdata/ID; an empty one is no file at all */
static int add_list(struct files_ctx *c, uint32_t id, struct strbuf *sb,
		    int ret)
{
	size_t len;
	char *data;

	c->files[id - 1].data = sb->len;
	if (ret || !sb->len) {
		sb_free(sb);
		return ret;
	}
	data = sb_steal(sb, &len);
	return files_add_fdata(c, id, "", data, len);
}

/*
 * The file an epoll interest refers to: the holder's own fd tfd if it
 * is that file (the common case), else any descriptor of the container
 * that is (the fd was closed or reused since; strict: no such search).
 */
static long epoll_target(struct files_ctx *c, const struct kh_fd *ep, int tfd,
			 unsigned toff, bool strict)
{
	const struct kh_fd *fds = c->s->fds;
	size_t i;

	for (i = 0; i < c->s->nfds; i++)
		if (fds[i].pid == ep->pid && fds[i].fd == tfd &&
		    kh_epoll_target_is(ep->pid, ep->fd, tfd, toff, ep->pid, tfd))
			return c->fid[i];
	for (i = 0; !strict && i < c->s->nfds; i++)
		if (kh_epoll_target_is(ep->pid, ep->fd, tfd, toff, fds[i].pid,
				       fds[i].fd))
			return c->fid[i];
	return -ENOENT;
}

/* fdinfo lists interests in the order kcmp counts them (toff) */
static unsigned same_tfd(const struct crfs_epoll_item *it, size_t n, int tfd)
{
	unsigned k = 0;

	while (n--)
		k += it[n].tfd == tfd;
	return k;
}

/* the epoll's interest list, as the holder ep sees it */
static int epoll_items(struct files_ctx *c, const struct kh_fd *ep,
		       bool strict, struct crfs_epoll_item **out, size_t *n)
{
	struct crfs_epoll_item *it = NULL, *ni;
	const char *p = ep->info;
	unsigned long long data;
	unsigned events;
	long file;
	int tfd;

	*n = 0;
	while ((p = strstr(p, "tfd:"))) {
		if (sscanf(p, "tfd: %d events: %x data: %llx", &tfd, &events,
			   &data) != 3)
			break;
		p += 4;
		file = epoll_target(c, ep, tfd, same_tfd(it, *n, tfd), strict);
		if (file < 0) {
			free(it);
			return (int)file;
		}
		ni = array_room(it, *n, sizeof(*it));
		if (!ni) {
			free(it);
			return -ENOMEM;
		}
		it = ni;
		it[*n] = (struct crfs_epoll_item){ tfd, (uint32_t)file, events,
						   data };
		(*n)++;
	}
	*out = it;
	return 0;
}

/*
 * Whose fd numbers? Best a holder whose descriptors are the interests'
 * (it registers them again as they were); else the first, which will
 * borrow the numbers at restore.
 */
static int capture_epoll(struct files_ctx *c, uint32_t id)
{
	struct crfs_epoll_item *it = NULL;
	struct strbuf sb;
	size_t i, n = 0;
	int ret = -ENOENT, pass;

	for (pass = 0; ret == -ENOENT && pass < 2; pass++)
		for (i = 0; ret == -ENOENT && i < c->s->nfds; i++)
			if (c->fid[i] == id && c->s->fds[i].pid != getpid()) {
				ret = epoll_items(c, &c->s->fds[i], pass == 0,
						  &it, &n);
				c->files[id - 1].owner = c->s->fds[i].pid;
			}
	if (ret == -ENOENT) {
		c->bad[id - 1] = true;
		files_report(c, &c->s->fds[c->rep[id - 1]],
			     "an epoll watching a file that no descriptor holds is not supported");
		return 0;
	}
	if (ret)
		return ret;
	sb_init(&sb);
	ret = render_epoll(&sb, it, n);
	free(it);
	return add_list(c, id, &sb, ret);
}

static int capture_inotify(struct files_ctx *c, uint32_t id)
{
	const struct kh_fd *f = &c->s->fds[c->rep[id - 1]];
	struct crfs_inotify_watch *w = NULL, *nw;
	const char *p = f->info;
	unsigned wd, mask;
	struct strbuf sb;
	size_t n = 0;
	int ret = 0;

	while (!ret && (p = strstr(p, "inotify wd:"))) {
		if (sscanf(p, "inotify wd:%x %*s %*s mask:%x", &wd, &mask) != 2)
			break;
		nw = array_room(w, n, sizeof(*w));
		if (!nw) {
			ret = -ENOMEM;
			break;
		}
		w = nw;
		w[n] = (struct crfs_inotify_watch){ (int)wd, mask, NULL, 0 };
		ret = kh_handle_path(f->pid, p, &w[n].path);
		ret = ret ?: files_inotify_deleted(c, p, &w[n]);
		n++;
		p += 11;
	}
	if (ret == -ESTALE) {
		c->bad[id - 1] = true;
		files_report(c, f, "an inotify watch on a deleted file that no descriptor of the container holds is not supported");
		ret = 0;
		goto out;
	}
	if (ret && ret != -ENOMEM) {
		c->bad[id - 1] = true;
		files_report(c, f, "an inotify watch on a file that has no path now");
		ret = 0;
		goto out;
	}
	sb_init(&sb);
	sort_inotify(w, n);
	ret = add_list(c, id, &sb, ret ?: render_inotify(&sb, w, n));
out:
	free_inotify(w, n);
	return ret;
}

static bool same_lock(const struct crfs_lock *a, const struct crfs_lock *b)
{
	return a->ofd == b->ofd && a->file == b->file && a->start == b->start &&
	       a->len == b->len && (a->ofd || a->pid == b->pid);
}

static int add_lock(struct files_ctx *c, const struct crfs_lock *l)
{
	struct crfs_lock *nl;
	size_t i;

	for (i = 0; i < c->nlocks; i++)
		if (same_lock(&c->locks[i], l))
			return 0;
	nl = array_room(c->locks, c->nlocks, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	c->locks = nl;
	c->locks[c->nlocks++] = *l;
	return 0;
}

/* "lock:	1: FLOCK  ADVISORY  WRITE 2870 fe:00:10952850 0 EOF" */
static int fd_locks(struct files_ctx *c, size_t i)
{
	const struct kh_fd *f = &c->s->fds[i];
	char kind[16], adv[16], rw[16], end[32];
	unsigned long long start;
	const char *p = f->info;
	struct crfs_lock l;
	int ret = 0, pid;

	while (!ret && (p = strstr(p, "lock:\t"))) {
		p += 6;
		if (sscanf(p, "%*d: %15s %15s %15s %d %*s %llu %31s", kind, adv,
			   rw, &pid, &start, end) != 6)
			continue;
		memset(&l, 0, sizeof(l));
		l.write = !strcmp(rw, "WRITE");
		l.file = c->fid[i];
		l.start = start;
		l.len = strcmp(end, "EOF") ? strtoull(end, NULL, 10) - start + 1 : 0;
		l.pid = f->pid;
		if (!strcmp(kind, "LEASE") || !strcmp(kind, "DELEG"))
			continue;	/* the description's: lease_of() */
		if (strcmp(adv, "ADVISORY") || !strcmp(rw, "UNLCK")) {
			files_report(c, f, "mandatory locks and leases are not supported");
		} else if (!strcmp(kind, "FLOCK")) {
			c->files[l.file - 1].flock = l.write ? 'w' : 'r';
			/* who took it: /proc/locks shows it, so it is taken
			 * again by that process if it holds the file */
			c->files[l.file - 1].flock_pid = pid;
		} else if (!strcmp(kind, "OFDLCK")) {
			l.ofd = true;
			ret = add_lock(c, &l);
		} else if (!strcmp(kind, "POSIX")) {
			ret = add_lock(c, &l);
		} else {
			files_report(c, f, "this kind of lock is not supported");
		}
	}
	return ret;
}

static int render_proc_fds(struct files_ctx *c)
{
	struct snapshot *s = c->s;
	struct crfs_fd *fds;
	size_t p, i, n;
	char path[64];
	uint64_t flags;
	int ret = 0;

	fds = calloc(s->nfds + 1, sizeof(*fds));
	if (!fds)
		return -ENOMEM;
	for (p = 0; !ret && p < s->nprocs; p++) {
		if (!s->procs[p].has_fds)
			continue;
		for (i = s->procs[p].fds_at, n = 0;
		     i < s->procs[p].fds_at + s->procs[p].nfds; i++) {
			if (c->bad[c->fid[i] - 1])
				continue;
			flags = 0;
			kh_fdinfo_u64(s->fds[i].info, "flags:", 8, &flags);
			fds[n++] = (struct crfs_fd){ s->fds[i].fd, c->fid[i],
						     !!(flags & O_CLOEXEC) };
		}
		snprintf(path, sizeof(path), "%d/%s", s->procs[p].pid,
			 CRFS_F_FDS);
		ret = RENDER(s, path, render_fds, fds, n);
	}
	free(fds);
	return ret;
}

/* a checkpoint with unsupported files cannot be copied; still, the files
 * table of a frozen container shows what could be described */
static int render_good(struct files_ctx *c)
{
	struct strbuf sb;
	size_t i;
	int ret = 0;

	sb_init(&sb);
	for (i = 0; !ret && i < c->nfiles; i++)
		if (!c->bad[i])
			ret = render_files(&sb, &c->files[i], 1);
	return snapshot_add_text(c->s, CRFS_F_FILES, &sb, ret);
}

static void ctx_free(struct files_ctx *c)
{
	size_t i, k;

	for (i = 0; i < c->s->nfds; i++)
		if (c->s->fds[i].pid == getpid())
			close(c->s->fds[i].fd);	/* our copies of files in flight */
	for (i = 0; i < c->nqueues; i++) {
		for (k = 0; c->queues[i].ids && k < c->queues[i].q.nchunks; k++)
			free(c->queues[i].ids[k]);
		free(c->queues[i].ids);
		kh_unix_free_queue(&c->queues[i].q);
	}
	free(c->queues);
	free(c->inside);
	free(c->fid);
	free(c->rep);
	free_files(c->files, c->nfiles);
	free(c->bad);
	free(c->locks);
	kh_unix_free(c->socks, c->nsocks);
}

int files_finish(struct snapshot *s)
{
	struct files_ctx c = { .s = s };
	uint32_t done;
	size_t i;
	int ret;

	ret = snapshot_add(s, CRFS_D_FDATA, E_DIR, NULL, 0, -1);
	ret = ret ?: number_files(&c);
	for (i = 1; !ret && i <= c.nfiles; i++)
		ret = files_classify(&c, i);
	done = c.nfiles;
	ret = ret ?: files_resolve_inflight(&c, &done);
	ret = ret ?: files_tcp_pending(&c);
	ret = ret ?: files_tcp_finish(&c);
	files_packet_maps(&c);
	files_proc_inflight(&c);
	pty_links(&c);
	ret = ret ?: pipe_links(&c);
	for (i = 1; !ret && i <= c.nfiles; i++) {
		if (c.bad[i - 1])
			continue;
		if (c.files[i - 1].kind == FK_EPOLL)
			ret = capture_epoll(&c, i);
		else if (c.files[i - 1].kind == FK_INOTIFY)
			ret = capture_inotify(&c, i);
		else if (c.files[i - 1].kind == FK_FANOTIFY)
			ret = files_capture_fanotify(&c, i);
		else if (c.files[i - 1].kind == FK_INET &&
			 c.files[i - 1].sock_type == SOCK_T_DGRAM &&
			 c.files[i - 1].nmsgs)
			ret = files_capture_udpq(&c, i);
	}
	for (i = 0; !ret && i < s->nfds; i++)
		ret = fd_locks(&c, i);
	ret = ret ?: render_good(&c);
	ret = ret ?: RENDER(s, CRFS_F_LOCKS, render_locks, c.locks, c.nlocks);
	ret = ret ?: render_proc_fds(&c);
	ctx_free(&c);
	return ret;
}
