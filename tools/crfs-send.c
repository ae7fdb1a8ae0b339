// SPDX-License-Identifier: MIT
/*
 * crfs-send: the part of `crfsctl migrate` that runs while the tree is
 * frozen, in one process that is already running when the freeze starts.
 * Each process the shell script started there (date, tar, ip, sed) cost
 * 10-30 ms on a loaded VM, more than the work itself.
 *
 *   crfs-send [--stream [--precopy N|auto]] [--zstd]
 *             [--wait-pid PID [--answer FILE]] [--times FILE]
 *             [--peers FILE] DIR
 *
 * --precopy: first, while the tree runs, pre-copy rounds into the same
 * stream: each a pre-dump (ctl predump) sent as the directory .preI of
 * the archive, relative to the one before (parent ../.preI-1), then
 * released; N of them, or (auto) until the written set shrinks by less
 * than a tenth, at most 8; the image of the freeze names .preN its parent.
 * One stream for all: a round costs no ssh session, remote shell or tar
 * (each tens of ms here), and the shorter a round, the less the tree
 * writes before the freeze: the last copy, made while it is frozen.
 * --zstd: "compress zstd" before the freeze (after the rounds: pre-dumps
 * are never compressed).
 *
 * A recipe: freeze the container DIR (crfs's NAME directory), refuse if
 * its ctl lists anything unsupported, set the host ends of its veths that
 * are up down (beside the copy, in a thread), and with --stream write the
 * image (DIR without ctl) as a tar archive on standard output, then, once
 * the veths are down, the go member (.crfsctl-go) the other host restores
 * on.  --wait-pid: then wait for PID (the ssh session) to end.
 * --answer FILE: where that session's output goes; the first whole line
 * added after the go (the restore there: its tree runs) is stamped
 * "answer": the downtime's end as this host can know it, before the
 * session's own end (the restore's exit, ssh closing the channel).
 *
 * --peers FILE: the veths set down, one line, before any is; the caller
 * sets them up again on a failure.  --times FILE: "freeze T", "frozen T",
 * "read T", "down T", "go T", "answer T" and "end T" lines,
 * CLOCK_REALTIME seconds.
 *
 * Exit status: 0 done; 2 usage; 5 the freeze failed (the tree runs on);
 * 6 the checkpoint cannot be taken ("unsupported" lines); 7 reading the
 * image failed; 8 writing the stream failed; 9 a pre-copy round failed
 * (the tree runs on, its tracking ended; the stream is cut).  With 6, 7
 * and 8 the tree stays frozen: the caller thaws it.
 */
#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "crfs/ns.h"
#include "crfs/tar.h"
#include "kh.h"

#define GO_NAME		".crfsctl-go"
#define OUT_SIZE	(1 << 20)
/* --precopy auto: at most this many rounds (crfsctl's PRECOPY_AUTO_MAX) */
#define PRECOPY_AUTO_MAX 8

enum { T_FREEZE, T_FROZEN, T_READ, T_DOWN, T_GO, T_ANSWER, T_END, T_COUNT };
static const char *const time_names[T_COUNT] = {
	"freeze", "frozen", "read", "down", "go", "answer", "end",
};

struct send {
	const char *dir;
	int dirfd;
	bool stream, zstd;
	int precopy;		/* rounds; -1: auto; 0: none */
	pid_t wait_pid;
	const char *times_file, *peers_file, *answer_file;
	int answer_wd;		/* inotify on answer_file, or -1 */
	off_t answer_at;	/* its size at the go */
	struct timespec t[T_COUNT];
	char (*peers)[16];	/* struct crfs_ns_link's names */
	int npeers;
	/* the stream's output buffer: headers and small files go out in
	 * large writes */
	unsigned char *out;
	size_t out_len;
	uint64_t written;
	/* a pre-copy round's: the bytes of its processes' pages, summed as
	 * they are sent (NULL: not counted) */
	uint64_t *round_pages;
};

static void stamp(struct send *s, int which)
{
	clock_gettime(CLOCK_REALTIME, &s->t[which]);
}

