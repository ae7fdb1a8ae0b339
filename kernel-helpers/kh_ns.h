/* SPDX-License-Identifier: MIT */
/*
 * kernel-helpers for namespaces: running code inside another process's
 * namespace, the loopback device's configuration over rtnetlink, the
 * namespace's net.* sysctls and whether netfilter has rules in it.
 */
#ifndef CRFS_KH_NS_H
#define CRFS_KH_NS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * fn(arg) on a thread of ours that joined pid's namespace /proc/PID/ns/NAME
 * of type nstype (CLONE_NEW*), or, for pid 0, a new one of its own; the
 * rest of the process stays where it is.  Returns fn's result.
 */
int kh_in_ns(pid_t pid, const char *name, int nstype, int (*fn)(void *),
	     void *arg);

/* netns.c: rtnetlink, on a socket of the caller's network namespace */
struct kh_link {
	int index;
	char name[16];
	char kind[32];		/* IFLA_INFO_KIND, "" for none (lo) */
	unsigned int flags, mtu;
	int link;		/* IFLA_LINK: a veth's peer's index */
	int link_nsid;		/* IFLA_LINK_NETNSID: its namespace; -1 ours */
	int master;		/* IFLA_MASTER: its bridge's index, or 0 */
	unsigned char mac[6];
	char slave_kind[16];	/* IFLA_INFO_SLAVE_KIND: "bridge" for a port */
	/* IFLA_INFO_DATA and IFLA_INFO_SLAVE_DATA as the kernel sent them */
	unsigned char data[1024], slave[1024];
	int data_len, slave_len;	/* -1: longer than the buffer */
};

/* what kh_rtnl_new_link makes */
struct kh_newlink {
	const char *kind, *name;
	int index;			/* 0: the kernel's choice */
	const void *data;		/* IFLA_INFO_DATA's payload */
	size_t data_len;
	const char *peer;		/* a veth's other end, here */
	int peer_index;
	int link;			/* IFLA_LINK: a lower device, or 0 */
};

/* what kh_rtnl_set_dev changes: flags under change, mtu unless 0, ... */
struct kh_setdev {
	int index;
	unsigned int flags, change;
	unsigned int mtu;
	const unsigned char *mac;	/* NULL: left as it is */
	int master;			/* -1: left as it is, 0: none */
};

struct kh_addr {
	int family, index, prefix;
	unsigned char addr[16];
	int scope;
	unsigned int flags;		/* IFA_F_*, all 32 bits */
	unsigned int valid, preferred;	/* lifetimes; ~0U is forever */
	bool peer;			/* IPv4 with a peer address */
	unsigned char peer_addr[16];	/* IFA_ADDRESS */
	char label[16];
};

/* policy routing rules (ip rule): how many, how many not the kernel's */
struct kh_rules {
	int total, foreign;
};

struct kh_route {
	int family, table, protocol, type, dst_len, oif;
	unsigned char dst[16];
	int scope, tos, src_len;
	unsigned int flags, priority;
	unsigned char gateway[16], prefsrc[16];
	bool has_gateway, has_prefsrc;
	int other;	/* an attribute not above (metrics, multipath, ...) */
};

int kh_rtnl_open(void);
int kh_rtnl_links(int sk, struct kh_link **out, size_t *n);
/* the device named name (-ENODEV: none) */
int kh_rtnl_link_by_name(int sk, const char *name, struct kh_link *out);
int kh_rtnl_addrs(int sk, struct kh_addr **out, size_t *n);
int kh_rtnl_routes(int sk, struct kh_route **out, size_t *n);
int kh_rtnl_rules(int sk, struct kh_rules *r);
/* a unicast route of the main table as r says (oif an index here) */
int kh_rtnl_add_route(int sk, const struct kh_route *r);
/* the id the socket's namespace gives namespace nsfd (-1 if none) */
int kh_rtnl_nsid(int sk, int nsfd, int *nsid);
/* a veth pair: name here, peer in namespace peer_nsfd; -EEXIST if taken */
int kh_rtnl_new_veth(int sk, const char *name, const char *peer,
		     int peer_nsfd);
