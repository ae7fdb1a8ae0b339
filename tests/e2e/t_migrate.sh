#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated
#
# crfsctl migrate: a server moved to another host with its clients
# connected.  Three network namespaces on one bridge: host A (this test's
# own), host B and the client's; A and B each run an sshd of the test's
# own (host key and root key made here).  The container is a network, pid
# and mount namespace on A, linked by a veth to A's bridge, with the
# service address 10.77.0.10 inside: a counter server (wl_migrate) and an
# sshd.  The client counts both ways over TCP without a pause, and an ssh
# session into the container runs a command loop.
#   - into a directory that exists on B: refused before the freeze;
#   - with the veth's outside name taken on B, the restore there fails:
#     crfsctl says so (exit 7), the original thaws and answers again,
#     nothing is left on B;
#   - a pre-copy round whose tar fails: refused (exit 1), nothing left on
#     B, the original runs on;
#   - an earlier copy (a --leave-running checkpoint rsync'ed to B), then
#     crfsctl migrate --rsync: restored on B, the original killed, the
#     client's counter and the ssh session go on with no error;
#   - back to B with --precopy 2 --lazy (post-copy restore there); the
#     first round's copy is held (an ssh wrapper waits for a file) until
#     the client has counted on by 40 with the round's pre-dump held: a
#     round does not stop the service while its pages are copied.
# The test is the subreaper of what crfs-restore -d leaves (PID 1 here
# does not reap).  Everything lives in namespaces of the test's own, gone
# with it.
if [ -z "${CRFS_T_OWN_NET:-}" ]; then
	CRFS_T_OWN_NET=1 CRFS_T_OWN_MOUNTS=1 exec unshare --net --mount \
		--propagation private python3 -c 'import ctypes, os, sys
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)	# PR_SET_CHILD_SUBREAPER
os.execv(sys.argv[1], sys.argv[1:])' "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/twohosts.sh"

# 4 MiB the server checks at its end: more than the 1 MiB pipe crfs-send
# writes into, so leg 4's held round 1 holds crfs-send too
start_service 4 sshd

# the client, and an ssh session into the container running a loop
start_workload "$T_DIR/client.log" nsenter -t "$HC" -n "$CRFS_TESTS/wl_migrate" \
	client 10.77.0.10 7000
CLIENT=$WL_PID
wait_ready "$T_DIR/client.log" "$CLIENT" 20
mkfifo "$T_DIR/sess.in" || fail "mkfifo"
start_workload "$T_DIR/sess.log" sh -c 'exec "$@" <"$0"' "$T_DIR/sess.in" \
	nsenter -t "$HC" -n $SSH -T 10.77.0.10 \
	'while read -r l; do echo "got $l from $(hostname -I)"; done; echo bye'
SESS=$WL_PID
exec 7>"$T_DIR/sess.in" || fail "cannot open the session's input"
echo one >&7
wait_line "$T_DIR/sess.log" '^got one from 10\.77\.0\.10 ?$' 30 "$SESS"
track_tree "$ROOT"

# at_least N: the client has counted past N
at() { awk '/^AT / { n = $2 } END { print n + 0 }' "$T_DIR/client.log"; }
goes_on() {
	local n
	n=$(at)
	wait_for 30 eval '[ "$(at)" -gt $((n + 40)) ]' ||
		fail "$1: the client stopped at $(at): $(tail -n 3 "$T_DIR/client.log" | tr '\n' '|')"
}
goes_on "before"

cr_attach svc "$ROOT"

# 0. the directory exists on B: refused before the freeze
mkdir -p "$T_DIR/b/taken" || fail "mkdir"
migrate svc "root@10.77.0.2:$T_DIR/b/taken"
rc=$?
[ $rc = 1 ] || fail "migrate into an existing directory: exit $rc, want 1"
grep -q "cannot create $T_DIR/b/taken on root@10.77.0.2 (it must not exist" "$T_DIR/migrate.err" ||
	fail "migrate into an existing directory: $(cat "$T_DIR/migrate.err")"
expect_state svc running

# 1. the restore on B fails (the veth's outside name is taken there)
inb ip link add vsvc type veth peer name vsvct || fail "cannot take vsvc on B"
migrate svc "root@10.77.0.2:$T_DIR/b/svc"
rc=$?
[ $rc = 7 ] || fail "migrate with vsvc taken on B: exit $rc, want 7: $(cat "$T_DIR/migrate.err")"
grep -q "veth vc0: its peer's name vsvc is taken" "$T_DIR/migrate.err" ||
	fail "migrate did not say why: $(cat "$T_DIR/migrate.err")"
