/* SPDX-License-Identifier: MIT */
/*
 * The crfs image format: names, keys and the in-memory form of every state
 * file.  The daemon renders these structures into text, crfs-restore parses
 * the text back; both go through lib/ so the two sides cannot drift apart.
 */
#ifndef CRFS_IMAGE_H
#define CRFS_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CRFS_FORMAT_NAME	"crfs"
#define CRFS_FORMAT_VERSION	6
/* an incremental image (a `parent` line, runs in ancestors): 6 plus that;
 * 6 and 7 are 4 and 5 with lib/hash.c's checksum of 64-byte stripes */
#define CRFS_FORMAT_VERSION_INCR	7
#define CRFS_ARCH		"x86_64"

/* Container-level files */
#define CRFS_F_IMAGE		"image"
#define CRFS_F_TREE		"tree"
#define CRFS_F_CTL		"ctl"
#define CRFS_F_FILES		"files"		/* open file descriptions */
#define CRFS_F_LOCKS		"locks"
#define CRFS_D_FDATA		"fdata"		/* fdata/ID: payload of file ID */
#define CRFS_D_MAPDATA		"mapdata"	/* mapdata/INO: an object mapped
						 * privately (VMA_DELETED) */

/* Per-process files, under PID/ */
#define CRFS_F_ATTR		"attr"
#define CRFS_F_CREDS		"creds"
#define CRFS_F_MM		"mm"
#define CRFS_F_MAPS		"maps"
#define CRFS_F_MEMPOLICY	"mempolicy"	/* mappings' own NUMA policies */
#define CRFS_F_GUARDS		"guards"	/* guard pages (MADV_GUARD_INSTALL) */
#define CRFS_F_PAGES_IDX	"pages.idx"
#define CRFS_F_PAGES		"pages"
#define CRFS_F_FDS		"fds"
#define CRFS_F_SIGACTS		"sigactions"
#define CRFS_F_RLIMITS		"rlimits"
#define CRFS_F_TIMERS		"timers"
#define CRFS_D_TASK		"task"

/* Per-thread files, under PID/task/TID/ */
#define CRFS_F_REGS		"regs"
#define CRFS_F_XSTATE		"xstate"
#define CRFS_F_SIGSTATE		"sigstate"
#define CRFS_F_SCHED		"sched"		/* scheduling attributes */
#define CRFS_F_SECCOMP		"seccomp"	/* only for a thread in seccomp */

/* Pending signals: PID/signals (shared queue), PID/task/TID/signals (own) */
#define CRFS_F_SIGNALS		"signals"

#define CRFS_PATH_MAX		4096
#define CRFS_COMM_LEN		16
#define CRFS_NSIG		64
/* above every user-space address of x86-64 (5-level paging ends at 2^56):
 * what an image says lies beyond it is refused, and sums stay far from
 * wrapping around */
#define CRFS_USER_END		(1ULL << 57)
#define CRFS_MAX_GROUPS		65536
#define CRFS_AUXV_MAX		128
#define CRFS_XSTATE_MAX		16384

enum crfs_vma_kind {
	VMA_ANON,
	VMA_HEAP,
	VMA_STACK,
	VMA_FILE,
	VMA_VDSO,
	VMA_VVAR,
	VMA_VVAR_VCLOCK,
	VMA_VSYSCALL,
	VMA_SHMEM,		/* MAP_SHARED|MAP_ANONYMOUS: one object, maybe
				 * mapped by several processes */
	VMA_DELETED,		/* MAP_PRIVATE of a memfd or a deleted file: the
				 * object's bytes in mapdata/INO */
	VMA_SYSV,		/* a SysV shared memory attach: shm_ino is the
				 * segment's id, its bytes in ipc/shm/ID.data */
	VMA_AIO,		/* the ring of an AIO context (io_setup): its
				 * address is the context's id; its pages are
				 * the ring's header and completed events */
	VMA_PACKET,		/* the ring of a packet socket (PACKET_RX_RING,
				 * TX_RING), shm_ino the socket's inode: mapped
				 * from the socket again, its pages the ring's */
	VMA_KIND_COUNT,
};

