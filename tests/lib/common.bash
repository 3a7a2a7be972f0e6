# SPDX-License-Identifier: GPL-2.0
#
# Helpers shared by every bats suite: `load ../lib/common` from tests/host or
# tests/vm.  Gives the repository root, bats-support and bats-assert, and a
# way to tell whether the suite runs inside the tools/vm guest.

bats_require_minimum_version 1.5.0

# The repository root, whatever the caller's working directory.
KP_REPO="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
export KP_REPO

# Debian's bats-support and bats-assert live in /usr/lib/bats; a bats found
# elsewhere (BATS_LIB_PATH, npm) is looked up there too.
kp_load_bats_lib() {
	local name=$1 dir
	for dir in ${BATS_LIB_PATH//:/ } /usr/lib/bats /usr/local/lib/bats \
		/usr/lib/node_modules /usr/local/lib/node_modules; do
		if [ -f "$dir/$name/load.bash" ]; then
			load "$dir/$name/load.bash"
			return 0
		fi
	done
	echo "$name not found: run tools/install-deps" >&2
	return 1
}
kp_load_bats_lib bats-support
kp_load_bats_lib bats-assert

# True inside a tools/vm guest: its kernel command line names the job.
kp_in_vm() {
	[[ " $(cat /proc/cmdline 2>/dev/null) " == *" kperf_job="* ]]
}

# The kernel log lines that mean something went wrong in the kernel.
KP_KERNEL_TROUBLE='WARNING|BUG|Oops|Call Trace|lockup|stall|hung task|blocked for more than'

# kp_wait_busy PID [TICKS]: the handshake before signalling a run: wait until
# PID catches SIGINT (its handler is in place, so the signal cannot kill it)
# and has used TICKS clock ticks of CPU time (default 2: its workers are past
# their start and have done work).  Fails after 120 s or when PID is gone.
kp_wait_busy() {
	local pid=$1 want=${2:-2} i caught stat
	for ((i = 0; i < 1200; i++)); do
		caught=$(sed -n 's/^SigCgt:[[:space:]]*//p' "/proc/$pid/status" 2>/dev/null) || return 1
		[ -n "$caught" ] || return 1
		stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
		stat=${stat##*) }
		read -r -a stat <<<"$stat"
		# SIGINT is signal 2: bit 1 of the mask; utime, stime are fields 14, 15.
		if (((0x$caught & 2) && stat[11] + stat[12] >= want)); then
			return 0
		fi
		sleep 0.1
	done
	return 1
}
