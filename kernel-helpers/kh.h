/* SPDX-License-Identifier: MIT */
/*
 * kernel-helpers: the only code that talks to the kernel's C/R interfaces
 * (ptrace, remote syscalls, /proc parsers, pagemap, process memory, clone3).
 * Functions return 0 or a negative errno.
 */
#ifndef CRFS_KH_H
#define CRFS_KH_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/user.h>

#include "crfs/image.h"

/* ptrace.c */
int kh_seize(pid_t tid);
/* kh_seize in two steps: a task inside a request to us stops only once it
 * is answered (on its way back to user mode) */
int kh_seize_nowait(pid_t tid);
int kh_wait_interrupt(pid_t tid);
int kh_detach(pid_t tid, int sig);
int kh_wait_stop(pid_t tid, int *status);
int kh_get_regs(pid_t tid, struct user_regs_struct *regs);
int kh_set_regs(pid_t tid, const struct user_regs_struct *regs);
int kh_get_xstate(pid_t tid, uint8_t *buf, uint32_t *size);
int kh_set_xstate(pid_t tid, const uint8_t *buf, uint32_t size);
int kh_get_sigmask(pid_t tid, uint64_t *mask);
int kh_set_sigmask(pid_t tid, uint64_t mask);
/* queued signals, oldest first, without dequeuing them */
int kh_peek_signals(pid_t tid, bool shared, struct crfs_pending **p,
		    size_t *n);
int kh_get_robust_list(pid_t tid, uint64_t *head, uint64_t *len);
int kh_get_rseq(pid_t tid, uint64_t *ptr, uint32_t *size, uint32_t *sig);
/* a thread stopped inside an rseq critical section moved to its abort
 * handler, as the kernel would on its return to user space: 1 if done.
 * Before anything makes the thread return to user space (a remote syscall).
 * memfd: its /proc/PID/mem open for reading, or -1 */
int kh_rseq_settle(pid_t tid, int memfd);

/* seccomp.c: mode (SECCOMP_MODE_*) and filter count of a thread; its
 * filters, oldest first, while we trace it */
int kh_seccomp_mode(pid_t pid, pid_t tid, int *mode, int *nfilters);
int kh_seccomp_filters(pid_t tid, struct crfs_seccomp_filter **out, int *n);

/*
 * How a task stopped inside a syscall must resume.  IN_PLACE: the same task
 * goes on, so the kernel's restart block still exists (thaw).  FRESH: a new
 * task takes over (restore), so syscalls that needed the restart block are
 * re-issued from their arguments, or return EINTR where that is impossible.
 */
enum kh_restart_mode { KH_RESTART_IN_PLACE, KH_RESTART_FRESH };
void kh_syscall_restart(struct user_regs_struct *regs,
			enum kh_restart_mode mode);

/* remote_syscall.c: run syscalls inside a ptrace-stopped task */
struct kh_remote {
	pid_t tid;
	struct user_regs_struct saved;
	uint64_t syscall_ip;
	int memfd;
	int pending_sig;	/* a signal that arrived while we ran */
	uint64_t saved_mask;	/* the task's blocked mask, put back at close */
	bool step;		/* one stop a syscall (remote_syscall.c) */
};
int kh_remote_open(struct kh_remote *r, pid_t tid, uint64_t syscall_ip);
/* the same, its syscalls single-stepped where that is safe: one ptrace
 * stop each instead of two (SIGTRAP stays unblocked meanwhile) */
int kh_remote_open_stepping(struct kh_remote *r, pid_t tid);
long kh_remote_syscall(struct kh_remote *r, long nr, uint64_t a1,
		       uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5,
		       uint64_t a6);
/* Puts the task's registers back, ready to resume as if nothing ran. */
int kh_remote_close(struct kh_remote *r);
/* remote_sigaction.c: rt_sigaction(sig, ka) in r's task; ka (the kernel's
 * struct sigaction, len bytes) goes to scratch, memory it does not use */
