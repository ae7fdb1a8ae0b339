#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared net ipc (the host's network and IPC namespaces)
#
# A program using SysV IPC for real: PostgreSQL (Debian's package), made
# with initdb in the test's directory and run as the postgres user, its
# unix socket in that directory, TCP on 127.0.0.1 at a port of its own.
# The tree is a driver (python, libpq through ctypes) whose child is the
# postmaster with all its children (checkpointer, background writer, WAL
# writer, autovacuum and logical replication launchers, the session's
# backend); its shared memory is a shared anonymous mapping, a small SysV
# segment and named POSIX shared memory in /dev/shm.  The client is part
# of the tree: its connection is a socket pair inside the image, so the
# session itself (both ends) is checkpointed, nothing declared external.
# The driver holds one session inside an open transaction whose rows
# nobody else sees yet, and a transaction-level advisory lock, for which
# a third session waits (its backend asleep on its latch, its query in
# flight).
#
# First freeze -> thaw: the server answers a new session from outside.
# Then checkpoint -> kill -> restore (the /dev/shm objects removed in
# between, as after a reboot): the same backend is in the same
# transaction and sees its rows; a new session over TCP does not see
# them and cannot take the lock, the third still waits; after the commit
# the third gets the lock and its result, the new session sees the rows;
# a parallel query launches 2 workers (new processes attaching new
# dynamic shared memory); `pg_ctl stop -m fast` exits 0, the postmaster
# exits 0, and the next start of the cluster finds it shut down cleanly
# (no recovery) with every row.
. "$(dirname "$0")/lib.sh"

PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$PG_BIN/postgres" ] || { note "postgresql not installed: skipped"; pass; }
id postgres >/dev/null 2>&1 || fail "no postgres user (the package makes it)"
PY=$(python_bin)
[ -x "$PY" ] || fail "python3 not found"

# as the cluster's owner; never from a directory it cannot read
as_pg() {
	(cd / && runuser -u postgres -- "$@")
}

PGD=$T_DIR/pg			# owned by postgres: data, socket, logs
DATA=$PGD/data
# a port of our own (it names the socket; TCP listens on it): another
# run of this test, a cluster of the host (5432) or another test may have
# one; the first free one from a place of our own
PORT=$((20000 + $$ % 20000))
while [ -n "$(ss -Htan "sport = :$PORT" 2>/dev/null)" ]; do
	PORT=$((PORT + 1))
done
OTHER_SHM=

# On exit every process of ours is killed at once (also the cluster
# started outside the tree after the restore, and what a restore that
# failed half-way left), before lib.sh's cleanup; then what a killed
# server of ours leaves is removed, never another's (a run of this test
# elsewhere, the host's cluster): SysV segments of our data directory
# (PostgreSQL keys them by its inode) that nobody attaches, and /dev/shm
# objects that appeared meanwhile and that nobody maps
DSM_BEFORE=$(ls /dev/shm | grep '^PostgreSQL\.' | tr '\n' ' ')
# Ours: a process whose cwd is in $T_DIR (every postgres process, in its
# data directory) or whose command line names it (the driver); also what a
# restore that failed half-way left, whose start times we never saw
# (the driver's argument is $T_DIR itself; as a pattern with its dot in
# brackets, so that grep's own argument does not match)
ours_alive() {
	{
		find /proc/[0-9]*/cwd -maxdepth 0 -lname "$T_DIR/*"
		grep -lzx -- "${T_DIR//./[.]}" /proc/[0-9]*/cmdline
	} 2>/dev/null | sed -n 's|^/proc/\([0-9]*\)/.*|\1|p' | sort -u
}
pg_cleanup() {
	local id f
	_kill_tracked
	for id in $(ours_alive); do
		kill -KILL "$id" 2>/dev/null
	done
	wait_for 10 eval '[ -z "$(ours_alive)" ]'
	[ -n "$OTHER_SHM" ] && ipcrm -m "$OTHER_SHM" 2>/dev/null
	[ -d "$DATA" ] &&
		for id in $(ipcs -m | awk -v k="$(printf '0x%08x' "$(stat -c %i "$DATA")")" \
			'$1 == k && $3 == "postgres" && $6 == 0 { print $2 }'); do
			ipcrm -m "$id" 2>/dev/null
		done
	for f in $(ls /dev/shm | grep '^PostgreSQL\.'); do
		case " $DSM_BEFORE " in *" $f "*) continue ;; esac
		[ "$(stat -c %U "/dev/shm/$f")" = postgres ] || continue
		grep -qF "/dev/shm/$f" /proc/[0-9]*/maps 2>/dev/null ||
			rm -f "/dev/shm/$f"
	done
	return 0
}
_pg_exit() {
	local rc=$?
	pg_cleanup
	(exit "$rc")
	_cleanup
}
trap _pg_exit EXIT