int kh_rtnl_new_link(int sk, const struct kh_newlink *n);
int kh_rtnl_set_dev(int sk, const struct kh_setdev *d);
/* mtu, MAC, bridge (master, 0 for none), then up or down */
int kh_rtnl_config_link(int sk, const struct kh_link *l, bool up);
int kh_rtnl_set_link(int sk, int index, bool up, unsigned int mtu);
int kh_rtnl_addr(int sk, bool add, const struct kh_addr *a);
/* tun.c: a /dev/net/tun descriptor (our copy of one) */
struct kh_tun {
	bool attached;		/* to a device (or a queue of one) */
	bool detached;		/* a queue detached by TUNSETQUEUE */
	char name[16];
	unsigned int flags;	/* TUNGETIFF: IFF_TUN, IFF_TAP, IFF_PERSIST...
				 * but IFF_NO_PI (the device's IFLA_TUN_PI) */
	unsigned long netns_ino;	/* the device's network namespace */
	unsigned char mac[6];
	bool mac_set;		/* attach: set mac (a device made anew) */
	int index;		/* attach: the index if made anew (0: any) */
	int sndbuf, vnet_hdr_sz;
	bool readable;		/* a packet waits for the program */
};
/* 0 with t->attached false: opened, never attached */
int kh_tun_read(int fd, struct kh_tun *t);
/* TUNSETIFF as t says, MAC, owner, group (-1: leave), persist, detach */
int kh_tun_attach(int fd, const struct kh_tun *t, long owner, long group,
		  const char **step);
/* a persistent device, at index (0: the kernel's choice) */
int kh_tun_create(const char *name, int index, unsigned int flags, long owner,
		  long group);
/* nftables tables of the caller's namespace: how many, the first's name */
int kh_nft_tables(char *first, size_t len);

/*
 * netns_nft.c: nft(8), run in the calling thread's network namespace;
 * NULL if it is not installed.  save: `nft list ruleset` (-EIO if it
 * fails); load: `nft -f PATH`, its wait status.
 */
const char *kh_nft_path(void);
int kh_nft_save(char **out, size_t *len);
int kh_nft_load(const char *path, int *status);

/* netns_sysctl.c: every readable file under /proc/sys/net, sorted by key */
struct kh_sysctl {
	char *key;		/* e.g. net/ipv4/ip_default_ttl */
	char *value;		/* without the trailing newline */
};
int kh_sysctl_net(struct kh_sysctl **out, size_t *n);
void kh_sysctl_free(struct kh_sysctl *s, size_t n);
int kh_sysctl_write(const char *key, const char *value);

/* timens.c: a time namespace's offsets to the host's clocks */
struct kh_timens {
	long long mono_sec, boot_sec;
	long mono_nsec, boot_nsec;
};

int kh_timens_offsets(pid_t pid, struct kh_timens *t);
int kh_timens_set_offsets(const struct kh_timens *t);
/* ... of pid's time_for_children namespace, which no process entered */
int kh_timens_set_offsets_of(pid_t pid, const struct kh_timens *t);

/*
 * userns.c: pid's user namespace as its parent sees it (maps up to max
 * lines, setgroups, the owner's uid), the inode of /proc/PID/ns/NAME, of
 * the user namespace that owns it, of the parent of pid's user namespace;
 * the maps (and setgroups deny) of a user namespace pid just made, with
 * the file that failed in *step.
 */
struct crfs_ns_idmap;
struct crfs_ns;
int kh_userns_maps(pid_t pid, const char *file, struct crfs_ns_idmap *m,
		   size_t max, size_t *n);
int kh_userns_setgroups_deny(pid_t pid, bool *deny);
int kh_userns_owner(pid_t pid, uint32_t *uid);
int kh_ns_owner_ino(pid_t pid, const char *name, unsigned long *ino);
int kh_userns_parent_ino(pid_t pid, unsigned long *ino);
int kh_userns_write_maps(pid_t pid, const struct crfs_ns *ns,
			 const char **step);
/* "max_NAME VALUE" lines of /proc/sys/user as pid's user namespace has them */
int kh_userns_sysctls(pid_t pid, char *out, size_t len);

/* netns_sub.c: the inode of the network namespace socket sk was made in */
int kh_sock_netns_ino(int sk, unsigned long *ino);

/*
 * ns_ioctl.c: /proc/PID/ns/NAME opened read-only (-errno); the inode of
 * the namespace that ioctl req (NS_GET_USERNS, NS_GET_PARENT, SIOCGSKNS,
 * TUNGETDEVNETNS) on fd returns; the same on /proc/PID/ns/NAME.
 */
int kh_ns_open(pid_t pid, const char *name);
int kh_nsfd_ioctl_ino(int fd, unsigned long req, unsigned long *ino);
int kh_ns_ioctl_ino(pid_t pid, const char *name, unsigned long req,
		    unsigned long *ino);

#endif
