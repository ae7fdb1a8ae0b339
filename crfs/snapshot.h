/* SPDX-License-Identifier: MIT */
/*
 * A snapshot is everything a frozen container shows: taken once at freeze
 * time (only memory contents are read later, while the tasks stay stopped)
 * and dropped at thaw, so every file of one copy describes one instant.
 */
#ifndef CRFS_SNAPSHOT_H
#define CRFS_SNAPSHOT_H

#include <stdbool.h>
#include <time.h>

#include "crfs/format.h"
#include "kh.h"
#include "track.h"

/* E_BLOB: bytes held like E_TEXT, without a checksum in the manifest */
enum entry_kind { E_DIR, E_TEXT, E_PAGES, E_PAGES_IDX, E_BLOB };

struct entry {
	char *path;		/* relative to the container directory */
	enum entry_kind kind;
	char *data;		/* E_TEXT */
	size_t len;		/* size of the file */
	int proc;		/* E_PAGES*: index into procs */
};

struct proc_snap {
	pid_t pid;
	pid_t ppid;		/* once its memory is captured */
	bool has_fds;		/* not a zombie: gets a PID/fds */
	size_t fds_at, nfds;	/* its descriptors in snapshot.fds */
	int memfd;
	struct crfs_vma *vmas;
	size_t nvmas;
	struct crfs_page_run *runs;	/* by address, ours and others' */
	size_t nruns;
	size_t *own;		/* indices of our own runs: pages-file order */
	size_t nown;
	/*
	 * Reading pages front to back hashes the runs on the way, so that
	 * pages.idx (listed after pages) needs no second pass over memory.
	 */
	struct crfs_hash stream;
	uint64_t stream_off;	/* where the next sequential read starts */
	size_t streamed;	/* own runs hashed so far */
	uint64_t pages_size;
	char *idx;		/* pages.idx, rendered when first read */
	int pending_sig;	/* arrived while we asked the task; resent at thaw */
	int stop_arrived;	/* a stop signal among those: stopped by it */
	/* post-dump (postdump.c): memory is read from the twin, or from
	 * copies[run] made at freeze for what a fork does not keep */
	pid_t twin, vtwin;
	char **copies;
	/* pre-dump (predump.c): read from the running process; what it
	 * unmapped since reads as zeros (never clean: see predump.c) */
	bool live;
};

struct snapshot {
	char freeze_id[33];
	time_t when;
	struct proc_snap *procs;
	size_t nprocs;
	struct entry *entries;
	size_t nentries;
	size_t *byname;		/* entry indices sorted by path */
	size_t nbyname;		/* entries indexed (nentries when current) */
	struct strbuf unsupported;	/* one reason per line */
	bool ext_unix;		/* unix peers outside are declared external */
	struct kh_fd *fds;	/* every process's descriptors, for files.c */
	size_t nfds, capfds;
	struct tcp_hold *tcp;	/* connections held in repair mode */
	size_t ntcp;
	bool postdump;		/* outlives the freeze: the tree runs on */
	struct track *track;	/* track.c: the container's, if tracked */
	bool incremental;	/* unchanged pages point into track's base */
	uint64_t copied;	/* bytes copied out at freeze (post-dump) */
	bool zstd;		/* pages.zst instead of pages (pages_zst.c) */
	bool predump;		/* memory only, read as the tree runs */
	struct net_prefetch *netpf;	/* capture_ns.c: sysctls being read */
};

struct snapshot *snapshot_new(void);
/* files_tcp.c: the connections held go on (thaw) or are closed
 * silently (kill; their lock stays for crfs-restore to lift) */
void tcp_resume(struct snapshot *s);
void tcp_drop(struct snapshot *s);
void snapshot_free(struct snapshot *s);
void snapshot_report(void *snap, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int snapshot_add(struct snapshot *s, const char *path, enum entry_kind kind,
		 char *data, size_t len, int proc);
/* takes ownership of sb's text; ret != 0 just frees it */
int snapshot_add_text(struct snapshot *s, const char *path, struct strbuf *sb,
		      int ret);
#define RENDER(s, path, fn, ...) ({					\
	struct strbuf __sb;						\
	sb_init(&__sb);							\
	snapshot_add_text(s, path, &__sb, fn(&__sb, __VA_ARGS__));	\
})

