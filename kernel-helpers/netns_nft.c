// SPDX-License-Identifier: MIT
/*
 * nftables rules are saved and loaded by the tool that writes them: nft(8)
 * runs in the calling thread's network namespace (posix_spawn clones it
 * from this thread), `nft list ruleset` to save, `nft -f FILE` to load.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "kh_ns.h"

extern char **environ;

const char *kh_nft_path(void)
{
	static const char *const where[] = { "/usr/sbin/nft", "/sbin/nft",
					     "/usr/local/sbin/nft",
					     "/usr/bin/nft" };
	size_t i;

	for (i = 0; i < sizeof(where) / sizeof(where[0]); i++)
		if (!access(where[i], X_OK))
			return where[i];
	return NULL;
}

/* nft ARGS with stdout to out_fd (-1: /dev/null) */
static int spawn_nft(char *const argv[], int out_fd, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	int ret;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (out_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	else
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null",
						 O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	ret = -posix_spawn(pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return ret;
}

static int wait_nft(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

/* until EOF: the child writes all before it exits */
static int read_all(int fd, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap), *nb;
	ssize_t r;

	while (buf) {
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += r;
		if (n < cap)
			continue;
		nb = realloc(buf, cap * 2);
		if (!nb)
			free(buf);
		buf = nb;
		cap *= 2;
	}
	if (!buf)
		return -ENOMEM;
	*out = buf;
	*len = n;
	return 0;
}

int kh_nft_save(char **out, size_t *len)
{
	const char *nft = kh_nft_path();
	char *argv[] = { (char *)nft, "list", "ruleset", NULL };
	int p[2], st = 0, ret;
	pid_t pid;

	if (!nft)
		return -ENOENT;
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	ret = spawn_nft(argv, p[1], &pid);
	close(p[1]);
	if (!ret) {
		ret = read_all(p[0], out, len);
		ret = wait_nft(pid, &st) ?: ret;
	}
	close(p[0]);
	if (!ret && (!WIFEXITED(st) || WEXITSTATUS(st))) {
		free(*out);
		ret = -EIO;
	}
	return ret;
}

int kh_nft_load(const char *path, int *status)
{
	const char *nft = kh_nft_path();
	char *argv[] = { (char *)nft, "-f", (char *)path, NULL };
	pid_t pid;
	int ret;

	if (!nft)
		return -ENOENT;
	ret = spawn_nft(argv, -1, &pid);
	return ret ?: wait_nft(pid, status);
}
