// SPDX-License-Identifier: MIT
/*
 * An established TCP connection through TCP_REPAIR: read with the socket
 * in repair mode (sequence numbers, queues peeked, window, negotiated
 * options), rebuilt on a new socket in repair mode.  A socket left in
 * repair mode closes silently, without FIN or RST; the caller turns repair
 * off when the connection is to live on (kh_tcp_repair).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "kh.h"
#include "crfs/tcp.h"

#ifndef SIOCOUTQNSD
#define SIOCOUTQNSD 0x894B
#endif
#ifndef TCPOPT_SACK_PERMITTED
#define TCPOPT_SACK_PERMITTED 4
#endif

int kh_tcp_repair(int sk, bool on)
{
	int v = on;

	return setsockopt(sk, IPPROTO_TCP, TCP_REPAIR, &v, sizeof(v)) ? -errno : 0;
}

int kh_tcp_reuse(int sk)
{
	int v = 0;
	socklen_t l = sizeof(v);

	return getsockopt(sk, SOL_SOCKET, SO_REUSEADDR, &v, &l) ? -errno : !!v;
}

/* TCP_REPAIR off sets sk_reuse to "no": SO_REUSEADDR as it was before */
int kh_tcp_repair_off(int sk, int reuse)
{
	int ret = kh_tcp_repair(sk, false);

	if (!ret && reuse >= 0 &&
	    setsockopt(sk, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof(reuse)))
		ret = -errno;
	return ret;
}

static int repair_queue(int sk, int q)
{
	return setsockopt(sk, IPPROTO_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q)) ?
	       -errno : 0;
}

/*
 * Our FIN is in the send queue's sequence space; the peer's was received.
 * A closed connection (TCP_CLOSE, inet.c) had both: it is made again as
 * LAST_ACK whose FIN the peer then acknowledges (fins).
 */
static bool fin_out(int state)
{
	return state == TCP_FIN_WAIT1 || state == TCP_FIN_WAIT2 ||
	       state == TCP_CLOSING || state == TCP_LAST_ACK ||
	       state == TCP_CLOSE;
}

static bool fin_in(int state)
{
	return state == TCP_CLOSE_WAIT || state == TCP_LAST_ACK ||
	       state == TCP_CLOSING || state == TCP_CLOSE;
}

static int get_int(int sk, int level, int name, unsigned *v)
{
	socklen_t l = sizeof(*v);

	return getsockopt(sk, level, name, v, &l) ? -errno : 0;
}

/* the sequence number at the end of queue q, and its len bytes peeked */
static int peek_queue(int sk, int q, unsigned *seq, unsigned len, char **buf)
{
	ssize_t n;
	int ret;

	*buf = NULL;
	ret = repair_queue(sk, q) ?: get_int(sk, IPPROTO_TCP, TCP_QUEUE_SEQ, seq);
	if (ret || !len)
		return ret;
	*buf = malloc(len + 1);
	if (!*buf)
		return -ENOMEM;
	/* one byte more than there should be: the count must be exact */
	n = recv(sk, *buf, len + 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == (ssize_t)len)
		return 0;
	ret = n < 0 ? -errno : -EIO;
	free(*buf);
	*buf = NULL;
	return ret;
}

static int read_window(int sk, struct crfs_tcp *t)
{
	struct tcp_repair_window w;
	socklen_t l = sizeof(w);

	if (getsockopt(sk, IPPROTO_TCP, TCP_REPAIR_WINDOW, &w, &l))
		return -errno;
	t->snd_wl1 = w.snd_wl1;
	t->snd_wnd = w.snd_wnd;
	t->max_window = w.max_window;
	t->rcv_wnd = w.rcv_wnd;
	t->rcv_wup = w.rcv_wup;
	return 0;
}

static int read_options(int sk, const struct tcp_info *ti, struct crfs_tcp *t)
{
	int ret = get_int(sk, IPPROTO_TCP, TCP_MAXSEG, &t->mss);

	t->sack = !!(ti->tcpi_options & TCPI_OPT_SACK);
	t->timestamps = !!(ti->tcpi_options & TCPI_OPT_TIMESTAMPS);
	t->wscale = !!(ti->tcpi_options & TCPI_OPT_WSCALE);
	if (t->wscale) {
		t->snd_wscale = ti->tcpi_snd_wscale;
		t->rcv_wscale = ti->tcpi_rcv_wscale;
	}
	if (!ret && t->timestamps)
		ret = get_int(sk, IPPROTO_TCP, TCP_TIMESTAMP, &t->timestamp);
	return ret;
}

