// SPDX-License-Identifier: MIT
/*
 * crfs [-f] [-d] MNT: mount the checkpoint/restart filesystem.
 *
 * The loop is single-threaded on purpose: ptrace belongs to the thread
 * that seized a task, so every freeze, capture and thaw must happen on one
 * long-lived thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/sysmacros.h>

#include "container.h"
#include "kh.h"
#include "fs.h"
#include "loop.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: crfs [-f] [-d] MOUNTPOINT\n"
		   "  -f  stay in the foreground\n"
		   "  -d  debug: foreground, log every FUSE request\n");
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
			   path) == 3 && !strcmp(path, real))
			kh_fds_own_dev(makedev(maj, min));
	if (f)
		fclose(f);
}

int main(int argc, char **argv)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct registry registry = { 0 };
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
	if (fuse_set_signal_handlers(fuse_get_session(fuse)))
		goto out_unmount;
	ret = crfs_loop(fuse, &registry) ? 1 : 0;
	fuse_remove_signal_handlers(fuse_get_session(fuse));
out_unmount:
	fuse_unmount(fuse);
out_destroy:
	fuse_destroy(fuse);
out_args:
	fuse_opt_free_args(&args);
	free(real);
	return ret;
}
