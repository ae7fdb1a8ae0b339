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
#include <sys/wait.h>

#include "crfs/format.h"

static const char *const kind_names[FK_COUNT] = {
	[FK_FILE] = "file", [FK_CHR] = "chr", [FK_DELETED] = "deleted",
	[FK_PIPE] = "pipe", [FK_FIFO] = "fifo", [FK_UNIX] = "unix",
	[FK_EVENTFD] = "eventfd", [FK_TIMERFD] = "timerfd",
	[FK_SIGNALFD] = "signalfd", [FK_EPOLL] = "epoll",
	[FK_INOTIFY] = "inotify", [FK_PTMX] = "ptmx", [FK_PTS] = "pts",
	[FK_PIDFD] = "pidfd", [FK_NETLINK] = "netlink", [FK_INET] = "inet",
	[FK_PROC] = "proc", [FK_FANOTIFY] = "fanotify",
	[FK_MQUEUE] = "mqueue", [FK_NSFD] = "ns", [FK_RAW] = "raw",
	[FK_PACKET] = "packet", [FK_TUN] = "tun",
	[FK_BPFMAP] = "bpfmap",
};

static const char *const sock_names[] = { "stream", "dgram", "seqpacket", "raw" };
#define NSOCK ((int)(sizeof(sock_names) / sizeof(sock_names[0])))

const char *file_kind_name(enum crfs_file_kind k)
{
	return k < FK_COUNT ? kind_names[k] : "?";
}

/* how a key's value is stored and written */
enum key_type {
	K_U32_OCT,	/* uint32_t, octal */
	K_U32,		/* uint32_t, decimal */
	K_U64_HEX,	/* uint64_t, 0x hex */
	K_U64,		/* uint64_t, decimal */
	K_INT,		/* int */
	K_BOOL,		/* bool, 0 or 1 */
	K_STR,		/* escaped string; its length at len_off if it has one */
	K_SOCK,		/* enum crfs_sock_type, by name */
	K_LOCK,		/* int, 'r' or 'w' */
};

struct file_key {
	const char *name;
	enum key_type type;
	size_t off;
	unsigned kinds;		/* bit per kind: where the key is required */
	int64_t def;		/* elsewhere written only when not this */
	size_t len_off;		/* K_STR holding NULs: its length field */
};

#define B(k) (1u << (k))
#define OFF(f) offsetof(struct crfs_file, f)
/* name, type, field, kinds requiring it, then .def, .len_off if any */
#define KEY(n, t, f, k, ...) \
	{ .name = n, .type = t, .off = OFF(f), .kinds = k, __VA_ARGS__ }
#define PATHED (B(FK_FILE) | B(FK_CHR) | B(FK_DELETED) | B(FK_FIFO) | \
		B(FK_PROC) | B(FK_MQUEUE))

