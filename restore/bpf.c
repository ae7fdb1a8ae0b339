// SPDX-License-Identifier: MIT
/*
 * A BPF map again: made with the saved attributes, its entries put back
 * from fdata/ID (key then value each), frozen again if it was.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kh.h"
#include "files.h"

int open_bpfmap(struct open_ctx *c, const struct crfs_file *f)
{
	struct kh_bpf_map m = {
		.type = f->map_type, .key_size = f->key_size,
		.value_size = f->value_size, .max_entries = f->max_entries,
		.flags = f->map_flags, .frozen = f->frozen,
	};
	size_t rec = (size_t)f->key_size + f->value_size;
	const char *step = "read its entries";
	char *buf;
	size_t len;
	int fd;

	if (f->map_name)
		strncpy(m.name, f->map_name, sizeof(m.name) - 1);
	if (!rec || f->data != (uint64_t)f->nmsgs * rec)
		return FAIL(c, "file %u (BPF map): %lu bytes of entries do not make %u entries of %zu bytes",
			    f->id, f->data, f->nmsgs, rec);
	if (read_fdata(c, f, "", &buf, &len))
		return -EINVAL;
	fd = kh_bpf_map_make(&m, buf, len, &step);
	free(buf);
	if (fd < 0)
		return FAIL(c, "file %u (BPF map %s): %s: %s", f->id,
			    f->map_name ?: "", step, strerror(-fd));
	return place(c, f, fd);
}
