// SPDX-License-Identifier: MIT
/*
 * A child's side of the open files: its descriptors out of the inherited
 * table, its epoll interests, and the POSIX locks it leaves to the
 * restorer.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/syscall.h>

#include "files.h"
#include "crfs/array.h"

/*
 * An interest whose fd number no longer holds its file (closed or reused
 * since it was added) is added again the same way: the file is put at
 * that number for the EPOLL_CTL_ADD, then whatever was there goes back.
 * Such files are kept aside (borrow[]) before the table is closed.
 */
struct borrowed {
	const struct crfs_epoll_item *item;
	int fd;			/* our copy of its file */
};

static bool holds(const struct proc_image *p, int fd, uint32_t file)
{
	size_t i;

	for (i = 0; i < p->nfds; i++)
		if (p->fds[i].fd == fd)
			return p->fds[i].file == file;
	return false;
}

static size_t borrow_targets(struct image *img, struct proc_image *p,
			     struct borrowed **out, int err_fd)
{
	struct borrowed *b = NULL, *nb;
	const struct file_extra *x;
	size_t i, k, n = 0;
	/* above our own numbers too: install_fds puts files there, over
	 * whatever is open (zdtm epoll: fds 701..949, targets gone) */
	int above = proc_max_fd(p) + 1 > img->fd_end ? proc_max_fd(p) + 1 :
		    img->fd_end;

	for (i = 0; i < img->nfiles; i++) {
		if (img->files[i].kind != FK_EPOLL ||
		    img->files[i].owner != p->pid)
			continue;
		x = &img->fx[i];
		for (k = 0; k < x->nitems; k++) {
			if (holds(p, x->items[k].tfd, x->items[k].file))
				continue;
			nb = array_room(b, n, sizeof(*b));
			if (!nb)
				child_fail(err_fd, "out of memory");
			b = nb;
			b[n].item = &x->items[k];
			b[n].fd = fcntl(slot(img, x->items[k].file),
					F_DUPFD_CLOEXEC, above);
			if (b[n++].fd < 0)
				child_fail(err_fd, "epoll: keeping file %u: %m",
					   x->items[k].file);
		}
	}
	*out = b;
	return n;
}

static int add_borrowed(int epfd, const struct borrowed *b,
			struct epoll_event *ev, int above)
{
	int tfd = b->item->tfd, saved = -1, flags = 0, ret;

	if (fcntl(tfd, F_GETFD) >= 0) {
		flags = fcntl(tfd, F_GETFD);
		saved = fcntl(tfd, F_DUPFD_CLOEXEC, above);
		if (saved < 0)
			return -1;
	}
	ret = dup2(b->fd, tfd) < 0 ? -1 : epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, ev);
	if (saved >= 0) {
		dup2(saved, tfd);
		fcntl(tfd, F_SETFD, flags);
		close(saved);
	} else {
		close(tfd);
	}
	return ret;
}

/* the flags of an interest that are not readiness (the kernel's
 * EP_PRIVATE_BITS): all a one-shot interest keeps once it fired */
#define EP_PRIVATE (EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE)
#define EP_READY (EPOLLIN | EPOLLOUT | EPOLLPRI | EPOLLRDHUP)

static bool fired_oneshot(const struct crfs_epoll_item *it)
{
	return (it->events & EPOLLONESHOT) && !(it->events & ~EP_PRIVATE);
}

static int add_item(int epfd, const struct crfs_epoll_item *it,
		    uint32_t events, const struct borrowed *b, size_t nb,
		    int above)
{
	struct epoll_event ev = { .events = events, .data.u64 = it->data };
	size_t k;

	for (k = 0; k < nb && b[k].item != it; k++)
		;
	return k < nb ? add_borrowed(epfd, &b[k], &ev, above) :
			epoll_ctl(epfd, EPOLL_CTL_ADD, it->tfd, &ev);
}

/*
 * A one-shot interest that fired waits disarmed until EPOLL_CTL_MOD.  An
 * EPOLL_CTL_ADD cannot make one so: the kernel arms every interest it adds
 * for EPOLLERR and EPOLLHUP at least.  So these come first, one at a time
 * into an epoll where nothing else is armed, armed for every kind of
 * readiness, and fired by an epoll_wait().  One whose file is ready for
 * nothing stays armed for EPOLLERR and EPOLLHUP alone (SUPPORT.md).
 */
static int add_fired(int epfd, const struct crfs_epoll_item *it,
		     const struct borrowed *b, size_t nb, int above)
{
	struct epoll_event ev = { .events = it->events, .data.u64 = it->data };
	int ret = add_item(epfd, it, it->events | EP_READY, b, nb, above);

	if (ret || epoll_wait(epfd, &ev, 1, 0) == 1)
		return ret;
	ev = (struct epoll_event){ .events = it->events, .data.u64 = it->data };
	return epoll_ctl(epfd, EPOLL_CTL_MOD, it->tfd, &ev);
}

