#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared net (the host's network namespace)
#
# A real TCP server: nginx, a master and two workers sharing one listening
# socket (and an accept mutex in shared memory).  A client outside the
# tree downloads a 32 MiB file (sendfile) and stops reading after 1 MiB,
# so nginx has a send queue and the client a full receive queue when the
# tree is checkpointed, killed and restored; then the client reads on to
# the end and checks length and sha256.  The same three processes serve a
# page again, and the master shuts them down cleanly on SIGQUIT.  A freeze
# that meets a connection nginx has not closed yet is refused; it is
# thawed and tried again.
. "$(dirname "$0")/lib.sh"

command -v nginx >/dev/null || { note "nginx not found: skipped"; pass; }
PY=$(python_bin)
[ -x "$PY" ] || fail "python3 not found"

crfs_mount
port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$T_DIR/www" "$T_DIR/tmp"
echo "served after restore" >"$T_DIR/www/index.html"
head -c 33554432 /dev/urandom >"$T_DIR/www/big" || fail "cannot make the download"
want=$(sha256sum "$T_DIR/www/big" | cut -d' ' -f1)
cat >"$T_DIR/nginx.conf" <<EOC
daemon off;
user root;
master_process on;
worker_processes 2;
pid $T_DIR/nginx.pid;
error_log $T_DIR/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $T_DIR/tmp;
	proxy_temp_path $T_DIR/tmp;
	fastcgi_temp_path $T_DIR/tmp;
	uwsgi_temp_path $T_DIR/tmp;
	scgi_temp_path $T_DIR/tmp;
	sendfile on;
	server { listen 127.0.0.1:$port; root $T_DIR/www; }
}
EOC
log=$T_DIR/nginx.log
start_workload "$log" "$PY" -c "$SUBREAPER_PY" "$log" \
	sh -c "echo READY; exec nginx -c '$T_DIR/nginx.conf' -p '$T_DIR'"
wrapper=$WL_PID
wait_root "$log" "$wrapper"
root=$ROOT_PID
track_tree "$root"
get() {
	"$PY" -c 'import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode(), end="")' \
		"http://127.0.0.1:$port/index.html"
}
wait_for 10 eval 'get >/dev/null 2>&1' || fail "nginx does not answer"
wait_for 10 eval '[ "$(tree_pids "$root" | wc -l)" = 3 ]' ||
	fail "nginx has $(tree_pids "$root" | wc -l) processes, not 3"
before=$(tree_pids "$root" | sort | tr '\n' ' ')

# the download, from outside the tree: 1 MiB read, then it waits for "go"
read -r -d '' CLIENT <<'EOS'
import hashlib, os, socket, sys, time
port, size, want, d = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
s.settimeout(60)
s.connect(("127.0.0.1", port))
s.sendall(b"GET /big HTTP/1.0\r\nHost: crfs\r\n\r\n")
buf = b""
while b"\r\n\r\n" not in buf:
    buf += s.recv(4096)
head, body = buf.split(b"\r\n\r\n", 1)
h, got = hashlib.sha256(body), len(body)
while got < (1 << 20):
    b = s.recv(65536)
    h.update(b)
    got += len(b)
open(d + "/paused", "w").close()
while not os.path.exists(d + "/go"):
    time.sleep(0.05)
try:
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        h.update(b)
        got += len(b)
except OSError as e:
    print("FAIL download: %s after %d bytes" % (e, got), flush=True)
    sys.exit(1)
ok = got == size and h.hexdigest() == want and b" 200 " in head.split(b"\r\n")[0]
print("%s download: %d of %d bytes, sha256 %s" % ("PASS" if ok else "FAIL", got,
      size, "ok" if h.hexdigest() == want else "differs"), flush=True)
sys.exit(0 if ok else 1)
EOS
start_workload "$T_DIR/client.log" "$PY" -c "$CLIENT" "$port" 33554432 "$want" "$T_DIR"
client=$WL_PID
wait_for 20 eval '[ -e "$T_DIR/paused" ]' || fail "the download did not start: $(cat "$T_DIR/client.log")"

cr_attach ng "$root"
for try in $(seq 10); do
	cr_freeze ng
	ctl_read ng | grep -q '^unsupported .*TCP connection' || break
	cr_thaw ng	# the connection of the GET above is still closing
	sleep 0.3
done
ctl_read ng | grep -q '^unsupported' && fail "still refused: $(ctl_read ng | tr '\n' '|')"
cr_copy ng "$T_DIR/ckpt"
grep -q ' inet .*backlog=' "$T_DIR/ckpt/files" || fail "no listener in files"
grep -q ' inet .*type=stream.*dst=' "$T_DIR/ckpt/files" ||
	fail "the download's connection is not in files"
kill_and_reap ng "$root" "$wrapper"
restore_bg "$T_DIR/ckpt" "$root"
track_tree "$root"
[ "$(tree_pids "$root" | sort | tr '\n' ' ')" = "$before" ] ||
	fail "restored processes $(tree_pids "$root" | tr '\n' ' '), want $before"
touch "$T_DIR/go"
expect_pass "$T_DIR/client.log" "$client" 60
for i in 1 2 3 4; do
	[ "$(get 2>&1)" = "served after restore" ] || fail "GET after restore: $(get 2>&1 | tail -n 1)"
done
kill -QUIT "$root"
wait_exit "$RESTORE_PID" 10 || fail "nginx did not stop on SIGQUIT"
[ "$EXIT_STATUS" = 0 ] || fail "nginx exited with $EXIT_STATUS"
pass