read -r -d '' DRIVER <<'EOS'
import ctypes, os, pwd, sys
d, bindir, port = sys.argv[1], sys.argv[2], sys.argv[3]
pgd = d + "/pg"
pq = ctypes.CDLL("libpq.so.5")
pq.PQconnectdb.restype = ctypes.c_void_p
pq.PQconnectdb.argtypes = [ctypes.c_char_p]
pq.PQstatus.argtypes = [ctypes.c_void_p]
pq.PQerrorMessage.restype = ctypes.c_char_p
pq.PQerrorMessage.argtypes = [ctypes.c_void_p]
pq.PQfinish.argtypes = [ctypes.c_void_p]
pq.PQbackendPID.argtypes = [ctypes.c_void_p]
pq.PQexec.restype = ctypes.c_void_p
pq.PQexec.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
pq.PQresultStatus.argtypes = [ctypes.c_void_p]
pq.PQntuples.argtypes = [ctypes.c_void_p]
pq.PQgetvalue.restype = ctypes.c_char_p
pq.PQgetvalue.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
pq.PQclear.argtypes = [ctypes.c_void_p]
pq.PQsendQuery.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
pq.PQconsumeInput.argtypes = [ctypes.c_void_p]
pq.PQisBusy.argtypes = [ctypes.c_void_p]
pq.PQgetResult.restype = ctypes.c_void_p
pq.PQgetResult.argtypes = [ctypes.c_void_p]
dsn = ("host=%s port=%s user=postgres dbname=postgres" % (pgd, port)).encode()
tcp = ("host=127.0.0.1 port=%s user=postgres dbname=postgres" % port).encode()

def connect(tries=1, dsn=dsn):
    for _ in range(tries):
        c = pq.PQconnectdb(dsn)
        if pq.PQstatus(c) == 0:
            return c
        err = pq.PQerrorMessage(c).decode().strip()
        pq.PQfinish(c)
        time.sleep(0.05)
    raise RuntimeError("cannot connect: " + err)

def q(c, sql):
    """run sql; the first column of the first row, or None"""
    r = pq.PQexec(c, sql.encode())
    st = pq.PQresultStatus(r)
    if st not in (1, 2):                  # PGRES_COMMAND_OK, PGRES_TUPLES_OK
        pq.PQclear(r)
        raise RuntimeError("%s: %s" % (sql, pq.PQerrorMessage(c).decode().strip()))
    v = pq.PQgetvalue(r, 0, 0).decode() if pq.PQntuples(r) else None
    pq.PQclear(r)
    return v

def busy(c):
    """is the query sent on c still running?"""
    if not pq.PQconsumeInput(c):
        raise RuntimeError(pq.PQerrorMessage(c).decode().strip())
    return pq.PQisBusy(c) == 1