/* Seals the snapshot: renders image and tree from what was added. */
int snapshot_finish(struct snapshot *s, pid_t root);
/*
 * The entries directly in dir ("" for the top) in path order: *pos is 0 to
 * start and moves past each index returned; -1 after the last.
 */
ssize_t snapshot_next_child(struct snapshot *s, const char *dir, size_t *pos);
const struct entry *snapshot_find(struct snapshot *s, const char *path,
				  size_t *index);
ssize_t snapshot_read(struct snapshot *s, const struct entry *e, char *buf,
		      size_t size, off_t off);

/* postdump.c: twins for every process of the frozen tree (c->error says
 * why not); memory as the snapshot has it; what the twins cost now */
struct container;
int postdump_take(struct container *c);
void postdump_drop(struct snapshot *s);
ssize_t snap_mem_read(struct proc_snap *p, size_t run, uint64_t addr,
		      void *buf, size_t n);
long postdump_cost_kb(struct snapshot *s);

/* predump.c: ctl "predump": a memory-only snapshot, the tree stopped only
 * while its mappings and page runs are listed and tracking re-armed */
int container_predump(struct container *c);
/* capture.c: procs[] gets pid with its memory only (maps, pages) */
int capture_memory_only(struct snapshot *s, pid_t pid);
/* the rest of a pre-dump, once the tree runs again (capture.c) */
int predump_finish(struct snapshot *s, pid_t root);
ssize_t predump_mem_read(struct proc_snap *p, uint64_t addr, void *buf,
			 size_t n);

/* files.c: open file descriptions, shared across the container */
int files_add_process(struct snapshot *s, pid_t pid);
int files_finish(struct snapshot *s);

/* pages_zst.c: PID/pages.zst of procs[idx], at path */
int pages_zst_add(struct snapshot *s, int idx, const char *path);

/* capture.c */
int capture_process(struct snapshot *s, pid_t pid, pid_t root);
/* what /proc alone tells of a process (the live view reads it too) */
int capture_attr(pid_t pid, struct crfs_attr *a, struct crfs_creds *c,
		 struct crfs_mm *mm, struct kh_stat *st);
/* snapshot.c: tree's lines for pids (gone ones left out) */
int render_tree_of(struct strbuf *sb, const pid_t *pids, size_t n);
/* capture_stop.c */
int capture_stop(struct snapshot *s, pid_t pid, struct crfs_attr *a);
/*
 * sig arrived while we ran syscalls in process pid (kh_remote): kept in p
 * to be given back at the thaw (resume_tree), and the freeze refused (the
 * image would not hold it)
 */
void capture_signal_arrived(struct snapshot *s, struct proc_snap *p,
			    pid_t pid, int sig);
bool stop_arrived(struct snapshot *s, const struct crfs_sigaction *sa,
		  int sig);
void stop_finish(struct snapshot *s, struct crfs_attr *a);
/* capture_sched.c */
int capture_sched(struct snapshot *s, pid_t pid, pid_t tid, const char *dir);
/* mapdata.c: the objects of private memfd and deleted-file mappings */
int capture_mapdata(struct snapshot *s, pid_t pid, const struct crfs_vma *v,
		    size_t n);

/* capture_seccomp.c: PID/task/TID/seccomp at path, if the thread uses it */
int capture_seccomp(struct snapshot *s, pid_t pid, pid_t tid,
		    const char *path);

/* capture_cgroup.c: the tree's cgroups and cgroup namespace */
int capture_cgroup(struct snapshot *s, pid_t root, const pid_t *procs, int n);
int cgroup_ns_ok(struct snapshot *s, pid_t pid, pid_t root, const char *name,
		 const char *theirs);
/* pid's cgroup froze it (why says which): ptrace cannot stop it */
bool cgroup_frozen(pid_t pid, char *why, size_t len);

/* ipc_sysv.c: SysV objects of the host's IPC namespace only the tree uses */
int capture_sysvipc(struct snapshot *s, pid_t root, const pid_t *procs,
		    int n);
/* ipc_ns.c: an IPC namespace of the tree's own (the root's) */
bool in_root_ipc_ns(pid_t root, const char *theirs);
int ipc_ns_enter(struct snapshot *s, pid_t root, const pid_t *procs, int n,
		 int *back);
