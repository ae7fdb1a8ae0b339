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
#include "files.h"
#include "safe_path.h"
#include "ghost.h"

/* the kernel doubles what it is given: give half of what it showed */
int set_buffers(int sk, const struct crfs_file *f)
{
	int snd = f->sndbuf / 2, rcv = f->rcvbuf / 2;

	if ((snd && setsockopt(sk, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof(snd))) ||
	    (rcv && setsockopt(sk, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv))))
		return -errno;
	return 0;
}

int set_sockopts(int sk, const struct kh_sockopt *o, int n, uint32_t on)
{
	int i, v;

	for (i = 0; i < n; i++) {
		v = on >> i & 1;
		if (setsockopt(sk, o[i].level, o[i].name, &v, sizeof(v)) && v)
			return -errno;
	}
	return 0;
}

int set_valued_sockopts(struct open_ctx *c, int sk, const struct crfs_file *f)
{
	const char *bad;
	int ret;

	if (!f->sockopts)
		return 0;
	ret = kh_sockopts_apply(sk, f->sockopts, &bad);
	if (ret)
		return FAIL(c, "file %u: socket option %s: %s", f->id, bad,
			    strerror(-ret));
	return 0;
}

static int open_flags(const struct crfs_file *f)
{
	int flags = (f->flags & ~(O_CREAT | O_EXCL | O_TRUNC)) | O_NOCTTY;

	/* F_GETFL of an O_TMPFILE file says so (with O_DIRECTORY): reopened
	 * through its /proc link, those would ask for a directory */
	if (S_ISREG(f->mode))
		flags &= ~O_TMPFILE;
	return flags;
}

/* a deleted file made at its path for a moment: never through a planted
 * symlink */
static int check_made(struct open_ctx *c, const struct crfs_file *f)
{
	char why[PATH_MAX + 64];

	if (safe_path(f->path, why, sizeof(why)))
		return FAIL(c, "%s (deleted, file %u): %s", f->path, f->id,
			    why);
	return 0;
}

static int open_path(struct open_ctx *c, const struct crfs_file *f)
{
	struct stat st;
	int fd = f->ghost ? check_made(c, f) : 0;

	if (fd)
		return fd;
	fd = f->ghost ? ghost_open(f, open_flags(f)) :
			open(f->path, open_flags(f));

	if (fd < 0)
		return FAIL(c, "%s (%sfile %u): %s", f->path,
			    f->ghost ? "deleted, " : "", f->id,
			    strerror(f->ghost ? -fd : errno));
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
	/* a directory's position is a cookie of its filesystem: try it */
	if (S_ISDIR(st.st_mode) && f->pos && !(f->flags & O_PATH))
		lseek(fd, f->pos, SEEK_SET);
	return place(c, f, fd);
}

/*
 * An O_TMPFILE file never linked: F_GETFL says O_TMPFILE and /proc names it
 * "#INO".  It is made again the same way, and that description is the one
 * restored: the program can still link it into place (linkat() of a
 * description made otherwise, or of a file that was linked once, fails
 * with ENOENT once its last name is gone), and its flags say O_TMPFILE.
 * Its /proc name is that of its new inode number.
 */
static bool never_linked(const struct crfs_file *f)
{
	const char *b = strrchr(f->path, '/');

	if ((f->flags & O_TMPFILE) != O_TMPFILE || !S_ISREG(f->mode) ||
	    !b || b[1] != '#' || !b[2])
		return false;
	return strspn(b + 2, "0123456789") == strlen(b + 2);
}

/*
 * The slot of an unlinked file restored before f that is f's inode under
 * another name or description (hard links unlinked while open): same
 * inode number, kind, mode and size.  -1 if none.
 */
static bool same_inode(const struct crfs_file *f, const struct crfs_file *g)
{
	return g->kind == FK_DELETED && g->ino == f->ino &&
	       g->mode == f->mode && g->data == f->data &&
	       !strncmp(g->path, "/memfd:", 7) == !strncmp(f->path, "/memfd:", 7);
}

static int same_deleted(struct open_ctx *c, const struct crfs_file *f)
{
	uint32_t id;

	for (id = 1; id < f->id; id++)
		if (same_inode(f, &c->img->files[id - 1]))
			return slot(c->img, id);
	return -1;
}

