// SPDX-License-Identifier: MIT
/* ctl: the commands a container takes and the state it reports. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "container.h"
#include "kh.h"

static const char *const state_names[] = {
	[C_EMPTY] = "empty", [C_RUNNING] = "running",
	[C_FROZEN] = "frozen", [C_DEAD] = "dead",
};

void container_refresh(struct container *c)
{
	if (c->state == C_RUNNING && kh_task_gone(c->root) &&
	    !kh_zombie_leader(c->root))
		c->state = C_DEAD;
}

static int refuse(struct container *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int refuse(struct container *c, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
	return -err;
}

int container_need_tree(struct container *c, const char *cmd)
{
	if (c->state == C_EMPTY)
		return refuse(c, ENOENT, "%s: nothing attached; write 'attach PID' first",
			      cmd);
	if (c->state == C_DEAD)
		return refuse(c, ESRCH, "%s: process %d is dead", cmd, c->root);
	return 0;
}

static int cmd_attach(struct container *c, const char *arg)
{
	char *end;
	long pid;

	if (c->state == C_FROZEN)
		return refuse(c, EBUSY, "attach: container is frozen; thaw it first");
	if (c->snap)
		return refuse(c, EBUSY, "attach: a post-dump snapshot is held; release it first");
	pid = strtol(arg, &end, 10);
	if (!*arg || *end || pid <= 0 || pid > 4194304)
		return refuse(c, EINVAL, "attach: '%s' is not a pid", arg);
	if (pid == getpid())
		return refuse(c, EINVAL, "attach: cannot checkpoint the crfs daemon");
	if (kh_task_gone(pid) && !kh_zombie_leader(pid))
		return refuse(c, ESRCH, "attach: no process %ld", pid);
	track_end(c);	/* another tree */
	c->root = pid;
	c->state = C_RUNNING;
	free(c->pids);
	c->pids = NULL;
	c->npids = 0;
	return 0;
}

/* the pages were protected anew for a base that is not there */
static void track_failed(struct container *c)
{
	if (!c->track)
		return;
	track_end(c);
	strncat(c->error, " (dirty tracking ended)",
		sizeof(c->error) - strlen(c->error) - 1);
}

static int cmd_freeze(struct container *c)
{
	int ret;

	container_refresh(c);
	if (c->state == C_FROZEN)
		return 0;
	ret = container_need_tree(c, "freeze");
	if (ret)
		return ret;
	if (c->snap)
		return refuse(c, EBUSY, "freeze: a post-dump snapshot is held; release it first");
	ret = freeze_tree(c);
	if (ret) {
		track_failed(c);
		container_refresh(c);
		return ret;
	}
	c->state = C_FROZEN;
	c->gen++;
	if (track_rebase(c)) {
		track_end(c);
		return refuse(c, ENOMEM, "freeze: out of memory for dirty tracking (tracking ended)");
	}
	return 0;
}

/* dirty tracking from this freeze on (track.c) */
static int cmd_track(struct container *c)
{
	if (c->track)
		return refuse(c, EBUSY, "track: already tracking (since freeze %s)",
			      c->track->base_id);
	if (c->state != C_FROZEN || !c->snap)
		return refuse(c, EINVAL, "track: container is %s; freeze it first",
			      state_names[c->state]);
	return track_start(c);
}

static int cmd_untrack(struct container *c)
{
	if (!c->track)
		return refuse(c, EINVAL, "untrack: not tracking");
	track_end(c);
	return 0;
}

/* the next freeze is incremental, its image naming its parent by path */
static int cmd_parent(struct container *c, const char *path)
{
	if (!c->track)
		return refuse(c, EINVAL, "parent: not tracking; write 'track' on the frozen container first");
	if (c->state == C_FROZEN)
		return refuse(c, EBUSY, "parent: container is frozen; thaw it first");
	if (path[0] == '/' || strlen(path) > 1024)
		return refuse(c, EINVAL, "parent: '%s' must be a path relative to the new image",
			      path);
	free(c->track->parent);
	c->track->parent = strdup(path);
	return c->track->parent ? 0 : -ENOMEM;
}

long container_now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000L + t.tv_nsec / 1000;
}

/*
 * Post-dump: freeze, leave a copy-on-write twin of every process, and let
 * the tree run on while the snapshot is copied (postdump.c).
 */
