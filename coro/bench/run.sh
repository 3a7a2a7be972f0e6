#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# coro/bench/run.sh: measure and print the comparison table (make -C coro
# bench).  Numbers are best-of-5 on this machine; ITERATIONS (default
# 10000000) scales the loops, YIELD_ARGS (default below) is the yield
# workload run by coro_bench and by boost_yield side by side, with
# --latency-sample 0 (no clock read for waits) and 1 (every wait timed).
set -eu
cd "$(dirname "$0")"
n=${ITERATIONS:-10000000}
yargs=${YIELD_ARGS:-"--thread-count 32 --work-mode yield --yield-interval 1 --work-target 300000"}
out=$(./bench_coro "$n")
# coro's and Boost's switch loops alternate round by round in one process
# (bench_coro), so that neither gets a quieter moment of a shared machine
# than the other; three more processes, each keeps its best.
for i in 1 2 3; do
	out="$out
$(./bench_coro "$n" switch)"
done

# The yield workload of kp_loop.h: coro_bench on one worker and on two,
# and (when built) Boost.Context's plain round robin, runs interleaved,
# five rounds, each with latency_sample 0 and 1.  Each run gives ns per wait over the wall clock and over
# the CPU time of the thread(s) that ran it (steadier on a busy machine).
first() { grep -o "\"$1\": [0-9]*" | head -1 | cut -d' ' -f2; }
per_wait() {
	j=$("$@" --json)
	e=$(printf '%s\n' "$j" | first elapsed_ns)
	c=$(printf '%s\n' "$j" | first cputime_ns)
	w=$(printf '%s\n' "$j" | first waits)
	awk -v e="$e" -v c="$c" -v w="$w" 'BEGIN { printf "%.2f %.2f\n", e / w, c / w }'
}
# shellcheck disable=SC2086 # yargs is a list of options
for i in 1 2 3 4 5; do
	for ls in 0 1; do
		a="$yargs --latency-sample $ls"
		if [ -x boost_yield ]; then
			out="$out
boost_yield_ls$ls $(per_wait ./boost_yield $a)"
		fi
		out="$out
coro_yield_w1_ls$ls $(per_wait ../coro_bench --workers 1 $a)
coro_yield_w2_ls$ls $(per_wait ../coro_bench --workers 2 $a)"
	done
done
get() { printf '%s\n' "$out" | awk -v k="$1" '$1 == k && (v == "" || $2 + 0 < v + 0) { v = $2 }
	$1 == k && k ~ /per_s|rss/ { v = $2 } END { print v }'; }

sw=$(get coro_switch_ns) y=$(get coro_yield_ns) uc=$(get ucontext_switch_ns)
bo=$(get boost_fcontext_switch_ns)
swi=$(get coro_switch_inexact_ns) boi=$(get boost_fcontext_switch_inexact_ns)
cj=$(get coro_create_join_ns) pj=$(get pthread_create_join_ns)
rss=$(get coro_idle_rss_bytes)
r1=$(get coro_yields_per_s_1w) r2=$(get coro_yields_per_s_2w)
c1=$(get coro_yields_per_cpu_s_1w) c2=$(get coro_yields_per_cpu_s_2w)

# Best wall and best CPU ns per wait of a workload row.
wl() { printf '%s\n' "$out" | awk -v k="$1" -v f="$2" '$1 == k && (v == "" || $f + 0 < v + 0) { v = $f } END { print v }'; }

echo "coro benchmark on $(uname -m), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-44s %14s  %s\n' "measurement" "value" "comparison"
printf '%-44s %11s ns  %s\n' "switch, coro (arch/ asm)" "$sw" \
	"$(awk -v a="$uc" -v b="$sw" 'BEGIN { printf "%.0fx faster than swapcontext", a / b }')"
printf '%-44s %11s ns  %s\n' "switch, Boost.Context jump_fcontext" "${bo:-n/a}" \
	"$([ -n "$bo" ] && awk -v a="$bo" -v b="$sw" 'BEGIN { printf "coro/boost time ratio %.2f", b / a }')"
printf '%-44s %11s ns\n' "switch, coro, main context's inexact flag set" "$swi"
printf '%-44s %11s ns  %s\n' "switch, Boost, main context's inexact flag set" "${boi:-n/a}" \
	"$([ -n "$boi" ] && awk -v a="$boi" -v b="$swi" 'BEGIN { printf "coro/boost time ratio %.2f", b / a }')"
printf '%-44s %11s ns\n' "switch, glibc swapcontext" "$uc"
printf '%-44s %11s ns  %s\n' "coro_yield (2 coroutines, 1 worker)" "$y" \
	"$(awk -v a="$uc" -v b="$y" 'BEGIN { printf "%.0fx faster than swapcontext", a / b }')"
printf '%-44s %11s ns  %s\n' "coro_create + coro_join" "$cj" \
	"$(awk -v a="$pj" -v b="$cj" 'BEGIN { printf "%.0fx faster than pthreads", a / b }')"
printf '%-44s %11s ns\n' "pthread_create + pthread_join" "$pj"
printf '%-44s %11s B\n' "resident bytes per idle coroutine" "$rss"
printf '%-44s %11s /s\n' "yields, 16 coroutines on 1 worker" "$r1"
printf '%-44s %11s /s  %s\n' "yields, 16 coroutines on 2 workers" "$r2" \
	"$(awk -v a="$r2" -v b="$r1" 'BEGIN { printf "%.2fx of 1 worker (wall clock)", a / b }')"
printf '%-44s %11s /s  %s\n' "yields per CPU-second, 1 worker" "$c1" ""
printf '%-44s %11s /s  %s\n' "yields per CPU-second, 2 workers" "$c2" \
	"$(awk -v a="$c2" -v b="$c1" 'BEGIN { printf "%.2fx: 2 idle CPUs would give ~%.2fx", a / b, 2 * a / b }')"
echo
echo "yield workload ($yargs), ns per wait, best of 5"
printf '%-50s %8s %8s  %s\n' "" "wall" "CPU" "comparison (CPU)"
for ls in 0 1; do
	bc=$(wl boost_yield_ls$ls 3) cw=$(wl coro_yield_w1_ls$ls 3)
	printf '%-50s %8s %8s\n' "Boost.Context round robin, latency_sample $ls" \
		"$(wl boost_yield_ls$ls 2)" "${bc:-n/a}"
	printf '%-50s %8s %8s  %s\n' "coro_bench 1 worker, latency_sample $ls" \
		"$(wl coro_yield_w1_ls$ls 2)" "$cw" \
		"$([ -n "$bc" ] && awk -v a="$cw" -v b="$bc" 'BEGIN { printf "coro/boost %.2fx", a / b }')"
	printf '%-50s %8s %8s  %s\n' "coro_bench 2 workers, latency_sample $ls" \
		"$(wl coro_yield_w2_ls$ls 2)" "$(wl coro_yield_w2_ls$ls 3)" \
		"(CPU of both workers)"
done