long kh_remote_sigaction(struct kh_remote *r, int sig, const void *ka,
			 size_t len, uint64_t scratch);
/* writes len bytes at addr in r's task (through /proc/PID/mem) */
int kh_remote_poke(struct kh_remote *r, uint64_t addr, const void *buf,
		   size_t len);

/* aio.c */
bool kh_is_aio_ring(const char *path);
int kh_aio_vma(pid_t pid, struct crfs_vma *v, const char **why);
/* proc_maps.c, hugetlb.c: 0, or 1 with *why when it cannot be saved */
int kh_sysv_vma(pid_t pid, struct crfs_vma *v, const char **why);
int kh_hugetlb_vma(pid_t pid, struct crfs_vma *v, const char **why);
/* packet_ring.c: "socket:[INO]", a packet socket's ring (the socket's
 * rings are read with it, kh_packet_read) */
bool kh_is_socket_map(const char *path);
int kh_packet_ring_vma(struct crfs_vma *v, const char **why);

/* snapfork.c: post-dump twins.  The stopped process pid forks a child
 * that never runs (twin: our pid for it, vtwin: the parent's); drop kills
 * it and has its parent collect it */
int kh_snap_fork(pid_t pid, pid_t *twin, pid_t *vtwin);
int kh_snap_drop(pid_t twin, pid_t parent, pid_t vtwin);
long kh_private_kb(pid_t pid);

/* mem.c */
ssize_t kh_mem_read(pid_t pid, int memfd, uint64_t addr, void *buf,
		    size_t len);
int kh_mem_open(pid_t pid, int flags);
/* addr is in one of pid's mappings now */
bool kh_addr_mapped(pid_t pid, uint64_t addr);

/* proc.c */
struct kh_stat {
	char state;
	pid_t ppid, pgid, sid;
	int nthreads;
	char comm[CRFS_COMM_LEN + 1];
	uint64_t start_code, end_code, start_stack;
	uint64_t start_data, end_data, start_brk;
	uint64_t arg_start, arg_end, env_start, env_end;
	int exit_code;		/* wait status of a zombie */
	unsigned int tty_nr;	/* controlling terminal, 0 for none */
	int exit_signal;	/* sent to the parent at exit (clone's) */
};
int kh_proc_stat(pid_t pid, struct kh_stat *st);
/* no such task, or only its zombie is left */
bool kh_task_gone(pid_t tid);
/* waiting in vfork() for its child to exec or exit */
bool kh_in_vfork(pid_t tid);
/* sigmasks.c: SigPnd, ShdPnd, SigBlk, SigIgn, SigCgt of /proc/TID/status */
enum { KH_SIG_PENDING, KH_SIG_SHARED, KH_SIG_BLOCKED, KH_SIG_IGNORED,
       KH_SIG_CAUGHT, KH_NSIGSETS };
int kh_proc_sigsets(pid_t tid, uint64_t sets[KH_NSIGSETS]);
int kh_proc_status(pid_t pid, struct crfs_creds *c, unsigned int *umask,
		   int *no_new_privs, int *seccomp);
int kh_proc_limits(pid_t pid, struct crfs_rlimit *rl);
int kh_proc_auxv(pid_t pid, uint64_t *auxv, int *len);
int kh_proc_link(pid_t pid, const char *name, char **out);
/*
 * A descriptor of pid whose /proc/PID/fd link reads link but which is a
 * directory other than /proc/PID/NAME (e.g. "cwd"): its number, -1 if
 * none, -errno.
 */
