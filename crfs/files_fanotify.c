// SPDX-License-Identifier: MIT
/*
 * fanotify groups (FK_FANOTIFY): init flags and event flags in `files`,
 * the marks in fdata/ID, each on the path that leads to its inode, mount
 * or filesystem again.  Events queued at the checkpoint are not kept.
 */
#include <errno.h>
#include <stdlib.h>

#include "files.h"

const char *files_classify_fanotify(const struct kh_fd *f,
				    struct crfs_file *cf)
{
	cf->kind = FK_FANOTIFY;
	if (kh_fanotify_flags(f->info, &cf->fan_flags, &cf->fan_event_flags))
		return "cannot read the fanotify flags";
	return NULL;
}

static const char *why(int err)
{
	switch (err) {
	case -ESTALE:
		return "a fanotify mark on a deleted file is not supported";
	case -EOPNOTSUPP:
		return "this kind of fanotify mark is not supported";
	default:
		return "a fanotify mark on something that has no path now";
	}
}

int files_capture_fanotify(struct files_ctx *c, uint32_t id)
{
	const struct kh_fd *f = &c->s->fds[c->rep[id - 1]];
	struct crfs_fanotify_mark *m = NULL;
	struct strbuf sb;
	size_t n = 0, len;
	char *data;
	int ret;

	ret = kh_fanotify_marks(f->pid, f->info, &m, &n);
	if (ret == -ENOMEM)
		return ret;
	if (ret) {
		c->bad[id - 1] = true;
		files_report(c, f, why(ret));
		return 0;
	}
	sb_init(&sb);
	ret = render_fanotify(&sb, m, n);
	free_fanotify(m, n);
	c->files[id - 1].data = sb.len;
	if (ret || !sb.len) {
		sb_free(&sb);
		return ret;
	}
	data = sb_steal(&sb, &len);
	return files_add_fdata(c, id, "", data, len);
}
