// SPDX-License-Identifier: MIT
/*
 * wl_fanotify - fanotify groups with marks on inodes, a mount and a
 * filesystem, checkpointed, killed and restored; each mark is checked by
 * triggering its events.
 *
 * usage: wl_fanotify DIR	the checks
 *	  wl_fanotify DIR gone	marks DIR/held, which the test holds open,
 *				and deletes it (for the refusal)
 *
 * Groups:
 *	A  FAN_CLASS_NOTIF | FAN_NONBLOCK: DIR/file marked FAN_MODIFY;
 *	   DIR marked FAN_OPEN | FAN_EVENT_ON_CHILD; DIR/quiet ignores
 *	   FAN_OPEN (FAN_MARK_IGNORED_MASK, surviving modification)
 *	B  FAN_CLASS_NOTIF | FAN_NONBLOCK: the mount of DIR marked
 *	   FAN_CLOSE_WRITE
 *	C  FAN_REPORT_DFID_NAME | FAN_NONBLOCK: the filesystem of DIR marked
 *	   FAN_CREATE
 * After SIGUSR1: a write to DIR/file gives A a FAN_MODIFY for it; opening
 * DIR/quiet then DIR/other gives A a FAN_OPEN for other only; a file
 * written and closed in DIR gives B its FAN_CLOSE_WRITE; a file created
 * gives C a FAN_CREATE with its name.  Other events (the mount and the
 * filesystem are shared with the rest of the host) are skipped.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/fanotify.h>
#include <sys/stat.h>

#include "wl_common.h"

static volatile sig_atomic_t go;
static const char *dir;
static char buf[65536] __attribute__((aligned(8)));

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void path_of(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

static ino_t ino_of(const char *name)
{
	char path[4096];
	struct stat st;

	path_of(path, sizeof(path), name);
	return stat(path, &st) ? 0 : st.st_ino;
}

static int touch(const char *name, int flags)
{
	char path[4096];
	int fd;

	path_of(path, sizeof(path), name);
	fd = open(path, flags | O_CREAT, 0600);
	if (fd >= 0 && (flags & O_ACCMODE) != O_RDONLY &&
	    write(fd, "x", 1) != 1) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Scan group g's events for 2 s: returns 1 when want(ev) says so, 0 if
 * never, -1 when bad(ev) says so first.  Event fds are closed.
 */
static int scan(int g, int (*want)(const struct fanotify_event_metadata *))
{
	const struct fanotify_event_metadata *ev;
	ssize_t n;
	int i, r = 0;

	for (i = 0; i < 2000 && !r; i++) {
		n = read(g, buf, sizeof(buf));
		if (n <= 0) {
			usleep(1000);
			continue;
		}
		for (ev = (void *)buf; FAN_EVENT_OK(ev, n);
		     ev = FAN_EVENT_NEXT(ev, n)) {
			if (!r)
				r = want(ev);
			if (ev->fd >= 0)
				close(ev->fd);
		}
	}
	return r;
}

static bool fd_is(int fd, ino_t ino)
{
	struct stat st;

	return fd >= 0 && ino && !fstat(fd, &st) && st.st_ino == ino;
}

static int want_modify(const struct fanotify_event_metadata *ev)
{
	return (ev->mask & FAN_MODIFY) && fd_is(ev->fd, ino_of("file"));
}

static int want_other(const struct fanotify_event_metadata *ev)
{
	if ((ev->mask & FAN_OPEN) && fd_is(ev->fd, ino_of("quiet")))
		return -1;
	return (ev->mask & FAN_OPEN) && fd_is(ev->fd, ino_of("other"));
}

static int want_close(const struct fanotify_event_metadata *ev)
{
	return (ev->mask & FAN_CLOSE_WRITE) && fd_is(ev->fd, ino_of("written"));
}

static char created[64];

static int want_create(const struct fanotify_event_metadata *ev)
{
	return (ev->mask & FAN_CREATE) &&
	       memmem(ev, ev->event_len, created, strlen(created) + 1);
}

