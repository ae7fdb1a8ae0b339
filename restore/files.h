/* SPDX-License-Identifier: MIT */
/*
 * Between the parts of crfs-restore that make the image's open files:
 * files.c (the table), sockets.c, netlink.c, pty.c, install.c (each
 * child's side).
 */
#ifndef CRFS_RESTORE_FILES_H
#define CRFS_RESTORE_FILES_H

#include <errno.h>
#include <stdio.h>

#include "kh.h"
#include "restore.h"

struct open_ctx {
	struct image *img;
	char *err;
	size_t errlen;
	int *holder;		/* per file: the pipe/FIFO holder it opened */
	int *ends;		/* per file, 2: its pipe2() ends not given out */
};

#define FAIL(c, ...) (snprintf((c)->err, (c)->errlen, __VA_ARGS__), -EINVAL)

/* SO_REUSEADDR as saved: bit 0 of inopts (kh_inet_opts[0]) */
static inline int inet_reuseaddr(const struct crfs_file *f)
{
	return f->inopts & 1;
}

/* SO_REUSEPORT as saved: bit 1 (kh_inet_opts[1]) */
static inline bool inet_reuseport(const struct crfs_file *f)
{
	return f->inopts & 2;
}

/* where crfs-restore keeps file id */
static inline int slot(const struct image *img, uint32_t id)
{
	return img->fd_base + id - 1;
}

/* the highest fd of p (fds are sorted), or -1 */
static inline int proc_max_fd(const struct proc_image *p)
{
	return p->nfds ? p->fds[p->nfds - 1].fd : -1;
}

/* moves fd to file f's slot */
int place(struct open_ctx *c, const struct crfs_file *f, int fd);
/* fdata/ID plus suffix; "" is checked against f->data */
int read_fdata(struct open_ctx *c, const struct crfs_file *f,
	       const char *suffix, char **buf, size_t *len);
int write_all(int fd, const char *buf, size_t len);
int write_sparse(int fd, const char *buf, size_t len);

/*
 * peercred.c: a unix socket call made as the task SO_PEERCRED of file as
 * names (NULL, or no peer pid: as ourselves); -1 with errno.  PEER_PAIR
 * fills sv.
 */
enum { PEER_PAIR, PEER_LISTEN, PEER_CONNECT };
struct peer_op {
	int op, type, sk, backlog;
	int sv[2];
	const struct sockaddr *addr;
	unsigned int len;
};
int peer_op(struct open_ctx *c, const struct crfs_file *as, struct peer_op *op);

/* bpf.c: a BPF map with its entries */
int open_bpfmap(struct open_ctx *c, const struct crfs_file *f);

/* inet.c: connect() an inet or raw socket to f->dst */
int inet_connect_dst(int sk, const struct crfs_file *f);
/* f's options, then bound to f->addr (SO_REUSEADDR meanwhile) unless it
 * never was: -1 with errno for *step, or *step NULL where c->err says */
int inet_prepare(struct open_ctx *c, int sk, const struct crfs_file *f,
		 const char **step);
/* SO_SNDBUF/SO_RCVBUF as the image shows them (those not 0) */
int set_buffers(int sk, const struct crfs_file *f);
/* each of n options on or off as bit i of on says; only turning one on
 * may fail (the others do not all exist for every socket) */
int set_sockopts(int sk, const struct kh_sockopt *o, int n, uint32_t on);
/* unix_bind.c: bind(sk, a) as f was bound: a relative name from its
 * directory; the file made in the directory dir_fd holds (safe_dir) */
struct sockaddr_un;
int unix_bind(int sk, const struct crfs_file *f, const struct sockaddr_un *a,
	      socklen_t len, int dir_fd);
/* f's valued options and filter (sockopts), failing by option name */
int set_valued_sockopts(struct open_ctx *c, int sk, const struct crfs_file *f);

/*
 * A message of a socket's queue (or a run of stream bytes, or a packet of
 * a pipe), and the files in flight with it.
 */
struct msg {
	uint64_t len;
	uint64_t from;		/* a datagram's sender of ours, by inode */
	int nfds;
	int fds[253];		/* table slots */
};
/* fdata/ID.msgs, checked against f's msgs and data; NULL if f has none */
int read_msgs(struct open_ctx *c, const struct crfs_file *f, struct msg **out);

/* sockets.c: every unix socket of the image, into the table */
int sockets_open(struct open_ctx *o);

/* netlink.c, inet.c */
int open_netlink(struct open_ctx *c, const struct crfs_file *f);
int open_inet(struct open_ctx *c, const struct crfs_file *f);
/* every file made: SO_REUSEPORT off again where only binding needed it */
void inet_settle_reuseport(struct open_ctx *c);
/* tcp.c: an established connection; its packets pass again (unlock)
 * once the whole tree is restored */
bool is_tcp_conn(const struct crfs_file *f);
int open_tcp(struct open_ctx *c, const struct crfs_file *f);
int tcp_lock(const struct image *img, char *err, size_t errlen);
void tcp_unlock(const struct image *img);
/* tcp_pending.c: clients of connections not yet accepted connect again,
 * once every listener is open, in each accept queue's order */
bool is_tcp_pending(const struct crfs_file *f);
int tcp_pending_open(struct open_ctx *c);

/* raw.c, packet.c: raw inet and packet sockets */
int open_raw(struct open_ctx *c, const struct crfs_file *f);
/* tun.c: /dev/net/tun */
int open_tun(struct open_ctx *c, const struct crfs_file *f);
int open_packet(struct open_ctx *c, const struct crfs_file *f);
/* packet_ring.c: f's rings on sk; a descriptor of the socket of p's
 * whose rings v maps whole (-ENOENT: p holds no such packet socket,
 * -EINVAL: not whole) */
int packet_rings_set(struct open_ctx *c, int sk, const struct crfs_file *f);
int packet_ring_fd(const struct image *img, const struct proc_image *p,
		   const struct crfs_vma *v);

/* udpq.c: a UDP socket's queued datagrams, sent again to sk */
int udpq_refill(struct open_ctx *c, int sk, const struct crfs_file *f);

/* proc_files.c: files under /proc/PID */
int open_proc_dead(struct open_ctx *c, const struct crfs_file *f);
/* opened by each holder (install.c), not in the table */
bool opened_by_holder(const struct crfs_file *f);
void open_proc_files(struct image *img, struct proc_image *p, int err_fd);

/* nsfd.c: the daemon's namespace files, held since nsfd_prepare */
int open_nsfd(struct open_ctx *c, const struct crfs_file *f);

/* fanotify.c */
int open_fanotify(struct open_ctx *c, const struct crfs_file *f);

/* mqueue.c */
int open_mqueue(struct open_ctx *c, const struct crfs_file *f);

/* pty.c */
int open_ptmx(struct open_ctx *c, const struct crfs_file *f);
int open_pts(struct open_ctx *c, const struct crfs_file *f);
bool pty_is_ctty(const struct image *img, const struct crfs_file *f, pid_t sid);
void claim_ctty(struct image *img, struct proc_image *p, int err_fd);
void take_ctty(struct image *img, struct proc_image *p,
	       const struct crfs_file *f, int err_fd);

#endif
