// SPDX-License-Identifier: MIT
/*
 * A fanotify group again: fanotify_init with its flags, then its marks,
 * each on the path that leads to its inode, mount or filesystem: the
 * events it asks for with FAN_MARK_ADD, what it ignores with a second
 * FAN_MARK_ADD of the ignore mask (FAN_MARK_IGNORE, or the older
 * FAN_MARK_IGNORED_MASK, whichever it was made with).
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/fanotify.h>

#include "files.h"

static unsigned int mark_type(const struct crfs_fanotify_mark *m)
{
	return m->target == FAN_T_MOUNT ? FAN_MARK_MOUNT :
	       m->target == FAN_T_FS ? FAN_MARK_FILESYSTEM : FAN_MARK_INODE;
}

static int add_mark(struct open_ctx *c, const struct crfs_file *f, int fd,
		    const struct crfs_fanotify_mark *m)
{
	unsigned int fl = FAN_MARK_ADD | mark_type(m) |
			  (m->mflags & FAN_MARK_EVICTABLE);

	if (m->mask && fanotify_mark(fd, fl, m->mask, AT_FDCWD, m->path))
		return FAIL(c, "file %u: fanotify mark on %s: %s", f->id,
			    m->path, strerror(errno));
	if (!m->ignored)
		return 0;
	fl |= m->mflags & FAN_MARK_IGNORED_SURV_MODIFY;
	fl |= m->mflags & FAN_MARK_IGNORE ? FAN_MARK_IGNORE :
					    FAN_MARK_IGNORED_MASK;
	if (fanotify_mark(fd, fl, m->ignored, AT_FDCWD, m->path))
		return FAIL(c, "file %u: fanotify ignore mark on %s: %s",
			    f->id, m->path, strerror(errno));
	return 0;
}

int open_fanotify(struct open_ctx *c, const struct crfs_file *f)
{
	const struct file_extra *x = &c->img->fx[f->id - 1];
	int fd, ret = 0;
	size_t i;

	fd = fanotify_init(f->fan_flags & ~FAN_CLOEXEC, f->fan_event_flags);
	if (fd < 0)
		return FAIL(c, "file %u: fanotify_init(0x%x, 0%o): %s", f->id,
			    f->fan_flags, f->fan_event_flags, strerror(errno));
	for (i = 0; !ret && i < x->nmarks; i++)
		ret = add_mark(c, f, fd, &x->marks[i]);
	if (ret) {
		close(fd);
		return ret;
	}
	return place(c, f, fd);
}
