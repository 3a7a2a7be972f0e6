#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# coro/bench/scale.sh [ROUNDS]: what a second worker buys a yield, on
# this machine (issue 21): rounds (default 5) of, interleaved,
#   bench_coro 3000000's yield rates on 1 and 2 workers (16 coroutines),
#   coro_bench's yield workload (32 coroutines, a yield per operation,
#   percpu counters, latency_sample 0) on 1 and 2 workers,
# each with CORO_ACTIVATIONS=auto (the default) and off; then the
# median, min and max of each ratio: 2 workers over 1 in yields per
# second of wall time (> 1: the second worker pays).  Run it on a quiet
# machine with at least two CPUs: a ratio of wall times is all it shows.
set -eu
cd "$(dirname "$0")"
rounds=${1:-5}
yargs="--thread-count 32 --work-mode yield --yield-interval 1 --work-target 300000 --sync-mode percpu --latency-sample 0"
if [ ! -x bench_coro ] || [ ! -x ../coro_bench ]; then
	echo "scale.sh: build first: make -C .. coro_bench && make bench_coro" >&2
	exit 2
fi
first() { grep -o "\"$1\": [0-9]*" | head -1 | cut -d' ' -f2; }
get() { awk -v k="$1" '$1 == k { print $2 }'; }
out=
i=0
while [ "$i" -lt "$rounds" ]; do
	i=$((i + 1))
	for act in auto off; do
		b=$(CORO_ACTIVATIONS=$act ./bench_coro 3000000)
		r1=$(printf '%s\n' "$b" | get coro_yields_per_s_1w)
		r2=$(printf '%s\n' "$b" | get coro_yields_per_s_2w)
		# shellcheck disable=SC2086 # yargs is a list of options
		e1=$(CORO_ACTIVATIONS=$act ../coro_bench --workers 1 $yargs --json | first elapsed_ns)
		# shellcheck disable=SC2086
		e2=$(CORO_ACTIVATIONS=$act ../coro_bench --workers 2 $yargs --json | first elapsed_ns)
		out="$out
bench_coro_$act $(awk -v a="$r1" -v b="$r2" 'BEGIN { printf "%.3f", b / a }')
workload_$act $(awk -v a="$e1" -v b="$e2" 'BEGIN { printf "%.3f", a / b }')"
	done
done
echo "coro scaling on $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $rounds rounds"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-44s %8s %8s %8s\n' "2 workers / 1, wall" median min max
for k in bench_coro_auto bench_coro_off workload_auto workload_off; do
	printf '%s\n' "$out" | awk -v k="$k" '$1 == k { v[n++] = $2 }
		END {
			for (i = 0; i < n; i++)
				for (j = i + 1; j < n; j++)
					if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
			m = n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2
			printf "%-44s %8.2f %8.2f %8.2f\n", k, m, v[0], v[n - 1]
		}'
done