grep -q "svc was thawed and runs on here" "$T_DIR/migrate.err" ||
	fail "migrate did not say the original runs on: $(cat "$T_DIR/migrate.err")"
expect_state svc running
[ -e "$T_DIR/b/svc" ] && fail "the failed migration left $T_DIR/b/svc"
left=$(inb ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | sort | tr '\n' ' ')
[ "$left" = "b0 brh lo vsvc vsvct " ] ||
	fail "the failed migration left links on B: $left"
ip -o link show dev vsvc | grep -q '[<,]UP[,>]' || fail "vsvc is not up again on A"
goes_on "after the failed migration"
echo two >&7
wait_line "$T_DIR/sess.log" '^got two from 10\.77\.0\.10 ?$' 30 "$SESS"
inb ip link del vsvc || fail "cannot free vsvc on B"

# 1b. a pre-copy round whose stream is cut (the session reads 100000
# bytes of it, then ends, an ssh wrapper): crfs-send's write fails and
# B's crfs-restore --stream sees the stream end inside a member; refused,
# the round's copy gone from B, tracking ended, the tree runs on
cat >"$T_DIR/cutssh" <<EOF || fail "cannot write the ssh wrapper"
#!/bin/sh
case "\$*" in
*--stream*) head -c 100000 | $SSH "\$@"; exit ;;
esac
exec $SSH "\$@"
EOF
chmod +x "$T_DIR/cutssh"
migrate --ssh "$T_DIR/cutssh" --precopy 1 svc "root@10.77.0.2:$T_DIR/b/svct"
rc=$?
[ $rc = 1 ] || fail "migrate --precopy with its stream cut: exit $rc, want 1: $(cat "$T_DIR/migrate.err")"
grep -q "^crfs-send: pre-copy round 1 failed; the tree runs on$" "$T_DIR/migrate.err" &&
	grep -q "^crfsctl: pre-copy to root@10.77.0.2 failed; svc runs on here$" "$T_DIR/migrate.err" ||
	fail "migrate --precopy with its stream cut: $(cat "$T_DIR/migrate.err")"
compgen -G "$T_DIR/b/svct*" >/dev/null && fail "the failed round left $(echo "$T_DIR"/b/svct*)"
grep -q '^track' "$MNT/svc/ctl" && fail "tracking left on: $(cat "$MNT/svc/ctl")"
expect_state svc running
goes_on "after the failed pre-copy round"

# 2. an earlier copy on B, then the migration sends what changed
CRFS_MNT=$MNT timeout 60 "$CRFS_BIN/crfsctl" checkpoint --leave-running svc "$T_DIR/pre" \
	>"$T_DIR/pre.out" 2>&1 || fail "checkpoint --leave-running: $(cat "$T_DIR/pre.out")"
rsync -a -e "$SSH" "$T_DIR/pre/" "10.77.0.2:$T_DIR/b/svc/" ||
	fail "cannot copy the earlier checkpoint to B"
goes_on "after the earlier checkpoint"
migrate --rsync svc "root@10.77.0.2:$T_DIR/b/svc" ||
	fail "migrate --rsync: exit $?: $(cat "$T_DIR/migrate.err")"
note "$(tr '\n' ' ' <"$T_DIR/migrate.out")"
for k in freeze transfer restore downtime; do
	grep -Eq "^$k [0-9]+\.[0-9]{3} s$" "$T_DIR/migrate.out" ||
		fail "migrate does not report $k: $(cat "$T_DIR/migrate.out")"
done
NEW=$(sed -n 's/.*root pid \([0-9]*\) there$/\1/p' "$T_DIR/migrate.out")
[ -n "$NEW" ] || fail "migrate named no pid: $(cat "$T_DIR/migrate.out")"
track_pid "$NEW"
track_tree "$NEW"
wait_exit "$TOP" 20 || fail "the original's unshare did not end"
proc_alive "$ROOT" && fail "the original $ROOT still runs"
[ "$(readlink "/proc/$NEW/ns/net")" = "$(readlink "/proc/$HB/ns/net")" ] &&
	fail "the restored root is in B's own namespace"
