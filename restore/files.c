// SPDX-License-Identifier: MIT
/*
 * crfs-restore opens every open file description of the image once, at
 * fd_base + id - 1, before the tree is forked: every process inherits the
 * whole table, points its own descriptors at it with dup2() and closes the
 * rest.  Descriptions shared at checkpoint are thereby shared again.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <termios.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/un.h>

#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)
#endif

#include "kh.h"
#include "restore.h"

struct open_ctx {
	struct image *img;
	char *err;
	size_t errlen;
	int *holder;		/* per file: the pipe/FIFO holder it opened */
};

#define FAIL(c, ...) (snprintf((c)->err, (c)->errlen, __VA_ARGS__), -EINVAL)

static int slot(const struct image *img, uint32_t id)
{
	return img->fd_base + id - 1;
}

static int place(struct open_ctx *c, const struct crfs_file *f, int fd)
{
	int s = slot(c->img, f->id);

	if (fd < 0)
		return FAIL(c, "file %u (%s): %s", f->id, file_kind_name(f->kind),
			    strerror(errno));
	if (fd == s)
		return 0;
	if (dup2(fd, s) < 0) {
		close(fd);
		return FAIL(c, "file %u: dup2 to %d: %s", f->id, s,
			    strerror(errno));
	}
	close(fd);
	return 0;
}

static int read_fdata(struct open_ctx *c, const struct crfs_file *f,
		      const char *suffix, char **buf, size_t *len)
{
	char path[PATH_MAX + 64];
	int ret;

	*buf = NULL;
	*len = 0;
	if (!f->data && !*suffix)
		return 0;
	snprintf(path, sizeof(path), "%s/%s/%u%s", c->img->dir, CRFS_D_FDATA,
		 f->id, suffix);
	ret = kh_read_file(path, buf, len);
	if (ret)
		return FAIL(c, "%s: %s", path, strerror(-ret));
	if (!*suffix && *len != f->data) {
		free(*buf);
		return FAIL(c, "%s: %zu bytes, %s says %lu", path, *len,
			    CRFS_F_FILES, f->data);
	}
	return 0;
}

static int write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n < 0)
			return -errno;
		buf += n;
		len -= n;
	}
	return 0;
}

static int open_flags(const struct crfs_file *f)
{
	return (f->flags & ~(O_CREAT | O_EXCL | O_TRUNC)) | O_NOCTTY;
}

static int open_path(struct open_ctx *c, const struct crfs_file *f)
{
	struct stat st;
	int fd = open(f->path, open_flags(f));

	if (fd < 0)
		return FAIL(c, "%s (file %u): %s", f->path, f->id,
			    strerror(errno));
	if (fstat(fd, &st) || (st.st_mode & S_IFMT) != (f->mode & S_IFMT)) {
		close(fd);
		return FAIL(c, "%s (file %u) is not the kind of file it was",
			    f->path, f->id);
	}
	if (S_ISREG(st.st_mode) && !(f->flags & O_PATH) &&
	    lseek(fd, f->pos, SEEK_SET) != (off_t)f->pos) {
		close(fd);
		return FAIL(c, "%s (file %u): cannot seek to %lu: %s", f->path,
			    f->id, f->pos, strerror(errno));
	}
	return place(c, f, fd);
}

