/* SPDX-License-Identifier: MIT */
/* watchdog.c: what a daemon killed while frozen must not leave behind */
#ifndef CRFS_WATCHDOG_H
#define CRFS_WATCHDOG_H

#include <stdint.h>

#include "kh.h"

/* at mount: fork the watchdog; -errno */
int watchdog_start(void);
/* a TCP connection about to go into repair mode and be locked: a copy of
 * fd goes to the watchdog; returns its key (0: no watchdog) */
uint64_t watchdog_hold_tcp(int fd, const struct kh_tcp_conn *conn, int reuse);
/* we let it go (thaw) or closed it (kill): the watchdog drops its copy */
void watchdog_forget(uint64_t key);
/* returns once the watchdog has done every forget sent before */
void watchdog_sync(void);
/* at exit, once nothing is held: the watchdog ends and is reaped */
void watchdog_stop(void);

#endif
