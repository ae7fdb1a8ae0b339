// SPDX-License-Identifier: MIT
/*
 * The SysV queues and semaphore sets of ipc/, made again in our IPC
 * namespace before the tree is forked, each with its saved id (msg_next_id,
 * sem_next_id), key, owner, creator, mode, messages and values.
 *
 * An id already in use refuses the restore before anything is touched,
 * unless the object there is the image's own, left behind by the killed
 * tree (the kernel removes no SysV object when its users exit): the same
 * id, key, creator and change time.  That one is removed and made again
 * from the image, which is what the tree saw at the checkpoint.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>

#include "crfs/ipc.h"
#include "kh.h"
#include "restore.h"

/* the index part of an id (IPCMNI_SHIFT without ipcmni_extend) */
#define IPC_IDX_MASK	0x7fff

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

struct ipc_item {
	int kind;		/* KH_IPC_MSG or KH_IPC_SEM */
	struct crfs_ipc_obj o;
	struct crfs_ipc_msg *msgs;
	size_t nmsgs;
	char *data;		/* shm: its bytes */
	size_t len;
	bool leftover;		/* the image's own object is still there */
	bool made;
	int shm_flags;		/* shm: SHM_HUGETLB and its page size */
};

static struct ipc_item *items;
static size_t nitems;

static const char *kind_name(int kind)
{
	return kind == KH_IPC_MSG ? "message queue" :
	       kind == KH_IPC_SEM ? "semaphore set" : "shared memory segment";
}

static char ipcrm_letter(int kind)
{
	return kind == KH_IPC_MSG ? 'q' : kind == KH_IPC_SEM ? 's' : 'm';
}

static int p_shm(struct crfs_text *t, void *o)
{
	return parse_ipc_obj(t, CRFS_IPC_SHM, o);
}

/* ID.data, whose size and checksum the manifest checked */
static int load_data(struct image *img, const char *rel,
		     struct ipc_item *it, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path), "%s/%s%s", img->dir, rel, CRFS_IPC_DATA);
	ret = kh_read_file(path, &it->data, &it->len);
	if (!ret && it->len != it->o.size)
		ret = -EINVAL;
	if (ret)
		snprintf(err, errlen, "%s: %s", path, ret == -EINVAL ?
			 "not the segment's size" : strerror(-ret));
	return ret;
}

static int p_msg(struct crfs_text *t, void *o)
{
	return parse_ipc_obj(t, CRFS_IPC_MSG, o);
}

static int p_sem(struct crfs_text *t, void *o)
{
	return parse_ipc_obj(t, CRFS_IPC_SEM, o);
}

static int p_msgs(struct crfs_text *t, void *o)
{
	struct ipc_item *it = o;

	return parse_ipc_msgs(t, &it->msgs, &it->nmsgs);
}

static int load_item(struct image *img, const char *rel, int kind,
		     char *err, size_t errlen)
{
	struct ipc_item *it, *n = realloc(items, (nitems + 1) * sizeof(*n));
	char mpath[256];
	int ret;

	if (!n)
		return snprintf(err, errlen, "out of memory"), -ENOMEM;
	items = n;
	it = memset(&items[nitems++], 0, sizeof(*it));
	it->kind = kind;
	ret = image_parse(img, rel, kind == KH_IPC_MSG ? p_msg :
				    kind == KH_IPC_SEM ? p_sem : p_shm,
			  &it->o, err, errlen);
	if (!ret && kind == KH_IPC_SHM)
		return load_data(img, rel, it, err, errlen);
	if (ret || kind != KH_IPC_MSG)
		return ret;
	snprintf(mpath, sizeof(mpath), "%s%s", rel, CRFS_IPC_MESSAGES);
	ret = image_parse(img, mpath, p_msgs, it, err, errlen);
	if (!ret && it->nmsgs != it->o.count) {
		snprintf(err, errlen, "%s: %zu messages, want %u", mpath,
			 it->nmsgs, it->o.count);
		ret = -EINVAL;
	}
	return ret;
}

/* ipc/msg/ID and ipc/sem/ID from the manifest */
static int load_items(struct image *img, char *err, size_t errlen)
{
	const char *p, *rest;
	size_t i, dl;
	int ret = 0, kind;

	for (i = 0; !ret && i < img->hdr.nfiles; i++) {
		p = img->hdr.files[i].path;
		if (!strncmp(p, CRFS_D_IPC_MSG "/", dl = strlen(CRFS_D_IPC_MSG) + 1))
			kind = KH_IPC_MSG;
		else if (!strncmp(p, CRFS_D_IPC_SEM "/", dl = strlen(CRFS_D_IPC_SEM) + 1))
			kind = KH_IPC_SEM;
		else if (!strncmp(p, CRFS_D_IPC_SHM "/", dl = strlen(CRFS_D_IPC_SHM) + 1))
			kind = KH_IPC_SHM;
		else
			continue;
		rest = p + dl;
		if (strspn(rest, "0123456789") != strlen(rest))
			continue;	/* ID.messages: read with its queue */
		ret = load_item(img, p, kind, err, errlen);
	}
	return ret;
}

