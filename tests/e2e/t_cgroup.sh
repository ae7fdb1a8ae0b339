#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared cgroup (the cgroup tree)
#
# wl_cgroup: a tree in cgroups of its own, in the v2 hierarchy and in the
# v1 cpu, memory, pids and freezer ones: the root in TOP/r, its child in
# TOP/r/k, with limits on TOP, TOP/r and TOP/r/k.  Each TOP is made below
# this test's own cgroup of that hierarchy and removed at exit, whatever
# happened.
#  plain: freeze and thaw (cgroups unchanged), checkpoint, kill, remove
#         every cgroup: restore makes them again with their limits.
#  mixed: the root in this test's own cgroups (the host's, as the
#         daemon's), only its child in TOP/r/k.
#  ns:    the root in a cgroup namespace of its own at TOP/r; the cgroups
#         are left in place: restore uses them as they are.
#  moved: the ns image restored with --cgroup-root below other cgroups.
#  conflict: a cgroup of the image there with another pids.max is refused
#         by name, and the cgroup restore had made by then is removed.
#  devices: a tree in a v1 devices cgroup that denies by default: its
#         allow list (devices.list) made again exactly.
#  refused: a tree in a v1 devices cgroup of its own that allows by
#         default (its deny rules do not show), or below a v2 cgroup.max.descendants, is refused at
#         freeze by name, and so is a child in a cgroup namespace other
#         than the root's; a tree its freezer cgroup froze fails to freeze
#         at once, by name (ptrace could not stop it).
. "$(dirname "$0")/lib.sh"

HIERS="v2 cpu memory pids freezer"
CG_NAME=crfs-t-cgroup-$$
declare -A TOP MYPATH ALT

# cg_base H: our own cgroup's directory in hierarchy H (a v1 controller,
# or v2), from a mount of the hierarchy's root; MYPATH[H] our path in it
cg_base() {
	local mp path
	if [ "$1" = v2 ]; then
		mp=$(awk '{ for (i = 7; $i != "-"; i++); if ($(i + 1) == "cgroup2" && $4 == "/") { print $5; exit } }' /proc/self/mountinfo)
		path=$(awk -F: '$1 == 0 { print $3 }' /proc/self/cgroup)
	else
		mp=$(awk -v c="$1" '{ for (i = 7; $i != "-"; i++); if ($(i + 1) != "cgroup" || $4 != "/") next;
			n = split($(i + 3), o, ","); for (k = 1; k <= n; k++) if (o[k] == c) { print $5; exit } }' /proc/self/mountinfo)
		path=$(awk -F: -v c="$1" '{ n = split($2, o, ","); for (k = 1; k <= n; k++) if (o[k] == c) print $3 }' /proc/self/cgroup)
	fi
	[ -n "$mp" ] && [ -n "$path" ] || return 1
	MYPATH[$1]=${path%/}
	echo "$mp${path%/}"
}

for h in $HIERS devices; do
	b=$(cg_base "$h") || fail "no cgroup hierarchy $h mounted here"
	cg_base "$h" >/dev/null	# MYPATH, outside the command substitution
	TOP[$h]=$b/$CG_NAME
	ALT[$h]=$b/$CG_NAME-alt
done

# rmdir DIR, retried while its last tasks are still on their way out
cg_rmdir() {
	[ -d "$1" ] || return 0
	wait_for 10 rmdir "$1" 2>/dev/null || echo "# cannot remove cgroup $1" >&2
}

# every cgroup this test made, deepest first, once their tasks are gone
cg_remove() {
	local h
	for h in $HIERS; do
		cg_rmdir "${ALT[$h]}/$CG_NAME/r/k"
		cg_rmdir "${ALT[$h]}/$CG_NAME/r"
		cg_rmdir "${ALT[$h]}/$CG_NAME"
		cg_rmdir "${ALT[$h]}"
	done
	cg_rmdir "${ALT[devices]}/al"
	cg_rmdir "${ALT[devices]}"
	for h in $HIERS devices; do
		cg_rmdir "${TOP[$h]}/fz"
		cg_rmdir "${TOP[$h]}/r/k"
		cg_rmdir "${TOP[$h]}/r"
		cg_rmdir "${TOP[$h]}"
	done
}

