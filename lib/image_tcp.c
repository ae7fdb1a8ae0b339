// SPDX-License-Identifier: MIT
/*
 * fdata/ID.tcp: a connection's TCP_REPAIR state, "key value" lines, the
 * state by name (as ss(8) spells it) so a person reads it.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <netinet/tcp.h>

#include "crfs/tcp.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define F(k) { #k, KV_UINT, offsetof(struct crfs_tcp, k) }

static const struct kv_field tcp_fields[] = {
	F(snd_seq), F(rcv_seq), F(sndq), F(unsent), F(rcvq), F(mss),
	F(sack), F(timestamps), F(wscale), F(snd_wscale), F(rcv_wscale),
	F(timestamp), F(snd_wl1), F(snd_wnd), F(max_window), F(rcv_wnd),
	F(rcv_wup), F(shut_rd),
};

/* the states an image holds: where both ends may still send or ack,
 * and the end of one */
static const char *const state_names[] = {
	[TCP_ESTABLISHED] = "established", [TCP_FIN_WAIT1] = "fin_wait1",
	[TCP_FIN_WAIT2] = "fin_wait2", [TCP_CLOSE_WAIT] = "close_wait",
	[TCP_LAST_ACK] = "last_ack", [TCP_CLOSING] = "closing",
	[TCP_CLOSE] = "close",	/* once connected: both FINs taken */
};

const char *tcp_state_name(int state)
{
	if (state < 0 || (size_t)state >= ARRAY_SIZE(state_names))
		return NULL;
	return state_names[state];
}

int render_tcp(struct strbuf *sb, const struct crfs_tcp *t)
{
	const char *name = tcp_state_name(t->state);

	if (!name)
		return -EINVAL;
	return sb_printf(sb, "state %s\n", name) ?:
	       kv_render(sb, tcp_fields, ARRAY_SIZE(tcp_fields), t);
}

static int parse_state(struct crfs_text *t, const char *key, char *rest,
		       void *obj)
{
	struct crfs_tcp *tcp = obj;
	char *name = tok_next(&rest);
	size_t i;

	for (i = 0; name && !tok_next(&rest) && i < ARRAY_SIZE(state_names); i++)
		if (state_names[i] && !strcmp(state_names[i], name)) {
			tcp->state = (int)i;
			return 0;
		}
	return text_error(t, "bad value for key '%s'", key);
}

int parse_tcp(struct crfs_text *t, struct crfs_tcp *tcp)
{
	static const char *const extra[] = { "state", NULL };

	memset(tcp, 0, sizeof(*tcp));
	return kv_parse(t, tcp_fields, ARRAY_SIZE(tcp_fields), tcp, extra,
			parse_state);
}
