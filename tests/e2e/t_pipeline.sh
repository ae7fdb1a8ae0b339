#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# A shell pipeline checkpointed mid-stream: bash runs
#	{ seq in 150 slices, 20 ms apart; } | gzip -n -1 | md5sum > out
# and is checkpointed after about a second, while bytes sit in both pipes,
# killed and restored.  The checksum it writes must equal the one of an
# uninterrupted run.  The tree runs under the SUBREAPER_PY wrapper.
. "$(dirname "$0")/lib.sh"

PY=$(python_bin)
[ -x "$PY" ] || fail "python3 not found"

read -r -d '' PIPELINE <<'EOS'
produce() {
	for i in $(seq 0 149); do
		seq $((i * 2000)) $((i * 2000 + 1999))
		[ -n "$2" ] && sleep 0.02
	done
}
[ -n "$2" ] && echo READY
produce "$@" | gzip -n -1 | md5sum >"$1"
EOS

want=$(bash -c "$PIPELINE" bash /dev/stdout)
crfs_mount
log=$T_DIR/pipeline.log
start_workload "$log" "$PY" -c "$SUBREAPER_PY" "$log" bash -c "$PIPELINE" \
	bash "$T_DIR/out" slow
wrapper=$WL_PID
wait_root "$log" "$wrapper"
root=$ROOT_PID
sleep 1
track_tree "$root"
checkpoint pl "$root" "$T_DIR/ckpt"
[ -e "$T_DIR/out" ] && [ -s "$T_DIR/out" ] &&
	fail "the pipeline finished before the checkpoint"
n=$(grep -c ' pipe ' "$T_DIR/ckpt/files")
note "$n pipe ends in the image; queued: $(grep -o 'pipe .*data=[0-9]*' "$T_DIR/ckpt/files" | grep -o 'data=[0-9]*' | tr '\n' ' ')"
[ "$n" -ge 4 ] || fail "want at least 4 pipe ends in the image, got $n"
kill_and_reap pl "$root" "$wrapper"
rm -f "$T_DIR/out"
: >"$T_DIR/out"
restore_bg "$T_DIR/ckpt" "$root"
wait_exit "$RESTORE_PID" 60 || fail "the restored pipeline did not finish"
[ "$EXIT_STATUS" = 0 ] || fail "the restored pipeline exited with $EXIT_STATUS"
got=$(cat "$T_DIR/out")
[ "$got" = "$want" ] || fail "checksum after restore '$got', uninterrupted '$want'"
pass
