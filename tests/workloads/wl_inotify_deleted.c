// SPDX-License-Identifier: MIT
/*
 * wl_inotify_deleted - an inotify watch on a file deleted since, which the
 * process still holds open, checkpointed, killed and restored.
 *
 * usage: wl_inotify_deleted DIR		the checks
 *	  wl_inotify_deleted DIR gone	watches DIR/held, which the test
 *					holds open, and deletes it: the
 *					watched inode is held only from
 *					outside (for the refusal)
 *
 * It opens DIR/data, writes to it, watches it (IN_MODIFY | IN_ATTRIB) and
 * watches DIR (IN_CREATE), unlinks DIR/data and drains the events.  After
 * SIGUSR1 it checks: its file is still unlinked with its bytes; a write
 * to it gives IN_MODIFY on the same watch descriptor; a file created in
 * DIR gives IN_CREATE with its name on the other.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "wl_common.h"

#define LEN 4096
#define SEED 0x1d07

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

/* the next event within a second, or -1 */
static int next_event(int in, struct inotify_event *ev, size_t len)
{
	int i;

	for (i = 0; i < 1000; i++) {
		if (read(in, ev, len) > 0)
			return 0;
		usleep(1000);
	}
	return -1;
}

static void check_file(int fd, int in, int wd)
{
	union {
		struct inotify_event ev;
		char b[4096];
	} u;
	static uint64_t buf[LEN / 8];
	struct stat st;

	if (fstat(fd, &st) || st.st_nlink != 0 || st.st_size != LEN ||
	    pread(fd, buf, LEN, 0) != LEN ||
	    wl_check(buf, LEN, SEED) != (size_t)-1)
		wl_fail("inotify_deleted.file", "not the unlinked file it was");
	else
		wl_pass("inotify_deleted.file");
	if (pwrite(fd, "x", 1, 0) != 1 || next_event(in, &u.ev, sizeof(u)))
		wl_fail("inotify_deleted.modify", "no event after a write");
	else if (u.ev.wd != wd || !(u.ev.mask & IN_MODIFY))
		wl_fail("inotify_deleted.modify", "event wd %d mask 0x%x, want wd %d IN_MODIFY",
			u.ev.wd, u.ev.mask, wd);
	else
		wl_pass("inotify_deleted.modify");
}

static void check_dir(const char *dir, int in, int wd)
{
	union {
		struct inotify_event ev;
		char b[4096];
	} u;
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/new", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	if (fd < 0 || next_event(in, &u.ev, sizeof(u)))
		wl_fail("inotify_deleted.dir", "no event for a new file");
	else if (u.ev.wd != wd || !(u.ev.mask & IN_CREATE) ||
		 strcmp(u.ev.name, "new"))
		wl_fail("inotify_deleted.dir", "event wd %d mask 0x%x '%s'",
			u.ev.wd, u.ev.mask, u.ev.len ? u.ev.name : "");
	else
		wl_pass("inotify_deleted.dir");
	if (fd >= 0)
		close(fd);
}

int main(int argc, char **argv)
{
	static uint64_t buf[LEN / 8];
	char path[4096], ev[4096];
	int fd, in, wd, wd_dir;

	if (argc < 2)
		wl_die("usage: wl_inotify_deleted DIR [gone]");
	wl_own_session();
	signal(SIGUSR1, on_usr1);
	in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (in < 0)
		wl_die("inotify_init1");
	if (argc > 2) {
		snprintf(path, sizeof(path), "%s/held", argv[1]);
		if (inotify_add_watch(in, path, IN_MODIFY) < 0 || unlink(path))
			wl_die("watch %s", path);
		wl_ready();
		for (;;)
			pause();
	}
	snprintf(path, sizeof(path), "%s/data", argv[1]);
	wl_fill(buf, LEN, SEED);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, buf, LEN) != LEN)
		wl_die("write %s", path);
	wd = inotify_add_watch(in, path, IN_MODIFY | IN_ATTRIB);
	wd_dir = inotify_add_watch(in, argv[1], IN_CREATE);
	if (wd < 0 || wd_dir < 0 || unlink(path))
		wl_die("watch and unlink %s", path);
	usleep(10000);
	while (read(in, ev, sizeof(ev)) > 0)
		;
	wl_ready();
	while (!go)
		pause();
	check_file(fd, in, wd);
	check_dir(argv[1], in, wd_dir);
	return wl_done();
}
