// SPDX-License-Identifier: MIT
/*
 * SysV objects of the host's IPC namespace that only the tree uses, saved
 * as ipc/msg/ID and ipc/sem/ID.  The kernel keeps no creator pid for a
 * queue or a semaphore set, only the last pids that used it: an object is
 * the tree's when those pids are processes of the tree (a pid of 0 means
 * not used yet).  An object used both by the tree and by a process outside
 * it is refused; one that no process of the tree used is not the tree's.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>

#include "crfs/array.h"
#include "crfs/ipc.h"
#include "kh.h"
#include "snapshot.h"

/* a value line and a message line must fit the parsers' line buffers */
#define MAX_SEMS	2000
#define MAX_MSG		16000

struct tree {
	const pid_t *procs;
	int n;
	bool all;	/* an IPC namespace of its own: every object is ours */
	pid_t undo;	/* a process with a SEM_UNDO list, if any */
	bool undo_asked;	/* undo is known: asked once, when needed */
};

/* asking forks a child in the daemon: only for a set semop changed */
static int undo_holder(struct tree *t)
{
	if (!t->undo_asked) {
		t->undo = kh_sem_undo_holder(t->procs, t->n);
		t->undo_asked = true;
	}
	return t->undo;
}

static bool in_tree(const struct tree *t, pid_t pid)
{
	int i;

	for (i = 0; i < t->n; i++)
		if (t->procs[i] == pid)
			return true;
	return false;
}

/* 1: the tree's, 0: not, <0: used by pid -ret outside the tree too */
static int owner(const struct tree *t, const pid_t *pids, size_t n)
{
	pid_t outside = 0;
	bool ours = false;
	size_t i;

	if (t->all)
		return 1;
	for (i = 0; i < n; i++) {
		if (!pids[i])
			continue;
		if (in_tree(t, pids[i]))
			ours = true;
		else
			outside = pids[i];
	}
	if (ours && outside)
		return -outside;
	return ours;
}

static void to_obj(const struct kh_ipc *k, struct crfs_ipc_obj *o)
{
	memset(o, 0, sizeof(*o));
	o->id = k->id;
	o->key = k->key;
	o->mode = k->mode;
	o->uid = k->uid;
	o->gid = k->gid;
	o->cuid = k->cuid;
	o->cgid = k->cgid;
	o->ctime = k->ctime;
	o->qbytes = k->qbytes;
	o->count = k->count;
}

static int add_dir(struct snapshot *s, const char *dir)
{
	size_t i;

	for (i = 0; i < s->nentries; i++)
		if (!strcmp(s->entries[i].path, dir))
			return 0;
	return snapshot_add(s, dir, E_DIR, NULL, 0, -1);
}

static int peek_msgs(int id, unsigned int count, size_t max,
		     struct crfs_ipc_msg *m)
{
	struct { long type; char text[]; } *buf = malloc(sizeof(long) + max);
	unsigned int i;
	ssize_t n = 0;

	if (!buf)
		return -ENOMEM;
	for (i = 0; i < count; i++) {
		n = kh_msg_peek(id, i, buf, max);
		if (n < 0)
			break;
		m[i].type = buf->type;
		m[i].len = n;
		m[i].data = malloc(n + 1);
		if (!m[i].data) {
			n = -ENOMEM;
			break;
		}
		memcpy(m[i].data, buf->text, n);
	}
	free(buf);
	return n < 0 ? n : 0;
}

static int save_msg(struct snapshot *s, const struct kh_ipc *k)
{
	struct crfs_ipc_msg *m = calloc(k->count + 1, sizeof(*m));
	struct crfs_ipc_obj o;
	char path[64];
	unsigned int i;
	int ret;

	if (!m)
		return -ENOMEM;
	/* no message is longer than all of them together */
	ret = peek_msgs(k->id, k->count, k->cbytes, m);
	for (i = 0; !ret && i < k->count; i++)
		if (m[i].len > MAX_MSG)
			snapshot_report(s, "SysV message queue %d (key 0x%x): a message of %zu bytes, more than %d, is not supported yet",
					k->id, k->key, m[i].len, MAX_MSG);
	if (ret == -ENOSYS)
		snapshot_report(s, "SysV message queue %d (key 0x%x): this kernel cannot read messages without consuming them (MSG_COPY needs CONFIG_CHECKPOINT_RESTORE)",
				k->id, k->key);
	/* fewer messages than msg_qnum said: not frozen with the tree */
	if (ret == -ENOMSG)
		snapshot_report(s, "SysV message queue %d (key 0x%x): changed during the freeze (used outside the tree?)",
				k->id, k->key);
	if (ret == -ENOSYS || ret == -ENOMSG)
		ret = 0;
	to_obj(k, &o);
	snprintf(path, sizeof(path), "%s/%d", CRFS_D_IPC_MSG, k->id);
	ret = ret ?: add_dir(s, CRFS_D_IPC);
	ret = ret ?: add_dir(s, CRFS_D_IPC_MSG);
	ret = ret ?: RENDER(s, path, render_ipc_obj, CRFS_IPC_MSG, &o);
	strcat(path, CRFS_IPC_MESSAGES);
	ret = ret ?: RENDER(s, path, render_ipc_msgs, m, k->count);
	free_ipc_msgs(m, k->count);
	return ret;
}

