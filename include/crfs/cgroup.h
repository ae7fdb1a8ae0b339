/* SPDX-License-Identifier: MIT */
/*
 * cgroup: the cgroups of the tree's processes that restore makes again
 * and puts them into (one file per container, present only when some
 * process is in a cgroup other than the daemon's, or the root has a cgroup
 * namespace of its own).  Rendered and parsed by lib/image_cgroup.c.
 */
#ifndef CRFS_CGROUP_H
#define CRFS_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "crfs/format.h"

#define CRFS_F_CGROUP		"cgroup"

/* a control file's value, as read (without the trailing newline) */
struct crfs_cg_limit {
	char *file;
	char *value;
};

/* a cgroup of one hierarchy ("v2", "cpu,cpuacct", "name=systemd") */
struct crfs_cg_group {
	char *hier;
	char *path;		/* from the hierarchy's root */
	struct crfs_cg_limit *limits;
	size_t nlimits;
};

/*
 * where a process is (pid), the cgroup namespace's root (pid 0), or the
 * daemon's own cgroup (pid -1), below which the tree's cgroups were
 */
struct crfs_cg_place {
	pid_t pid;
	char *hier;
	char *path;
};

struct crfs_cgroups {
	bool ns;		/* the root has a cgroup namespace of its own */
	struct crfs_cg_group *groups;	/* parents before children */
	size_t ngroups;
	struct crfs_cg_place *places;
	size_t nplaces;
};

/* the control files a limit line may name, NULL-terminated */
extern const char *const crfs_cg_saved[];
bool crfs_cg_is_saved(const char *file);

/* path is anc or below it (both absolute) */
bool crfs_cg_below(const char *path, const char *anc);

int render_cgroups(struct strbuf *sb, const struct crfs_cgroups *c);
int parse_cgroups(struct crfs_text *t, struct crfs_cgroups *c);
void crfs_cgroups_free(struct crfs_cgroups *c);
/* helpers to fill one in; -ENOMEM */
struct crfs_cg_group *crfs_cg_add_group(struct crfs_cgroups *c,
					const char *hier, const char *path);
int crfs_cg_add_limit(struct crfs_cg_group *g, const char *file,
		      const char *value);
int crfs_cg_add_place(struct crfs_cgroups *c, pid_t pid, const char *hier,
		      const char *path);

#endif