static bool conflicts(const struct ipc_item *it, const struct kh_ipc *k)
{
	return (k->id & IPC_IDX_MASK) == (it->o.id & IPC_IDX_MASK) ||
	       (it->o.key != IPC_PRIVATE && k->key == it->o.key);
}

static bool is_leftover(const struct ipc_item *it, const struct kh_ipc *k)
{
	return k->id == it->o.id && k->key == it->o.key &&
	       k->cuid == it->o.cuid && k->ctime == it->o.ctime;
}

/* the image's slot (and key) must be free, or hold the image's own */
static int check_item(struct ipc_item *it, char *err, size_t errlen)
{
	struct kh_ipc *a;
	size_t i, n;
	int ret = kh_ipc_list(it->kind, &a, &n);

	if (ret) {
		snprintf(err, errlen, "list the SysV %ss of this host: %s",
			 kind_name(it->kind), strerror(-ret));
		return ret;
	}
	for (i = 0; !ret && i < n; i++) {
		if (!conflicts(it, &a[i]))
			continue;
		if (is_leftover(it, &a[i])) {
			it->leftover = true;
			continue;
		}
		snprintf(err, errlen, "SysV %s %d (key 0x%lx) of the image: id %d (key 0x%x) is taken on this host; remove it first (ipcrm -%c %d)",
			 kind_name(it->kind), it->o.id,
			 (unsigned long)it->o.key, a[i].id, a[i].key,
			 ipcrm_letter(it->kind), a[i].id);
		ret = -EEXIST;
	}
	free(a);
	return ret;
}

static int ipc_remove(int kind, int id)
{
	int r = kind == KH_IPC_MSG ? msgctl(id, IPC_RMID, NULL) :
		kind == KH_IPC_SEM ? semctl(id, 0, IPC_RMID) :
				     shmctl(id, IPC_RMID, NULL);

	return r < 0 ? -errno : 0;
}

/* created by the saved creator: cuid and cgid are the creator's euid/egid */
static int get_as_creator(const struct ipc_item *it)
{
	int flags = IPC_CREAT | IPC_EXCL | (it->o.mode & 0777), id, e;

	if (setegid(it->o.cgid) || seteuid(it->o.cuid)) {
		e = errno;
		setegid(0);
		return -e;
	}
	id = it->kind == KH_IPC_MSG ? msgget(it->o.key, flags) :
	     it->kind == KH_IPC_SEM ? semget(it->o.key, it->o.count, flags) :
	     shmget(it->o.key, it->o.size, flags | it->shm_flags);
	e = errno;
	if (seteuid(0) || setegid(0))
		abort();	/* we would go on with another identity */
	return id < 0 ? -e : id;
}

static int fill_msg(const struct ipc_item *it)
{
	struct msqid_ds ds;
	struct { long type; char text[]; } *buf;
	size_t i;
	int ret = 0;

	if (msgctl(it->o.id, IPC_STAT, &ds))
		return -errno;
	ds.msg_perm.uid = it->o.uid;
	ds.msg_perm.gid = it->o.gid;
	ds.msg_perm.mode = it->o.mode;
	ds.msg_qbytes = it->o.qbytes;
	if (msgctl(it->o.id, IPC_SET, &ds))
		return -errno;
	for (i = 0; !ret && i < it->nmsgs; i++) {
		buf = malloc(sizeof(long) + it->msgs[i].len + 1);
		if (!buf)
			return -ENOMEM;
		buf->type = it->msgs[i].type;
		memcpy(buf->text, it->msgs[i].data, it->msgs[i].len);
		if (msgsnd(it->o.id, buf, it->msgs[i].len, IPC_NOWAIT))
			ret = -errno;
		free(buf);
	}
	return ret;
}

static int fill_sem(const struct ipc_item *it)
{
	struct semid_ds ds;
	union semun u = { .buf = &ds };

	if (semctl(it->o.id, 0, IPC_STAT, u))
		return -errno;
	ds.sem_perm.uid = it->o.uid;
	ds.sem_perm.gid = it->o.gid;
	ds.sem_perm.mode = it->o.mode;
	if (semctl(it->o.id, 0, IPC_SET, u))
		return -errno;
	u.array = it->o.semval;
	return semctl(it->o.id, 0, SETALL, u) ? -errno : 0;
}

