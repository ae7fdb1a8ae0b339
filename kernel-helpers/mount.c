// SPDX-License-Identifier: MIT
/*
 * Mount namespaces: /proc/PID/mountinfo as a table, a tmpfs copied out
 * and in with tar(1) (which keeps modes, owners, times, sparse files,
 * hard links and xattrs, and makes a file any tool reads), and the new
 * mount API, which builds each mount detached so that restore attaches
 * them in order.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "kh.h"
#include "kh_mount.h"

/* mountinfo's escapes: \ooo for space, tab, newline and backslash */
static char *unoctal(const char *s)
{
	char *d = malloc(strlen(s) + 1), *o = d;

	while (d && *s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
				      s[3] - '0');
			s += 4;
		} else {
			*o++ = *s++;
		}
	}
	if (d)
		*o = '\0';
	return d;
}

void kh_mountinfo_free(struct kh_mount *m, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(m[i].root);
		free(m[i].mountpoint);
		free(m[i].opts);
		free(m[i].optional);
		free(m[i].fstype);
		free(m[i].source);
		free(m[i].super);
	}
	free(m);
}

/* "ID PARENT MAJ:MIN ROOT MP OPTS [OPTIONAL...] - FSTYPE SOURCE SUPER" */
static int parse_line(char *line, struct kh_mount *m)
{
	char *f[6], *dash = strstr(line, " - "), *cur = line, *opt;
	int i;

	if (!dash)
		return -EINVAL;
	*dash = '\0';
	for (i = 0; i < 6; i++)
		if (!(f[i] = strsep(&cur, " ")))
			return -EINVAL;
	opt = cur ? cur : "";
	if (sscanf(f[0], "%d", &m->id) != 1 ||
	    sscanf(f[1], "%d", &m->parent) != 1 ||
	    sscanf(f[2], "%u:%u", &m->major, &m->minor) != 2)
		return -EINVAL;
	cur = dash + 3;
	m->root = unoctal(f[3]);
	m->mountpoint = unoctal(f[4]);
	m->opts = strdup(f[5]);
	m->optional = strdup(opt);
	m->fstype = unoctal(strsep(&cur, " ") ?: "");
	m->source = unoctal(strsep(&cur, " ") ?: "");
	m->super = unoctal(cur ? cur : "");
	if (!m->root || !m->mountpoint || !m->opts || !m->optional ||
	    !m->fstype || !m->source || !m->super)
		return -ENOMEM;
	return 0;
}

int kh_mountinfo(pid_t pid, struct kh_mount **out, size_t *n)
{
	char path[64], *buf, *line, *cur;
	struct kh_mount *m = NULL, *nm;
	size_t cnt = 0, cap = 0;
	int ret;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/mountinfo", kh_via(pid));
	else
		snprintf(path, sizeof(path), "/proc/self/mountinfo");
	ret = kh_read_file(path, &buf, NULL);
	if (ret)
		return ret;
	for (cur = buf; !ret && (line = strsep(&cur, "\n")) && *line;) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 32;
			nm = realloc(m, cap * sizeof(*m));
			if (!nm) {
				ret = -ENOMEM;
				break;
			}
			m = nm;
		}
		memset(&m[cnt], 0, sizeof(*m));
		ret = parse_line(line, &m[cnt++]);
	}
	free(buf);
	if (ret) {
		kh_mountinfo_free(m, cnt);
		return ret;
	}
	*out = m;
	*n = cnt;
	return 0;
}

/* exit codes of the tar child before it runs tar */
#define CHILD_EXDEV	120
#define CHILD_FAILED	121

/* then --exclude=./PATH for each mount below, then "." */
static const char *const tar_out[] = {
	"tar", "--create", "--file=-", "--format=posix", "--numeric-owner",
	"--sparse", "--xattrs", "--atime-preserve=system", "--one-file-system",
	"--anchored", "--no-wildcards",
};
#define TAR_OUT_N (sizeof(tar_out) / sizeof(tar_out[0]))

static const char *const tar_in[] = {
	"tar", "--extract", "--file=-", "--numeric-owner", "--same-owner",
	"--same-permissions", "--xattrs", NULL,
};

/*
 * In the child (of a threaded daemon: syscalls only): enter their mount
 * namespace to open the mount's root, come back to ours, where tar lives,
 * and run it there.  (open_tree would leave out what mounts below hide,
 * but cannot clone an unbindable mount.)
 */
