// SPDX-License-Identifier: MIT
/*
 * cgroup: the tree's cgroups, one "key value..." per line.  Each cgroup
 * line is followed by the limit lines of that cgroup; base, nsroot and
 * proc lines name a cgroup by hierarchy and path.  Strings are escaped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crfs/array.h"
#include "crfs/cgroup.h"

/*
 * The control files saved, in the order restore writes them (a period
 * before the quota it bounds, the cpus and mems a cpuset needs before any
 * task joins).  Anything else a cgroup sets is refused at freeze.
 */
const char *const crfs_cg_saved[] = {
	/* v2 */
	"cgroup.subtree_control", "cpuset.cpus", "cpuset.mems",
	"memory.min", "memory.low", "memory.high", "memory.max",
	"memory.swap.max", "cpu.max", "cpu.weight", "pids.max",
	/* v1 (pids.max and cpuset.* are named alike) */
	"memory.limit_in_bytes", "memory.soft_limit_in_bytes",
	"cpu.shares", "cpu.cfs_period_us", "cpu.cfs_quota_us",
	"devices.list",	/* deny by default: the devices allowed, a line each */
	NULL,
};

bool crfs_cg_is_saved(const char *file)
{
	size_t i;

	for (i = 0; crfs_cg_saved[i]; i++)
		if (!strcmp(crfs_cg_saved[i], file))
			return true;
	return false;
}

static int put_two(struct strbuf *sb, const char *a, const char *b)
{
	return sb_put_escaped(sb, a) ?: sb_printf(sb, " ") ?:
	       sb_put_escaped(sb, b) ?: sb_printf(sb, "\n");
}

static int render_group(struct strbuf *sb, const struct crfs_cg_group *g)
{
	size_t i;
	int ret = sb_printf(sb, "cgroup ") ?: put_two(sb, g->hier, g->path);

	for (i = 0; !ret && i < g->nlimits; i++)
		ret = sb_printf(sb, "limit ") ?:
		      put_two(sb, g->limits[i].file, g->limits[i].value);
	return ret;
}

int render_cgroups(struct strbuf *sb, const struct crfs_cgroups *c)
{
	const struct crfs_cg_place *p;
	size_t i;
	int ret = c->ns ? sb_printf(sb, "ns 1\n") : 0;

	for (i = 0; !ret && i < c->ngroups; i++)
		ret = render_group(sb, &c->groups[i]);
	for (i = 0; !ret && i < c->nplaces; i++) {
		p = &c->places[i];
		ret = p->pid > 0 ? sb_printf(sb, "proc %d ", p->pid) :
		      sb_printf(sb, p->pid ? "base " : "nsroot ");
		ret = ret ?: put_two(sb, p->hier, p->path);
	}
	return ret;
}

bool crfs_cg_below(const char *path, const char *anc)
{
	size_t len = strlen(anc);

	if (!strcmp(anc, "/"))
		return true;
	return !strncmp(path, anc, len) && (!path[len] || path[len] == '/');
}

/* both copies, or neither (-ENOMEM) */
static int dup_two(char **a, const char *x, char **b, const char *y)
{
	*a = strdup(x);
	*b = strdup(y);
	if (*a && *b)
		return 0;
	free(*a);
	free(*b);
	return -ENOMEM;
}

struct crfs_cg_group *crfs_cg_add_group(struct crfs_cgroups *c,
					const char *hier, const char *path)
{
	struct crfs_cg_group *g = array_room(c->groups, c->ngroups,
					     sizeof(*g));

	if (!g)
		return NULL;
	c->groups = g;
	g = &g[c->ngroups];
	memset(g, 0, sizeof(*g));
	if (dup_two(&g->hier, hier, &g->path, path))
		return NULL;
	c->ngroups++;
	return g;
}

int crfs_cg_add_limit(struct crfs_cg_group *g, const char *file,
		      const char *value)
{
	struct crfs_cg_limit *l = array_room(g->limits, g->nlimits,
					     sizeof(*l));

	if (!l)
		return -ENOMEM;
	g->limits = l;
	l = &l[g->nlimits];
	if (dup_two(&l->file, file, &l->value, value))
		return -ENOMEM;
	g->nlimits++;
	return 0;
}

int crfs_cg_add_place(struct crfs_cgroups *c, pid_t pid, const char *hier,
		      const char *path)
{
	struct crfs_cg_place *p = array_room(c->places, c->nplaces,
					     sizeof(*p));

	if (!p)
		return -ENOMEM;
	c->places = p;
	p = &p[c->nplaces];
	p->pid = pid;
	if (dup_two(&p->hier, hier, &p->path, path))
		return -ENOMEM;
	c->nplaces++;
	return 0;
}

