// SPDX-License-Identifier: MIT
/* VMAs from /proc/PID/smaps, classified for checkpointing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include "crfs/format.h"
#include "kh.h"
#include "crfs/array.h"

struct vmflag {
	char name[3];
	uint32_t bit;
};

static const struct vmflag vmflags[] = {
	{ "sh", VMA_F_SHARED }, { "gd", VMA_F_GROWSDOWN },
	{ "dc", VMA_F_DONTFORK }, { "wf", VMA_F_WIPEONFORK },
	{ "dd", VMA_F_DONTDUMP }, { "hg", VMA_F_HUGEPAGE },
	{ "nh", VMA_F_NOHUGEPAGE }, { "lo", VMA_F_LOCKED },
	{ "sr", VMA_F_SEQREAD }, { "rr", VMA_F_RANDREAD },
	{ "mg", VMA_F_MERGEABLE }, { "lf", VMA_F_LOCKONFAULT },
	{ "nr", VMA_F_NORESERVE }, { "sl", VMA_F_SEALED },
	{ "ht", VMA_F_HUGETLB }, { "dp", VMA_F_DROPPABLE },
	{ "mw", VMA_F_MAYWRITE },
};

static uint32_t parse_vmflags(const char *s)
{
	uint32_t f = 0;
	size_t i;

	for (; *s; s++) {
		if (*s == ' ')
			continue;
		for (i = 0; i < sizeof(vmflags) / sizeof(vmflags[0]); i++)
			if (!strncmp(s, vmflags[i].name, 2))
				f |= vmflags[i].bit;
		while (s[1] && s[1] != ' ')
			s++;
	}
	return f;
}

static const struct {
	const char *name;
	enum crfs_vma_kind kind;
} special[] = {
	{ "[heap]", VMA_HEAP }, { "[stack]", VMA_STACK },
	{ "[vdso]", VMA_VDSO }, { "[vvar]", VMA_VVAR },
	{ "[vvar_vclock]", VMA_VVAR_VCLOCK }, { "[vsyscall]", VMA_VSYSCALL },
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

/* Returns 0, or 1 with *why set when the mapping cannot be checkpointed */
/*
 * A SysV shared memory attach: its file's inode number is the segment's
 * id, its size the segment's.  shmat maps a whole segment from its start:
 * what remains after a part was unmapped could not be attached again.
 */
int kh_sysv_vma(pid_t pid, struct crfs_vma *v, const char **why)
{
	char link[96];
	struct stat st;
	uint64_t len;

	snprintf(link, sizeof(link), "/proc/%d/map_files/%lx-%lx", kh_via(pid),
		 v->start, v->end);
	if (stat(link, &st))
		return (*why = "cannot stat the SysV shared memory segment"), 1;
	/* a SHM_HUGETLB segment's file is of whole huge pages */
	len = v->huge_kb ? v->huge_kb * 1024ULL : 4096;
	len = (st.st_size + len - 1) / len * len;
	if (v->pgoff || v->end - v->start != len || !st.st_size)
		return (*why = "a part of a SysV shared memory attach is not supported yet"), 1;
	v->kind = VMA_SYSV;
	v->shm_ino = st.st_ino;
	v->file_size = st.st_size;
	return 0;
}

/*
 * POSIX shared memory (shm_open): a file on the tmpfs at /dev/shm.  It is
 * memory, gone after a reboot and not on another host, so its bytes go
 * into the image like shared anonymous memory, with its name, owner and
 * mode, for restore to make it again at its name.
 */
static bool is_posix_shm(const char *path, const char *link)
{
	struct statfs fs;

	return !strncmp(path, "/dev/shm/", 9) && !statfs(link, &fs) &&
	       fs.f_type == TMPFS_MAGIC;
}

