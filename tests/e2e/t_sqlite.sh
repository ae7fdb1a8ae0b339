#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# Real programs on real files.
#
# python3's sqlite3 in the middle of an exclusive transaction: SQLite's
# POSIX record locks on the database must still be held after the
# restore (another writer is refused: "database is locked"), and the
# restored process commits.
#
# tail -f: an inotify watch on the file it follows; a line appended
# after the restore must come out.
. "$(dirname "$0")/lib.sh"

PY=$(python_bin)
[ -x "$PY" ] || fail "python3 not found"

read -r -d '' APP <<'EOS'
import os, signal, sqlite3, sys, time
os.setsid()
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=0)
db.execute("create table t(x)")
db.execute("begin exclusive")
db.execute("insert into t values (42)")
go = []
signal.signal(signal.SIGUSR1, lambda s, f: go.append(1))
print("READY", flush=True)
while not go:
    time.sleep(0.02)
db.execute("commit")
n = db.execute("select count(*) from t").fetchone()[0]
print("%s sqlite.commit: %d row(s)" % ("PASS" if n == 1 else "FAIL", n), flush=True)
EOS

read -r -d '' OTHER <<'EOS'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=0)
try:
    db.execute("insert into t values (1)")
    db.commit()
    print("wrote")
except sqlite3.OperationalError as e:
    print("refused: %s" % e)
EOS

crfs_mount
start_workload "$T_DIR/sqlite.log" "$PY" -c "$APP" "$T_DIR/db"
pid=$WL_PID
wait_ready "$T_DIR/sqlite.log" "$pid"
checkpoint sq "$pid" "$T_DIR/ckpt"
grep -q '^posix w ' "$T_DIR/ckpt/locks" || fail "no POSIX lock in the image: $(cat "$T_DIR/ckpt/locks")"
kill_and_reap sq "$pid"
restore_bg "$T_DIR/ckpt" "$pid"
other=$("$PY" -c "$OTHER" "$T_DIR/db")
[ "$other" = "refused: database is locked" ] ||
	fail "another writer was not kept out: $other"
kill -USR1 "$pid" || fail "cannot signal restored $pid"
expect_pass "$T_DIR/sqlite.log" "$RESTORE_PID" 30

echo one >"$T_DIR/followed"
start_workload "$T_DIR/tail.log" setsid tail -f "$T_DIR/followed"
pid=$WL_PID
wait_line "$T_DIR/tail.log" '^one$' 10 "$pid"
checkpoint tf "$pid" "$T_DIR/ckpt-tail"
grep -q ' inotify ' "$T_DIR/ckpt-tail/files" || fail "tail -f holds no inotify in the image"
kill_and_reap tf "$pid"
restore_bg "$T_DIR/ckpt-tail" "$pid"
echo two >>"$T_DIR/followed"
wait_for 5 grep -qx two "$T_DIR/tail.log" ||
	fail "tail -f did not follow after the restore: $(tr '\n' '|' <"$T_DIR/tail.log")"
kill "$pid"
pass
