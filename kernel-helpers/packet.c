// SPDX-License-Identifier: MIT
/*
 * A packet socket (AF_PACKET): type, protocol, the interface it is bound
 * to, its fanout group, and its memberships (PACKET_ADD_MEMBERSHIP),
 * which no getsockopt shows: sock_diag's packet_diag does, asked from
 * the holder's network namespace (a diag socket sees its own namespace
 * only).  The same answer tells whether the socket has a ring.
 * Interface indexes are named through the socket itself (SIOCGIFNAME
 * resolves in the socket's namespace), so restore can find them by name.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/packet_diag.h>
#include <linux/sock_diag.h>

#include "kh.h"
#include "crfs/format.h"
#include "kh_ns.h"
#include "kh_packet.h"

struct diag_job {
	uint64_t ino;
	bool found;
	struct kh_packet *p;
	uint32_t copy_thresh;
	struct packet_diag_mclist *mc;
	size_t nmc;
};

static int diag_request(int nl)
{
	struct {
		struct nlmsghdr nlh;
		struct packet_diag_req r;
	} req = {
		.nlh = { .nlmsg_len = sizeof(req),
			 .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.r = { .sdiag_family = AF_PACKET,
		       .pdiag_show = PACKET_SHOW_INFO | PACKET_SHOW_MCLIST |
				     PACKET_SHOW_RING_CFG },
	};

	return send(nl, &req, sizeof(req), 0) < 0 ? -errno : 0;
}

static void take_ring(struct kh_packet *p, int tx,
		      const struct packet_diag_ring *r)
{
	p->has_ring[tx] = true;
	p->ring[tx] = (struct kh_packet_ring){
		r->pdr_block_size, r->pdr_block_nr, r->pdr_frame_size,
		r->pdr_frame_nr, r->pdr_retire_tmo, r->pdr_sizeof_priv,
		r->pdr_features,
	};
}

static int take_attrs(struct diag_job *j, struct nlmsghdr *h)
{
	struct packet_diag_msg *m = NLMSG_DATA(h);
	int len = h->nlmsg_len - NLMSG_LENGTH(sizeof(*m));
	struct nlattr *a = (void *)(m + 1);
	size_t n;

	if (m->pdiag_ino != j->ino)
		return 0;
	j->found = true;
	for (; len >= (int)sizeof(*a) && a->nla_len >= sizeof(*a) &&
	       a->nla_len <= len;
	     len -= NLA_ALIGN(a->nla_len),
	     a = (void *)((char *)a + NLA_ALIGN(a->nla_len))) {
		if (a->nla_type == PACKET_DIAG_RX_RING ||
		    a->nla_type == PACKET_DIAG_TX_RING)
			take_ring(j->p, a->nla_type == PACKET_DIAG_TX_RING,
				  (const void *)(a + 1));
		if (a->nla_type == PACKET_DIAG_INFO) {
			j->copy_thresh = ((struct packet_diag_info *)(a + 1))->pdi_copy_thresh;
			j->p->version = ((struct packet_diag_info *)(a + 1))->pdi_version;
		}
		if (a->nla_type != PACKET_DIAG_MCLIST)
			continue;
		n = (a->nla_len - sizeof(*a)) / sizeof(*j->mc);
		j->mc = calloc(n + 1, sizeof(*j->mc));
		if (!j->mc)
			return -ENOMEM;
		memcpy(j->mc, a + 1, n * sizeof(*j->mc));
		j->nmc = n;
	}
	return 0;
}

/* in the holder's network namespace (kh_in_ns) */
static int diag_dump(void *arg)
{
	struct diag_job *j = arg;
	static __thread char buf[32768];
	struct nlmsghdr *h;
	int nl, ret;
	ssize_t n;

	nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl < 0)
		return -errno;
	ret = diag_request(nl);
	while (!ret && (n = recv(nl, buf, sizeof(buf), 0)) > 0) {
		for (h = (void *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE)
				goto out;
			if (h->nlmsg_type == NLMSG_ERROR) {
				ret = ((struct nlmsgerr *)NLMSG_DATA(h))->error ?: -EIO;
				goto out;
			}
			ret = ret ?: take_attrs(j, h);
		}
	}
	if (!ret && n < 0)
		ret = -errno;
out:
	close(nl);
	return ret;
}

static int if_name(int sk, int index, char *name)
{
	struct ifreq ifr = { .ifr_ifindex = index };

	if (ioctl(sk, SIOCGIFNAME, &ifr))
		return -errno;
	snprintf(name, IFNAMSIZ, "%s", ifr.ifr_name);
	return 0;
}

