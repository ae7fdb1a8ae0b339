// SPDX-License-Identifier: MIT
/* The live view's own renderers (include/crfs/live.h). */
#include <errno.h>
#include <string.h>

#include "crfs/live.h"

int render_live_fds(struct strbuf *sb, const struct crfs_live_fd *f,
		    size_t n)
{
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < n; i++) {
		ret = sb_printf(sb, "%d ", f[i].fd);
		ret = ret ?: sb_put_escaped(sb, f[i].target ?: "?");
		ret = ret ?: sb_printf(sb, " %s\n",
				       f[i].cloexec ? "cloexec" : "-");
	}
	return ret;
}

static bool listed(const char *line, size_t klen, const char *const *keys,
		   size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(keys[i]) == klen && !memcmp(line, keys[i], klen))
			return true;
	return false;
}

int text_drop_keys(struct strbuf *sb, const char *const *keys, size_t n)
{
	size_t in = 0, out = 0, len, klen;
	const char *nl;

	if (sb->len && sb->buf[sb->len - 1] != '\n')
		return -EINVAL;
	while (in < sb->len) {
		nl = memchr(sb->buf + in, '\n', sb->len - in);
		len = nl - (sb->buf + in) + 1;
		klen = strcspn(sb->buf + in, " \n");
		if (!listed(sb->buf + in, klen, keys, n)) {
			memmove(sb->buf + out, sb->buf + in, len);
			out += len;
		}
		in += len;
	}
	sb->len = out;
	if (sb->buf)
		sb->buf[out] = '\0';
	return 0;
}