/* an unlinked file again: its contents, in its directory, with no name */
static int open_deleted(struct open_ctx *c, const struct crfs_file *f)
{
	char *dir = strdupa(f->path), self[64], *buf;
	size_t len;
	int tmp, fd, ret;

	if (!strncmp(f->path, "/memfd:", 7)) {
		/* a memfd also mapped shared is that mapping's object */
		tmp = shm_open_ino(c->img, f->ino);
		if (tmp < 0)
			tmp = memfd_create(f->path + 7, MFD_CLOEXEC);
	} else {
		tmp = open(dirname(dir), O_TMPFILE | O_RDWR | O_CLOEXEC,
			   f->mode & 07777);
	}
	if (tmp < 0)
		return FAIL(c, "%s (deleted, file %u): cannot recreate it: %s",
			    f->path, f->id, strerror(errno));
	ret = read_fdata(c, f, "", &buf, &len);
	if (!ret && write_all(tmp, buf, len))
		ret = FAIL(c, "%s (deleted, file %u): %s", f->path, f->id,
			   strerror(errno));
	free(buf);
	fchmod(tmp, f->mode & 07777);
	snprintf(self, sizeof(self), "/proc/self/fd/%d", tmp);
	fd = ret ? -1 : open(self, open_flags(f));
	close(tmp);
	if (ret)
		return ret;
	if (fd >= 0 && lseek(fd, f->pos, SEEK_SET) != (off_t)f->pos) {
		close(fd);
		return FAIL(c, "%s (deleted, file %u): cannot seek: %s", f->path,
			    f->id, strerror(errno));
	}
	return place(c, f, fd);
}

/*
 * A pipe or FIFO is first opened read-write by a holder, which refills it
 * and keeps both ends alive while each description reopens it with its
 * own flags (a lone O_WRONLY open would fail or block).
 */
