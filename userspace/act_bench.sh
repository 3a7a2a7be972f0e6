#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# userspace/act_bench.sh: what registrations on /dev/kthread_perf cost
# everybody else.  Another user (nobody) runs `perf bench sched pipe` on one CPU
# while root has 0 threads registered (the probes detached), 1 idle thread,
# and N idle threads (default 10000), in rounds of the three; prints the
# microseconds per pipe operation of each round and each case's median
# relative to none.  SPEC.md section 9: a probe's cost does not grow with
# the number of registrations.  A benchmark, not a test.
#
# Needs root and a kernel that loads the module: run it in the VM,
#
#	make && tools/vm -- userspace/act_bench.sh
#
# or, so that host load does not move the figures, on an instruction clock
# (guest time counts the instructions executed; tools/vm --help):
#
#	KPERF_VM_ICOUNT=3 tools/vm --cpus 1 -- userspace/act_bench.sh
#
# Environment: ROUNDS (default 5), LOOPS (pipe operations per run, default
# 20000), THREADS (default 10000).

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KO="$ROOT/module/kthread_perf.ko"
WATCH="$ROOT/userspace/act_watch"
DBG=/sys/kernel/debug/kthread_perf/activations
ROUNDS=${ROUNDS:-5}
LOOPS=${LOOPS:-20000}
THREADS=${THREADS:-10000}

die() {
	echo "act_bench.sh: $*" >&2
	exit 1
}

case "${1:-}" in
-h | --help)
	sed -n '4,23p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
	;;
"") ;;
*)
	echo "act_bench.sh: no arguments expected (try --help)" >&2
	exit 2
	;;
esac

[ "$(id -u)" = 0 ] || die "needs root (run it in tools/vm)"
command -v perf >/dev/null || die "perf not found (tools/install-deps installs linux-perf)"
[ -x "$WATCH" ] || die "$WATCH missing: run make"
loaded=0
if [ ! -d /sys/module/kthread_perf ]; then
	insmod "$KO" || die "cannot load $KO"
	loaded=1
fi
holder=
cleanup() {
	[ -z "$holder" ] || { eval "exec ${HOLD[1]}>&-" 2>/dev/null; wait "$holder" 2>/dev/null; }
	[ "$loaded" = 0 ] || rmmod kthread_perf 2>/dev/null || true
}
trap cleanup EXIT

# One run of the pipe benchmark as nobody, both its tasks on the first CPU
# (every operation is then two context switches and two wake-ups on that
# CPU, each through the probes; across CPUs a TCG guest's times are those
# of QEMU waking a vCPU): microseconds per operation.
pipe_us() {
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		taskset -c 0 perf bench sched pipe -l "$LOOPS" 2>/dev/null |
		awk '/usecs\/op/ { print $1 }'
}

# pipe_us until two runs in a row agree within 0.5 % (at most 8 runs), the
# last one: what a change of case leaves to do (10,000 threads made, or
# ending and their memory freed after a grace period) runs during the
# first runs instead of the counted one.
settled_pipe_us() {
	local prev='' us i
	for ((i = 0; i < 8; i++)); do
		us=$(pipe_us)
		[ -n "$us" ] || return 0
		if [ -n "$prev" ] && awk -v a="$prev" -v b="$us" \
			'BEGIN { d = (b - a) / a; exit !(d < 0.005 && d > -0.005) }'; then
			break
		fi
		prev=$us
	done
	echo "$us"
}

# hold N: N threads of root's registered and asleep until release.
hold() {
	coproc HOLD { exec "$WATCH" --hold "$1"; }
	holder=$HOLD_PID
	local line
	read -r line <&"${HOLD[0]}"
	case $line in
	*"\"registered\": $1,"*) ;;
	*) die "act_watch --hold $1: $line" ;;
	esac
}

release() {
	eval "exec ${HOLD[1]}>&-"
	wait "$holder" || true
	holder=
	# The probes detach a second after the last registration ends.
	while grep -q '^attached 1' "$DBG"; do sleep 0.1; done
}

declare -A runs=()
echo "# perf bench sched pipe -l $LOOPS as nobody, $ROUNDS rounds; kernel $(uname -r)," \
	"accel ${KPERF_VM_ACCEL_USED:-none}${KPERF_VM_ICOUNT_USED:+, instruction clock (icount shift $KPERF_VM_ICOUNT_USED)}, $(nproc) CPUs"
printf '%-6s %-22s %s\n' round case 'us/op'
# The order: what N threads leave to clean up after them lands in the next
# case's warm-up run, and the case after N is one, not none.
for ((r = 1; r <= ROUNDS; r++)); do
	for c in none "$THREADS" one; do
		case $c in
		none) ;;
		one) hold 1 ;;
		*) hold "$c" ;;
		esac
		grep -q "^registrations $([ "$c" = none ] && echo 0 || echo "${c/one/1}")\$" "$DBG" ||
			die "debugfs does not show the registrations of case $c"
		us=$(settled_pipe_us)
		[ -n "$us" ] || die "perf bench sched pipe printed no result"
		runs[$c]+="$us "
		printf '%-6s %-22s %s\n' "$r" "$c registered" "$us"
		[ "$c" = none ] || release
	done
done

median() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
base=$(median "${runs[none]}")
echo
printf '%-22s %10s %10s\n' case 'median us' 'vs none'
for c in none one "$THREADS"; do
	m=$(median "${runs[$c]}")
	printf '%-22s %10s %+9.2f%%\n' "$c registered" "$m" "$(awk -v m="$m" -v b="$base" 'BEGIN { print (m / b - 1) * 100 }')"
done