static void register_epoll(struct image *img, struct proc_image *p,
			   const struct crfs_file *f, const struct borrowed *b,
			   size_t nb, int err_fd)
{
	const struct file_extra *x = &img->fx[f->id - 1];
	const struct crfs_epoll_item *it;
	int epfd = proc_fd_of(p, f->id), ret, pass;
	size_t i;

	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < x->nitems; i++) {
			it = &x->items[i];
			if (fired_oneshot(it) != !pass)
				continue;
			ret = pass ? add_item(epfd, it, it->events, b, nb,
					      img->fd_end) :
				     add_fired(epfd, it, b, nb, img->fd_end);
			if (ret)
				child_fail(err_fd, "epoll fd %d: watching fd %d: %m",
					   epfd, it->tfd);
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

static void install_fds(struct image *img, struct proc_image *p, size_t extra,
			int err_fd)
{
	struct mover m;
	size_t i, left = p->nfds;
	bool moved;
	int s, e;

	m.above = proc_max_fd(p) + 1;
	m.size = (m.above > img->fd_end ? m.above : img->fd_end) + p->nfds +
		 extra + 2;
	m.cur = calloc(p->nfds + 1, sizeof(int));
	m.done = calloc(p->nfds + 1, sizeof(bool));
	m.users = calloc(m.size, sizeof(int));
	m.placed = calloc(m.size, sizeof(bool));
	if (!m.cur || !m.done || !m.users || !m.placed)
		child_fail(err_fd, "out of memory");
	for (i = 0; i < p->nfds; i++) {
		if (opened_by_holder(&img->files[p->fds[i].file - 1])) {
			m.done[i] = true;	/* opened afterwards */
			left--;
			continue;
		}
		m.cur[i] = slot(img, p->fds[i].file);
		m.users[m.cur[i]]++;
	}
	/* what we do not use, others have inherited already: runs of it at
	 * a time, the table may be large */
	for (s = img->fd_base; s < img->fd_end; s = e + 1) {
		for (; s < img->fd_end && m.users[s]; s++)
			;
		for (e = s; e + 1 < img->fd_end && !m.users[e + 1]; e++)
			;
		if (s < img->fd_end)
			syscall(SYS_close_range, s, e, 0);
	}
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
 * A pidfd is opened by its holder, once the process it refers to exists:
 * ours and our children's exist already; others come up in parallel.
 */
static void open_pidfds(struct image *img, struct proc_image *p, int err_fd)
{
	const struct crfs_file *f;
	pid_t pid;
	size_t i;
	int fd, tries;

	for (i = 0; i < p->nfds; i++) {
		f = &img->files[p->fds[i].file - 1];
		/* one of a process that exited: in the table (files.c) */
		if (f->kind != FK_PIDFD || f->pidfd_pid < 0)
			continue;
		pid = image_pid_in(img, p, f->pidfd_pid);
		/* O_EXCL is PIDFD_THREAD: a pidfd of the main thread only */
		for (tries = 0; (fd = syscall(SYS_pidfd_open, pid,
					      f->flags & (O_NONBLOCK | O_EXCL))) < 0;
		     tries++) {
			if (errno != ESRCH || tries == 500)
				child_fail(err_fd, "fd %d: pidfd of %d: %m",
					   p->fds[i].fd, pid);
			usleep(10000);
		}
		if (fd != p->fds[i].fd && dup2(fd, p->fds[i].fd) < 0)
			child_fail(err_fd, "fd %d: dup2: %m", p->fds[i].fd);
		if (fd != p->fds[i].fd)
			close(fd);
		if (p->fds[i].cloexec)
			fcntl(p->fds[i].fd, F_SETFD, FD_CLOEXEC);
	}
}

/*
 * Who turns O_ASYNC on: the kernel notes that holder's fd number, which
 * the signal's si_fd then carries.  The owner if it holds the file, else
 * the first holder.
 */
static bool async_holder(const struct image *img, const struct crfs_file *f,
			 const struct proc_image *p)
{
	const struct proc_image *o = image_proc(img, f->fown);
	size_t i;

	if (o && proc_fd_of(o, f->id) >= 0)
		return o == p;
	for (i = 0; i < img->nprocs; i++)
		if (proc_fd_of(&img->procs[i], f->id) >= 0)
			return &img->procs[i] == p;
	return false;
}

/*
 * SIGIO's target is the description's, set once that process or group
 * exists (they come up in parallel), then O_ASYNC turned off and on again
 * from our own fd: crfs-restore's open or F_SETFL noted its table slot.
 * A lease is taken by the same holder (its break signal goes to that
 * owner as well).
 */
static void set_sigio_owners(struct image *img, struct proc_image *p,
			     int err_fd)
{
	const struct crfs_file *f;
	struct f_owner_ex o;
	int tries, fd, fl;
	bool ours;
	size_t i;

	for (i = 0; i < p->nfds; i++) {
		f = &img->files[p->fds[i].file - 1];
		fd = p->fds[i].fd;
		if (!(f->flags & O_ASYNC) && !f->lease && !f->fown && !f->fsig)
			continue;
		if (!async_holder(img, f, p))
			continue;
		fl = fcntl(fd, F_GETFL);
		if ((f->flags & O_ASYNC) &&
		    (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_ASYNC) ||
		     fcntl(fd, F_SETFL, fl | O_ASYNC)))
			child_fail(err_fd, "fd %d: O_ASYNC: %m", fd);
		/* it makes us the owner: set the saved one afterwards */
		if (f->lease && fcntl(fd, F_SETLEASE,
				      f->lease == 'w' ? F_WRLCK : F_RDLCK))
			child_fail(err_fd, "fd %d: F_SETLEASE %s: %m", fd,
				   f->lease == 'w' ? "write" : "read");
		if (f->fsig && fcntl(fd, F_SETSIG, f->fsig))
			child_fail(err_fd, "fd %d: F_SETSIG %d: %m", fd, f->fsig);
		if (!f->fown)
			continue;
		o.type = f->fown_type;
		o.pid = image_pid_in(img, p, f->fown);
		ours = image_proc(img, f->fown);
		for (tries = 0; fcntl(fd, F_SETOWN_EX, &o); tries++) {
			if (errno != ESRCH || (ours && tries == 500))
				child_fail(err_fd, "fd %d: SIGIO owner %d: %m",
					   fd, o.pid);
			if (!ours)
				break;	/* gone from outside: nobody gets it */
			usleep(10000);
		}
	}
}

/*
 * The flocks we took (their owner in /proc/locks is who took them), on
 * our descriptor; held: on crfs-restore's copy, before our table is made
 * (we closed ours since, and a child holds it: zdtm file_locks03, 04).
 */
static void take_own_flocks(struct image *img, struct proc_image *p,
			    bool held, int err_fd)
{
	const struct crfs_file *f;
	size_t i;
	int fd;

	for (i = 0; i < img->nfiles; i++) {
		f = &img->files[i];
		if (!f->flock || f->flock_pid != p->pid ||
		    !flock_by_owner(img, f))
			continue;
		fd = proc_fd_of(p, f->id);
		if ((fd >= 0) != held)
			continue;
		if (flock(held ? fd : slot(img, f->id),
			  (f->flock == 'w' ? LOCK_EX : LOCK_SH) | LOCK_NB))
			child_fail(err_fd, "file %u (%s): flock: %m", f->id,
				   f->path ?: file_kind_name(f->kind));
	}
}

/*
 * A process cloned with its parent's descriptor table (CLONE_FILES) finds
 * it installed: whoever installed that table registers its epolls.
 */
static pid_t table_owner(struct image *img, pid_t pid)
{
	struct proc_image *q = image_proc(img, pid);

	while (q && q->attr.shares_files && q->parent >= 0)
		q = &img->procs[q->parent];
	return q ? q->pid : pid;
}

static void install_table(struct image *img, struct proc_image *p,
			  int err_fd)
{
	struct borrowed *b;
	size_t i, nb;

	nb = borrow_targets(img, p, &b, err_fd);
	install_fds(img, p, nb, err_fd);
	open_pidfds(img, p, err_fd);
	open_proc_files(img, p, err_fd);
	nsfd_install(img, p, err_fd);
	set_sigio_owners(img, p, err_fd);
	for (i = 0; i < img->nfiles; i++)
		if (img->files[i].kind == FK_EPOLL &&
		    table_owner(img, img->files[i].owner) == p->pid)
			register_epoll(img, p, &img->files[i], b, nb, err_fd);
	for (i = 0; i < nb; i++)
		close(b[i].fd);
	free(b);
}

void files_install(struct image *img, struct proc_image *p,
		   struct helper_fds *h)
{
	const struct crfs_lock *l;
	int err_fd = h->err_fd;
	size_t i;

	if (!p->attr.shares_files) {
		take_own_flocks(img, p, false, err_fd);
		install_table(img, p, err_fd);
	}
	for (i = 0; i < img->nfiles; i++)
		if (pty_is_ctty(img, &img->files[i], p->pid) &&
		    p->attr.sid == p->pid)
			take_ctty(img, p, &img->files[i], err_fd);
	take_own_flocks(img, p, true, err_fd);
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
