// SPDX-License-Identifier: MIT
/*
 * wl_privmap DIR: private mappings of objects that have no name any more:
 *	a memfd still open, mapped privately twice (the second at an offset),
 *	a memfd held by nothing but its private mapping,
 *	a file deleted since, held by nothing but its private mapping,
 *	a file deleted since, still open and mapped privately.
 * Some pages are written (copied on write), some only read, some never
 * touched.  READY; on SIGUSR1 it checks each mapping's contents, its line
 * in /proc/self/maps (path with "(deleted)", offset), that pages never
 * written still follow the file while written ones do not, and that a new
 * shared mapping (and read) of a descriptor sees the file, not the copies.
 *
 * wl_privmap DIR sealable: a memfd that allows sealing, mapped privately,
 * which crfs refuses; after the refused freeze and a thaw it checks that
 * the mapping and the seals are untouched.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdbool.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "wl_common.h"

#define PAGE 4096UL

struct obj {
	const char *name;	/* for messages */
	int npages;		/* the object's size */
	uint64_t seed;		/* its pages: seed + page */
	int fd;			/* -1 once closed */
	char *map;		/* private, the whole object */
	char path[4096];	/* what maps must show */
};

static struct obj objs[4] = {
	{ "memfd", 8, 100, -1, NULL, "" },
	{ "memfd_only", 3, 200, -1, NULL, "" },
	{ "deleted", 5, 300, -1, NULL, "" },
	{ "deleted_open", 4, 400, -1, NULL, "" },
};
static char *memfd_at2;		/* objs[0] again, from page 2, 4 pages */
static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

/* written pages (copied on write) get a pattern of their own */
static bool written(int obj, int page)
{
	return (page + obj) % 3 == 1;
}

static uint64_t cow_seed(int obj, int page)
{
	return 1000 + obj * 100 + page;
}

static void fill_fd(struct obj *o)
{
	char buf[PAGE];
	int i;

	for (i = 0; i < o->npages; i++) {
		wl_fill(buf, PAGE, o->seed + i);
		if (pwrite(o->fd, buf, PAGE, i * PAGE) != (ssize_t)PAGE)
			wl_die("write %s", o->name);
	}
}

static void set_up(int k, const char *dir)
{
	struct obj *o = &objs[k];
	volatile uint64_t sink;
	int i;

	if (k < 2) {
		o->fd = memfd_create(k ? "wl_only" : "wl_priv", MFD_CLOEXEC);
		snprintf(o->path, sizeof(o->path), "/memfd:%s (deleted)",
			 k ? "wl_only" : "wl_priv");
	} else {
		snprintf(o->path, sizeof(o->path), "%s/%s", dir, o->name);
		o->fd = open(o->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
			     0600);
		if (o->fd >= 0 && unlink(o->path))
			wl_die("unlink %s", o->path);
		strcat(o->path, " (deleted)");
	}
	if (o->fd < 0)
		wl_die("create %s", o->name);
	fill_fd(o);
	o->map = mmap(NULL, o->npages * PAGE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE, o->fd, 0);
	if (o->map == MAP_FAILED)
		wl_die("mmap %s", o->name);
	for (i = 0; i < o->npages; i++)
		if (written(k, i))
			wl_fill(o->map + i * PAGE, PAGE, cow_seed(k, i));
		else if (i % 2)
			sink = *(uint64_t *)(o->map + i * PAGE);	/* read */
	(void)sink;
	if (k == 0) {
		memfd_at2 = mmap(NULL, 4 * PAGE, PROT_READ, MAP_PRIVATE, o->fd,
				 2 * PAGE);
		if (memfd_at2 == MAP_FAILED)
			wl_die("mmap at an offset");
	}
	/* only the mapping holds these */
	if (k == 1 || k == 2) {
		close(o->fd);
		o->fd = -1;
	}
}

static void check_contents(int k)
{
	struct obj *o = &objs[k];
	char name[64];
	size_t off;
	int i, mark = wl_mark();

	snprintf(name, sizeof(name), "contents.%s", o->name);
	for (i = 0; i < o->npages; i++) {
		uint64_t seed = written(k, i) ? cow_seed(k, i) : o->seed + i;

		off = wl_check(o->map + i * PAGE, PAGE, seed);
		if (off != (size_t)-1)
			wl_fail(name, "page %d (%s) differs at %zu", i,
				written(k, i) ? "written" : "file's", off);
	}
	if (k == 0 && wl_check(memfd_at2, PAGE, o->seed + 2) != (size_t)-1)
		wl_fail(name, "the mapping at offset 2 pages reads wrong");
	wl_verdict(name, mark);
}

