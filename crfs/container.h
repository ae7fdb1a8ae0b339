/* SPDX-License-Identifier: MIT */
/* Containers and the registry that holds them: the daemon's only state. */
#ifndef CRFS_CONTAINER_H
#define CRFS_CONTAINER_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>

#include "snapshot.h"

enum cstate { C_EMPTY, C_RUNNING, C_FROZEN, C_DEAD };

struct container {
	char *name;
	uint64_t id;		/* never reused; the base of its inodes */
	enum cstate state;
	pid_t root;
	pid_t *tids;		/* tasks we hold stopped */
	int ntids;
	pid_t *pids;		/* processes of the tree at freeze */
	int npids;
	struct snapshot *snap;
	struct track *track;	/* track.c: dirty tracking, if on */
	uint64_t gen;		/* bumped at every freeze and thaw */
	char error[512];	/* why the last command was refused */
	bool ext_unix;		/* "external unix": outside peers reconnect */
	bool zstd;		/* "compress zstd": pages.zst at the next freeze */
	pid_t self_tid;		/* asked for a snapshot from inside: seized */
	long frozen_us;		/* how long the last snapshot stopped the tree */
	time_t changed;		/* ctl's mtime: stable, or tar sees it change */
	bool live_seen;		/* the kernel may hold some of its live view */
	struct container *next;
};

struct registry {
	struct container *head;
	uint64_t next_id;
	time_t changed;		/* the root's times: mount, last mkdir/rmdir */
	/* before c's snapshot goes: the kernel forgets what it cached of it */
	void (*forget)(struct registry *r, struct container *c);
	void *fs;
};

struct container *registry_find(struct registry *r, const char *name);
struct container *registry_find_id(struct registry *r, uint64_t id);
int registry_add(struct registry *r, const char *name);
int registry_remove(struct registry *r, const char *name);
void registry_release_all(struct registry *r);
/* collects the exits of frozen tasks killed from outside */
void registry_reap(struct registry *r);

/* vfork.c: before seizing tid of pid, wait a moment for a vfork() it is
 * in to end; -EBUSY and c->error if it does not */
int vfork_settle(struct container *c, pid_t pid, pid_t tid);

/* One ctl command; on failure c->error says why. */
int container_command(struct container *c, const char *cmd);
char *container_render_ctl(struct container *c, size_t *len);
int container_snapshot(struct container *c);
/* selfsnap.c: a command written by thread tid: 1 if it is a snapshot from
 * inside the tree, to answer now and take after (container_deferred), 0
 * if not from inside, or a refusal */
int container_inside(struct container *c, const char *cmd, pid_t tid);
/* tid is a thread of a process of c's tree */
bool container_has_task(struct container *c, pid_t tid);
struct registry;
void container_deferred(struct registry *r);
void container_refresh(struct container *c);
/* the tree a freeze, snapshot or pre-dump stops: attached and alive, or
 * refused (-ENOENT, -ESRCH) in the name of cmd */
int container_need_tree(struct container *c, const char *cmd);
/* CLOCK_MONOTONIC in us: how long a command kept the tree stopped */
long container_now_us(void);

/* freeze.c */
int freeze_tree(struct container *c);
/* freeze.c: stopped, memory listed only (predump.c resumes it) */
int predump_stop(struct container *c);
void thaw_tree(struct container *c);
void resume_tree(struct container *c);
void kill_tree(struct container *c);
/* true if the root died while frozen: drop_tree() lets the rest go */
bool reap_tree(struct container *c);
void drop_tree(struct container *c);

#endif
