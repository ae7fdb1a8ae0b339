/* SPDX-License-Identifier: MIT */
/*
 * nfb.c: an nf_tables transaction built and sent by us, one nfnetlink
 * batch on a NETLINK_NETFILTER socket, applied whole or not at all by the
 * kernel: what `nft -f` does, without its process and its parser.
 */
#ifndef CRFS_KH_NFB_H
#define CRFS_KH_NFB_H

#include <stddef.h>
#include <stdint.h>

struct nfb {
	char *buf;
	size_t len, cap;
	size_t msg;		/* offset of the message being built */
	unsigned nmsg;		/* messages, batch begin and end aside */
	int err;		/* the first failure (-ENOMEM), sticky */
};

void nfb_init(struct nfb *b);
void nfb_free(struct nfb *b);
/* a message of the transaction: NFT_MSG_*, NLM_F_* beside REQUEST|ACK */
void nfb_msg(struct nfb *b, int type, int family, int flags);
void nfb_put(struct nfb *b, int type, const void *data, size_t len);
void nfb_str(struct nfb *b, int type, const char *s);
void nfb_be32(struct nfb *b, int type, uint32_t v);
/* a nested attribute: its offset, to be closed by nfb_end */
size_t nfb_nest(struct nfb *b, int type);
void nfb_end(struct nfb *b, size_t nest);
/* sends the batch in the caller's network namespace; 0 once every
 * message is acknowledged, else the kernel's first error */
int nfb_commit(struct nfb *b);

#endif