static int pipe_holder(struct open_ctx *c, const struct crfs_file *f)
{
	struct image *img = c->img;
	const struct crfs_file *d = NULL;
	int p[2], h, ret;
	char self[64], *buf;
	size_t i, len;

	for (i = 0; i + 1 < f->id; i++)
		if (img->files[i].kind == f->kind && img->files[i].ino == f->ino)
			return c->holder[i];
	if (f->kind == FK_FIFO) {
		h = open(f->path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	} else {
		if (pipe2(p, O_CLOEXEC))
			return FAIL(c, "pipe: %s", strerror(errno));
		snprintf(self, sizeof(self), "/proc/self/fd/%d", p[0]);
		h = open(self, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		close(p[0]);
		close(p[1]);
	}
	if (h < 0)
		return FAIL(c, "file %u (%s): %s", f->id, file_kind_name(f->kind),
			    strerror(errno));
	c->holder[f->id - 1] = h;
	if (fcntl(h, F_SETPIPE_SZ, f->pipe_size) < 0)
		return FAIL(c, "file %u: F_SETPIPE_SZ %u: %s", f->id,
			    f->pipe_size, strerror(errno));
	for (i = 0; i < img->nfiles; i++)
		if (img->files[i].kind == f->kind && img->files[i].ino == f->ino &&
		    img->files[i].data)
			d = &img->files[i];
	if (!d)
		return h;
	ret = read_fdata(c, d, "", &buf, &len);
	if (!ret && write_all(h, buf, len))
		ret = FAIL(c, "file %u: refilling the pipe: %s", d->id,
			   strerror(errno));
	free(buf);
	return ret ?: h;
}

/*
 * A pipe whose other end was outside: the caller hands us one to use
 * instead (--inherit-fd), or lets it come back with nobody at the other
 * end (--orphan-pipes).  Bytes the image saw queued for a reading end of
 * ours go into the inherited pipe.
 */
static int open_inherited(struct open_ctx *c, const struct crfs_file *f,
			  int fd)
{
	char self[64], *buf;
	size_t len;
	int w, ret;

	if ((f->flags & O_ACCMODE) != O_WRONLY && f->data) {
		snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
		w = open(self, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		ret = w < 0 ? -errno : read_fdata(c, f, "", &buf, &len);
		if (!ret && write_all(w, buf, len))
			ret = -errno;
		if (w >= 0) {
			close(w);
			free(buf);
		}
		if (ret)
			return FAIL(c, "file %u: queueing its %lu bytes into the inherited pipe: %s",
				    f->id, f->data, strerror(-ret));
	}
	return place(c, f, dup(fd));
}

static int open_pipe(struct open_ctx *c, const struct crfs_file *f)
{
	int h, fd;
	char self[64];
	size_t i;

	for (i = 0; f->external && i < c->img->ninherit; i++)
		if (c->img->inherit[i].ino == f->ino)
			return open_inherited(c, f, c->img->inherit[i].fd);
	if (f->external && !c->img->orphan_pipes)
		return FAIL(c, "file %u: pipe:[%lu] had its other end outside the image: give one with --inherit-fd 'pipe:[%lu]=FD', or restore it with nobody there with --orphan-pipes",
			    f->id, f->ino, f->ino);
	h = pipe_holder(c, f);
	if (h < 0)
		return h;
	snprintf(self, sizeof(self), "/proc/self/fd/%d", h);
	fd = open(self, (f->flags & O_ACCMODE) | O_NONBLOCK);
	if (fd >= 0 && fcntl(fd, F_SETFL, f->flags) < 0)
		return FAIL(c, "file %u: F_SETFL: %s", f->id, strerror(errno));
	return place(c, f, fd);
}

static int open_eventfd(struct open_ctx *c, const struct crfs_file *f)
{
	int fd = eventfd(0, (f->semaphore ? EFD_SEMAPHORE : 0) |
			    (f->flags & O_NONBLOCK));

	if (fd >= 0 && f->count && write(fd, &f->count, 8) != 8)
		return FAIL(c, "file %u: eventfd counter %lu: %s", f->id,
			    f->count, strerror(errno));
	return place(c, f, fd);
}

static void ns_to_ts(uint64_t ns, struct timespec *ts)
{
	ts->tv_sec = ns / 1000000000ULL;
	ts->tv_nsec = ns % 1000000000ULL;
}

static int open_timerfd(struct open_ctx *c, const struct crfs_file *f)
{
	int fd = timerfd_create(f->clock, f->flags & O_NONBLOCK);
	struct itimerspec its = { 0 };
	uint64_t ticks = f->ticks;

	if (fd < 0)
		return place(c, f, fd);
	ns_to_ts(f->value_ns, &its.it_value);
	ns_to_ts(f->interval_ns, &its.it_interval);
	/* remaining time, so relative whatever the flags were */
	if (f->value_ns && timerfd_settime(fd, 0, &its, NULL))
		return FAIL(c, "file %u: timerfd_settime: %s", f->id,
			    strerror(errno));
	if (ticks && ioctl(fd, TFD_IOC_SET_TICKS, &ticks))
		return FAIL(c, "file %u: timerfd ticks: %s", f->id,
			    strerror(errno));
	return place(c, f, fd);
}

static int open_signalfd(struct open_ctx *c, const struct crfs_file *f)
{
	uint64_t mask = f->sigmask;

	return place(c, f, syscall(SYS_signalfd4, -1, &mask, 8,
				   f->flags & O_NONBLOCK));
}

/* the same watch descriptors: add, and drop what comes too early */
static int add_watch(struct open_ctx *c, const struct crfs_file *f, int fd,
		     const struct crfs_inotify_watch *w)
{
	int wd, tries;

	for (tries = 0; tries < 65536; tries++) {
		wd = inotify_add_watch(fd, w->path, w->mask);
		if (wd < 0)
			return FAIL(c, "file %u: inotify watch on %s: %s", f->id,
				    w->path, strerror(errno));
		if (wd == w->wd)
			return 0;
		if (wd > w->wd)
			break;
		inotify_rm_watch(fd, wd);
	}
	return FAIL(c, "file %u: cannot get watch descriptor %d for %s", f->id,
		    w->wd, w->path);
}

static int cmp_wd(const void *a, const void *b)
{
	return ((const struct crfs_inotify_watch *)a)->wd -
	       ((const struct crfs_inotify_watch *)b)->wd;
}

static int open_inotify(struct open_ctx *c, const struct crfs_file *f)
{
	struct file_extra *x = &c->img->fx[f->id - 1];
	int fd = inotify_init1(IN_NONBLOCK), ret = 0;
	char buf[4096];
	size_t i;

	if (fd < 0)
		return place(c, f, fd);
	/* ids are handed out in increasing order */
	qsort(x->watches, x->nwatches, sizeof(*x->watches), cmp_wd);
	for (i = 0; !ret && i < x->nwatches; i++)
		ret = add_watch(c, f, fd, &x->watches[i]);
	/* the IN_IGNORED of the watches we dropped */
	while (!ret && read(fd, buf, sizeof(buf)) > 0)
		;
	if (!ret && fcntl(fd, F_SETFL, f->flags & O_NONBLOCK))
		ret = FAIL(c, "file %u: F_SETFL: %s", f->id, strerror(errno));
	if (ret) {
		close(fd);
		return ret;
	}
	return place(c, f, fd);
}

static int unhex(const char *s, void *out, size_t n)
{
	unsigned char *b = out;
	unsigned v;
	size_t i;

	if (strlen(s) != 2 * n)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		b[i] = v;
	}
	return 0;
}

/*
 * The terminal's termios (on the slave) and window size.  The slave stays
 * open (held) until every file is: a pts's last close resets its termios.
 */
static int pty_settings(int master, const char *slave, const struct crfs_file *f,
			int *held)
{
	struct termios tio;
	struct winsize ws = { 0 };
	unsigned r, c, x, y;
	int fd, ret = 0;

	if (f->winsize && sscanf(f->winsize, "%u,%u,%u,%u", &r, &c, &x, &y) == 4) {
		ws = (struct winsize){ r, c, x, y };
		if (ioctl(master, TIOCSWINSZ, &ws))
			return -errno;
	}
	if (!f->termios)
		return 0;
	if (unhex(f->termios, &tio, sizeof(tio)))
		return -EINVAL;
	fd = open(slave, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (tcsetattr(fd, TCSANOW, &tio))
		ret = -errno;
	*held = fd;
	return ret;
}

/* the bytes that were on their way, each way, queued again */
static int pty_queues(struct open_ctx *c, int master, int slave,
		      const struct crfs_file *f)
{
	char *in = NULL, *out = NULL;
	size_t inlen = 0, outlen = 0;
	struct termios tio;
	int ret;

	if (!f->data && !f->pty_input)
		return 0;
	if (slave < 0 || tcgetattr(slave, &tio))
		return -EIO;
	ret = read_fdata(c, f, "", &out, &outlen);
	if (!ret && f->pty_input)
		ret = read_fdata(c, f, ".input", &in, &inlen);
	if (!ret && inlen != f->pty_input)
		ret = -EIO;
	ret = ret ?: kh_pty_refill(master, slave, &tio, in, inlen, out, outlen);
	free(in);
	free(out);
	return ret;
}

/*
 * devpts hands out the lowest free index: hold what comes before ours.
 * A different index would change the terminal's name under the programs.
 */
static int open_ptmx(struct open_ctx *c, const struct crfs_file *f)
{
	int held[256], nheld = 0, fd = -1, idx = -1, zero = 0, ret = 0;
	char path[64];

	while (nheld < 256) {
		fd = open("/dev/ptmx", (f->flags & ~O_CREAT) | O_NOCTTY);
		if (fd < 0 || ioctl(fd, TIOCGPTN, &idx) || idx == f->pty_index)
			break;
		held[nheld++] = fd;
		fd = -1;
		if (idx > f->pty_index)
			break;
	}
	while (nheld)
		close(held[--nheld]);
	if (fd < 0)
		return FAIL(c, "file %u: /dev/pts/%d is taken on this host (got %d)",
			    f->id, f->pty_index, idx);
	snprintf(path, sizeof(path), "/dev/pts/%d", f->pty_index);
	if (!f->locked || f->termios)
		ret = ioctl(fd, TIOCSPTLCK, &zero) ? -errno : 0;
	if (!ret)
		ret = pty_settings(fd, path, f, &c->holder[f->id - 1]);
	if (!ret)
		ret = pty_queues(c, fd, c->holder[f->id - 1], f);
	if (!ret && f->locked) {
		int one = 1;

		ioctl(fd, TIOCSPTLCK, &one);
	}
	if (ret) {
		close(fd);
		return FAIL(c, "file %u (%s): terminal settings: %s", f->id, path,
			    strerror(-ret));
	}
	return place(c, f, fd);
}

static int open_pts(struct open_ctx *c, const struct crfs_file *f)
{
	char path[64];
	const char *p = path;

	snprintf(path, sizeof(path), "/dev/pts/%d", f->pty_index);
	if (f->external) {
		if (!c->img->shell_job)
			return FAIL(c, "file %u: %s is a terminal outside the image (a shell job's): restore with --shell-job to give it ours",
				    f->id, path);
		p = ttyname(STDIN_FILENO) ?: ttyname(STDOUT_FILENO) ?:
		    ttyname(STDERR_FILENO);
		if (!p)
			return FAIL(c, "--shell-job: crfs-restore runs on no terminal");
	}
	return place(c, f, open(p, (f->flags & ~O_CREAT) | O_NOCTTY));
}

static int take_flock(struct open_ctx *c, const struct crfs_file *f)
{
	if (!f->flock)
		return 0;
	if (flock(slot(c->img, f->id), (f->flock == 'w' ? LOCK_EX : LOCK_SH) |
		  LOCK_NB))
		return FAIL(c, "file %u (%s): flock: %s", f->id,
			    f->path ?: file_kind_name(f->kind), strerror(errno));
	return 0;
}

int lock_set(int fd, const struct crfs_lock *l, bool ofd)
{
	struct flock fl = {
		.l_type = l->write ? F_WRLCK : F_RDLCK,
		.l_whence = SEEK_SET,
		.l_start = l->start,
		.l_len = l->len,
	};

	return fcntl(fd, ofd ? F_OFD_SETLK : F_SETLK, &fl);
}

static int take_ofd_locks(struct open_ctx *c)
{
	const struct crfs_lock *l;
	size_t i;

	for (i = 0; i < c->img->nlocks; i++) {
		l = &c->img->locks[i];
		if (l->ofd && lock_set(slot(c->img, l->file), l, true))
			return FAIL(c, "%s: line %zu: OFD lock on file %u: %s",
				    CRFS_F_LOCKS, i + 1, l->file,
				    strerror(errno));
	}
	return 0;
}

static int open_one(struct open_ctx *c, const struct crfs_file *f)
{
	switch (f->kind) {
	case FK_FILE:
	case FK_CHR:
		return open_path(c, f);
	case FK_DELETED:
		return open_deleted(c, f);
	case FK_PIPE:
	case FK_FIFO:
		return open_pipe(c, f);
	case FK_EVENTFD:
		return open_eventfd(c, f);
	case FK_TIMERFD:
		return open_timerfd(c, f);
	case FK_SIGNALFD:
		return open_signalfd(c, f);
	case FK_EPOLL:
		return place(c, f, epoll_create1(0));
	case FK_INOTIFY:
		return open_inotify(c, f);
	case FK_PTMX:
		return open_ptmx(c, f);
	case FK_UNIX:
	case FK_PTS:
		return 0;	/* once what they refer to is there */
	default:
		return FAIL(c, "file %u: unknown kind", f->id);
	}
}

/* the first fd above every one we hold */
static int table_base(void)
{
	struct dirent *de;
	int base = 3, fd;
	DIR *d;

	d = opendir("/proc/self/fd");
	while (d && (de = readdir(d)))
		if ((fd = atoi(de->d_name)) >= base)
			base = fd + 1;
	if (d)
		closedir(d);
	return base + 1;	/* room for the opendir above */
}

static int max_fd(const struct proc_image *p)
{
	return p->nfds ? p->fds[p->nfds - 1].fd : -1;
}

/*
 * The table, then in each child its own descriptors and, above them, one
 * helper per mapping: all below the hard limit, which we cannot raise.
 */
static int make_room(struct image *img, char *err, size_t errlen)
{
	struct rlimit rl;
	uint64_t need = 0, n;
	size_t i;

	img->fd_base = table_base();
	img->fd_end = img->fd_base + img->nfiles;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	for (i = 0; i < img->nprocs; i++) {
		n = max_fd(&img->procs[i]) + img->procs[i].nvmas + 64;
		if (n > need)
			need = n;
	}
	if ((uint64_t)img->fd_end + 2 > need)
		need = img->fd_end + 2;
	if (need > rl.rlim_max) {
		snprintf(err, errlen, "the image needs %lu descriptors; this host allows %lu (RLIMIT_NOFILE)",
			 need, rl.rlim_max);
		return -EMFILE;
	}
	return 0;
}

int files_open(struct image *img, char *err, size_t errlen)
{
	struct open_ctx c = { img, err, errlen, NULL };
	size_t i;
	int ret;

	ret = make_room(img, err, errlen);
	if (ret)
		return ret;
	c.holder = malloc((img->nfiles + 1) * sizeof(int));
	if (!c.holder)
		return FAIL(&c, "out of memory");
	for (i = 0; i < img->nfiles; i++)
		c.holder[i] = -1;
	for (i = 0; !ret && i < img->nfiles; i++)
		ret = open_one(&c, &img->files[i]);
	/* sockets last: their queues may carry any other file in flight */
	for (i = 0; !ret && i < img->nfiles; i++)
		if (img->files[i].kind == FK_PTS)
			ret = open_pts(&c, &img->files[i]);
	ret = ret ?: sockets_open(img, err, errlen);
	for (i = 0; !ret && i < img->nfiles; i++)
		ret = take_flock(&c, &img->files[i]);
	ret = ret ?: take_ofd_locks(&c);
	for (i = 0; i < img->nfiles; i++)
		if (c.holder[i] >= 0)
			close(c.holder[i]);
	free(c.holder);
	if (ret)
		files_close(img);
	return ret;
}

void files_close(struct image *img)
{
	if (img->fd_end > img->fd_base)
		syscall(SYS_close_range, img->fd_base, img->fd_end - 1, 0);
}

static void register_epoll(struct image *img, struct proc_image *p,
			   const struct crfs_file *f, int err_fd)
{
	const struct file_extra *x = &img->fx[f->id - 1];
	struct epoll_event ev;
	int epfd = proc_fd_of(p, f->id);
	size_t i;

	for (i = 0; i < x->nitems; i++) {
		ev.events = x->items[i].events;
		ev.data.u64 = x->items[i].data;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, x->items[i].tfd, &ev))
			child_fail(err_fd, "epoll fd %d: watching fd %d: %m",
				   epfd, x->items[i].tfd);
	}
}

/*
 * Moves every table slot this process needs onto its own descriptors.  The
 * table may overlap them (the hard limit leaves no room for both side by
 * side), so this is a parallel move: a descriptor is written only once no
 * pending move reads from it, and a cycle is broken by moving one source
 * above every target.
 */
struct mover {
	int *cur;		/* per own fd: where its file is now */
	bool *done;
	int *users;		/* per fd number: pending moves reading it */
	bool *placed;		/* per fd number: holds its final file */
	int size, above;
};

static void move_one(struct mover *m, const struct crfs_fd *d, size_t i,
		     int err_fd)
{
	int s = m->cur[i];

	if (s != d->fd && dup2(s, d->fd) < 0)
		child_fail(err_fd, "fd %d (file %u): dup2: %m", d->fd, d->file);
	m->placed[d->fd] = true;
	m->done[i] = true;
	if (--m->users[s] == 0 && !m->placed[s])
		close(s);
}

static void break_cycle(struct mover *m, struct proc_image *p, int err_fd)
{
	size_t i, k;
	int d, nd;

	for (i = 0; m->done[i]; i++)
		;
	d = p->fds[i].fd;	/* a source still needed sits there */
	nd = fcntl(d, F_DUPFD, m->above);
	if (nd < 0 || nd >= m->size)
		child_fail(err_fd, "no descriptor free to move fd %d: %m", d);
	for (k = 0; k < p->nfds; k++)
		if (!m->done[k] && m->cur[k] == d)
			m->cur[k] = nd;
	m->users[nd] = m->users[d];
	m->users[d] = 0;
	close(d);
}

static void install_fds(struct image *img, struct proc_image *p, int err_fd)
{
	struct mover m;
	size_t i, left = p->nfds;
	bool moved;
	int s;

	m.above = max_fd(p) + 1;
	m.size = (m.above > img->fd_end ? m.above : img->fd_end) + p->nfds + 2;
	m.cur = calloc(p->nfds + 1, sizeof(int));
	m.done = calloc(p->nfds + 1, sizeof(bool));
	m.users = calloc(m.size, sizeof(int));
	m.placed = calloc(m.size, sizeof(bool));
	if (!m.cur || !m.done || !m.users || !m.placed)
		child_fail(err_fd, "out of memory");
	for (i = 0; i < p->nfds; i++) {
		m.cur[i] = slot(img, p->fds[i].file);
		m.users[m.cur[i]]++;
	}
	/* what we do not use, others have inherited already */
	for (s = img->fd_base; s < img->fd_end; s++)
		if (!m.users[s])
			close(s);
	while (left) {
		moved = false;
		for (i = 0; i < p->nfds; i++) {
			if (m.done[i] || (m.cur[i] != p->fds[i].fd &&
					  m.users[p->fds[i].fd]))
				continue;
			move_one(&m, &p->fds[i], i, err_fd);
			moved = true;
			left--;
		}
		if (!moved)
			break_cycle(&m, p, err_fd);
	}
	for (i = 0; i < p->nfds; i++)
		if (p->fds[i].cloexec)
			fcntl(p->fds[i].fd, F_SETFD, FD_CLOEXEC);
	free(m.cur);
	free(m.done);
	free(m.users);
	free(m.placed);
}

/*
 * A session leader takes its terminal back, and gives it its foreground
 * group, which another process of the tree may still be creating.
 */
static void take_ctty(struct image *img, struct proc_image *p,
		      const struct crfs_file *f, int err_fd)
{
	char path[64];
	pid_t fg = image_vpid(img, f->fg);
	int fd = proc_fd_of(p, f->id), tries;
	bool own = fd < 0;

	snprintf(path, sizeof(path), "/dev/pts/%d", f->pty_index);
	if (own)
		fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, TIOCSCTTY, 0))
		child_fail(err_fd, "%s: cannot make it our controlling terminal: %m",
			   path);
	for (tries = 0; f->fg && tcsetpgrp(fd, fg); tries++) {
		if (tries == 500)
			child_fail(err_fd, "%s: foreground group %d: %m", path, fg);
		usleep(10000);
	}
	if (own)
		close(fd);
}