static int capture_msgs(struct snapshot *s, const struct tree *t)
{
	struct kh_ipc *a;
	size_t i, n;
	int ret, own;

	ret = kh_ipc_list(KH_IPC_MSG, &a, &n);
	if (ret)
		return ret;
	for (i = 0; !ret && i < n; i++) {
		own = owner(t, a[i].pids, 2);
		if (own < 0)
			snapshot_report(s, "SysV message queue %d (key 0x%x): also used by process %d outside the tree (not supported)",
					a[i].id, a[i].key, -own);
		else if (own)
			ret = save_msg(s, &a[i]);
	}
	free(a);
	return ret;
}

static int save_sem(struct snapshot *s, struct tree *t,
		    const struct kh_ipc *k, unsigned short *val, pid_t *pids)
{
	struct crfs_ipc_obj o;
	char path[64];
	int ret;

	/*
	 * A semop with SEM_UNDO leaves the process adjustments to apply at
	 * its exit, which no interface shows.  Any semop sets otime (semctl
	 * does not); a process without a SEM_UNDO list has no adjustments
	 */
	if (k->otime && undo_holder(t) < 0)
		return t->undo;
	if (k->otime && t->undo) {
		snapshot_report(s, "SysV semaphore set %d (key 0x%x): changed by semop while process %d has a SEM_UNDO list, whose adjustments cannot be read (not supported)",
				k->id, k->key, t->undo);
		return 0;
	}
	to_obj(k, &o);
	o.semval = val;
	o.sempid = pids;	/* the tree's: owner() said so */
	snprintf(path, sizeof(path), "%s/%d", CRFS_D_IPC_SEM, k->id);
	ret = add_dir(s, CRFS_D_IPC);
	ret = ret ?: add_dir(s, CRFS_D_IPC_SEM);
	return ret ?: RENDER(s, path, render_ipc_obj, CRFS_IPC_SEM, &o);
}

static int capture_sem(struct snapshot *s, struct tree *t,
		       const struct kh_ipc *k)
{
	unsigned short *val;
	pid_t *pids;
	int ret, own = 0;

	pids = calloc(k->count, sizeof(*pids));
	val = calloc(k->count, sizeof(*val));
	ret = pids && val ? 0 : -ENOMEM;
	ret = ret ?: kh_sem_values(k->id, k->count, val, pids);
	if (ret == -EINVAL || ret == -EIDRM)
		ret = 0;	/* removed meanwhile: not frozen with us */
	else if (!ret)
		own = owner(t, pids, k->count);
	if (ret || !own)
		goto out;
	if (own < 0)
		snapshot_report(s, "SysV semaphore set %d (key 0x%x): also used by process %d outside the tree (not supported)",
				k->id, k->key, -own);
	else if (k->count > MAX_SEMS)
		snapshot_report(s, "SysV semaphore set %d (key 0x%x): more than %d semaphores are not supported yet",
				k->id, k->key, MAX_SEMS);
	else
		ret = save_sem(s, t, k, val, pids);
out:
	free(pids);
	free(val);
	return ret;
}

static int capture_sems(struct snapshot *s, struct tree *t)
{
	struct kh_ipc *a;
	size_t i, n;
	int ret;

	ret = kh_ipc_list(KH_IPC_SEM, &a, &n);
	if (ret)
		return ret;
	for (i = 0; !ret && i < n; i++)
		ret = capture_sem(s, t, &a[i]);
	free(a);
	return ret;
}

