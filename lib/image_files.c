// SPDX-License-Identifier: MIT
/*
 * files: one line per open file description
 *	ID KIND key=value ...
 * Which keys a line has depends on KIND; numbers carry their base (0x for
 * hex, a leading 0 for octal), strings are escaped.  PID/fds points the
 * process's descriptors at these lines:
 *	FD ID cloexec|-
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "crfs/format.h"

static const char *const kind_names[FK_COUNT] = {
	[FK_FILE] = "file", [FK_CHR] = "chr", [FK_DELETED] = "deleted",
	[FK_PIPE] = "pipe", [FK_FIFO] = "fifo", [FK_UNIX] = "unix",
	[FK_EVENTFD] = "eventfd", [FK_TIMERFD] = "timerfd",
	[FK_SIGNALFD] = "signalfd", [FK_EPOLL] = "epoll",
	[FK_INOTIFY] = "inotify", [FK_PTMX] = "ptmx", [FK_PTS] = "pts",
	[FK_PIDFD] = "pidfd",
};

static const char *const sock_names[] = { "stream", "dgram", "seqpacket" };

const char *file_kind_name(enum crfs_file_kind k)
{
	return k < FK_COUNT ? kind_names[k] : "?";
}

enum key_type { K_OCT, K_HEX, K_DEC, K_INT, K_STR, K_BOOL, K_SOCK, K_LOCK };

struct file_key {
	const char *name;
	enum key_type type;
	size_t off;
	unsigned kinds;		/* bit per kind: where the key is required */
};

#define B(k) (1u << (k))
#define OFF(f) offsetof(struct crfs_file, f)
#define PATHED (B(FK_FILE) | B(FK_CHR) | B(FK_DELETED) | B(FK_FIFO))

