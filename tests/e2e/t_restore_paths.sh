#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared pty (ptys of the host's devpts)
#
# crfs-restore runs as root and makes what an image names: it must not be
# led elsewhere by a symlink someone planted, nor remove what is not its
# own (docs/SECURITY.md).  From a real image of wl_files (unix sockets, a
# deleted file), edited and resealed (reseal.py) as someone with a say in
# a directory on its paths could arrange it:
#   sock   the listening socket's path through a symlink owned by nobody
#          into a directory standing for /etc, where a stale socket file
#          of that name lies: refused, naming the symlink; the file stays
#   ghost  the deleted file's path through that symlink: refused likewise
#   taken  the deleted file's path at an existing regular file: that file
#          is left exactly as it was (the ghost takes a name beside it)
#   race   both paths in a directory that a swapper (renameat2 with
#          RENAME_EXCHANGE in a tight loop) turns into a symlink owned by
#          nobody into a directory standing for /etc and back, while the
#          images restore again and again: each restore runs or is refused
#          naming the symlink, and the files outside are never touched,
#          nothing is made there (restore acts relative to directories it
#          holds open: openat2, *at(), bind in a private mount namespace)
# Also: the mount and its files are root's alone (0700/0600, no
# allow_other), and a cp -a copy keeps 0600.
if [ -z "${CRFS_T_OWN_MOUNTS:-}" ]; then
	CRFS_T_OWN_MOUNTS=1 exec unshare --mount --propagation private "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

command -v unshare >/dev/null || fail "unshare (util-linux) not found"
command -v python3 >/dev/null || fail "python3 not found"
crfs_mount

# root's alone
[ "$(stat -c %a "$MNT")" = 700 ] || fail "$MNT has mode $(stat -c %a "$MNT")"
grep " $MNT " /proc/mounts | grep -q allow_other && fail "$MNT is mounted allow_other"

work=$T_DIR/work
mkdir -p "$work" "$T_DIR/etc" "$T_DIR/evil"
log=$T_DIR/files.log
start_workload "$log" unshare --pid --fork --mount-proc "$CRFS_TESTS/wl_files" "$work"
u=$WL_PID
wait_line "$log" '^READY ROOT=' 20 "$u"
init=$(pgrep -P "$u")
track_tree "$init"
checkpoint files "$init" "$T_DIR/ckpt"
bad=$(find "$T_DIR/ckpt" "$MNT/files" -type f ! -perm 0600 | head -n 3)
[ -z "$bad" ] || fail "not 0600: $bad"
[ "$(stat -c %a "$MNT/files")" = 700 ] || fail "$MNT/files is not 0700"
kill_and_reap files "$init" "$u"

# the planted link, and what it leads to
ln -s "$T_DIR/etc" "$T_DIR/evil/link"
chown -h 65534:65534 "$T_DIR/evil/link"
echo 'root:x:0:0:root:/root:/bin/bash' >"$T_DIR/etc/passwd"
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' \
	"$T_DIR/etc/sock" || fail "cannot make a stale socket file"
before=$(stat -c '%i %s %Y %F' "$T_DIR/etc/passwd" "$T_DIR/etc/sock")

# craft NAME FROM TO: a copy of the image whose files table says TO for the
# path FROM, resealed
craft() {
	cp -a "$T_DIR/ckpt" "$T_DIR/$1" || fail "cannot copy the image"
	grep -q " path=$2\( \|$\)" "$T_DIR/$1/files" || fail "$1: no path=$2 in files"
	sed -i "s# path=$2\( \|$\)# path=$3\1#" "$T_DIR/$1/files"
	grep -q " path=$3\( \|$\)" "$T_DIR/$1/files" || fail "$1: path not changed"
	python3 "$E2E_DIR/reseal.py" "$T_DIR/$1" files || fail "reseal failed"
}

# restore NAME: crfs-restore of that image in the background, until it
# runs the tree (then killed: its init takes the pid namespace along) or
# exits.  Sets RAN (the tree ran) and the status RC.
restore() {
	local pf=$T_DIR/$1.pid r np
	rm -f "$pf"
	"$CRFS_BIN/crfs-restore" --pidfile "$pf" "$T_DIR/$1" </dev/null \
		>"$T_DIR/$1.out" 2>"$T_DIR/$1.err" &
	r=$!
	track_pid "$r"
	wait_for "$T_RESTORE_TIMEOUT" eval '[ -s "$pf" ] || ! proc_alive '"$r" ||
		fail "$1: crfs-restore neither ran the tree nor exited"
	RAN=0
	if [ -s "$pf" ]; then
		RAN=1
		np=$(tr -dc 0-9 <"$pf")
		track_tree "$np"
		kill -KILL "$np"
	fi
	wait "$r"
	RC=$?
}