/* "A B", both escaped; a hierarchy or path must be absolute or named */
static int take_two(struct crfs_text *t, const char *key, char *cur,
		    char **a, char **b)
{
	char *x = tok_next(&cur), *y = tok_next(&cur);

	*a = *b = NULL;
	if (!x || !y || tok_next(&cur) || unescape(x, a) || unescape(y, b)) {
		free(*a);
		free(*b);
		*a = *b = NULL;
		return text_error(t, "%s: want two fields", key);
	}
	return 0;
}

static int parse_place(struct crfs_text *t, const char *key, char *cur,
		       struct crfs_cgroups *c)
{
	char *pid_s = NULL, *hier, *path;
	int pid = 0, ret;

	if (!strcmp(key, "proc")) {
		pid_s = tok_next(&cur);
		if (!pid_s || parse_int(pid_s, &pid) || pid <= 0)
			return text_error(t, "proc: bad pid");
	} else if (!strcmp(key, "base")) {
		pid = -1;
	}
	ret = take_two(t, key, cur, &hier, &path);
	if (ret)
		return ret;
	if (path[0] != '/' || !hier[0])
		ret = text_error(t, "%s: want 'HIERARCHY /PATH'", key);
	else
		ret = crfs_cg_add_place(c, pid, hier, path);
	free(hier);
	free(path);
	return ret;
}

static int parse_group(struct crfs_text *t, char *cur,
		       struct crfs_cgroups *c)
{
	char *hier, *path;
	int ret = take_two(t, "cgroup", cur, &hier, &path);

	if (ret)
		return ret;
	/* restore makes directories from it: no way out of the hierarchy */
	if (path[0] != '/' || strstr(path, "/..") || !hier[0] ||
	    strchr(hier, '/'))
		ret = text_error(t, "cgroup: want 'HIERARCHY /PATH'");
	else if (!crfs_cg_add_group(c, hier, path))
		ret = -ENOMEM;
	free(hier);
	free(path);
	return ret;
}

static int parse_limit(struct crfs_text *t, char *cur,
		       struct crfs_cgroups *c)
{
	char *file, *value;
	int ret;

	if (!c->ngroups)
		return text_error(t, "limit: no cgroup line before it");
	ret = take_two(t, "limit", cur, &file, &value);
	if (ret)
		return ret;
	/* a control file of the cgroup's own directory */
	if (!crfs_cg_is_saved(file))
		ret = text_error(t, "limit: %s is no control file crfs restores",
				 file);
	else
		ret = crfs_cg_add_limit(&c->groups[c->ngroups - 1], file,
					value);
	free(file);
	free(value);
	return ret;
}

static int parse_line(struct crfs_text *t, char *line, struct crfs_cgroups *c)
{
	char *cur = line, *key = tok_next(&cur), *v;

	if (!key)
		return 0;
	if (!strcmp(key, "ns")) {
		v = tok_next(&cur);
		if (!v || strcmp(v, "1"))
			return text_error(t, "ns: want 1");
		c->ns = true;
		return 0;
	}
	if (!strcmp(key, "cgroup"))
		return parse_group(t, cur, c);
	if (!strcmp(key, "limit"))
		return parse_limit(t, cur, c);
	if (!strcmp(key, "proc") || !strcmp(key, "nsroot") ||
	    !strcmp(key, "base"))
		return parse_place(t, key, cur, c);
	return text_error(t, "unknown key: %s", key);
}

int parse_cgroups(struct crfs_text *t, struct crfs_cgroups *c)
{
	char line[16384];
	int ret = 0, more;

	memset(c, 0, sizeof(*c));
	while (!ret && (more = text_next_line(t, line, sizeof(line))) > 0)
		ret = parse_line(t, line, c);
	if (!ret && more < 0)
		ret = more;
	if (ret)
		crfs_cgroups_free(c);
	return ret;
}

void crfs_cgroups_free(struct crfs_cgroups *c)
{
	size_t i, k;

	for (i = 0; i < c->ngroups; i++) {
		for (k = 0; k < c->groups[i].nlimits; k++) {
			free(c->groups[i].limits[k].file);
			free(c->groups[i].limits[k].value);
		}
		free(c->groups[i].limits);
		free(c->groups[i].hier);
		free(c->groups[i].path);
	}
	for (i = 0; i < c->nplaces; i++) {
		free(c->places[i].hier);
		free(c->places[i].path);
	}
	free(c->groups);
	free(c->places);
	memset(c, 0, sizeof(*c));
}
