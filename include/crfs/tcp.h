/* SPDX-License-Identifier: MIT */
/*
 * An established TCP connection as TCP_REPAIR reads and rebuilds it:
 * fdata/ID.tcp (key-value text), its queues in fdata/ID.sndq and
 * fdata/ID.rcvq (raw bytes).  docs/FORMAT.md describes every key.
 */
#ifndef CRFS_TCP_H
#define CRFS_TCP_H

#include "crfs/format.h"

#define CRFS_TCP_SUFFIX		".tcp"
#define CRFS_SNDQ_SUFFIX	".sndq"
#define CRFS_RCVQ_SUFFIX	".rcvq"

struct crfs_tcp {
	int state;		/* TCP_ESTABLISHED, ... (netinet/tcp.h) */
	unsigned snd_seq;	/* sequence number after the last byte queued */
	unsigned rcv_seq;	/* after the last byte received (rcv_nxt) */
	unsigned sndq;		/* bytes not yet acknowledged by the peer */
	unsigned unsent;	/* of them, never sent */
	unsigned rcvq;		/* bytes received, not yet read */
	unsigned mss;		/* the MSS clamp */
	unsigned sack, timestamps, wscale;	/* negotiated: 0 or 1 */
	unsigned snd_wscale, rcv_wscale;
	unsigned timestamp;	/* our TCP timestamp clock now */
	unsigned snd_wl1, snd_wnd, max_window, rcv_wnd, rcv_wup;
	unsigned shut_rd;	/* the program shut its receiving side */
};

int render_tcp(struct strbuf *sb, const struct crfs_tcp *t);
int parse_tcp(struct crfs_text *t, struct crfs_tcp *tcp);
/* "established", ...; NULL for a state the image does not hold */
const char *tcp_state_name(int state);

#endif
