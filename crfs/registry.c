// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "container.h"

struct container *registry_find(struct registry *r, const char *name)
{
	struct container *c;

	for (c = r->head; c; c = c->next)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

struct container *registry_find_id(struct registry *r, uint64_t id)
{
	struct container *c;

	for (c = r->head; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

int registry_add(struct registry *r, const char *name)
{
	struct container *c, **tail;

	if (registry_find(r, name))
		return -EEXIST;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->name = strdup(name);
	if (!c->name) {
		free(c);
		return -ENOMEM;
	}
	c->id = ++r->next_id;
	c->state = C_EMPTY;
	c->changed = time(NULL);
	for (tail = &r->head; *tail; tail = &(*tail)->next)
		;
	*tail = c;
	r->changed = c->changed;
	return 0;
}

static void container_free(struct container *c)
{
	if (c->state == C_FROZEN)
		thaw_tree(c);
	snapshot_free(c->snap);
	track_end(c);
	free(c->tids);
	free(c->pids);
	free(c->name);
	free(c);
}

int registry_remove(struct registry *r, const char *name)
{
	struct container **p, *c;

	for (p = &r->head; *p; p = &(*p)->next) {
		if (strcmp((*p)->name, name))
			continue;
		c = *p;
		*p = c->next;
		container_free(c);
		r->changed = time(NULL);
		return 0;
	}
	return -ENOENT;
}

void registry_reap(struct registry *r)
{
	struct container *c;

	for (c = r->head; c; c = c->next) {
		if (c->state != C_FROZEN || !reap_tree(c))
			continue;
		if (r->forget)
			r->forget(r, c);
		drop_tree(c);
		c->state = C_DEAD;
		c->gen++;
		c->changed = time(NULL);
	}
}

void registry_release_all(struct registry *r)
{
	struct container *c;

	while ((c = r->head)) {
		r->head = c->next;
		container_free(c);
	}
}
