// SPDX-License-Identifier: MIT
/*
 * ipc/msg/ID, ipc/msg/ID.messages and ipc/sem/ID: a SysV object's
 * permissions as ipcs shows them, its semaphore values, its messages as
 * "TYPE HEX" lines so that a script can read them without a decoder.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crfs/ipc.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct kv_field ipc_fields[] = {
	{ "id", KV_INT, offsetof(struct crfs_ipc_obj, id) },
	{ "key", KV_HEX, offsetof(struct crfs_ipc_obj, key) },
	{ "mode", KV_OCT, offsetof(struct crfs_ipc_obj, mode) },
	{ "uid", KV_UINT, offsetof(struct crfs_ipc_obj, uid) },
	{ "gid", KV_UINT, offsetof(struct crfs_ipc_obj, gid) },
	{ "cuid", KV_UINT, offsetof(struct crfs_ipc_obj, cuid) },
	{ "cgid", KV_UINT, offsetof(struct crfs_ipc_obj, cgid) },
	{ "ctime", KV_HEX, offsetof(struct crfs_ipc_obj, ctime) },
	/* msg only */
	{ "qbytes", KV_UINT, offsetof(struct crfs_ipc_obj, qbytes) },
	{ "messages", KV_UINT, offsetof(struct crfs_ipc_obj, count) },
};
#define NCOMMON	8

static const char *const sem_keys[] = { "values", NULL };

static const struct kv_field shm_fields[] = {
	{ "id", KV_INT, offsetof(struct crfs_ipc_obj, id) },
	{ "key", KV_HEX, offsetof(struct crfs_ipc_obj, key) },
	{ "mode", KV_OCT, offsetof(struct crfs_ipc_obj, mode) },
	{ "uid", KV_UINT, offsetof(struct crfs_ipc_obj, uid) },
	{ "gid", KV_UINT, offsetof(struct crfs_ipc_obj, gid) },
	{ "cuid", KV_UINT, offsetof(struct crfs_ipc_obj, cuid) },
	{ "cgid", KV_UINT, offsetof(struct crfs_ipc_obj, cgid) },
	{ "ctime", KV_HEX, offsetof(struct crfs_ipc_obj, ctime) },
	{ "size", KV_HEX, offsetof(struct crfs_ipc_obj, size) },
	{ "removed", KV_INT, offsetof(struct crfs_ipc_obj, removed) },
};

int render_ipc_obj(struct strbuf *sb, enum crfs_ipc_kind k,
		   const struct crfs_ipc_obj *o)
{
	unsigned int i;
	int ret;

	if (k == CRFS_IPC_MSG)
		return kv_render(sb, ipc_fields, ARRAY_SIZE(ipc_fields), o);
	if (k == CRFS_IPC_SHM)
		return kv_render(sb, shm_fields, ARRAY_SIZE(shm_fields), o);
	ret = kv_render(sb, ipc_fields, NCOMMON, o);
	ret = ret ?: sb_printf(sb, "values");
	for (i = 0; !ret && i < o->count; i++)
		ret = o->sempid && o->sempid[i] ?
		      sb_printf(sb, " %u@%d", o->semval[i], o->sempid[i]) :
		      sb_printf(sb, " %u", o->semval[i]);
	return ret ?: sb_printf(sb, "\n");
}

/* VALUE or VALUE@PID: PID the last to operate on it (older images: none) */
static int parse_value(char *tok, uint64_t *val, uint64_t *pid)
{
	char *at = strchr(tok, '@');

	*pid = 0;
	if (at) {
		*at = 0;
		if (parse_u64(at + 1, pid) || !*pid || *pid > INT32_MAX)
			return -EINVAL;
	}
	return parse_u64(tok, val) || *val > 32767 ? -EINVAL : 0;
}

static int parse_values(struct crfs_text *t, const char *key, char *rest,
			void *obj)
{
	struct crfs_ipc_obj *o = obj;
	unsigned short *v = NULL, *nv;
	int *p = NULL, *np;
	uint64_t u, pid;
	char *tok;

	(void)key;
	o->count = 0;
	while ((tok = tok_next(&rest))) {
		if (parse_value(tok, &u, &pid) || o->count >= 32000)
			goto bad;
		nv = realloc(v, (o->count + 1) * sizeof(*v));
		if (nv)
			v = nv;
		np = nv ? realloc(p, (o->count + 1) * sizeof(*p)) : NULL;
		if (!np)
			goto bad;
		p = np;
		p[o->count] = (int)pid;
		v[o->count++] = u;
	}
	if (!o->count)
		goto bad;
	o->semval = v;
	o->sempid = p;
	return 0;
bad:
	free(v);
	free(p);
	return text_error(t, "bad semaphore values");
}

int parse_ipc_obj(struct crfs_text *t, enum crfs_ipc_kind k,
		  struct crfs_ipc_obj *o)
{
	memset(o, 0, sizeof(*o));
	if (k == CRFS_IPC_MSG)
		return kv_parse(t, ipc_fields, ARRAY_SIZE(ipc_fields), o,
				NULL, NULL);
	if (k == CRFS_IPC_SHM)
		return kv_parse(t, shm_fields, ARRAY_SIZE(shm_fields), o,
				NULL, NULL);
	return kv_parse(t, ipc_fields, NCOMMON, o, sem_keys, parse_values);
}

void free_ipc_obj(struct crfs_ipc_obj *o)
{
	free(o->semval);
	free(o->sempid);
	o->semval = NULL;
	o->sempid = NULL;
}