/* --- the freeze -------------------------------------------------------- */

/* ctl's lines that start with prefix, on stderr (strip: as crfsctl's own
 * message, the error of a refused command); how many */
static int show_ctl(struct send *s, const char *prefix, bool strip)
{
	char line[4096];
	int fd = openat(s->dirfd, "ctl", O_RDONLY | O_CLOEXEC), n = 0;
	FILE *f;

	if (fd < 0 || !(f = fdopen(fd, "r"))) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, prefix, strlen(prefix)))
			continue;
		fprintf(stderr, "%s%s", strip ? "crfsctl: " : "",
			line + (strip ? strlen(prefix) : 0));
		n++;
	}
	fclose(f);
	return n;
}

static int ctl_open(struct send *s)
{
	int fd = openat(s->dirfd, "ctl", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		fprintf(stderr, "crfs-send: %s/ctl: %s\n", s->dir, strerror(errno));
	return fd;
}

/* n: what the write of cmd gave; a refusal's reason said from ctl */
static bool ctl_wrote(struct send *s, ssize_t n, const char *cmd)
{
	if (n == (ssize_t)strlen(cmd))
		return true;
	show_ctl(s, "error ", true);
	return false;
}

/* cmd (a line) written to ctl: false if refused, the reason said if say */
static bool ctl_say(struct send *s, const char *cmd, bool say)
{
	int fd = ctl_open(s);
	ssize_t n;

	if (fd < 0)
		return false;
	n = write(fd, cmd, strlen(cmd));
	close(fd);
	return say ? ctl_wrote(s, n, cmd) : n == (ssize_t)strlen(cmd);
}

static bool ctl(struct send *s, const char *cmd)
{
	return ctl_say(s, cmd, true);
}

static int freeze(struct send *s)
{
	static const char cmd[] = "freeze\n";
	int fd;
	ssize_t n;

	if (s->zstd && !ctl(s, "compress zstd\n"))
		return 5;
	fd = ctl_open(s);
	if (fd < 0)
		return 5;
	stamp(s, T_FREEZE);
	n = write(fd, cmd, sizeof(cmd) - 1);
	stamp(s, T_FROZEN);
	close(fd);
	if (!ctl_wrote(s, n, cmd))
		return 5;
	return show_ctl(s, "unsupported ", false) ? 6 : 0;
}

/* --- the veths --------------------------------------------------------- */

/* the host ends of the tree's veths (its image's ns file) that are up */
static int find_peers(struct send *s)
{
	char path[PATH_MAX], err[256], *buf;
	struct crfs_text t;
	struct crfs_ns ns;
	size_t len, i;
	bool up;
	int ret;

	snprintf(path, sizeof(path), "%s/%s", s->dir, CRFS_F_NS);
	ret = kh_read_file(path, &buf, &len);
	if (ret)
		return ret == -ENOENT ? 0 : ret;
	text_init(&t, path, buf, len, err, sizeof(err));
	ret = parse_ns(&t, &ns);
	free(buf);
	if (ret) {
		fprintf(stderr, "crfs-send: %s\n", err);
		return ret;
	}
	s->peers = calloc(ns.nveths ?: 1, sizeof(*s->peers));
	for (i = 0; s->peers && i < ns.nveths; i++)
		if (!kh_link_is_up(ns.veths[i].out.name, &up) && up)
			memcpy(s->peers[s->npeers++], ns.veths[i].out.name,
			       sizeof(s->peers[0]));
	crfs_ns_free(&ns);
	return s->peers ? 0 : -ENOMEM;
}

static int write_peers(struct send *s)
{
	FILE *f;
	int i;

	if (!s->peers_file)
		return 0;
	f = fopen(s->peers_file, "we");
	if (!f)
		return -errno;
	for (i = 0; i < s->npeers; i++)
		fprintf(f, "%s%s", i ? " " : "", s->peers[i]);
	fputc('\n', f);
	return fclose(f) ? -errno : 0;
}

static void *peers_down(void *arg)
{
	struct send *s = arg;
	int i, ret;

	for (i = 0; i < s->npeers; i++) {
		ret = kh_link_set_up(s->peers[i], false);
		if (ret)	/* as ip(8) failing did: said, not fatal */
			fprintf(stderr, "crfs-send: cannot set %s down: %s\n",
				s->peers[i], strerror(-ret));
	}
	stamp(s, T_DOWN);
	return NULL;
}

/* --- the stream -------------------------------------------------------- */

static int flush_out(struct send *s)
{
	size_t off = 0;
	ssize_t n;

	while (off < s->out_len) {
		n = write(STDOUT_FILENO, s->out + off, s->out_len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "crfs-send: writing the stream: %s\n",
				n < 0 ? strerror(errno) : "short write");
			return 8;
		}
		off += n;
	}
	s->written += s->out_len;
	s->out_len = 0;
	return 0;
}

