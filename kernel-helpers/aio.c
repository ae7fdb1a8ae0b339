// SPDX-License-Identifier: MIT
/*
 * The ring of an AIO context (io_setup(2)): a shared mapping the kernel
 * makes, shown as "/[aio] (deleted)".  Its address is the context's id,
 * its pages hold a header (head, tail) and the completed events not yet
 * reaped.  The kernel keeps one thing of its own besides: its copy of the
 * tail, which restore sets by completing as many dummy requests.
 *
 * What is not saved: requests still in flight.  Reads and writes of files
 * complete while the tree is frozen (their events are then in the ring);
 * a request that waits on something outside, IOCB_CMD_POLL of a socket
 * or pipe, cannot be seen from outside and would be lost (SUPPORT.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kh.h"

#define AIO_RING_MAGIC		0xa10a10a1u
#define AIO_HEADER_LEN		32u	/* struct aio_ring */
#define AIO_EVENT_LEN		32u	/* struct io_event */

struct aio_ring_hdr {
	uint32_t id, nr, head, tail;
	uint32_t magic, compat_features, incompat_features, header_length;
};

bool kh_is_aio_ring(const char *path)
{
	return !strcmp(path, "/[aio] (deleted)");
}

/* Returns 0, or 1 with *why set when the ring cannot be restored as is */
int kh_aio_vma(pid_t pid, struct crfs_vma *v, const char **why)
{
	struct aio_ring_hdr h;
	uint64_t len = v->end - v->start;
	char link[96];
	struct stat st;
	ssize_t n;
	int fd;

	v->kind = VMA_AIO;
	/* each context has an inode of its own: a ring two processes map
	 * (a fork's child keeps the mapping, not the context) shows as one */
	snprintf(link, sizeof(link), "/proc/%d/map_files/%lx-%lx", kh_via(pid),
		 v->start, v->end);
	if (stat(link, &st))
		return (*why = "cannot stat the AIO ring"), 1;
	v->shm_ino = st.st_ino;
	if (v->pgoff || !(v->flags & VMA_F_SHARED) ||
	    v->prot != (PROT_READ | PROT_WRITE))
		return (*why = "a part of an AIO ring, or one mprotect()ed, is not supported"), 1;
	fd = kh_mem_open(pid, O_RDONLY);
	n = kh_mem_read(pid, fd < 0 ? -1 : fd, v->start, &h, sizeof(h));
	if (fd >= 0)
		close(fd);
	if (n != (ssize_t)sizeof(h))
		return (*why = "cannot read the AIO ring's header"), 1;
	/* a ring moved or cut by mremap/munmap no longer matches its size */
	if (h.magic != AIO_RING_MAGIC || h.header_length != AIO_HEADER_LEN ||
	    h.nr != (len - AIO_HEADER_LEN) / AIO_EVENT_LEN ||
	    h.head >= h.nr || h.tail >= h.nr)
		return (*why = "an AIO ring whose header does not match its mapping (moved or cut) is not supported"), 1;
	return 0;
}
