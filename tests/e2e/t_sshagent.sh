#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# A real program holding a secret only in memory: ssh-agent with a key
# added through its unix socket.  After kill and restore the same agent
# (same pid) lists the key and signs with it; the signature verifies
# against the public key, so the private key came back intact.
. "$(dirname "$0")/lib.sh"

for c in ssh-agent ssh-add ssh-keygen; do
	command -v "$c" >/dev/null || { note "$c not found: skipped"; pass; }
done

crfs_mount
sock=$T_DIR/agent.sock
ssh-keygen -q -t ed25519 -N "" -C crfs-test -f "$T_DIR/key" ||
	fail "ssh-keygen failed"
start_workload "$T_DIR/agent.log" setsid ssh-agent -D -a "$sock"
pid=$WL_PID
export SSH_AUTH_SOCK=$sock
# 2: no agent to talk to (yet); 1: no identities
wait_for 10 eval 'ssh-add -l >/dev/null 2>&1; [ $? != 2 ]' ||
	fail "ssh-agent takes no connection"
ssh-add "$T_DIR/key" 2>>"$T_DIR/ssh.err" || fail "ssh-add failed"
rm -f "$T_DIR/key"		# from now on only the agent has it
want=$(ssh-add -l) || fail "ssh-add -l failed"

checkpoint sa "$pid" "$T_DIR/ckpt"
kill_and_reap sa "$pid"
restore_bg "$T_DIR/ckpt" "$pid"
[ "$(ssh-add -l)" = "$want" ] || fail "the restored agent lists '$(ssh-add -l)', not '$want'"
echo "signed after the restore" >"$T_DIR/msg"
ssh-keygen -Y sign -f "$T_DIR/key.pub" -n file "$T_DIR/msg" 2>>"$T_DIR/ssh.err" ||
	fail "the restored agent does not sign: $(tail -n 2 "$T_DIR/ssh.err")"
echo "crfs $(cat "$T_DIR/key.pub")" >"$T_DIR/allowed"
ssh-keygen -Y verify -f "$T_DIR/allowed" -I crfs -n file -s "$T_DIR/msg.sig" \
	<"$T_DIR/msg" >>"$T_DIR/ssh.err" 2>&1 ||
	fail "the signature does not verify: $(tail -n 2 "$T_DIR/ssh.err")"
kill "$pid"
pass