static int named_shm(struct crfs_vma *v, const struct stat *st,
		     const char **why)
{
	/* bytes no mapping covers would come back as zeros */
	if (v->pgoff || (uint64_t)st->st_size > v->end - v->start)
		return (*why = "a mapping of a part of a POSIX shared memory object is not supported yet"), 1;
	if (!st->st_size)
		return (*why = "a shared mapping of an empty object"), 1;
	v->kind = VMA_SHMEM;
	v->flags |= VMA_F_NAMED;
	v->shm_ino = st->st_ino;
	v->file_size = st->st_size;
	v->obj_uid = st->st_uid;
	v->obj_gid = st->st_gid;
	v->obj_mode = st->st_mode & 07777;
	return 0;
}

static int classify(pid_t pid, struct crfs_vma *v, const char **why)
{
	const char *path = v->path;
	char link[96];
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		if (!strcmp(path, special[i].name)) {
			v->kind = special[i].kind;
			/* the kernel's fresh ones are moved there, unsealed */
			return v->flags & VMA_F_SEALED ?
			       ((*why = "a sealed vDSO, vvar or vsyscall is not supported"), 1) : 0;
		}
	v->kind = VMA_ANON;
	/* anonymous, a memfd or a SysV segment of huge pages: hugetlb.c */
	if (v->flags & VMA_F_HUGETLB)
		return kh_hugetlb_vma(pid, v, why);
	if (!*path)
		return 0;
	/* this kernel (no CONFIG_ANON_VMA_NAME) cannot name them: untested */
	if (!strncmp(path, "[anon:", 6) || !strncmp(path, "[anon_shmem:", 12))
		return (*why = "named anonymous mappings are not supported yet"), 1;
	if (!strncmp(path, "/SYSV", 5))
		return kh_sysv_vma(pid, v, why);
	if (kh_is_aio_ring(path))
		return kh_aio_vma(pid, v, why);
	if (kh_is_socket_map(path))
		return kh_packet_ring_vma(v, why);
	if (path[0] != '/')
		return (*why = "unknown kind of mapping"), 1;
	snprintf(link, sizeof(link), "/proc/%d/map_files/%lx-%lx", kh_via(pid),
		 v->start, v->end);
	if (stat(link, &st))
		return (*why = "cannot stat the mapped file"), 1;
	/*
	 * One object several mappings may share, saved as shared memory:
	 * shared anonymous memory (no name), a memfd (its name), or a file
	 * deleted since, such as POSIX semaphores and shared memory in
	 * /dev/shm (where it was: it comes back unlinked there).
	 */
	/* its bytes cannot be read, not even through /proc */
	if (!strcmp(path, "/secretmem (deleted)"))
		return (*why = "secret memory (memfd_secret) is not supported"), 1;
	if ((v->flags & VMA_F_SHARED) && (!strncmp(path, "/memfd:", 7) ||
					  ends_with(path, " (deleted)"))) {
		if (strcmp(path, "/dev/zero (deleted)") &&
		    ends_with(path, " (deleted)"))
			v->path[strlen(path) - 10] = '\0';
		v->kind = VMA_SHMEM;
		v->shm_ino = st.st_ino;
		v->file_size = st.st_size;
		return v->file_size ? 0 :
		       ((*why = "a shared mapping of an empty object"), 1);
	}
	if (!S_ISREG(st.st_mode))
		return (*why = "mappings of devices are not supported"), 1;
	if ((v->flags & VMA_F_SHARED) && is_posix_shm(path, link))
		return named_shm(v, &st, why);
	/* privately: the object's bytes are saved once, as for shmem */
	if (!strncmp(path, "/memfd:", 7) || ends_with(path, " (deleted)")) {
		if (ends_with(path, " (deleted)"))
			v->path[strlen(path) - 10] = '\0';
		v->kind = VMA_DELETED;
		v->shm_ino = st.st_ino;
		v->file_size = st.st_size;
		return v->file_size ? 0 :
		       ((*why = "a private mapping of an empty memfd or deleted file"), 1);
	}
	v->kind = VMA_FILE;
	v->file_size = st.st_size;
	v->file_mtime_ns = st.st_mtim.tv_sec * 1000000000LL +
			   st.st_mtim.tv_nsec;
	return 0;
}

