/* SPDX-License-Identifier: MIT */
/* Paths restore creates, replaces or unlinks: safe_path.c */
#ifndef CRFS_RESTORE_SAFE_PATH_H
#define CRFS_RESTORE_SAFE_PATH_H

#include <stddef.h>

/*
 * 0 if restore may make or remove path's last component: every directory
 * on the way is a directory or a symlink root owns (/var/run -> /run).
 * Else -ELOOP, and why says which component, for a refusal naming it.
 */
int safe_path(const char *path, char *why, size_t len);

#endif
