// SPDX-License-Identifier: MIT
/*
 * fds: one line per descriptor
 *	FD KIND FLAGS POS MODE PATH
 * FLAGS are the open flags in octal as in /proc/PID/fdinfo (O_CLOEXEC
 * included), POS the offset, MODE the file's st_mode in octal.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crfs/format.h"

static const char *const kind_names[FD_KIND_COUNT] = {
	[FD_FILE] = "file", [FD_CHR] = "chr",
};

const char *fd_kind_name(enum crfs_fd_kind k)
{
	return k < FD_KIND_COUNT ? kind_names[k] : "?";
}

int render_fds(struct strbuf *sb, const struct crfs_fd *f, size_t n)
{
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < n; i++) {
		ret = sb_printf(sb, "%d %s 0%o 0x%lx 0%o ", f[i].fd,
				fd_kind_name(f[i].kind), f[i].flags, f[i].pos,
				f[i].mode);
		ret = ret ?: sb_put_escaped(sb, f[i].path);
		ret = ret ?: sb_printf(sb, "\n");
	}
	return ret;
}

void free_fds(struct crfs_fd *f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(f[i].path);
	free(f);
}

static int parse_fd(struct crfs_text *t, char *line, struct crfs_fd *f)
{
	char *tok[7], *cur = line;
	uint64_t flags, mode;
	int k;

	memset(f, 0, sizeof(*f));
	for (k = 0; k < 7; k++)
		tok[k] = tok_next(&cur);
	if (!tok[5] || tok[6])
		return text_error(t, "want 'fd kind flags pos mode path'");
	if (parse_int(tok[0], &f->fd) || f->fd < 0)
		return text_error(t, "bad fd number '%s'", tok[0]);
	for (k = 0; k < FD_KIND_COUNT; k++)
		if (!strcmp(tok[1], kind_names[k]))
			break;
	if (k == FD_KIND_COUNT)
		return text_error(t, "unknown fd kind '%s'", tok[1]);
	f->kind = k;
	if (parse_u64(tok[2], &flags) || flags > 0xffffffffULL ||
	    parse_u64(tok[3], &f->pos) || parse_u64(tok[4], &mode) ||
	    mode > 0xffffffffULL)
		return text_error(t, "bad flags, offset or mode");
	f->flags = (uint32_t)flags;
	f->mode = (uint32_t)mode;
	if (unescape(tok[5], &f->path) || f->path[0] != '/')
		return text_error(t, "bad path");
	return 0;
}

int parse_fds(struct crfs_text *t, struct crfs_fd **out, size_t *nout)
{
	char line[CRFS_PATH_MAX * 4 + 128];
	struct crfs_fd *f = NULL, *nf;
	size_t n = 0;
	int ret;

	while ((ret = text_next_line(t, line, sizeof(line))) > 0) {
		nf = realloc(f, (n + 1) * sizeof(*f));
		if (!nf) {
			ret = text_error(t, "out of memory");
			break;
		}
		f = nf;
		ret = parse_fd(t, line, &f[n]);
		n++;
		if (ret)
			break;
		if (n > 1 && f[n - 1].fd <= f[n - 2].fd) {
			ret = text_error(t, "fds unsorted or repeated");
			break;
		}
	}
	if (ret) {
		free_fds(f, n);
		return ret;
	}
	*out = f;
	*nout = n;
	return 0;
}
