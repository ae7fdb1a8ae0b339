// SPDX-License-Identifier: MIT
/*
 * wl_bpfmap - BPF maps held by descriptors (zdtm bpf_array, bpf_hash): an
 * array map, a hash map with BPF_F_NO_PREALLOC, an LRU hash map and an
 * array map frozen (BPF_MAP_FREEZE), each named and filled.  READY; on
 * SIGUSR1 checks each map's type, sizes, max_entries, flags and name, its
 * entries one by one and their number, that the frozen one refuses an
 * update (EPERM) and the others take one.  With WL_ZDTM_SET=percpu also
 * a per-CPU array map (refused by the freeze).  Usage: wl_bpfmap [DIR].
 */
#define _GNU_SOURCE
#include <linux/bpf.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>

#include "wl_common.h"
#include "wl_fdtable.h"

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

struct spec {
	const char *name;
	uint32_t type, ksz, vsz, max, flags, n;
	int frozen;
	int fd;
};

static struct spec maps[] = {
	{ "crfs_arr", BPF_MAP_TYPE_ARRAY, 4, 8, 16, 0, 16, 0, -1 },
	{ "crfs_hash", BPF_MAP_TYPE_HASH, 8, 16, 32, BPF_F_NO_PREALLOC, 5, 0, -1 },
	{ "crfs_lru", BPF_MAP_TYPE_LRU_HASH, 4, 4, 8, 0, 3, 0, -1 },
	{ "crfs_frozen", BPF_MAP_TYPE_ARRAY, 4, 4, 4, 0, 4, 1, -1 },
};
#define NMAPS (int)(sizeof(maps) / sizeof(maps[0]))

static long bpf(int cmd, union bpf_attr *a)
{
	return syscall(SYS_bpf, cmd, a, sizeof(*a));
}

/* entry i of map m: its key and value bytes, from (m, i) */
static void entry(int m, uint32_t i, unsigned char *k, unsigned char *v)
{
	uint32_t j;

	memset(k, 0, 8);
	if (maps[m].type == BPF_MAP_TYPE_ARRAY)
		memcpy(k, &i, 4);
	else
		for (j = 0; j < maps[m].ksz; j++)
			k[j] = (unsigned char)(0x10 * (m + 1) + i + j * 3);
	for (j = 0; j < maps[m].vsz; j++)
		v[j] = (unsigned char)(0x5a ^ (m * 31 + i * 7 + j));
}

static int update(int fd, const void *k, const void *v)
{
	union bpf_attr a = { .map_fd = fd, .key = (uintptr_t)k,
			     .value = (uintptr_t)v, .flags = BPF_ANY };

	return (int)bpf(BPF_MAP_UPDATE_ELEM, &a);
}

static void make(int m)
{
	struct spec *s = &maps[m];
	union bpf_attr a = { .map_type = s->type, .key_size = s->ksz,
			     .value_size = s->vsz, .max_entries = s->max,
			     .map_flags = s->flags };
	unsigned char k[8], v[16];
	uint32_t i;

	strncpy(a.map_name, s->name, sizeof(a.map_name) - 1);
	s->fd = (int)bpf(BPF_MAP_CREATE, &a);
	if (s->fd < 0)
		wl_die("BPF_MAP_CREATE %s", s->name);
	for (i = 0; i < s->n; i++) {
		entry(m, i, k, v);
		if (update(s->fd, k, v))
			wl_die("update %s", s->name);
	}
	memset(&a, 0, sizeof(a));
	a.map_fd = s->fd;
	if (s->frozen && bpf(BPF_MAP_FREEZE, &a))
		wl_die("freeze %s", s->name);
}

static int keys(int fd, uint32_t ksz)
{
	unsigned char k[2][8];
	union bpf_attr a;
	int n = 0;

	(void)ksz;
	for (;;) {
		memset(&a, 0, sizeof(a));
		a.map_fd = fd;
		a.key = n ? (uintptr_t)k[(n - 1) & 1] : 0;
		a.next_key = (uintptr_t)k[n & 1];
		if (bpf(BPF_MAP_GET_NEXT_KEY, &a))
			return n;
		n++;
	}
}

static void verify(int m)
{
	struct spec *s = &maps[m];
	struct bpf_map_info info = { 0 };
	union bpf_attr a = { 0 };
	unsigned char k[8], v[16], got[16];
	int mark = wl_mark(), n, r;
	char name[64];
	uint32_t i;

	snprintf(name, sizeof(name), "bpfmap.%s", s->name);
	a.info.bpf_fd = s->fd;
	a.info.info_len = sizeof(info);
	a.info.info = (uintptr_t)&info;
	if (bpf(BPF_OBJ_GET_INFO_BY_FD, &a)) {
		wl_fail(name, "info: %s", strerror(errno));
		return;
	}
	if (info.type != s->type || info.key_size != s->ksz ||
	    info.value_size != s->vsz || info.max_entries != s->max ||
	    info.map_flags != s->flags || strcmp(info.name, s->name))
		wl_fail(name, "type %u k %u v %u max %u flags %#x name '%s'",
			info.type, info.key_size, info.value_size,
			info.max_entries, info.map_flags, info.name);
	for (i = 0; i < s->n; i++) {
		entry(m, i, k, v);
		memset(&a, 0, sizeof(a));
		a.map_fd = s->fd;
		a.key = (uintptr_t)k;
		a.value = (uintptr_t)got;
		if (bpf(BPF_MAP_LOOKUP_ELEM, &a) || memcmp(got, v, s->vsz))
			wl_fail(name, "entry %u missing or changed", i);
	}
	n = keys(s->fd, s->ksz);
	if (n != (int)s->n)
		wl_fail(name, "%d entries, want %u", n, s->n);
	entry(m, 0, k, v);
	v[0] ^= 0xff;
	r = update(s->fd, k, v);
	if (s->frozen && (r == 0 || errno != EPERM))
		wl_fail(name, "update of the frozen map: %s",
			r ? strerror(errno) : "done");
	if (!s->frozen && r)
		wl_fail(name, "update: %s", strerror(errno));
	wl_verdict(name, mark);
}

/* the descriptor table at READY (wl_fdtable.h) */
static struct wl_fdtable fdt0;

int main(void)
{
	int m;

	wl_own_session();
	signal(SIGUSR1, on_usr1);
	for (m = 0; m < NMAPS; m++)
		make(m);
	if (wl_zdtm_want("percpu")) {
		union bpf_attr a = { .map_type = BPF_MAP_TYPE_PERCPU_ARRAY,
				     .key_size = 4, .value_size = 8,
				     .max_entries = 2 };

		if (bpf(BPF_MAP_CREATE, &a) < 0)
			wl_die("percpu map");
	}
	wl_fdt_take(&fdt0);
	wl_ready();
	while (!go)
		pause();
	wl_fdt_check("bpfmap.fd_table", &fdt0);
	for (m = 0; m < NMAPS; m++)
		verify(m);
	return wl_done();
}