static void tar_child(int root_fd, int their_ns, int our_ns,
		      const char *mountpoint, dev_t dev, int out_fd,
		      char **argv)
{
	struct stat st;
	int dir;

	if (setns(their_ns, CLONE_NEWNS))
		_exit(CHILD_FAILED);
	dir = openat(root_fd, mountpoint[1] ? mountpoint + 1 : ".",
		     O_PATH | O_DIRECTORY);
	if (dir < 0 || fstat(dir, &st))
		_exit(CHILD_FAILED);
	if (st.st_dev != dev)
		_exit(CHILD_EXDEV);
	if (setns(our_ns, CLONE_NEWNS) || fchdir(dir) ||
	    dup2(out_fd, 1) < 0)
		_exit(CHILD_FAILED);
	execvp("tar", argv);
	_exit(CHILD_FAILED);
}

static void free_argv(char **argv)
{
	size_t i;

	for (i = TAR_OUT_N; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

/* tar_out, an --exclude per path below (relative, "./X"), then "." */
static char **out_argv(char *const *skip, size_t nskip)
{
	char **argv = calloc(TAR_OUT_N + nskip + 2, sizeof(*argv));
	size_t i;

	if (!argv)
		return NULL;
	memcpy(argv, tar_out, sizeof(tar_out));
	for (i = 0; i < nskip; i++)
		if (asprintf(&argv[TAR_OUT_N + i], "--exclude=%s", skip[i]) < 0) {
			argv[TAR_OUT_N + i] = NULL;
			free_argv(argv);
			return NULL;
		}
	argv[TAR_OUT_N + nskip] = strdup(".");
	if (!argv[TAR_OUT_N + nskip]) {
		free_argv(argv);
		return NULL;
	}
	return argv;
}

static int read_all(int fd, char **out, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap), *nb;
	ssize_t got;

	while (buf) {
		if (n == cap) {
			nb = realloc(buf, cap *= 2);
			if (!nb)
				break;
			buf = nb;
		}
		got = read(fd, buf + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			if (got == 0) {
				*out = buf;
				*len = n;
				return 0;
			}
			break;
		}
		n += got;
	}
	free(buf);
	return buf ? -errno : -ENOMEM;
}

static int wait_tar(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(st) && WEXITSTATUS(st) == CHILD_EXDEV)
		return -EXDEV;
	return WIFEXITED(st) && !WEXITSTATUS(st) ? 0 : -EIO;
}

