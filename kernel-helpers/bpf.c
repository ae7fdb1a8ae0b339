// SPDX-License-Identifier: MIT
/*
 * BPF maps held by a descriptor: what BPF_OBJ_GET_INFO_BY_FD tells of one,
 * every entry (BPF_MAP_GET_NEXT_KEY, then BPF_MAP_LOOKUP_ELEM), and the
 * same made again (BPF_MAP_CREATE, BPF_MAP_UPDATE_ELEM, BPF_MAP_FREEZE).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <sys/syscall.h>

#include "kh.h"

static int sys_bpf(int cmd, union bpf_attr *a)
{
	long ret = syscall(SYS_bpf, cmd, a, sizeof(*a));

	return ret < 0 ? -errno : (int)ret;
}

static int map_info(int fd, struct kh_bpf_map *m)
{
	struct bpf_map_info info;
	union bpf_attr a;
	int ret;

	memset(&info, 0, sizeof(info));
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = fd;
	a.info.info_len = sizeof(info);
	a.info.info = (uint64_t)(uintptr_t)&info;
	ret = sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a);
	if (ret)
		return ret;
	m->type = info.type;
	m->id = info.id;
	m->key_size = info.key_size;
	m->value_size = info.value_size;
	m->max_entries = info.max_entries;
	m->flags = info.map_flags;
	m->btf_id = info.btf_id;
	memcpy(m->name, info.name, sizeof(m->name) - 1);
	m->name[sizeof(m->name) - 1] = 0;
	return 0;
}

/* each entry's key then value, one after another */
static int map_entries(int fd, struct kh_bpf_map *m)
{
	size_t rec = (size_t)m->key_size + m->value_size;
	char *buf = malloc(rec * ((size_t)m->max_entries + 1));
	char *prev = NULL, *cur;
	union bpf_attr a;
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	m->n = 0;
	for (;;) {
		if (m->n > m->max_entries) {
			ret = -EAGAIN;	/* more keys than room: it changed */
			break;
		}
		cur = buf + m->n * rec;
		memset(&a, 0, sizeof(a));
		a.map_fd = fd;
		a.key = (uint64_t)(uintptr_t)prev;
		a.next_key = (uint64_t)(uintptr_t)cur;
		ret = sys_bpf(BPF_MAP_GET_NEXT_KEY, &a);
		if (ret == -ENOENT) {
			ret = 0;
			break;
		}
		if (ret)
			break;
		memset(&a, 0, sizeof(a));
		a.map_fd = fd;
		a.key = (uint64_t)(uintptr_t)cur;
		a.value = (uint64_t)(uintptr_t)(cur + m->key_size);
		ret = sys_bpf(BPF_MAP_LOOKUP_ELEM, &a);
		if (ret)
			break;
		prev = cur;
		m->n++;
	}
	if (ret) {
		free(buf);
		return ret;
	}
	m->data = buf;
	m->len = m->n * rec;
	return 0;
}

int kh_bpf_map_read(int fd, struct kh_bpf_map *m)
{
	int ret;

	memset(m, 0, sizeof(*m));
	ret = map_info(fd, m);
	if (!ret && m->key_size && m->value_size)
		ret = map_entries(fd, m);
	return ret;
}

/* a new map as m says, holding the len bytes of entries at data */
int kh_bpf_map_make(const struct kh_bpf_map *m, const char *data, size_t len,
		    const char **step)
{
	size_t rec = (size_t)m->key_size + m->value_size, off;
	union bpf_attr a;
	int fd, ret = 0;

	memset(&a, 0, sizeof(a));
	a.map_type = m->type;
	a.key_size = m->key_size;
	a.value_size = m->value_size;
	a.max_entries = m->max_entries;
	a.map_flags = m->flags;
	memcpy(a.map_name, m->name, sizeof(a.map_name) - 1);
	*step = "create it (BPF_MAP_CREATE)";
	fd = sys_bpf(BPF_MAP_CREATE, &a);
	if (fd < 0)
		return fd;
	*step = "put its entries back (BPF_MAP_UPDATE_ELEM)";
	for (off = 0; !ret && rec && off + rec <= len; off += rec) {
		memset(&a, 0, sizeof(a));
		a.map_fd = fd;
		a.key = (uint64_t)(uintptr_t)(data + off);
		a.value = (uint64_t)(uintptr_t)(data + off + m->key_size);
		a.flags = BPF_ANY;
		ret = sys_bpf(BPF_MAP_UPDATE_ELEM, &a);
	}
	if (!ret && m->frozen) {
		*step = "freeze it (BPF_MAP_FREEZE)";
		memset(&a, 0, sizeof(a));
		a.map_fd = fd;
		ret = sys_bpf(BPF_MAP_FREEZE, &a);
	}
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}