static bool is_header(const char *line, uint64_t *start, uint64_t *end,
		      char *perms, uint64_t *off, int *path_at)
{
	return sscanf(line, "%lx-%lx %4s %lx %*x:%*x %*u %n", start, end, perms,
		      off, path_at) == 4;
}

static int add_vma(struct crfs_vma **vmas, size_t *n)
{
	struct crfs_vma *nv = array_room(*vmas, *n, sizeof(**vmas));

	if (!nv)
		return -ENOMEM;
	*vmas = nv;
	memset(&nv[*n], 0, sizeof(nv[0]));
	(*n)++;
	return 0;
}

static void finish_vma(pid_t pid, struct crfs_vma *v, kh_report_fn report,
		       void *ctx)
{
	const char *why;

	if (classify(pid, v, &why))
		report(ctx, "mapping 0x%lx-0x%lx (%s): %s", v->start, v->end,
		       v->path && *v->path ? v->path : "anonymous", why);
}

/*
 * smaps: each mapping's VmFlags too, but reading it walks every page
 * of the process (its Rss and such): O(memory).  maps alone (lite): no
 * flags but shared, the kind from the name; a pre-copy round, which only
 * lists private anonymous pages, needs no more.
 */
static int read_maps(pid_t pid, bool lite, struct crfs_vma **out,
		     size_t *nout, kh_report_fn report, void *ctx)
{
	struct crfs_vma *vmas = NULL, *v = NULL;
	char path[64], *buf, *line, *cur, perms[8];
	uint64_t start, end, off;
	size_t n = 0;
	int at, ret;

	snprintf(path, sizeof(path), "/proc/%d/%s", kh_via(pid),
		 lite ? "maps" : "smaps");
	ret = kh_read_file(path, &buf, NULL);
	if (ret)
		return ret;
	for (cur = buf; !ret && (line = strsep(&cur, "\n")) && *line;) {
		if (v && !strncmp(line, "KernelPageSize:", 15)) {
			v->huge_kb = strtoul(line + 15, NULL, 10);
			continue;
		}
		if (v && !strncmp(line, "VmFlags:", 8)) {
			v->flags |= parse_vmflags(line + 8);
			/* every private mapping may write (to its copy) */
			if (!(v->flags & VMA_F_SHARED))
				v->flags &= ~VMA_F_MAYWRITE;
			/* only a hugetlb mapping has a page size of its own */
			if (!(v->flags & VMA_F_HUGETLB))
				v->huge_kb = 0;
			finish_vma(pid, v, report, ctx);
			continue;
		}
		if (!is_header(line, &start, &end, perms, &off, &at))
			continue;
		ret = add_vma(&vmas, &n);
		if (ret)
			break;
		v = &vmas[n - 1];
		v->start = start;
		v->end = end;
		v->pgoff = off;
		v->prot = (perms[0] == 'r' ? PROT_READ : 0) |
			  (perms[1] == 'w' ? PROT_WRITE : 0) |
			  (perms[2] == 'x' ? PROT_EXEC : 0);
		if (perms[3] == 's')
			v->flags |= VMA_F_SHARED;
		/* keep the raw name until VmFlags classifies it */
		v->path = strdup(line + at);
		if (!v->path)
			ret = -ENOMEM;
		else if (lite)
			finish_vma(pid, v, report, ctx);
	}
	free(buf);
	/* only files, memfds and deleted files keep a path */
	for (size_t i = 0; i < n; i++)
		if (vmas[i].kind != VMA_FILE && vmas[i].kind != VMA_DELETED &&
		    !(vmas[i].kind == VMA_SHMEM && vmas[i].path &&
		      vmas[i].path[0] == '/' &&
		      strcmp(vmas[i].path, "/dev/zero (deleted)"))) {
			free(vmas[i].path);
			vmas[i].path = NULL;
		}
	if (ret) {
		free_maps(vmas, n);
		return ret;
	}
	*out = vmas;
	*nout = n;
	return 0;
}