int kh_mnt_tar_out(pid_t pid, const char *mountpoint, dev_t dev,
		   char *const *skip, size_t nskip, char **out, size_t *len)
{
	char path[64], **argv = out_argv(skip, nskip);
	int fds[3] = { -1, -1, -1 }, p[2] = { -1, -1 }, ret = 0, r;
	size_t i;
	pid_t child;

	snprintf(path, sizeof(path), "/proc/%d/root", kh_via(pid));
	fds[0] = open(path, O_PATH | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", kh_via(pid));
	fds[1] = open(path, O_RDONLY | O_CLOEXEC);
	fds[2] = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (!argv || fds[0] < 0 || fds[1] < 0 || fds[2] < 0 ||
	    pipe2(p, O_CLOEXEC)) {
		ret = argv ? -errno : -ENOMEM;
		goto out;
	}
	child = fork();
	if (child < 0) {
		ret = -errno;
		goto out;
	}
	if (!child)
		tar_child(fds[0], fds[1], fds[2], mountpoint, dev, p[1], argv);
	close(p[1]);
	p[1] = -1;
	ret = read_all(p[0], out, len);
	r = wait_tar(child);
	if (!ret && r) {
		free(*out);
		*out = NULL;
	}
	ret = ret ?: r;
out:
	free_argv(argv);
	for (i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	return ret;
}

int kh_mnt_tar_in(int mnt_fd, int tar_fd)
{
	pid_t child = fork();

	if (child < 0)
		return -errno;
	if (!child) {
		if (fchdir(mnt_fd) || dup2(tar_fd, 0) < 0)
			_exit(CHILD_FAILED);
		execvp("tar", (char **)tar_in);
		_exit(CHILD_FAILED);
	}
	return wait_tar(child);
}

int kh_mnt_clone(const char *path)
{
	int fd = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/*
 * A detached copy of rel (a file or directory below mnt_fd's root, "" for
 * the root itself), not of what is mounted below it; a symlink is not
 * followed.
 */
int kh_mnt_clone_at(int mnt_fd, const char *rel)
{
	int fd = open_tree(mnt_fd, rel, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
			   AT_SYMLINK_NOFOLLOW | (*rel ? 0 : AT_EMPTY_PATH));

	return fd < 0 ? -errno : fd;
}

/* one "key" or "key=value" of a super block's options */
static int set_option(int fs, char *opt, bool *ro)
{
	char *eq = strchr(opt, '=');

	if (!strcmp(opt, "rw"))
		return 0;
	if (!strcmp(opt, "ro")) {
		*ro = true;
		return 0;
	}
	if (!eq)
		return fsconfig(fs, FSCONFIG_SET_FLAG, opt, NULL, 0);
	*eq = '\0';
	return fsconfig(fs, FSCONFIG_SET_STRING, opt, eq + 1, 0);
}

int kh_mnt_new(const char *fstype, const char *source, const char *super,
	       int *fs_fd, bool *ro, char *bad, size_t badlen)
{
	char *opts = strdup(super), *cur = opts, *opt;
	int fs = fsopen(fstype, FSOPEN_CLOEXEC), mnt = -1, ret = 0;

	*ro = false;
	if (fs < 0 || !opts) {
		ret = fs < 0 ? -errno : -ENOMEM;
		goto out;
	}
	if (fsconfig(fs, FSCONFIG_SET_STRING, "source", source, 0)) {
		ret = -errno;
		snprintf(bad, badlen, "source=%s", source);
		goto out;
	}
	while (!ret && (opt = strsep(&cur, ",")))
		if (*opt && set_option(fs, opt, ro)) {
			ret = -errno;
			snprintf(bad, badlen, "%s", opt);
		}
	if (!ret && fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0)) {
		ret = -errno;
		snprintf(bad, badlen, "(creating the super block)");
	}
	if (!ret) {
		mnt = fsmount(fs, FSMOUNT_CLOEXEC, 0);
		if (mnt < 0)
			ret = -errno;
	}
out:
	free(opts);
	if (ret && fs >= 0)
		close(fs);
	if (!ret)
		*fs_fd = fs;
	return ret ?: mnt;
}

int kh_mnt_sb_ro(int fs_fd)
{
	if (fsconfig(fs_fd, FSCONFIG_SET_FLAG, "ro", NULL, 0) ||
	    fsconfig(fs_fd, FSCONFIG_CMD_RECONFIGURE, NULL, NULL, 0))
		return -errno;
	return 0;
}

static const struct {
	const char *name;
	unsigned long long attr;
} attr_names[] = {
	{ "rw", 0 },
	{ "ro", MOUNT_ATTR_RDONLY },
	{ "nosuid", MOUNT_ATTR_NOSUID },
	{ "nodev", MOUNT_ATTR_NODEV },
	{ "noexec", MOUNT_ATTR_NOEXEC },
	{ "nodiratime", MOUNT_ATTR_NODIRATIME },
	{ "nosymfollow", MOUNT_ATTR_NOSYMFOLLOW },
	{ "noatime", MOUNT_ATTR_NOATIME },
	{ "relatime", MOUNT_ATTR_RELATIME },
};

int kh_mnt_attr_flags(const char *opts, unsigned long long *attr)
{
	char *dup = strdup(opts), *cur = dup, *opt;
	bool atime = false;
	size_t i;
	int ret = 0;

	*attr = 0;
	while (dup && !ret && (opt = strsep(&cur, ","))) {
		for (i = 0; i < sizeof(attr_names) / sizeof(attr_names[0]) &&
			    strcmp(opt, attr_names[i].name); i++)
			;
		if (i == sizeof(attr_names) / sizeof(attr_names[0]))
			ret = -EINVAL;	/* idmapped and whatever comes */
		else
			*attr |= attr_names[i].attr;
		atime |= !strcmp(opt, "noatime") || !strcmp(opt, "relatime");
	}
	if (!atime)
		*attr |= MOUNT_ATTR_STRICTATIME;
	free(dup);
	return dup ? ret : -ENOMEM;
}

int kh_mnt_set(int mnt_fd, unsigned long long attr, unsigned long prop)
{
	struct mount_attr a = {
		.attr_set = attr,
		.attr_clr = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
			    MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
			    MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW |
			    MOUNT_ATTR__ATIME,
		.propagation = prop,
	};

	if (mount_setattr(mnt_fd, "", AT_EMPTY_PATH, &a, sizeof(a)))
		return -errno;
	return 0;
}

int kh_mnt_attach(int mnt_fd, const char *path)
{
	if (move_mount(mnt_fd, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH))
		return -errno;
	return 0;
}

/*
 * Mounted on top of our "/", the new root is where pivot_root(".", ".")
 * goes; the old root, stacked on it after the pivot, is then detached.
 */
int kh_mnt_pivot(int mnt_fd)
{
	if (move_mount(mnt_fd, "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH) ||
	    fchdir(mnt_fd) || syscall(SYS_pivot_root, ".", ".") ||
	    umount2(".", MNT_DETACH) || chdir("/"))
		return -errno;
	return 0;
}