/* Bits of crfs_vma.flags: the VmFlags of smaps that restore honours */
#define VMA_F_SHARED		(1u << 0)
#define VMA_F_GROWSDOWN		(1u << 1)
#define VMA_F_DONTFORK		(1u << 2)
#define VMA_F_WIPEONFORK	(1u << 3)
#define VMA_F_DONTDUMP		(1u << 4)
#define VMA_F_HUGEPAGE		(1u << 5)
#define VMA_F_NOHUGEPAGE	(1u << 6)
#define VMA_F_LOCKED		(1u << 7)
#define VMA_F_SEQREAD		(1u << 8)	/* sr: MADV_SEQUENTIAL */
#define VMA_F_RANDREAD		(1u << 9)	/* rr: MADV_RANDOM */
#define VMA_F_MERGEABLE		(1u << 10)	/* mg: MADV_MERGEABLE (KSM) */
#define VMA_F_LOCKONFAULT	(1u << 11)	/* lf: MLOCK_ONFAULT */
#define VMA_F_NORESERVE		(1u << 12)	/* nr: MAP_NORESERVE */
#define VMA_F_SEALED		(1u << 13)	/* sl: mseal() */
#define VMA_F_NAMED		(1u << 14)	/* shmem still at its path:
						 * POSIX shm in /dev/shm */
#define VMA_F_DROPPABLE		(1u << 15)	/* dp: MAP_DROPPABLE */
#define VMA_F_MAYWRITE		(1u << 16)	/* mw: a shared mapping
						 * mprotect may make writable
						 * (its file opened O_RDWR);
						 * kept on shared ones only */
#define VMA_F_COUNT		17
/* ht, hugetlb pages: in the image as hugetlb=KB (huge_kb), not a flag */
#define VMA_F_HUGETLB		(1u << 30)
/* not in the image: the pages are another process's to store */
#define VMA_F_PAGES_ELSEWHERE	(1u << 31)

struct crfs_vma {
	uint64_t start;
	uint64_t end;
	uint64_t pgoff;		/* byte offset into the file */
	uint32_t prot;		/* PROT_* */
	uint32_t flags;		/* VMA_F_* */
	enum crfs_vma_kind kind;
	/* identity of the mapped file, checked before restore; for shmem the
	 * object's size and inode */
	uint64_t shm_ino;
	uint64_t file_size;
	int64_t file_mtime_ns;
	char *path;		/* file; shmem, deleted: "/memfd:NAME", the
				 * deleted file's path, or NULL */
	/* a named shmem object's owner and mode (VMA_F_NAMED) */
	uint32_t obj_uid, obj_gid, obj_mode;
	/* VMA_F_HUGETLB: its page size in KiB (smaps KernelPageSize) */
	uint32_t huge_kb;
	/* its own NUMA policy (mbind; PID/mempolicy): mode, 0 for none,
	 * MPOL_F_* flags and nodes 0-63 */
	int mpol_mode;
	uint64_t mpol_flags, mpol_nodes;
};

/* pages of a mapping that fault with SIGSEGV (MADV_GUARD_INSTALL) */
struct crfs_guard {
	uint64_t start, end;
};

struct crfs_page_run {
	uint64_t addr;
	uint64_t npages;
	int32_t src;		/* the process whose pages file holds them:
				 * another for copy-on-write pages shared with
				 * the parent, stored once */
	uint64_t offset;	/* byte offset in that pages file */
	uint64_t hash;
	bool unhashed;		/* in an ancestor (src < 0): checked against
				 * that image's own index, HASH is '-' */
};

/*
 * A run also ends at every multiple of 4 MiB of virtual address (FORMAT.md
 * 4.7): then crfs-restore's two fill workers can share a big mapping (each
 * takes whole runs, which it checks against their checksums), and the runs
 * of a mapping fall at the same addresses in every checkpoint.
 */
#define CRFS_RUN_CUT	(4ULL << 20)
static inline bool crfs_run_cut(uint64_t addr)
{
	return !(addr & (CRFS_RUN_CUT - 1));
}

/* the index of the first of n runs (in address order) that ends above
 * addr: n if none does */
