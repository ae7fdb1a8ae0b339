// SPDX-License-Identifier: MIT
/*
 * /dev/net/tun descriptors (FK_TUN): opened again, and attached to their
 * device by name.  A device of the tree's own namespace was made (kept
 * persistent) with it; one of ours is made here by TUNSETIFF, with its MAC,
 * owner and group.  Persistence as saved, then a detached queue detached.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "files.h"
#include "kh_ns.h"

int open_tun(struct open_ctx *c, const struct crfs_file *f)
{
	struct kh_tun t = { 0 };
	const char *step = "open /dev/net/tun";
	unsigned int m[6];
	int fd, i;

	fd = open("/dev/net/tun", (f->flags & O_ACCMODE) | O_CLOEXEC);
	if (fd < 0)
		goto fail;
	if (f->ifname) {
		snprintf(t.name, sizeof(t.name), "%s", f->ifname);
		t.flags = f->tun_flags;
		t.detached = f->tun_detached;
		if (f->tun_mac && sscanf(f->tun_mac, "%x:%x:%x:%x:%x:%x", &m[0],
					 &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
			return FAIL(c, "file %u (tun %s): bad tun_mac '%s'",
				    f->id, f->ifname, f->tun_mac);
		for (i = 0; f->tun_mac && i < 6; i++)
			t.mac[i] = m[i];
		t.mac_set = f->tun_mac != NULL;
		t.index = f->tun_index;
		errno = -kh_tun_attach(fd, &t, f->tun_owner, f->tun_group,
				       &step);
		if (errno)
			goto fail;
	}
	step = "set its flags";
	if (fcntl(fd, F_SETFL, f->flags))
		goto fail;
	return place(c, f, fd);
fail:
	if (fd >= 0)
		close(fd);
	return FAIL(c, "file %u (tun %s): %s: %s", f->id,
		    f->ifname ?: "not attached", step, strerror(errno));
}
