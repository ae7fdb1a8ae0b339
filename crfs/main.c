// SPDX-License-Identifier: MIT
/*
 * crfs [-f] [-d] MNT: mount the checkpoint/restart filesystem.
 *
 * The loop is single-threaded on purpose: ptrace belongs to the thread
 * that seized a task, so every freeze, capture and thaw must happen on one
 * long-lived thread.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <sys/sysmacros.h>

#include "container.h"
#include "kh.h"
#include "fs.h"
#include "loop.h"
#include "watchdog.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: crfs [-f] [-d] MOUNTPOINT | --version | --help\n"
		   "  -f  stay in the foreground\n"
		   "  -d  debug: foreground, log every FUSE request\n");
}

/* mountinfo's octal escapes (\040 for a blank), in place */
static void mi_unescape(char *s)
{
	char *o = s;

	for (; *s; s++, o++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] && s[3]) {
			*o = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 |
				    (s[3] - '0'));
			s += 3;
		} else {
			*o = *s;
		}
	}
	*o = '\0';
}

/* the absolute path of mnt, resolved through its (live) parent */
static int mount_path(const char *mnt, char *out, size_t len)
{
	char buf[PATH_MAX], dir[PATH_MAX], *slash;

	snprintf(buf, sizeof(buf), "%s", mnt);
	while (strlen(buf) > 1 && buf[strlen(buf) - 1] == '/')
		buf[strlen(buf) - 1] = '\0';
	slash = strrchr(buf, '/');
	if (!realpath(slash == buf ? "/" : slash ? (*slash = '\0', buf) : ".",
		      dir))
		return -1;
	snprintf(out, len, "%s/%s", strcmp(dir, "/") ? dir : "",
		 slash ? slash + 1 : buf);
	return 0;
}

/* the mount on top at mnt is one of ours (fuse.crfs) */
static bool is_crfs_mount(const char *mnt)
{
	char path[PATH_MAX], point[PATH_MAX], type[256], *line = NULL, *dash;
	bool ours = false;
	size_t cap = 0;
	FILE *f;

	if (mount_path(mnt, path, sizeof(path)))
		return false;
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return false;
	while (getline(&line, &cap, f) > 0) {
		dash = strstr(line, " - ");
		if (!dash || sscanf(line, "%*s %*s %*s %*s %4095s", point) != 1 ||
		    sscanf(dash, " - %255s", type) != 1)
			continue;
		mi_unescape(point);
		if (!strcmp(point, path))
			ours = !strcmp(type, "fuse.crfs");
	}
	free(line);
	fclose(f);
	return ours;
}

/*
 * A daemon that was killed leaves its mount behind, answering ENOTCONN:
 * a crfs mount there is detached so that a new daemon mounts cleanly.
 * Anything else at the mount point is left to fuse_mount to refuse.
 */
static int drop_dead_mount(const char *mnt)
{
	struct statfs st;

	/* statfs always asks the daemon; stat may answer from a cache */
	if (!statfs(mnt, &st) || errno != ENOTCONN)
		return 0;
	if (!is_crfs_mount(mnt)) {
		fprintf(stderr, "crfs: %s: not connected, and not a crfs mount: unmount it first\n",
			mnt);
		return -1;
	}
	if (umount2(mnt, MNT_DETACH)) {
		fprintf(stderr, "crfs: %s: cannot detach the dead mount: %m\n",
			mnt);
		return -1;
	}
	fprintf(stderr, "crfs: %s: detached the mount of a daemon that died\n",
		mnt);
	return 0;
}

/*
 * Our mount's device, from mountinfo (a stat of it would ask us): a
 * process's descriptor on it (its ctl, while it asks for its own snapshot)
 * is described without asking us.
 */
static void own_dev(const char *real)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[4096], path[4096];
	unsigned int maj, min;

	while (real && f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%*d %*d %u:%u %*s %4095s", &maj, &min,
			   path) == 3 && (mi_unescape(path), !strcmp(path, real)))
			kh_fds_own_dev(makedev(maj, min));
	if (f)
		fclose(f);
}

int main(int argc, char **argv)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct registry registry = { .changed = time(NULL) };
	const char *mnt = NULL;
	int i, fg = 0, debug = 0, ret = 1;
	struct fuse *fuse;
	char *real = NULL;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-f"))
			fg = 1;
		else if (!strcmp(argv[i], "-d"))
			fg = debug = 1;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version")) {
			printf("crfs %s\n", CRFS_VERSION);
			return 0;
		} else if (argv[i][0] != '-' && !mnt)
			mnt = argv[i];
		else {
			usage(stderr);
			return 2;
		}
	}
	if (!mnt) {
		usage(stderr);
		return 2;
	}
	if (geteuid()) {
		fprintf(stderr, "crfs: must run as root (ptrace of any process)\n");
		return 1;
	}
	if (drop_dead_mount(mnt))
		return 1;
	fuse_opt_add_arg(&args, argv[0]);
	fuse_opt_add_arg(&args, "-ofsname=crfs,subtype=crfs,default_permissions");
	if (debug)
		fuse_opt_add_arg(&args, "-odebug");
	/* before the mount: resolving the path after it would ask us */
	real = realpath(mnt, NULL);
	fuse = fuse_new(&args, &crfs_ops, sizeof(crfs_ops), &registry);
	if (!fuse)
		goto out_args;
	if (fuse_mount(fuse, mnt)) {
		fprintf(stderr, "crfs: cannot mount on %s\n", mnt);
		goto out_destroy;
	}
	own_dev(real);
	/* the mount is live before the caller gets its prompt back */
	if (fuse_daemonize(fg))
		goto out_unmount;
	/* our child, reaped when we end; without it only a daemon killed
	 * while frozen would leave its TCP connections locked */
	if (watchdog_start())
		fprintf(stderr, "crfs: cannot start the watchdog process: %m (running without)\n");
	if (fuse_set_signal_handlers(fuse_get_session(fuse)))
		goto out_unmount;
	ret = crfs_loop(fuse, &registry) ? 1 : 0;
	fuse_remove_signal_handlers(fuse_get_session(fuse));
out_unmount:
	fuse_unmount(fuse);
out_destroy:
	fuse_destroy(fuse);
	watchdog_stop();
out_args:
	fuse_opt_free_args(&args);
	free(real);
	return ret;
}