/* attached here only to be filled; the tree attaches it again itself */
static int fill_shm(const struct ipc_item *it)
{
	struct shmid_ds ds;
	void *at;

	if (shmctl(it->o.id, IPC_STAT, &ds))
		return -errno;
	ds.shm_perm.uid = it->o.uid;
	ds.shm_perm.gid = it->o.gid;
	ds.shm_perm.mode = it->o.mode;
	if (shmctl(it->o.id, IPC_SET, &ds))
		return -errno;
	at = shmat(it->o.id, NULL, 0);
	if (at == (void *)-1)
		return -errno;
	memcpy(at, it->data, it->len);
	return shmdt(at) ? -errno : 0;
}

static int make_item(struct ipc_item *it, char *err, size_t errlen)
{
	const char *step = "remove what the killed tree left";
	int ret = 0, id;

	if (it->leftover)
		ret = ipc_remove(it->kind, it->o.id);
	if (!ret) {
		step = "set the next id";
		ret = kh_ipc_next_id(it->kind, it->o.id);
	}
	if (!ret) {
		step = "create";
		id = get_as_creator(it);
		ret = id < 0 ? id : 0;
		it->made = !ret && id == it->o.id;
		/* another id (the slot taken meanwhile) would be wrong */
		if (!ret && id != it->o.id) {
			ipc_remove(it->kind, id);
			ret = -EADDRINUSE;
		}
	}
	if (!ret) {
		step = "fill";
		ret = it->kind == KH_IPC_MSG ? fill_msg(it) :
		      it->kind == KH_IPC_SEM ? fill_sem(it) : fill_shm(it);
	}
	if (ret)
		snprintf(err, errlen, "SysV %s %d (key 0x%lx): %s: %s",
			 kind_name(it->kind), it->o.id,
			 (unsigned long)it->o.key, step, strerror(-ret));
	return ret;
}

int ipc_sysv_restore(struct image *img, char *err, size_t errlen)
{
	size_t i;
	int ret;

	ret = load_items(img, err, errlen);
	ret = ret ?: ipc_ns_restore(img, err, errlen);
	/* every id is checked before any object is made or removed */
	for (i = 0; !ret && i < nitems; i++)
		ret = check_item(&items[i], err, errlen);
	/* a segment of huge pages: its attaches say of which size */
	for (i = 0; i < nitems; i++)
		items[i].shm_flags = hugetlb_shm_flags(
			hugetlb_sysv_kb(img, items[i].kind, items[i].o.id));
	for (i = 0; !ret && i < nitems; i++)
		ret = make_item(&items[i], err, errlen);
	if (ret)
		ipc_sysv_undo();
	return ret;
}

/*
 * A semaphore's last operator (semctl GETPID, sempid) is its process of
 * the tree again: that process sets the value the set already has, in
 * the tree's IPC namespace, before any of the tree's code runs.  A child
 * of crfs-restore, which made the set, exits on failure.
 */
void ipc_sysv_sempids(pid_t pid, int err_fd)
{
	const struct crfs_ipc_obj *o;
	union semun u;
	size_t i, k;

	for (i = 0; i < nitems; i++) {
		o = &items[i].o;
		if (items[i].kind != KH_IPC_SEM || !o->sempid)
			continue;
		for (k = 0; k < o->count; k++) {
			if (o->sempid[k] != pid)
				continue;
			u.val = o->semval[k];
			if (semctl(o->id, k, SETVAL, u))
				child_fail(err_fd, "SysV semaphore set %d: semaphore %zu: set again by its last user: %m",
					   o->id, k);
		}
	}
}

/* after a failed restore: nothing of ours stays */
void ipc_sysv_undo(void)
{
	size_t i;

	for (i = 0; i < nitems; i++) {
		if (items[i].made)
			ipc_remove(items[i].kind, items[i].o.id);
		items[i].made = false;
	}
}

/*
 * Once the tree runs: segments it had removed (IPC_RMID) while attached
 * are removed again, now that its processes have attached them
 */
void ipc_sysv_done(void)
{
	size_t i;

	for (i = 0; i < nitems; i++)
		if (items[i].kind == KH_IPC_SHM && items[i].o.removed)
			ipc_remove(KH_IPC_SHM, items[i].o.id);
}

void ipc_sysv_free(void)
{
	size_t i;

	for (i = 0; i < nitems; i++) {
		free(items[i].data);
		free_ipc_obj(&items[i].o);
		free_ipc_msgs(items[i].msgs, items[i].nmsgs);
	}
	free(items);
	items = NULL;
	nitems = 0;
}
