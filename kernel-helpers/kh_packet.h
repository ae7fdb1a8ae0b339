/* SPDX-License-Identifier: MIT */
/*
 * kernel-helpers for datagram queues of UDP sockets (udpq.c), raw inet
 * sockets (raw.c) and packet sockets (packet.c).
 */
#ifndef CRFS_KH_PACKET_H
#define CRFS_KH_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <stdint.h>
#include <sys/socket.h>

/* a queued datagram: who sent it, to which of our addresses, how */
struct kh_dgram {
	struct sockaddr_storage src, dst;
	uint32_t len;
	int ttl;		/* IPv4 TTL or IPv6 hop limit it arrived with */
	int tos;		/* IPv4 TOS or IPv6 traffic class */
};

/*
 * Every datagram queued on the UDP or UDP-Lite socket sk (our copy), in
 * order, without taking any: peeked with SO_PEEK_OFF, so the process
 * finds its queue as it was.  Payloads end to end in *data.  *why names
 * what cannot be saved exactly.
 */
int kh_udpq_peek(int sk, struct kh_dgram **out, size_t *n, char **data,
		 size_t *dlen, const char **why);
/* an error waits on sk (sk_err or the error queue), which recv would
 * take; told without taking it */
bool kh_sock_error_pending(int sk);
/* a datagram's line in fdata/ID.dgrams and back */
int kh_dgram_str(const struct kh_dgram *d, char *buf, size_t len);
int kh_dgram_parse(const char *line, struct kh_dgram *d);
/*
 * Sends d again as it arrived (addresses, ports, TTL, TOS) through a raw
 * socket (IP_HDRINCL) of in, so the local socket bound to its destination
 * receives it as from its sender.  protocol: IPPROTO_UDP or _UDPLITE.
 */
struct kh_injector {
	int sk4, sk6;		/* IPPROTO_RAW sockets */
};
int kh_udpq_injector(struct kh_injector *in);
void kh_udpq_injector_close(struct kh_injector *in);
int kh_udpq_inject(const struct kh_injector *in, const struct kh_dgram *d,
		   int protocol, const char *data);
/* bytes queued on sk (SK_MEMINFO_RMEM_ALLOC) and datagrams it dropped */
int kh_sock_meminfo(int sk, uint32_t *rmem, uint32_t *drops);

/* raw.c: a raw inet socket (our copy sk), as /proc/PID/net/raw{,6} tells */
struct kh_raw {
	int family, protocol;
	struct sockaddr_storage addr, peer;	/* bound to; connected to */
	bool connected;
	int sndbuf, rcvbuf;	/* 0: as a new socket's */
};
const char *kh_raw_read(pid_t pid, int sk, uint64_t ino, struct kh_raw *r,
			int *err);
/* buffer sizes a new socket of the kind has too are set to 0 (not
 * saved: the program did not set them) */
int kh_unset_buffers(int domain, int type, int protocol, int *sndbuf,
		     int *rcvbuf);
/* is sk (an inet socket) a raw one? */
bool kh_sock_is_raw(int sk);

/* packet.c: a packet socket (our copy sk, inode ino, held by pid) */
struct kh_packet_ring {		/* packet_diag's, tpacket_req3's fields */
	uint32_t block_size, block_nr, frame_size, frame_nr;
	uint32_t retire_tmo, sizeof_priv, features;
};
struct kh_packet {
	int type;
	int protocol;		/* SO_PROTOCOL: as made, network order */
	int bound_proto;	/* sll_protocol: as bound (network order) */
	char ifname[16];	/* bound to; "" for none */
	uint32_t fanout;	/* PACKET_FANOUT's value, 0: none */
	char *mclist;		/* memberships, "IFNAME/TYPE/COUNT/HEX;..." */
	int sndbuf, rcvbuf;	/* 0: as a new socket's */
	int version;		/* TPACKET_V1... */
	bool has_ring[2];	/* RX, TX */
	struct kh_packet_ring ring[2];
};
const char *kh_packet_read(pid_t pid, int sk, uint64_t ino,
			   struct kh_packet *p, int *err);

/* packet_ring.c: bytes of one ring; why the rings (read through a
 * mapping of sk) cannot be saved, NULL: they can */
uint64_t kh_packet_ring_len(const struct kh_packet_ring *r);
const char *kh_packet_rings_check(int sk, const struct kh_packet *p, int *err);
/* the same for rings' bytes in map (RX then TX; their layout checked) */
const char *kh_packet_rings_scan(const unsigned char *map,
				 const struct kh_packet *p);

#endif