/* g's slot holds other's inode already (open_names put it there) */
static bool placed_early(struct open_ctx *c, const struct crfs_file *g,
			 int other)
{
	struct stat a, b;

	return !fstat(slot(c->img, g->id), &a) && !fstat(other, &b) &&
	       S_ISREG(a.st_mode) && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/* another description of an inode made already: opened through it */
static int open_deleted_again(struct open_ctx *c, const struct crfs_file *f,
			      int other)
{
	char self[64];
	int fd;

	if (placed_early(c, f, other))
		return 0;
	/* reopened, it would lack O_TMPFILE and could not be linked: only
	 * the first description of an inode is made with it */
	if (never_linked(f))
		return FAIL(c, "%s (deleted, file %u): an O_TMPFILE file whose own description comes after another of its inode (opened again through /proc) is not supported",
			    f->path, f->id);
	snprintf(self, sizeof(self), "/proc/self/fd/%d", other);
	fd = open(self, open_flags(f) & ~O_NOFOLLOW);
	if (fd >= 0 && lseek(fd, f->pos, SEEK_SET) != (off_t)f->pos) {
		close(fd);
		return FAIL(c, "%s (deleted, file %u): cannot seek: %s", f->path,
			    f->id, strerror(errno));
	}
	return place(c, f, fd);
}

/*
 * The memfd_create() description itself, for a memfd's first read-write
 * one: an open() through /proc takes write access to the inode (which
 * memfd_create's own file never does), and execveat() of the memfd then
 * fails with ETXTBSY (zdtm memfd04).  *tmp is taken.
 */
static int born_memfd(const struct crfs_file *f, int *tmp)
{
	int fd = *tmp;

	*tmp = -1;
	if (fcntl(fd, F_SETFL, f->flags) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* its flags to make it with: those F_SETFL sets come after the refill
 * (O_APPEND would append every write of it, O_DIRECT refuse them) */
static int tmpfile_flags(const struct crfs_file *f)
{
	return (f->flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_APPEND | O_DIRECT |
			     O_ASYNC | O_NONBLOCK | O_NOATIME)) |
	       O_TMPFILE | O_CLOEXEC;
}

/*
 * The first description of an unlinked inode restored, opened at its own
 * name.  The inode's later descriptions opened through other names (hard
 * links unlinked while open) are opened at theirs and placed meanwhile,
 * while this name holds the inode: once all its names are gone it cannot
 * be linked again.  Any of them that cannot is reopened through /proc by
 * open_deleted_again, named as this one.
 */
static int open_names(struct open_ctx *c, const struct crfs_file *f, int tmp)
{
	const struct crfs_file *g;
	struct ghost_name n;
	char self[64];
	uint32_t id;
	int fd = -1;

	if (ghost_name_link(&n, tmp, f->path))
		goto by_proc;	/* its name is taken: as the others' */
	for (id = f->id + 1; id <= c->img->nfiles; id++) {
		g = &c->img->files[id - 1];
		if (!same_inode(f, g) || !strcmp(g->path, f->path))
			continue;
		fd = ghost_open_named(tmp, g->path, open_flags(g));
		if (fd >= 0 && lseek(fd, g->pos, SEEK_SET) == (off_t)g->pos)
			place(c, g, fd);
		else if (fd >= 0)
			close(fd);
	}
	fd = ghost_name_open_drop(&n, tmp, open_flags(f));
by_proc:
	safe_fd_path(tmp, self, sizeof(self));
	return fd >= 0 ? fd : open(self, open_flags(f) & ~O_NOFOLLOW);
}

/* an unlinked file again: its contents, in its directory, with no name */
static int open_deleted(struct open_ctx *c, const struct crfs_file *f)
{
	char self[64], *buf, why[PATH_MAX + 64];
	bool sealed = !strncmp(f->path, "/memfd:", 7), named = false;
	bool keep = false;	/* tmp is the description restored */
	struct safe_dir d = { .fd = -1 };
	size_t len;
	int tmp, fd, ret, other = same_deleted(c, f);

	if (!sealed && (ret = check_made(c, f)))
		return ret;
	if (other >= 0)
		return open_deleted_again(c, f, other);
	/* a file also mapped shared is that mapping's object */
	tmp = shm_open_ino(c->img, f->ino);
	named = tmp < 0 && !sealed;	/* O_TMPFILE */
	if (tmp >= 0)
		sealed = false;		/* sealing is not asked of those */
	else if (sealed)
		tmp = memfd_create(f->path + 7, MFD_CLOEXEC |
				   (f->seals != F_SEAL_SEAL ? MFD_ALLOW_SEALING : 0));
	else if (safe_dir_open(&d, f->path, true, why, sizeof(why)))
		/* its directory, removed since too, is made for the while */
		return FAIL(c, "%s (deleted, file %u): %s", f->path, f->id, why);
	else if ((keep = never_linked(f)))
		tmp = openat(d.fd, ".", tmpfile_flags(f), f->mode & 07777);
	else
		tmp = openat(d.fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC,
			     f->mode & 07777);
	named = named && !keep;
	if (tmp < 0) {
		ret = FAIL(c, "%s (deleted, file %u): cannot recreate it: %s",
			   f->path, f->id, strerror(errno));
		safe_dir_close(&d);
		return ret;
	}
	ret = read_fdata(c, f, "", &buf, &len);
	/* a hugetlb memfd is its mapping's object, filled from the image */
	if (!ret && !shm_is_hugetlb(c->img, f->ino) &&
	    write_sparse(tmp, buf, len))
		ret = FAIL(c, "%s (deleted, file %u): %s", f->path, f->id,
			   strerror(errno));
	free(buf);
	/* its owner and times last: the refill wrote it */
	fd = !ret && f->times ? ghost_attrs(tmp, f) : 0;
	if (fd)
		ret = FAIL(c, "%s (deleted, file %u): owner, mode, times: %s",
			   f->path, f->id, strerror(-fd));
	else if (!f->times)
		fchmod(tmp, f->mode & 07777);
	/* last: F_SEAL_WRITE would stop the refill */
	if (!ret && sealed && f->seals != F_SEAL_SEAL && f->seals &&
	    fcntl(tmp, F_ADD_SEALS, f->seals) < 0)
		ret = FAIL(c, "%s (deleted, file %u): seals %#x: %s", f->path,
			   f->id, f->seals, strerror(errno));
	snprintf(self, sizeof(self), "/proc/self/fd/%d", tmp);
	/* through /proc, a link: O_NOFOLLOW (mkstemp's) must not stop us */
	if (ret)
		fd = -1;
	else if (keep && fcntl(tmp, F_SETFL, f->flags) < 0)
		ret = FAIL(c, "%s (deleted, file %u): flags %#o: %s", f->path,
			   f->id, f->flags, strerror(errno));
	else if (keep)
		fd = tmp, tmp = -1;
	else if (named)
		fd = open_names(c, f, tmp);
	else if (sealed && (f->flags & O_ACCMODE) == O_RDWR)
		fd = born_memfd(f, &tmp);
	else
		fd = open(self, open_flags(f) & ~O_NOFOLLOW);
	safe_dir_close(&d);
	if (tmp >= 0)
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

static int parse_msg(struct open_ctx *c, char *line, struct msg *m)
{
	char *end, *tok;
	unsigned long id;

	m->len = strtoull(line, &end, 10);
	m->nfds = 0;
	m->from = 0;
	if (end == line || (*end && *end != ' '))
		return -EINVAL;
	line = *end ? end + 1 : end;
	if ((tok = strstr(line, "from="))) {
		m->from = strtoull(tok + 5, &end, 10);
		if (*end || !m->from || (tok > line && tok[-1] != ' '))
			return -EINVAL;
		*tok = '\0';
	}
	for (tok = strtok(line, ", "); tok; tok = strtok(NULL, ", ")) {
		id = strtoul(tok, &end, 10);
		if (*end || !id || id > c->img->nfiles || m->nfds == 253)
			return -EINVAL;
		m->fds[m->nfds++] = slot(c->img, id);
	}
	return 0;
}

/* fdata/ID.msgs: "LEN [FILE,FILE...] [from=INO]" a line, summing to data */
int read_msgs(struct open_ctx *c, const struct crfs_file *f, struct msg **out)
{
	char *buf, *line, *save = NULL;
	uint64_t sum = 0;
	size_t len, n = 0;
	struct msg *m;
	int ret;

	*out = NULL;
	if (!f->nmsgs)
		return 0;
	ret = read_fdata(c, f, ".msgs", &buf, &len);
	if (ret)
		return ret;
	m = calloc(f->nmsgs, sizeof(*m));
	for (line = strtok_r(buf, "\n", &save); m && line && !ret;
	     line = strtok_r(NULL, "\n", &save)) {
		if (n == f->nmsgs || parse_msg(c, line, &m[n]))
			ret = -EINVAL;
		else
			sum += m[n++].len;
	}
	free(buf);
	if (!m)
		return FAIL(c, "out of memory");
	if (ret || n != f->nmsgs || sum != f->data) {
		free(m);
		return FAIL(c, "%s/%s/%u.msgs: does not describe %u messages of %lu bytes",
			    c->img->dir, CRFS_D_FDATA, f->id, f->nmsgs, f->data);
	}
	*out = m;
	return 0;
}

/*
 * Packets of a packet-mode pipe, each written on its own through an
 * O_DIRECT end (fdata/ID.msgs: a length a line); one write otherwise.
 */
static int refill_pipe(struct open_ctx *c, const struct crfs_file *d, int h,
		       bool packets)
{
	size_t len, off = 0, part, i, n;
	struct msg *msgs = NULL;
	char *buf;
	int ret;

	ret = read_fdata(c, d, "", &buf, &len);
	ret = ret ?: read_msgs(c, d, &msgs);
	if (!ret && packets && fcntl(h, F_SETFL, O_RDWR | O_NONBLOCK | O_DIRECT) < 0)
		ret = FAIL(c, "file %u: packet mode: %s", d->id, strerror(errno));
	n = msgs ? d->nmsgs : 1;
	for (i = 0; !ret && i < n; i++, off += part) {
		part = msgs ? msgs[i].len : len;
		ret = write_all(h, buf + off, part);
		if (ret)
			ret = FAIL(c, "file %u: refilling the pipe: %s", d->id,
				   strerror(-ret));
	}
	if (!ret && packets)
		fcntl(h, F_SETFL, O_RDWR | O_NONBLOCK);
	free(msgs);
	free(buf);
	return ret;
}

/* the index of the first file of f's pipe or FIFO (f's own at the most) */
static size_t pipe_first(const struct image *img, const struct crfs_file *f)
{
	size_t i;

	for (i = 0; i + 1 < f->id; i++)
		if (img->files[i].kind == f->kind && img->files[i].ino == f->ino)
			break;
	return i;
}

/*
 * A pipe or FIFO is first opened read-write by a holder, which refills it
 * and keeps both ends alive while each description reopens it with its
 * own flags (a lone O_WRONLY open would fail or block).  A pipe's own
 * two pipe2() ends are kept for its descriptions pipe_end gives them to.
 */
static int pipe_holder(struct open_ctx *c, const struct crfs_file *f)
{
	struct image *img = c->img;
	const struct crfs_file *d = NULL;
	bool packets = false;
	char self[64];
	int p[2], h, ret;
	size_t i;

	i = pipe_first(img, f);
	if (i + 1 < f->id)
		return c->holder[i];
	if (f->kind == FK_FIFO && f->ghost) {
		h = check_made(c, f);
		if (h)
			return h;
		h = ghost_open(f, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		errno = h < 0 ? -h : 0;
	} else if (f->kind == FK_FIFO) {
		h = open(f->path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	} else {
		if (pipe2(p, O_CLOEXEC))
			return FAIL(c, "pipe: %s", strerror(errno));
		snprintf(self, sizeof(self), "/proc/self/fd/%d", p[0]);
		h = open(self, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		c->ends[2 * (f->id - 1)] = p[0];
		c->ends[2 * (f->id - 1) + 1] = p[1];
	}
	if (h < 0)
		return FAIL(c, "file %u (%s): %s", f->id, file_kind_name(f->kind),
			    strerror(errno));
	c->holder[f->id - 1] = h;
	if (fcntl(h, F_SETPIPE_SZ, f->pipe_size) < 0)
		return FAIL(c, "file %u: F_SETPIPE_SZ %u: %s", f->id,
			    f->pipe_size, strerror(errno));
	for (i = 0; i < img->nfiles; i++) {
		if (img->files[i].kind != f->kind || img->files[i].ino != f->ino)
			continue;
		if (img->files[i].data)
			d = &img->files[i];
		packets |= !!(img->files[i].flags & O_DIRECT);
	}
	if (!d)
		return h;
	ret = refill_pipe(c, d, h, packets || d->nmsgs);
	if (ret || f->kind != FK_FIFO)
		return ret ?: h;
	/* the refill wrote into the FIFO: its times again */
	ret = f->ghost ? ghost_attrs(h, f) : ghost_times(h, f);
	if (ret)
		return FAIL(c, "file %u (fifo): times: %s", f->id, strerror(-ret));
	return h;
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

/*
 * An end as pipe(2) made it: open() (of /proc/self/fd/N) always adds
 * O_LARGEFILE on 64-bit, which F_SETFL cannot take away, and a pipe's
 * own two ends have none.  Each is given out once; -1 if f has the flag
 * or its end is taken (a description the process opened again).
 */
#define KERNEL_O_LARGEFILE 0100000	/* glibc's O_LARGEFILE is 0 on 64-bit */

static int pipe_end(struct open_ctx *c, const struct crfs_file *f)
{
	int mode = f->flags & O_ACCMODE, *e, fd;

	if (f->kind != FK_PIPE || (f->flags & KERNEL_O_LARGEFILE) ||
	    (mode != O_RDONLY && mode != O_WRONLY))
		return -1;
	e = &c->ends[2 * pipe_first(c->img, f) + (mode == O_WRONLY)];
	fd = *e;
	*e = -1;
	if (fd >= 0)	/* as the open() below: no O_CLOEXEC until placed */
		fcntl(fd, F_SETFD, 0);
	return fd;
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
	fd = pipe_end(c, f);
	if (fd < 0) {
		snprintf(self, sizeof(self), "/proc/self/fd/%d", h);
		fd = open(self, (f->flags & O_ACCMODE) | O_NONBLOCK);
	}
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

/*
 * An absolute timer whose time passed while the container was down has
 * fired meanwhile: those expirations are counted here and it is armed at
 * its next one.  (Left to the kernel, it would fire at once and race with
 * TFD_IOC_SET_TICKS, which must come after timerfd_settime clears them.)
 */
static uint64_t passed_expirations(const struct crfs_file *f, uint64_t *next)
{
	struct timespec now;
	uint64_t t, n;

	*next = f->expires;
	if (clock_gettime(f->clock, &now))
		return 0;
	t = now.tv_sec * 1000000000ULL + now.tv_nsec;
	if (t < f->expires)
		return 0;
	n = f->interval_ns ? (t - f->expires) / f->interval_ns + 1 : 1;
	*next = f->interval_ns ? f->expires + n * f->interval_ns : 0;
	return n;
}

static int open_timerfd(struct open_ctx *c, const struct crfs_file *f)
{
	int fd = timerfd_create(f->clock, f->flags & O_NONBLOCK);
	struct itimerspec its = { 0 };
	uint64_t ticks = f->ticks, next;
	int flags = f->tflags;

	if (fd < 0)
		return place(c, f, fd);
	ns_to_ts(f->value_ns, &its.it_value);
	ns_to_ts(f->interval_ns, &its.it_interval);
	/* an absolute timer at its time again, with its flags (cancel on
	 * set, kept even while disarmed); a relative one with the time it
	 * had left */
	if ((f->tflags & TFD_TIMER_ABSTIME) && f->expires) {
		ticks += passed_expirations(f, &next);
		ns_to_ts(next, &its.it_value);
	} else if (f->value_ns) {
		flags = 0;
	}
	if ((f->value_ns || flags) && timerfd_settime(fd, flags, &its, NULL))
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
	const char *path = w->path;
	uint32_t mask = w->mask;
	char self[64];
	int wd, tries;

	/* a deleted file: the unlinked one restored for its description */
	if (w->file) {
		if (w->file > c->img->nfiles ||
		    c->img->files[w->file - 1].kind != FK_DELETED)
			return FAIL(c, "file %u: watch %d on file %u, not a deleted file",
				    f->id, w->wd, w->file);
		snprintf(self, sizeof(self), "/proc/self/fd/%d",
			 slot(c->img, w->file));
		path = self;
		mask &= ~IN_DONT_FOLLOW;
	}
	for (tries = 0; tries < 65536; tries++) {
		wd = inotify_add_watch(fd, path, mask);
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

static int open_inotify(struct open_ctx *c, const struct crfs_file *f)
{
	const struct file_extra *x = &c->img->fx[f->id - 1];
	int fd = inotify_init1(IN_NONBLOCK), ret = 0;
	char buf[4096];
	size_t i;

	if (fd < 0)
		return place(c, f, fd);
	/* ids are handed out in increasing order, as the list is sorted */
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

static int take_flock(struct open_ctx *c, const struct crfs_file *f)
{
	if (!f->flock || flock_by_owner(c->img, f))
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

/* kinds made elsewhere: sockets once their peers exist (sockets.c),
 * pty slaves once their master is there */
static int open_later(struct open_ctx *c, const struct crfs_file *f)
{
	(void)c;
	(void)f;
	return 0;
}

/*
 * Pidfds of a live process: by each holder, once it exists (install.c).
 * Of one that had exited: every pidfd of it (one pidfs inode) at once, of
 * a stand-in that then ends as it did (kh_dead_pidfds), at the first.
 */
static int open_pidfd(struct open_ctx *c, const struct crfs_file *f)
{
	const struct crfs_file *g;
	unsigned int flags[64];
	const struct crfs_file *of[64];
	int fds[64], ret;
	size_t i, n = 0;

	if (f->pidfd_pid > 0)
		return 0;
	for (i = 0; i < c->img->nfiles; i++) {
		g = &c->img->files[i];
		if (g->kind != FK_PIDFD || g->pidfd_pid > 0 || g == f ||
		    !f->ino || g->ino != f->ino)
			continue;
		if (g->id < f->id)
			return 0;	/* made with g */
		if (g->exit_status != f->exit_status)
			return FAIL(c, "file %u: a pidfd of the process of file %u (pidfs inode %llu) with another exit status",
				    g->id, f->id, (unsigned long long)f->ino);
		if (n == 63)
			return FAIL(c, "file %u: more than 64 pidfds of one process that has exited",
				    f->id);
		of[++n] = g;
	}
	of[0] = f;
	for (i = 0; i <= n; i++)
		flags[i] = of[i]->flags & (O_NONBLOCK | O_EXCL);
	ret = kh_dead_pidfds(f->exit_status, flags, fds, n + 1);
	if (ret)
		return FAIL(c, "file %u: a pidfd of a process that exited with status %#x: %s",
			    f->id, f->exit_status, strerror(-ret));
	for (i = 0, ret = 0; i <= n; i++)
		ret = ret ?: place(c, of[i], fds[i]);
	return ret;
}

static int open_epoll(struct open_ctx *c, const struct crfs_file *f)
{
	return place(c, f, epoll_create1(0));
}

/* a live process's /proc files: by each holder, once the process exists */
static int open_proc(struct open_ctx *c, const struct crfs_file *f)
{
	return f->dead ? open_proc_dead(c, f) : 0;
}

typedef int (*opener_fn)(struct open_ctx *c, const struct crfs_file *f);

static const opener_fn openers[FK_COUNT] = {
	[FK_FILE] = open_path,
	[FK_CHR] = open_path,
	[FK_DELETED] = open_deleted,
	[FK_PIPE] = open_pipe,
	[FK_FIFO] = open_pipe,
	[FK_UNIX] = open_later,
	[FK_EVENTFD] = open_eventfd,
	[FK_TIMERFD] = open_timerfd,
	[FK_SIGNALFD] = open_signalfd,
	[FK_EPOLL] = open_epoll,
	[FK_INOTIFY] = open_later,	/* once the deleted files it may
					 * watch are (files_open) */
	[FK_PTMX] = open_ptmx,
	[FK_PTS] = open_later,
	[FK_PIDFD] = open_pidfd,
	[FK_NETLINK] = open_netlink,
	[FK_INET] = open_inet,
	[FK_FANOTIFY] = open_fanotify,
	[FK_PROC] = open_proc,
	[FK_MQUEUE] = open_mqueue,
	[FK_NSFD] = open_nsfd,
	[FK_RAW] = open_raw,
	[FK_PACKET] = open_packet,
	[FK_TUN] = open_tun,
	[FK_BPFMAP] = open_bpfmap,
};

static int open_one(struct open_ctx *c, const struct crfs_file *f)
{
	/* the parser only makes kinds it knows; every kind has a row */
	if ((unsigned int)f->kind >= FK_COUNT || !openers[f->kind])
		return FAIL(c, "file %u: unknown kind", f->id);
	return openers[f->kind](c, f);
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


/*
 * The table, then in each child its own descriptors and, above them, one
 * helper per mapped object: all below the hard limit, which we cannot raise.
 */
static int make_room(struct image *img, char *err, size_t errlen)
{
	struct rlimit rl;
	uint64_t need = 0, n;
	ssize_t nobj;
	size_t i;

	img->fd_base = table_base();
	img->fd_end = img->fd_base + img->nfiles;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	for (i = 0; i < img->nprocs; i++) {
		nobj = vma_objects(&img->procs[i]);
		if (nobj < 0) {
			snprintf(err, errlen, "counting mapped files: out of memory");
			return -ENOMEM;
		}
		n = proc_max_fd(&img->procs[i]) + nobj + 64;
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

/*
 * Holds every slot of the table with a placeholder until its file is
 * there: whatever we open meanwhile (socket pairs, holders, scratch
 * senders) gets the lowest free number, which must never be a slot, or
 * placing a file would close it.  dup2() over the placeholder is atomic.
 */
static int reserve_table(struct image *img, char *err, size_t errlen)
{
	int ph = open("/", O_PATH | O_CLOEXEC), s, ret = 0;

	for (s = img->fd_base; ph >= 0 && !ret && s < img->fd_end; s++)
		if (dup3(ph, s, O_CLOEXEC) < 0)
			ret = -errno;
	if (ph < 0)
		ret = -errno;
	else
		close(ph);
	if (ret)
		snprintf(err, errlen, "cannot reserve descriptors %d-%d for the files table: %s",
			 img->fd_base, img->fd_end - 1, strerror(-ret));
	return ret;
}

int files_open(struct image *img, char *err, size_t errlen)
{
	struct open_ctx c = { img, err, errlen, NULL, NULL };
	size_t i;
	int ret;

	ret = make_room(img, err, errlen);
	ret = ret ?: reserve_table(img, err, errlen);
	if (ret) {
		files_close(img);
		return ret;
	}
	c.holder = malloc((img->nfiles + 1) * sizeof(int));
	c.ends = malloc((2 * img->nfiles + 1) * sizeof(int));
	if (!c.holder || !c.ends) {
		free(c.holder);
		free(c.ends);
		return FAIL(&c, "out of memory");
	}
	for (i = 0; i < img->nfiles; i++)
		c.holder[i] = c.ends[2 * i] = c.ends[2 * i + 1] = -1;
	for (i = 0; !ret && i < img->nfiles; i++)
		ret = open_one(&c, &img->files[i]);
	ret = ret ?: tcp_pending_open(&c);
	for (i = 0; !ret && i < img->nfiles; i++)
		if (img->files[i].kind == FK_INOTIFY)
			ret = open_inotify(&c, &img->files[i]);
	/* sockets last: their queues may carry any other file in flight */
	for (i = 0; !ret && i < img->nfiles; i++)
		if (img->files[i].kind == FK_PTS)
			ret = open_pts(&c, &img->files[i]);
	ret = ret ?: sockets_open(&c);
	if (!ret)
		inet_settle_reuseport(&c);
	for (i = 0; !ret && i < img->nfiles; i++)
		ret = take_flock(&c, &img->files[i]);
	ret = ret ?: take_ofd_locks(&c);
	for (i = 0; i < 2 * img->nfiles; i++)
		if (c.ends[i] >= 0)
			close(c.ends[i]);
	for (i = 0; i < img->nfiles; i++)
		if (c.holder[i] >= 0)
			close(c.holder[i]);
	free(c.holder);
	free(c.ends);
	if (ret)
		files_close(img);
	return ret;
}

void files_close(struct image *img)
{
	if (img->fd_end > img->fd_base)
		syscall(SYS_close_range, img->fd_base, img->fd_end - 1, 0);
}