void ipc_ns_leave(int back);

/* sharing.c: tables and fs shared with the parent; refuses other sharing */
void sharing_attr(struct crfs_attr *a);
void check_sharing(struct snapshot *s, const pid_t *procs, int n);
/* share_vm.c: what restore cannot give a child sharing its parent's
 * memory (procs[i], its parent in the tree) is refused by name */
void check_vm_sharer(struct snapshot *s, const pid_t *procs,
		     const struct kh_stat *st, int n, int i);

/* capture_pidns.c: NSpid and pid namespaces of a process (attr), of a
 * thread (sigstate); the tree's pid namespaces, reported if not restorable */
int pidns_attr(pid_t pid, struct crfs_attr *a);
int pidns_thread(pid_t tid, struct crfs_thread *th);
void check_pidns(struct snapshot *s, const pid_t *procs, int n);
/* capture_nsmount.c: a namespace of the tree's bind-mounted: reported */
void check_ns_mounts(struct snapshot *s, const pid_t *procs, int n);

/* capture_ns.c: the root's own namespaces, saved in the ns file; true if
 * kind NAME is one of those (pid's, theirs, checked against the root's) */
bool ns_check(struct snapshot *s, pid_t pid, pid_t root, const char *name,
	      const char *theirs);
int capture_ns(struct snapshot *s, pid_t root);
/* capture_ns.c: the root's network namespace's sysctls read by a thread
 * of ours while the processes are captured; taken by capture_ns, dropped
 * (waited for) by snapshot_free */
void netns_prefetch_start(struct snapshot *s, pid_t root);
void netns_prefetch_drop(struct snapshot *s);
struct crfs_ns;
/* capture_ns.c: pid's network namespace into ns (its net keys) */
int capture_net_of(struct snapshot *s, pid_t pid, struct crfs_ns *ns);
/* capture_netns_sub.c: network namespaces of the tree other than the
 * root's (netns_sub, netns.N); netns_sub_ok is check_namespaces's row */
int netns_sub_ok(struct snapshot *s, pid_t pid, pid_t root, const char *name,
		 const char *theirs);
int capture_netns_sub(struct snapshot *s, pid_t root, const pid_t *procs,
		      int n);
/* capture_mnt.c: the root's own mount tree, saved in the mounts file;
 * 1 for pid's mount namespace theirs (reported if not the root's) */
int capture_mounts(struct snapshot *s, pid_t root);
int mnt_ns_root(struct snapshot *s, pid_t pid, pid_t root, const char *theirs);
/* absolute path as pid sees it, to look up from the daemon (malloc'ed) */
char *mnt_path(pid_t pid, const char *path);
/* capture.c: the root's mount namespace is ours plus a proc */
bool mnt_ns_proc_only(pid_t root);
/* capture_mntcopy.c: our mount our_id was made after root's copy of ours */
bool mounted_since_copy(pid_t root, int our_id);
/* capture_veth.c: a veth inside (on a thread in the namespace), then its
 * outside end (in ours, host_nsid being ours as the namespace numbers it) */
struct crfs_ns;
struct kh_link;
int veth_inside(struct snapshot *s, pid_t root, struct crfs_ns *ns,
		const struct kh_link *l, int host_nsid);
int veth_outside(struct snapshot *s, pid_t root, struct crfs_ns *ns);
/* capture_netdev.c: a device with nothing outside the namespace (on a
 * thread in it): 1 for a kind it does not take; then the names of the
 * masters and peers, once every device is seen */
int netdev_inside(struct snapshot *s, pid_t root, struct crfs_ns *ns,
		  const struct kh_link *l);
void netdev_resolve(struct snapshot *s, pid_t root, struct crfs_ns *ns);
const char *netdev_name(const struct crfs_ns *ns, int index);
/* capture_userns.c: the root's user namespace; its other namespaces'
 * owners; what each process of the tree brings into it */
struct crfs_attr;
struct crfs_creds;
int capture_user(struct snapshot *s, pid_t root, struct crfs_ns *ns);
void userns_check_owners(struct snapshot *s, pid_t root);
void userns_check_proc(struct snapshot *s, pid_t pid, pid_t root,
		       const struct crfs_attr *a, const struct crfs_creds *c);

#endif