int kh_proc_maps(pid_t pid, struct crfs_vma **out, size_t *nout,
		 kh_report_fn report, void *ctx)
{
	return read_maps(pid, false, out, nout, report, ctx);
}

int kh_proc_maps_lite(pid_t pid, struct crfs_vma **out, size_t *nout,
		      kh_report_fn report, void *ctx)
{
	return read_maps(pid, true, out, nout, report, ctx);
}

int kh_vdso_layout(pid_t pid, struct crfs_vma *out, int max, int *n)
{
	char path[64], *buf, *line, *cur, perms[8], *name;
	uint64_t start, end, off;
	int at, ret;
	size_t i;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/maps", kh_via(pid));
	else
		snprintf(path, sizeof(path), "/proc/self/maps");
	ret = kh_read_file(path, &buf, NULL);
	if (ret)
		return ret;
	*n = 0;
	for (cur = buf; (line = strsep(&cur, "\n")) && *line;) {
		if (!is_header(line, &start, &end, perms, &off, &at))
			continue;
		name = line + at;
		for (i = 0; i < sizeof(special) / sizeof(special[0]); i++) {
			if (strcmp(name, special[i].name) ||
			    (special[i].kind != VMA_VDSO &&
			     special[i].kind != VMA_VVAR &&
			     special[i].kind != VMA_VVAR_VCLOCK))
				continue;
			if (*n >= max) {
				free(buf);
				return -E2BIG;
			}
			memset(&out[*n], 0, sizeof(out[0]));
			out[*n].start = start;
			out[*n].end = end;
			out[*n].kind = special[i].kind;
			(*n)++;
		}
	}
	free(buf);
	return 0;
}

/*
 * The vDSO's system-call fallbacks are "mov $NR, %eax; syscall": matching
 * the mov too keeps us off stray 0f 05 bytes inside other instructions.
 */
uint64_t kh_find_vdso_syscall(pid_t pid, int memfd)
{
	struct crfs_vma l[4];
	uint8_t buf[65536];
	uint64_t len;
	ssize_t got;
	int n, i;

	if (kh_vdso_layout(pid, l, 4, &n))
		return 0;
	for (i = 0; i < n; i++) {
		if (l[i].kind != VMA_VDSO)
			continue;
		len = l[i].end - l[i].start;
		if (len > sizeof(buf))
			len = sizeof(buf);
		got = kh_mem_read(pid, memfd, l[i].start, buf, len);
		for (ssize_t k = 5; k + 1 < got; k++)
			if (buf[k - 5] == 0xb8 && buf[k - 2] == 0 &&
			    buf[k - 1] == 0 && buf[k] == 0x0f &&
			    buf[k + 1] == 0x05)
				return l[i].start + k;
	}
	return 0;
}

/*
 * A syscall instruction (0f 05) anywhere in pid's executable mappings, or
 * 0: where it stands and its vDSO offer none.  Decoding starts where we
 * point, so any two such bytes are one.  The first 4 MiB of text at most.
 */
uint64_t kh_find_text_syscall(pid_t pid, int memfd)
{
	unsigned long long start, end, left = 4 << 20;
	char path[64], line[512], perms[8];
	uint8_t buf[65536];
	uint64_t found = 0, at;
	ssize_t got, k;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", kh_via(pid));
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (!found && left && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx-%llx %7s", &start, &end, perms) != 3 ||
		    perms[2] != 'x')
			continue;
		for (at = start; !found && at < end && left; at += got - 1) {
			got = kh_mem_read(pid, memfd, at, buf,
					  end - at < sizeof(buf) ? end - at :
					  sizeof(buf));
			if (got < 2)
				break;
			left -= got < (ssize_t)left ? (unsigned long long)got : left;
			for (k = 0; k + 1 < got && !found; k++)
				if (buf[k] == 0x0f && buf[k + 1] == 0x05)
					found = at + k;
		}
	}
	fclose(f);
	return found;
}