/* queue lengths; in repair mode the counts are the queues' own */
static int read_queues(int sk, struct crfs_tcp *t, char **sndq, char **rcvq)
{
	int out, unsent, in, ret;

	if (ioctl(sk, SIOCOUTQ, &out) || ioctl(sk, SIOCOUTQNSD, &unsent) ||
	    ioctl(sk, SIOCINQ, &in))
		return -errno;
	/* a FIN not yet acknowledged counts in the send queue, as a byte
	 * it is not; SIOCINQ leaves a received one out already */
	if (fin_out(t->state)) {
		out -= out > 0;
		unsent -= unsent > 0;
	}
	/* closed: nothing of it will be sent (nor can the program see it) */
	if (t->state == TCP_CLOSE)
		out = unsent = 0;
	t->sndq = out;
	t->unsent = unsent;
	t->rcvq = in;
	ret = peek_queue(sk, TCP_RECV_QUEUE, &t->rcv_seq, t->rcvq, rcvq);
	ret = ret ?: peek_queue(sk, TCP_SEND_QUEUE, &t->snd_seq, t->sndq, sndq);
	return repair_queue(sk, TCP_NO_QUEUE) ?: ret;
}

const char *kh_tcp_state_check(int state)
{
	switch (state) {
	case TCP_ESTABLISHED:
	case TCP_FIN_WAIT1:
	case TCP_FIN_WAIT2:
	case TCP_CLOSE_WAIT:
	case TCP_LAST_ACK:
	case TCP_CLOSING:
	case TCP_CLOSE:
		return NULL;
	case TCP_SYN_SENT:
	case TCP_SYN_RECV:
		return "a TCP connection still being set up (SYN_SENT, SYN_RECV) is not supported";
	case TCP_TIME_WAIT:
		return "a TCP connection in state TIME_WAIT is not supported";
	}
	return "a TCP socket in this state is not supported";
}

int kh_tcp_save(int sk, struct crfs_tcp *t, char **sndq, char **rcvq)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);
	int ret;

	*sndq = *rcvq = NULL;
	ret = kh_tcp_repair(sk, true);
	if (ret)
		return ret;
	/* the state again: it may have moved before repair stopped it */
	if (getsockopt(sk, IPPROTO_TCP, TCP_INFO, &ti, &l))
		ret = -errno;
	else if (ti.tcpi_state != t->state)
		ret = -EAGAIN;
	ret = ret ?: read_options(sk, &ti, t);
	ret = ret ?: read_window(sk, t);
	ret = ret ?: read_queues(sk, t, sndq, rcvq);
	if (!ret)
		return 0;
	free(*sndq);
	free(*rcvq);
	*sndq = *rcvq = NULL;
	/* off: the caller sets SO_REUSEADDR again (kh_tcp_repair_off) */
	kh_tcp_repair(sk, false);
	return ret;
}

static int set_seq(int sk, int q, unsigned seq)
{
	return repair_queue(sk, q) ?:
	       (setsockopt(sk, IPPROTO_TCP, TCP_QUEUE_SEQ, &seq, sizeof(seq)) ?
		-errno : 0);
}

static int set_options(int sk, const struct crfs_tcp *t)
{
	struct tcp_repair_opt o[4];
	int n = 0;

	if (t->sack)
		o[n++] = (struct tcp_repair_opt){ TCPOPT_SACK_PERMITTED, 0 };
	if (t->wscale)
		o[n++] = (struct tcp_repair_opt){ TCPOPT_WINDOW,
			t->snd_wscale | t->rcv_wscale << 16 };
	if (t->timestamps)
		o[n++] = (struct tcp_repair_opt){ TCPOPT_TIMESTAMP, 0 };
	o[n++] = (struct tcp_repair_opt){ TCPOPT_MAXSEG, t->mss };
	if (setsockopt(sk, IPPROTO_TCP, TCP_REPAIR_OPTIONS, o, n * sizeof(o[0])))
		return -errno;
	if (t->timestamps &&
	    setsockopt(sk, IPPROTO_TCP, TCP_TIMESTAMP, &t->timestamp,
		       sizeof(t->timestamp)))
		return -errno;
	return 0;
}

