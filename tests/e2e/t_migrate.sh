#!/bin/bash
# SPDX-License-Identifier: MIT
#
# crfsctl migrate: a server moved to another host with its clients
# connected.  Three network namespaces on one bridge: host A (this test's
# own), host B and the client's; A and B each run an sshd of the test's
# own (host key and root key made here).  The container is a network, pid
# and mount namespace on A, linked by a veth to A's bridge, with the
# service address 10.77.0.10 inside: a counter server (wl_migrate) and an
# sshd.  The client counts both ways over TCP without a pause, and an ssh
# session into the container runs a command loop.
#   - with the veth's outside name taken on B, the restore there fails:
#     crfsctl says so (exit 5), the original thaws and answers again,
#     nothing is left on B;
#   - an earlier copy (a --leave-running checkpoint rsync'ed to B), then
#     crfsctl migrate --rsync: restored on B, the original killed, the
#     client's counter and the ssh session go on with no error.
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

# what crfs-restore -d and ssh -f leave are our children (we are their
# subreaper): every tree under us but the crfs daemon goes at the end
kill_ours() {
	local p d
	d=$(daemon_pid)
	for p in $(pgrep -P $$); do
		[ "$p" = "$d" ] || kill -KILL $(tree_pids "$p") 2>/dev/null
	done
	return 0
}
trap 'rc=$?; kill_ours; (exit $rc); _cleanup' EXIT

for c in ip nsenter unshare ssh ssh-keygen rsync tar nft; do
	command -v $c >/dev/null || fail "$c not found"
done
SSHD=/usr/sbin/sshd
[ -x $SSHD ] || fail "no $SSHD (openssh-server)"
# sshd insists on its privilege separation directory (Debian makes it
# at boot)
[ -d /run/sshd ] || mkdir -m 0755 /run/sshd || fail "cannot make /run/sshd"
ip link set lo up || fail "cannot bring lo up"
# root's own shell start-up files (run for every ssh command) are not the
# test's business and may be slow: an empty home in our mount namespace
mkdir -m 0700 "$T_DIR/home" && mount --bind "$T_DIR/home" /root ||
	fail "cannot give root an empty home"

# holder LOG: a namespace held by a sleep; sets HOLDER
holder() {
	start_workload "$T_DIR/$1.log" unshare --net sleep 3600
	HOLDER=$WL_PID
	wait_for 10 eval '[ "$(readlink /proc/$HOLDER/ns/net)" != "$(readlink /proc/self/ns/net)" ]' ||
		fail "no network namespace for $1"
}
holder hostb
HB=$HOLDER
holder client
HC=$HOLDER
inb() { nsenter -t "$HB" -n "$@"; }
inc() { nsenter -t "$HC" -n "$@"; }

# the switch (in the client's namespace), host A's and host B's bridges
inc ip link add brs type bridge && inc ip link set brs up &&
	inc ip addr add 10.77.0.100/24 dev brs && inc ip link set lo up ||
	fail "cannot make the switch"
ip link add a0 type veth peer name sa netns "$HC" &&
	ip link add b0 netns "$HB" type veth peer name sb netns "$HC" &&
	inc ip link set sa master brs up && inc ip link set sb master brs up ||
	fail "cannot link the hosts to the switch"
for h in a b; do
	n=1
	run=
	[ $h = b ] && n=2 run=inb
	# a bridge's MAC is otherwise its lowest port's, which may be the
	# moved veth's: two bridges with one MAC on the switch
	$run ip link set lo up &&
		$run ip link add brh address 02:77:00:00:00:0$n type bridge &&
		$run ip link set ${h}0 master brh up && $run ip link set brh up &&
		$run ip addr add 10.77.0.$n/24 dev brh ||
		fail "cannot make host $h's bridge"
done

# ssh: keys, client config, one sshd per host
S=$T_DIR/ssh
mkdir -m 0700 "$S" || fail "mkdir $S"
ssh-keygen -q -t ed25519 -N '' -f "$S/host_key" && ssh-keygen -q -t ed25519 -N '' -f "$S/id" ||
	fail "ssh-keygen failed"
cp "$S/id.pub" "$S/authorized_keys"
echo "* $(cat "$S/host_key.pub")" >"$S/known_hosts"
cat >"$S/config" <<EOF
Host *
	User root
	IdentityFile $S/id
	IdentitiesOnly yes
	UserKnownHostsFile $S/known_hosts
	GlobalKnownHostsFile /dev/null
	StrictHostKeyChecking yes
	BatchMode yes
	ConnectTimeout 20
	LogLevel ERROR
EOF
cat >"$S/sshd_config" <<EOF
HostKey $S/host_key
AuthorizedKeysFile $S/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile none
UseDNS no
PrintMotd no
PrintLastLog no
Subsystem sftp none
EOF
SSH="ssh -F $S/config"
start_workload "$T_DIR/sshd-a.log" $SSHD -D -e -f "$S/sshd_config"
start_workload "$T_DIR/sshd-b.log" nsenter -t "$HB" -n $SSHD -D -e -f "$S/sshd_config"
wait_for 20 eval 'inb $SSH -n 10.77.0.1 true 2>/dev/null' || fail "no ssh from B to A"
wait_for 20 eval '$SSH -n 10.77.0.2 true 2>/dev/null' || fail "no ssh from A to B"

crfs_mount

# the container: its own network (service address 10.77.0.10 on vc0, the
# outside end vsvc on A's bridge), pid and mount namespaces; the counter
# server and an sshd
start_workload "$T_DIR/svc.log" unshare --net --pid --fork --mount-proc sh -c \
	'"$0" server 7000 & "$1" -D -f "$2" -E "$3" & wait' \
	"$CRFS_TESTS/wl_migrate" $SSHD "$S/sshd_config" "$T_DIR/sshd-svc.log"
TOP=$WL_PID
wait_for 20 eval '[ -n "$(pgrep -P '"$TOP"')" ]' || fail "no container root under $TOP"
ROOT=$(pgrep -P "$TOP")
track_pid "$ROOT"
ip link add vsvc type veth peer name vc0 netns "$ROOT" &&
	ip link set vsvc master brh up &&
	nsenter -t "$ROOT" -n sh -c 'ip link set lo up && ip link set vc0 up &&
		ip addr add 10.77.0.10/24 dev vc0 && ip route add default via 10.77.0.1' ||
	fail "cannot give the container its veth"
wait_ready "$T_DIR/svc.log" "$ROOT" 20
track_tree "$ROOT"

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

migrate() {
	local m
	CRFS_MNT=$MNT "$CRFS_BIN/crfsctl" migrate --ssh "$SSH" \
		--remote-restore "$CRFS_BIN/crfs-restore" "$@" \
		>"$T_DIR/migrate.out" 2>"$T_DIR/migrate.err" &
	m=$!
	wait_exit "$m" 60 && return "$EXIT_STATUS"
	ps -eo pid,ppid,stat,wchan:24,args --forest >"$T_DIR/ps.txt"
	fail "crfsctl migrate $* did not end in 60s"
}
cr_attach svc "$ROOT"

# 1. the restore on B fails (the veth's outside name is taken there)
inb ip link add vsvc type veth peer name vsvct || fail "cannot take vsvc on B"
migrate svc "root@10.77.0.2:$T_DIR/b/svc"
rc=$?
[ $rc = 5 ] || fail "migrate with vsvc taken on B: exit $rc, want 5: $(cat "$T_DIR/migrate.err")"
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