/* "IFNAME/TYPE/COUNT/HEXADDR;..." */
static int mc_text(int sk, const struct diag_job *j, char **out)
{
	char name[IFNAMSIZ];
	struct strbuf sb;
	size_t i, k, len;
	int ret = 0;

	*out = NULL;
	if (!j->nmc)
		return 0;
	sb_init(&sb);
	for (i = 0; !ret && i < j->nmc; i++) {
		const struct packet_diag_mclist *m = &j->mc[i];

		ret = if_name(sk, m->pdmc_index, name);
		ret = ret ?: sb_printf(&sb, "%s%s/%u/%u/", i ? ";" : "", name,
				       m->pdmc_type, m->pdmc_count);
		for (k = 0; !ret && k < m->pdmc_alen && k < 32; k++)
			ret = sb_printf(&sb, "%02x", m->pdmc_addr[k]);
		if (!ret && !m->pdmc_alen)
			ret = sb_printf(&sb, "-");
	}
	if (ret) {
		sb_free(&sb);
		return ret;
	}
	*out = sb_steal(&sb, &len);
	return 0;
}

static const char *fanout_of(int sk, struct kh_packet *p, int *err)
{
	socklen_t l = sizeof(p->fanout);
	unsigned type;

	if (getsockopt(sk, SOL_PACKET, PACKET_FANOUT, &p->fanout, &l)) {
		*err = -errno;
		return NULL;
	}
	type = p->fanout >> 16 & 0xff;
	if (type == PACKET_FANOUT_CBPF || type == PACKET_FANOUT_EBPF)
		return "a packet fanout group steered by a BPF program is not supported";
	if ((p->fanout >> 24) & (PACKET_FANOUT_FLAG_UNIQUEID >> 8))
		return "a packet fanout group with PACKET_FANOUT_FLAG_UNIQUEID is not supported";
	return NULL;
}

static const char *read_basics(int sk, struct kh_packet *p, int *err)
{
	struct sockaddr_ll me;
	socklen_t l = sizeof(int), ml = sizeof(me);
	char c;

	if (getsockopt(sk, SOL_SOCKET, SO_TYPE, &p->type, &l)) {
		*err = -errno;
		return NULL;
	}
	/* bound by device name (struct sockaddr_pkt), no PACKET_ options */
	if (p->type == SOCK_PACKET)
		return "a packet socket of the obsolete type SOCK_PACKET is not supported";
	if (getsockopt(sk, SOL_SOCKET, SO_PROTOCOL, &p->protocol, &l) ||
	    getsockopt(sk, SOL_SOCKET, SO_SNDBUF, &p->sndbuf, &l) ||
	    getsockopt(sk, SOL_SOCKET, SO_RCVBUF, &p->rcvbuf, &l) ||
	    getsockname(sk, (struct sockaddr *)&me, &ml)) {
		*err = -errno;
		return NULL;
	}
	/* recv() would take an error (ENETDOWN...) away */
	if (kh_sock_error_pending(sk))
		return "a packet socket with an error pending is not supported";
	if (recv(sk, &c, 1, MSG_PEEK | MSG_DONTWAIT) >= 0)
		return "a packet socket with packets queued is not supported yet";
	p->bound_proto = me.sll_protocol;
	p->ifname[0] = '\0';
	if (me.sll_ifindex)
		*err = if_name(sk, me.sll_ifindex, p->ifname);
	/* protocol 0: a new socket that receives nothing meanwhile */
	*err = *err ?: kh_unset_buffers(AF_PACKET, p->type, 0, &p->sndbuf,
					  &p->rcvbuf);
	return *err ? NULL : fanout_of(sk, p, err);
}

const char *kh_packet_read(pid_t pid, int sk, uint64_t ino,
			   struct kh_packet *p, int *err)
{
	struct diag_job j = { .ino = ino, .p = p };
	const char *why;

	memset(p, 0, sizeof(*p));
	*err = 0;
	why = read_basics(sk, p, err);
	if (why || *err)
		return why;
	*err = kh_in_ns(pid, "net", CLONE_NEWNET, diag_dump, &j);
	if (!*err && !j.found)
		why = "a packet socket of another network namespace than its holder's is not supported";
	else if (!*err && (why = kh_packet_rings_check(sk, p, err)))
		;
	else if (!*err && j.copy_thresh)
		why = "a packet socket with PACKET_COPY_THRESH set is not supported";
	else if (!*err)
		*err = mc_text(sk, &j, &p->mclist);
	free(j.mc);
	return why;
}