int kh_fd_twin_of(pid_t pid, const char *name, const char *link);
/* 1 if /proc/PID/NAME (e.g. "cwd") is on a proc filesystem, 0 if not */
int kh_link_on_proc(pid_t pid, const char *name);
/* tid as its own pid namespace sees it; *levels (may be NULL): how deep */
int kh_ns_pid(pid_t tid, pid_t *inner, int *levels);
/* NSpid of tid: *n pids, ours first, then one per level below */
#define KH_NSPID_MAX	33
int kh_ns_pids(pid_t tid, pid_t *pids, int max, int *n);
int kh_proc_personality(pid_t pid, unsigned long *pers);
int kh_thread_personality(pid_t pid, pid_t tid, unsigned long *pers);
int kh_proc_oom_score_adj(pid_t pid, int *adj);
int kh_proc_exe_mode(pid_t pid, unsigned int *mode);
int kh_proc_loginuid(pid_t pid, unsigned int *uid);
int kh_proc_coredump_filter(pid_t pid, unsigned long *filter);
int kh_proc_tids(pid_t pid, pid_t **tids, int *n);
/* its main thread has exited, other threads of it have not */
bool kh_zombie_leader(pid_t pid);
/* zleader.c: a zombie leader's process is read through a live thread of
 * it, named by the freeze: kh_via(pid) is that thread, or pid itself */
pid_t kh_via(pid_t pid);
pid_t kh_leader_live_tid(pid_t pid);
int kh_via_set(pid_t pid, pid_t tid);
void kh_via_forget(pid_t tid);
/* pidfd_open of kh_via(pid); -1 and errno on failure */
int kh_pidfd_open(pid_t pid);
/* pidfd.c: a pidfd of a process that has exited (and was reaped): the
 * status it ended with, from the kernel (-ENODATA: not told, before
 * Linux 6.15) */
int kh_pidfd_exit_status(pid_t pid, int fd, int *status);
/* n pidfds (flags[i]: PIDFD_NONBLOCK, PIDFD_THREAD) of one process that
 * then ends with status (as wait gives it) and is reaped; -EINVAL for a
 * core dump, -EPROTO if it did not end so */
int kh_dead_pidfds(int status, const unsigned int *flags, int *fds, size_t n);
/* ends the caller as status (as wait gives it) says, without a core */
void kh_end_as(int status) __attribute__((noreturn));
int kh_proc_children(pid_t pid, pid_t **kids, int *n);
/* status.c: the number after "KEY:" in /proc/TID/status; the process
 * (thread group) task tid belongs to */
int kh_status_u64(pid_t tid, const char *key, uint64_t *v);
int kh_tgid(pid_t tid, pid_t *tgid);
int kh_read_file(const char *path, char **buf, size_t *len);
int kh_write_file(const char *path, const char *text);
int kh_read_fd(int fd, char **buf, size_t *len);

