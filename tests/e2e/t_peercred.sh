#!/bin/bash
# SPDX-License-Identifier: MIT
#
# wl_peercred (zdtm sock_peercred): SO_PEERCRED (pid, uid, gid) of a
# socketpair made before a fork, a listener, a connection accepted from a
# child of another uid and gid and one made to the child's listener,
# checked by both processes after a freeze and thaw and after checkpoint
# -> kill -> restore (restore makes each call as a helper with the saved
# pid and ids); the image carries the peer_* keys.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/zdtm_lib.sh"

crfs_mount
zdtm_case wl_peercred pcthaw thaw
zdtm_case wl_peercred pc restore
grep -rqE "^[0-9]+ unix .* peer_pid=$ZDTM_PID( |\$)" "$T_DIR/pc.ckpt" ||
	fail "pc.ckpt: no unix socket with peer_pid=$ZDTM_PID"
grep -rqE "^[0-9]+ unix .* peer_uid=1234 peer_gid=1234( |\$)" "$T_DIR/pc.ckpt" ||
	fail "pc.ckpt: no unix socket with peer_uid=1234 peer_gid=1234"
pass
