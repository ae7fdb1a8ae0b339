// SPDX-License-Identifier: MIT
/*
 * Namespace files held open (FK_NSFD): an fd of /proc/PID/ns/KIND, which
 * readlink shows as "KIND:[INODE]".  Restore can give back the daemon's
 * own namespace of that kind (crfs-restore's), a pid namespace of the tree
 * (by its init), and the root's own namespaces it makes again (net, uts,
 * ipc, time, the --mount-proc mount namespace); any other namespace is
 * refused by name.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "files.h"

/* "KIND:[INODE]" of a known kind */
bool files_is_nsfd(const struct kh_fd *f, char *kind, unsigned int *ino)
{
	int n = 0;

	return sscanf(f->link, "%7[a-z]:[%u]%n", kind, ino, &n) == 2 &&
	       !f->link[n] && ns_kind_known(kind);
}

/* the process of the tree that is init of pid namespace ino, or 0 */
static pid_t pidns_init(struct snapshot *s, unsigned int ino)
{
	pid_t pids[KH_NSPID_MAX];
	unsigned int own;
	size_t i;
	int n;

	for (i = 0; i < s->nprocs; i++)
		if (!kh_ns_ino(s->procs[i].pid, "pid", &own) && own == ino &&
		    !kh_ns_pids(s->procs[i].pid, pids, KH_NSPID_MAX, &n) &&
		    n > 1 && pids[n - 1] == 1)
			return s->procs[i].pid;
	return 0;
}

const char *files_classify_nsfd(struct files_ctx *c, const struct kh_fd *f,
				struct crfs_file *cf)
{
	pid_t root = c->s->procs[0].pid;
	unsigned int ino, mine, roots;
	char kind[8];

	if (!files_is_nsfd(f, kind, &ino))
		return "unknown kind of file";
	cf->kind = FK_NSFD;
	cf->ns_type = strdup(kind);
	if (!cf->ns_type)
		return "out of memory";
	if (!kh_ns_ino(getpid(), kind, &mine) && mine == ino)
		return NULL;			/* ours: cf->ns_pid 0 */
	if (!strcmp(kind, "pid")) {
		cf->ns_pid = pidns_init(c->s, ino);
		return cf->ns_pid ? NULL :
		       "a descriptor of a pid namespace that is neither the daemon's nor one of the tree's is not supported";
	}
	/* every process is in the root's namespaces of these kinds, which
	 * restore makes again; user and cgroup ones are refused */
	if (strcmp(kind, "user") && strcmp(kind, "cgroup") &&
	    !kh_ns_ino(root, kind, &roots) && roots == ino) {
		cf->ns_pid = root;
		return NULL;
	}
	return "a descriptor of a namespace that is neither the daemon's nor the tree's is not supported";
}
