#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared pty (ptys of the host's devpts)
#
# Mutation trials: checkpoints of wl_files (two processes, files, pipes,
# sockets, a pty) and wl_threads (nine threads), each the tree of a pid
# namespace of its own, then trials (seeded, about 40 s in all), each on
# a fresh copy: one damage by mutate.py (a byte flipped, a file truncated,
# deleted or emptied, a number made huge or negative, two lines swapped,
# pages.idx edited), half of them resealed into the manifest, then
# crfs-restore.  Every trial must end either refused (non-zero exit, a
# message naming a file of the copy or an entry of its files table) or
# restored; restored from damage the
# checksums should have caught, the workload must say PASS.  Never a
# signal, a sanitizer report, a hang or a process left behind.
# CRFS_MUTATE_SEED (default 1) and CRFS_MUTATE_SECONDS (40) vary it.
# --mount-proc is refused unless the mount tables differ only by /proc: in
# a mount namespace of our own, other tests' mounts do not reach us.
if [ -z "${CRFS_T_OWN_MOUNTS:-}" ]; then
	CRFS_T_OWN_MOUNTS=1 exec unshare --mount --propagation private "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

command -v unshare >/dev/null || fail "unshare (util-linux) not found"
command -v python3 >/dev/null || fail "python3 not found"
SEED=${CRFS_MUTATE_SEED:-1}
BUDGET=${CRFS_MUTATE_SECONDS:-40}
crfs_mount
# private copies: what runs them after a trial is ours, not another test's
mkdir -p "$T_DIR/bin" "$T_DIR/work"
cp "$CRFS_TESTS/wl_files" "$CRFS_TESTS/wl_threads" "$T_DIR/bin/" ||
	fail "cannot copy the workloads"

# ours: the processes running a binary of $T_DIR/bin
ours() {
	find /proc -mindepth 2 -maxdepth 2 -name exe -lname "$T_DIR/bin/*" \
		2>/dev/null | cut -d/ -f3
}

# take NAME ARGS...: checkpoint the pid namespace unshare starts with ARGS;
# keeps the image in $T_DIR/NAME.ckpt and the log as it was then
take() {
	local name=$1 log=$T_DIR/$1.log u init
	shift
	start_workload "$log" unshare --pid --fork --mount-proc "$@"
	u=$WL_PID
	wait_line "$log" '^READY' 30 "$u"
	init=$(pgrep -P "$u")
	[ -n "$init" ] || fail "$name: no init under unshare"
	track_tree "$init"
	checkpoint "$name" "$init" "$T_DIR/$name.ckpt"
	cp "$log" "$log.ckpt" || fail "cannot keep $log"
	kill_and_reap "$name" "$init" "$u"
}

take files "$T_DIR/bin/wl_files" "$T_DIR/work"
cp -a "$T_DIR/work" "$T_DIR/work.ckpt" || fail "cannot keep the work dir"
take threads "$T_DIR/bin/wl_threads" 3 1000

nrefused=0 nrestored=0 ntrials=0
# trial NAME DIR WHAT: restore DIR, NAME's image with the damage WHAT
trial() {
	local name=$1 t=$2 log=$T_DIR/$1.log pf=$T_DIR/trial.pid
	local what="$1 seed ${2##*/}: $3" r rc np root
	rm -f "$pf"
	# the files outside the image as they were at the checkpoint
	cp "$log.ckpt" "$log"
	rm -rf "$T_DIR/work" && cp -a "$T_DIR/work.ckpt" "$T_DIR/work"
	timeout -k 5 30 "$CRFS_BIN/crfs-restore" --pidfile "$pf" "$t" </dev/null \
		>"$T_DIR/trial.out" 2>"$T_DIR/trial.err" &
	r=$!
	wait_for 35 eval '[ -s "$pf" ] || ! proc_alive '"$r" ||
		fail "$what: crfs-restore neither ran the tree nor exited"
	if ! [ -s "$pf" ]; then
		wait "$r"
		rc=$?
		grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$T_DIR/trial.err" &&
			fail "$what: sanitizer report: $(head -n 5 "$T_DIR/trial.err")"
		[ $rc -ge 124 ] && fail "$what: crfs-restore ended with $rc (signal or timeout): $(tail -n 3 "$T_DIR/trial.err" | tr '\n' '|')"
		[ $rc -eq 0 ] && fail "$what: crfs-restore exited 0 without a pidfile"
		# a file of the image, or an entry of its files table (a host
		# resource it needs, e.g. "file 44: /dev/pts/0 is taken")
		grep -qE "$t/|^crfs-restore: file [0-9]+: " "$T_DIR/trial.err" ||
			fail "$what: refused without naming a file of the image: $(tail -n 2 "$T_DIR/trial.err" | tr '\n' '|')"
		nrefused=$((nrefused + 1))
		note "$what: refused: $(tail -n 1 "$T_DIR/trial.err")"
	else
		np=$(tr -dc 0-9 <"$pf")
		track_tree "$np"
		root=$np
		[ "$name" = files ] && root=$(pgrep -P "$np" | head -n 1)
		kill -USR1 "$root" 2>/dev/null
		if wait_for 20 eval '! proc_alive '"$r"; then
			wait "$r"
			rc=$?
		else
			rc=timeout
		fi
		case $what in *unsealed)
			# what the checksums should have caught must come back right
			[ "$rc" = 0 ] && grep -q '^PASS' "$log" && ! grep -q '^FAIL' "$log" ||
				fail "$what: restored, but the workload did not pass ($rc): $(grep -m3 FAIL "$log")"
		esac
		nrestored=$((nrestored + 1))
		note "$what: restored, exit $rc"
		kill -KILL "$np" 2>/dev/null
		wait "$r" 2>/dev/null
	fi
	wait_for 10 eval '[ -z "$(ours)" ]' ||
		fail "$what: left behind: $(ours | tr '\n' ' ')"
	rm -rf "$t"
	ntrials=$((ntrials + 1))
}

# the damaged copies, made at once (Python starts slowly under load)
for name in files threads; do
	python3 "$E2E_DIR/mutate.py" "$T_DIR/$name.ckpt" "$T_DIR/$name.trials" \
		"$SEED" 40 >"$T_DIR/$name.list" || fail "mutate.py $name failed"
done
end=$((SECONDS + BUDGET))
exec 7<"$T_DIR/files.list" 8<"$T_DIR/threads.list"
while [ $SECONDS -lt $end ] && read -r d1 w1 <&7 && read -r d2 w2 <&8; do
	trial files "$d1" "$w1"
	[ $SECONDS -lt $end ] && trial threads "$d2" "$w2"
done
exec 7<&- 8<&-
note "$ntrials trials: $nrefused refused, $nrestored restored"
[ $nrefused -gt 0 ] || fail "no trial was refused: the damage does nothing"
pass
