// SPDX-License-Identifier: MIT
/*
 * User namespaces: a process's uid_map, gid_map and setgroups as its
 * parent namespace sees them, who owns a namespace (ioctl_ns(2)), and
 * writing the maps of a namespace a child of ours has just made.
 */
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/nsfs.h>

#include "crfs/ns.h"
#include "kh.h"
#include "kh_ns.h"

int kh_userns_maps(pid_t pid, const char *file, struct crfs_ns_idmap *m,
		   size_t max, size_t *n)
{
	char path[64], *buf, *line, *cur;
	unsigned int in, out, count;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/%s", kh_via(pid), file);
	ret = kh_read_file(path, &buf, NULL);
	if (ret)
		return ret;
	*n = 0;
	for (cur = buf; !ret && (line = strsep(&cur, "\n")) && *line;) {
		if (sscanf(line, "%u %u %u", &in, &out, &count) != 3)
			ret = -EINVAL;
		else if (*n == max)
			ret = -E2BIG;
		else
			m[(*n)++] = (struct crfs_ns_idmap){ in, out, count };
	}
	free(buf);
	return ret;
}

int kh_userns_setgroups_deny(pid_t pid, bool *deny)
{
	char path[64], *buf;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/setgroups", kh_via(pid));
	ret = kh_read_file(path, &buf, NULL);
	if (ret)
		return ret;
	*deny = !strncmp(buf, "deny", 4);
	free(buf);
	return 0;
}

int kh_ns_owner_ino(pid_t pid, const char *name, unsigned long *ino)
{
	return kh_ns_ioctl_ino(pid, name, NS_GET_USERNS, ino);
}

int kh_userns_parent_ino(pid_t pid, unsigned long *ino)
{
	return kh_ns_ioctl_ino(pid, "user", NS_GET_PARENT, ino);
}

int kh_userns_owner(pid_t pid, uint32_t *uid)
{
	int fd = kh_ns_open(pid, "user"), ret = 0;
	uid_t u;

	if (fd < 0)
		return fd;
	if (ioctl(fd, NS_GET_OWNER_UID, &u))
		ret = -errno;
	else
		*uid = u;
	close(fd);
	return ret;
}

/* one write(2), as the kernel wants a map: all lines at once */
static int write_proc(pid_t pid, const char *file, const char *text)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", kh_via(pid), file);
	return kh_write_file(path, text);
}

static int write_map(pid_t pid, const char *file,
		     const struct crfs_ns_idmap *m, size_t n)
{
	char *text = malloc(n * 36 + 1);
	size_t i, len = 0;
	int ret;

	if (!text)
		return -ENOMEM;
	text[0] = '\0';
	for (i = 0; i < n; i++)
		len += sprintf(text + len, "%u %u %u\n", m[i].inside,
			       m[i].outside, m[i].count);
	ret = write_proc(pid, file, text);
	free(text);
	return ret;
}

/* setgroups before gid_map: deny can be written only while it is unset */
int kh_userns_write_maps(pid_t pid, const struct crfs_ns *ns,
			 const char **step)
{
	int ret = 0;

	*step = "setgroups";
	if (ns->setgroups_deny)
		ret = write_proc(pid, "setgroups", "deny");
	if (!ret) {
		*step = "uid_map";
		ret = write_map(pid, "uid_map", ns->uid_map, ns->nuid_map);
	}
	if (!ret) {
		*step = "gid_map";
		ret = write_map(pid, "gid_map", ns->gid_map, ns->ngid_map);
	}
	return ret;
}

/* what a user namespace counts and limits: /proc/sys/user/max_NAME */
static const char *const user_sysctls[] = {
	"cgroup_namespaces", "fanotify_groups", "fanotify_marks",
	"inotify_instances", "inotify_watches", "ipc_namespaces",
	"mnt_namespaces", "net_namespaces", "pid_namespaces",
	"time_namespaces", "user_namespaces", "uts_namespaces",
};

/* in a child of ours that joined the namespace: no malloc, one write */
static __attribute__((noreturn)) void sysctls_child(int nsfd, int wr)
{
	char out[1024], path[64], val[32];
	size_t i, len = 0;
	ssize_t n;
	int fd;

	if (setns(nsfd, CLONE_NEWUSER))
		_exit(1);
	for (i = 0; i < sizeof(user_sysctls) / sizeof(user_sysctls[0]); i++) {
		snprintf(path, sizeof(path), "/proc/sys/user/max_%s",
			 user_sysctls[i]);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;	/* not in this kernel */
		n = read(fd, val, sizeof(val) - 1);
		close(fd);
		if (n <= 0)
			continue;
		val[n] = '\0';
		val[strcspn(val, "\n")] = '\0';
		len += snprintf(out + len, sizeof(out) - len, "max_%s %s\n",
				user_sysctls[i], val);
	}
	_exit(write(wr, out, len) == (ssize_t)len ? 0 : 1);
}

/*
 * The user.* sysctls of pid's user namespace, "max_NAME VALUE" lines:
 * /proc/sys shows the reader's own namespace's, and only a single-threaded
 * process may join one, so a child of ours reads them.
 */
int kh_userns_sysctls(pid_t pid, char *out, size_t len)
{
	int nsfd = kh_ns_open(pid, "user"), p[2], st, ret = 0;
	ssize_t n, got = 0;
	pid_t kid;

	if (nsfd < 0)
		return nsfd;
	if (pipe2(p, O_CLOEXEC)) {
		close(nsfd);
		return -errno;
	}
	kid = fork();
	if (kid == 0)
		sysctls_child(nsfd, p[1]);
	close(p[1]);
	close(nsfd);
	while (kid > 0 && (n = read(p[0], out + got, len - 1 - got)) > 0)
		got += n;
	out[got] = '\0';
	close(p[0]);
	if (kid < 0)
		return -errno;
	if (waitpid(kid, &st, 0) != kid || !WIFEXITED(st) || WEXITSTATUS(st))
		ret = -EIO;
	return ret;
}
