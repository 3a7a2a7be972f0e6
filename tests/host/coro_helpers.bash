# SPDX-License-Identifier: GPL-2.0
#
# Helpers of the coro suites (coro.bats, coro_bench.bats, coro_sanitize.bats,
# coro_aarch64.bats): where the binaries are, and building them when missing.

load ../lib/common

CORO="$KP_REPO/coro"
CORO_TESTS="$KP_REPO/build/coro/tests"
CORO_BENCH="$CORO/coro_bench"
# A sanitizer report must end the run with a failure, not scroll past.
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"

# coro_build TARGET...: make the targets of coro/Makefile (quietly).
coro_build() {
	make -s -C "$CORO" "$@" >&2
}

# A hang must fail its test, not stall the suite.
CORO_TIMEOUT=${CORO_TIMEOUT:-300}

# coro_run_test BIN ARGS...: run a C test program, fail with its output.
coro_run_test() {
	run --separate-stderr timeout "$CORO_TIMEOUT" "$@"
	if [ "$status" -ne 0 ]; then
		echo "$* exited $status" >&2
		echo "stdout: $output" >&2
		echo "stderr: $stderr" >&2
		return 1
	fi
}

# coro_json BIN ARGS...: run coro_bench with --json, leave it in $json.
coro_json() {
	local bin="$1"
	shift
	run --separate-stderr timeout "$CORO_TIMEOUT" "$bin" --json "$@"
	if [ "$status" -ne 0 ]; then
		echo "$bin $* exited $status: $stderr $output" >&2
		return 1
	fi
	json="$output"
}

# coro_check_counts TC WT YI MODE WORKERS: SPEC.md section 2's invariants.
coro_check_counts() {
	local tc="$1" wt="$2" yi="$3" mode="$4" workers="$5" waits=0

	[ "$mode" = normal ] || waits=$((tc * (wt / yi)))
	jq -e --argjson ops $((tc * wt)) --argjson waits "$waits" \
		--argjson tc "$tc" --argjson per "$wt" --argjson w "$workers" '
		.model == "coro"
		and .counter == $ops and .total_ops == $ops
		and (.threads | length) == $tc
		and all(.threads[]; .ops == $per)
		and .waits == $waits
		and ([.threads[].waits] | add) == $waits
		and .latency_hist.samples == $waits
		and ([.latency_hist.buckets[].count] | add) == $waits
		and .config.workers == $w' <<<"$json" >/dev/null || {
		echo "invariants fail: tc=$tc wt=$wt yi=$yi mode=$mode workers=$workers" >&2
		jq -c 'del(.latency_hist.buckets) | del(.threads)' <<<"$json" >&2
		return 1
	}
}

# coro_matrix BIN WORKERS TC WT YI SLEEP_US WORK_MODES...: every sync mode
# in each work mode.
coro_matrix() {
	local bin="$1" w="$2" tc="$3" wt="$4" yi="$5" us="$6" wm sm
	shift 6
	for wm in "$@"; do
		for sm in atomic spinlock mutex percpu; do
			coro_json "$bin" --workers "$w" --thread-count "$tc" \
				--work-mode "$wm" --sync-mode "$sm" \
				--work-target "$wt" --yield-interval "$yi" \
				--sleep-us "$us"
			coro_check_counts "$tc" "$wt" "$yi" "$wm" "$w"
		done
	done
}
