# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# tests/e2e/twohosts.sh - sourced after lib.sh by t_migrate and
# tools/bench-migrate, in a network and mount namespace of their own, as
# the subreaper of what they start.  Two hosts and a client: host A is
# this namespace, host B ($HB) and the client ($HC) namespaces held by a
# sleep; a switch bridge brs (10.77.0.100) in the client's, linked to a
# bridge brh on each host (A 10.77.0.1, B 10.77.0.2), an sshd of our own
# on each (keys made here; $SSH reaches either), crfs mounted on A.
# start_service puts a container on A; migrate moves it with crfsctl.

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
	# a sanitizer build's crfs-restore there reports where CI looks
	SendEnv ASAN_OPTIONS UBSAN_OPTIONS
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
AcceptEnv ASAN_OPTIONS UBSAN_OPTIONS
EOF
SSH="ssh -F $S/config"
start_workload "$T_DIR/sshd-a.log" $SSHD -D -e -f "$S/sshd_config"
start_workload "$T_DIR/sshd-b.log" nsenter -t "$HB" -n $SSHD -D -e -f "$S/sshd_config"
wait_for 20 eval 'inb $SSH -n 10.77.0.1 true 2>/dev/null' || fail "no ssh from B to A"
wait_for 20 eval '$SSH -n 10.77.0.2 true 2>/dev/null' || fail "no ssh from A to B"

crfs_mount

# start_service [MIB] [sshd]: the container: its own network (service
# address 10.77.0.10 on vc0, the outside end vsvc on A's bridge), pid and
# mount namespaces; the counter server (holding MIB of memory) and, with
# sshd, an sshd.  Sets TOP (our child) and ROOT.
start_service() {
	local sshd=:
	[ "${2:-}" = sshd ] && sshd="$SSHD -D -f $S/sshd_config -E $T_DIR/sshd-svc.log"
	start_workload "$T_DIR/svc.log" unshare --net --pid --fork --mount-proc sh -c \
		'"$0" server 7000 "$1" & $2 & wait' \
		"$CRFS_TESTS/wl_migrate" "${1:-0}" "$sshd"
	TOP=$WL_PID
	wait_for 20 eval '[ -n "$(pgrep -P '"$TOP"')" ]' || fail "no container root under $TOP"
	ROOT=$(pgrep -P "$TOP")
	track_pid "$ROOT"
	ip link add vsvc type veth peer name vc0 netns "$ROOT" &&
		ip link set vsvc master brh up &&
		nsenter -t "$ROOT" -n sh -c 'ip link set lo up && ip link set vc0 up &&
			ip addr add 10.77.0.10/24 dev vc0 && ip route add default via 10.77.0.1' ||
		fail "cannot give the container its veth"
	wait_ready "$T_DIR/svc.log" "$ROOT" "${T_MIGRATE_LIMIT:-60}"
	track_tree "$ROOT"
}

# migrate ARGS...: crfsctl migrate ARGS from A; its output in migrate.out
# and migrate.err
migrate() {
	migrate_on "" "$@"
}

# migrate_on RUN ARGS...: migrate, with crfsctl run through RUN (inb: from
# B, with MNT B's crfs)
migrate_on() {
	local m run=$1
	shift
	CRFS_MNT=$MNT $run "$CRFS_BIN/crfsctl" migrate --ssh "$SSH" \
		--remote-restore "$CRFS_BIN/crfs-restore" "$@" \
		>"$T_DIR/migrate.out" 2>"$T_DIR/migrate.err" &
	m=$!
	wait_exit "$m" "${T_MIGRATE_LIMIT:-60}" && return "$EXIT_STATUS"
	ps -eo pid,ppid,stat,wchan:24,args --forest >"$T_DIR/ps.txt"
	fail "crfsctl migrate $* did not end in ${T_MIGRATE_LIMIT:-60}s"
}