static const struct file_key keys[] = {
	KEY("flags", K_U32_OCT, flags, ~0u),
	KEY("mode", K_U32_OCT, mode, PATHED),
	KEY("pos", K_U64_HEX, pos, B(FK_FILE) | B(FK_DELETED)),
	KEY("ino", K_U64, ino, B(FK_PIPE) | B(FK_FIFO) | B(FK_UNIX) |
				  B(FK_DELETED)),
	KEY("pipe_size", K_U32, pipe_size, B(FK_PIPE) | B(FK_FIFO)),
	KEY("type", K_SOCK, sock_type, B(FK_UNIX) | B(FK_NETLINK) | B(FK_INET) |
				       B(FK_RAW) | B(FK_PACKET)),
	KEY("proto", K_INT, protocol, B(FK_NETLINK) | B(FK_INET) | B(FK_RAW) |
				      B(FK_PACKET)),
	KEY("addr", K_STR, addr, 0),
	KEY("dst", K_STR, dst, 0),
	KEY("inopts", K_U32, inopts, 0),
	KEY("portid", K_U32, portid, 0),
	KEY("dst_portid", K_U32, dst_portid, 0),
	KEY("dst_group", K_U32, dst_group, 0),
	KEY("groups", K_U64_HEX, groups, 0),
	KEY("nlflags", K_U32, nlflags, 0),
	KEY("peer", K_U64, peer, B(FK_UNIX)),
	KEY("backlog", K_INT, backlog, B(FK_UNIX), .def = -1),
	KEY("ghost", K_BOOL, ghost, 0),
	KEY("nonlocal", K_BOOL, nonlocal, 0),
	KEY("fuid", K_U32, fuid, 0),
	KEY("fgid", K_U32, fgid, 0),
	KEY("shutdown", K_U32, shutdown, B(FK_UNIX)),
	KEY("msgs", K_U32, nmsgs, 0),
	KEY("seals", K_U32, seals, 0, .def = 1),
	KEY("fown", K_INT, fown, 0),
	KEY("fown_type", K_INT, fown_type, 0),
	KEY("fsig", K_INT, fsig, 0),
	KEY("sndbuf", K_INT, sndbuf, B(FK_UNIX)),
	KEY("rcvbuf", K_INT, rcvbuf, B(FK_UNIX)),
	KEY("passcred", K_BOOL, passcred, 0),
	KEY("peek_off", K_INT, peek_off, 0, .def = -1),
	KEY("peer_pid", K_INT, peer_pid, 0),
	KEY("peer_uid", K_U32, peer_uid, 0),
	KEY("peer_gid", K_U32, peer_gid, 0),
	KEY("rcvtimeo", K_U64, rcvtimeo, 0),
	KEY("sndtimeo", K_U64, sndtimeo, 0),
	KEY("connect", K_U64, connect_to, 0),
	KEY("accepted", K_U64, accepted, 0),
	KEY("accq", K_U32, accq, 0),
	KEY("pending", K_U32, pending, 0),
	KEY("pending_pos", K_U32, pending_pos, 0),
	KEY("abstract", K_STR, abstract, 0, .len_off = OFF(abstract_len)),
	KEY("count", K_U64_HEX, count, B(FK_EVENTFD)),
	KEY("semaphore", K_BOOL, semaphore, B(FK_EVENTFD)),
	KEY("clock", K_INT, clock, B(FK_TIMERFD)),
	KEY("ticks", K_U64, ticks, B(FK_TIMERFD)),
	KEY("tflags", K_INT, tflags, B(FK_TIMERFD)),
	KEY("value", K_U64, value_ns, B(FK_TIMERFD)),
	KEY("interval", K_U64, interval_ns, B(FK_TIMERFD)),
	KEY("expires", K_U64, expires, 0),
	KEY("sigmask", K_U64_HEX, sigmask, B(FK_SIGNALFD)),
	KEY("owner", K_INT, owner, B(FK_EPOLL)),
	KEY("pid", K_INT, pidfd_pid, B(FK_PIDFD)),
	KEY("exit_status", K_INT, exit_status, 0),
	KEY("flock", K_LOCK, flock, 0),
	KEY("lease", K_LOCK, lease, 0),
	KEY("times", K_STR, times, 0),
	KEY("rdev", K_U64_HEX, rdev, 0),
	KEY("index", K_INT, pty_index, B(FK_PTMX) | B(FK_PTS)),
	KEY("locked", K_BOOL, locked, B(FK_PTMX)),
	KEY("packet", K_BOOL, packet, 0),
	KEY("excl", K_BOOL, excl, B(FK_PTMX) | B(FK_PTS)),
	KEY("input", K_U64, pty_input, 0),
	KEY("winsize", K_STR, winsize, 0),
	KEY("termios", K_STR, termios, 0),
	KEY("lockterm", K_STR, lockterm, 0),
	KEY("session", K_INT, session, B(FK_PTS)),
	KEY("fg", K_INT, fg, B(FK_PTS)),
	KEY("external", K_BOOL, external, B(FK_PTS)),
	KEY("devtty", K_BOOL, devtty, 0),
	KEY("peername", K_STR, peername, 0, .len_off = OFF(peername_len)),
	KEY("data", K_U64, data, 0),
	KEY("sockopts", K_STR, sockopts, 0),
	KEY("bindname", K_STR, bindname, 0),
	KEY("proc_pid", K_INT, proc_pid, B(FK_PROC)),
	KEY("dead", K_BOOL, dead, 0),
	KEY("fan_flags", K_U32, fan_flags, B(FK_FANOTIFY)),
	KEY("fan_event_flags", K_U32_OCT, fan_event_flags, B(FK_FANOTIFY)),
	KEY("mq_maxmsg", K_U64, mq_maxmsg, B(FK_MQUEUE)),
	KEY("mq_msgsize", K_U64, mq_msgsize, B(FK_MQUEUE)),
	KEY("map_type", K_U32, map_type, B(FK_BPFMAP)),
	KEY("key_size", K_U32, key_size, B(FK_BPFMAP)),
	KEY("value_size", K_U32, value_size, B(FK_BPFMAP)),
	KEY("max_entries", K_U32, max_entries, B(FK_BPFMAP)),
	KEY("map_flags", K_U32, map_flags, 0),
	KEY("map_name", K_STR, map_name, 0),
	KEY("frozen", K_BOOL, frozen, 0),
	KEY("nstype", K_STR, ns_type, B(FK_NSFD)),
	KEY("ns_pid", K_INT, ns_pid, B(FK_NSFD)),
	KEY("ifname", K_STR, ifname, 0),
	KEY("bound_proto", K_INT, bound_proto, B(FK_PACKET)),
	KEY("fanout", K_U32, fanout, 0),
	KEY("mclist", K_STR, mclist, 0),
	KEY("ring", K_STR, ring, 0),
	KEY("tun_flags", K_U32, tun_flags, 0),
	KEY("tun_detached", K_BOOL, tun_detached, 0),
	KEY("tun_mac", K_STR, tun_mac, 0),
	KEY("tun_owner", K_INT, tun_owner, 0, .def = -1),
	KEY("tun_index", K_INT, tun_index, 0),
	KEY("tun_group", K_INT, tun_group, 0, .def = -1),
	KEY("path", K_STR, path, PATHED),
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* a numeric key's value, to compare with its default */
static int64_t key_value(const struct crfs_file *f, const struct file_key *k)
{
	const char *p = (const char *)f + k->off;

	switch (k->type) {
	case K_U32_OCT:
	case K_U32:
		return *(const uint32_t *)p;
	case K_U64_HEX:
	case K_U64:
		return (int64_t)*(const uint64_t *)p;
	case K_BOOL:
		return *(const bool *)p;
	case K_SOCK:
		return f->sock_type;
	default:
		return *(const int *)p;
	}
}

/* a key is written where its kind requires it, elsewhere when it is set */
static bool key_present(const struct crfs_file *f, const struct file_key *k)
{
	if (k->kinds & B(f->kind))
		return true;
	if (k->type == K_STR)
		return *(char *const *)((const char *)f + k->off) != NULL;
	return key_value(f, k) != k->def;
}

static int render_key(struct strbuf *sb, const struct crfs_file *f,
		      const struct file_key *k)
{
	const char *p = (const char *)f + k->off;
	int ret = sb_printf(sb, " %s=", k->name);

	if (ret)
		return ret;
	switch (k->type) {
	case K_U32_OCT:
		return sb_printf(sb, "0%o", *(const uint32_t *)p);
	case K_U64_HEX:
		return sb_printf(sb, "0x%lx", *(const uint64_t *)p);
	case K_U64:
		return sb_printf(sb, "%lu", *(const uint64_t *)p);
	case K_STR:
		if (k->len_off)
			return sb_put_escaped_len(sb, *(char *const *)p,
				*(const size_t *)((const char *)f + k->len_off));
		return sb_put_escaped(sb, *(char *const *)p);
	case K_SOCK:
		return sb_printf(sb, "%s", sock_names[f->sock_type]);
	case K_LOCK:
		if (p == (const char *)&f->flock && f->flock_pid > 0)
			return sb_printf(sb, "%c:%d", f->flock, f->flock_pid);
		return sb_printf(sb, "%c", *(const int *)p);
	default:
		return sb_printf(sb, "%ld", key_value(f, k));
	}
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
	free(f->lockterm);
	free(f->peername);
	free(f->map_name);
	free(f->addr);
	free(f->dst);
	free(f->sockopts);
	free(f->bindname);
	free(f->times);
	free(f->ns_type);
	free(f->ifname);
	free(f->mclist);
	free(f->ring);
	free(f->tun_mac);
}

void free_files(struct crfs_file *f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free_file(&f[i]);
	free(f);
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
		if (k->len_off)
			*(size_t *)((char *)f + k->len_off) = len;
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
		for (i = 0; i < NSOCK && strcmp(v, sock_names[i]); i++)
			;
		if (i == NSOCK)
			return text_error(t, "unknown socket type '%s'", v);
		f->sock_type = i;
		return 0;
	case K_LOCK:
		/* flock's value may name who took it: "w:PID" */
		if ((v[0] != 'r' && v[0] != 'w') ||
		    (v[1] && (p != (char *)&f->flock || v[1] != ':' ||
			      parse_int(v + 2, &i) || i <= 0)))
			return text_error(t, "bad %s '%s'", k->name, v);
		*(int *)p = v[0];
		if (p == (char *)&f->flock)
			f->flock_pid = v[1] ? i : 0;
		return 0;
	case K_U32_OCT:
	case K_U32:
		if (parse_u64(v, &u) || u > 0xffffffffULL)
			return text_error(t, "bad %s '%s'", k->name, v);
		*(uint32_t *)p = (uint32_t)u;
		return 0;
	default:
		if (parse_u64(v, &u))
			return text_error(t, "bad %s '%s'", k->name, v);
		*(uint64_t *)p = u;
		return 0;
	}
}

