// SPDX-License-Identifier: MIT
/*
 * Processes sharing their parent's memory without being its threads
 * (clone with CLONE_VM, and maybe CLONE_SIGHAND): one address space again.
 * Such a child cannot run any of crfs-restore's code: there is no way into
 * another process's mm but being cloned into it, and once the parent's
 * memory is restored nothing of ours is left there but the restorer.  So
 * the parent's restorer clones it (clone3 with set_tid, CLONE_VM and the
 * other flags it was made with) once the memory is in place, and it sets
 * the rest of itself there (restorer.c, kid_main).  What it would have
 * inherited from its parent and cannot set there (session, group,
 * descriptors, cwd, ...) was checked equal at freeze (crfs/share_vm.c)
 * and is checked again here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restore.h"

static struct proc_image **kids;	/* of the process being restored */
static size_t nkids;

bool is_vm_kid(const struct image *img, size_t i)
{
	return img->procs[i].attr.shares_vm && !img->procs[i].attr.zombie;
}

void vm_share_prepare(struct image *img, int idx)
{
	size_t i;

	free(kids);
	kids = calloc(img->nprocs, sizeof(*kids));
	nkids = 0;
	for (i = 0; kids && i < img->nprocs; i++)
		if (img->procs[i].parent == idx && is_vm_kid(img, i))
			kids[nkids++] = &img->procs[i];
}

size_t vm_kids(struct proc_image ***out)
{
	if (out)
		*out = kids;
	return nkids;
}

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -EINVAL)

/* a child sharing memory runs none of the code that would fork its own */
static int check_one(const struct image *img, size_t i, char *err,
		     size_t errlen)
{
	const struct proc_image *c = &img->procs[i], *p;
	size_t k;

	if (c->attr.shares_sighand && !c->attr.shares_vm)
		return ERR("process %d: attr: shares_sighand without shares_vm",
			   c->pid);
	if (!is_vm_kid(img, i))
		return 0;
	if (c->parent < 0)
		return ERR("process %d: attr: shares_vm, but it is the root",
			   c->pid);
	p = &img->procs[c->parent];
	for (k = 0; k < img->nprocs; k++)
		if (img->procs[k].parent == (int)i)
			return ERR("process %d: shares its parent's memory (CLONE_VM) and has a child %d (not supported)",
				   c->pid, img->procs[k].pid);
	if (c->attr.sid != p->attr.sid || c->attr.pgid != p->attr.pgid ||
	    c->attr.personality != p->attr.personality || c->ntimers ||
	    p->attr.shares_vm)
		return ERR("process %d: shares its parent's memory (CLONE_VM) but its session, group, personality or timers are its own (not supported)",
			   c->pid);
	return 0;
}

int vm_share_check(const struct image *img, char *err, size_t errlen)
{
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < img->nprocs; i++)
		ret = check_one(img, i, err, errlen);
	return ret;
}
