// SPDX-License-Identifier: MIT
/*
 * SysV IPC as C/R needs it: every object of our IPC namespace by index
 * (the *_STAT_ANY commands, which need no read permission), a queue's
 * messages read without consuming them (MSG_COPY, CONFIG_CHECKPOINT_RESTORE)
 * and the id the next object gets (/proc/sys/kernel/{msg,sem,shm}_next_id).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <linux/kcmp.h>

#include "kh.h"

/* glibc wants the caller to define it (semctl(2)) */
union kh_semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

static void fill_perm(struct kh_ipc *o, int id, const struct ipc_perm *p,
		      time_t ctime)
{
	o->id = id;
	o->key = (uint32_t)p->__key;
	o->mode = p->mode & 0777;
	o->uid = p->uid;
	o->gid = p->gid;
	o->cuid = p->cuid;
	o->cgid = p->cgid;
	o->ctime = ctime;
}

static int msg_at(int idx, struct kh_ipc *o)
{
	struct msqid_ds ds;
	int id = msgctl(idx, MSG_STAT_ANY, &ds);

	if (id < 0)
		return -errno;
	fill_perm(o, id, &ds.msg_perm, ds.msg_ctime);
	o->count = ds.msg_qnum;
	o->qbytes = ds.msg_qbytes;
	o->cbytes = ds.__msg_cbytes;
	o->pids[0] = ds.msg_lspid;
	o->pids[1] = ds.msg_lrpid;
	o->otime = ds.msg_stime;
	return 0;
}

static int sem_at(int idx, struct kh_ipc *o)
{
	union kh_semun u;
	struct semid_ds ds;
	int id;

	u.buf = &ds;
	id = semctl(idx, 0, SEM_STAT_ANY, u);
	if (id < 0)
		return -errno;
	fill_perm(o, id, &ds.sem_perm, ds.sem_ctime);
	o->count = ds.sem_nsems;
	o->otime = ds.sem_otime;
	return 0;
}

static int shm_at(int idx, struct kh_ipc *o)
{
	struct shmid_ds ds;
	int id = shmctl(idx, SHM_STAT_ANY, &ds);

	if (id < 0)
		return -errno;
	fill_perm(o, id, &ds.shm_perm, ds.shm_ctime);
	o->count = ds.shm_nattch;
	o->pids[0] = ds.shm_cpid;
	o->pids[1] = ds.shm_lpid;
	o->size = ds.shm_segsz;
	o->flags = ds.shm_perm.mode & (SHM_DEST | SHM_LOCKED);
	return 0;
}

static int ipc_max(int kind)
{
	/* each *_INFO writes its own structure */
	struct msginfo mi;
	struct seminfo semi;
	struct shm_info si;

	if (kind == KH_IPC_MSG)
		return msgctl(0, MSG_INFO, (void *)&mi);
	if (kind == KH_IPC_SEM)
		return semctl(0, 0, SEM_INFO, (void *)&semi);
	return shmctl(0, SHM_INFO, (void *)&si);
}

static int ipc_at(int kind, int idx, struct kh_ipc *o)
{
	if (kind == KH_IPC_MSG)
		return msg_at(idx, o);
	if (kind == KH_IPC_SEM)
		return sem_at(idx, o);
	return shm_at(idx, o);
}

/* every object of a kind in our IPC namespace; *n objects in *out */
int kh_ipc_list(int kind, struct kh_ipc **out, size_t *n)
{
	struct kh_ipc *a = NULL, *na;
	int idx, max, ret = 0;

	*n = 0;
	max = ipc_max(kind);
	if (max < 0)
		return -errno;
	for (idx = 0; idx <= max; idx++) {
		na = realloc(a, (*n + 1) * sizeof(*a));
		if (!na) {
			ret = -ENOMEM;
			break;
		}
		a = na;
		memset(&a[*n], 0, sizeof(*a));
		ret = ipc_at(kind, idx, &a[*n]);
		/* a free slot, or removed meanwhile */
		if (ret == -EINVAL || ret == -EIDRM) {
			ret = 0;
			continue;
		}
		if (ret)
			break;
		(*n)++;
	}
	if (ret) {
		free(a);
		return ret;
	}
	*out = a;
	return 0;
}

/* semaphore values and last-operation pids, count of each */
int kh_sem_values(int id, int count, unsigned short *val, pid_t *pids)
{
	union kh_semun u = { .array = val };
	int i, p;

	if (semctl(id, 0, GETALL, u) < 0)
		return -errno;
	for (i = 0; i < count; i++) {
		p = semctl(id, i, GETPID);
		if (p < 0)
			return -errno;
		pids[i] = p;
	}
	return 0;
}

/*
 * Message i of the queue (0 is the oldest), copied: the queue, its times
 * and pids stay as they are, so a thaw finds it unchanged.  buf holds
 * size bytes after the type.
 */
ssize_t kh_msg_peek(int id, int i, void *buf, size_t size)
{
	ssize_t n = msgrcv(id, buf, size, i, IPC_NOWAIT | MSG_COPY);

	return n < 0 ? -errno : n;
}

int kh_ipc_next_id(int kind, int id)
{
	char path[64], val[16];
	int fd, len, ret = 0;

	snprintf(path, sizeof(path), "/proc/sys/kernel/%s_next_id",
		 kind == KH_IPC_MSG ? "msg" : kind == KH_IPC_SEM ? "sem" : "shm");
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(val, sizeof(val), "%d", id);
	if (write(fd, val, len) != len)
		ret = -errno;
	close(fd);
	return ret;
}

/* /proc/sys/kernel/NAME, field field: of the caller's IPC namespace */
int kh_ipc_sysctl_get(const char *name, int field, uint64_t *v)
{
	char path[64], *buf, *p;
	int ret, i;

	snprintf(path, sizeof(path), "/proc/sys/%s%s",
		 strchr(name, '/') ? "" : "kernel/", name);
	ret = kh_read_file(path, &buf, NULL);
	if (ret)
		return ret;
	p = buf;
	for (i = 0; i < field && *p; i++)
		p += strcspn(p, " \t") + strspn(p + strcspn(p, " \t"), " \t");
	ret = sscanf(p, "%lu", v) == 1 ? 0 : -EINVAL;
	free(buf);
	return ret;
}

int kh_ipc_sysctl_set(const char *name, const char *val)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/sys/%s%s",
		 strchr(name, '/') ? "" : "kernel/", name);
	return kh_write_file(path, val);
}

/*
 * The first of the processes that has a SEM_UNDO list, 0 if none does.
 * No interface shows the list, but kcmp(KCMP_SYSVSEM) compares it with
 * another task's: a child we fork has none (fork without CLONE_SYSVSEM).
 * A list exists after a semop with SEM_UNDO, and in every process that
 * created threads (pthread_create shares it with CLONE_SYSVSEM), empty.
 */
pid_t kh_sem_undo_holder(const pid_t *pids, int n)
{
	pid_t ref = fork(), found = 0;
	int i;

	if (ref < 0)
		return -errno;
	if (!ref)
		_exit(0);
	for (i = 0; !found && i < n; i++)
		if (kh_kcmp_same(pids[i], ref, KCMP_SYSVSEM) == 0)
			found = pids[i];
	waitpid(ref, NULL, 0);
	return found;
}