void init_file(struct crfs_file *f)
{
	memset(f, 0, sizeof(*f));
	f->backlog = -1;
	f->peek_off = -1;
	f->seals = 1;	/* F_SEAL_SEAL */
	f->tun_owner = f->tun_group = -1;
}

/* a relative name bound from path's directory: path ends in "/NAME" */
static bool bindname_fits(const struct crfs_file *f)
{
	size_t n = strlen(f->bindname), p = f->path ? strlen(f->path) : 0;

	return n && f->bindname[0] != '/' && p > n + 1 &&
	       f->path[p - n - 1] == '/' && !strcmp(f->path + p - n, f->bindname);
}

static int parse_file_line(struct crfs_text *t, char *line,
			   struct crfs_file *f)
{
	char *cur = line, *tok, *eq;
	bool seen[NKEYS] = { false };
	uint64_t id;
	size_t k;
	int ret;

	init_file(f);
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
		if (seen[k])
			return text_error(t, "key '%s' repeated", tok);
		seen[k] = true;
		ret = parse_key(t, f, &keys[k], eq + 1);
		if (ret)
			return ret;
	}
	for (k = 0; k < NKEYS; k++)
		if ((keys[k].kinds & B(f->kind)) && !seen[k])
			return text_error(t, "%s file without '%s'",
					  kind_names[f->kind], keys[k].name);
	if (f->path && f->path[0] != '/')
		return text_error(t, "path is not absolute");
	if (f->bindname && !bindname_fits(f))
		return text_error(t, "bindname is not the end of path");
	if (f->kind == FK_UNIX && f->sock_type == SOCK_T_RAW)
		return text_error(t, "a unix socket of socket type raw");
	if (f->kind == FK_PIDFD && (f->pidfd_pid == 0 || f->pidfd_pid < -1))
		return text_error(t, "a pidfd of pid %d", f->pidfd_pid);
	/* -1: it exited, as exit_status says (as wait gives it), no core */
	if (f->kind == FK_PIDFD &&
	    (f->pidfd_pid > 0 ? f->exit_status != 0 :
	     (!WIFEXITED(f->exit_status) && !WIFSIGNALED(f->exit_status)) ||
	     (WIFSIGNALED(f->exit_status) && WCOREDUMP(f->exit_status))))
		return text_error(t, "a pidfd of pid %d with exit_status %#x",
				  f->pidfd_pid, f->exit_status);
	if (f->kind == FK_INET && f->sock_type != SOCK_T_STREAM &&
	    f->sock_type != SOCK_T_DGRAM)
		return text_error(t, "an inet socket of socket type %s",
				  sock_names[f->sock_type]);
	if (f->kind == FK_NETLINK && f->sock_type != SOCK_T_RAW &&
	    f->sock_type != SOCK_T_DGRAM)
		return text_error(t, "a netlink socket of socket type %s",
				  sock_names[f->sock_type]);
	if ((f->kind == FK_RAW && f->sock_type != SOCK_T_RAW) ||
	    (f->kind == FK_PACKET && f->sock_type != SOCK_T_RAW &&
	     f->sock_type != SOCK_T_DGRAM))
		return text_error(t, "a %s socket of socket type %s",
				  kind_names[f->kind], sock_names[f->sock_type]);
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