# refused NAME ERE: crfs-restore refuses it, saying ERE
refused() {
	restore "$1"
	[ $RAN = 0 ] && [ $RC != 0 ] || fail "$1: crfs-restore ran it"
	grep -qE -- "$2" "$T_DIR/$1.err" ||
		fail "$1: crfs-restore does not say /$2/: $(tail -n 2 "$T_DIR/$1.err" | tr '\n' '|')"
	note "$1: $(tail -n 1 "$T_DIR/$1.err")"
}

craft sock "$work/sock" "$T_DIR/evil/link/sock"
refused sock "unix socket $T_DIR/evil/link/sock: $T_DIR/evil/link is a symlink owned by uid 65534: not followed"
craft ghost "$work/deleted" "$T_DIR/evil/link/passwd"
refused ghost "$T_DIR/evil/link/passwd \(deleted, file [0-9]+\): $T_DIR/evil/link is a symlink owned by uid 65534: not followed"
[ "$(stat -c '%i %s %Y %F' "$T_DIR/etc/passwd" "$T_DIR/etc/sock")" = "$before" ] ||
	fail "the files the link leads to changed"
[ "$(ls "$T_DIR/etc")" = "$(printf 'passwd\nsock')" ] ||
	fail "files were made beside them: $(ls "$T_DIR/etc" | tr '\n' ' ')"

# a deleted file's path at a regular file that is there: left as it was,
# whether the restore goes on or not
craft taken "$work/deleted" "$T_DIR/etc/passwd"
restore taken
note "taken: ran $RAN, status $RC: $(tail -n 1 "$T_DIR/taken.err")"
[ "$(stat -c '%i %s %Y %F' "$T_DIR/etc/passwd" "$T_DIR/etc/sock")" = "$before" ] ||
	fail "taken: the regular file at the deleted file's path changed"
grep -qx 'root:x:0:0:root:/root:/bin/bash' "$T_DIR/etc/passwd" ||
	fail "taken: $T_DIR/etc/passwd changed"
[ "$(ls "$T_DIR/etc")" = "$(printf 'passwd\nsock')" ] ||
	fail "taken: files were left beside it: $(ls "$T_DIR/etc" | tr '\n' ' ')"

# race: $T_DIR/race/d is a directory or nobody's symlink to $T_DIR/etc,
# swapped atomically (never missing) until $T_DIR/race.stop appears
mkdir -p "$T_DIR/race/d" && ln -s "$T_DIR/etc" "$T_DIR/race/alt" ||
	fail "cannot make the race directory"
chown -h 65534:65534 "$T_DIR/race/alt"
cat >"$T_DIR/swap.py" <<'PY'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
a, b, stop = (s.encode() for s in sys.argv[1:4])
n = 0
print("swapping", flush=True)
while not os.path.exists(stop):
    for _ in range(1000):
        if libc.renameat2(-100, a, -100, b, 2):  # AT_FDCWD, RENAME_EXCHANGE
            sys.exit("renameat2: %s" % os.strerror(ctypes.get_errno()))
        n += 1
print("swaps", n, flush=True)
PY
craft racesock "$work/sock" "$T_DIR/race/d/sock"
craft raceghost "$work/deleted" "$T_DIR/race/d/passwd"
start_workload "$T_DIR/swap.log" python3 "$T_DIR/swap.py" "$T_DIR/race/d" \
	"$T_DIR/race/alt" "$T_DIR/race.stop"
swapper=$WL_PID
wait_line "$T_DIR/swap.log" '^swapping' 20 "$swapper"
ran=0 refusals=0
for i in $(seq "${CRFS_T_RACE_ROUNDS:-8}"); do
	for img in racesock raceghost; do
		restore "$img"
		if [ $RAN = 1 ]; then
			ran=$((ran + 1))
		elif grep -qE "$T_DIR/race/d is a symlink owned by uid 65534: not followed" \
			"$T_DIR/$img.err"; then
			refusals=$((refusals + 1))
		elif grep -qF "connecting to $T_DIR/race/d/sock:" "$T_DIR/$img.err"; then
			# bound in the directory; its peer's connect() by the
			# name met the symlink (it only opens: followed)
			refusals=$((refusals + 1))
		else
			fail "$img: neither ran nor refused naming the race path: $(tail -n 2 "$T_DIR/$img.err" | tr '\n' '|')"
		fi
		[ "$(stat -c '%i %s %Y %F' "$T_DIR/etc/passwd" "$T_DIR/etc/sock")" = "$before" ] ||
			fail "$img: round $i: a file outside changed"
		[ "$(ls -A "$T_DIR/etc")" = "$(printf 'passwd\nsock')" ] ||
			fail "$img: round $i: files made outside: $(ls -A "$T_DIR/etc" | tr '\n' ' ')"
	done
done
touch "$T_DIR/race.stop"
wait_exit "$swapper" 20 || fail "the swapper did not stop"
wait "$swapper" || fail "the swapper failed: $(cat "$T_DIR/swap.log")"
note "race: $ran ran, $refusals refused, $(grep swaps "$T_DIR/swap.log")"
pass