def result(c, secs):
    """the first column of the sent query's result, within secs"""
    until = time.monotonic() + secs
    while busy(c):
        if time.monotonic() > until:
            return None
        time.sleep(0.02)
    v = None
    while True:
        r = pq.PQgetResult(c)
        if not r:
            return v
        if pq.PQresultStatus(r) == 2 and pq.PQntuples(r):
            v = pq.PQgetvalue(r, 0, 0).decode()
        pq.PQclear(r)

def waiting(c):
    return q(c, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")

pw = pwd.getpwnam("postgres")
srv = spawn([bindir + "/postgres", "-D", pgd + "/data", "-p", port,
             "-c", "listen_addresses=127.0.0.1",
             "-c", "unix_socket_directories=" + pgd],
            user=pw.pw_uid, group=pw.pw_gid, extra_groups=[], cwd=pgd,
            stdout=open(pgd + "/server.log", "w"), stderr=subprocess.STDOUT)
c = connect(600)                          # up to 30 s for the start
q(c, "CREATE TABLE t (i int PRIMARY KEY, s text)")
q(c, "INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 1000) g")
q(c, "BEGIN")
q(c, "INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1001, 3000) g")
q(c, "SELECT pg_advisory_xact_lock(42)")
backend = pq.PQbackendPID(c)
xid = q(c, "SELECT txid_current()")
# a third session waits for that lock: its backend sleeps on its latch
# (epoll on a signalfd) until the first one commits and wakes it (a flag
# in the shared memory and SIGURG to its pid)
blocked = connect(1)
pq.PQsendQuery(blocked, b"SELECT 'got ' || pg_advisory_xact_lock(42)::text")
until = time.monotonic() + 30
while waiting(c) != "1" and time.monotonic() < until:
    time.sleep(0.02)
if waiting(c) != "1":
    raise SystemExit("FAIL setup: the third session does not wait for the lock")
print("BACKEND %d" % backend, flush=True)
ready_then_wait()

fails = []
try:
    if pq.PQbackendPID(c) != backend:
        fails.append("the session's backend changed")
    n = q(c, "SELECT count(*) FROM t")
    if n != "3000":
        fails.append("the session sees %s rows, not 3000" % n)
    if q(c, "SELECT txid_current()") != xid:
        fails.append("the session is in another transaction")
    other = connect(100, tcp)            # the TCP listener too
    n = q(other, "SELECT count(*) FROM t")
    if n != "1000":
        fails.append("another session sees %s rows before the commit, not 1000" % n)
    if q(other, "SELECT pg_try_advisory_lock(42)") != "f":
        fails.append("the session's advisory lock is lost")
    if not busy(blocked) or waiting(other) != "1":
        fails.append("the third session no longer waits for the lock")
    q(c, "COMMIT")
    got = result(blocked, 20)
    if got != "got ":
        fails.append("the waiting session got %r after the commit" % got)
    if q(other, "SELECT pg_try_advisory_lock(42)") != "t":
        fails.append("the advisory lock is not free after both transactions")
    n = q(other, "SELECT count(*) FROM t")
    if n != "3000":
        fails.append("another session sees %s rows after the commit, not 3000" % n)
    q(other, "INSERT INTO t VALUES (3001, 'after')")
    bad = q(c, "SELECT count(*) FROM t WHERE s <> md5(i::text) AND i <= 3000")
    if bad != "0":
        fails.append("%s rows changed" % bad)
    # a parallel query: the restored postmaster forks workers that attach
    # new dynamic shared memory
    for setting in ("max_parallel_workers_per_gather = 2",
                    "parallel_setup_cost = 0", "parallel_tuple_cost = 0",
                    "min_parallel_table_scan_size = 0"):
        q(c, "SET " + setting)
    r = pq.PQexec(c, b"EXPLAIN (ANALYZE, COSTS OFF) SELECT count(*) FROM t")
    plan = "\n".join(pq.PQgetvalue(r, i, 0).decode() for i in range(pq.PQntuples(r)))
    pq.PQclear(r)
    if "Workers Launched: 2" not in plan:
        fails.append("no parallel workers: " + plan.replace("\n", " | "))
    q(c, "CHECKPOINT")
    pq.PQfinish(other)
    pq.PQfinish(blocked)
    pq.PQfinish(c)
except RuntimeError as e:
    fails.append(str(e))
stop = subprocess.run(["runuser", "-u", "postgres", "--", bindir + "/pg_ctl",
                       "-D", pgd + "/data", "-m", "fast", "-t", "30", "stop"],
                      cwd="/", stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
if stop.returncode != 0:
    fails.append("pg_ctl stop -m fast exited %d: %s" %
                 (stop.returncode, stop.stdout.decode().strip()))
try:
    if srv.wait(30) != 0:
        fails.append("the postmaster exited with %d" % srv.returncode)
except subprocess.TimeoutExpired:
    fails.append("the postmaster did not exit")
print(("FAIL postgres: " + "; ".join(fails)) if fails else
      "PASS postgres: the open transaction went on, committed, and the server stopped cleanly",
      flush=True)
sys.exit(1 if fails else 0)
EOS

# the cluster, owned by postgres, in a directory it can reach
chmod 711 "$T_DIR"
mkdir "$PGD"
chown postgres:postgres "$PGD"
as_pg "$PG_BIN/initdb" -D "$DATA" -A trust -U postgres --no-sync >"$T_DIR/initdb.log" 2>&1 ||
	fail "initdb failed: $(tail -n 3 "$T_DIR/initdb.log" | tr '\n' '|')"
_logs+=("$PGD/server.log")

crfs_mount
log=$T_DIR/driver.log
start_workload "$log" "$PY" -c "$SUBREAPER_PY" "$log" "$PY" -c "$PY_LIB
$DRIVER" "$T_DIR" "$PG_BIN" "$PORT"
wrapper=$WL_PID
wait_root "$log" "$wrapper" 60
root=$ROOT_PID
track_tree "$root"
# what the cleanup relies on: the server's SysV segment is keyed by the
# data directory's inode
key=$(printf '0x%08x' "$(stat -c %i "$DATA")")
ipcs -m | awk -v k="$key" '$1 == k { f = 1 } END { exit !f }' ||
	fail "no SysV segment with key $key (the data directory's inode): $(ipcs -m | tr '\n' '|')"
nproc=$(tree_pids "$root" | wc -l)
note "tree of $nproc processes: $(for p in $(tree_pids "$root"); do cat /proc/$p/comm; done | tr '\n' ' ')"

psql_count() {
	as_pg timeout 20 "$PG_BIN/psql" -h "$PGD" -p "$PORT" -U postgres -XAtqc \
		"SELECT count(*) FROM t" postgres 2>>"$T_DIR/psql.err"
}

# freeze -> thaw: the server goes on serving a new session
cr_attach th "$root"
cr_freeze th
cr_thaw th
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/th" || fail "rmdir th"
n=$(psql_count) || fail "after the thaw psql fails: $(tail -n 2 "$T_DIR/psql.err")"
[ "$n" = 1000 ] || fail "after the thaw a new session sees '$n' rows, not 1000"
# that session's backend exits on its own; wait until the postmaster
# reaped it, so the tree is as before
wait_for 20 eval '[ "$(tree_pids "$root" | wc -l)" = "$nproc" ]' ||
	fail "the tree has $(tree_pids "$root" | wc -l) processes, not $nproc"

secs() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'
}
cr_attach pg "$root"
t0=$(date +%s.%N)
cr_freeze pg
t1=$(date +%s.%N)
cr_copy pg "$T_DIR/ckpt"
t2=$(date +%s.%N)
expect_state pg frozen 1
note "checkpoint of $nproc processes: $(du -sk "$T_DIR/ckpt" | cut -f1) KiB, freeze $(secs "$t0" "$t1") s, cp -a $(secs "$t1" "$t2") s"
kill_and_reap pg "$root" "$wrapper"
# PostgreSQL's dynamic shared memory is named POSIX shared memory, files
# in /dev/shm, which the image holds with their names, owner and mode:
# removed here (as after a reboot), restore makes them again
dsm=$(grep -ho ' /dev/shm/PostgreSQL\.[0-9]*$' "$T_DIR"/ckpt/*/maps | sort -u)
[ -n "$dsm" ] || fail "no /dev/shm/PostgreSQL.* mapping in the image"
dsm_before=$(stat -c '%n %U %G %a %s' $dsm)
rm -f $dsm

# bad input: the image's SysV segment id is taken by another segment.
# Refused by name; the /dev/shm objects restore had made are gone again,
# no process is left
shmid=$(ls "$T_DIR/ckpt/ipc/shm" | grep -vF .data)
[ "$(echo "$shmid" | wc -w)" = 1 ] || fail "ipc/shm of the image: $(ls "$T_DIR/ckpt/ipc/shm" | tr '\n' ' ')"
ipcrm -m "$shmid" || fail "cannot remove the leftover segment $shmid"
echo "$shmid" >/proc/sys/kernel/shm_next_id
OTHER_SHM=$(ipcmk -M 4096 | grep -Eo '[0-9]+$')
[ "$OTHER_SHM" = "$shmid" ] || fail "made segment '$OTHER_SHM', not $shmid (another test took the id?)"
expect_restore_refused taken "$T_DIR/ckpt" "$root" \
	"SysV shared memory segment $shmid \(key 0x[0-9a-f]+\) of the image: id $shmid \(key 0x[0-9a-f]+\) is taken on this host"
for f in $dsm; do
	[ -e "$f" ] && fail "the refused restore left $f behind"
done
[ -z "$(ours_alive)" ] || fail "the refused restore left processes: $(ours_alive | tr '\n' ' ')"
ipcrm -m "$OTHER_SHM" || fail "cannot remove segment $OTHER_SHM"
OTHER_SHM=

t0=$(date +%s.%N)
restore_bg "$T_DIR/ckpt" "$root"
t1=$(date +%s.%N)
note "restore: $(secs "$t0" "$t1") s"
track_tree "$root"
[ "$(stat -c '%n %U %G %a %s' $dsm 2>&1)" = "$dsm_before" ] ||
	fail "/dev/shm after the restore: $(stat -c '%n %U %G %a %s' $dsm 2>&1 | tr '\n' '|'), want $(echo "$dsm_before" | tr '\n' '|')"
kill -USR1 "$root" || fail "cannot signal restored root $root"
expect_pass "$log" "$RESTORE_PID" 60

# the cluster starts again without recovery, and keeps every row
: >"$PGD/again.log"
chown postgres "$PGD/again.log"
as_pg "$PG_BIN/pg_ctl" -D "$DATA" -l "$PGD/again.log" -w -t 30 \
	-o "-p $PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PGD" start \
	>"$T_DIR/start.log" 2>&1 || fail "the cluster does not start again: $(tail -n 3 "$PGD/again.log" | tr '\n' '|')"
_logs+=("$PGD/again.log")
grep -Eq 'automatic recovery|not properly shut down|was interrupted|crash' "$PGD/again.log" &&
	fail "the next start recovered: $(grep -E 'recovery|shut down|interrupted' "$PGD/again.log" | tr '\n' '|')"
grep -q 'database system was shut down at' "$PGD/again.log" ||
	fail "the next start does not say the cluster was shut down: $(head -n 5 "$PGD/again.log" | tr '\n' '|')"
n=$(psql_count) || fail "psql after the new start fails"
[ "$n" = 3001 ] || fail "after the new start $n rows, not 3001"
as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m fast -w -t 30 stop >>"$T_DIR/start.log" 2>&1 ||
	fail "the second pg_ctl stop failed"
pass
