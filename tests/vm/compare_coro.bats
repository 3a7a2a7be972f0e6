#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# The same workload through the module's sysfs files (klt, echo and cat)
# and through coro_bench --json on one worker (many-to-one) and on two
# (many-to-many): the counts SPEC.md section 2 fixes must agree: total_ops,
# counter, waits, histogram samples, and each worker's (coroutine's) ops
# and waits.  Runs inside tools/vm: `tools/vm -- bats tests/vm/compare_coro.bats`.

bats_require_minimum_version 1.5.0

load ../lib/common

setup_file() {
	export CORO_BENCH="$KP_REPO/coro/coro_bench"
	[ -x "$CORO_BENCH" ] || make -C "$KP_REPO/coro" coro_bench >&2
	kp_compare_setup_file
}

teardown_file() { kp_compare_teardown_file; }

# coro_run WORKERS TC WORK_MODE SYNC_MODE WT YI SLEEP_US: coro_bench --json
# into $coro.
coro_run() {
	run --separate-stderr "$CORO_BENCH" --json --workers "$1" \
		--thread-count "$2" --work-mode "$3" --sync-mode "$4" \
		--work-target "$5" --yield-interval "$6" --sleep-us "$7"
	if [ "$status" -ne 0 ]; then
		echo "coro_bench exited $status: $stderr" >&2
		return 1
	fi
	coro="$output"
}

# compare TC WORK_MODE SYNC_MODE WT YI SLEEP_US: klt once, coro on 1 and 2
# workers; all three against the inputs and against each other.
compare() {
	local tc="$1" wm="$2" wt="$4" yi="$5" waits=0 w verdict

	[ "$wm" = normal ] || waits=$((tc * (wt / yi)))
	klt_run "$@"
	for w in 1 2; do
		coro_run "$w" "$@"
		verdict=$(jq -n -r --argjson k "$klt" --argjson c "$coro" \
			--argjson ops $((tc * wt)) --argjson waits "$waits" \
			--argjson tc "$tc" --argjson per "$wt" --argjson w "$w" \
			"$KP_JQ_COUNTS"'
			def sane: counts_exact($ops; $waits; $tc; $per);
			def rows: [.threads[] | [.id, .ops, .waits]];
			if ($k | sane) | not then "klt disagrees with the inputs"
			elif ($c | sane) | not then "coro disagrees with the inputs"
			elif $c.config.workers != $w then "coro ran on the wrong number of workers"
			elif $k.total_ops != $c.total_ops or $k.counter != $c.counter
				or $k.waits != $c.waits or ($k | rows) != ($c | rows)
			then "klt and coro disagree"
			else "ok" end')
		[ "$verdict" = ok ] || {
			echo "$verdict (coro --workers $w): $*" >&2
			echo "klt: $klt" >&2
			jq -c 'del(.latency_hist.buckets)' <<<"$coro" >&2
			return 1
		}
	done
}

@test "the module is loaded and idle or finished" {
	[ -d "$SYS" ]
	[ -r "$HIST" ]
	run cat "$SYS/state"
	assert_output --regexp '^(idle|done|stopped)$'
}

@test "klt and coro agree in normal mode in every sync mode" {
	kp_each_sync_mode compare 4 normal 50000 1000 0
}

@test "klt and coro agree in yield mode in every sync mode" {
	kp_each_sync_mode compare 4 yield 20500 1000 0
}

@test "klt and coro agree in sleep mode in every sync mode" {
	kp_each_sync_mode compare 4 sleep 5000 1000 0
	compare 2 sleep atomic 5000 1000 200
}

@test "klt and coro agree in pingpong mode in every sync mode" {
	kp_each_sync_mode compare 4 pingpong 20500 500 0
}

@test "klt and coro agree in barrier mode, 32 threads (the VPI paper's barrier)" {
	compare 32 barrier mutex 1000 100 0
}

@test "klt and coro agree in spawn mode" {
	compare 2 spawn atomic 2000 100 0
	compare 2 spawn percpu 1000 100 0
}

@test "klt and coro agree with many workers' worth of coroutines" {
	compare 64 yield mutex 10000 100 0
}
