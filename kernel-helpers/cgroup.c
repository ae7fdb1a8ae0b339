// SPDX-License-Identifier: MIT
/*
 * Cgroups as /proc and the cgroup file systems show them: a task's cgroup
 * in each hierarchy, where the caller has each hierarchy mounted, and the
 * control files of one cgroup.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>

#include "crfs/array.h"
#include "kh.h"
#include "kh_cgroup.h"

void kh_cg_free(struct kh_cg *cg, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(cg[i].hier);
		free(cg[i].path);
	}
	free(cg);
}

static int add_cg(struct kh_cg **cg, size_t *n, const char *hier,
		  const char *path)
{
	struct kh_cg *nc = array_room(*cg, *n, sizeof(**cg));

	if (!nc)
		return -ENOMEM;
	*cg = nc;
	nc[*n].hier = strdup(hier[0] ? hier : KH_CG_V2);
	nc[*n].path = strdup(path);
	if (!nc[*n].hier || !nc[*n].path) {
		free(nc[*n].hier);
		free(nc[*n].path);
		return -ENOMEM;
	}
	(*n)++;
	return 0;
}

/* "ID:HIER:PATH" lines; a path may hold ':' but no newline */
int kh_task_cgroups(pid_t pid, pid_t tid, struct kh_cg **cg, size_t *n)
{
	char path[64], *buf, *cur, *line, *hier, *p;
	int ret;

	if (tid)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/cgroup", pid,
			 tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/cgroup", kh_via(pid));
	*cg = NULL;
	*n = 0;
	ret = kh_read_file(path, &buf, NULL);
	if (ret)
		return ret;
	for (cur = buf; !ret && (line = strsep(&cur, "\n")) && *line;) {
		hier = strchr(line, ':');
		p = hier ? strchr(hier + 1, ':') : NULL;
		if (!p) {
			ret = -EINVAL;
			break;
		}
		*p = '\0';
		ret = add_cg(cg, n, hier + 1, p + 1);
	}
	free(buf);
	if (ret) {
		kh_cg_free(*cg, *n);
		*cg = NULL;
		*n = 0;
	}
	return ret;
}

const char *kh_cg_path(const struct kh_cg *cg, size_t n, const char *hier)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(cg[i].hier, hier))
			return cg[i].path;
	return NULL;
}

void kh_cg_mounts_free(struct kh_cg_mount *m, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(m[i].hier);
		free(m[i].root);
		free(m[i].dir);
	}
	free(m);
}

/* is tok one of the comma-separated options */
static bool has_opt(const char *opts, const char *tok, size_t len)
{
	const char *p = opts;

	for (; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (strcspn(p, ",") == len && !strncmp(p, tok, len))
			return true;
	return false;
}

/*
 * A v1 mount's super options name its controllers: joined in the order
 * of /proc/cgroups (the kernel's), as /proc/PID/cgroup joins them, then
 * its name= if any.
 */
static int v1_name(const char *cgroups, const char *opts, char *out,
		   size_t len)
{
	const char *p, *name = strstr(opts, "name=");
	size_t used = 0, n;

	out[0] = '\0';
	for (p = cgroups; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		n = strcspn(p, " \t\n");
		if (*p != '#' && n && has_opt(opts, p, n))
			used += snprintf(out + used, len > used ? len - used : 0,
					 "%s%.*s", used ? "," : "", (int)n, p);
	}
	if (name && (name == opts || name[-1] == ','))
		used += snprintf(out + used, len > used ? len - used : 0,
				 "%s%.*s", used ? "," : "",
				 (int)strcspn(name, ","), name);
	return used && used < len ? 0 : -EINVAL;
}

static int add_mount(struct kh_cg_mount **m, size_t *n, const char *hier,
		     const char *root, const char *dir)
{
	struct kh_cg_mount *nm = array_room(*m, *n, sizeof(**m));

	if (!nm)
		return -ENOMEM;
	*m = nm;
	nm[*n].hier = strdup(hier);
	nm[*n].root = strdup(root);
	nm[*n].dir = strdup(dir);
	if (!nm[*n].hier || !nm[*n].root || !nm[*n].dir) {
		free(nm[*n].hier);
		free(nm[*n].root);
		free(nm[*n].dir);
		return -ENOMEM;
	}
	(*n)++;
	return 0;
}

/* one line of mountinfo: a cgroup mount is added, anything else skipped */
static int mount_line(const char *cgroups, char *line,
		      struct kh_cg_mount **m, size_t *n)
{
	char root[4096], dir[4096], fs[64], opts[1024], hier[1024];
	char *dash = strstr(line, " - ");

	if (!dash || sscanf(line, "%*s %*s %*s %4095s %4095s", root, dir) != 2 ||
	    sscanf(dash + 3, "%63s %*s %1023s", fs, opts) != 2)
		return 0;
	/* octal escapes: such a mount point is not one we can name */
	if (strchr(root, '\\') || strchr(dir, '\\'))
		return 0;
	if (!strcmp(fs, "cgroup2"))
		return add_mount(m, n, KH_CG_V2, root, dir);
	if (strcmp(fs, "cgroup") || v1_name(cgroups, opts, hier, sizeof(hier)))
		return 0;
	return add_mount(m, n, hier, root, dir);
}

int kh_cg_mounts(struct kh_cg_mount **m, size_t *n)
{
	char *info = NULL, *cgroups = NULL, *cur, *line;
	int ret;

	*m = NULL;
	*n = 0;
	ret = kh_read_file("/proc/self/mountinfo", &info, NULL);
	ret = ret ?: kh_read_file("/proc/cgroups", &cgroups, NULL);
	for (cur = info; !ret && cur && (line = strsep(&cur, "\n")) && *line;)
		ret = mount_line(cgroups, line, m, n);
	free(info);
	free(cgroups);
	if (ret) {
		kh_cg_mounts_free(*m, *n);
		*m = NULL;
		*n = 0;
	}
	return ret;
}

/* path below root ("/" is below everything) */
static const char *below(const char *path, const char *root)
{
	size_t len = strlen(root);

	if (!strcmp(root, "/"))
		return path;
	if (strncmp(path, root, len) || (path[len] && path[len] != '/'))
		return NULL;
	return path[len] ? path + len : "/";
}

char *kh_cg_dir(const struct kh_cg_mount *m, size_t n, const char *hier,
		const char *path)
{
	const char *rest;
	char *dir;
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(m[i].hier, hier))
			continue;
		rest = below(path, m[i].root);
		if (!rest)
			continue;
		if (asprintf(&dir, "%s%s", m[i].dir,
			     strcmp(rest, "/") ? rest : "") < 0)
			return NULL;
		return dir;
	}
	return NULL;
}