/*
 * A repair queue is filled without waiting (no peer acks anything in
 * repair mode); the kernel takes a big write as one linear buffer and may
 * refuse it, so halves are tried down to 1 KiB (as CRIU does).
 */
static int fill(int sk, const char *buf, size_t len)
{
	size_t chunk = len;
	ssize_t n;

	while (len) {
		n = send(sk, buf, chunk < len ? chunk : len, MSG_DONTWAIT);
		if (n > 0) {
			buf += n;
			len -= n;
			continue;
		}
		if (chunk <= 1024)
			return n < 0 ? -errno : -EIO;
		chunk /= 2;
	}
	return 0;
}

/*
 * A queue must fit the buffer it goes in; the restored socket starts with
 * the system's default sizes (autotuning grew the old one).  Only then is
 * the size forced, which fixes it from then on (documented in SUPPORT.md).
 */
static int room_for(int sk, int opt, int force, unsigned len)
{
	int have, want = 2 * len + 65536;
	socklen_t l = sizeof(have);

	if (!len)
		return 0;
	if (getsockopt(sk, SOL_SOCKET, opt, &have, &l))
		return -errno;
	if (have >= want)
		return 0;
	want /= 2;	/* the kernel doubles it */
	return setsockopt(sk, SOL_SOCKET, force, &want, sizeof(want)) ? -errno : 0;
}

static int fill_queues(int sk, const struct crfs_tcp *t, const char *sndq,
		       const char *rcvq)
{
	unsigned sent = t->sndq - t->unsent;
	int ret;

	ret = room_for(sk, SO_RCVBUF, SO_RCVBUFFORCE, t->rcvq);
	ret = ret ?: room_for(sk, SO_SNDBUF, SO_SNDBUFFORCE, t->sndq);
	if (!ret && t->rcvq)
		ret = repair_queue(sk, TCP_RECV_QUEUE) ?: fill(sk, rcvq, t->rcvq);
	if (!ret && sent)
		ret = repair_queue(sk, TCP_SEND_QUEUE) ?: fill(sk, sndq, sent);
	if (ret || !t->unsent)
		return ret;
	/* never sent: queued as a program's write would be */
	ret = kh_tcp_repair(sk, false);
	ret = ret ?: fill(sk, sndq + sent, t->unsent);
	return kh_tcp_repair(sk, true) ?: ret;
}

/* the window as it was before the peer's FIN, which is made up again */
static int set_window(int sk, const struct crfs_tcp *t)
{
	struct tcp_repair_window w = {
		.snd_wl1 = t->snd_wl1, .snd_wnd = t->snd_wnd,
		.max_window = t->max_window, .rcv_wnd = t->rcv_wnd,
		.rcv_wup = t->rcv_wup,
	};

	if (fin_in(t->state)) {
		w.rcv_wup--;
		w.rcv_wnd++;
	}
	return setsockopt(sk, IPPROTO_TCP, TCP_REPAIR_WINDOW, &w, sizeof(w)) ?
	       -errno : 0;
}

static int state_of(int sk)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);

	return getsockopt(sk, IPPROTO_TCP, TCP_INFO, &ti, &l) ? -errno :
	       ti.tcpi_state;
}

/* a made-up segment is taken in softirq, as it arrives on lo: up to 2 s */
static int reach(int sk, int state)
{
	struct timespec ms = { 0, 1000000 };
	int i, now = state_of(sk);

	for (i = 0; now >= 0 && now != state && i < 2000; i++) {
		nanosleep(&ms, NULL);
		now = state_of(sk);
	}
	return now < 0 ? now : now == state ? 0 : -EPROTO;
}

/*
 * Our FIN: shutdown() queues it; in the send queue's repair mode it counts
 * as sent already (it was, and the peer acknowledged it), else it goes
 * out (into the lock: the peer gets it again once the lock is lifted).
 */