inb ip -o link show dev vsvc | grep -q 'master brh' ||
	fail "vsvc is not on B's bridge: $(inb ip -o link show dev vsvc)"
ip link show dev vsvc >/dev/null 2>&1 && fail "vsvc is still on A"
goes_on "after the migration"
echo three >&7
wait_line "$T_DIR/sess.log" '^got three from 10\.77\.0\.10 ?$' 30 "$SESS"

# 3. and back: B's own crfs (in B's network namespace, where the veth's
# outside end now is) checkpoints the restored tree and moves it to A
MNTB=$T_DIR/mntb
mkdir -p "$MNTB" || fail "mkdir $MNTB"
trap 'rc=$?; umount -l "$MNTB" 2>/dev/null; kill_ours; (exit $rc); _cleanup' EXIT
# (not holding the session's input open: its end is the session's end)
inb timeout 20 "$CRFS_BIN/crfs" "$MNTB" </dev/null >"$T_DIR/crfsb.out" \
	2>"$T_DIR/crfsb.err" 7>&- || fail "crfs on B exited with $?: $(cat "$T_DIR/crfsb.err")"
wait_for 10 eval 'awk -v m="$MNTB" '"'"'$5 == m { f = 1 } END { exit !f }'"'"' /proc/self/mountinfo' ||
	fail "crfs on B: $MNTB not mounted"
timeout 10 mkdir "$MNTB/svc" && timeout 10 bash -c 'echo "attach $1" >"$2"' _ "$NEW" "$MNTB/svc/ctl" ||
	fail "cannot attach the restored tree to B's crfs"
MNT=$MNTB migrate_on inb --rsync svc "root@10.77.0.1:$T_DIR/pre"
rc=$?
[ $rc = 0 ] || fail "migrate back to A: exit $rc: $(cat "$T_DIR/migrate.err")"
note "back: $(tr '\n' ' ' <"$T_DIR/migrate.out")"
grep -Eq "^downtime [0-9]+\.[0-9]{3} s$" "$T_DIR/migrate.out" ||
	fail "migrate back does not report its downtime: $(cat "$T_DIR/migrate.out")"
BACK=$(sed -n 's/.*root pid \([0-9]*\) there$/\1/p' "$T_DIR/migrate.out")
[ -n "$BACK" ] || fail "migrate back named no pid: $(cat "$T_DIR/migrate.out")"
track_pid "$BACK"
track_tree "$BACK"
wait_gone "$NEW" 20 || fail "the copy on B ($NEW) still runs"
ip -o link show dev vsvc | grep -q 'master brh' ||
	fail "vsvc is not on A's bridge again: $(ip -o link show dev vsvc 2>&1)"
inb ip link show dev vsvc >/dev/null 2>&1 && fail "vsvc is still on B"
goes_on "after the migration back"
echo four >&7
wait_line "$T_DIR/sess.log" '^got four from 10\.77\.0\.10 ?$' 30 "$SESS"

# 4. to B again with --precopy 2 --lazy: tracked, two copies streamed
# while it runs (b/pc/.pre1, b/pc/.pre2), the last freeze copies what
# changed, and B's tree runs before its private memory is in (post-copy:
# crfs-restore --lazy's handler fills it, then says so and exits); with
# --zstd the last copy holds pages.zst (pre-dumps are plain), the chain
# read from both
cr_attach pc "$BACK"
# the copy of round 1 to B waits for $T_DIR/go: the stream's session
# (every round and the last copy go through it) reads nothing before
cat >"$T_DIR/holdssh" <<EOF || fail "cannot write the ssh wrapper"
#!/bin/sh
case "\$*" in
*--stream*)
	{ while [ ! -e '$T_DIR/go' ]; do sleep 0.05; done; exec cat; } |
		$SSH "\$@"
	exit ;;
esac
exec $SSH "\$@"
EOF
chmod +x "$T_DIR/holdssh"
CRFS_MNT=$MNT "$CRFS_BIN/crfsctl" migrate --ssh "$T_DIR/holdssh" \
	--remote-restore "$CRFS_BIN/crfs-restore" --precopy 2 --lazy --zstd pc \
	"root@10.77.0.2:$T_DIR/b/pc" >"$T_DIR/migrate.out" \
	2>"$T_DIR/migrate.err" &
