/* SPDX-License-Identifier: MIT */
#ifndef CRFS_RESTORE_H
#define CRFS_RESTORE_H

#include <time.h>

#include "image.h"

static inline void ns_to_ts(uint64_t ns, struct timespec *ts)
{
	ts->tv_sec = ns / 1000000000ULL;
	ts->tv_nsec = ns % 1000000000ULL;
}

/* Internal descriptors of the restoring child: above every saved fd. */
struct helper_fds {
	int err_fd;
	int pages_fd;
	int exe_fd;
	int *vma_fd;		/* per saved VMA, -1 for anonymous */
	pid_t *src_pid;		/* pages files of others we read from */
	int *src_fd;
	int nsrc;
	int *all;		/* every helper, closed by the restorer */
	int nall;
	const struct crfs_lock **locks;	/* our POSIX locks, taken last */
	int *lock_fds;
	int nlocks;
	const struct crfs_timer **timers;	/* signalling other threads */
	pid_t *timer_tids;	/* their tids, as the restorer creates them */
	int ntimers;
	/* our vDSO and vvar, read before a chroot hides /proc */
	struct crfs_vma vdso[4];
	int nvdso;
	/* the root directory to chroot() into last, once nothing needs a
	 * path of ours (/proc); -1: none */
	int root_fd;
	/* a pidfd whose pid namespace becomes our pid_for_children, -1 */
	int pidns_fd;
	/* the fill helper's socket (fill_helper.c), -1; it fills first */
	int fill_sk;
	bool fill_first;
};

/* restore_proc.c: runs in the child; never returns */
__attribute__((noreturn)) void restore_child(struct image *img, int idx,
					     int go_fd, int err_fd);
void child_fail(int err_fd, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));

/*
 * pidns.c: nested pid namespaces.  Clone child i of process
 * idx with its pids (0 in the child);
 * a pidfd for the restorer to take pid_for_children from once
 * our threads exist (-1: our own); set_tid for clone3 from NSpid (returns
 * its length); the pid finish.c
 * knows a task by.
 */
pid_t pidns_clone(struct image *img, int idx, size_t i, uint64_t flags,
		  int err_fd);
int pidns_children_done(struct image *img, int idx, int err_fd);
void pidns_children_own(struct image *img, int idx, int err_fd);
/* child i of idx is cloned into a namespace idx enters (setns) */
bool pidns_enters(const struct image *img, int idx, size_t i);
int pidns_set_tid(const struct proc_image *p, const pid_t *nspid, int n,
		  pid_t *set_tid);
pid_t pidns_key(const struct image *img, const pid_t *nspid, int n);
/* the files of pid namespaces above ours, kept above fd by isolate_fds
 * (returns the last), then closed */
int pidns_keep_fds(int fd);
void pidns_drop_fds(void);
/* an nsfs fd of init's pid namespace, opened by p (-errno) */
int pidns_open(const struct image *img, const struct proc_image *p,
	       const struct proc_image *init);

/* nsfd.c: namespace files; crfs-restore opens ours first, holders the
 * tree's (install.c) */
int nsfd_prepare(struct image *img, char *err, size_t errlen);
void nsfd_done(void);
void nsfd_install(struct image *img, struct proc_image *p, int err_fd);

/* restore_mem.c: build the restorer's area and jump into it */
__attribute__((noreturn)) void enter_restorer(struct proc_image *p,
					      struct helper_fds *h);

/* shmem.c: shared anonymous memory objects */
int shm_prepare(struct image *img, char *err, size_t errlen);
void shm_undo(struct image *img);
int shm_open_object(struct image *img, const struct crfs_vma *v);
/* the object with that inode at checkpoint (a memfd also open as a file) */
int shm_open_ino(struct image *img, uint64_t ino);
int shm_object_bytes(struct image *img, uint64_t ino, void **addr,
		     size_t *size);
const struct crfs_vma *exe_mapping(const struct proc_image *p);
int exe_open(struct image *img, const struct proc_image *p);
int open_noatime(const char *path, int flags);
void ghost_name(const char *path, int i, char *buf, size_t len);

/* hugetlb.c: the pool of each hugetlb page size the image needs has
 * room for it; a shared hugetlb object made; SHM_HUGETLB flags for kb */
int hugetlb_check(const struct image *img, char *err, size_t errlen);
void *hugetlb_obj_map(const struct crfs_vma *v, uint64_t size);
int hugetlb_shm_flags(uint32_t kb);
uint32_t hugetlb_sysv_kb(const struct image *img, int kind, int id);
bool shm_is_hugetlb(struct image *img, uint64_t ino);

