#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own files only: runs beside the shared lane)
#
# crfs-send, the frozen part of crfsctl migrate, on its own (t_migrate
# runs it through ssh with veths):
#   - --stream: it freezes the tree; its archive, unpacked by GNU tar,
#     equals a cp -a copy of the frozen container (ctl left out) plus
#     the go member, is whole records; every time is written;
#     crfs-restore --stream unpacks it the same and restores it;
#   - crfs-restore --stream refuses (exit 3, said, nothing run) a stream
#     cut short, a header with a byte changed, a name outside its
#     directory, a directory not empty;
#   - the stream's reader gone: exit 8, said, the tree left frozen (the
#     caller thaws it), and it runs on after the thaw;
#   - something unsupported (a pidfd of a process outside the tree):
#     exit 6, the ctl line on stderr, no go member in what was written;
#   - a container whose process is gone: exit 5, ctl's error said;
#   - --wait-pid with --answer: "answer" is stamped when the session
#     adds a line to the answer file (after the go, before its end);
#   - --precopy auto: 2-8 rounds of a writer in the stream as .pre1 ...
#     before the frozen image, the chain restored by crfs-restore
#     --stream, every byte checked; a round whose reader is gone: exit 9,
#     the tree runs on, untracked.
. "$(dirname "$0")/lib.sh"

SEND=$CRFS_BIN/crfs-send
[ -x "$SEND" ] || fail "no crfs-send at $CRFS_BIN"
crfs_mount

# paused NAME: a wl_pause of 8 MiB, ready and asleep, attached as NAME;
# its log in $log, its pid in $pid
paused() {
	log=$T_DIR/$1.log
	start_workload "$log" "$CRFS_TESTS/wl_pause" pause 8
	pid=$WL_PID
	wait_ready "$log" "$pid"
	wait_sleeping "$pid"
	cr_attach "$1" "$pid"
}

# 1. the stream
paused ts
timeout -k 5 "$T_COPY_TIMEOUT" "$SEND" --stream --times "$T_DIR/times" \
	--peers "$T_DIR/peers" "$MNT/ts" >"$T_DIR/img.tar" 2>"$T_DIR/send.err" ||
	fail "crfs-send --stream: exit $?: $(cat "$T_DIR/send.err")"
expect_state ts frozen 1
for k in freeze frozen read down go end; do
	grep -q "^$k [0-9]*\.[0-9]\{9\}\$" "$T_DIR/times" ||
		fail "no '$k' time: $(tr '\n' '|' <"$T_DIR/times")"
done
[ "$(cat "$T_DIR/peers")" = "" ] || fail "veths listed for a tree with none: $(cat "$T_DIR/peers")"
size=$(stat -c %s "$T_DIR/img.tar")
[ $((size % 10240)) = 0 ] || fail "the archive is $size bytes: not whole 10 KiB records"
cr_copy ts "$T_DIR/cp-copy"
mkdir "$T_DIR/untarred" || fail "mkdir"
tar -C "$T_DIR/untarred" -xf "$T_DIR/img.tar" 2>"$T_DIR/tar.err" ||
	fail "tar -x of crfs-send's stream: $(cat "$T_DIR/tar.err")"
[ -f "$T_DIR/untarred/.crfsctl-go" ] || fail "no go member at the end of the stream"
rm "$T_DIR/untarred/.crfsctl-go"
diff -r -x ctl "$T_DIR/cp-copy" "$T_DIR/untarred" >"$T_DIR/diff.out" 2>&1 ||
	fail "the stream differs from a cp -a copy: $(head -n 3 "$T_DIR/diff.out" | tr '\n' '|')"
kill_and_reap ts "$pid"
T_RESTORE_ARGS=--stream T_RESTORE_STDIN=$T_DIR/img.tar \
	restore_bg "$T_DIR/streamed" "$pid"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$log" "$RESTORE_PID" 30
[ -f "$T_DIR/streamed/.crfsctl-go" ] || fail "crfs-restore --stream did not unpack the go member"
diff -r -x .crfsctl-go "$T_DIR/untarred" "$T_DIR/streamed" >"$T_DIR/diff.out" 2>&1 ||
	fail "crfs-restore --stream unpacked another image than tar -x: $(head -n 3 "$T_DIR/diff.out" | tr '\n' '|')"

