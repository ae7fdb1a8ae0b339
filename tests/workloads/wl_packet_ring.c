// SPDX-License-Identifier: MIT
/*
 * Packet sockets with mmapped rings, in a network namespace of our own
 * (lo only, so only our own traffic reaches them):
 *	s2: SOCK_RAW, ETH_P_ALL, bound to lo, TPACKET_V2, an RX and a TX
 *	    ring in one mapping
 *	s3: SOCK_RAW, ETH_P_IP, bound to lo, TPACKET_V3, an RX ring of
 *	    blocks retired after 10 ms
 * Both rings have taken nothing when READY; on SIGUSR1 (after freeze and
 * thaw, or restore) the mappings are where they were, a UDP datagram to
 * 127.0.0.1:4000 lands in s2's first frame and in s3's first block (the
 * kernel starts where the program expects), and a frame written to s2's
 * TX ring is sent by send() and handed back.
 *
 * `wl_packet_ring used`: s2 took a datagram and the program gave the
 * frame back (refused: the kernel's place is past the start); after the
 * thaw the next datagram lands in the frame after.  `wl_packet_ring
 * closed`: s3's descriptor closed, its ring still mapped (refused).
 */
#define _GNU_SOURCE
#include <poll.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "wl_common.h"
#include "wl_net.h"

#define BS2	4096
#define BN2	4
#define FS2	2048
#define FN2	8
#define BS3	8192
#define BN3	4

static int s2, s3, udp_in, udp_out, lo_index;
static unsigned char *m2, *m3;
static const char payload[] = "crfs-ring-payload";

static void set(int s, int name, const void *v, socklen_t len)
{
	if (setsockopt(s, SOL_PACKET, name, v, len))
		wl_die("setsockopt SOL_PACKET %d", name);
}

static int packet_socket(int proto, int version)
{
	struct sockaddr_ll ll = { .sll_family = AF_PACKET,
				  .sll_protocol = htons(proto),
				  .sll_ifindex = lo_index };
	int s = socket(AF_PACKET, SOCK_RAW, htons(proto));

	if (s < 0)
		wl_die("socket AF_PACKET");
	set(s, PACKET_VERSION, &version, sizeof(version));
	if (bind(s, (struct sockaddr *)&ll, sizeof(ll)))
		wl_die("bind lo");
	return s;
}

static void setup(void)
{
	struct tpacket_req r2 = { BS2, BN2, FS2, FN2 };
	struct tpacket_req3 r3 = { BS3, BN3, FS2, BS3 / FS2 * BN3, 10, 0, 0 };
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(4000),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	s2 = packet_socket(ETH_P_ALL, TPACKET_V2);
	set(s2, PACKET_RX_RING, &r2, sizeof(r2));
	set(s2, PACKET_TX_RING, &r2, sizeof(r2));
	m2 = mmap(NULL, 2 * BS2 * BN2, PROT_READ | PROT_WRITE, MAP_SHARED, s2, 0);
	s3 = packet_socket(ETH_P_IP, TPACKET_V3);
	set(s3, PACKET_RX_RING, &r3, sizeof(r3));
	m3 = mmap(NULL, BS3 * BN3, PROT_READ | PROT_WRITE, MAP_SHARED, s3, 0);
	if (m2 == MAP_FAILED || m3 == MAP_FAILED)
		wl_die("mmap ring");
	udp_in = socket(AF_INET, SOCK_DGRAM, 0);
	udp_out = socket(AF_INET, SOCK_DGRAM, 0);
	if (bind(udp_in, (struct sockaddr *)&a, sizeof(a)) ||
	    connect(udp_out, (struct sockaddr *)&a, sizeof(a)))
		wl_die("udp");
}

static struct tpacket2_hdr *frame2(int tx, int i)
{
	return (void *)(m2 + tx * BS2 * BN2 + i * FS2);
}

static int has_payload(const void *p, size_t len)
{
	return memmem(p, len, payload, sizeof(payload) - 1) != NULL;
}

/* the datagram out; s (POLLIN) has it in its ring within 5 s */
static int send_one(int s)
{
	struct pollfd p = { s, POLLIN, 0 };
	char buf[64];

	if (send(udp_out, payload, sizeof(payload) - 1, 0) < 0)
		return -1;
	recv(udp_in, buf, sizeof(buf), 0);
	return poll(&p, 1, 5000) == 1 ? 0 : -1;
}