/* ipc_sysv.c: the image's SysV queues and semaphore sets, made before the
 * tree; undo removes them again after a failed restore */
int ipc_sysv_restore(struct image *img, char *err, size_t errlen);
void ipc_sysv_undo(void);
void ipc_sysv_sempids(pid_t pid, int err_fd);
void ipc_sysv_done(void);
void ipc_sysv_free(void);
/* ipc_ns.c: a new IPC namespace with the saved limits, if the tree had one */
int ipc_ns_restore(struct image *img, char *err, size_t errlen);

/* vma_fds.c: one descriptor per mapped object, shared by its mappings */
bool vma_needs_rw(const struct crfs_vma *v);
ssize_t vma_owners(const struct proc_image *p, ssize_t *owner);
ssize_t vma_objects(const struct proc_image *p);

/* files.c: the image's open files, at img->fd_base + id - 1 */
int files_open(struct image *img, char *err, size_t errlen);
void files_close(struct image *img);
/* in the child: its fds from the table, its locks and epolls; the table
 * is closed after */
void files_install(struct image *img, struct proc_image *p,
		   struct helper_fds *h);
int lock_set(int fd, const struct crfs_lock *l, bool ofd);


/* share_fs.c: in the child, before its children are forked, and once it
 * opened all it opens by path (then its parent may chdir, chroot) */
void fs_share_prepare(struct image *img, int idx, int err_fd);
void fs_share_done(int err_fd);

/* timers.c: in the child */
void restore_timers(struct proc_image *p, struct helper_fds *h);
/* the clock to make t on: a thread CPU clock names its thread */
int timer_clock(const struct proc_image *p, const struct crfs_timer *t);
int timer_kind(const struct proc_image *p, const struct crfs_timer *t);
bool timer_signal_pending(const struct proc_image *p,
			  const struct crfs_timer *t);
bool timer_fires_for(const struct proc_image *p, const struct crfs_pending *s);
/* restore_mem.c: thread k's own signals are queued by it, at its trap */
bool thread_queues_own(const struct proc_image *p, size_t k);

/* seccomp.c: each thread's filters, laid out for the restorer */
struct rst_thread;
size_t seccomp_area_size(const struct proc_image *p);
bool image_has_seccomp(const struct image *img);
void seccomp_fill(struct rst_thread *d, const struct proc_image *p,
		  const struct crfs_thread *t, char **room);

/* finish.c: in the parent, from the restorer's trap to a running task */
int restore_finish(struct image *img, int err_fd, char *err, size_t errlen);
/* pgrp.c: groups of the parent's session whose leader has exited */
int group_stubs_start(struct image *img, int idx, int err_fd);
void group_stubs_end(struct image *img, int idx, int wfd, int err_fd);
/* the root in a session (group) whose leader exited: made under a helper
 * with the leader's pid; 0 in the root, its pid, or -errno */
bool root_needs_leader(const struct image *img);
pid_t clone_root_under_leader(const struct image *img);
/* stopped.c: job-control stops, around the detach */
int stop_queue(pid_t pid, const struct proc_image *p);
int stop_settle(pid_t pid, const struct proc_image *p, pid_t parent,
		char *err, size_t errlen);
/* sched.c */
int restore_sched(pid_t tid, const struct crfs_thread *th, char *err,
		  size_t errlen);

/* cow.c: in the child, before it forks its children: the private memory
 * it shares with them (and kept from its parent), mapped and filled; the
 * restorer keeps those ranges (sorted) */
struct rst_range;
void cow_prepare(struct image *img, int idx, int err_fd);
/* once every child is forked: our own pages where we held siblings' */
void cow_after_forks(struct image *img, int idx, int err_fd);
size_t cow_count(void);
const struct rst_range *cow_ranges(void);
bool cow_holds(uint64_t start, uint64_t end);

/* share_vm.c: children sharing our memory (CLONE_VM), which our restorer
 * clones; none of crfs-restore's code runs in them */
void vm_share_prepare(struct image *img, int idx);
size_t vm_kids(struct proc_image ***kids);
bool is_vm_kid(const struct image *img, size_t i);
int vm_share_check(const struct image *img, char *err, size_t errlen);

/* tar_in.c: --stream, the image as crfs-send --stream's tar on in_fd
 * unpacked into dir (made, or empty) */
int tar_in(const char *dir, int in_fd, char *err, size_t errlen);

/* pause.c: CRFS_RESTORE_PAUSE=step waits here until killed (tests) */
void restore_pause(const char *step);
/* profile.c: CRFS_RESTORE_PROFILE: PHASE's time on stderr */
bool restore_profiling(void);
void restore_profile(const char *phase);

#endif
