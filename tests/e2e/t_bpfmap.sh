#!/bin/bash
# SPDX-License-Identifier: MIT
#
# wl_bpfmap (zdtm bpf_array, bpf_hash): BPF maps held by descriptors
# (array, hash with BPF_F_NO_PREALLOC, LRU hash, a frozen array), checked
# by the workload (attributes, every entry, their number, frozen or not)
# after a freeze and thaw and after checkpoint -> kill -> restore; a
# per-CPU map is refused by name and the tree runs on.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/zdtm_lib.sh"

crfs_mount
zdtm_case wl_bpfmap bpfthaw thaw
zdtm_case wl_bpfmap bpf restore
[ "$(grep -rcE '^[0-9]+ bpfmap ' "$T_DIR/bpf.ckpt" --include=files | awk -F: '{ s += $NF } END { print s }')" = 4 ] ||
	fail "bpf.ckpt: not 4 bpfmap files"
zdtm_refused wl_bpfmap percpu "a BPF map of a type other than array, hash and lru_hash is not supported"
pass