cg_exit() {
	# a task of a frozen v1 cgroup dies only once thawed
	[ -d "${TOP[freezer]}/fz" ] && echo THAWED >"${TOP[freezer]}/fz/freezer.state"
	_kill_tracked
	cg_remove
}
trap '_t_rc=$?; cg_exit; (exit $_t_rc); _cleanup' EXIT

cg_write() {
	echo "$2" >"$1" || fail "cannot write '$2' to $1"
}

cg_make() {
	local h
	for h in $HIERS; do
		mkdir -p "${TOP[$h]}/r/k" || fail "cannot make cgroups in ${TOP[$h]}"
	done
	cg_write "${TOP[cpu]}/cpu.cfs_period_us" 100000
	cg_write "${TOP[cpu]}/cpu.cfs_quota_us" 50000
	cg_write "${TOP[cpu]}/cpu.shares" 512
	cg_write "${TOP[cpu]}/r/k/cpu.shares" 256
	cg_write "${TOP[memory]}/memory.limit_in_bytes" 268435456
	cg_write "${TOP[memory]}/r/memory.soft_limit_in_bytes" 67108864
	cg_write "${TOP[pids]}/pids.max" 64
	cg_write "${TOP[pids]}/r/k/pids.max" 16
}

# the limits as a line, to compare before and after
limits() {
	local d
	for d in "${TOP[cpu]}" "${TOP[cpu]}/r/k"; do
		cat "$d/cpu.shares" "$d/cpu.cfs_quota_us" "$d/cpu.cfs_period_us"
	done
	cat "${TOP[memory]}/memory.limit_in_bytes" \
	    "${TOP[memory]}/r/memory.soft_limit_in_bytes" \
	    "${TOP[pids]}/pids.max" "${TOP[pids]}/r/k/pids.max"
}

dirs_of() {
	local h out=
	for h in $HIERS; do
		out="$out ${TOP[$h]}/$1"
	done
	echo "$out"
}

# start_tree LOG [--ns]: the root joins TOP/r in each hierarchy, then runs
# wl_cgroup, whose child joins TOP/r/k; ROOT and KID are their pids
start_tree() {
	local log=$1
	shift
	start_workload "$log" sh -c 'for d in $1; do echo $$ >"$d/cgroup.procs" || exit 1; done; shift; exec "$@"' \
		sh "$(dirs_of r)" "$CRFS_TESTS/wl_cgroup" "$@" $(dirs_of r/k)
	ROOT=$WL_PID
	wait_ready "$log" "$ROOT" 30
	KID=$(pgrep -P "$ROOT")
	[ -n "$KID" ] || fail "wl_cgroup has no child"
	track_pid "$KID"
	grep -q "$CG_NAME/r/k\$" "/proc/$KID/cgroup" || fail "child not in r/k: $(tr '\n' '|' <"/proc/$KID/cgroup")"
}

same_cgroups() {
	[ "$(cat "/proc/$ROOT/cgroup")" = "$ROOT_CG" ] ||
		fail "$1: root's cgroups were '$(echo "$ROOT_CG" | tr '\n' '|')', are '$(tr '\n' '|' <"/proc/$ROOT/cgroup")'"
	[ "$(cat "/proc/$KID/cgroup")" = "$KID_CG" ] ||
		fail "$1: child's cgroups were '$(echo "$KID_CG" | tr '\n' '|')', are '$(tr '\n' '|' <"/proc/$KID/cgroup")'"
	[ "$(limits | tr '\n' ' ')" = "$LIMITS" ] ||
		fail "$1: limits were '$LIMITS', are '$(limits | tr '\n' ' ')'"
}

crfs_mount

# --- plain: cgroups made again by restore --------------------------------
cg_make
start_tree "$T_DIR/plain.log"
ROOT_CG=$(cat "/proc/$ROOT/cgroup")
KID_CG=$(cat "/proc/$KID/cgroup")
LIMITS=$(limits | tr '\n' ' ')
cr_attach plain "$ROOT"
cr_freeze plain
[ "$(cat "${TOP[freezer]}/r/freezer.state")" = THAWED ] ||
	fail "freeze changed the tree's freezer cgroup: $(cat "${TOP[freezer]}/r/freezer.state")"
