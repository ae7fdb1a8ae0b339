/* SPDX-License-Identifier: MIT */
/*
 * SysV IPC objects of the host's IPC namespace that only the tree uses:
 * container-level files ipc/msg/ID (+ ID.messages) and ipc/sem/ID.
 */
#ifndef CRFS_IPC_H
#define CRFS_IPC_H

#include "crfs/format.h"

#define CRFS_D_IPC		"ipc"
#define CRFS_D_IPC_MSG		"ipc/msg"	/* ipc/msg/ID, ID.messages */
#define CRFS_D_IPC_SEM		"ipc/sem"	/* ipc/sem/ID */
#define CRFS_IPC_MESSAGES	".messages"
#define CRFS_F_IPC_NS		"ipc/ns"	/* the tree's own IPC namespace */

#define CRFS_D_IPC_SHM		"ipc/shm"	/* ipc/shm/ID, ID.data */
#define CRFS_IPC_DATA		".data"

enum crfs_ipc_kind { CRFS_IPC_MSG, CRFS_IPC_SEM, CRFS_IPC_SHM };

/* what both kinds share: the ipc_perm fields and the change time */
struct crfs_ipc_obj {
	int id;
	uint64_t key;
	unsigned int mode;		/* the 9 permission bits */
	unsigned int uid, gid, cuid, cgid;
	uint64_t ctime;
	unsigned int qbytes;		/* msg: msg_qbytes */
	unsigned int count;		/* msg: messages; sem: semaphores */
	unsigned short *semval;		/* sem: count values */
	int *sempid;			/* sem: count pids of the last
					 * operation on each (0: unknown);
					 * may be NULL */
	uint64_t size;			/* shm: segment size */
	int removed;			/* shm: IPC_RMID while attached */
};

struct crfs_ipc_msg {
	long type;
	char *data;
	size_t len;
};

/* ipc/ns: the namespace's limits, keys named as their sysctls */
enum {
	CRFS_IPC_SHMMAX, CRFS_IPC_SHMALL, CRFS_IPC_SHMMNI, CRFS_IPC_RMID_FORCED,
	CRFS_IPC_MSGMAX, CRFS_IPC_MSGMNB, CRFS_IPC_MSGMNI,
	CRFS_IPC_SEMMSL, CRFS_IPC_SEMMNS, CRFS_IPC_SEMOPM, CRFS_IPC_SEMMNI,
	/* POSIX message queues' limits (fs.mqueue.*), also the namespace's */
	CRFS_IPC_MQ_QUEUES_MAX, CRFS_IPC_MQ_MSG_MAX, CRFS_IPC_MQ_MSGSIZE_MAX,
	CRFS_IPC_MQ_MSG_DEFAULT, CRFS_IPC_MQ_MSGSIZE_DEFAULT,
	CRFS_IPC_NLIMITS
};
struct crfs_ipc_ns {
	uint64_t limit[CRFS_IPC_NLIMITS];
};
/*
 * the sysctl under /proc/sys/kernel/ (or, with a '/', under /proc/sys/)
 * and the index in its file; an optional one may be absent from ipc/ns
 * (images made before it was saved): 0, left as a new namespace has it
 */
struct crfs_ipc_limit {
	const char *key, *sysctl;
	int field;
	bool optional;
};
extern const struct crfs_ipc_limit crfs_ipc_limits[CRFS_IPC_NLIMITS];
int render_ipc_ns(struct strbuf *sb, const struct crfs_ipc_ns *ns);
int parse_ipc_ns(struct crfs_text *t, struct crfs_ipc_ns *ns);

int render_ipc_obj(struct strbuf *sb, enum crfs_ipc_kind k,
		   const struct crfs_ipc_obj *o);
int parse_ipc_obj(struct crfs_text *t, enum crfs_ipc_kind k,
		  struct crfs_ipc_obj *o);
void free_ipc_obj(struct crfs_ipc_obj *o);
/* ID.messages: one "TYPE HEX" line per message, oldest first */
int render_ipc_msgs(struct strbuf *sb, const struct crfs_ipc_msg *m,
		    size_t n);
int parse_ipc_msgs(struct crfs_text *t, struct crfs_ipc_msg **m, size_t *n);
void free_ipc_msgs(struct crfs_ipc_msg *m, size_t n);

#endif
