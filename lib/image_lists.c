// SPDX-License-Identifier: MIT
/*
 * Small line-per-item files:
 *	fdata/ID of an epoll:	TFD FILE EVENTS DATA
 *	fdata/ID of an inotify:	WD MASK PATH [FILE]
 *	locks:			posix|ofd r|w FILE START LEN PID
 *	PID/timers:		real|virtual|prof VALUE INTERVAL
 *				posix ID CLOCK NOTIFY SIGNO SIGVAL TID VALUE
 *				      INTERVAL OVERRUN
 * Times are nanoseconds.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crfs/format.h"

#define MAXTOK 12

/* the line's tokens, up to one more than any list has */
static int split(char *line, char **tok)
{
	int k;

	for (k = 0; k <= MAXTOK && (tok[k] = tok_next(&line)); k++)
		;
	return k;
}

static int want_u32(const char *s, uint32_t *v)
{
	uint64_t u;

	if (parse_u64(s, &u) || u > 0xffffffffULL)
		return -EINVAL;
	*v = (uint32_t)u;
	return 0;
}

int render_epoll(struct strbuf *sb, const struct crfs_epoll_item *e, size_t n)
{
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < n; i++)
		ret = sb_printf(sb, "%d %u 0x%x 0x%lx\n", e[i].tfd, e[i].file,
				e[i].events, e[i].data);
	return ret;
}

static int epoll_item(struct crfs_text *t, char *line, void *items, size_t i)
{
	struct crfs_epoll_item *e = (struct crfs_epoll_item *)items + i;
	char *tok[MAXTOK + 1];
	int ntok = split(line, tok);

	if (ntok != 4 || parse_int(tok[0], &e->tfd) || e->tfd < 0 ||
	    want_u32(tok[1], &e->file) || !e->file ||
	    want_u32(tok[2], &e->events) || parse_u64(tok[3], &e->data))
		return text_error(t, "want 'tfd file events data'");
	return 0;
}

int parse_epoll(struct crfs_text *t, struct crfs_epoll_item **e, size_t *n)
{
	return parse_lines(t, sizeof(**e), epoll_item, NULL, (void **)e, n);
}

int render_inotify(struct strbuf *sb, const struct crfs_inotify_watch *w,
		   size_t n)
{
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < n; i++) {
		ret = sb_printf(sb, "%d 0x%x ", w[i].wd, w[i].mask);
		ret = ret ?: sb_put_escaped(sb, w[i].path);
		if (w[i].file)
			ret = ret ?: sb_printf(sb, " %u", w[i].file);
		ret = ret ?: sb_printf(sb, "\n");
	}
	return ret;
}

static int cmp_wd(const void *a, const void *b)
{
	return ((const struct crfs_inotify_watch *)a)->wd -
	       ((const struct crfs_inotify_watch *)b)->wd;
}

/* watches are listed by watch descriptor: the order restore adds them */
void sort_inotify(struct crfs_inotify_watch *w, size_t n)
{
	if (n)
		qsort(w, n, sizeof(*w), cmp_wd);
}

static int inotify_item(struct crfs_text *t, char *line, void *items, size_t i)
{
	struct crfs_inotify_watch *w = (struct crfs_inotify_watch *)items + i;
	char *tok[MAXTOK + 1];
	int ntok = split(line, tok);

	w->file = 0;
	if ((ntok != 3 && ntok != 4) || parse_int(tok[0], &w->wd) ||
	    w->wd <= 0 || want_u32(tok[1], &w->mask) ||
	    (ntok == 4 && (want_u32(tok[3], &w->file) || !w->file)))
		return text_error(t, "want 'wd mask path [file]'");
	if (i && w->wd <= w[-1].wd)
		return text_error(t, "watch descriptors unsorted or repeated");
	if (unescape(tok[2], &w->path) || w->path[0] != '/')
		return text_error(t, "bad watch path");
	return 0;
}

static void drop_watch(void *item)
{
	free(((struct crfs_inotify_watch *)item)->path);
}

void free_inotify(struct crfs_inotify_watch *w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(w[i].path);
	free(w);
}

