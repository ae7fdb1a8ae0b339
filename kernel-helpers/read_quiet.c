// SPDX-License-Identifier: MIT
/*
 * A file's bytes read without a sound: no open, no read(2), so inotify
 * and fanotify watchers of the tree see no IN_OPEN, IN_ACCESS or
 * IN_CLOSE_NOWRITE from the checkpoint.  The descriptor (one the process
 * holds, taken with pidfd_getfd) is mapped and the mapping copied with
 * process_vm_readv on ourselves, which returns EFAULT where a plain copy
 * would take SIGBUS (a file shrunk meanwhile).  O_NOATIME is set on the
 * shared description while it is mapped, as mapping touches the atime.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "kh.h"

static int copy_mapped(const char *map, char *b, size_t len)
{
	struct iovec local = { b, len }, remote = { (void *)map, len };
	ssize_t n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int kh_read_fd_quiet(int fd, char **buf, size_t *len)
{
	int fl = fcntl(fd, F_GETFL), ret;
	struct stat st;
	char *b, *map;

	if (fl < 0 || fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode) || (fl & O_ACCMODE) == O_WRONLY)
		return -EBADF;
	b = malloc(st.st_size + 1);
	if (!b)
		return -ENOMEM;
	map = MAP_FAILED;
	if (st.st_size && !(fl & O_NOATIME))
		fcntl(fd, F_SETFL, fl | O_NOATIME);	/* refused: not ours */
	if (st.st_size)
		map = mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (st.st_size && !(fl & O_NOATIME))
		fcntl(fd, F_SETFL, fl);
	ret = !st.st_size ? 0 : map == MAP_FAILED ? -errno :
	      copy_mapped(map, b, st.st_size);
	if (map != MAP_FAILED)
		munmap(map, st.st_size);
	if (ret) {
		free(b);
		return ret;
	}
	b[st.st_size] = '\0';
	*buf = b;
	*len = st.st_size;
	return 0;
}