cr_thaw plain
same_cgroups "after thaw"
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/plain" || fail "rmdir $MNT/plain failed"
checkpoint plain "$ROOT" "$T_DIR/plain.ckpt"
img=$T_DIR/plain.ckpt/cgroup
grep -qx "proc $KID memory ${MYPATH[memory]}/$CG_NAME/r/k" "$img" ||
	fail "cgroup file lacks the child's memory cgroup: $(tr '\n' '|' <"$img")"
grep -qx "limit cpu.shares 512" "$img" || fail "cgroup file lacks cpu.shares 512"
grep -qx "proc $ROOT v2 ${MYPATH[v2]}/$CG_NAME/r" "$img" ||
	fail "cgroup file lacks the root's v2 cgroup"
grep -q '^ns' "$img" && fail "cgroup file has a namespace"
kill_and_reap plain "$ROOT"
wait_gone "$KID" 10 || fail "child $KID outlived the kill"
cg_remove
[ -d "${TOP[cpu]}" ] && fail "cannot remove ${TOP[cpu]} before the restore"
restore_bg "$T_DIR/plain.ckpt" "$ROOT"
track_pid "$KID"	# the restored one: a new start time
same_cgroups "after restore"
kill -USR1 "$ROOT" || fail "cannot signal restored pid $ROOT"
expect_pass "$T_DIR/plain.log" "$RESTORE_PID" 30

# --- mixed: the root where the daemon is, its child in TOP/r/k: the
# daemon's cgroup is the host's (no limits), the rest made again ---------
cg_remove
cg_make
start_workload "$T_DIR/mixed.log" "$CRFS_TESTS/wl_cgroup" $(dirs_of r/k)
ROOT=$WL_PID
wait_ready "$T_DIR/mixed.log" "$ROOT" 30
KID=$(pgrep -P "$ROOT")
[ -n "$KID" ] || fail "mixed: wl_cgroup has no child"
track_pid "$KID"
ROOT_CG=$(cat "/proc/$ROOT/cgroup")
KID_CG=$(cat "/proc/$KID/cgroup")
LIMITS=$(limits | tr '\n' ' ')
checkpoint mixed "$ROOT" "$T_DIR/mixed.ckpt"
img=$T_DIR/mixed.ckpt/cgroup
grep -A1 -x "cgroup cpu ${MYPATH[cpu]:-/}" "$img" | tail -n 1 | grep -q '^cgroup ' ||
	fail "mixed: the daemon's cpu cgroup is missing or has limits: $(tr '\n' '|' <"$img")"
grep -qx "proc $ROOT cpu ${MYPATH[cpu]:-/}" "$img" || fail "mixed: no proc line for the root"
kill_and_reap mixed "$ROOT"
wait_gone "$KID" 10 || fail "child $KID outlived the kill"
cg_remove
restore_bg "$T_DIR/mixed.ckpt" "$ROOT"
track_pid "$KID"	# the restored one: a new start time
same_cgroups "mixed, after restore"
kill -USR1 "$ROOT" || fail "cannot signal restored pid $ROOT"
expect_pass "$T_DIR/mixed.log" "$RESTORE_PID" 30

# --- ns: a cgroup namespace, restored into the cgroups left in place ----
cg_remove
cg_make
start_tree "$T_DIR/ns.log" --ns
ROOT_CG=$(cat "/proc/$ROOT/cgroup")
KID_CG=$(cat "/proc/$KID/cgroup")
LIMITS=$(limits | tr '\n' ' ')
checkpoint ns "$ROOT" "$T_DIR/ns.ckpt"
img=$T_DIR/ns.ckpt/cgroup
grep -qx 'ns 1' "$img" || fail "cgroup file lacks 'ns 1'"
grep -qx "nsroot cpu ${MYPATH[cpu]}/$CG_NAME/r" "$img" ||
	fail "cgroup file lacks the namespace's cpu root: $(tr '\n' '|' <"$img")"
kill_and_reap ns "$ROOT"
wait_gone "$KID" 10 || fail "child $KID outlived the kill"
restore_bg "$T_DIR/ns.ckpt" "$ROOT"
track_pid "$KID"	# the restored one: a new start time
same_cgroups "after restore in a namespace"
[ "$(readlink "/proc/$ROOT/ns/cgroup")" != "$(readlink /proc/self/ns/cgroup)" ] ||
	fail "restored root is in our cgroup namespace"