int container_snapshot(struct container *c)
{
	long t0 = container_now_us();
	int ret;

	container_refresh(c);
	if (c->snap)
		return refuse(c, EBUSY, "snapshot: a snapshot is held; release it (or thaw) first");
	ret = container_need_tree(c, "snapshot");
	if (ret)
		return ret;
	ret = freeze_tree(c);
	if (ret) {
		track_failed(c);
		container_refresh(c);
		return ret;
	}
	ret = postdump_take(c);
	if (ret) {
		thaw_tree(c);
		track_failed(c);
		return ret;
	}
	/* pre-copy: tracked from this instant, the twins hold the base */
	ret = track_rebase(c);
	resume_tree(c);
	if (ret) {
		track_end(c);
		return refuse(c, ENOMEM, "snapshot: out of memory for dirty tracking (tracking ended)");
	}
	c->frozen_us = container_now_us() - t0;
	c->gen++;
	return 0;
}

static int cmd_release(struct container *c)
{
	if (!c->snap || !c->snap->postdump)
		return refuse(c, EINVAL, "release: no post-dump snapshot is held");
	snapshot_free(c->snap);
	c->snap = NULL;
	c->gen++;
	container_refresh(c);
	return 0;
}

static int cmd_thaw(struct container *c)
{
	if (c->state != C_FROZEN)
		return refuse(c, EINVAL, "thaw: container is %s, not frozen",
			      state_names[c->state]);
	thaw_tree(c);
	c->state = C_RUNNING;
	c->gen++;
	container_refresh(c);
	return 0;
}

static int cmd_kill(struct container *c)
{
	if (c->state == C_EMPTY)
		return refuse(c, ENOENT, "kill: nothing attached");
	if (c->state == C_FROZEN)
		c->gen++;
	kill_tree(c);
	track_end(c);
	c->state = C_DEAD;
	return 0;
}

int container_command(struct container *c, const char *cmd)
{
	char buf[128], *arg;
	size_t n = strcspn(cmd, "\n");

	if (n >= sizeof(buf) || (cmd[n] && cmd[n + 1]))
		return refuse(c, EINVAL, "one command per write");
	memcpy(buf, cmd, n);
	buf[n] = '\0';
	arg = strchr(buf, ' ');
	if (arg)
		*arg++ = '\0';
	c->error[0] = '\0';
	c->changed = time(NULL);
	if (!strcmp(buf, "attach") && arg)
		return cmd_attach(c, arg);
	if (!strcmp(buf, "external") && arg && !strcmp(arg, "unix")) {
		c->ext_unix = true;
		return 0;
	}
	if (!strcmp(buf, "parent") && arg)
		return cmd_parent(c, arg);
	if (!strcmp(buf, "compress") && arg &&
	    (!strcmp(arg, "zstd") || !strcmp(arg, "none"))) {
		c->zstd = !strcmp(arg, "zstd");
		return 0;
	}
	if (arg)
		return refuse(c, EINVAL, "'%s' takes no argument", buf);
	if (!strcmp(buf, "track"))
		return cmd_track(c);
	if (!strcmp(buf, "untrack"))
		return cmd_untrack(c);
	if (!strcmp(buf, "freeze"))
		return cmd_freeze(c);
	if (!strcmp(buf, "thaw"))
		return cmd_thaw(c);
	if (!strcmp(buf, "snapshot"))
		return container_snapshot(c);
	if (!strcmp(buf, "release"))
		return cmd_release(c);
	if (!strcmp(buf, "predump"))
		return container_predump(c);
	if (!strcmp(buf, "kill"))
		return cmd_kill(c);
	return refuse(c, EINVAL, "unknown command '%s' (attach PID, external unix, compress zstd|none, freeze, thaw, snapshot, predump, release, kill, track, untrack, parent PATH)",
		      buf);
}

char *container_render_ctl(struct container *c, size_t *len)
{
	struct strbuf sb;

	container_refresh(c);
	sb_init(&sb);
	sb_printf(&sb, "%s\n", state_names[c->state]);
	if (c->state != C_EMPTY)
		sb_printf(&sb, "root %d\n", c->root);
	if (c->ext_unix)
		sb_printf(&sb, "external unix\n");
	if (c->track)
		sb_printf(&sb, "tracking %s depth %d\n", c->track->base_id,
			  c->track->depth);
	if (c->track && c->track->parent)
		sb_printf(&sb, "parent %s\n", c->track->parent);
	if (c->zstd)
		sb_printf(&sb, "compress zstd\n");
	if (c->snap) {
		sb_printf(&sb, "freeze_id %s\n", c->snap->freeze_id);
		if (c->snap->predump)
			sb_printf(&sb, "predump frozen_us %ld\n", c->frozen_us);
		else if (c->snap->postdump)
			sb_printf(&sb, "postdump frozen_us %ld cow_kb %ld\n",
				  c->frozen_us, postdump_cost_kb(c->snap));
		if (c->snap->unsupported.len)
			sb_printf(&sb, "%s", c->snap->unsupported.buf);
	}
	if (c->error[0])
		sb_printf(&sb, "error %s\n", c->error);
	return sb_steal(&sb, len);
}
