// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for what crfs-restore reads before it acts: the input
 * replaces one file of a real checkpoint, and crfs-restore's own loaders
 * run on that checkpoint as main() runs them first (image_load, with every
 * parser, the pages against their index and the tree checks; mnt_check;
 * vm_share_check; the message lists of fdata/ID.msgs).  Each of those only
 * reads; nothing is restored.
 *
 * The checkpoints are FUZZ_IMAGES/NAME/ (tests/fuzz/mkimage.sh makes them).
 * Input: one byte picks the checkpoint, one the file of its manifest (one
 * past the last: `image` itself; two past: a `mounts` file added), the
 * rest is the file.  The manifest line
 * of the file and the image's own checksum are made to fit (as
 * tests/e2e/reseal.py does), so the parsers see the bytes, not only the
 * checksum check.  The work copy is a tree of symlinks to the checkpoint's
 * files (the loaders stat() and open() through them), the replaced file a
 * real one, put back after each run.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "crfs/mounts.h"
#include "../../restore/files.h"
#include "../../restore/image.h"
#include "../../restore/mounts.h"
#include "../../restore/restore.h"

struct ckpt {
	char base[PATH_MAX];	/* the checkpoint */
	char work[PATH_MAX];	/* symlinks to it */
	char *text;		/* its image file */
	size_t len;
	char **files;		/* the manifest's paths, as written */
	size_t nfiles;
};

static struct ckpt *ckpts;
static size_t nckpts;

static void die(const char *what, const char *path)
{
	fprintf(stderr, "fuzz_restore: %s %s: %s\n", what, path,
		strerror(errno));
	exit(2);
}

static char *slurp(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st))
		die("read", path);
	buf = malloc(st.st_size + 1);
	if (!buf || read(fd, buf, st.st_size) != st.st_size)
		die("read", path);
	buf[st.st_size] = '\0';
	close(fd);
	*len = st.st_size;
	return buf;
}

static void spit(const char *path, const void *buf, size_t len)
{
	int fd;

	if (unlink(path) && errno != ENOENT)
		die("unlink", path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || (len && write(fd, buf, len) != (ssize_t)len))
		die("write", path);
	close(fd);
}

/* work/rel points at base/rel again */
static void relink(const struct ckpt *c, const char *rel)
{
	char from[PATH_MAX * 2], to[PATH_MAX * 2];

	snprintf(from, sizeof(from), "%s/%s", c->base, rel);
	snprintf(to, sizeof(to), "%s/%s", c->work, rel);
	if ((unlink(to) && errno != ENOENT) || symlink(from, to))
		die("symlink", to);
}

/* the directories of base again under work, every file a symlink */
static void mirror(const struct ckpt *c, const char *rel)
{
	char path[PATH_MAX * 2], sub[PATH_MAX];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", c->work, rel);
	if (mkdir(path, 0700))
		die("mkdir", path);
	snprintf(path, sizeof(path), "%s/%s", c->base, rel);
	d = opendir(path);
	if (!d)
		die("opendir", path);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "",
			 de->d_name);
		if (de->d_type == DT_DIR)
			mirror(c, sub);
		else
			relink(c, sub);
	}
	closedir(d);
}