static void check_v2_rx(int want)
{
	struct tpacket2_hdr *h = frame2(0, want);
	int i;

	if (send_one(s2)) {
		wl_fail("v2rx", "nothing came into the ring");
		return;
	}
	if (!(h->tp_status & TP_STATUS_USER) || !has_payload(h, FS2)) {
		for (i = 0; i < FN2 && !(frame2(0, i)->tp_status & TP_STATUS_USER); i++)
			;
		wl_fail("v2rx", "frame %d has status %u; the first taken is %d",
			want, h->tp_status, i);
		return;
	}
	wl_pass("v2rx");
}

static void check_v3_rx(void)
{
	volatile struct tpacket_block_desc *b = (void *)m3;
	int i;

	/* the block is handed over once it times out (10 ms); watched in
	 * the ring itself (s3 may be closed) */
	for (i = 0; i < 5000 && !(b->hdr.bh1.block_status & TP_STATUS_USER); i++)
		usleep(1000);
	if (!(b->hdr.bh1.block_status & TP_STATUS_USER)) {
		wl_fail("v3rx", "block 0 was not handed over (status %u)",
			b->hdr.bh1.block_status);
		return;
	}
	if (!b->hdr.bh1.num_pkts || !has_payload(m3, BS3))
		wl_fail("v3rx", "block 0 holds %u packets, not the datagram",
			b->hdr.bh1.num_pkts);
	else
		wl_pass("v3rx");
}

/* an Ethernet frame of a local experimental type, sent from frame 0 */
static void check_v2_tx(void)
{
	struct tpacket2_hdr *h = frame2(1, 0);
	unsigned char *data = (unsigned char *)h + TPACKET2_HDRLEN -
			      sizeof(struct sockaddr_ll);
	size_t len = 14 + sizeof(payload) - 1;
	ssize_t n;
	int i;

	memset(data, 0, 12);
	data[12] = 0x88;
	data[13] = 0xb5;
	memcpy(data + 14, payload, sizeof(payload) - 1);
	h->tp_len = len;
	__atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
	n = send(s2, NULL, 0, 0);
	for (i = 0; i < 5000 && __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) !=
			      TP_STATUS_AVAILABLE; i++)
		usleep(1000);
	if (n != (ssize_t)len || h->tp_status != TP_STATUS_AVAILABLE)
		wl_fail("v2tx", "send gave %zd (errno %d), frame status %u", n,
			errno, h->tp_status);
	else
		wl_pass("v2tx");
}

static int used(void)
{
	int i;

	if (send_one(s2))
		wl_die("nothing came into the ring");
	for (i = 0; i < FN2; i++)
		frame2(0, i)->tp_status = TP_STATUS_KERNEL;
	wl_ready();
	wl_wait_usr1();
	/* every frame given back: the next one taken is past those used */
	if (send_one(s2))
		wl_fail("used", "nothing came into the ring after the thaw");
	else if (frame2(0, 0)->tp_status & TP_STATUS_USER)
		wl_fail("used", "the kernel started over at frame 0");
	else
		wl_pass("used");
	return wl_done();
}

int main(int argc, char **argv)
{
	unsigned char *was2, *was3;

	wl_own_session();
	wl_usr1_setup();
	wl_own_net();
	lo_index = if_nametoindex("lo");
	setup();
	if (argc > 1 && !strcmp(argv[1], "used"))
		return used();
	if (argc > 1 && !strcmp(argv[1], "closed")) {
		close(s3);
		wl_ready();
		wl_wait_usr1();
		/* the socket lives on in the mapping: its ring still works */
		if (send(udp_out, payload, sizeof(payload) - 1, 0) < 0)
			wl_fail("v3rx", "send: %s", strerror(errno));
		check_v3_rx();
		return wl_done();
	}
	was2 = m2;
	was3 = m3;
	wl_ready();
	wl_wait_usr1();
	if (m2 != was2 || m3 != was3)
		wl_fail("maps", "the rings moved");
	check_v2_rx(0);
	check_v3_rx();
	check_v2_tx();
	return wl_done();
}