/* room for len bytes in the output buffer (len <= OUT_SIZE) */
static int room(struct send *s, size_t len)
{
	return s->out_len + len > OUT_SIZE ? flush_out(s) : 0;
}

static int put_zeros(struct send *s, size_t len)
{
	int ret = room(s, len);

	if (!ret) {
		memset(s->out + s->out_len, 0, len);
		s->out_len += len;
	}
	return ret;
}

static int put_header(struct send *s, const struct crfs_tar_member *m)
{
	size_t len = crfs_tar_header_len(m);
	int ret;

	ret = room(s, len);
	if (ret)
		return ret;
	if (crfs_tar_header(m, s->out + s->out_len)) {
		fprintf(stderr, "crfs-send: %s/%s: tar cannot hold its attributes\n",
			s->dir, m->name);
		return 7;
	}
	s->out_len += len;
	return 0;
}

/* the file's data, exactly the size its header gave */
static int put_data(struct send *s, int fd, const char *path, uint64_t size)
{
	uint64_t left = size;
	ssize_t n = 0;
	char extra;
	int ret;

	while (left) {
		if (s->out_len == OUT_SIZE && (ret = flush_out(s)))
			return ret;
		n = read(fd, s->out + s->out_len,
			 left < OUT_SIZE - s->out_len ? left : OUT_SIZE - s->out_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto changed;
		s->out_len += n;
		left -= n;
	}
	n = read(fd, &extra, 1);
	if (n)
		goto changed;
	return put_zeros(s, crfs_tar_pad(size));
changed:
	fprintf(stderr, "crfs-send: %s/%s: %s\n", s->dir, path,
		n < 0 ? strerror(errno) : "its size changed as it was read");
	return 7;
}

static int put_tree(struct send *s, int dfd, const char *rel, bool top);

/* a round's PID/pages: ".preI/PID/pages" (crfs gives its exact size) */
static bool round_pages_file(const char *rel)
{
	const char *pid = strchr(rel, '/'), *last = strrchr(rel, '/');

	return pid && pid[1] >= '1' && pid[1] <= '9' &&
	       strchr(pid + 1, '/') == last && !strcmp(last + 1, "pages");
}

/* opened, then fstat: one lookup through the mount per entry, while the
 * tree is frozen (the image holds files and directories only) */
static int put_entry(struct send *s, int dfd, const char *name,
		     const char *rel)
{
	struct crfs_tar_member m = { .name = rel };
	struct stat st;
	int fd, ret;

	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "crfs-send: %s/%s: %s\n", s->dir, rel,
			strerror(errno));
		ret = 7;
		goto out;
	}
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
		fprintf(stderr, "crfs-send: %s/%s: neither a file nor a directory\n",
			s->dir, rel);
		ret = 7;
		goto out;
	}
	m.type = S_ISDIR(st.st_mode) ? '5' : '0';
	m.mode = st.st_mode & 07777;
	m.uid = st.st_uid;
	m.gid = st.st_gid;
	m.size = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
	m.mtime = st.st_mtim.tv_sec;
	if (s->round_pages && round_pages_file(rel))
		*s->round_pages += m.size;
	ret = put_header(s, &m);
	if (!ret)
		ret = S_ISDIR(st.st_mode) ? put_tree(s, fd, rel, false) :
					    put_data(s, fd, rel, m.size);
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

