#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# coro/bench/vpi_overhead.sh: the VPI paper's notification-overhead
# experiment (its Figures 8 and 9).  Pairs of workers compute C us between
# plain blocking read()s (work mode block; the compute is atomic adds to
# the shared counter, C us at the rate of one thread alone: the percpu loop
# folds into a few adds); the same work on POSIX threads (no
# notifications, the paper's KERNEL) and on coroutines over --workers OS
# threads that survive the blocking calls through scheduler activations
# (the paper's VPI).  Prints, per number of pairs and C, the elapsed times and the
# overhead ratio (with - without) / without, median of REPEAT runs.
#
#   coro/bench/vpi_overhead.sh [PAIRS...]        (default: 1 16)
#   env: CS="1 10 100 1000" (us of compute), BLOCKS=100 (blocking calls per
#   worker), WORKERS=<online CPUs>, REPEAT=3, MECHS="module monitor"
#   (CORO_ACTIVATIONS values; module is skipped without /dev/kthread_perf)
#
# Run it where the module is loaded to see both mechanisms, e.g.
#   tools/vm -- sh -c 'insmod module/kthread_perf.ko && coro/bench/vpi_overhead.sh'
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
pb="$root/userspace/pthread_bench" cb="$root/coro/coro_bench"
pairs=("$@")
[ ${#pairs[@]} -gt 0 ] || pairs=(1 16)
CS=${CS:-"1 10 100 1000"} BLOCKS=${BLOCKS:-100} REPEAT=${REPEAT:-3}
WORKERS=${WORKERS:-$(nproc)} MECHS=${MECHS:-"module monitor"}

# Operations per microsecond of one worker alone (no waits).
ops_per_us=$("$pb" --json --thread-count 1 \
	--work-target 5000000 | jq '.total_ops / (.elapsed_ns / 1000)')

# median CMD...: the median elapsed_ns of REPEAT runs of CMD --json.
median() {
	local i
	for ((i = 0; i < REPEAT; i++)); do
		"$@" --json | jq '.elapsed_ns'
	done | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

mechs=()
for m in $MECHS; do
	[ "$m" = module ] && [ ! -e /dev/kthread_perf ] && continue
	mechs+=("$m")
done

echo "VPI overhead: $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg);" \
	"$ops_per_us ops/us; $BLOCKS blocking calls per worker; coro on $WORKERS workers;" \
	"median of $REPEAT"
hdr="| pairs | C (us) | pthread (ms) |"
sep="|---:|---:|---:|"
for m in "${mechs[@]}"; do
	hdr="$hdr coro-mn $m (ms) | ratio $m |"
	sep="$sep---:|---:|"
done
echo "$hdr"
echo "$sep"
for p in "${pairs[@]}"; do
	for c in $CS; do
		yi=$(awk -v c="$c" -v r="$ops_per_us" 'BEGIN { v = int(c * r + 0.5); print v < 1 ? 1 : v }')
		args=(--thread-count $((2 * p)) --work-mode block
			--yield-interval "$yi" --work-target $((yi * BLOCKS)))
		base=$(median "$pb" "${args[@]}")
		row="| $p | $c | $(awk -v n="$base" 'BEGIN { printf "%.1f", n / 1e6 }') |"
		for m in "${mechs[@]}"; do
			t=$(CORO_ACTIVATIONS=$m median "$cb" --workers "$WORKERS" "${args[@]}")
			row="$row $(awk -v n="$t" -v b="$base" 'BEGIN { printf "%.1f | %+.2f", n / 1e6, (n - b) / b }') |"
		done
		echo "$row"
	done
done
