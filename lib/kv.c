// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crfs/format.h"

#define FIELD(obj, f, T) ((T *)((char *)(obj) + (f)->off))
#define CFIELD(obj, f, T) ((const T *)((const char *)(obj) + (f)->off))

static int kv_render_one(struct strbuf *sb, const struct kv_field *f,
			 const void *obj)
{
	int ret = sb_printf(sb, "%s ", f->key);

	if (ret)
		return ret;
	switch (f->type) {
	case KV_HEX:
		ret = sb_printf(sb, "0x%lx", *CFIELD(obj, f, uint64_t));
		break;
	case KV_INT:
		ret = sb_printf(sb, "%d", *CFIELD(obj, f, int));
		break;
	case KV_UINT:
		ret = sb_printf(sb, "%u", *CFIELD(obj, f, unsigned int));
		break;
	case KV_OCT:
		ret = sb_printf(sb, "0%o", *CFIELD(obj, f, unsigned int));
		break;
	case KV_STR:
		ret = sb_put_escaped(sb, *CFIELD(obj, f, char *) ?: "");
		break;
	case KV_COMM:
		ret = sb_put_escaped(sb, CFIELD(obj, f, char));
		break;
	}
	return ret ?: sb_printf(sb, "\n");
}

int kv_render(struct strbuf *sb, const struct kv_field *f, size_t n,
	      const void *obj)
{
	size_t i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = kv_render_one(sb, &f[i], obj);
		if (ret)
			return ret;
	}
	return 0;
}

static int kv_parse_value(struct crfs_text *t, const struct kv_field *f,
			  const char *val, void *obj)
{
	uint64_t u;
	char *s;
	int i;

	switch (f->type) {
	case KV_HEX:
		if (strncmp(val, "0x", 2) || parse_u64(val, &u))
			goto bad;
		*FIELD(obj, f, uint64_t) = u;
		return 0;
	case KV_INT:
		if (parse_int(val, &i))
			goto bad;
		*FIELD(obj, f, int) = i;
		return 0;
	case KV_UINT:
	case KV_OCT:
		if (parse_u64(val, &u) || u > 0xffffffffULL)
			goto bad;
		*FIELD(obj, f, unsigned int) = (unsigned int)u;
		return 0;
	case KV_STR:
		if (unescape(val, &s))
			goto bad;
		*FIELD(obj, f, char *) = s;
		return 0;
	case KV_COMM:
		if (unescape(val, &s))
			goto bad;
		if (strlen(s) > CRFS_COMM_LEN) {
			free(s);
			goto bad;
		}
		strcpy(FIELD(obj, f, char), s);
		free(s);
		return 0;
	}
bad:
	return text_error(t, "bad value '%s' for key '%s'", val, f->key);
}

static int kv_parse_extra(struct crfs_text *t, const char *const *keys,
			  const char *key, char *rest, unsigned char *seen,
			  kv_extra_fn extra, void *obj)
{
	size_t i;

	for (i = 0; keys && keys[i]; i++) {
		if (strcmp(keys[i], key))
			continue;
		if (seen[i]++)
			return text_error(t, "key '%s' given twice", key);
		return extra(t, key, rest, obj);
	}
	return text_error(t, "unknown key '%s'", key);
}

int kv_parse(struct crfs_text *t, const struct kv_field *f, size_t n,
	     void *obj, const char *const *extra_keys, kv_extra_fn extra)
{
	char line[CRFS_PATH_MAX * 4 + 64];
	unsigned char seen[64] = { 0 }, xseen[8] = { 0 };
	char *cur, *key, *val;
	size_t i;
	int ret;

	while ((ret = text_next_line(t, line, sizeof(line))) > 0) {
		cur = line;
		key = tok_next(&cur);
		if (!key)
			return text_error(t, "empty line");
		for (i = 0; i < n; i++)
			if (!strcmp(f[i].key, key))
				break;
		if (i == n) {
			ret = kv_parse_extra(t, extra_keys, key, cur, xseen,
					     extra, obj);
			if (ret)
				return ret;
			continue;
		}
		if (seen[i]++)
			return text_error(t, "key '%s' given twice", key);
		val = tok_next(&cur);
		if (!val || tok_next(&cur))
			return text_error(t, "key '%s' needs one value", key);
		ret = kv_parse_value(t, &f[i], val, obj);
		if (ret)
			return ret;
	}
	if (ret < 0)
		return ret;
	for (i = 0; i < n; i++)
		if (!seen[i])
			return text_error(t, "key '%s' is missing", f[i].key);
	for (i = 0; extra_keys && extra_keys[i]; i++)
		if (!xseen[i])
			return text_error(t, "key '%s' is missing",
					  extra_keys[i]);
	return 0;
}
