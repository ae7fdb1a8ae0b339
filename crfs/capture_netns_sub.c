// SPDX-License-Identifier: MIT
/*
 * Network namespaces of the tree other than the root's (zdtm netns_sub):
 * each is saved as the root's is (lo, its addresses, routes, sysctls) in
 * netns.N, and netns_sub says which process is in which.  Restore makes
 * them before the tree and each process enters its own.  What restore
 * does not make in them is refused by name: devices other than lo,
 * nftables rules, and such namespaces under a user namespace of the tree
 * (sockets made in them are refused with every other socket not of the
 * root's, in files_unix.c: crfs-restore makes every socket in the root's).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crfs/ns.h"
#include "crfs/netns_sub.h"
#include "kh_ns.h"
#include "snapshot.h"

struct sub_ctx {
	struct snapshot *s;
	unsigned int root_ino, own_ino;	/* the root's, the daemon's */
	unsigned int inos[CRFS_NETNS_SUB_MAX];
	size_t ninos;
	struct crfs_netns_member *m;
	size_t nm;
};

/* a process in a network namespace of its own, not under a user one */
int netns_sub_ok(struct snapshot *s, pid_t pid, pid_t root, const char *name,
		 const char *theirs)
{
	char *mine = NULL, *user = NULL, *rootns = NULL;

	if (kh_proc_link(root, "ns/net", &rootns) || !strcmp(rootns, theirs))
		goto out;
	if (!kh_proc_link(getpid(), "ns/user", &mine) &&
	    !kh_proc_link(pid, "ns/user", &user) && strcmp(mine, user))
		snapshot_report(s, "process %d: in a %s namespace (%s) other than the root's (%s) inside a user namespace of the tree's: not supported",
				pid, name, theirs, rootns);
out:
	free(mine);
	free(user);
	free(rootns);
	return 1;
}

/* namespace ino gets the next number, or the one it has */
static int member(struct sub_ctx *c, pid_t pid, unsigned int ino)
{
	size_t k;

	for (k = 0; k < c->ninos && c->inos[k] != ino; k++)
		;
	if (k == CRFS_NETNS_SUB_MAX) {
		snapshot_report(c->s, "process %d: more than %d network namespaces in the tree: not supported",
				pid, CRFS_NETNS_SUB_MAX);
		return -E2BIG;
	}
	if (k == c->ninos)
		c->inos[c->ninos++] = ino;
	c->m[c->nm].pid = pid;
	c->m[c->nm++].idx = k + 1;
	return 0;
}

static void refuse_unmade(struct sub_ctx *c, pid_t pid, unsigned int ino,
			  const struct crfs_ns *ns)
{
	size_t i;

	for (i = 0; i < ns->nveths; i++)
		snapshot_report(c->s, "process %d: network namespace net:[%u], not the root's: device %s (veth): only lo is restored in a network namespace other than the root's",
				pid, ino, ns->veths[i].in.name);
	for (i = 0; i < ns->ndevs; i++)
		snapshot_report(c->s, "process %d: network namespace net:[%u], not the root's: device %s (%s): only lo is restored in a network namespace other than the root's",
				pid, ino, ns->devs[i].name, ns->devs[i].kind);
	if (ns->nft)
		snapshot_report(c->s, "process %d: network namespace net:[%u], not the root's: nftables rules are not restored in a network namespace other than the root's",
				pid, ino);
}

/* namespace k + 1, as its first member sees it */
static int save_one(struct sub_ctx *c, size_t k)
{
	struct crfs_ns ns = { 0 };
	char path[32];
	size_t i;
	int ret;

	for (i = 0; c->m[i].idx != k + 1; i++)
		;
	ret = capture_net_of(c->s, c->m[i].pid, &ns);
	if (!ret)
		refuse_unmade(c, c->m[i].pid, c->inos[k], &ns);
	snprintf(path, sizeof(path), CRFS_F_NETNS_FMT, (unsigned int)k + 1);
	ret = ret ?: RENDER(c->s, path, render_ns, &ns);
	crfs_ns_free(&ns);
	return ret;
}

int capture_netns_sub(struct snapshot *s, pid_t root, const pid_t *procs,
		      int n)
{
	struct sub_ctx c = { .s = s };
	unsigned int ino;
	int i, ret = 0;

	if (kh_ns_ino(root, "net", &c.root_ino) ||
	    kh_ns_ino(getpid(), "net", &c.own_ino))
		return 0;
	c.m = calloc(n + 1, sizeof(*c.m));
	if (!c.m)
		return -ENOMEM;
	for (i = 0; !ret && i < n; i++) {
		if (kh_ns_ino(procs[i], "net", &ino) || ino == c.root_ino)
			continue;	/* a zombie has none to show */
		if (ino == c.own_ino)
			snapshot_report(s, "process %d: in crfs's network namespace while the root has one of its own: not supported",
					procs[i]);
		else
			ret = member(&c, procs[i], ino);
	}
	for (i = 0; !ret && (size_t)i < c.ninos; i++)
		ret = save_one(&c, i);
	if (!ret && c.nm)
		ret = RENDER(s, CRFS_F_NETNS_SUB, render_netns_sub, c.m, c.nm);
	free(c.m);
	return ret == -E2BIG ? 0 : ret;
}
