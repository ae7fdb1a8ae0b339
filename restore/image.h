/* SPDX-License-Identifier: MIT */
/* A checkpoint directory, loaded and checked before anything is touched. */
#ifndef CRFS_RESTORE_IMAGE_H
#define CRFS_RESTORE_IMAGE_H

#include <limits.h>

#include "crfs/format.h"

struct proc_image {
	pid_t pid;
	struct crfs_attr attr;
	struct crfs_creds creds;
	struct crfs_mm mm;
	struct crfs_vma *vmas;
	size_t nvmas;
	struct crfs_page_run *runs;
	size_t nruns;
	struct crfs_guard *guards;	/* PID/guards, in address order */
	size_t nguards;
	struct crfs_fd *fds;
	size_t nfds;
	struct crfs_sigaction sa[CRFS_NSIG];
	struct crfs_rlimit rl[CRFS_NLIMITS];
	struct crfs_thread *threads;	/* [0] is the main thread */
	size_t nthreads;
	struct crfs_pending *shared_sigs;	/* the process's queue */
	size_t nshared_sigs;
	struct crfs_timer *timers;
	size_t ntimers;
	char pages_path[PATH_MAX];
	/* the pages file, mapped while crfs-restore checks and fills */
	const unsigned char *pages_map;
	uint64_t pages_len;
	bool sums_later;	/* its restorer checks its runs as it copies */
	bool *lazy_runs;	/* --lazy: runs[k] the handler serves (lazy.c) */
	int pages_memfd;	/* pages.zst decompressed (page_src.c), or -1 */
	int parent;		/* index in image.procs; -1 for the root */
	int nspid_base;		/* first NSpid level restore sets (pidns.c) */
};

/* what a file's fdata/ID holds, when it is a list */
struct file_extra {
	struct crfs_epoll_item *items;	/* epoll */
	size_t nitems;
	struct crfs_inotify_watch *watches;	/* inotify */
	size_t nwatches;
	struct crfs_fanotify_mark *marks;	/* fanotify */
	size_t nmarks;
};

struct shm_obj {
	uint64_t ino, size;
	void *addr;		/* in crfs-restore, inherited by the tree */
	char *made;		/* a named object we made: unlinked on failure */
	uint32_t huge_kb;	/* of hugetlb pages: written only by mapping */
};

struct image {
	char dir[PATH_MAX];
	struct crfs_header hdr;
	const char **manifest;	/* hdr.files' paths, sorted: in_manifest */
	struct proc_image *procs;	/* [0] is the root; parents first */
	size_t nprocs;
	struct shm_obj *shm;
	size_t nshm;
	bool new_pidns;		/* the root was init of its own pid namespace */
	struct crfs_file *files;	/* files[id - 1] */
	size_t nfiles;
	struct file_extra *fx;		/* per file */
	struct crfs_lock *locks;
	size_t nlocks;
	bool shell_job;		/* --shell-job: outside terminals are ours */
	bool orphan_pipes;	/* --orphan-pipes: outside ends stay gone */
	bool detach;		/* --detach: the root's parent exits at once */
	struct inherit {	/* --inherit-fd pipe:[INO]=FD */
		uint64_t ino;
		int fd;
	} *inherit;
	size_t ninherit;
	/* crfs-restore opens file id at fd_base + id - 1, below fd_end */
	int fd_base, fd_end;
	struct mnt_state *mnt;	/* mounts.c: the container's mount tree */
	struct image_chain *chain;	/* chain.c: an incremental's parents */
};

/*
 * A session or group whose leader has exited is re-created by a helper
 * with the leader's pid: it calls setsid() (or setpgid()), forks the
 * members and exits, and the members fall to their parent, a subreaper.
 */
bool needs_session_helper(const struct image *img, size_t i);
bool needs_group_helper(const struct image *img, size_t i);
/* pgrp.c: a group of the parent's session whose leader has exited */
bool needs_group_stub(const struct image *img, size_t i);
int check_group_stubs(const struct image *img, char *err, size_t errlen);

/* the files the processes map and run, as they were (mounts.c calls it
 * once the image's mount tree is built) */
int image_check_files(struct image *img, char *err, size_t errlen);
/* image_files.c: the files the processes have open by path */
int image_check_paths(struct image *img, char *err, size_t errlen);
/* rel (a path in the image) is listed in its manifest */
bool in_manifest(const struct image *img, const char *rel);
/* pidns.c: each process's pid namespace levels, checked at load */
int pidns_check(struct image *img, char *err, size_t errlen);

/* the process of the image with that pid, or NULL */
struct proc_image *image_proc(const struct image *img, pid_t pid);
/* drop the pages mappings before the tree is forked: it needs none */
void image_unmap_pages(struct image *img);
/* chain.c: the parents of an incremental image, checked before use */
int chain_load(struct image *img, char *err, size_t errlen);
int chain_check_run(struct image *img, const struct proc_image *p,
		    const struct crfs_page_run *r, char *err, size_t errlen);
/* --lazy: placed, not hashed (lazy.c checks its bytes before serving) */
int chain_place_run(struct image *img, const struct proc_image *p,
		    const struct crfs_page_run *r, char *err, size_t errlen);
/* the ancestor pages file src, as loaded: its own runs (with what the
 * load checked) and its path; -ENOENT: not loaded */
int chain_own_runs(const struct image *img, int32_t src,
		   const struct crfs_page_run **own, const bool **checked,
		   size_t *n, char *path, size_t len);
void chain_unmap(struct image *img);
/* an ancestor's pages.zst memfds, kept in the tree as page_src's */
int chain_keep_fds(struct image *img, int top);
void chain_drop_fds(struct image *img);
void chain_free(struct image *img);
/* open the pages file run source src is in (this image's or a parent's) */
int image_open_src(const struct image *img, pid_t src, int flags);

/* pidns.c: a pid the image records as viewer sees it (0: out of sight) */
pid_t image_pid_in(const struct image *img, const struct proc_image *viewer,
		   pid_t pid);

typedef int (*image_parse_fn)(struct crfs_text *t, void *obj);
/* parses DIR/rel with fn; errors name the file and line */
int image_parse(struct image *img, const char *rel, image_parse_fn fn,
		void *obj, char *err, size_t errlen);

/* image_files.c: files, locks and the lists in fdata/, checked */
int image_load_files(struct image *img, char *err, size_t errlen);
void image_free_files(struct image *img);
/* the fd of process p that refers to file id, or -1 */
int proc_fd_of(const struct proc_image *p, uint32_t id);
bool flock_by_owner(const struct image *img, const struct crfs_file *f);

/* 0, or -errno with err naming the file and the problem */
int image_load(const char *dir, struct image *img, char *err, size_t errlen);
void image_free(struct image *img);
/* a named POSIX shm object of the image is at path (restore/shmem.c) */
bool shm_named_path(const struct image *img, const char *path);

#endif