/* dfd's entries (the top's without ctl), each directory before its own,
 * named under rel ("": at the archive's top) */
static int put_tree(struct send *s, int dfd, const char *rel, bool top)
{
	char path[4096];
	struct dirent *de;
	int fd, ret = 0;
	DIR *d;

	/* its own open: a dup would share (and leave at the end) the offset of
	 * a directory read before, the top's for each round */
	fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		fprintf(stderr, "crfs-send: %s/%s: %s\n", s->dir, rel, strerror(errno));
		return 7;
	}
	while (!ret && (errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    (top && !strcmp(de->d_name, "ctl")))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s%s%s", rel,
				     *rel ? "/" : "", de->d_name) >= sizeof(path)) {
			fprintf(stderr, "crfs-send: %s/%s: name too long\n",
				s->dir, rel);
			ret = 7;
			break;
		}
		ret = put_entry(s, dfd, de->d_name, path);
	}
	if (!ret && errno) {
		fprintf(stderr, "crfs-send: %s/%s: %s\n", s->dir, rel, strerror(errno));
		ret = 7;
	}
	closedir(d);
	return ret;
}

/* the go member, the end-of-archive blocks and the record's padding */
static int put_go(struct send *s)
{
	struct crfs_tar_member m = {
		.name = GO_NAME, .type = '0', .mode = 0644,
		.mtime = s->t[T_FROZEN].tv_sec,
	};
	uint64_t total;
	int ret;

	ret = put_header(s, &m) ?: put_zeros(s, 2 * CRFS_TAR_BLOCK);
	total = s->written + s->out_len;
	ret = ret ?: put_zeros(s, (CRFS_TAR_RECORD - total % CRFS_TAR_RECORD) %
				  CRFS_TAR_RECORD);
	return ret ?: flush_out(s);
}

/* --- pre-copy rounds --------------------------------------------------- */

/* the held pre-dump's stop in us, from ctl ("predump frozen_us N") */
static long predump_us(struct send *s)
{
	char path[PATH_MAX], *buf, *at;
	long us = -1;

	snprintf(path, sizeof(path), "%s/ctl", s->dir);
	if (kh_read_file(path, &buf, NULL))
		return -1;
	at = strstr(buf, "predump frozen_us ");
	if (at && (at == buf || at[-1] == '\n'))
		us = strtol(at + strlen("predump frozen_us "), NULL, 10);
	free(buf);
	return us;
}

/* the round's pre-dump as the archive's directory .preI; *pages: the
 * bytes of its processes' pages */
static int put_round(struct send *s, int i, uint64_t *pages)
{
	struct crfs_tar_member m = { .type = '5' };
	char rel[32];
	struct stat st;
	int ret;

	if (fstat(s->dirfd, &st) < 0) {
		fprintf(stderr, "crfs-send: %s: %s\n", s->dir, strerror(errno));
		return 7;
	}
	snprintf(rel, sizeof(rel), ".pre%d", i);
	m.name = rel;
	m.mode = st.st_mode & 07777;
	m.uid = st.st_uid;
	m.gid = st.st_gid;
	m.mtime = time(NULL);
	*pages = 0;
	s->round_pages = pages;
	ret = put_header(s, &m) ?: put_tree(s, s->dirfd, rel, true);
	s->round_pages = NULL;
	return ret ?: flush_out(s);
}

/* --precopy auto: another round unless round i's written set shrank by
 * less than a tenth from the round before (crfsctl's precopy_more) */
static bool more_rounds(struct send *s, int i, uint64_t bytes, uint64_t last)
{
	if (s->precopy > 0)
		return i < s->precopy;
	return i < PRECOPY_AUTO_MAX && (i < 2 || bytes * 10 <= last * 9);
}

