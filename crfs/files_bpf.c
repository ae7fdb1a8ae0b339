// SPDX-License-Identifier: MIT
/*
 * A BPF map held by a descriptor: array, hash and LRU hash maps without
 * BTF, with their entries and whether they were frozen.  Everything else
 * a map may be or be tied to is refused by name.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>

#include "files.h"
#include "kh.h"

/* map_flags restore passes to BPF_MAP_CREATE as they were */
#define KNOWN_FLAGS (BPF_F_NO_PREALLOC | BPF_F_NO_COMMON_LRU | \
		     BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG | BPF_F_ZERO_SEED)

static const char *check(const struct kh_bpf_map *m, const struct crfs_file *cf)
{
	if (m->type != BPF_MAP_TYPE_ARRAY && m->type != BPF_MAP_TYPE_HASH &&
	    m->type != BPF_MAP_TYPE_LRU_HASH)
		return "a BPF map of a type other than array, hash and lru_hash is not supported";
	if (m->btf_id)
		return "a BPF map with BTF (btf_id) is not supported";
	if (m->flags & ~KNOWN_FLAGS)
		return "a BPF map with these map_flags is not supported";
	if ((cf->flags & O_ACCMODE) != O_RDWR)
		return "a BPF map descriptor opened read-only or write-only is not supported";
	return NULL;
}

/* two descriptions of one map would come back as two maps */
static bool map_twice(struct files_ctx *c, const struct crfs_file *cf)
{
	size_t i;

	for (i = 0; i + 1 < cf->id; i++)
		if (c->files[i].kind == FK_BPFMAP && c->files[i].ino == cf->ino)
			return true;
	return false;
}

const char *files_classify_bpfmap(struct files_ctx *c, const struct kh_fd *f,
				  struct crfs_file *cf, int *err)
{
	struct kh_bpf_map m;
	int fd = kh_steal_fd(f->pid, f->fd), ret;
	const char *why;
	uint64_t v;

	if (fd < 0) {
		*err = fd;
		return NULL;
	}
	ret = kh_bpf_map_read(fd, &m);
	close(fd);
	if (ret == -ENOMEM)
		*err = ret;
	if (ret)
		return ret == -ENOMEM ? NULL : "cannot read the BPF map";
	cf->kind = FK_BPFMAP;
	cf->ino = m.id;
	why = check(&m, cf);
	if (!why && map_twice(c, cf))
		why = "a BPF map open through two descriptions is not supported";
	if (why) {
		free(m.data);
		return why;
	}
	cf->map_type = m.type;
	cf->key_size = m.key_size;
	cf->value_size = m.value_size;
	cf->max_entries = m.max_entries;
	cf->map_flags = m.flags;
	cf->frozen = !kh_fdinfo_u64(f->info, "frozen:", 10, &v) && v;
	cf->nmsgs = m.n;
	cf->data = m.len;
	cf->map_name = m.name[0] ? strdup(m.name) : NULL;
	if (m.name[0] && !cf->map_name) {
		free(m.data);
		*err = -ENOMEM;
		return NULL;
	}
	if (m.len)
		*err = files_add_fdata(c, cf->id, "", m.data, m.len);
	else
		free(m.data);
	return NULL;
}