static void unlink_mounts(const struct ckpt *c)
{
	char path[PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s/%s", c->work, CRFS_F_MOUNTS);
	if (unlink(path))
		die("unlink", path);
}

static void add_ckpt(const char *root, const char *name)
{
	struct ckpt *c;
	char path[PATH_MAX * 2], *line, *save = NULL, *text;
	size_t len;

	ckpts = realloc(ckpts, (nckpts + 1) * sizeof(*ckpts));
	if (!ckpts)
		exit(2);
	c = memset(&ckpts[nckpts++], 0, sizeof(*c));
	snprintf(c->base, sizeof(c->base), "%s/%s", root, name);
	snprintf(c->work, sizeof(c->work), "%s.work/%s", root, name);
	mirror(c, "");
	snprintf(path, sizeof(path), "%s/image", c->base);
	c->text = slurp(path, &c->len);
	text = strdup(c->text);
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char rel[PATH_MAX];

		if (sscanf(line, "file %4095s ", rel) != 1)
			continue;
		c->files = realloc(c->files, (c->nfiles + 1) * sizeof(char *));
		if (!c->files || !(c->files[c->nfiles++] = strdup(rel)))
			exit(2);
	}
	free(text);
	(void)len;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static char work_root[PATH_MAX];

static void rm_work(void)
{
	nftw(work_root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *root = getenv("FUZZ_IMAGES");
	struct dirent **de;
	int i, n;

	(void)argc, (void)argv;
	if (!root) {
		fprintf(stderr, "fuzz_restore: FUZZ_IMAGES names no directory of checkpoints (tests/fuzz/mkimage.sh)\n");
		exit(2);
	}
	snprintf(work_root, sizeof(work_root), "%s.work", root);
	rm_work();	/* a crashed run's */
	if (mkdir(work_root, 0700))
		die("mkdir", work_root);
	atexit(rm_work);
	/* in name order: the seeds' first byte (run.sh) counts the same way */
	n = scandir(root, &de, NULL, alphasort);
	if (n < 0)
		die("scandir", root);
	for (i = 0; i < n; i++) {
		if (de[i]->d_name[0] != '.' && de[i]->d_type == DT_DIR)
			add_ckpt(root, de[i]->d_name);
		free(de[i]);
	}
	free(de);
	if (!nckpts) {
		fprintf(stderr, "fuzz_restore: no checkpoints in %s\n", root);
		exit(2);
	}
	return 0;
}

static size_t append(char *out, size_t at, const char *s, size_t n)
{
	memcpy(out + at, s, n);
	return at + n;
}

/* body, then its "end HASH" line, as work/image */
static void write_image(const struct ckpt *c, char *body, size_t len)
{
	char path[PATH_MAX * 2];
	int n;

	n = snprintf(body + len, 32, "end %016lx\n", crfs_hash(body, len));
	snprintf(path, sizeof(path), "%s/image", c->work);
	spit(path, body, len + n);
}

/* the input as the checkpoint's image: its end line made to fit */
static void fuzz_image(const struct ckpt *c, const uint8_t *data, size_t size)
{
	char *body = malloc(size + 32);
	size_t len = size;

	memcpy(body, data, size);
	/* drop the input's own last line if it is an end line */
	while (len && body[len - 1] == '\n')
		len--;
	while (len && body[len - 1] != '\n')
		len--;
	if (len + 4 > size || memcmp(body + len, "end ", 4))
		len = size;
	write_image(c, body, len);
	free(body);
}

/* the input as file k, its manifest line and the end line made to fit */
static void fuzz_file(const struct ckpt *c, size_t k, const uint8_t *data,
		      size_t size)
{
	const char *rel = c->files[k], *p = c->text, *nl;
	char path[PATH_MAX * 2], *out = malloc(c->len + 128);
	size_t at = 0, rl = strlen(rel);

	snprintf(path, sizeof(path), "%s/%s", c->work, rel);
	spit(path, data, size);
	for (; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl || !strncmp(p, "end ", 4))
			break;
		if (!strncmp(p, "file ", 5) && !strncmp(p + 5, rel, rl) &&
		    p[5 + rl] == ' ') {
			bool nohash = nl[-1] == '-' && nl[-2] == ' ';

			at += nohash ?
			      sprintf(out + at, "file %s %zu -\n", rel, size) :
			      sprintf(out + at, "file %s %zu %016lx\n", rel,
				      size, crfs_hash(data, size));
			continue;
		}
		at = append(out, at, p, nl + 1 - p);
	}
	write_image(c, out, at);
	free(out);
}

/*
 * The input as a mount tree the checkpoint did not have (`mounts`, added
 * to the manifest), so mnt_check reads it too: none of the checkpoints
 * mkimage.sh makes has one of its own.
 */
static void fuzz_mounts(const struct ckpt *c, const uint8_t *data,
			size_t size)
{
	char path[PATH_MAX * 2], *out = malloc(c->len + 64);
	const char *end = strstr(c->text, "\nend ");
	size_t at = end ? (size_t)(end + 1 - c->text) : 0;

	snprintf(path, sizeof(path), "%s/%s", c->work, CRFS_F_MOUNTS);
	spit(path, data, size);
	memcpy(out, c->text, at);
	at += sprintf(out + at, "file %s %zu %016lx\n", CRFS_F_MOUNTS, size,
		      crfs_hash(data, size));
	write_image(c, out, at);
	free(out);
}

/* the lists of messages of sockets and packet pipes (files.c) */
static void load_msgs(struct image *img, char *err, size_t errlen)
{
	struct open_ctx oc = { img, err, errlen, NULL, NULL };
	struct msg *m;
	size_t i;

	for (i = 0; i < img->nfiles; i++)
		if (!read_msgs(&oc, &img->files[i], &m))
			free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct ckpt *c;
	struct image img;
	char err[2048];
	size_t k;
	int ret;

	if (size < 2)
		return 0;
	c = &ckpts[data[0] % nckpts];
	k = data[1] % (c->nfiles + 2);
	if (k == c->nfiles + 1)
		fuzz_mounts(c, data + 2, size - 2);
	else if (k == c->nfiles)
		fuzz_image(c, data + 2, size - 2);
	else
		fuzz_file(c, k, data + 2, size - 2);
	ret = image_load(c->work, &img, err, sizeof(err));
	ret = ret ?: mnt_check(&img, err, sizeof(err));
	ret = ret ?: vm_share_check(&img, err, sizeof(err));
	if (!ret)
		load_msgs(&img, err, sizeof(err));
	mnt_free(&img);
	image_free(&img);
	if (k < c->nfiles)
		relink(c, c->files[k]);
	if (k == c->nfiles + 1)
		unlink_mounts(c);
	relink(c, "image");
	return 0;
}