static void verdict(const char *name, int r, const char *what)
{
	if (r == 1)
		wl_pass(name);
	else
		wl_fail(name, "%s", r < 0 ? "an event it ignores came" : what);
}

static void check(int a, int b, int c)
{
	int fd;

	if (!(fcntl(a, F_GETFL) & O_NONBLOCK))
		wl_fail("fanotify.flags", "group A lost O_NONBLOCK");
	else
		wl_pass("fanotify.flags");
	fd = touch("file", O_WRONLY);
	close(fd);
	verdict("fanotify.inode", fd < 0 ? 0 : scan(a, want_modify),
		"no FAN_MODIFY for DIR/file");
	close(touch("quiet", O_RDONLY));
	close(touch("other", O_RDONLY));
	verdict("fanotify.ignore", scan(a, want_other),
		"no FAN_OPEN for DIR/other");
	close(touch("written", O_WRONLY));
	verdict("fanotify.mount", scan(b, want_close),
		"no FAN_CLOSE_WRITE for DIR/written on the mount");
	close(touch(created, O_RDONLY));
	verdict("fanotify.filesystem", scan(c, want_create),
		"no FAN_CREATE with the name on the filesystem");
}

static void mark(int g, unsigned fl, uint64_t mask, const char *name)
{
	char path[4096];

	path_of(path, sizeof(path), name);
	if (fanotify_mark(g, FAN_MARK_ADD | fl, mask, AT_FDCWD, path))
		wl_die("fanotify_mark 0x%x on %s", fl, path);
}

/* what setting up caused: read and dropped */
static void drain(int g)
{
	const struct fanotify_event_metadata *ev;
	ssize_t n;

	usleep(20000);
	while ((n = read(g, buf, sizeof(buf))) > 0)
		for (ev = (void *)buf; FAN_EVENT_OK(ev, n);
		     ev = FAN_EVENT_NEXT(ev, n))
			if (ev->fd >= 0)
				close(ev->fd);
}

int main(int argc, char **argv)
{
	int a, b, c;

	if (argc < 2)
		wl_die("usage: wl_fanotify DIR [gone]");
	dir = argv[1];
	wl_own_session();
	signal(SIGUSR1, on_usr1);
	snprintf(created, sizeof(created), "created-%d", getpid());
	a = fanotify_init(FAN_CLASS_NOTIF | FAN_NONBLOCK, O_RDONLY);
	if (a < 0)
		wl_die("fanotify_init");
	if (argc > 2) {
		char path[4096];

		mark(a, 0, FAN_MODIFY, "held");
		path_of(path, sizeof(path), "held");
		if (unlink(path))
			wl_die("unlink %s", path);
		wl_ready();
		for (;;)
			pause();
	}
	b = fanotify_init(FAN_CLASS_NOTIF | FAN_NONBLOCK, O_RDONLY);
	c = fanotify_init(FAN_CLASS_NOTIF | FAN_NONBLOCK | FAN_REPORT_DFID_NAME,
			  O_RDONLY);
	if (b < 0 || c < 0)
		wl_die("fanotify_init");
	close(touch("file", O_WRONLY));
	close(touch("quiet", O_RDONLY));
	mark(a, 0, FAN_MODIFY, "file");
	mark(a, 0, FAN_OPEN | FAN_EVENT_ON_CHILD, ".");
	mark(a, FAN_MARK_IGNORED_MASK | FAN_MARK_IGNORED_SURV_MODIFY, FAN_OPEN,
	     "quiet");
	mark(b, FAN_MARK_MOUNT, FAN_CLOSE_WRITE, ".");
	mark(c, FAN_MARK_FILESYSTEM, FAN_CREATE, ".");
	drain(a);
	drain(b);
	drain(c);
	wl_ready();
	while (!go)
		pause();
	check(a, b, c);
	return wl_done();
}
