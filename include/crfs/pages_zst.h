/* SPDX-License-Identifier: MIT */
/*
 * PID/pages.zst (FORMAT.md 4.8a), shared by the daemon (crfs/pages_zst.c)
 * and crfs-restore (restore/page_src.c): per chunk of at most
 * PZST_CHUNK_PAGES pages of the pages stream, a zstd skippable frame of
 * PZST_HEAD bytes (magic, frame size, page count, zero-page bitmap), then
 * one zstd frame of the chunk's non-zero pages unless all are zero.
 */
#ifndef CRFS_PAGES_ZST_H
#define CRFS_PAGES_ZST_H

#define CRFS_F_PAGES_ZST "pages.zst"
#define PZST_CHUNK_PAGES 256
#define PZST_MAGIC 0x184D2A5CU	/* one of zstd's skippable frame magics */
#define PZST_HEAD (8 + 4 + PZST_CHUNK_PAGES / 8)

#endif
