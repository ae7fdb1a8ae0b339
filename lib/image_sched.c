// SPDX-License-Identifier: MIT
/*
 * task/TID/sched: a thread's scheduling attributes, by name where a person
 * reads them (policy, I/O class) and the CPU list as taskset -c writes it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crfs/format.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* indexed by SCHED_* (3 is unused, 6 is SCHED_DEADLINE: refused) */
static const char *const policy_names[] = {
	"other", "fifo", "rr", "batch", NULL, "idle",
};

/* indexed by IOPRIO_CLASS_* */
static const char *const ioclass_names[] = { "none", "rt", "be", "idle" };

static const struct kv_field sched_fields[] = {
	{ "reset_on_fork", KV_INT, offsetof(struct crfs_sched, reset_on_fork) },
	{ "nice", KV_INT, offsetof(struct crfs_sched, nice) },
	{ "rt_priority", KV_INT, offsetof(struct crfs_sched, rt_priority) },
	{ "ioprio_level", KV_INT, offsetof(struct crfs_sched, ioprio_level) },
};
#define NPOLICY_FIELDS	3	/* the rest follows ioprio_class */

static bool cpu_isset(const struct crfs_sched *s, int cpu)
{
	return s->affinity[cpu / 64] >> (cpu % 64) & 1;
}

static int render_cpus(struct strbuf *sb, const struct crfs_sched *s)
{
	const char *sep = "";
	int cpu, end, ret = sb_printf(sb, "affinity ");

	for (cpu = 0; !ret && cpu < CRFS_MAX_CPUS; cpu++) {
		if (!cpu_isset(s, cpu))
			continue;
		for (end = cpu; end + 1 < CRFS_MAX_CPUS &&
		     cpu_isset(s, end + 1); end++)
			;
		ret = end == cpu ? sb_printf(sb, "%s%d", sep, cpu) :
				   sb_printf(sb, "%s%d-%d", sep, cpu, end);
		sep = ",";
		cpu = end;
	}
	return ret ?: sb_printf(sb, "\n");
}

static bool known(const char *const *names, size_t n, int v)
{
	return v >= 0 && (size_t)v < n && names[v];
}

int render_sched(struct strbuf *sb, const struct crfs_sched *s)
{
	int ret;

	if (!known(policy_names, ARRAY_SIZE(policy_names), s->policy) ||
	    !known(ioclass_names, ARRAY_SIZE(ioclass_names), s->ioprio_class))
		return -EINVAL;
	ret = sb_printf(sb, "policy %s\n", policy_names[s->policy]);
	ret = ret ?: kv_render(sb, sched_fields, NPOLICY_FIELDS, s);
	ret = ret ?: sb_printf(sb, "ioprio_class %s\n",
			       ioclass_names[s->ioprio_class]);
	ret = ret ?: kv_render(sb, sched_fields + NPOLICY_FIELDS,
			       ARRAY_SIZE(sched_fields) - NPOLICY_FIELDS, s);
	ret = ret ?: sb_printf(sb, "timerslack_ns %lu\n", s->timerslack_ns);
	return ret ?: render_cpus(sb, s);
}

static int name_index(const char *const *names, size_t n, const char *v)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		if (names[i] && !strcmp(names[i], v))
			return (int)i;
	return -1;
}

/* "0-3,6": each range within CRFS_MAX_CPUS, at least one CPU */
static int parse_cpus(struct crfs_sched *s, char *list)
{
	char *tok, *dash;
	int a, b, n = 0;

	while ((tok = strsep(&list, ","))) {
		dash = strchr(tok, '-');
		if (dash)
			*dash++ = '\0';
		if (parse_int(tok, &a) || (dash && parse_int(dash, &b)))
			return -EINVAL;
		if (!dash)
			b = a;
		if (a < 0 || b < a || b >= CRFS_MAX_CPUS)
			return -EINVAL;
		for (; a <= b; a++, n++)
			s->affinity[a / 64] |= 1ULL << (a % 64);
	}
	return n ? 0 : -EINVAL;
}

static int sched_extra(struct crfs_text *t, const char *key, char *rest,
		       void *obj)
{
	struct crfs_sched *s = obj;
	char *v = tok_next(&rest);

	if (!v || tok_next(&rest))
		return text_error(t, "key '%s' needs one value", key);
	if (!strcmp(key, "policy"))
		s->policy = name_index(policy_names, ARRAY_SIZE(policy_names), v);
	else if (!strcmp(key, "ioprio_class"))
		s->ioprio_class = name_index(ioclass_names,
					     ARRAY_SIZE(ioclass_names), v);
	else if (!strcmp(key, "timerslack_ns"))
		return parse_u64(v, &s->timerslack_ns) ?
		       text_error(t, "bad timerslack_ns '%s'", v) : 0;
	else
		return parse_cpus(s, v) ?
		       text_error(t, "bad CPU list '%s'", v) : 0;
	if (s->policy < 0 || s->ioprio_class < 0)
		return text_error(t, "unknown %s '%s'", key, v);
	return 0;
}

int parse_sched(struct crfs_text *t, struct crfs_sched *s)
{
	static const char *const extra[] = { "policy", "ioprio_class",
					     "timerslack_ns", "affinity",
					     NULL };

	memset(s, 0, sizeof(*s));
	return kv_parse(t, sched_fields, ARRAY_SIZE(sched_fields), s, extra,
			sched_extra);
}