static inline size_t crfs_runs_first_above(const struct crfs_page_run *runs,
					   size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (runs[mid].addr + runs[mid].npages * 4096 <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * A run stored by an ancestor of an incremental image (level 1: its
 * parent) in process pid's pages there: src is negative, so it never
 * equals a pid and code that only knows this image treats it as foreign.
 * Pids are below 2^22 (the kernel's PID_MAX_LIMIT).
 */
#define CRFS_SRC_PID_BITS	22
#define CRFS_MAX_LEVEL		99	/* LEVEL:PID fits SRC's 10 columns */
#define CRFS_SRC_ANCESTOR(level, pid) \
	(-(int32_t)(((uint32_t)(level) << CRFS_SRC_PID_BITS) | (uint32_t)(pid)))
#define CRFS_SRC_LEVEL(src)	((uint32_t)-(src) >> CRFS_SRC_PID_BITS)
#define CRFS_SRC_PID(src) \
	((pid_t)((uint32_t)-(src) & ((1u << CRFS_SRC_PID_BITS) - 1)))
/* the process that stored the run, in this image or an ancestor */
#define CRFS_SRC_OWNER(src)	((src) >= 0 ? (pid_t)(src) : CRFS_SRC_PID(src))

/* the daemon's level and 32 below it (the kernel's MAX_PID_NS_LEVEL) */
#define CRFS_NSPID_MAX	33

struct crfs_attr {
	pid_t pid, ppid, pgid, sid;
	char comm[CRFS_COMM_LEN + 1];
	char *exe, *cwd, *root;
	unsigned int umask;
	unsigned long personality;
	int dumpable;
	int no_new_privs;
	int child_subreaper;	/* PR_SET_CHILD_SUBREAPER */
	int pdeathsig;		/* PR_SET_PDEATHSIG */
	int nthreads;
	pid_t vpid;		/* pid in its own pid namespace (== pid in ours) */
	int proc_mount;		/* own mount namespace: ours plus a /proc of its
				 * pid namespace (unshare --mount-proc) */
	int zombie;		/* 1: exited, waiting for its parent */
	int exit_status;	/* a zombie's wait status */
	int stop_signal;	/* stopped by job control: SIGSTOP, SIGTSTP.. */
	int stop_waited;	/* its parent has collected that stop */
	int shares_files;	/* 1: its parent's descriptor table (CLONE_FILES) */
	int shares_fs;		/* 1: its parent's cwd, root, umask (CLONE_FS) */
	unsigned int exe_mode;	/* its executable's permission bits */
	int oom_score_adj;	/* /proc/PID/oom_score_adj */
	unsigned int loginuid;	/* /proc/PID/loginuid, 4294967295: unset */
	unsigned long coredump_filter;	/* /proc/PID/coredump_filter */
	int thp_disable;	/* PR_GET_THP_DISABLE */
	int mce_kill;		/* PR_MCE_KILL_GET */
	uint64_t membarrier;	/* MEMBARRIER_CMD_GET_REGISTRATIONS */
	/* NSpid as the daemon sees it: pid, then one per level below */
	int nspid_n;
	pid_t nspid[CRFS_NSPID_MAX];
	unsigned int pidns;		/* inode of its pid namespace */
	unsigned int pidns_children;	/* of pid_for_children */
	int shares_vm;		/* 1: its parent's memory (CLONE_VM) */
	int shares_sighand;	/* 1: its parent's signal handlers (CLONE_SIGHAND) */
	int leader_exited;	/* 1: its main thread has exited (a zombie
				 * leader), other threads run on */
};

struct crfs_creds {
	uid_t uid[4];		/* real, effective, saved, fs */
	gid_t gid[4];
	int ngroups;
	gid_t *groups;
	uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
	uint32_t securebits;
};

struct crfs_mm {
	uint64_t start_code, end_code, start_data, end_data;
	uint64_t start_brk, brk, start_stack;
	uint64_t arg_start, arg_end, env_start, env_end;
	int auxv_len;		/* number of 64-bit words */
	uint64_t auxv[CRFS_AUXV_MAX];
	int mlockall;		/* MCL_FUTURE, MCL_ONFAULT: locks of mappings
				 * yet to come (MCL_CURRENT is each VMA's lo) */
	int memory_merge;	/* PR_SET_MEMORY_MERGE: KSM for every mapping */
	uint64_t mdwe;		/* PR_GET_MDWE flags, set last */
};

/*
 * An open file description: what fds (of one or several processes) point
 * to.  One line of the container's files table.
 */
enum crfs_file_kind {
	FK_FILE,		/* regular file or directory, reopened by path */
	FK_CHR,			/* memory character device, reopened by path */
	FK_DELETED,		/* unlinked regular file; contents in fdata/ID */
	FK_PIPE,		/* one end of a pipe; queued bytes in fdata/ID */
	FK_FIFO,		/* named pipe, reopened by path */
	FK_UNIX,		/* unix socket; its receive queue in fdata/ID */
	FK_EVENTFD,
	FK_TIMERFD,
	FK_SIGNALFD,
	FK_EPOLL,		/* interest list in fdata/ID */
	FK_INOTIFY,		/* watches in fdata/ID */
	FK_PTMX,		/* pseudo-terminal master, /dev/pts/INDEX's */
	FK_PTS,			/* pseudo-terminal slave /dev/pts/INDEX */
	FK_PIDFD,		/* a pidfd of a process of the container */
	FK_NETLINK,		/* a netlink socket with nothing queued */
	FK_INET,		/* TCP listening, unconnected or connected
				 * (fdata/ID.tcp), UDP idle */
	FK_PROC,		/* /proc/PID/..., reopened against PID again */
	FK_FANOTIFY,		/* group flags; marks in fdata/ID */
	FK_MQUEUE,		/* POSIX message queue; messages in fdata/ID */
	FK_NSFD,		/* a namespace file, /proc/PID/ns/KIND opened */
	FK_RAW,			/* raw inet socket (SOCK_RAW), nothing queued */
	FK_PACKET,		/* packet socket (AF_PACKET), nothing queued */
	FK_TUN,			/* /dev/net/tun, attached to ifname or not */
	FK_BPFMAP,		/* BPF map; its entries in fdata/ID */
	FK_COUNT,
};

enum crfs_sock_type { SOCK_T_STREAM, SOCK_T_DGRAM, SOCK_T_SEQPACKET, SOCK_T_RAW };

struct crfs_file {
	uint32_t id;
	enum crfs_file_kind kind;
	uint32_t flags;		/* open flags (f_flags), without O_CLOEXEC */
	uint64_t pos;
	uint32_t mode;		/* st_mode, checked at restore */
	char *path;		/* file, chr, deleted, fifo; a socket's path */
	uint64_t ino;		/* pipe, fifo, socket: the object's inode */
	uint64_t data;		/* bytes in fdata/ID (0: no such file) */
	/* inet: "IP:PORT" or "[IP6]:PORT" bound to, connected to (UDP) */
	char *addr, *dst;
	uint32_t inopts;	/* options on, as kh_inet_opts */
	/* netlink, inet */
	int protocol;
	uint32_t portid, dst_portid, dst_group;
	uint64_t groups;	/* groups 1..64 joined, bit n-1 */
	uint32_t nlflags;	/* options on, as kh_netlink_opts */
	uint32_t seals;		/* a memfd's F_GET_SEALS (F_SEAL_SEAL: none
				 * can be added, the default) */
	/* O_ASYNC: who gets SIGIO, as F_GETOWN_EX says (a pid of ours, or
	 * a group's), and which signal (F_GETSIG, 0: SIGIO) */
	pid_t fown;
	int fown_type;
	int fsig;
	uint32_t pipe_size;	/* pipe, fifo: F_GETPIPE_SZ */
	/* unix */
	enum crfs_sock_type sock_type;
	uint64_t peer;		/* inode of the peer socket, 0 for none */
	char *abstract;		/* abstract name, without the leading NUL */
	size_t abstract_len;	/* it may hold NULs itself */
	int backlog;		/* listening: listen() backlog; else -1 */
	bool ghost;		/* bound to a path whose file was removed */
	bool nonlocal;		/* inet: bound to an address not of its
				 * namespace (IP_FREEBIND then) */
	uint32_t fuid, fgid;	/* owner of a bound socket's file */
	uint32_t shutdown;	/* SHUT_RD + 1 | SHUT_WR + 1 bits */
	uint32_t nmsgs;		/* messages (pipe: packets) in fdata/ID */
	uint64_t connect_to;	/* not yet accepted: the listener's inode */
	uint64_t accepted;	/* came from accept() on this listener */
	/* inet: a listener's accept queue length (accq); a client whose
	 * connection waits in it: the listener's file and its place, 1.. */
	uint32_t accq, pending, pending_pos;
	int sndbuf, rcvbuf;	/* SO_SNDBUF, SO_RCVBUF as getsockopt says */
	bool passcred;		/* SO_PASSCRED */
	int peek_off;		/* SO_PEEK_OFF, -1: off */
	/* SO_PEERCRED: who made the connection (pid 0: none) */
	pid_t peer_pid;
	uint32_t peer_uid, peer_gid;
	uint64_t rcvtimeo, sndtimeo;	/* SO_RCVTIMEO, SO_SNDTIMEO in us */
	char *peername;		/* external: the outside peer's name, to
				 * connect to again ("@..." abstract) */
	size_t peername_len;
	/* eventfd */
	uint64_t count;
	bool semaphore;
	/* timerfd */
	int clock;
	uint64_t ticks;
	int tflags;		/* TFD_TIMER_ABSTIME... as set */
	uint64_t value_ns, interval_ns;
	/* signalfd */
	uint64_t sigmask;
	/* epoll: whose fd numbers the interest list refers to */
	pid_t owner;
	/* pidfd: the process it refers to */
	pid_t pidfd_pid;	/* -1: one that has exited (ino: which) */
	int exit_status;	/* pidfd of one that exited: as wait gives it */
	/* flock() lock held through this description: 0, 'r' or 'w' */
	int flock;
	pid_t flock_pid;	/* who took it, as /proc/locks says (0: unknown) */
	/* ptmx, pts */
	int pty_index;
	char *termios;		/* ptmx: the terminal's struct termios, hex */
	char *winsize;		/* ptmx: rows,cols,xpixel,ypixel */
	char *lockterm;		/* ptmx: the slave's locking termios
				 * (TIOCSLCKTRMIOS), hex; NULL: none */
	bool locked;		/* ptmx: the slave is still locked */
	bool packet;		/* ptmx: packet mode (TIOCPKT) */
	bool excl;		/* ptmx, pts: exclusive mode (TIOCEXCL) */
	uint64_t pty_input;	/* ptmx: bytes queued toward the slave's
				 * reader, in fdata/ID.input (data: toward
				 * the master's, in fdata/ID) */
	pid_t session;		/* pts: the session it is the terminal of */
	pid_t fg;		/* pts: its foreground process group */
	bool devtty;		/* pts: opened as /dev/tty, its controlling
				 * terminal then */
	bool external;		/* pts: its master is outside (a shell job's);
				 * unix: its peer is (declared external) */
	/* unix, inet, netlink: valued options and filter, "name:value,..." as
	 * kh_sockopts_read gives them */
	char *sockopts;
	/* unix: bound by this relative name (path: its absolute form; the
	 * directory path less the name is where to bind it from) */
	char *bindname;
	pid_t proc_pid;		/* proc: the PID of /proc/PID/... */
	bool dead;		/* proc: that process had exited (ESRCH) */
	uint32_t fan_flags;	/* fanotify: fanotify_init flags */
	uint32_t fan_event_flags;	/* fanotify: its event_f_flags */
	uint64_t mq_maxmsg, mq_msgsize;	/* mqueue: its mq_attr */
	/* bpfmap: BPF_MAP_CREATE's attributes, BPF_MAP_FREEZE'd; the
	 * map's id at the freeze in ino, its entries in nmsgs */
	uint32_t map_type, key_size, value_size, max_entries, map_flags;
	char *map_name;
	bool frozen;
	/* ns: which kind ("net", "pid", ...), and whose: 0 the daemon's, else
	 * the pid of the process of the tree it is of (a pid namespace's
	 * init; for the rest, the root) */
	char *ns_type;
	pid_t ns_pid;
	/* timerfd with TFD_TIMER_ABSTIME: when it fires next, in ns of its
	 * clock (value is then only what was left at the freeze) */
	uint64_t expires;
	/* a lease (F_SETLEASE) held through this description: 0, 'r', 'w' */
	int lease;
	/* deleted, and ghosts (a deleted directory, FIFO, device node):
	 * "ASEC.NSEC,MSEC.NSEC", its atime and mtime; fuid, fgid: owner */
	char *times;
	uint64_t rdev;		/* a ghost device node's st_rdev */
	/* packet: the interface bound to (NULL: none), the fanout group as
	 * PACKET_FANOUT gives it, memberships "IFNAME/TYPE/COUNT/HEX;..." */
	char *ifname;
	int bound_proto;	/* packet: protocol bound to (network order) */
	uint32_t fanout;
	char *mclist;
	/* packet: its rings, "rx/BLOCK_SIZE/BLOCK_NR/FRAME_SIZE/FRAME_NR/
	 * RETIRE_TMO/SIZEOF_PRIV/FEATURES;tx/..." (NULL: none) */
	char *ring;
	/* tun: TUNGETIFF's flags (ifname: the device, NULL: never attached),
	 * a queue detached; for a device of our namespace, made anew: its
	 * MAC "xx:xx:xx:xx:xx:xx" (NULL: leave), owner and group (-1: none) */
	uint32_t tun_flags;
	bool tun_detached;
	char *tun_mac;
	int tun_owner, tun_group;
	int tun_index;		/* ... and its index (0: the kernel's choice) */
};

/* PID/fds: descriptor FD of the process refers to file ID */
struct crfs_fd {
	int fd;
	uint32_t file;
	bool cloexec;
};

/* an epoll interest: the owner's fd TFD, which refers to file FILE */
struct crfs_epoll_item {
	int tfd;
	uint32_t file;
	uint32_t events;
	uint64_t data;
};

struct crfs_inotify_watch {
	int wd;
	uint32_t mask;
	char *path;
	uint32_t file;		/* a deleted file's: that description's id */
};

/* a fanotify mark, on what its path leads to at restore */
enum crfs_fan_target { FAN_T_INODE, FAN_T_MOUNT, FAN_T_FS };

struct crfs_fanotify_mark {
	enum crfs_fan_target target;
	uint32_t mflags;	/* the FAN_MARK_* flags it carries */
	uint64_t mask, ignored;
	char *path;
};

/* locks: POSIX record locks (per process) and OFD locks (per file) */
struct crfs_lock {
	bool ofd;		/* else POSIX, held by PID */
	bool write;
	pid_t pid;
	uint32_t file;
	uint64_t start, len;	/* len 0: to the end of the file */
};

/* PID/timers: interval timers, then POSIX timers */
struct crfs_timer {
	bool posix;
	int id;			/* itimer: ITIMER_*; posix: the timer id */
	int clock;
	int notify;		/* SIGEV_* */
	int signo;
	uint64_t sigval;
	pid_t tid;		/* SIGEV_THREAD_ID target */
	uint64_t value_ns, interval_ns;	/* remaining, period */
	int overrun;
	/* CLOCK_THREAD_CPUTIME_ID: the thread whose CPU time it counts (the
	 * one that made it); 0: the main thread */
	pid_t cpu_tid;
};

/*
 * A CPU clock of the thread that made the timer: CLOCK_THREAD_CPUTIME_ID,
 * or as glibc passes it, MAKE_THREAD_CPUCLOCK(0, which): ((~0) << 3) | 4 |
 * which (-2 for CPUCLOCK_SCHED).  Bit 2 is CPUCLOCK_PERTHREAD_MASK.
 */
static inline bool crfs_own_thread_clock(int clock)
{
	return clock == 3 /* CLOCK_THREAD_CPUTIME_ID */ ||
	       (clock < 0 && (clock & 4) && (clock >> 3) == -1);
}

struct crfs_sigaction {
	uint64_t handler, flags, restorer, mask;
};

struct crfs_rlimit {
	uint64_t cur, max;	/* RLIM_INFINITY for "unlimited" */
};
#define CRFS_NLIMITS 16

/* x86_64 user_regs_struct, by name */
#define CRFS_NREGS 27
extern const char *const crfs_reg_names[CRFS_NREGS];

/* A queued signal with its siginfo, exactly as the kernel holds it */
struct crfs_pending {
	int signo;
	uint8_t info[128];
};

/* task/TID/sched: what the kernel keeps per thread for the scheduler */
#define CRFS_MAX_CPUS		8192
struct crfs_sched {
	int policy;		/* SCHED_OTHER, _BATCH, _IDLE, _FIFO, _RR */
	int reset_on_fork;	/* SCHED_RESET_ON_FORK */
	int nice;		/* kept apart from the policy: an RT or idle
				 * thread keeps its nice for later */
	int rt_priority;
	int ioprio_class;	/* IOPRIO_CLASS_*, as ioprio_get reports */
	int ioprio_level;
	uint64_t timerslack_ns;
	uint64_t affinity[CRFS_MAX_CPUS / 64];	/* bit n: CPU n allowed */
};

/* One classic BPF instruction (struct sock_filter) */
struct crfs_bpf_insn {
	uint16_t code;
	uint8_t jt, jf;
	uint32_t k;
};

/* A seccomp filter program with the flags it was installed with */
struct crfs_seccomp_filter {
	uint32_t flags;		/* SECCOMP_FILTER_FLAG_LOG as metadata says */
	uint32_t len;
	struct crfs_bpf_insn *insns;
};

#define CRFS_SECCOMP_MAX_INSNS	4096	/* BPF_MAXINSNS */

/* NUMA policies: nodes a nodemask of the image covers; the flags
 * get_mempolicy ORs into the mode (MPOL_F_STATIC_NODES, _RELATIVE_NODES,
 * _NUMA_BALANCING) */
#define CRFS_NUMA_NODES		64
#define CRFS_MPOL_MODE_FLAGS	0xe000

struct crfs_thread {
	pid_t tid;
	pid_t vtid;		/* tid in its own pid namespace */
	int nstid_n;		/* NSpid of the thread, like crfs_attr.nspid */
	pid_t nstid[CRFS_NSPID_MAX];
	uint64_t regs[CRFS_NREGS];	/* order of struct user_regs_struct */
	uint32_t xstate_size;
	uint8_t *xstate;
	uint64_t blocked;
	uint64_t ss_sp, ss_size;
	int ss_flags;
	uint64_t clear_child_tid;
	uint64_t robust_list, robust_list_len;
	uint64_t rseq_ptr;
	uint32_t rseq_size, rseq_sig;
	struct crfs_pending *pending;	/* this thread's own queue */
	size_t npending;
	struct crfs_creds *creds;	/* task/TID/creds: NULL when the
					 * process's (the main thread's) */
	char comm[CRFS_COMM_LEN + 1];	/* the thread's own name */
	long securebits;	/* freeze only: PR_GET_SECUREBITS in the
				 * thread, compared with the process's */
	int tsc_mode;		/* PR_GET_TSC: PR_TSC_ENABLE, PR_TSC_SIGSEGV */
	int pdeathsig;		/* PR_GET_PDEATHSIG: the kernel keeps one
				 * per thread */
	int no_new_privs;	/* PR_GET_NO_NEW_PRIVS: per thread too */
	int io_flusher;		/* freeze only: PR_GET_IO_FLUSHER, refused */
	int cpuid_off;		/* freeze only: ARCH_GET_CPUID said 0 */
	int mempolicy;		/* get_mempolicy's mode (MPOL_*) */
	uint64_t mempolicy_flags;	/* MPOL_F_STATIC_NODES, _RELATIVE_NODES */
	uint64_t mempolicy_nodes;	/* its nodemask, nodes 0-63 */
	struct crfs_sched *sched;	/* task/TID/sched; NULL: an image
					 * taken before it existed */
	/* SECCOMP_MODE_*, and the filter chain oldest first (mode 2) */
	int seccomp_mode;
	struct crfs_seccomp_filter *filters;
	size_t nfilters;
};

#endif