# restore_refuses WHAT PATTERN [DIR]: crfs-restore --stream of
# $T_DIR/bad.tar into DIR (default a new one) exits 3 saying PATTERN
restore_refuses() {
	local dir=${3:-$T_DIR/refused} rc
	timeout 30 "$CRFS_BIN/crfs-restore" --stream -d "$dir" <"$T_DIR/bad.tar" \
		>"$T_DIR/rs.out" 2>"$T_DIR/rs.err"
	rc=$?
	[ $rc = 3 ] || fail "crfs-restore --stream of $1: exit $rc, want 3: $(cat "$T_DIR/rs.err")"
	grep -q "$2" "$T_DIR/rs.err" ||
		fail "crfs-restore --stream of $1 did not say why: $(cat "$T_DIR/rs.err")"
	[ -s "$T_DIR/rs.out" ] && fail "crfs-restore --stream of $1 printed a pid"
	rm -rf "$T_DIR/refused"
}
head -c $((size / 2)) "$T_DIR/img.tar" >"$T_DIR/bad.tar"
restore_refuses "half a stream" 'the stream ended inside a member, before its end-of-archive'
head -c $((size - 10240)) "$T_DIR/img.tar" >"$T_DIR/bad.tar"
restore_refuses "a stream without its end" 'before its end-of-archive blocks'
cp "$T_DIR/img.tar" "$T_DIR/bad.tar"
flip_byte "$T_DIR/bad.tar" 10	# in the first header's name
restore_refuses "a changed header" 'not a tar header'
tar -C "$T_DIR" -cf "$T_DIR/bad.tar" -P "$T_DIR/times"
restore_refuses "an absolute name" "names '/.*': not a name inside the image"
cp "$T_DIR/img.tar" "$T_DIR/bad.tar"
restore_refuses "into a directory not empty" 'not empty' "$T_DIR/streamed"

# 2. the reader gone after a few bytes: 8 MiB of pages cannot all fit
paused tg
timeout -k 5 "$T_COPY_TIMEOUT" bash -c '"$0" --stream "$1" 2>"$2" | head -c 100 >/dev/null
	exit "${PIPESTATUS[0]}"' "$SEND" "$MNT/tg" "$T_DIR/send2.err"
rc=$?
[ $rc = 8 ] || fail "crfs-send into a closed pipe: exit $rc, want 8: $(cat "$T_DIR/send2.err")"
grep -q '^crfs-send: writing the stream: Broken pipe$' "$T_DIR/send2.err" ||
	fail "crfs-send did not say why: $(cat "$T_DIR/send2.err")"
expect_state tg frozen 1
cr_thaw tg
kill -USR1 "$pid" || fail "cannot signal $pid"
expect_pass "$log" "$pid" 30

# 3. refused: a pidfd of a process outside the tree
start_workload "$T_DIR/py.log" python3 -c 'import os, time
fd = os.pidfd_open(1)
print("READY", flush=True)
time.sleep(300)'
pid=$WL_PID
wait_ready "$T_DIR/py.log" "$pid"
cr_attach tu "$pid"
"$SEND" --stream "$MNT/tu" >"$T_DIR/u.tar" 2>"$T_DIR/send3.err"
rc=$?
[ $rc = 6 ] || fail "crfs-send of an unsupported tree: exit $rc, want 6: $(cat "$T_DIR/send3.err")"
grep -q '^unsupported .*a pidfd of a process outside the container is not supported' "$T_DIR/send3.err" ||
	fail "crfs-send did not show the refusal: $(cat "$T_DIR/send3.err")"
[ -s "$T_DIR/u.tar" ] && fail "crfs-send wrote $(stat -c %s "$T_DIR/u.tar") bytes of a refused image"
expect_state tu frozen 1
cr_thaw tu
proc_alive "$pid" || fail "the refused tree is gone"
kill "$pid"

# 4. the freeze fails: the process is gone
start_workload "$T_DIR/gone.log" sleep 300
pid=$WL_PID
cr_attach tx "$pid"
kill -KILL "$pid"
wait_exit "$pid" 10 || fail "sleep $pid did not end"
"$SEND" --stream "$MNT/tx" >/dev/null 2>"$T_DIR/send4.err"
rc=$?
[ $rc = 5 ] || fail "crfs-send of a dead tree: exit $rc, want 5: $(cat "$T_DIR/send4.err")"
grep -q '^crfsctl: ' "$T_DIR/send4.err" || fail "ctl's error not said: $(cat "$T_DIR/send4.err")"

# 5. --answer: the session (here a reader of the stream, which answers
# 0.3 s after the stream's end and ends 0.5 s after that) adds a line
paused ta
mkfifo "$T_DIR/fifo" || fail "mkfifo"
echo ready >"$T_DIR/answer"
{ cat >/dev/null; sleep 0.3; echo "4242 1 2" >>"$T_DIR/answer"; sleep 0.5; } \
	<"$T_DIR/fifo" &
reader=$!
track_pid "$reader"
# not under timeout, which would hold the fifo open: the reader's EOF
"$SEND" --stream --wait-pid "$reader" --answer "$T_DIR/answer" \
	--times "$T_DIR/times5" "$MNT/ta" >"$T_DIR/fifo" 2>"$T_DIR/send5.err" &
sp=$!
track_pid "$sp"
wait_exit "$sp" "$T_COPY_TIMEOUT" || fail "crfs-send --answer did not end"
[ "$EXIT_STATUS" = 0 ] ||
	fail "crfs-send --answer: exit $EXIT_STATUS: $(cat "$T_DIR/send5.err")"
tv() { sed -n "s/^$1 //p" "$T_DIR/times5"; }
for k in go answer end; do
	[ -n "$(tv $k)" ] || fail "no '$k' time: $(tr '\n' '|' <"$T_DIR/times5")"
