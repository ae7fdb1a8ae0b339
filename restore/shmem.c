// SPDX-License-Identifier: MIT
/*
 * Shared anonymous memory: one shmem object, perhaps mapped by several
 * processes.  crfs-restore creates each object in its own address space
 * and fills it; every restoring process inherits that mapping through fork
 * and reopens the object from /proc/self/map_files, so all of them map the
 * same object again.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "kh.h"
#include "restore.h"
#include "safe_path.h"
#include "crfs/array.h"

#define ALIGN_UP(x, a) (((x) + (a) - 1) / (a) * (a))
#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -EINVAL)

static struct shm_obj *find_obj(struct image *img, uint64_t ino)
{
	size_t i;

	for (i = 0; i < img->nshm; i++)
		if (img->shm[i].ino == ino)
			return &img->shm[i];
	return NULL;
}

/*
 * A memfd again, by its name, so /proc/PID/maps reads the same; a file
 * deleted since comes back unlinked in its directory: made at its own
 * name and unlinked at once, so maps reads "NAME (deleted)" again, or, if
 * something else has that name now (a program upgraded since), at
 * NAME.crfs-ghost.N; unnamed (O_TMPFILE) if that fails too, a memfd of
 * its name when that directory is gone.
 */
static int open_object_file(const char *path)
{
	char name[NAME_MAX + 32], why[PATH_MAX + 64];
	const char *base = strrchr(path, '/') + 1;
	struct safe_dir d;
	int fd, i;

	if (!strncmp(path, "/memfd:", 7))
		return memfd_create(path + 7, MFD_CLOEXEC);
	/* made, unlinked, in its directory held (safe_path.h) */
	if (safe_dir_open(&d, path, false, why, sizeof(why)))
		return memfd_create(base, MFD_CLOEXEC);
	for (i = -1, fd = -1, errno = EEXIST; fd < 0 && errno == EEXIST &&
					      i < 100; i++) {
		ghost_name(d.name, i, name, sizeof(name));
		fd = openat(d.fd, name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC,
			    0600);
	}
	if (fd >= 0 && unlinkat(d.fd, name, 0)) {
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		fd = openat(d.fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	safe_dir_close(&d);
	return fd >= 0 ? fd : memfd_create(base, MFD_CLOEXEC);
}

/*
 * Whether another process has the file open or mapped: the kernel grants
 * a write lease only to the one open description of a file (a mapping
 * holds one too), here ours.  -EBUSY if one has.
 */
static int nobody_else(int fd)
{
	if (fcntl(fd, F_SETLEASE, F_WRLCK))
		return errno == EAGAIN ? -EBUSY : -errno;
	fcntl(fd, F_SETLEASE, F_UNLCK);
	return 0;
}

/*
 * POSIX shared memory again at its name.  One already there is the killed
 * tree's leftover when owner, mode and size are the image's and nobody
 * has it open: emptied (so no byte written after the checkpoint stays),
 * then filled from the image; any other is not ours (-EEXIST, -EBUSY).
 * A missing one (a reboot, another host) is made with its owner and
 * mode; *made says so.
 */
static int open_named(const struct crfs_vma *v, bool *made)
{
	struct stat st;
	int fd, ret;

	*made = false;
	fd = open(v->path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
		    st.st_uid != v->obj_uid || st.st_gid != v->obj_gid ||
		    (st.st_mode & 07777) != v->obj_mode ||
		    (uint64_t)st.st_size != v->file_size)
			ret = -EEXIST;
		else
			ret = nobody_else(fd);
		if (!ret && fallocate(fd, FALLOC_FL_PUNCH_HOLE |
				      FALLOC_FL_KEEP_SIZE, 0, st.st_size))
			ret = -errno;
		if (!ret)
			return fd;
		close(fd);
		return ret;
	}
	if (errno != ENOENT)
		return -errno;
	fd = open(v->path, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (!fchown(fd, v->obj_uid, v->obj_gid) && !fchmod(fd, v->obj_mode)) {
		*made = true;
		return fd;
	}
	ret = -errno;
	close(fd);
	unlink(v->path);
	return ret;
}

static int add_obj(struct image *img, const struct crfs_vma *v)
{
	bool made = false;
	struct shm_obj *o = find_obj(img, v->shm_ino), *n;
	int fd;

	if (o)
		return o->size == v->file_size ? 0 : -EINVAL;
	n = array_room(img->shm, img->nshm, sizeof(*n));
	if (!n)
		return -ENOMEM;
	img->shm = n;
	o = &n[img->nshm++];
	memset(o, 0, sizeof(*o));
	o->ino = v->shm_ino;
	o->size = v->file_size;
	if (v->flags & VMA_F_HUGETLB) {
		o->huge_kb = v->huge_kb;
		o->addr = hugetlb_obj_map(v, o->size);
		return o->addr == MAP_FAILED ? (o->addr = NULL, -errno) : 0;
	}
	if (!v->path) {
		o->addr = mmap(NULL, o->size, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		return o->addr == MAP_FAILED ? (o->addr = NULL, -errno) : 0;
	}
	if (v->flags & VMA_F_NAMED)
		fd = open_named(v, &made);
	else if ((fd = open_object_file(v->path)) < 0)
		fd = -errno;
	if (fd < 0)
		return fd;
	if (made && !(o->made = strdup(v->path))) {
		close(fd);
		unlink(v->path);
		return -ENOMEM;
	}
	if (ftruncate(fd, o->size)) {
		close(fd);
		return -errno;
	}
	o->addr = mmap(NULL, o->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return o->addr == MAP_FAILED ? (o->addr = NULL, -errno) : 0;
}

/* a named object of the image is at path: made by shm_prepare */
bool shm_named_path(const struct image *img, const char *path)
{
	size_t i, k;

	if (strncmp(path, "/dev/shm/", 9))
		return false;
	for (i = 0; i < img->nprocs; i++)
		for (k = 0; k < img->procs[i].nvmas; k++) {
			const struct crfs_vma *v = &img->procs[i].vmas[k];

			if ((v->flags & VMA_F_NAMED) && !strcmp(v->path, path))
				return true;
		}
	return false;
}

/* a failed restore removes the named objects it made */
void shm_undo(struct image *img)
{
	size_t i;

	for (i = 0; i < img->nshm; i++)
		if (img->shm[i].made)
			unlink(img->shm[i].made);
}

static int fill_obj(struct proc_image *p, const struct crfs_vma *v,
		    struct shm_obj *o, char *err, size_t errlen)
{
	size_t r;

	for (r = 0; r < p->nruns; r++) {
		const struct crfs_page_run *run = &p->runs[r];
		uint64_t len = run->npages * 4096, at;

		if (run->addr < v->start || run->addr >= v->end)
			continue;
		at = run->addr - v->start + v->pgoff;
		/* a file smaller than its mapping (a 32-byte semaphore in a
		 * page) keeps its size: what lies past it is not the file's */
		if (at >= ALIGN_UP(o->size, 4096) || at + len > ALIGN_UP(o->size, 4096))
			return ERR("%s: pages of 0x%lx lie past the end of their shared memory object",
				   p->pages_path, run->addr);
		if (at + len > o->size)
			len = o->size - at;
		if (run->src != p->pid || run->offset + len > p->pages_len)
			return ERR("%s: pages of 0x%lx of shared memory are not in this file",
				   p->pages_path, run->addr);
		memcpy((char *)o->addr + at, p->pages_map + run->offset, len);
	}
	return 0;
}

/* a memfd or deleted file mapped privately: its bytes are in mapdata/INO */
static int add_mapped_obj(struct image *img, const struct proc_image *p,
			  const struct crfs_vma *v, char *err, size_t errlen)
{
	char path[PATH_MAX + 64], *buf;
	size_t len;
	int ret;

	if (find_obj(img, v->shm_ino))
		return add_obj(img, v) ?
		       ERR("%s/%d/%s: 0x%lx: %s has another size elsewhere",
			   img->dir, p->pid, CRFS_F_MAPS, v->start, v->path) : 0;
	ret = add_obj(img, v);
	if (ret)
		return ERR("%s/%d/%s: cannot create %s (0x%lx bytes): %s",
			   img->dir, p->pid, CRFS_F_MAPS, v->path,
			   v->file_size, strerror(-ret));
	snprintf(path, sizeof(path), "%s/%s/%lu", img->dir, CRFS_D_MAPDATA,
		 v->shm_ino);
	ret = kh_read_file(path, &buf, &len);
	if (ret)
		return ERR("%s: %s", path, strerror(-ret));
	if (len != v->file_size) {
		free(buf);
		return ERR("%s: %zu bytes, %d/%s says %lu", path, len, p->pid,
			   CRFS_F_MAPS, v->file_size);
	}
	memcpy(find_obj(img, v->shm_ino)->addr, buf, len);
	free(buf);
	return 0;
}

/* why a named object already there is not taken */
static const char *named_why(int ret)
{
	if (ret == -EEXIST)
		return "exists and is not the image's (owner, mode or size differ): remove it first";
	if (ret == -EBUSY)
		return "exists and a process has it open or mapped";
	return NULL;
}

/* an object made at its path (and unlinked again) for a moment */
static int check_path(const struct image *img, const struct proc_image *p,
		      char *err, size_t errlen)
{
	char why[PATH_MAX + 64];
	size_t k;

	for (k = 0; k < p->nvmas; k++) {
		const struct crfs_vma *v = &p->vmas[k];

		if ((v->kind == VMA_SHMEM || v->kind == VMA_DELETED) &&
		    v->path && strncmp(v->path, "/memfd:", 7) &&
		    safe_path(v->path, why, sizeof(why)))
			return ERR("%s/%d/%s: %s: %s", img->dir, p->pid,
				   CRFS_F_MAPS, v->path, why);
	}
	return 0;
}

int shm_prepare(struct image *img, char *err, size_t errlen)
{
	size_t i, k;
	int ret = 0;

	for (i = 0; !ret && i < img->nprocs; i++) {
		struct proc_image *p = &img->procs[i];

		ret = check_path(img, p, err, errlen);
		if (ret)
			return ret;
		for (k = 0; !ret && k < p->nvmas; k++)
			if (p->vmas[k].kind == VMA_SHMEM)
				ret = add_obj(img, &p->vmas[k]);
		if (ret && (p->vmas[k - 1].flags & VMA_F_NAMED) &&
		    named_why(ret))
			return ERR("%s/%d/%s: POSIX shared memory %s %s",
				   img->dir, p->pid, CRFS_F_MAPS,
				   p->vmas[k - 1].path, named_why(ret));
		if (ret)
			return ERR("%s/%d/%s: cannot create shared memory of 0x%lx bytes: %s",
				   img->dir, p->pid, CRFS_F_MAPS,
				   p->vmas[k - 1].file_size, strerror(-ret));
		for (k = 0; !ret && k < p->nvmas; k++)
			if (p->vmas[k].kind == VMA_SHMEM)
				ret = fill_obj(p, &p->vmas[k],
					       find_obj(img, p->vmas[k].shm_ino),
					       err, errlen);
		for (k = 0; !ret && k < p->nvmas; k++)
			if (p->vmas[k].kind == VMA_DELETED)
				ret = add_mapped_obj(img, p, &p->vmas[k], err,
						     errlen);
	}
	return ret;
}

int shm_open_object(struct image *img, const struct crfs_vma *v)
{
	return shm_open_ino(img, v->shm_ino);
}

/* where crfs-restore holds an object's bytes */
int shm_object_bytes(struct image *img, uint64_t ino, void **addr,
		     size_t *size)
{
	struct shm_obj *o = find_obj(img, ino);

	if (!o)
		return -ENOENT;
	*addr = o->addr;
	*size = o->size;
	return 0;
}

/* hugetlbfs takes no write(): such an object is filled by mapping it */
bool shm_is_hugetlb(struct image *img, uint64_t ino)
{
	struct shm_obj *o = find_obj(img, ino);

	return o && o->huge_kb;
}

int shm_open_ino(struct image *img, uint64_t ino)
{
	struct shm_obj *o = find_obj(img, ino);
	char path[96];

	if (!o)
		return -ENOENT;
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx",
		 (unsigned long)o->addr,
		 (unsigned long)o->addr + ALIGN_UP(o->size, 4096));
	return open(path, O_RDWR);
}
