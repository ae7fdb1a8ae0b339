// SPDX-License-Identifier: MIT
/*
 * A packet socket: type, protocol, the interface it is bound to (by
 * name), memberships, fanout group, valued options (PACKET_VERSION,
 * PACKET_AUXDATA, ..., as sockopts), a classic filter, and its rings'
 * sizes (ring), which must be as new (kh_packet_rings_check).  Its queue
 * must be empty (kh_packet_read).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "kh_packet.h"

/* "rx/BLOCK_SIZE/BLOCK_NR/FRAME_SIZE/FRAME_NR/TMO/PRIV/FEATURES;tx/..." */
static int ring_text(const struct kh_packet *p, char **out)
{
	static const char *const name[2] = { "rx", "tx" };
	const struct kh_packet_ring *r;
	char buf[256];
	size_t n = 0;
	int i;

	*out = NULL;
	for (i = 0; i < 2; i++) {
		if (!p->has_ring[i])
			continue;
		r = &p->ring[i];
		n += snprintf(buf + n, sizeof(buf) - n, "%s%s/%u/%u/%u/%u/%u/%u/%u",
			      n ? ";" : "", name[i], r->block_size, r->block_nr,
			      r->frame_size, r->frame_nr, r->retire_tmo,
			      r->sizeof_priv, r->features);
	}
	if (n && !(*out = strdup(buf)))
		return -ENOMEM;
	return 0;
}

const char *files_classify_packet(const struct kh_fd *f, int sk,
				  struct crfs_file *cf, int *err)
{
	struct kh_packet p;
	const char *why;

	why = kh_packet_read(f->pid, sk, f->st.st_ino, &p, err);
	if (!why && !*err)
		*err = kh_sockopts_read(sk, &cf->sockopts, &why);
	if (why || *err) {
		free(p.mclist);
		return why;
	}
	cf->kind = FK_PACKET;
	cf->sock_type = p.type == SOCK_DGRAM ? SOCK_T_DGRAM : SOCK_T_RAW;
	cf->protocol = p.protocol;
	cf->bound_proto = p.bound_proto;
	cf->fanout = p.fanout;
	cf->mclist = p.mclist;
	cf->sndbuf = p.sndbuf;
	cf->rcvbuf = p.rcvbuf;
	if (p.ifname[0] && !(cf->ifname = strdup(p.ifname)))
		*err = -ENOMEM;
	*err = *err ?: ring_text(&p, &cf->ring);
	return NULL;
}

/* does process p hold packet socket ino open with a ring (its file)? */
static bool holds_ring(struct files_ctx *c, const struct proc_snap *p,
		       uint64_t ino)
{
	const struct crfs_file *f;
	size_t i;

	for (i = p->fds_at; i < p->fds_at + p->nfds; i++) {
		f = &c->files[c->fid[i] - 1];
		if (!c->bad[c->fid[i] - 1] && f->kind == FK_PACKET &&
		    f->ino == ino && f->ring)
			return true;
	}
	return false;
}

/*
 * A ring is mapped again from the process's own descriptor of its
 * socket: one the process closed after mapping it cannot be.
 */
void files_packet_maps(struct files_ctx *c)
{
	const struct proc_snap *p;
	size_t i, k;

	for (i = 0; i < c->s->nprocs; i++) {
		p = &c->s->procs[i];
		for (k = 0; k < p->nvmas; k++)
			if (p->vmas[k].kind == VMA_PACKET &&
			    !holds_ring(c, p, p->vmas[k].shm_ino))
				snapshot_report(c->s, "process %d: the mapping at 0x%lx of socket:[%lu], not the ring of a packet socket it holds open, is not supported",
						p->pid, p->vmas[k].start,
						p->vmas[k].shm_ino);
	}
}