void files_install(struct image *img, struct proc_image *p,
		   struct helper_fds *h)
{
	const struct crfs_lock *l;
	int err_fd = h->err_fd;
	size_t i;

	install_fds(img, p, err_fd);
	for (i = 0; i < img->nfiles; i++)
		if (img->files[i].kind == FK_PTS && !img->files[i].external &&
		    img->files[i].session == p->pid && p->attr.sid == p->pid)
			take_ctty(img, p, &img->files[i], err_fd);
	for (i = 0; i < img->nfiles; i++)
		if (img->files[i].kind == FK_EPOLL &&
		    img->files[i].owner == p->pid)
			register_epoll(img, p, &img->files[i], err_fd);
	/* POSIX locks: the restorer takes them, once our helpers are gone */
	h->locks = calloc(img->nlocks + 1, sizeof(*h->locks));
	h->lock_fds = calloc(img->nlocks + 1, sizeof(int));
	if (!h->locks || !h->lock_fds)
		child_fail(err_fd, "out of memory");
	for (i = 0; i < img->nlocks; i++) {
		l = &img->locks[i];
		if (l->ofd || l->pid != p->pid)
			continue;
		h->locks[h->nlocks] = l;
		h->lock_fds[h->nlocks++] = proc_fd_of(p, l->file);
	}
}
