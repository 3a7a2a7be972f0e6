#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# userspace/bench.sh: the design card's throughput comparison, in one go.
# 4 workers, bound to one CPU and unbound, in normal mode and in yield mode
# with yield_interval 1000 and 10; prints the median throughput of each
# model and the ratios to pthread.  Not a test: nothing here passes or fails
# except a count mismatch, which any model reports itself.
#
# Models: pthread always; klt when /sys/kernel/kthread_perf exists or the
# module can be loaded here (root, module/kthread_perf.ko built for this
# kernel); coro when coro/coro_bench is built (many-to-one: --workers 1).
# The host usually cannot load the module, so for KLT vs pthread run it in
# the VM, where both models share the same kernel and CPUs:
#
#	make && tools/vm -- userspace/bench.sh
#
# Environment: REPEAT (runs per cell, median taken; default 3),
# WORK_TARGET (operations per worker; default 2000000), KLT=auto|yes|no.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PTHREAD="$ROOT/userspace/pthread_bench"
CORO="$ROOT/coro/coro_bench"
KO="$ROOT/module/kthread_perf.ko"
SYS=/sys/kernel/kthread_perf
REPEAT=${REPEAT:-3}
WORK_TARGET=${WORK_TARGET:-2000000}
KLT=${KLT:-auto}
THREADS=4
loaded_module=0

die() {
	echo "bench.sh: $*" >&2
	exit 1
}

case "${1:-}" in
-h | --help)
	sed -n '3,20s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
	exit 0
	;;
"") ;;
*)
	echo "bench.sh: unknown argument '$1' (try --help)" >&2
	exit 2
	;;
esac

command -v jq >/dev/null || die "jq is needed (apt-get install jq)"
[ -x "$PTHREAD" ] || die "$PTHREAD is not built (make -C userspace)"

cleanup() {
	if [ "$loaded_module" = 1 ]; then
		echo 1 >"$SYS/stop" 2>/dev/null || true
		rmmod kthread_perf || true
	fi
}
trap cleanup EXIT

# Use the module when it is there, or load it when it was built for the
# running kernel and we may.
klt_available() {
	[ "$KLT" != no ] || return 1
	[ -d "$SYS" ] && return 0
	if [ "$(id -u)" = 0 ] && [ -f "$KO" ] &&
	   [ "$(modinfo -F vermagic "$KO" 2>/dev/null | cut -d' ' -f1)" = "$(uname -r)" ] &&
	   insmod "$KO"; then
		loaded_module=1
		return 0
	fi
	[ "$KLT" = yes ] && die "klt requested, but $SYS is absent and $KO cannot be loaded here"
	return 1
}

# run_klt MODE INTERVAL BIND: one run through sysfs; prints its throughput.
run_klt() {
	local state i
	echo "$THREADS" >"$SYS/thread_count"
	echo "$1" >"$SYS/work_mode"
	echo atomic >"$SYS/sync_mode"
	echo "$WORK_TARGET" >"$SYS/work_target"
	echo "$2" >"$SYS/yield_interval"
	echo 0 >"$SYS/sleep_us"
	echo "$3" >"$SYS/bind_cpu_count"
	echo 1 >"$SYS/start"
	for ((i = 0; ; i++)); do
		state=$(cat "$SYS/state")
		case $state in
		done) break ;;
		running) ;;
		*) die "klt run ended in state '$state'" ;;
		esac
		[ "$i" -lt 60000 ] || die "klt run did not finish in 10 minutes"
		sleep 0.01
	done
	[ "$(cat "$SYS/counter")" = $((THREADS * WORK_TARGET)) ] ||
		die "klt counter $(cat "$SYS/counter") != $((THREADS * WORK_TARGET))"
	cat "$SYS/throughput"
}

# run_bin BINARY MODE INTERVAL BIND [EXTRA...]: prints its throughput.
run_bin() {
	local bin="$1" mode="$2" interval="$3" bind="$4"
	shift 4
	"$bin" --json --thread-count "$THREADS" --work-mode "$mode" \
		--sync-mode atomic --work-target "$WORK_TARGET" \
		--yield-interval "$interval" --bind-cpu-count "$bind" "$@" |
		jq -r .throughput
}

# median of the arguments
median() {
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# cell MODEL MODE INTERVAL BIND: median throughput over REPEAT runs.
cell() {
	local model="$1" r vals=()
	shift
	for ((r = 0; r < REPEAT; r++)); do
		case $model in
		pthread) vals+=("$(run_bin "$PTHREAD" "$@")") ;;
		coro) vals+=("$(run_bin "$CORO" "$@" --workers 1)") ;;
		klt) vals+=("$(run_klt "$@")") ;;
		esac
	done
	median "${vals[@]}"
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'
}

models=(pthread)
klt_available && models=(klt "${models[@]}")
[ -x "$CORO" ] && models+=(coro)

echo "# kthread_perf throughput (ops/s, median of $REPEAT), $THREADS workers x" \
	"$WORK_TARGET ops, sync atomic"
echo "# kernel $(uname -r), $(nproc) CPUs online, $(date -u +%Y-%m-%dT%H:%MZ)"
header=$(printf '%-9s %-8s %8s' binding mode interval)
for m in "${models[@]}"; do
	header+=$(printf ' %14s' "$m")
done
for m in "${models[@]}"; do
	[ "$m" = pthread ] || header+=$(printf ' %14s' "$m/pthread")
done
echo "$header"

for bind in 1 0; do
	for spec in "normal -" "yield 1000" "yield 10"; do
		set -- $spec
		mode=$1
		interval=$2
		[ "$interval" = - ] && interval=1000
		declare -A tp=()
		line=$(printf '%-9s %-8s %8s' "$([ "$bind" = 1 ] && echo 1-cpu || echo unbound)" \
			"$mode" "$2")
		for m in "${models[@]}"; do
			tp[$m]=$(cell "$m" "$mode" "$interval" "$bind")
			line+=$(printf ' %14s' "${tp[$m]}")
		done
		for m in "${models[@]}"; do
			[ "$m" = pthread ] || line+=$(printf ' %14s' "$(ratio "${tp[$m]}" "${tp[pthread]}")")
		done
		echo "$line"
		unset tp
	done
done
