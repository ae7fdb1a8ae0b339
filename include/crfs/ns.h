/* SPDX-License-Identifier: MIT */
/*
 * ns: the container's own namespaces that restore makes again (one file
 * per container, present only when the tree's root has any).  Rendered and
 * parsed by lib/image_ns.c.
 */
#ifndef CRFS_NS_H
#define CRFS_NS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crfs/format.h"

#define CRFS_F_NS		"ns"
#define CRFS_F_NFT		"nft"	/* `nft list ruleset` of the netns */
#define CRFS_NS_NAME_LEN	64	/* __NEW_UTS_LEN */

/* an address on lo, on a veth, or on a veth's outside end */
struct crfs_ns_addr {
	int family;		/* AF_INET or AF_INET6 */
	unsigned char addr[16];
	int prefix;
	int scope;		/* RT_SCOPE_* */
	unsigned int flags;	/* IFA_F_* that configure, not report */
	char dev[16];		/* "" for lo */
	bool outside;		/* on the peer of veth dev, outside */
	bool on_dev;		/* on dev, one of crfs_ns's devs */
};

/* one end of a veth pair */
struct crfs_ns_link {
	char name[16];
	unsigned int mtu;
	bool up;
	unsigned char mac[6];
	char master[16];	/* its bridge, "" for none (outside end) */
};

/* a veth pair with its peer in the daemon's network namespace */
struct crfs_ns_veth {
	struct crfs_ns_link in, out;
	int in_index, out_index;	/* capture only: not in the file */
};

/* one attribute of a device's IFLA_INFO_DATA, as the kernel has it */
struct crfs_ns_dev_attr {
	int type;
	unsigned char val[64];
	size_t len;
};

/*
 * A device made inside the namespace with nothing outside it (dummy,
 * bridge, a veth pair with both ends inside: each end one).
 */
struct crfs_ns_dev {
	char kind[16];		/* IFLA_INFO_KIND */
	char name[16];
	int index;
	unsigned int mtu;
	unsigned int flags;	/* IFF_UP, IFF_NOARP, ... as CRFS_NS_DEV_FLAGS */
	unsigned char mac[6];
	char master[16];	/* its bridge, "" for none */
	char peer[16];		/* a veth's other end, "" for other kinds */
	char link[16];		/* a macvlan's lower device, "" for others */
	struct crfs_ns_dev_attr *attrs;	/* what differs from a new one's */
	size_t nattrs;
	int master_index, peer_index;	/* capture only: not in the file */
	int link_index;			/* capture only */
};

/* the flags saved: IFF_UP, IFF_NOARP, IFF_PROMISC, IFF_ALLMULTI, IFF_MULTICAST */
#define CRFS_NS_DEV_FLAGS	0x1381

/* a unicast route of the main table that the kernel did not make */
struct crfs_ns_route {
	int family, dst_len, scope, protocol;
	unsigned int metric;
	unsigned char dst[16], gateway[16], prefsrc[16];
	bool has_gateway, has_prefsrc;
	char dev[16];		/* "" for none */
};

/* a net.* sysctl that differs from a fresh namespace's, as /proc/sys/net/KEY */
struct crfs_ns_sysctl {
	char *key;
	char *value;		/* without the trailing newline */
};

/*
 * One line of /proc/PID/uid_map or gid_map: ids inside .. inside+count-1
 * of the user namespace are outside .. outside+count-1 of its parent.
 */
struct crfs_ns_idmap {
	uint32_t inside, outside, count;
};

#define CRFS_NS_MAX_EXTENTS	340	/* the kernel's limit per map */

/* what a time namespace adds to the host's clock */
struct crfs_ns_offset {
	long long sec;
	long nsec;		/* 0 .. 999999999 */
};

struct crfs_ns {
	bool user;		/* the root has a user namespace of its own */
	uint32_t user_owner;	/* its creator's euid, as we see it */
	bool setgroups_deny;	/* /proc/PID/setgroups says deny */
	struct crfs_ns_idmap uid_map[CRFS_NS_MAX_EXTENTS];
	struct crfs_ns_idmap gid_map[CRFS_NS_MAX_EXTENTS];
	size_t nuid_map, ngid_map;
	bool time;		/* the root has a time namespace of its own */
	struct crfs_ns_offset monotonic, boottime;
	bool uts;		/* the root has a UTS namespace of its own */
	char hostname[CRFS_NS_NAME_LEN + 1];
	char domainname[CRFS_NS_NAME_LEN + 1];
	bool net;		/* ... and a network namespace of its own */
	bool lo_up;
	unsigned int lo_mtu;
	struct crfs_ns_addr *addrs;
	size_t naddrs;
	struct crfs_ns_sysctl *sysctls;
	size_t nsysctls;
	char *nft;		/* the nft file's text, when it has rules */
	size_t nft_len;
	struct crfs_ns_veth *veths;
	size_t nveths;
	struct crfs_ns_route *routes;
	size_t nroutes;
	struct crfs_ns_dev *devs;
	size_t ndevs;
};

int render_ns(struct strbuf *sb, const struct crfs_ns *ns);
int parse_ns(struct crfs_text *t, struct crfs_ns *ns);
void crfs_ns_free(struct crfs_ns *ns);

/* lib/image_netdev.c: the dev and dev_attr lines */
int render_ns_devs(struct strbuf *sb, const struct crfs_ns *ns);
int parse_ns_dev_line(struct crfs_text *t, const char *key, char *cur,
		      struct crfs_ns *ns);
void crfs_ns_devs_free(struct crfs_ns *ns);
const struct crfs_ns_dev *crfs_ns_dev_by_name(const struct crfs_ns *ns,
					      const char *name);

/* the id of the parent's id outside as the namespace sees it: 0, or -ENOENT */
int crfs_idmap_inside(const struct crfs_ns_idmap *m, size_t n, uint32_t outside,
		      uint32_t *inside);

#endif
