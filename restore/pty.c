// SPDX-License-Identifier: MIT
/*
 * Pseudo-terminals again: the same /dev/pts/N, its settings, the bytes
 * on their way, and who has it as controlling terminal.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "kh.h"
#include "files.h"

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
	if (strlen(f->termios) != 2 * sizeof(tio) ||
	    parse_hex_bytes(f->termios, &tio, sizeof(tio)))
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
 * The slave's locking termios, last: it pins bits of the termios, which
 * the refill above changes for a moment (echo off)
 */
static int pty_lock(int master, const struct crfs_file *f)
{
	struct kh_ktermios lock;

	if (!f->lockterm)
		return 0;
	if (strlen(f->lockterm) != 2 * sizeof(lock) ||
	    parse_hex_bytes(f->lockterm, &lock, sizeof(lock)))
		return -EINVAL;
	return ioctl(master, TIOCSLCKTRMIOS, &lock) ? -errno : 0;
}

/* the slave's owner, group and mode (the master's line keeps them) */
static int pts_owner(const char *slave, const struct crfs_file *f)
{
	if (!S_ISCHR(f->mode))
		return 0;
	if (chown(slave, f->fuid, f->fgid) || chmod(slave, f->mode & 07777))
		return -errno;
	return 0;
}

/*
 * devpts hands out the lowest free index: hold what comes before ours.
 * A different index would change the terminal's name under the programs.
 */
int open_ptmx(struct open_ctx *c, const struct crfs_file *f)
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
		ret = pts_owner(path, f);
	if (!ret)
		ret = pty_queues(c, fd, c->holder[f->id - 1], f);
	/* screen reads its windows so: a status byte before each read */
	if (!ret && f->packet && ioctl(fd, TIOCPKT, &(int){ 1 }))
		ret = -errno;
	if (!ret && f->locked) {
		int one = 1;

		ioctl(fd, TIOCSPTLCK, &one);
	}
	if (!ret && f->excl && ioctl(fd, TIOCEXCL))
		ret = -errno;
	if (!ret)
		ret = pty_lock(fd, f);
	if (ret) {
		close(fd);
		return FAIL(c, "file %u (%s): terminal settings: %s", f->id, path,
			    strerror(-ret));
	}
	return place(c, f, fd);
}

/*
 * Exclusive mode once the terminal is open: a later open of it by restore
 * (another descriptor) works for us only with CAP_SYS_ADMIN
 */
static int excl(int fd, const struct crfs_file *f)
{
	int err;

	if (fd < 0 || !f->excl || !ioctl(fd, TIOCEXCL))
		return fd;
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

int open_pts(struct open_ctx *c, const struct crfs_file *f)
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
	return place(c, f, excl(open(p, (f->flags & ~O_CREAT) | O_NOCTTY), f));
}

/*
 * The file that says F's terminal is the controlling terminal of session
 * SID: a slave of the tree, or, when the tree holds no slave of it (its
 * session closed every one, tty00), its master
 */
bool pty_is_ctty(const struct image *img, const struct crfs_file *f, pid_t sid)
{
	size_t i;

	if (f->session != sid)
		return false;
	if (f->kind == FK_PTS)
		return !f->external;
	if (f->kind != FK_PTMX)
		return false;
	for (i = 0; i < img->nfiles; i++)
		if (img->files[i].kind == FK_PTS &&
		    img->files[i].pty_index == f->pty_index &&
		    img->files[i].session == sid)
			return false;
	return true;
}

/*
 * A controlling terminal belongs to the session and is inherited at fork:
 * the leader takes it before it forks its children, or they would have
 * none (open("/dev/tty") fails with ENXIO).  The foreground group comes
 * later (take_ctty), once the processes exist.
 */
void claim_ctty(struct image *img, struct proc_image *p, int err_fd)
{
	const struct crfs_file *f;
	char path[64];
	size_t i;
	int fd;

	if (p->attr.sid != p->pid || p->attr.zombie)
		return;
	for (i = 0; i < img->nfiles; i++) {
		f = &img->files[i];
		if (!pty_is_ctty(img, f, p->pid))
			continue;
		snprintf(path, sizeof(path), "/dev/pts/%d", f->pty_index);
		fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (fd < 0 || ioctl(fd, TIOCSCTTY, 0))
			child_fail(err_fd, "%s: cannot make it our controlling terminal: %m",
				   path);
		close(fd);
		return;
	}
}

/*
 * A session leader takes its terminal back, and gives it its foreground
 * group, which another process of the tree may still be creating.
 */
void take_ctty(struct image *img, struct proc_image *p,
		      const struct crfs_file *f, int err_fd)
{
	char path[64];
	pid_t fg = image_pid_in(img, p, f->fg);
	int fd = f->kind == FK_PTS ? proc_fd_of(p, f->id) : -1, tries;
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