int kh_cg_read(const char *dir, const char *file, char **val)
{
	char *path;
	size_t len = 0;
	int ret;

	*val = NULL;
	if (asprintf(&path, "%s/%s", dir, file) < 0)
		return -ENOMEM;
	ret = kh_read_file(path, val, &len);
	free(path);
	if (ret)
		return ret;
	while (len && (*val)[len - 1] == '\n')
		(*val)[--len] = '\0';
	return 0;
}

int kh_cg_write(const char *dir, const char *file, const char *val)
{
	char *path;
	ssize_t len = strlen(val), w;
	int fd;

	if (asprintf(&path, "%s/%s", dir, file) < 0)
		return -ENOMEM;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return -errno;
	/* an empty value is written as a newline (cpuset.cpus "") */
	w = len ? write(fd, val, len) : write(fd, "\n", 1);
	if (w < 0) {
		w = -errno;
		close(fd);
		return w;
	}
	close(fd);
	return 0;
}

int kh_cg_exists(const char *dir)
{
	struct stat st;

	if (!stat(dir, &st))
		return S_ISDIR(st.st_mode) ? 1 : -ENOTDIR;
	return errno == ENOENT ? 0 : -errno;
}

int kh_cg_mkdir(const char *dir)
{
	return mkdir(dir, 0755) ? -errno : 0;
}

/* a cgroup whose last task just died is busy for a moment */
int kh_cg_rmdir(const char *dir)
{
	int i;

	for (i = 0; rmdir(dir); i++) {
		if (errno != EBUSY || i == 500)
			return -errno;
		usleep(10000);
	}
	return 0;
}

int kh_cg_enter(const char *dir)
{
	return kh_cg_write(dir, "cgroup.procs", "0");
}

/* the same through an O_PATH fd of dir: its path may not be ours to see */
int kh_cg_enter_at(int dir_fd)
{
	int fd = openat(dir_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, "0", 1) != 1)
		ret = -errno;
	close(fd);
	return ret;
}

/* the names of dir's regular files (the caller frees each and the array) */
int kh_cg_files(const char *dir, char ***names, size_t *n)
{
	struct dirent *e;
	char **nn;
	int ret = 0;
	DIR *d = opendir(dir);

	*names = NULL;
	*n = 0;
	if (!d)
		return -errno;
	while (!ret && (e = readdir(d))) {
		if (e->d_type != DT_REG)
			continue;
		nn = array_room(*names, *n, sizeof(**names));
		if (!nn || !(nn[*n] = strdup(e->d_name))) {
			*names = nn ?: *names;
			ret = -ENOMEM;
			break;
		}
		*names = nn;
		(*n)++;
	}
	closedir(d);
	if (ret) {
		while (*n)
			free((*names)[--*n]);
		free(*names);
		*names = NULL;
	}
	return ret;
}
