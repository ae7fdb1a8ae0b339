#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# A program built around an epoll loop: python3's asyncio (epoll selector,
# its self-pipe socketpair, a signal wakeup fd) with a periodic task, a
# call_later timer and a stream over a socketpair to a forked child that
# echoes in upper case.  After checkpoint, kill and restore, SIGUSR1 (an
# asyncio signal handler) makes it check that the echo still works both
# ways, the timer fires and the task still ticks.
. "$(dirname "$0")/lib.sh"

PY=$(python_bin)
[ -x "$PY" ] || fail "python3 not found"

read -r -d '' ASYNC <<'EOS'
import asyncio, os, signal, socket, sys

a, b = socket.socketpair()
child = os.fork()
if child == 0:
    a.close()
    while True:
        d = b.recv(4096)
        if not d:
            os._exit(0)
        b.sendall(d.upper())
b.close()

async def main():
    loop = asyncio.get_running_loop()
    go = asyncio.Event()
    loop.add_signal_handler(signal.SIGUSR1, go.set)
    reader, writer = await asyncio.open_connection(sock=a)
    count = 0

    async def ticker():
        nonlocal count
        while True:
            await asyncio.sleep(0.05)
            count += 1

    task = asyncio.create_task(ticker())
    writer.write(b"before\n")
    await writer.drain()
    ok = [await reader.readline() == b"BEFORE\n"]
    writer.write(b"in flight\n")
    await writer.drain()
    fired = []
    loop.call_later(1.0, fired.append, 1)
    print("READY", flush=True)
    await go.wait()
    c0 = count
    ok.append(await asyncio.wait_for(reader.readline(), 5) == b"IN FLIGHT\n")
    for i in range(200):
        writer.write(b"m%d\n" % i)
    await writer.drain()
    for i in range(200):
        if await asyncio.wait_for(reader.readline(), 5) != b"M%d\n" % i:
            ok.append(False)
            break
    await asyncio.sleep(1.2)
    ok += [fired == [1], count > c0 + 5]
    task.cancel()
    writer.close()
    return ok

ok = asyncio.run(main())
_, st = os.waitpid(child, 0)
ok.append(st == 0)
names = ["before", "in_flight", "echo", "timer", "ticks", "child"]
for n, v in zip(names, ok):
    print("%s asyncio.%s" % ("PASS" if v else "FAIL", n), flush=True)
sys.exit(0 if all(ok) else 1)
EOS

crfs_mount
log=$T_DIR/asyncio.log
start_workload "$log" "$PY" -c "$SUBREAPER_PY" "$log" "$PY" -c "$ASYNC"
wrapper=$WL_PID
wait_root "$log" "$wrapper"
root=$ROOT_PID
track_tree "$root"
checkpoint as "$root" "$T_DIR/ckpt"
grep -q ' epoll ' "$T_DIR/ckpt/files" || fail "no epoll in the image"
kill_and_reap as "$root" "$wrapper"
restore_bg "$T_DIR/ckpt" "$root"
kill -USR1 "$root" || fail "cannot signal restored root $root"
expect_pass "$log" "$RESTORE_PID" 30
pass