m=$!
wait_for 30 grep -q '^predump frozen_us' "$MNT/pc/ctl" ||
	fail "no pre-dump held while round 1 copies: $(cat "$MNT/pc/ctl" "$T_DIR/migrate.err")"
n=$(at)
wait_for 30 eval '[ "$(at)" -gt $((n + 40)) ]' ||
	fail "the client stopped at $(at) during pre-copy round 1"
grep -q '^predump frozen_us' "$MNT/pc/ctl" ||
	fail "round 1's pre-dump was not held while the client counted"
grep -qx running "$MNT/pc/ctl" || fail "the tree is not running during round 1"
note "during round 1 the client counted from $n to $(at)"
touch "$T_DIR/go"
wait_exit "$m" 60 ||
	fail "crfsctl migrate --precopy 2 --lazy did not end in 60s"
[ "$EXIT_STATUS" = 0 ] ||
	fail "migrate --precopy 2 --lazy: exit $EXIT_STATUS: $(cat "$T_DIR/migrate.err")"
grep -q '^crfsctl: pre-copy round 2: [0-9]* bytes of pages' "$T_DIR/migrate.err" ||
	fail "crfsctl did not report round 2: $(cat "$T_DIR/migrate.err")"
note "precopy: $(tr '\n' ' ' <"$T_DIR/migrate.out")"
wait_line "$T_DIR/b/pc.lazy.pid.lazy.log" 'lazy: done: ' 60
note "$(cat "$T_DIR/b/pc.lazy.pid.lazy.log")"
[ -d "$T_DIR/b/pc/.pre2" ] && [ ! -e "$T_DIR/b/pc/.pre3" ] ||
	fail "migrate --precopy 2 made no pc/.pre2 (or more) on B: $(ls -a "$T_DIR/b/pc")"
# the stream's go (sent once the image was read whole and the veths were
# down) is taken away there before the restore
[ -e "$T_DIR/b/pc/.crfsctl-go" ] && fail "the stream's go was left in pc on B"
grep -q '^read [0-9.]* s$' "$T_DIR/migrate.out" ||
	fail "migrate does not report its read: $(cat "$T_DIR/migrate.out")"
compgen -G "$T_DIR/b/pc/[0-9]*/pages.zst" >/dev/null ||
	fail "migrate --zstd: no pages.zst in pc on B"
compgen -G "$T_DIR/b/pc/[0-9]*/pages" >/dev/null &&
	fail "migrate --zstd: plain pages in pc on B"
for d in pc/.pre1 pc/.pre2; do
	compgen -G "$T_DIR/b/$d/[0-9]*/pages" >/dev/null ||
		fail "migrate --zstd: no plain pages in the pre-dump $d on B"
done
grep -q '^parent \.pre2 ' "$T_DIR/b/pc/image" ||
	fail "the last copy does not name .pre2 as its parent: $(grep '^parent' "$T_DIR/b/pc/image")"
grep -q '^parent \.\./\.pre1 ' "$T_DIR/b/pc/.pre2/image" ||
	fail "pc/.pre2 does not name ../.pre1 as its parent"
PC=$(sed -n 's/.*root pid \([0-9]*\) there$/\1/p' "$T_DIR/migrate.out")
[ -n "$PC" ] || fail "migrate --precopy named no pid: $(cat "$T_DIR/migrate.out")"
track_pid "$PC"
track_tree "$PC"
wait_gone "$BACK" 20 || fail "the original ($BACK) still runs after --precopy"
goes_on "after the pre-copy migration"
echo five >&7
wait_line "$T_DIR/sess.log" '^got five from 10\.77\.0\.10 ?$' 30 "$SESS"
exec 7>&-
wait_line "$T_DIR/sess.log" '^bye$' 30
wait_exit "$SESS" 20 || fail "the ssh session did not end"
[ "$EXIT_STATUS" = 0 ] || fail "the ssh session ended with $EXIT_STATUS"
kill -USR1 "$CLIENT"
expect_pass "$T_DIR/client.log" "$CLIENT" 30
wait_line "$T_DIR/svc.log" '^DONE ' 30
grep -q '^PASS server$' "$T_DIR/svc.log" || fail "server: $(tail -n 3 "$T_DIR/svc.log")"
note "client: $(grep maxgap "$T_DIR/client.log")"
pass
