/* SPDX-License-Identifier: MIT */
/* The container's open files while a snapshot is taken: files.c, files_unix.c */
#ifndef CRFS_FILES_H
#define CRFS_FILES_H

#include "snapshot.h"

struct files_ctx {
	struct snapshot *s;
	uint32_t *fid;		/* per s->fds index: file id */
	size_t *rep;		/* per file id - 1: its first s->fds index */
	struct crfs_file *files;
	size_t nfiles;
	bool *bad;		/* per file id - 1: reported, left out */
	struct crfs_lock *locks;
	size_t nlocks;
	struct kh_unix *socks;
	size_t nsocks;
	bool socks_listed;
	struct queue *queues;	/* socket queues with their chunks */
	size_t nqueues;
	uint64_t *inside;	/* sorted inodes of the sockets we hold */
	size_t ninside;
	size_t inside_of;	/* s->nfds when inside was made */
	unsigned int root_net;	/* the root's network namespace; 0: unread */
	char why[256];		/* a refusal with numbers in it */
};

/* a socket's queued messages, and the files in flight with them */
struct queue {
	uint32_t id;		/* the socket's file */
	struct kh_unix_queue q;	/* data already handed to fdata/ID */
	uint32_t **ids;		/* per chunk: file ids of its fds */
};

void files_report(struct files_ctx *c, const struct kh_fd *f, const char *why);
int files_add_fdata(struct files_ctx *c, uint32_t id, const char *suffix,
		    char *data, size_t len);
int files_classify(struct files_ctx *c, uint32_t id);
const char *files_classify_socket(struct files_ctx *c, const struct kh_fd *f,
				  struct crfs_file *cf, int *err);
/* unix_relpath.c: a relative name's socket file, path and bindname */
const char *unix_relative_name(struct files_ctx *c, const struct kh_unix *u,
			       pid_t holder, struct crfs_file *cf);
/* files_proc.c: /proc/PID/... */
pid_t files_proc_pid(const struct kh_fd *f);
/* files_proc.c: the tree has a pid namespace of its own (restore makes
 * it again, with other pids outside) */
bool files_own_pid_ns(struct snapshot *s);
const char *files_classify_proc(struct files_ctx *c, const struct kh_fd *f,
				struct crfs_file *cf, int *err);
void files_proc_inflight(struct files_ctx *c);
/* files_inotify.c: a watch on a deleted file held open (-ESTALE: not) */
int files_inotify_deleted(struct files_ctx *c, const char *fdinfo_line,
			  struct crfs_inotify_watch *w);
/* files_fanotify.c */
const char *files_classify_fanotify(const struct kh_fd *f,
				    struct crfs_file *cf);
int files_capture_fanotify(struct files_ctx *c, uint32_t id);
/* files_hugetlb.c: why a hugetlb memfd cannot be saved, or NULL */
const char *files_hugetlb_why(struct files_ctx *c, const struct kh_fd *f,
			      const struct stat *st);
/* files_raw.c, files_packet.c: raw inet and packet sockets (our copy sk) */
const char *files_classify_raw(const struct kh_fd *f, int sk,
			       struct crfs_file *cf, int *err);
const char *files_classify_packet(const struct kh_fd *f, int sk,
				  struct crfs_file *cf, int *err);
/* files_packet.c: each ring mapping's socket is held by its process */
void files_packet_maps(struct files_ctx *c);
/* files_tun.c: /dev/net/tun */
const char *files_classify_tun(struct files_ctx *c, const struct kh_fd *f,
			       struct crfs_file *cf, int *err);
/* files_udpq.c: a UDP socket's queued datagrams */
int files_capture_udpq(struct files_ctx *c, uint32_t id);
/* files_bpf.c */
const char *files_classify_bpfmap(struct files_ctx *c, const struct kh_fd *f,
				  struct crfs_file *cf, int *err);
/* files_mqueue.c */
const char *files_classify_mqueue(struct files_ctx *c, const struct kh_fd *f,
				  struct crfs_file *cf, int *err);
/* files_nsfd.c: /proc/PID/ns/KIND held open ("KIND:[INODE]") */
bool files_is_nsfd(const struct kh_fd *f, char *kind, unsigned int *ino);
const char *files_classify_nsfd(struct files_ctx *c, const struct kh_fd *f,
				struct crfs_file *cf);
/* files_ghost.c: deleted files' owner and times; ghosts, relinked */
int files_ghost_attrs(const struct stat *st, struct crfs_file *cf);
/* its atime and mtime only (times) */
int files_times(const struct stat *st, struct crfs_file *cf);
const char *files_classify_ghost(const struct stat *st, struct crfs_file *cf,
				 int *err);
/* files_tcp.c: an established connection, noted while classifying;
 * finish: all locked (one nf_tables transaction a namespace), saved, in repair mode */
int files_tcp_finish(struct files_ctx *c);
const char *files_capture_tcp(struct files_ctx *c, pid_t holder, int sk,
			      struct crfs_file *cf, const struct kh_inet *in,
			      int *err);
/* files_tcp_pending.c: listeners' accept queues matched with their
 * clients of the tree, which then are not saved as connections; take:
 * file id's connection is not saved after all, its fd (-ENOENT: none) */
int files_tcp_pending(struct files_ctx *c);
int files_tcp_take(struct files_ctx *c, uint32_t id);
/* ids for the files in flight, and each queue's list of them */
int files_resolve_inflight(struct files_ctx *c, uint32_t *classified);

#endif
