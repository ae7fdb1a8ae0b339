/* SPDX-License-Identifier: MIT */
/*
 * The whole descriptor table as the process sees it, and every epoll
 * interest of it as the kernel lists it (/proc/self/fdinfo): taken before
 * the checkpoint and compared after the restore, it finds a descriptor the
 * restore left behind (a helper's fd, a pipe of crfs-restore's) and an
 * interest registered on a file no descriptor of ours holds, which the
 * workload's own checks may not touch.  An interest's file is named by
 * the set of our fd numbers that hold the same inode (anonymous inodes
 * are shared by every eventfd, epoll, timerfd...: the set is then all of
 * them, the same before and after).  Each descriptor's flags (F_GETFL,
 * F_GETFD) and, for one with a path, the path /proc shows must be the
 * same too.
 */
#ifndef WL_FDTABLE_H
#define WL_FDTABLE_H

#include <dirent.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "wl_common.h"

#define WL_FDT_MAX 256		/* fd numbers tracked */
#define WL_FDT_ITEMS 64		/* epoll interests tracked */

struct wl_fdt_item {
	int epfd, tfd;
	unsigned events;
	unsigned long long data;
	uint64_t holders[WL_FDT_MAX / 64];	/* our fds on its inode */
};

struct wl_fdtable {
	uint64_t open[WL_FDT_MAX / 64];
	struct stat st[WL_FDT_MAX];
	int fl[WL_FDT_MAX], fd_fl[WL_FDT_MAX];
	char path[WL_FDT_MAX][80];	/* the link's target if a path */
	struct wl_fdt_item items[WL_FDT_ITEMS];
	int nitems;
};

static inline void wl_fdt_set(uint64_t *m, int fd)
{
	m[fd / 64] |= 1ULL << (fd % 64);
}

static inline bool wl_fdt_has(const uint64_t *m, int fd)
{
	return m[fd / 64] >> (fd % 64) & 1;
}

/* the interests of epoll fd ep, from its fdinfo */
static inline void wl_fdt_epoll(struct wl_fdtable *t, int ep)
{
	char path[64], line[256];
	unsigned long long ino, sdev;
	struct wl_fdt_item *it;
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", ep);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && t->nitems < WL_FDT_ITEMS) {
		it = &t->items[t->nitems];
		memset(it, 0, sizeof(*it));
		if (sscanf(line, "tfd: %d events: %x data: %llx pos:%*s ino:%llx sdev:%llx",
			   &it->tfd, &it->events, &it->data, &ino, &sdev) != 5)
			continue;
		it->epfd = ep;
		/* fdinfo's sdev is the kernel's dev_t: major << 20 | minor */
		for (fd = 0; fd < WL_FDT_MAX; fd++)
			if (wl_fdt_has(t->open, fd) && t->st[fd].st_ino == ino &&
			    t->st[fd].st_dev == makedev(sdev >> 20, sdev & 0xfffff))
				wl_fdt_set(it->holders, fd);
		t->nitems++;
	}
	fclose(f);
}

static inline void wl_fdt_take(struct wl_fdtable *t)
{
	char link[64], to[80];
	struct dirent *e;
	DIR *d;
	int fd;

	memset(t, 0, sizeof(*t));
	d = opendir("/proc/self/fd");
	if (!d)
		wl_die("opendir /proc/self/fd");
	while ((e = readdir(d))) {
		fd = atoi(e->d_name);
		if (e->d_name[0] == '.' || fd == dirfd(d) || fd >= WL_FDT_MAX)
			continue;
		if (fstat(fd, &t->st[fd]) == 0)
			wl_fdt_set(t->open, fd);
	}
	closedir(d);
	for (fd = 0; fd < WL_FDT_MAX; fd++) {
		ssize_t n;

		if (!wl_fdt_has(t->open, fd))
			continue;
		t->fl[fd] = fcntl(fd, F_GETFL);
		t->fd_fl[fd] = fcntl(fd, F_GETFD);
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, to, sizeof(to) - 1);
		if (n <= 0)
			continue;
		to[n] = 0;
		if (to[0] == '/')
			snprintf(t->path[fd], sizeof(t->path[fd]), "%s", to);
		/* an O_TMPFILE file's name is its inode number, a new one */
		{
			char *h = strrchr(t->path[fd], '/');

			if (h && h[1] == '#')
				snprintf(h + 2, sizeof(t->path[fd]) - (h + 2 - t->path[fd]),
					 "INO (deleted)");
		}
		if (!strcmp(to, "anon_inode:[eventpoll]"))
			wl_fdt_epoll(t, fd);
	}
}

static const struct wl_fdt_item *wl_fdt_find(const struct wl_fdtable *t,
					     const struct wl_fdt_item *x)
{
	int i;

	const struct wl_fdt_item *any = NULL;

	/* several interests may name one fd number (files dup'ed and closed
	 * since): the one with the same data, if there is one */
	for (i = 0; i < t->nitems; i++) {
		if (t->items[i].epfd != x->epfd || t->items[i].tfd != x->tfd)
			continue;
		if (t->items[i].data == x->data)
			return &t->items[i];
		any = any ? any : &t->items[i];
	}
	return any;
}

/* CHECK: the table and the interests now are those of *before */
static inline void wl_fdt_compare(const char *check,
				  const struct wl_fdtable *before)
{
	static struct wl_fdtable now;
	const struct wl_fdt_item *x, *y;
	int fd, i;

	wl_fdt_take(&now);
	for (fd = 0; fd < WL_FDT_MAX; fd++)
		if (wl_fdt_has(before->open, fd) != wl_fdt_has(now.open, fd))
			wl_fail(check, "fd %d %s", fd,
				wl_fdt_has(now.open, fd) ? "appeared" : "is gone");
		else if (wl_fdt_has(now.open, fd) &&
			 (now.fl[fd] != before->fl[fd] ||
			  now.fd_fl[fd] != before->fd_fl[fd]))
			wl_fail(check, "fd %d: flags %#o (fd flags %d), were %#o (%d)",
				fd, now.fl[fd], now.fd_fl[fd], before->fl[fd],
				before->fd_fl[fd]);
		else if (wl_fdt_has(now.open, fd) &&
			 strcmp(now.path[fd], before->path[fd]))
			wl_fail(check, "fd %d is '%s', was '%s'", fd,
				now.path[fd], before->path[fd]);
	if (now.nitems != before->nitems)
		wl_fail(check, "%d epoll interests, were %d", now.nitems,
			before->nitems);
	for (i = 0; i < before->nitems; i++) {
		x = &before->items[i];
		y = wl_fdt_find(&now, x);
		if (!y) {
			wl_fail(check, "epoll fd %d: the interest of fd %d is gone",
				x->epfd, x->tfd);
			continue;
		}
		if (y->events != x->events || y->data != x->data)
			wl_fail(check, "epoll fd %d: the interest of fd %d: events %x data %llx, were %x %llx",
				x->epfd, x->tfd, y->events, y->data, x->events,
				x->data);
		if (memcmp(y->holders, x->holders, sizeof(x->holders)))
			wl_fail(check, "epoll fd %d: the interest of fd %d is on a file held by fds %llx, was %llx (fds 0-63)",
				x->epfd, x->tfd,
				(unsigned long long)y->holders[0],
				(unsigned long long)x->holders[0]);
	}
}

/* CHECK passes if the table and interests now are those of *before */
static inline void wl_fdt_check(const char *check,
				const struct wl_fdtable *before)
{
	int m = wl_mark();

	wl_fdt_compare(check, before);
	wl_verdict(check, m);
}

#endif