/* proc_maps.c: VMAs from /proc/PID/smaps; unsupported ones are reported */
typedef void (*kh_report_fn)(void *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int kh_proc_maps(pid_t pid, struct crfs_vma **vmas, size_t *n,
		 kh_report_fn report, void *ctx);
/* from /proc/PID/maps, without a walk over all memory, and so without
 * the flags only smaps says (VmFlags: hugetlb, locked, ...) */
int kh_proc_maps_lite(pid_t pid, struct crfs_vma **vmas, size_t *n,
		      kh_report_fn report, void *ctx);
/* the [vdso]/[vvar*] mappings of pid (0: self) in address order */
int kh_vdso_layout(pid_t pid, struct crfs_vma *out, int max, int *n);
uint64_t kh_find_vdso_syscall(pid_t pid, int memfd);
/* a syscall instruction anywhere in pid's text, or 0 */
uint64_t kh_find_text_syscall(pid_t pid, int memfd);

/* mlock.c: probes for mlockall(MCL_FUTURE [| MCL_ONFAULT]) */
int kh_vm_locked_kb(pid_t pid, uint64_t *kb);
int kh_page_present(pid_t pid, uint64_t addr, bool *present);

/*
 * pagemap.c: which pages hold state of their own.  With donors (the
 * parent, then siblings: their pids and the runs already found for them),
 * a page still shared copy-on-write with one of them (the same page frame:
 * root only) points where the first such donor's does instead of being
 * stored again.  *guard_at (if not NULL) gets the first page of a guard
 * region (MADV_GUARD_INSTALL), which has no bytes and is not a run, or 0.
 */
struct kh_parent {
	pid_t pid;
	const struct crfs_page_run *runs;
	size_t nruns;
};
#define KH_MAX_DONORS 16
/*
 * Every guard page of pid's mappings (MADV_GUARD_INSTALL) as ranges in
 * address order, each inside one mapping (*out malloc'd, *nout of them).
 */
int kh_guard_ranges(pid_t pid, const struct crfs_vma *vmas, size_t n,
		    struct crfs_guard **out, size_t *nout);
int kh_page_runs(pid_t pid, const struct crfs_vma *vmas, size_t n,
		 const struct kh_parent *donors, size_t ndonors,
		 struct crfs_page_run **runs, size_t *nruns, uint64_t *guard_at);
/* pagemap.c: /proc/PID/pagemap opened read-only, or -errno */
int kh_pagemap_open(pid_t pid);

/*
 * numa.c: each mapping's own NUMA policy (mbind) into its mpol_*, asked
 * of the task with get_mempolicy(MPOL_F_ADDR): of every mapping if
 * each_vma (one remote syscall each), else of those /proc/PID/numa_maps
 * shows a policy for (a walk over every resident page).  *pending_sig:
 * a signal that arrived while we ran in the task (kh_remote), 0 if none.
 */
int kh_vma_policies(pid_t pid, struct crfs_vma *v, size_t n, bool each_vma,
		    int *pending_sig);
/* the NUMA nodes (0-63) this host lets us use */
int kh_numa_allowed(uint64_t *mask);

/* lsm.c: the task's LSM label (/proc/PID/attr/current), "" with none */
int kh_lsm_label(pid_t pid, char *buf, size_t len);

/* fds.c: a descriptor as /proc shows it */
struct kh_fd {
	pid_t pid;
	int fd;
	char *link;		/* readlink of /proc/PID/fd/FD */
	struct stat st;		/* stat of it, if st_ok */
	bool st_ok;
	char *info;		/* /proc/PID/fdinfo/FD */
};
int kh_proc_fds(pid_t pid, struct kh_fd **fds, size_t *n);
/* the device of the daemon's own mount: its files are stat'ed from what
 * the kernel caches, never by asking the daemon */
void kh_fds_own_dev(dev_t dev);
bool kh_fd_is_own(const struct kh_fd *f);
/* mqueue.c: a POSIX message queue (mq_open) */
bool kh_fd_is_mqueue(const struct kh_fd *f);
/* its attributes and queued messages, in the order they come out;
 * -EPERM: mq_notify registered, -EBUSY: full */
struct kh_mq {
	long maxmsg, msgsize;
	size_t n, total;	/* messages, bytes */
	unsigned int *prio;
	size_t *len;
	char *data;		/* the payloads one after the other */
};
int kh_mq_state(pid_t pid, int fd, struct kh_mq *q);
int kh_mq_refill(int fd, const struct kh_mq *q);
void kh_mq_free(struct kh_mq *q);
bool kh_mq_held(const char *name, dev_t dev, ino_t ino);
void kh_free_fds(struct kh_fd *f, size_t n);
int kh_kcmp_file(const struct kh_fd *a, const struct kh_fd *b);
int kh_kcmp_same(pid_t a, pid_t b, int type);
int kh_kcmp_order(pid_t a, pid_t b, int type);
int kh_cmp_u64(const void *a, const void *b);
bool kh_epoll_target_is(pid_t pid, int epfd, int tfd, unsigned toff,
			pid_t fpid, int fd);
int kh_fdinfo_u64(const char *info, const char *key, int base, uint64_t *v);
int kh_steal_fd(pid_t pid, int fd);
/* read_quiet.c: a regular file's bytes through a descriptor, without the
 * open, access and close events a read would give its watchers */
int kh_read_fd_quiet(int fd, char **buf, size_t *len);
int kh_self_fd(int fd, struct kh_fd *out);

/* pipe.c */
/* a packet-mode pipe's packets: their lengths, in order (n 0: a stream) */
struct kh_packets {
	uint32_t *len;
	size_t n;
};
int kh_pipe_peek(pid_t pid, int fd, char **buf, size_t *len,
		 uint32_t *pipe_size, struct kh_packets *pk);
/* out[i]: a process not in pids holds pipe inos[i] (inos sorted) */
int kh_pipes_held_outside(const uint64_t *inos, size_t n, const pid_t *pids,
			  size_t npids, bool *out);

/* unix.c: unix sockets of our network namespace, by inode */
struct kh_unix {
	uint64_t ino, peer;
	int type;		/* SOCK_STREAM, ... */
	int state;		/* TCP_LISTEN, TCP_ESTABLISHED, ... */
	char name[110];		/* sun_path; name[0] == 0: abstract */
	int namelen;		/* bytes of sun_path, 0: unbound */
	uint64_t *icons;	/* listening: not yet accepted connections */
	size_t nicons;
	uint32_t rqlen, wqlen;
	uint32_t shutdown;
	uint32_t vfs_ino, vfs_dev;	/* a path's socket file, as bound */
};
/* every unix socket of our network namespace, sorted by inode */
int kh_unix_list(struct kh_unix **out, size_t *n);
void kh_unix_free(struct kh_unix *u, size_t n);
const struct kh_unix *kh_unix_find(const struct kh_unix *u, size_t n,
				   uint64_t ino);
/*
 * A socket's receive queue, peeked: one chunk per message (a run of stream
 * bytes ends where files in flight are attached), with our copies of
 * those files.  shut: the socket's receiving side is shut down.
 */
bool kh_unix_oob_pending(int sk);
struct kh_unix_chunk {
	uint32_t len;
	int *fds;		/* our descriptors for the files in flight */
	int nfds;
	char from[110];		/* a datagram's sender, as kh_unix's name */
	int fromlen;		/* 0: unbound or not a datagram */
};
struct kh_unix_queue {
	char *data;
	size_t len;
	struct kh_unix_chunk *chunks;
	size_t nchunks;
	size_t nfds;		/* in all chunks */
};
int kh_unix_peek(int sk, bool stream, bool shut, struct kh_unix_queue *q);
/* is st the socket file u was bound to? */
bool kh_unix_bound_file(const struct kh_unix *u, const struct stat *st);
/* unix_bind_at.c: bind sk to a (an absolute name whose directory is dir),
 * the file made in the directory dir_fd holds, whatever dir leads to now;
 * from cwd (in dir's terms) for a relative name.  -EOPNOTSUPP: no mount
 * namespace could be made for it */
struct sockaddr_un;
int kh_unix_bind_at(int sk, int dir_fd, const char *dir, const char *cwd,
		    const struct sockaddr_un *a, socklen_t len);
/* the same socket name? (a path may be given with or without its NUL) */
bool kh_unix_same_name(const char *a, int alen, const char *b, int blen);
void kh_unix_free_queue(struct kh_unix_queue *q);


/* an on/off socket option; a set of them is a bitmask, bit i for o[i] */
struct kh_sockopt {
	int level, name;
};
uint32_t kh_sockopts_on(int sk, const struct kh_sockopt *o, int n);
/*
 * Valued options (linger, priority, TCP keepalive times, IP_TOS, a
 * classic filter, ...) that differ from a fresh socket's, as text
 * "name:value,..." (*text NULL: none); *why: one that cannot be saved.
 */
int kh_sockopts_read(int sk, char **text, const char **why);
/* sets them again; *bad names the option that failed */
int kh_sockopts_apply(int sk, const char *text, const char **bad);
/* mcast.c: the groups sk (of family AF_INET or AF_INET6) joined, as
 * sockopts items added to *text */
int kh_mcast_read(int sk, int family, pid_t pid, char **text, const char **why);

/* inet.c: a TCP or UDP socket with no connection (our copy, sk) */
#define KH_INET_NOPTS 6
extern const struct kh_sockopt kh_inet_opts[KH_INET_NOPTS];
struct kh_inet {
	int type, protocol;
	struct sockaddr_storage addr, peer;	/* bound to; connected to */
	bool connected;
	bool queued;			/* UDP: datagrams queued (udpq.c) */
	int tcp_state;			/* connected TCP: TCP_ESTABLISHED... */
	int backlog;			/* listening: its backlog; else -1 */
	uint32_t accq;			/* listening: connections in its
					 * accept queue (tcp_pending.c) */
	uint32_t opts;			/* bit i: kh_inet_opts[i] on */
	int sndbuf, rcvbuf;
};
const char *kh_inet_read(int sk, struct kh_inet *in, int *err);
/* tcp_diag.c: fn(arg) in socket sk's network namespace (a thread of ours
 * joins it unless it is ours); fn's return */
int kh_in_sock_ns(int sk, int (*fn)(void *), void *arg);
/* 1 if addr is an address of sk's network namespace (a bind there takes
 * it without IP_FREEBIND), 0 if not, or -errno */
int kh_inet_addr_local(int sk, const struct sockaddr_storage *addr);
int kh_inet_addr_str(const struct sockaddr_storage *ss, char *buf, size_t len);
int kh_inet_addr_parse(const char *s, struct sockaddr_storage *ss,
		       socklen_t *len);

/*
 * tcp.c: an established connection through TCP_REPAIR.  state_check:
 * why a state is refused (NULL: saved).  save: repair on, everything
 * read (t->state set by the caller; -EAGAIN if it moved), left in repair
 * mode; on error repair is off again.  restore: on a new socket already
 * in repair mode; *step names what failed.
 */
struct crfs_tcp;
int kh_tcp_repair(int sk, bool on);
/* SO_REUSEADDR now (0, 1; -errno), read before repair mode is turned on;
 * repair mode off, then SO_REUSEADDR set to reuse again (unless < 0):
 * turning it off clears sk_reuse */
int kh_tcp_reuse(int sk);
int kh_tcp_repair_off(int sk, int reuse);
const char *kh_tcp_state_check(int state);
int kh_tcp_save(int sk, struct crfs_tcp *t, char **sndq, char **rcvq);

/* tcp_diag.c: sk_shutdown bits (RCV_SHUTDOWN 1, SEND_SHUTDOWN 2) */
int kh_tcp_shutdown_bits(const struct sockaddr_storage *local,
			 const struct sockaddr_storage *peer);
/* the same for protocol proto (IPPROTO_UDP, ...); udp_diag takes
 * local as the remote end, peer as the socket's own address; peer NULL:
 * none */
int kh_inet_shutdown_bits(int proto, const struct sockaddr_storage *local,
			  const struct sockaddr_storage *peer);
/* 1: the socket is in the calling thread's network namespace, 0: not */
int kh_sock_netns_is_ours(int sk);

/* link_flags.c: a device's IFF_UP by name, in our network namespace */
int kh_link_is_up(const char *name, bool *up);
int kh_link_set_up(const char *name, bool up);
/* kh_inet_shutdown_bits asked in socket sk's own network namespace */
int kh_inet_shutdown_bits_of(int sk, int proto,
			     const struct sockaddr_storage *local,
			     const struct sockaddr_storage *peer);
/* tcp_lock.c: drop the connections' packets both ways (nftables, in the
 * caller's network namespace), or let them pass again */
struct kh_tcp_conn {
	struct sockaddr_storage local, peer;
};
int kh_tcp_lock(const struct kh_tcp_conn *c, size_t n, bool lock);
/* tcp_pending.c: the connections in the accept queue of the listener
 * bound to listen, in the caller's network namespace (in no order) */
struct kh_tcp_child {
	struct sockaddr_storage local, peer;	/* IPv4-mapped as IPv4 */
	int state;		/* TCP_ESTABLISHED, TCP_CLOSE_WAIT */
	uint32_t rqueue;	/* bytes received, not yet read */
	uint32_t wqueue;
	uint32_t age_ms;	/* since the handshake (it sent nothing) */
};
int kh_tcp_children(const struct sockaddr_storage *listen,
		    struct kh_tcp_child **kids, size_t *n);
/* an IPv4 address (also IPv4-mapped IPv6) and its port; false: IPv6 */
struct in_addr;
bool kh_inet_v4_of(const struct sockaddr_storage *ss, struct in_addr *a,
		   unsigned *port);
/* tcp_inject.c: a FIN or ACK as if from c's peer to c's local socket,
 * marked KH_TCP_MARK so that the lock lets it pass (ports filled in) */
#define KH_TCP_MARK		0x63726673	/* "crfs" */
#define KH_TCP_MARK_TEXT	"0x63726673"
struct kh_tcp_segment {
	unsigned sport, dport;
	uint32_t seq, ack;
	uint16_t window;
	bool fin;
};
int kh_tcp_inject(const struct kh_tcp_conn *c, struct kh_tcp_segment *sg);
int kh_tcp_restore(int sk, const struct crfs_tcp *t, const char *sndq,
		   const char *rcvq, const struct kh_tcp_conn *c,
		   const char **step);

/* netlink.c: a netlink socket (our copy, sk) */
#define KH_NL_NOPTS 7
extern const struct kh_sockopt kh_netlink_opts[KH_NL_NOPTS];
struct kh_netlink {
	int type, protocol;
	uint32_t portid;		/* bound to; 0: never bound */
	uint32_t dst_portid, dst_group;	/* connect()ed to */
	uint64_t groups;		/* groups 1..64 joined, bit n-1 */
	uint32_t flags;			/* bit i: kh_netlink_opts[i] on */
	int sndbuf, rcvbuf;
};
/* NULL, or why it cannot be checkpointed; *err for a failure */
const char *kh_netlink_read(int sk, struct kh_netlink *nl, int *err);
struct kh_unix_opts {
	int sndbuf, rcvbuf, passcred, peek_off;
	uint64_t rcvtimeo, sndtimeo;	/* microseconds */
};
int kh_unix_options(int sk, struct kh_unix_opts *o);

/* pty.c */
struct kh_pty {
	bool master, locked;
	bool packet;		/* master in packet mode (TIOCPKT) */
	bool excl;		/* this end in exclusive mode (TIOCEXCL) */
	int index;
	char *input;		/* queued toward the slave's reader */
	size_t inlen;
	char *output;		/* queued toward the master's reader */
	size_t outlen;
	char *termios;		/* hex of struct termios; NULL if locked */
	char *winsize;		/* "rows,cols,xpixel,ypixel" */
	char *lock;		/* hex of the locking termios; NULL if none */
	bool pkt_status;	/* packet mode with a status byte unread:
				 * nothing else was read */
	pid_t session, fg;	/* 0 if nobody's controlling terminal */
};
/* the kernel's struct termios (TIOC[GS]LCKTRMIOS): glibc's is longer */
struct kh_ktermios {
	uint32_t c_iflag, c_oflag, c_cflag, c_lflag;
	uint8_t c_line;
	uint8_t c_cc[19];
};
bool kh_is_ptmx(dev_t rdev);
bool kh_is_pts(dev_t rdev);
int kh_pty_state(pid_t pid, int fd, dev_t rdev, struct kh_pty *t);
struct termios;
/* writes the queues back with the slave quiet (no processing, echo or
 * signals), then sets orig */
int kh_pty_refill(int master, int slave, const struct termios *orig,
		  const char *in, size_t inlen, const char *out, size_t outlen);

/* timers.c: ids, clocks and notification; not the times */
int kh_proc_timers(pid_t pid, struct crfs_timer **out, size_t *n);

/* inotify.c: the path of a watched inode, from its file handle */
int kh_handle_path(pid_t pid, const char *fdinfo_line, char **path);
/* the bytes of events queued on an inotify instance (FIONREAD) */
int kh_inotify_queued(pid_t pid, int fd, int *bytes);
int kh_inotify_drain(pid_t pid, int fd);

/* fanotify.c: a group's flags and marks, from its fdinfo (-ESTALE: a mark
 * on a deleted inode; -EOPNOTSUPP: a kind of mark we do not know) */
int kh_fanotify_flags(const char *info, uint32_t *flags, uint32_t *eflags);
int kh_fanotify_marks(pid_t pid, const char *info,
		      struct crfs_fanotify_mark **out, size_t *n);

/* bpf.c: a BPF map: its attributes and entries (key then value each) */
struct kh_bpf_map {
	uint32_t type, id, key_size, value_size, max_entries, flags, btf_id;
	char name[16];
	bool frozen;		/* from fdinfo, set by the caller */
	uint32_t n;		/* entries in data */
	char *data;
	size_t len;
};
int kh_bpf_map_read(int fd, struct kh_bpf_map *m);
/* the new map's descriptor, or -errno with *step naming what failed */
int kh_bpf_map_make(const struct kh_bpf_map *m, const char *data, size_t len,
		    const char **step);

/* clone.c */
pid_t kh_clone_with_pid(pid_t pid, uint64_t flags, int *pidfd);
/* set_tid: n pids, the innermost pid namespace's first (clone3's order) */
pid_t kh_clone_with_pids(const pid_t *set_tid, int n, uint64_t flags,
			 int *pidfd);

/* pidns.c: nested pid namespaces */
/* inode of /proc/PID/ns/NAME (-ENOENT: it names none, e.g. a pid namespace
 * unshared that has no process yet) */
int kh_ns_ino(pid_t pid, const char *name, unsigned int *ino);
/* inode of the parent of pid's pid namespace (-EPERM: it has none we see) */
int kh_pidns_parent_ino(pid_t pid, unsigned int *ino);
/* our children's pid namespace becomes pid's (pid as we see it), waiting
 * up to ms for pid to appear */
int kh_pidns_follow(pid_t pid, int ms);
/* an nsfs fd of pid's pid namespace (pid as we see it, waited for) */
int kh_pidns_open_of(pid_t pid, int ms);
/* pidfd_open(pid), waiting up to ms for pid to appear */
int kh_pidfd_wait(pid_t pid, int ms);
/* tid's pid at level (0: ours) of NSpid */
int kh_ns_pid_at(pid_t tid, int level, pid_t *out);

/* jobctl.c */
int kh_group_stop_sig(pid_t tid);
int kh_stop_collected(struct kh_remote *r, pid_t child, uint64_t scratch);

/* sched.c */
int kh_sched_get(pid_t tid, struct crfs_sched *s, bool *clamped);
int kh_sched_set(pid_t tid, const struct crfs_sched *s, const char **step);
struct kh_sched_old {
	int policy;
	struct sched_param param;
};
int kh_sched_hold(struct kh_sched_old *old);
void kh_sched_release(const struct kh_sched_old *old);

/* sysvipc.c: SysV objects of our IPC namespace */
#define KH_IPC_MSG	0
#define KH_IPC_SEM	1
#define KH_IPC_SHM	2
struct kh_ipc {
	int id;
	uint32_t key;
	unsigned int mode, uid, gid, cuid, cgid;
	uint64_t ctime, otime;	/* otime: last msgsnd / semop */
	unsigned int count;	/* messages / semaphores / attaches */
	unsigned int qbytes, cbytes;
	pid_t pids[2];		/* msg: last sender, last receiver;
				 * shm: creator, last attach */
	uint64_t size;		/* shm: segment size */
	unsigned int flags;	/* shm: SHM_DEST, SHM_LOCKED of its mode */
};
int kh_ipc_list(int kind, struct kh_ipc **out, size_t *n);
int kh_sem_values(int id, int count, unsigned short *val, pid_t *pids);
ssize_t kh_msg_peek(int id, int i, void *buf, size_t size);
int kh_ipc_next_id(int kind, int id);
pid_t kh_sem_undo_holder(const pid_t *pids, int n);
int kh_ipc_sysctl_get(const char *name, int field, uint64_t *v);
int kh_ipc_sysctl_set(const char *name, const char *val);

#endif