done
awk -v g="$(tv go)" -v a="$(tv answer)" -v e="$(tv end)" \
	'BEGIN { exit !(a - g >= 0.25 && e - a >= 0.4) }' ||
	fail "answer not stamped when the line came: $(tr '\n' '|' <"$T_DIR/times5")"
cr_thaw ta
kill -USR1 "$pid" || fail "cannot signal $pid"
expect_pass "$log" "$pid" 30

# 6. --precopy auto: rounds of a writer (16 MiB rewritten at 4 MiB/s) in
# the stream as .pre1 ... .preN before the frozen image, which names
# .preN its parent (each round the one before); crfs-restore --stream
# restores the chain and the writer checks every byte it wrote
start_workload "$T_DIR/w.log" "$CRFS_TESTS/wl_writer" 16 4096 0
pid=$WL_PID
wait_ready "$T_DIR/w.log" "$pid" 60
cr_attach tw "$pid"
timeout -k 5 "$T_COPY_TIMEOUT" "$SEND" --stream --precopy auto "$MNT/tw" \
	>"$T_DIR/pc.tar" 2>"$T_DIR/send6.err" ||
	fail "crfs-send --stream --precopy auto: exit $?: $(cat "$T_DIR/send6.err")"
expect_state tw frozen 1
n=$(grep -c '^crfsctl: pre-copy round [0-9]*: [0-9]* bytes of pages, the tree stopped for [0-9]* us$' "$T_DIR/send6.err")
note "--precopy auto: $n rounds: $(tr '\n' ' ' <"$T_DIR/send6.err")"
[ "$n" -ge 2 ] && [ "$n" -le 8 ] || fail "--precopy auto made $n rounds: $(cat "$T_DIR/send6.err")"
tar -tf "$T_DIR/pc.tar" >"$T_DIR/pc.list" || fail "tar -t of the --precopy stream"
grep -qx "\.pre$n/" "$T_DIR/pc.list" && ! grep -q "^\.pre$((n + 1))/" "$T_DIR/pc.list" ||
	fail "$n rounds said, the stream holds $(grep -o '^\.pre[0-9]*/$' "$T_DIR/pc.list" | tr '\n' ' ')"
[ "$(head -n 1 "$T_DIR/pc.list")" = .pre1/ ] && [ "$(tail -n 1 "$T_DIR/pc.list")" = .crfsctl-go ] ||
	fail "the rounds do not come first, the go last: $(head -n 1 "$T_DIR/pc.list") ... $(tail -n 1 "$T_DIR/pc.list")"
kill_and_reap tw "$pid"
T_RESTORE_ARGS=--stream T_RESTORE_STDIN=$T_DIR/pc.tar \
	restore_bg "$T_DIR/pcs" "$pid"
grep -q "^parent \.pre$n " "$T_DIR/pcs/image" ||
	fail "the frozen image does not name .pre$n: $(grep '^parent' "$T_DIR/pcs/image")"
[ "$n" -lt 2 ] || grep -q "^parent \.\./\.pre$((n - 1)) " "$T_DIR/pcs/.pre$n/image" ||
	fail ".pre$n does not name ../.pre$((n - 1)): $(grep '^parent' "$T_DIR/pcs/.pre$n/image")"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$T_DIR/w.log" "$RESTORE_PID" 60

# 7. a round's stream cut (its reader gone): exit 9, said, the tree runs
# on untracked, nothing held
paused tr
timeout -k 5 "$T_COPY_TIMEOUT" bash -c '"$0" --stream --precopy 2 "$1" 2>"$2" | head -c 100 >/dev/null
	exit "${PIPESTATUS[0]}"' "$SEND" "$MNT/tr" "$T_DIR/send7.err"
rc=$?
[ $rc = 9 ] || fail "crfs-send --precopy into a closed pipe: exit $rc, want 9: $(cat "$T_DIR/send7.err")"
grep -q '^crfs-send: pre-copy round 1 failed; the tree runs on$' "$T_DIR/send7.err" ||
	fail "crfs-send did not say which round failed: $(cat "$T_DIR/send7.err")"
expect_state tr running
grep -q '^\(tracking\|predump\)' "$MNT/tr/ctl" &&
	fail "the failed round left tracking or its pre-dump: $(cat "$MNT/tr/ctl")"
kill -USR1 "$pid" || fail "cannot signal $pid"
expect_pass "$log" "$pid" 30

# 8. usage
"$SEND" 2>/dev/null
[ $? = 2 ] || fail "crfs-send with no directory: not a usage error"
"$SEND" --stream --answer "$T_DIR/answer" "$MNT/ta" 2>/dev/null
[ $? = 2 ] || fail "crfs-send --answer without --wait-pid: not a usage error"
"$SEND" --precopy 2 "$MNT/ta" 2>/dev/null
[ $? = 2 ] || fail "crfs-send --precopy without --stream: not a usage error"
"$SEND" --stream --precopy 0 "$MNT/ta" 2>/dev/null
[ $? = 2 ] || fail "crfs-send --precopy 0: not a usage error"
pass