int render_ipc_msgs(struct strbuf *sb, const struct crfs_ipc_msg *m,
		    size_t n)
{
	size_t i, b;
	int ret = 0;

	for (i = 0; !ret && i < n; i++) {
		ret = sb_printf(sb, "%ld ", m[i].type);
		for (b = 0; !ret && b < m[i].len; b++)
			ret = sb_printf(sb, "%02x",
					(unsigned char)m[i].data[b]);
		/* an empty message still needs a token */
		ret = ret ?: sb_printf(sb, "%s\n", m[i].len ? "" : "-");
	}
	return ret;
}

static void drop_msg(void *item)
{
	free(((struct crfs_ipc_msg *)item)->data);
}

static int parse_msg(struct crfs_text *t, char *line, void *items, size_t i)
{
	struct crfs_ipc_msg *m = (struct crfs_ipc_msg *)items + i;
	char *cur = line, *type = tok_next(&cur), *hex = tok_next(&cur);
	size_t len;
	int v;

	if (!type || !hex || tok_next(&cur) || parse_int(type, &v) || v <= 0)
		return text_error(t, "want 'TYPE HEX'");
	m->type = v;
	len = strcmp(hex, "-") ? strlen(hex) : 0;
	if (len % 2)
		return text_error(t, "odd number of hex digits");
	m->len = len / 2;
	m->data = malloc(m->len + 1);
	if (!m->data)
		return text_error(t, "out of memory");
	if (parse_hex_bytes(hex, m->data, m->len))
		return text_error(t, "bad hex digits");
	return 0;
}

int parse_ipc_msgs(struct crfs_text *t, struct crfs_ipc_msg **m, size_t *n)
{
	void *out = NULL;
	int ret;

	ret = parse_lines(t, sizeof(**m), parse_msg, drop_msg, &out, n);
	if (!ret)
		*m = out;
	return ret;
}

void free_ipc_msgs(struct crfs_ipc_msg *m, size_t n)
{
	while (n--)
		free(m[n].data);
	free(m);
}

const struct crfs_ipc_limit crfs_ipc_limits[CRFS_IPC_NLIMITS] = {
	[CRFS_IPC_SHMMAX] = { "shmmax", "shmmax", 0, false },
	[CRFS_IPC_SHMALL] = { "shmall", "shmall", 0, false },
	[CRFS_IPC_SHMMNI] = { "shmmni", "shmmni", 0, false },
	[CRFS_IPC_RMID_FORCED] = { "shm_rmid_forced", "shm_rmid_forced", 0, false },
	[CRFS_IPC_MSGMAX] = { "msgmax", "msgmax", 0, false },
	[CRFS_IPC_MSGMNB] = { "msgmnb", "msgmnb", 0, false },
	[CRFS_IPC_MSGMNI] = { "msgmni", "msgmni", 0, false },
	/* kernel.sem is "semmsl semmns semopm semmni" */
	[CRFS_IPC_SEMMSL] = { "semmsl", "sem", 0, false },
	[CRFS_IPC_SEMMNS] = { "semmns", "sem", 1, false },
	[CRFS_IPC_SEMOPM] = { "semopm", "sem", 2, false },
	[CRFS_IPC_SEMMNI] = { "semmni", "sem", 3, false },
	[CRFS_IPC_MQ_QUEUES_MAX] = { "mq_queues_max", "fs/mqueue/queues_max", 0, true },
	[CRFS_IPC_MQ_MSG_MAX] = { "mq_msg_max", "fs/mqueue/msg_max", 0, true },
	[CRFS_IPC_MQ_MSGSIZE_MAX] = { "mq_msgsize_max", "fs/mqueue/msgsize_max", 0, true },
	[CRFS_IPC_MQ_MSG_DEFAULT] = { "mq_msg_default", "fs/mqueue/msg_default", 0, true },
	[CRFS_IPC_MQ_MSGSIZE_DEFAULT] = { "mq_msgsize_default", "fs/mqueue/msgsize_default", 0, true },
};

int render_ipc_ns(struct strbuf *sb, const struct crfs_ipc_ns *ns)
{
	int i, ret = 0;

	for (i = 0; !ret && i < CRFS_IPC_NLIMITS; i++)
		ret = sb_printf(sb, "%s %lu\n", crfs_ipc_limits[i].key,
				ns->limit[i]);
	return ret;
}

int parse_ipc_ns(struct crfs_text *t, struct crfs_ipc_ns *ns)
{
	char line[256], *cur, *key, *val;
	unsigned char seen[CRFS_IPC_NLIMITS] = { 0 };
	int i, ret;

	while ((ret = text_next_line(t, line, sizeof(line))) > 0) {
		cur = line;
		key = tok_next(&cur);
		val = tok_next(&cur);
		for (i = 0; key && i < CRFS_IPC_NLIMITS; i++)
			if (!strcmp(key, crfs_ipc_limits[i].key))
				break;
		if (!key || i == CRFS_IPC_NLIMITS)
			return text_error(t, "unknown key '%s'", key ?: "");
		if (!val || tok_next(&cur) || parse_u64(val, &ns->limit[i]))
			return text_error(t, "key '%s' needs one number", key);
		if (seen[i]++)
			return text_error(t, "key '%s' given twice", key);
	}
	if (ret < 0)
		return ret;
	for (i = 0; i < CRFS_IPC_NLIMITS; i++)
		if (!seen[i] && crfs_ipc_limits[i].optional)
			ns->limit[i] = 0;
		else if (!seen[i])
			return text_error(t, "key '%s' is missing",
					  crfs_ipc_limits[i].key);
	return 0;
}
