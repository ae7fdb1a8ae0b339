// SPDX-License-Identifier: MIT
/*
 * fdata/ID of a fanotify group: its marks, one line each,
 *	inode|mount|fs MFLAGS MASK IGNORED PATH
 * (hex flags and masks, escaped path).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crfs/format.h"

static const char *const targets[] = { "inode", "mount", "fs" };

int render_fanotify(struct strbuf *sb, const struct crfs_fanotify_mark *m,
		    size_t n)
{
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < n; i++) {
		ret = sb_printf(sb, "%s 0x%x 0x%lx 0x%lx ",
				targets[m[i].target], m[i].mflags, m[i].mask,
				m[i].ignored);
		ret = ret ?: sb_put_escaped(sb, m[i].path);
		ret = ret ?: sb_printf(sb, "\n");
	}
	return ret;
}

static int target_of(const char *s)
{
	int i;

	for (i = 0; i < 3; i++)
		if (!strcmp(s, targets[i]))
			return i;
	return -1;
}

static int mark_item(struct crfs_text *t, char *line, void *items, size_t i)
{
	struct crfs_fanotify_mark *m = (struct crfs_fanotify_mark *)items + i;
	char *tok[6];
	uint64_t fl;
	int k;

	for (k = 0; k < 6 && (tok[k] = tok_next(&line)); k++)
		;
	if (k != 5 || target_of(tok[0]) < 0 || parse_u64(tok[1], &fl) ||
	    fl > 0xffffffffULL || parse_u64(tok[2], &m->mask) ||
	    parse_u64(tok[3], &m->ignored))
		return text_error(t, "want 'inode|mount|fs mflags mask ignored path'");
	m->target = target_of(tok[0]);
	m->mflags = (uint32_t)fl;
	if (unescape(tok[4], &m->path) || m->path[0] != '/')
		return text_error(t, "bad mark path");
	return 0;
}

static void drop_mark(void *item)
{
	free(((struct crfs_fanotify_mark *)item)->path);
}

int parse_fanotify(struct crfs_text *t, struct crfs_fanotify_mark **m,
		   size_t *n)
{
	return parse_lines(t, sizeof(**m), mark_item, drop_mark, (void **)m, n);
}

void free_fanotify(struct crfs_fanotify_mark *m, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(m[i].path);
	free(m);
}
