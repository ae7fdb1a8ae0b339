// SPDX-License-Identifier: MIT
/*
 * wl_deletedexe: run from a copy of itself that the test then deletes (a
 * program upgraded while it runs).  On SIGUSR1 it checks that
 * /proc/self/exe names the deleted file as before (or, with the argument
 * "taken", the name beside it restore had to use), has its mode and its
 * bytes, and that its text mapping still names it; then it exits.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>

#include "wl_common.h"
#include "wl_fdtable.h"

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static uint64_t hash_exe(void)
{
	static char buf[1 << 16];
	uint64_t h = 0;
	ssize_t n;
	int fd = open("/proc/self/exe", O_RDONLY);

	if (fd < 0)
		return 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		h = h * 31 + wl_fnv(buf, n);
	close(fd);
	return h;
}

static int maps_name(const char *want)
{
	char line[PATH_MAX + 128];
	FILE *f = fopen("/proc/self/maps", "r");
	int found = 0;

	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, " r-xp ") && strstr(line, want))
			found = 1;
	if (f)
		fclose(f);
	return found;
}

/* the descriptor table at READY (wl_fdtable.h) */
static struct wl_fdtable fdt0;

int main(int argc, char **argv)
{
	char exe[PATH_MAX], now[PATH_MAX], want[PATH_MAX + 32];
	uint64_t h0, h1;
	struct stat st0, st1;
	ssize_t n;

	wl_own_session();
	signal(SIGUSR1, on_usr1);
	h0 = hash_exe();
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0 || !h0 || stat("/proc/self/exe", &st0))
		wl_die("own executable");
	exe[n] = 0;
	wl_fdt_take(&fdt0);
	wl_ready();
	while (!go)
		pause();
wl_fdt_check("deletedexe.fd_table", &fdt0);

	n = readlink("/proc/self/exe", now, sizeof(now) - 1);
	now[n < 0 ? 0 : n] = 0;
	/* the test deleted it after READY: now it must say so */
	if (argc > 1 && !strcmp(argv[1], "taken"))
		snprintf(want, sizeof(want), "%s.crfs-ghost.0 (deleted)", exe);
	else
		snprintf(want, sizeof(want), "%s (deleted)", exe);
	if (strcmp(now, want))
		wl_fail("exe.name", "'%s', want '%s'", now, want);
	else
		wl_pass("exe.name");
	if (stat("/proc/self/exe", &st1) ||
	    (st1.st_mode & 07777) != (st0.st_mode & 07777) ||
	    st1.st_size != st0.st_size)
		wl_fail("exe.mode", "mode %o size %ld, was %o %ld",
			st1.st_mode & 07777, (long)st1.st_size,
			st0.st_mode & 07777, (long)st0.st_size);
	else
		wl_pass("exe.mode");
	h1 = hash_exe();
	if (h1 != h0)
		wl_fail("exe.bytes", "hash %#lx, was %#lx", h1, h0);
	else
		wl_pass("exe.bytes");
	if (!maps_name(exe))
		wl_fail("exe.maps", "no r-xp mapping names %s", exe);
	else
		wl_pass("exe.maps");
	return wl_done();
}