kill -USR1 "$ROOT" || fail "cannot signal restored pid $ROOT"
expect_pass "$T_DIR/ns.log" "$RESTORE_PID" 30

# --- moved: the ns image again, its cgroups made below another cgroup
# (crfs-restore --cgroup-root HIER:PATH); inside, the namespace reads the
# same -----------------------------------------------------------------
args=()
for h in $HIERS; do
	mkdir "${ALT[$h]}" || fail "cannot make ${ALT[$h]}"
	args+=(--cgroup-root "$h:${MYPATH[$h]}/$CG_NAME-alt")
done
rm -f "$T_DIR/moved.pid"
# the tree writes its verdict again at the offset it had: keep only what
# came before, so that the verdict checked is this run's
echo READY >"$T_DIR/ns.log"
"$CRFS_BIN/crfs-restore" --pidfile "$T_DIR/moved.pid" "${args[@]}" "$T_DIR/ns.ckpt" \
	</dev/null >"$T_DIR/moved.out" 2>"$T_DIR/moved.err" &
RESTORE_PID=$!
track_pid "$RESTORE_PID"
wait_for "$T_RESTORE_TIMEOUT" eval '[ -s "$T_DIR/moved.pid" ] || ! proc_alive $RESTORE_PID' ||
	fail "crfs-restore --cgroup-root wrote no pidfile"
[ -s "$T_DIR/moved.pid" ] || fail "crfs-restore --cgroup-root failed: $(cat "$T_DIR/moved.err")"
track_pid "$ROOT"
track_pid "$KID"
for h in $HIERS; do
	grep -q ":${MYPATH[$h]}/$CG_NAME-alt/$CG_NAME/r\$" "/proc/$ROOT/cgroup" ||
		fail "moved: root not below ${ALT[$h]}: $(tr '\n' '|' <"/proc/$ROOT/cgroup")"
	grep -q ":${MYPATH[$h]}/$CG_NAME-alt/$CG_NAME/r/k\$" "/proc/$KID/cgroup" ||
		fail "moved: child not below ${ALT[$h]}: $(tr '\n' '|' <"/proc/$KID/cgroup")"
done
[ "$(cat "${ALT[cpu]}/$CG_NAME/cpu.shares")" = 512 ] || fail "moved: cpu.shares not made again"
[ "$(cat "${ALT[pids]}/$CG_NAME/r/k/pids.max")" = 16 ] || fail "moved: pids.max not made again"
kill -USR1 "$ROOT" || fail "cannot signal restored pid $ROOT"
expect_pass "$T_DIR/ns.log" "$RESTORE_PID" 30

# --- conflict: an existing cgroup with other limits ----------------------
cg_rmdir "${TOP[memory]}/r/k"
cg_write "${TOP[pids]}/pids.max" 32
timeout "$T_RESTORE_TIMEOUT" "$CRFS_BIN/crfs-restore" "$T_DIR/ns.ckpt" \
	</dev/null >"$T_DIR/conflict.out" 2>"$T_DIR/conflict.err" &&
	fail "restore into a cgroup with other limits succeeded"
grep -qF "cgroup pids:${MYPATH[pids]}/$CG_NAME exists with pids.max '32', the image has '64'" "$T_DIR/conflict.err" ||
	fail "conflict not named: $(cat "$T_DIR/conflict.err")"
proc_alive "$ROOT" && fail "a refused restore left pid $ROOT"
[ -d "${TOP[memory]}/r/k" ] && fail "a refused restore left the cgroup it made"

# --- v1 devices denying by default: its allow list is exact ------------
# (a parent that allows by default would be refused: below the daemon's,
# restore makes it again too)
mkdir -p "${ALT[devices]}" || fail "cannot make ${ALT[devices]}"
cg_write "${ALT[devices]}/devices.deny" a
cg_write "${ALT[devices]}/devices.allow" "c 1:* rwm"
cg_write "${ALT[devices]}/devices.allow" "b *:* m"
dl=${ALT[devices]}/al
mkdir -p "$dl" || fail "cannot make $dl"
cg_write "$dl/devices.deny" a
cg_write "$dl/devices.allow" "c 1:3 rwm"
cg_write "$dl/devices.allow" "c 1:5 r"
cg_write "$dl/devices.allow" "b *:* m"
want=$(cat "$dl/devices.list")
start_workload "$T_DIR/al.log" sh -c 'echo $$ >"$1/cgroup.procs" && exec sleep 600' \
	sh "$dl"
