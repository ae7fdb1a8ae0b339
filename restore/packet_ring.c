// SPDX-License-Identifier: MIT
/*
 * A packet socket's rings again: the same sizes set up with
 * PACKET_RX_RING and PACKET_TX_RING (after PACKET_VERSION and
 * PACKET_RESERVE, which a ring fixes), and each process's mapping of them
 * made from the socket itself (the restorer maps it where it was and fills
 * its pages as the image has them).  The daemon saved only rings whose
 * kernel place was their start, where a new ring's is.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/if_packet.h>

#include "kh.h"
#include "kh_packet.h"
#include "files.h"

/* one "rx/..." or "tx/..." of f->ring; *len its bytes */
static int parse_one(const char *s, int *tx, struct tpacket_req3 *r)
{
	char name[3];
	int n = 0;

	memset(r, 0, sizeof(*r));
	if (sscanf(s, "%2[rtx]/%u/%u/%u/%u/%u/%u/%u%n", name, &r->tp_block_size,
		   &r->tp_block_nr, &r->tp_frame_size, &r->tp_frame_nr,
		   &r->tp_retire_blk_tov, &r->tp_sizeof_priv,
		   &r->tp_feature_req_word, &n) != 8 ||
	    (s[n] && s[n] != ';') || (strcmp(name, "rx") && strcmp(name, "tx")))
		return -EINVAL;
	*tx = name[0] == 't';
	return 0;
}

/* bytes of f's rings, RX and TX together (as they are mapped); 0: none */
static int64_t rings_len(const struct crfs_file *f)
{
	struct tpacket_req3 r;
	const char *s = f->ring;
	int64_t len = 0;
	int tx;

	for (; s && *s; s += strcspn(s, ";"), s += *s == ';') {
		if (parse_one(s, &tx, &r))
			return -EINVAL;
		len += (int64_t)r.tp_block_size * r.tp_block_nr;
	}
	return len;
}

/* the mapping of f's rings in the image, and its process; NULL: none */
static const struct crfs_vma *mapped(const struct image *img,
				     const struct crfs_file *f,
				     const struct proc_image **owner)
{
	const struct proc_image *p;
	size_t i, k;

	for (i = 0; i < img->nprocs; i++) {
		p = &img->procs[i];
		for (k = 0; k < p->nvmas; k++)
			if (p->vmas[k].kind == VMA_PACKET &&
			    p->vmas[k].shm_ino == f->ino) {
				*owner = p;
				return &p->vmas[k];
			}
	}
	return NULL;
}

/* v's saved bytes into buf (pages never saved read as zeros) */
static int read_saved(const struct image *img, const struct proc_image *p,
		      const struct crfs_vma *v, unsigned char *buf)
{
	const struct crfs_page_run *r;
	const struct proc_image *src;
	uint64_t len;
	size_t i;
	int fd, ret = 0;

	for (i = 0; !ret && i < p->nruns; i++) {
		r = &p->runs[i];
		len = r->npages * 4096;
		if (r->addr < v->start || r->addr + len > v->end)
			continue;
		src = r->src == p->pid ? p : image_proc(img, r->src);
		fd = src ? open(src->pages_path, O_RDONLY | O_CLOEXEC) : -1;
		if (fd < 0)
			return -errno ?: -ENOENT;
		if (pread(fd, buf + (r->addr - v->start), len, r->offset) != (ssize_t)len)
			ret = -EIO;
		close(fd);
	}
	return ret;
}

/*
 * The daemon checked the rings when it froze the tree, but the kernel
 * goes on filling an RX ring while the tree is frozen, and its pages are
 * read when the image is copied: they must show a ring still at its
 * start, where the new one's kernel place is.
 */
static int check_saved(struct open_ctx *c, const struct crfs_file *f,
		       int version, const struct tpacket_req3 *req, const int *has)
{
	struct kh_packet kp = { .version = version };
	const struct proc_image *p = NULL;
	const struct crfs_vma *v = mapped(c->img, f, &p);
	const char *why;
	unsigned char *buf;
	int i, ret;

	if (!v)
		return 0;
	for (i = 0; i < 2; i++) {
		kp.has_ring[i] = has[i];
		kp.ring[i] = (struct kh_packet_ring){
			.block_size = req[i].tp_block_size,
			.block_nr = req[i].tp_block_nr,
			.frame_size = req[i].tp_frame_size,
			.frame_nr = req[i].tp_frame_nr,
		};
	}
	buf = calloc(1, v->end - v->start);
	if (!buf)
		return FAIL(c, "out of memory");
	ret = read_saved(c->img, p, v, buf);
	why = ret ? NULL : kh_packet_rings_scan(buf, &kp);
	free(buf);
	if (ret)
		return FAIL(c, "file %u (packet socket): its ring's pages as process %d mapped them: %s",
			    f->id, p->pid, strerror(-ret));
	if (why)
		return FAIL(c, "file %u (packet socket): its ring as the image holds it: %s",
			    f->id, why);
	return 0;
}

int packet_rings_set(struct open_ctx *c, int sk, const struct crfs_file *f)
{
	struct tpacket_req3 req[2] = { { 0 } };
	int has[2] = { 0, 0 };
	struct tpacket_req3 r;
	const char *s = f->ring;
	int version = TPACKET_V1, tx;
	socklen_t l = sizeof(version);

	if (s && getsockopt(sk, SOL_PACKET, PACKET_VERSION, &version, &l))
		return FAIL(c, "file %u (packet socket): PACKET_VERSION: %s",
			    f->id, strerror(errno));
	for (; s && *s; s += strcspn(s, ";"), s += *s == ';') {
		if (parse_one(s, &tx, &r))
			return FAIL(c, "file %u (packet socket): bad ring '%s'",
				    f->id, f->ring);
		if (setsockopt(sk, SOL_PACKET, tx ? PACKET_TX_RING : PACKET_RX_RING,
			       &r, version == TPACKET_V3 ? sizeof(r) :
			       sizeof(struct tpacket_req)))
			return FAIL(c, "file %u (packet socket): set up its %s ring (%s): %s",
				    f->id, tx ? "TX" : "RX", f->ring,
				    strerror(errno));
		req[tx] = r;
		has[tx] = 1;
	}
	return f->ring ? check_saved(c, f, version, req, has) : 0;
}

/* by the process's own descriptor of it: its table is installed by now */
int packet_ring_fd(const struct image *img, const struct proc_image *p,
		   const struct crfs_vma *v)
{
	const struct crfs_file *f;
	size_t i;

	for (i = 0; i < p->nfds; i++) {
		f = p->fds[i].file && p->fds[i].file <= img->nfiles ?
		    &img->files[p->fds[i].file - 1] : NULL;
		if (!f || f->kind != FK_PACKET || f->ino != v->shm_ino)
			continue;
		/* the kernel maps a socket's rings whole, or not at all */
		if (!f->ring || rings_len(f) != (int64_t)(v->end - v->start))
			return -EINVAL;
		return fcntl(p->fds[i].fd, F_DUPFD_CLOEXEC, 0);
	}
	return -ENOENT;
}
