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

# A hang must fail its test, not stall the suite (kp_json: KP_TIMEOUT).
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