static const struct file_key keys[] = {
	{ "flags", K_OCT, OFF(flags), ~0u },
	{ "mode", K_OCT, OFF(mode), PATHED },
	{ "pos", K_HEX, OFF(pos), B(FK_FILE) | B(FK_DELETED) },
	{ "ino", K_DEC, OFF(ino), B(FK_PIPE) | B(FK_FIFO) | B(FK_UNIX) |
				  B(FK_DELETED) },
	{ "pipe_size", K_DEC, OFF(pipe_size), B(FK_PIPE) | B(FK_FIFO) },
	{ "type", K_SOCK, OFF(sock_type), B(FK_UNIX) },
	{ "peer", K_DEC, OFF(peer), B(FK_UNIX) },
	{ "backlog", K_INT, OFF(backlog), B(FK_UNIX) },
	{ "shutdown", K_DEC, OFF(shutdown), B(FK_UNIX) },
	{ "msgs", K_DEC, OFF(nmsgs), 0 },
	{ "sndbuf", K_INT, OFF(sndbuf), B(FK_UNIX) },
	{ "rcvbuf", K_INT, OFF(rcvbuf), B(FK_UNIX) },
	{ "passcred", K_BOOL, OFF(passcred), 0 },
	{ "peek_off", K_INT, OFF(peek_off), 0 },
	{ "rcvtimeo", K_DEC, OFF(rcvtimeo), 0 },
	{ "sndtimeo", K_DEC, OFF(sndtimeo), 0 },
	{ "connect", K_DEC, OFF(connect_to), 0 },
	{ "accepted", K_DEC, OFF(accepted), 0 },
	{ "abstract", K_STR, OFF(abstract), 0 },
	{ "count", K_HEX, OFF(count), B(FK_EVENTFD) },
	{ "semaphore", K_BOOL, OFF(semaphore), B(FK_EVENTFD) },
	{ "clock", K_INT, OFF(clock), B(FK_TIMERFD) },
	{ "ticks", K_DEC, OFF(ticks), B(FK_TIMERFD) },
	{ "tflags", K_INT, OFF(tflags), B(FK_TIMERFD) },
	{ "value", K_DEC, OFF(value_ns), B(FK_TIMERFD) },
	{ "interval", K_DEC, OFF(interval_ns), B(FK_TIMERFD) },
	{ "sigmask", K_HEX, OFF(sigmask), B(FK_SIGNALFD) },
	{ "owner", K_INT, OFF(owner), B(FK_EPOLL) },
	{ "pid", K_INT, OFF(pidfd_pid), B(FK_PIDFD) },
	{ "flock", K_LOCK, OFF(flock), 0 },
	{ "index", K_INT, OFF(pty_index), B(FK_PTMX) | B(FK_PTS) },
	{ "locked", K_BOOL, OFF(locked), B(FK_PTMX) },
	{ "input", K_DEC, OFF(pty_input), 0 },
	{ "winsize", K_STR, OFF(winsize), 0 },
	{ "termios", K_STR, OFF(termios), 0 },
	{ "session", K_INT, OFF(session), B(FK_PTS) },
	{ "fg", K_INT, OFF(fg), B(FK_PTS) },
	{ "external", K_BOOL, OFF(external), B(FK_PTS) },
	{ "devtty", K_BOOL, OFF(devtty), 0 },
	{ "peername", K_STR, OFF(peername), 0 },
	{ "data", K_DEC, OFF(data), 0 },
	{ "path", K_STR, OFF(path), PATHED },
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* keys a kind has beyond its required ones, when they are set */
static bool key_present(const struct crfs_file *f, const struct file_key *k)
{
	const char *p = (const char *)f + k->off;

	if (k->kinds & B(f->kind))
		return true;
	switch (k->type) {
	case K_STR:
		return *(char *const *)p != NULL;
	case K_LOCK:
		return f->flock != 0;
	default:
		if (!strcmp(k->name, "msgs"))
			return f->kind == FK_UNIX &&
			       (f->sock_type != SOCK_T_STREAM || f->nmsgs);
		if (!strcmp(k->name, "connect"))
			return f->connect_to != 0;
		if (!strcmp(k->name, "accepted"))
			return f->accepted != 0;
		if (!strcmp(k->name, "external"))
			return f->external;
		if (!strcmp(k->name, "devtty"))
			return f->devtty;
		if (!strcmp(k->name, "input"))
			return f->pty_input != 0;
		if (!strcmp(k->name, "passcred"))
			return f->passcred;
		if (!strcmp(k->name, "rcvtimeo"))
			return f->rcvtimeo != 0;
		if (!strcmp(k->name, "sndtimeo"))
			return f->sndtimeo != 0;
		if (!strcmp(k->name, "peek_off"))
			return f->kind == FK_UNIX && f->peek_off >= 0;
		if (!strcmp(k->name, "data"))
			return f->data != 0;
		return false;
	}
}

static int render_key(struct strbuf *sb, const struct crfs_file *f,
		      const struct file_key *k)
{
	const char *p = (const char *)f + k->off;
	int ret = sb_printf(sb, " %s=", k->name);

	if (ret)
		return ret;
	switch (k->type) {
	case K_OCT:
		return sb_printf(sb, "0%o", *(const uint32_t *)p);
	case K_HEX:
		return sb_printf(sb, "0x%lx", *(const uint64_t *)p);
	case K_DEC:
		return !strcmp(k->name, "msgs") || !strcmp(k->name, "shutdown") ||
		       !strcmp(k->name, "pipe_size") ?
		       sb_printf(sb, "%u", *(const uint32_t *)p) :
		       sb_printf(sb, "%lu", *(const uint64_t *)p);
	case K_INT:
		return sb_printf(sb, "%d", *(const int *)p);
	case K_STR:
		if (k->off == OFF(abstract))
			return sb_put_escaped_len(sb, f->abstract,
						  f->abstract_len);
		if (k->off == OFF(peername))
			return sb_put_escaped_len(sb, f->peername,
						  f->peername_len);
		return sb_put_escaped(sb, *(char *const *)p);
	case K_BOOL:
		return sb_printf(sb, "%d", *(const bool *)p);
	case K_SOCK:
		return sb_printf(sb, "%s", sock_names[f->sock_type]);
	case K_LOCK:
		return sb_printf(sb, "%c", f->flock);
	}
	return -EINVAL;
}

int render_files(struct strbuf *sb, const struct crfs_file *f, size_t n)
{
	size_t i, k;
	int ret = 0;

	for (i = 0; !ret && i < n; i++) {
		ret = sb_printf(sb, "%u %s", f[i].id, file_kind_name(f[i].kind));
		for (k = 0; !ret && k < NKEYS; k++)
			if (key_present(&f[i], &keys[k]))
				ret = render_key(sb, &f[i], &keys[k]);
		ret = ret ?: sb_printf(sb, "\n");
	}
	return ret;
}

static void free_file(struct crfs_file *f)
{
	free(f->path);
	free(f->abstract);
	free(f->termios);
	free(f->winsize);
	free(f->peername);
}

void free_files(struct crfs_file *f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free_file(&f[i]);
	free(f);
}

static bool is_u32(const struct file_key *k)
{
	return k->type == K_OCT || !strcmp(k->name, "msgs") ||
	       !strcmp(k->name, "shutdown") || !strcmp(k->name, "pipe_size");
}

static int parse_key(struct crfs_text *t, struct crfs_file *f,
		     const struct file_key *k, const char *v)
{
	char *p = (char *)f + k->off;
	uint64_t u;
	size_t len;
	int i;

	switch (k->type) {
	case K_STR:
		if (*(char **)p || unescape_len(v, (char **)p, &len))
			return text_error(t, "bad %s", k->name);
		if (k->off == OFF(abstract))
			f->abstract_len = len;
		if (k->off == OFF(peername))
			f->peername_len = len;
		return 0;
	case K_INT:
		if (parse_int(v, &i))
			return text_error(t, "bad %s '%s'", k->name, v);
		*(int *)p = i;
		return 0;
	case K_BOOL:
		if (strcmp(v, "0") && strcmp(v, "1"))
			return text_error(t, "bad %s '%s'", k->name, v);
		*(bool *)p = v[0] == '1';
		return 0;
	case K_SOCK:
		for (i = 0; i < 3 && strcmp(v, sock_names[i]); i++)
			;
		if (i == 3)
			return text_error(t, "unknown socket type '%s'", v);
		f->sock_type = i;
		return 0;
	case K_LOCK:
		if (strcmp(v, "r") && strcmp(v, "w"))
			return text_error(t, "bad flock '%s'", v);
		f->flock = v[0];
		return 0;
	default:
		break;
	}
	if (parse_u64(v, &u) || (is_u32(k) && u > 0xffffffffULL))
		return text_error(t, "bad %s '%s'", k->name, v);
	if (is_u32(k))
		*(uint32_t *)p = (uint32_t)u;
	else
		*(uint64_t *)p = u;
	return 0;
}

static int parse_file_line(struct crfs_text *t, char *line,
			   struct crfs_file *f)
{
	char *cur = line, *tok, *eq;
	uint64_t seen = 0;
	uint64_t id;
	size_t k;
	int ret;

	memset(f, 0, sizeof(*f));
	f->backlog = -1;
	f->peek_off = -1;
	tok = tok_next(&cur);
	if (!tok || parse_u64(tok, &id) || !id || id > 0xffffffffULL)
		return text_error(t, "bad file id");
	f->id = (uint32_t)id;
	tok = tok_next(&cur);
	for (k = 0; tok && k < FK_COUNT && strcmp(tok, kind_names[k]); k++)
		;
	if (!tok || k == FK_COUNT)
		return text_error(t, "unknown file kind '%s'", tok ?: "");
	f->kind = k;
	while ((tok = tok_next(&cur))) {
		eq = strchr(tok, '=');
		if (!eq)
			return text_error(t, "want key=value, not '%s'", tok);
		*eq = '\0';
		for (k = 0; k < NKEYS && strcmp(tok, keys[k].name); k++)
			;
		if (k == NKEYS)
			return text_error(t, "unknown key '%s'", tok);
		if (seen & (1ULL << k))
			return text_error(t, "key '%s' repeated", tok);
		seen |= 1ULL << k;
		ret = parse_key(t, f, &keys[k], eq + 1);
		if (ret)
			return ret;
	}
	for (k = 0; k < NKEYS; k++)
		if ((keys[k].kinds & B(f->kind)) && !(seen & (1ULL << k)))
			return text_error(t, "%s file without '%s'",
					  kind_names[f->kind], keys[k].name);
	if (f->path && f->path[0] != '/')
		return text_error(t, "path is not absolute");
	return 0;
}

static void drop_file(void *item)
{
	free_file(item);
}

static int file_line(struct crfs_text *t, char *line, void *items, size_t i)
{
	struct crfs_file *f = (struct crfs_file *)items + i;
	int ret = parse_file_line(t, line, f);

	if (!ret && f->id != i + 1)
		ret = text_error(t, "file ids must count up from 1");
	return ret;
}

int parse_files(struct crfs_text *t, struct crfs_file **out, size_t *nout)
{
	return parse_lines(t, sizeof(**out), file_line, drop_file,
			   (void **)out, nout);
}

int render_fds(struct strbuf *sb, const struct crfs_fd *f, size_t n)
{
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < n; i++)
		ret = sb_printf(sb, "%d %u %s\n", f[i].fd, f[i].file,
				f[i].cloexec ? "cloexec" : "-");
	return ret;
}

static int fd_line(struct crfs_text *t, char *line, void *items, size_t i)
{
	struct crfs_fd *f = (struct crfs_fd *)items + i;
	char *tok[4], *cur = line;
	uint64_t id;
	int k;

	for (k = 0; k < 4; k++)
		tok[k] = tok_next(&cur);
	if (!tok[2] || tok[3])
		return text_error(t, "want 'fd file cloexec|-'");
	if (parse_int(tok[0], &f->fd) || f->fd < 0 || (i && f->fd <= f[-1].fd))
		return text_error(t, "bad, unsorted or repeated fd '%s'", tok[0]);
	if (parse_u64(tok[1], &id) || !id || id > 0xffffffffULL)
		return text_error(t, "bad file id '%s'", tok[1]);
	f->file = (uint32_t)id;
	if (strcmp(tok[2], "cloexec") && strcmp(tok[2], "-"))
		return text_error(t, "want cloexec or -, not '%s'", tok[2]);
	f->cloexec = tok[2][0] == 'c';
	return 0;
}

int parse_fds(struct crfs_text *t, struct crfs_fd **out, size_t *nout)
{
	return parse_lines(t, sizeof(**out), fd_line, NULL, (void **)out, nout);
}