int parse_inotify(struct crfs_text *t, struct crfs_inotify_watch **w,
		  size_t *n)
{
	return parse_lines(t, sizeof(**w), inotify_item, drop_watch, (void **)w,
			  n);
}

int render_locks(struct strbuf *sb, const struct crfs_lock *l, size_t n)
{
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < n; i++)
		ret = sb_printf(sb, "%s %c %u 0x%lx 0x%lx %d\n",
				l[i].ofd ? "ofd" : "posix",
				l[i].write ? 'w' : 'r', l[i].file, l[i].start,
				l[i].len, l[i].pid);
	return ret;
}

static int lock_item(struct crfs_text *t, char *line, void *items, size_t i)
{
	struct crfs_lock *l = (struct crfs_lock *)items + i;
	char *tok[MAXTOK + 1];
	int ntok = split(line, tok);

	if (ntok != 6 || (strcmp(tok[0], "posix") && strcmp(tok[0], "ofd")) ||
	    (strcmp(tok[1], "r") && strcmp(tok[1], "w")) ||
	    want_u32(tok[2], &l->file) || !l->file ||
	    parse_u64(tok[3], &l->start) || parse_u64(tok[4], &l->len) ||
	    parse_int(tok[5], &l->pid) || l->pid <= 0)
		return text_error(t, "want 'posix|ofd r|w file start len pid'");
	l->ofd = tok[0][0] == 'o';
	l->write = tok[1][0] == 'w';
	return 0;
}

int parse_locks(struct crfs_text *t, struct crfs_lock **l, size_t *n)
{
	return parse_lines(t, sizeof(**l), lock_item, NULL, (void **)l, n);
}

static const char *const itimer_names[] = { "real", "virtual", "prof" };

int render_timers(struct strbuf *sb, const struct crfs_timer *tm, size_t n)
{
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < n; i++) {
		const struct crfs_timer *x = &tm[i];

		if (!x->posix)
			ret = sb_printf(sb, "%s %lu %lu\n", itimer_names[x->id],
					x->value_ns, x->interval_ns);
		else
			ret = sb_printf(sb, "posix %d %d %d %d 0x%lx %d %lu %lu %d %d\n",
					x->id, x->clock, x->notify, x->signo,
					x->sigval, x->tid, x->value_ns,
					x->interval_ns, x->overrun, x->cpu_tid);
	}
	return ret;
}

static int timer_item(struct crfs_text *t, char *line, void *items, size_t i)
{
	struct crfs_timer *x = (struct crfs_timer *)items + i;
	char *tok[MAXTOK + 1];
	int ntok = split(line, tok), k;

	for (k = 0; k < 3 && ntok && strcmp(tok[0], itimer_names[k]); k++)
		;
	if (k < 3) {
		x->id = k;
		if (ntok != 3 || parse_u64(tok[1], &x->value_ns) ||
		    parse_u64(tok[2], &x->interval_ns))
			return text_error(t, "want '%s value interval'",
					  itimer_names[k]);
		return 0;
	}
	x->posix = true;
	/* an image from before CPU_TID: a line of 10, the main thread's */
	if (ntok == 11 && (parse_int(tok[10], &x->cpu_tid) || x->cpu_tid < 0))
		return text_error(t, "bad cpu thread '%s'", tok[10]);
	if ((ntok != 10 && ntok != 11) || strcmp(tok[0], "posix") ||
	    parse_int(tok[1], &x->id) ||
	    x->id < 0 || parse_int(tok[2], &x->clock) ||
	    parse_int(tok[3], &x->notify) || parse_int(tok[4], &x->signo) ||
	    parse_u64(tok[5], &x->sigval) || parse_int(tok[6], &x->tid) ||
	    parse_u64(tok[7], &x->value_ns) ||
	    parse_u64(tok[8], &x->interval_ns) ||
	    parse_int(tok[9], &x->overrun))
		return text_error(t, "want 'posix id clock notify signo sigval tid value interval overrun [cpu_tid]'");
	return 0;
}

int parse_timers(struct crfs_text *t, struct crfs_timer **tm, size_t *n)
{
	return parse_lines(t, sizeof(**tm), timer_item, NULL, (void **)tm, n);
}