/* the line of /proc/self/maps at addr */
static bool maps_line(const void *addr, unsigned long *off, char *path,
		      size_t len)
{
	char line[4096 + 256];
	unsigned long s, e;
	int at;
	FILE *f = fopen("/proc/self/maps", "r");
	bool found = false;

	while (f && !found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %*s %lx %*s %*u %n", &s, &e, off,
			   &at) != 3 || (unsigned long)addr < s ||
		    (unsigned long)addr >= e)
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(path, len, "%s", line + at);
		found = true;
	}
	if (f)
		fclose(f);
	return found;
}

static void check_maps(int k)
{
	struct obj *o = &objs[k];
	char name[64], path[4096];
	unsigned long off;

	snprintf(name, sizeof(name), "maps.%s", o->name);
	if (!maps_line(o->map, &off, path, sizeof(path)))
		wl_fail(name, "no mapping at %p", o->map);
	else if (off || strcmp(path, o->path))
		wl_fail(name, "offset %#lx path '%s', want 0x0 '%s'", off, path,
			o->path);
	else if (k == 0 && (!maps_line(memfd_at2, &off, path, sizeof(path)) ||
			    off != 2 * PAGE || strcmp(path, o->path)))
		wl_fail(name, "the second mapping: offset %#lx path '%s'", off,
			path);
	else
		wl_pass(name);
}

/*
 * Through its descriptor the file is the file: reads and a new shared
 * mapping see its bytes, not the private copies; a change to it shows in
 * the private mapping's unwritten pages and not in the written ones.
 */
static void check_object(int k)
{
	struct obj *o = &objs[k];
	char name[64], buf[PAGE], *shared;
	int cow = -1, plain = -1, i, mark = wl_mark();

	snprintf(name, sizeof(name), "object.%s", o->name);
	shared = mmap(NULL, o->npages * PAGE, PROT_READ | PROT_WRITE,
		      MAP_SHARED, o->fd, 0);
	if (shared == MAP_FAILED)
		wl_die("shared mmap of %s", o->name);
	for (i = 0; i < o->npages; i++) {
		if (pread(o->fd, buf, PAGE, i * PAGE) != (ssize_t)PAGE ||
		    wl_check(buf, PAGE, o->seed + i) != (size_t)-1)
			wl_fail(name, "page %d of the file reads wrong", i);
		if (wl_check(shared + i * PAGE, PAGE, o->seed + i) != (size_t)-1)
			wl_fail(name, "page %d of a new shared mapping reads wrong",
				i);
		if (written(k, i))
			cow = i;
		else
			plain = i;
	}
	/* change the file under both kinds of page */
	wl_fill(shared + cow * PAGE, PAGE, 7777);
	wl_fill(shared + plain * PAGE, PAGE, 8888);
	if (wl_check(o->map + cow * PAGE, PAGE, cow_seed(k, cow)) != (size_t)-1)
		wl_fail(name, "a written page %d followed the file", cow);
	if (wl_check(o->map + plain * PAGE, PAGE, 8888) != (size_t)-1)
		wl_fail(name, "an unwritten page %d did not follow the file",
			plain);
	munmap(shared, o->npages * PAGE);
	wl_verdict(name, mark);
}

static int sealable(void)
{
	int fd = memfd_create("wl_seal", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	char *p;

	if (fd < 0 || ftruncate(fd, PAGE) ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK))
		wl_die("sealable memfd");
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		wl_die("mmap sealable");
	wl_fill(p, PAGE, 42);
	wl_ready();
	while (!go)
		pause();
	if (wl_check(p, PAGE, 42) != (size_t)-1 ||
	    fcntl(fd, F_GET_SEALS) != F_SEAL_SHRINK)
		wl_fail("sealable", "seals %#x or contents changed",
			fcntl(fd, F_GET_SEALS));
	else
		wl_pass("sealable");
	return wl_done();
}

int main(int argc, char **argv)
{
	int k;

	if (argc == 3 && !strcmp(argv[2], "sealable")) {
		signal(SIGUSR1, on_usr1);
		wl_own_session();
		return sealable();
	}
	if (argc != 2)
		wl_die("usage: wl_privmap DIR [sealable]");
	wl_own_session();
	signal(SIGUSR1, on_usr1);
	for (k = 0; k < 4; k++)
		set_up(k, argv[1]);
	wl_ready();
	while (!go)
		pause();
	for (k = 0; k < 4; k++) {
		check_contents(k);
		check_maps(k);
	}
	check_object(0);
	check_object(3);
	return wl_done();
}