/* the tree's attaches of segment id; *pid, *v: one of them */
static unsigned int tree_attaches(struct snapshot *s, int id, pid_t *pid,
				  const struct crfs_vma **v)
{
	unsigned int n = 0;
	size_t i, k;

	for (i = 0; i < s->nprocs; i++)
		for (k = 0; k < s->procs[i].nvmas; k++) {
			const struct crfs_vma *m = &s->procs[i].vmas[k];

			if (m->kind != VMA_SYSV || m->shm_ino != (uint64_t)id)
				continue;
			*pid = s->procs[i].pid;
			*v = m;
			n++;
		}
	return n;
}

/* the bytes, through an attach of the tree: no attach of ours changes it */
static int save_shm(struct snapshot *s, const struct kh_ipc *k, pid_t pid,
		    const struct crfs_vma *v)
{
	struct crfs_ipc_obj o;
	char path[64], link[96], *buf;
	size_t len;
	int ret;

	snprintf(link, sizeof(link), "/proc/%d/map_files/%lx-%lx", kh_via(pid),
		 v->start, v->end);
	ret = kh_read_file(link, &buf, &len);
	if (ret)
		return ret;
	/* SHM_HUGETLB: the file is of whole huge pages, the segment less */
	if ((v->flags & VMA_F_HUGETLB) && len > k->size &&
	    len - k->size < v->huge_kb * 1024ULL)
		len = k->size;
	if (len != k->size) {
		free(buf);
		return -EIO;
	}
	to_obj(k, &o);
	o.size = k->size;
	o.removed = !!(k->flags & SHM_DEST);
	o.count = 0;
	snprintf(path, sizeof(path), "%s/%d%s", CRFS_D_IPC_SHM, k->id,
		 CRFS_IPC_DATA);
	ret = add_dir(s, CRFS_D_IPC);
	ret = ret ?: add_dir(s, CRFS_D_IPC_SHM);
	ret = ret ?: snapshot_add(s, path, E_TEXT, buf, len, -1);
	if (ret)
		return ret;
	path[strlen(path) - strlen(CRFS_IPC_DATA)] = '\0';
	return RENDER(s, path, render_ipc_obj, CRFS_IPC_SHM, &o);
}

/*
 * A segment is the tree's when its creator or last attacher is; every
 * attach (nattch counts mappings) must then be one of the tree's.  A last
 * detacher outside the tree that has exited since (a child of the tree
 * that detached and exited, as every PostgreSQL backend does) uses it no
 * more: nattch proves nobody else has it attached.
 */
static int capture_shm(struct snapshot *s, const struct tree *t,
		       const struct kh_ipc *k)
{
	const struct crfs_vma *v = NULL;
	unsigned int n;
	pid_t pid = 0;
	int own = owner(t, k->pids, 2);

	if (!own)
		return 0;
	n = tree_attaches(s, k->id, &pid, &v);
	if (own < 0 && n && n == k->count && kill(-own, 0) && errno == ESRCH)
		own = 1;
	if (own < 0 || n != k->count)
		snapshot_report(s, "SysV shared memory segment %d (key 0x%x): also used by a process outside the tree (not supported)",
				k->id, k->key);
	else if (!n)
		snapshot_report(s, "SysV shared memory segment %d (key 0x%x): not attached by the tree: not supported yet",
				k->id, k->key);
	else if (k->flags & SHM_LOCKED)
		snapshot_report(s, "SysV shared memory segment %d (key 0x%x): locked (SHM_LOCK): not supported yet",
				k->id, k->key);
	else
		return save_shm(s, k, pid, v);
	return 0;
}

static int capture_shms(struct snapshot *s, const struct tree *t)
{
	struct kh_ipc *a;
	size_t i, n;
	int ret;

	ret = kh_ipc_list(KH_IPC_SHM, &a, &n);
	if (ret)
		return ret;
	for (i = 0; !ret && i < n; i++)
		ret = capture_shm(s, t, &a[i]);
	free(a);
	return ret;
}

int capture_sysvipc(struct snapshot *s, pid_t root, const pid_t *procs,
		    int n)
{
	struct tree t = { procs, n, false, 0, false };
	int ret, back;

	ret = ipc_ns_enter(s, root, procs, n, &back);
	if (ret)
		return ret;
	t.all = back >= 0;
	ret = capture_msgs(s, &t);
	ret = ret ?: capture_sems(s, &t);
	ret = ret ?: capture_shms(s, &t);
	ipc_ns_leave(back);
	return ret;
}