wait_for 20 eval 'grep -q "$CG_NAME-alt/al" /proc/$WL_PID/cgroup' || fail "sleep not in its devices cgroup"
checkpoint al "$WL_PID" "$T_DIR/al.ckpt"
kill_and_reap al "$WL_PID"
cg_rmdir "$dl"
[ -d "$dl" ] && fail "cannot remove $dl before the restore"
restore_bg "$T_DIR/al.ckpt" "$WL_PID"
grep -q "$CG_NAME-alt/al" "/proc/$WL_PID/cgroup" || fail "the restored sleep is not in $dl"
[ "$(cat "$dl/devices.list")" = "$want" ] ||
	fail "devices.list after restore: $(cat "$dl/devices.list" | tr '\n' ';'), want $(echo "$want" | tr '\n' ';')"
kill -KILL "$WL_PID"
wait_exit "$RESTORE_PID" 20 || fail "crfs-restore of al did not exit"
cg_rmdir "$dl"

# --- refused: a v1 devices cgroup that allows by default (its deny
# rules do not show) and a setting crfs does not save -------------------
mkdir -p "${TOP[devices]}" || fail "cannot make ${TOP[devices]}"
start_workload "$T_DIR/dev.log" sh -c 'echo $$ >"$1/cgroup.procs" && exec sleep 600' \
	sh "${TOP[devices]}"
wait_for 20 eval 'grep -q "$CG_NAME" /proc/$WL_PID/cgroup' || fail "sleep not in its devices cgroup"
expect_refused devices "$WL_PID" "cgroup devices:${MYPATH[devices]}/$CG_NAME: a v1 devices cgroup that allows every device by default (devices.list 'a *:* rwm'), whose denied devices do not show: not supported"
cg_write "${TOP[v2]}/cgroup.max.descendants" 5
start_workload "$T_DIR/v2.log" sh -c 'echo $$ >"$1/cgroup.procs" && exec sleep 600' \
	sh "${TOP[v2]}/r"
wait_for 20 eval 'grep -q "$CG_NAME/r" /proc/$WL_PID/cgroup' || fail "sleep not in its v2 cgroup"
expect_refused descendants "$WL_PID" "cgroup v2:${MYPATH[v2]}/$CG_NAME: cgroup.max.descendants is '5' (not 'max'), which crfs does not restore"

# a child in a cgroup namespace other than the root's
start_other_ns "$T_DIR/other.log" --cgroup
expect_refused otherns "$OTHER_PID" "in a cgroup namespace (cgroup:["

# --- a tree its freezer cgroup froze: ptrace cannot stop it, so the
# freeze fails at once, by name, instead of waiting for a thaw ----------
mkdir -p "${TOP[freezer]}/fz" || fail "cannot make ${TOP[freezer]}/fz"
start_workload "$T_DIR/fz.log" sh -c 'echo $$ >"$1/cgroup.procs" && exec sleep 600' \
	sh "${TOP[freezer]}/fz"
wait_for 20 eval 'grep -q "$CG_NAME/fz" /proc/$WL_PID/cgroup' || fail "sleep not in its freezer cgroup"
cg_write "${TOP[freezer]}/fz/freezer.state" FROZEN
wait_for 20 eval '[ "$(cat "${TOP[freezer]}/fz/freezer.state")" = FROZEN ]' ||
	fail "the freezer cgroup did not freeze"
cr_attach frozen "$WL_PID"
ctl_write frozen freeze && fail "freeze of a tree its cgroup froze succeeded"
ctl_read frozen | grep -qF "process $WL_PID is in cgroup freezer:${MYPATH[freezer]}/$CG_NAME/fz, which is frozen (freezer.state): thaw it first" ||
	fail "frozen cgroup not named: $(ctl_read frozen | tr '\n' '|')"
cg_write "${TOP[freezer]}/fz/freezer.state" THAWED
proc_alive "$WL_PID" || fail "the sleep died"
pass
