/* SPDX-License-Identifier: MIT */
/*
 * kernel-helpers for cgroups: which cgroup a task is in, where each
 * hierarchy is mounted, and the files of a cgroup's directory.
 * A hierarchy is named as /proc/PID/cgroup names it ("cpu,cpuacct",
 * "name=systemd"), the cgroup v2 one as "v2".
 */
#ifndef CRFS_KH_CGROUP_H
#define CRFS_KH_CGROUP_H

#include <stddef.h>
#include <sys/types.h>

#define KH_CG_V2	"v2"

/* one line of /proc/PID/cgroup: the cgroup in one hierarchy */
struct kh_cg {
	char *hier;
	char *path;		/* as the reader's cgroup namespace shows it */
};

/* a mount of a hierarchy: its root cgroup and where it is */
struct kh_cg_mount {
	char *hier;
	char *root;
	char *dir;
};

/* /proc/PID/task/TID/cgroup (tid 0: the process's own file), by name */
int kh_task_cgroups(pid_t pid, pid_t tid, struct kh_cg **cg, size_t *n);
void kh_cg_free(struct kh_cg *cg, size_t n);
/* the path of hier in a list, or NULL */
const char *kh_cg_path(const struct kh_cg *cg, size_t n, const char *hier);

/* the caller's mounts of cgroup hierarchies */
int kh_cg_mounts(struct kh_cg_mount **m, size_t *n);
void kh_cg_mounts_free(struct kh_cg_mount *m, size_t n);
/* the directory of cgroup path of hier (malloc'ed), or NULL if unmounted */
char *kh_cg_dir(const struct kh_cg_mount *m, size_t n, const char *hier,
		const char *path);

/* a cgroup file's text without its trailing newline; -ENOENT if none */
int kh_cg_read(const char *dir, const char *file, char **val);
int kh_cg_write(const char *dir, const char *file, const char *val);
/* is dir there (1), not (0), or an error */
int kh_cg_exists(const char *dir);
int kh_cg_mkdir(const char *dir);
int kh_cg_rmdir(const char *dir);
/* the calling process joins the cgroup at dir */
int kh_cg_enter(const char *dir);
int kh_cg_enter_at(int dir_fd);
/* the regular files of a cgroup directory (each and the array malloc'ed) */
int kh_cg_files(const char *dir, char ***names, size_t *n);

#endif
