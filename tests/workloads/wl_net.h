/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the socket workloads (wl_udpqueue, wl_rawsk, wl_packet):
 * waiting for SIGUSR1 without missing one, and a network namespace of
 * their own with lo up, where no other test's traffic reaches them.
 * Include after wl_common.h, with _GNU_SOURCE defined.
 */
#ifndef WL_NET_H
#define WL_NET_H

#include <sched.h>
#include <signal.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

static volatile sig_atomic_t wl_go;

static void wl_on_usr1(int s)
{
	(void)s;
	wl_go = 1;
}

/* SIGUSR1 blocked but for the waits, so none comes between them */
static inline void wl_usr1_setup(void)
{
	sigset_t usr1;

	signal(SIGUSR1, wl_on_usr1);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
}

static inline void wl_wait_usr1(void)
{
	sigset_t none;

	sigemptyset(&none);
	while (!wl_go)
		sigsuspend(&none);
	wl_go = 0;
}

static inline void wl_own_net(void)
{
	struct ifreq ifr = { 0 };
	int s;

	if (unshare(CLONE_NEWNET))
		wl_die("unshare(CLONE_NEWNET)");
	s = socket(AF_INET, SOCK_DGRAM, 0);
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr))
		wl_die("SIOCGIFFLAGS lo");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr))
		wl_die("SIOCSIFFLAGS lo up");
	close(s);
}

#endif
