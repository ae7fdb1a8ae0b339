// SPDX-License-Identifier: MIT
/*
 * /proc/sys/net as the calling thread's network namespace shows it: every
 * file that reads (write-only ones such as route/flush do not).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crfs/array.h"
#include "kh.h"
#include "kh_ns.h"

#define SYS	"/proc/sys/"

struct walk {
	struct kh_sysctl *v;
	size_t n;
};

static int add_value(struct walk *w, const char *key, int fd)
{
	char buf[4096];
	ssize_t len = read(fd, buf, sizeof(buf) - 1);
	struct kh_sysctl *s;

	if (len < 0 || len == sizeof(buf) - 1)
		return 0;	/* unreadable here (stable_secret unset) */
	while (len && buf[len - 1] == '\n')
		len--;
	buf[len] = '\0';
	s = array_room(w->v, w->n, sizeof(*s));
	if (!s)
		return -ENOMEM;
	w->v = s;
	s[w->n].key = strdup(key);
	s[w->n].value = strdup(buf);
	if (!s[w->n].key || !s[w->n].value) {
		free(s[w->n].key);
		free(s[w->n].value);
		return -ENOMEM;
	}
	w->n++;
	return 0;
}

static int walk_dir(struct walk *w, const char *key)
{
	char path[512], sub[512];
	struct dirent *e;
	int ret = 0, fd;
	DIR *d;

	snprintf(path, sizeof(path), SYS "%s", key);
	d = opendir(path);
	if (!d)
		return -errno;
	while (!ret && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", key, e->d_name);
		if (e->d_type == DT_DIR) {
			ret = walk_dir(w, sub);
			continue;
		}
		snprintf(path, sizeof(path), SYS "%s", sub);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ret = add_value(w, sub, fd);
		close(fd);
	}
	closedir(d);
	return ret;
}

static int by_key(const void *a, const void *b)
{
	return strcmp(((const struct kh_sysctl *)a)->key,
		      ((const struct kh_sysctl *)b)->key);
}

int kh_sysctl_net(struct kh_sysctl **out, size_t *n)
{
	struct walk w = { NULL, 0 };
	int ret = walk_dir(&w, "net");

	if (ret) {
		kh_sysctl_free(w.v, w.n);
		return ret;
	}
	if (w.n)
		qsort(w.v, w.n, sizeof(*w.v), by_key);
	*out = w.v;
	*n = w.n;
	return 0;
}

void kh_sysctl_free(struct kh_sysctl *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(s[i].key);
		free(s[i].value);
	}
	free(s);
}

int kh_sysctl_write(const char *key, const char *value)
{
	char path[512];

	snprintf(path, sizeof(path), SYS "%s", key);
	return kh_write_file(path, value);
}