/* one round: pre-dump, stream, release; said as crfsctl says it */
static int precopy_round(struct send *s, int i, uint64_t *bytes)
{
	char cmd[48];
	int ret;

	snprintf(cmd, sizeof(cmd), "parent ../.pre%d\n", i - 1);
	if ((i > 1 && !ctl(s, cmd)) || !ctl(s, "predump\n"))
		return 9;
	ret = put_round(s, i, bytes);
	if (!ret)
		fprintf(stderr, "crfsctl: pre-copy round %d: %llu bytes of pages, the tree stopped for %ld us\n",
			i, (unsigned long long)*bytes, predump_us(s));
	if (!ctl(s, "release\n"))
		ret = ret ?: 9;
	return ret;
}

/* the rounds, then the freeze's image named their last's child */
static int precopy(struct send *s)
{
	uint64_t bytes = 0, last = 0;
	char cmd[48];
	int i;

	for (i = 1;; i++) {
		if (precopy_round(s, i, &bytes))
			goto fail;
		if (!more_rounds(s, i, bytes, last))
			break;
		last = bytes;
	}
	/* naming the last round the parent belongs to it */
	snprintf(cmd, sizeof(cmd), "parent .pre%d\n", i);
	if (ctl(s, cmd))
		return 0;
fail:
	fprintf(stderr, "crfs-send: pre-copy round %d failed; the tree runs on\n", i);
	/* whatever is held or tracked ends (either may be so already) */
	ctl_say(s, "release\n", false);
	ctl_say(s, "untrack\n", false);
	return 9;
}

/* --- after the go: the session's end ------------------------------------ */

/*
 * --answer: watched from before the go (inotify: no write is missed), its
 * size then noted; the answer is a whole line past it.
 */
static void watch_answer(struct send *s)
{
	struct stat st;

	s->answer_wd = -1;
	if (!s->answer_file)
		return;
	s->answer_wd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (s->answer_wd >= 0 &&
	    (inotify_add_watch(s->answer_wd, s->answer_file, IN_MODIFY) < 0 ||
	     stat(s->answer_file, &st))) {
		close(s->answer_wd);
		s->answer_wd = -1;
	}
	if (s->answer_wd >= 0)
		s->answer_at = st.st_size;
}

/* a newline in the answer file past answer_at */
static bool answered(struct send *s)
{
	char buf[256];
	ssize_t n;
	int fd = open(s->answer_file, O_RDONLY | O_CLOEXEC);
	bool yes = false;

	if (fd < 0)
		return false;
	while (!yes && (n = pread(fd, buf, sizeof(buf), s->answer_at)) > 0) {
		yes = memchr(buf, '\n', n);
		s->answer_at += yes ? 0 : n;
	}
	close(fd);
	return yes;
}

/* the session's end through a pidfd, the answer stamped as it comes */
static void wait_session(struct send *s)
{
	struct pollfd p[2] = { { .events = POLLIN }, { .events = POLLIN } };
	char ev[4096];
	int n = 1;

	p[0].fd = syscall(SYS_pidfd_open, s->wait_pid, 0);
	if (p[0].fd < 0)	/* gone already */
		return;
	if (s->answer_wd >= 0) {
		p[1].fd = s->answer_wd;
		n = 2;
		if (answered(s)) {
			stamp(s, T_ANSWER);
			n = 1;
		}
	}
	while (!(p[0].revents & POLLIN)) {
		if (poll(p, n, -1) < 0 && errno != EINTR)
			break;
		if (n == 2 && (p[1].revents & POLLIN)) {
			while (read(s->answer_wd, ev, sizeof(ev)) > 0)
				;
			if (answered(s)) {
				stamp(s, T_ANSWER);
				n = 1;
			}
		}
	}
	close(p[0].fd);
}

static void write_times(struct send *s)
{
	FILE *f;
	int i;

	if (!s->times_file || !(f = fopen(s->times_file, "we")))
		return;
	for (i = 0; i < T_COUNT; i++)
		if (s->t[i].tv_sec)
			fprintf(f, "%s %lld.%09ld\n", time_names[i],
				(long long)s->t[i].tv_sec, s->t[i].tv_nsec);
	fclose(f);
}