static int our_fin(int sk, bool acked, int then)
{
	int ret = acked ? repair_queue(sk, TCP_SEND_QUEUE) : 0;

	if (!ret && shutdown(sk, SHUT_WR))
		ret = -errno;
	return repair_queue(sk, TCP_NO_QUEUE) ?: ret ?: reach(sk, then);
}

/* the peer's FIN (fin) or its ACK of ours, as if from the peer */
static int from_peer(int sk, const struct crfs_tcp *t,
		     const struct kh_tcp_conn *c, bool fin, int then)
{
	struct kh_tcp_segment sg = {
		.seq = t->rcv_seq - fin,
		.ack = fin ? t->snd_seq - fin_out(t->state) - t->sndq : t->snd_seq,
		.fin = fin,
	};
	unsigned wnd = t->wscale ? t->snd_wnd >> t->snd_wscale : t->snd_wnd;

	/* the peer's window as it was, in its own scale */
	sg.window = wnd > 65535 ? 65535 : wnd;

	return kh_tcp_inject(c, &sg) ?: reach(sk, then);
}

/*
 * The FINs in the order the kernel's state machine takes them: ours first
 * in FIN_WAIT1/2 and CLOSING (then the peer's FIN gives CLOSING, its ACK
 * FIN_WAIT2), the peer's first in CLOSE_WAIT and LAST_ACK.
 */
static int fins(int sk, const struct crfs_tcp *t, const struct kh_tcp_conn *c)
{
	int st = t->state, ret = 0;

	if (st == TCP_FIN_WAIT1 || st == TCP_FIN_WAIT2 || st == TCP_CLOSING)
		ret = our_fin(sk, st == TCP_FIN_WAIT2, TCP_FIN_WAIT1);
	if (!ret && fin_in(st))
		ret = from_peer(sk, t, c, true,
				st == TCP_CLOSING ? TCP_CLOSING : TCP_CLOSE_WAIT);
	if (!ret && st == TCP_LAST_ACK) {
		ret = shutdown(sk, SHUT_WR) ? -errno : 0;
		ret = ret ?: reach(sk, TCP_LAST_ACK);
	}
	/* closed: our FIN counts as sent (sending it would be dropped by
	 * the lock, and the ack of a FIN not sent is ignored), then its ack
	 * closes the connection as the kernel closes LAST_ACK */
	if (!ret && st == TCP_CLOSE)
		ret = our_fin(sk, true, TCP_LAST_ACK);
	if (!ret && (st == TCP_FIN_WAIT2 || st == TCP_CLOSE))
		ret = from_peer(sk, t, c, false, st);
	return ret;
}

int kh_tcp_restore(int sk, const struct crfs_tcp *t, const char *sndq,
		   const char *rcvq, const struct kh_tcp_conn *c,
		   const char **step)
{
	socklen_t len = c->local.ss_family == AF_INET ?
			sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	int ret;

	*step = "bind";
	/* in repair mode the port is taken whoever else has it (a
	 * listener of ours): SK_FORCE_REUSE; the address must be ours */
	if (bind(sk, (const struct sockaddr *)&c->local, len))
		return -errno;
	*step = "set its sequence numbers";
	ret = set_seq(sk, TCP_RECV_QUEUE, t->rcv_seq - fin_in(t->state) - t->rcvq) ?:
	      set_seq(sk, TCP_SEND_QUEUE,
		      t->snd_seq - fin_out(t->state) - t->sndq);
	if (ret)
		return ret;
	*step = "connect";
	if (connect(sk, (const struct sockaddr *)&c->peer, len))
		return -errno;
	*step = "set its TCP options";
	ret = set_options(sk, t);
	if (ret)
		return ret;
	*step = "fill its queues";
	ret = fill_queues(sk, t, sndq, rcvq);
	if (ret)
		return ret;
	*step = "set its window";
	ret = set_window(sk, t);
	if (ret)
		return ret;
	*step = "take it to its state with the FINs it had";
	ret = fins(sk, t, c);
	if (ret)
		return ret;
	*step = "shut down its receiving side";
	if (t->shut_rd && shutdown(sk, SHUT_RD))
		return -errno;
	return repair_queue(sk, TCP_NO_QUEUE);
}
