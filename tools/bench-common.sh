# SPDX-License-Identifier: MIT
# Sourced by the bench scripts (tools/bench*): their exit cleanup's last
# steps, one copy.
#
# bench_unmount_rm DIR: unmount the crfs mount DIR/mnt and the tmpfs DIR/fs
# (lazily where busy) and remove DIR, never through a mount still there.
# The caller's cleanup runs under set +e: under set -e a kill of what
# ended already, or an unmount of what is not mounted, would end the
# cleanup at that step and leave DIR/fs mounted.
bench_unmount_rm() {
	local d=$1
	fusermount3 -u "$d/mnt" 2>/dev/null || umount -l "$d/mnt" 2>/dev/null
	umount "$d/fs" 2>/dev/null || umount -l "$d/fs" 2>/dev/null
	if grep -q " $d/" /proc/self/mounts; then
		echo "${0##*/}: $d still has a mount; left in place" >&2
		return 1
	fi
	rm -rf "$d"
}

# bench_traps: the cleanup (an EXIT trap) also on HUP, INT and TERM
bench_traps() {
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
}