static int send_image(struct send *s)
{
	pthread_t th;
	bool thread = false;
	int ret;

	ret = s->precopy ? precopy(s) : 0;
	ret = ret ?: freeze(s);
	if (ret)
		return ret;
	if (find_peers(s) || write_peers(s)) {
		fprintf(stderr, "crfs-send: cannot list the veths to set down\n");
		return 7;
	}
	/* setting a device down waits for the network's RCU grace periods:
	 * beside the copy, not before it */
	if (s->npeers && !pthread_create(&th, NULL, peers_down, s))
		thread = true;
	else
		peers_down(s);
	if (s->stream) {
		ret = put_tree(s, s->dirfd, "", true) ?: flush_out(s);
		stamp(s, T_READ);
	}
	if (thread)
		pthread_join(th, NULL);
	if (ret || !s->stream)
		return ret;
	watch_answer(s);
	ret = put_go(s);
	stamp(s, T_GO);
	close(STDOUT_FILENO);	/* the other end's end of input */
	return ret;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: crfs-send [--stream [--precopy N|auto]] [--zstd]\n"
		   "                 [--wait-pid PID [--answer FILE]] [--times FILE]\n"
		   "                 [--peers FILE] DIR\n"
		   "       crfs-send --help | --version\n");
}

/* --precopy's N (1-999) or auto (-1); 0: neither */
static int parse_rounds(const char *arg)
{
	if (!strcmp(arg, "auto"))
		return -1;
	if (!*arg || arg[strspn(arg, "0123456789")] || strlen(arg) > 3)
		return 0;
	return atoi(arg);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "stream", no_argument, NULL, 's' },
		{ "precopy", required_argument, NULL, 'P' },
		{ "zstd", no_argument, NULL, 'z' },
		{ "wait-pid", required_argument, NULL, 'w' },
		{ "answer", required_argument, NULL, 'a' },
		{ "times", required_argument, NULL, 't' },
		{ "peers", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	struct send s = { .dirfd = -1, .answer_wd = -1 };
	int c, ret;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': s.stream = true; break;
		case 'P':
			s.precopy = parse_rounds(optarg);
			if (!s.precopy) {
				usage(stderr);
				return 2;
			}
			break;
		case 'z': s.zstd = true; break;
		case 'w': s.wait_pid = atoi(optarg); break;
		case 'a': s.answer_file = optarg; break;
		case 't': s.times_file = optarg; break;
		case 'p': s.peers_file = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("crfs-send %s\n", CRFS_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1 || (s.wait_pid && !s.stream) ||
	    (s.precopy && !s.stream) ||
	    (s.answer_file && !s.wait_pid)) {
		usage(stderr);
		return 2;
	}
	s.dir = argv[optind];
	/* a reader gone is a failed write (exit 8, said), not a death */
	signal(SIGPIPE, SIG_IGN);
	/* a pipe into ssh as large as we may make it: the writes of a
	 * megabyte do not wait for ssh at each 64 KiB (not fatal: smaller) */
	if (s.stream)
		fcntl(STDOUT_FILENO, F_SETPIPE_SZ, OUT_SIZE);
	s.dirfd = open(s.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	s.out = s.stream ? malloc(OUT_SIZE) : NULL;
	if (s.dirfd < 0 || (s.stream && !s.out)) {
		fprintf(stderr, "crfs-send: %s: %s\n", s.dir, strerror(errno));
		ret = 5;
		goto out;
	}
	ret = send_image(&s);
	if (!ret && s.wait_pid)
		wait_session(&s);
	stamp(&s, T_END);
	write_times(&s);
out:
	if (s.answer_wd >= 0)
		close(s.answer_wd);
	free(s.peers);
	free(s.out);
	if (s.dirfd >= 0)
		close(s.dirfd);
	return ret;
}
