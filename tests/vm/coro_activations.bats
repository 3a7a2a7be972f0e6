#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# libcoro's consumer of /dev/kthread_perf (coro/src/activations.c) against
# the module: late events of ended threads, stale BLOCKED events, and no
# OS thread to be had (issue 20, defects 5-7).  The host half, without the
# module, is t_act_unit in tests/host/coro.bats.

load ../lib/common

CORO_TESTS="$KP_REPO/build/coro/tests"
ASAN_TESTS="$KP_REPO/build/asan/coro/tests"
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"

setup_file() {
	kp_setup_file
	[ -x "$ASAN_TESTS/t_act_module" ] ||
		{ echo "$ASAN_TESTS/t_act_module is missing: run make sanitize" >&2; return 1; }
}
teardown_file() { kp_teardown_file; }
setup() { kp_load; }
teardown() { kp_unload; }

# A stress of the real module's registrations ending with their threads;
# the late events themselves are made on purpose by t_fakedev on the host
# (this run did not hit the race with the code before the fix in 2 x 100
# runs).
@test "libcoro (module, ASan): 30 runs back to back, each starting and ending threads that block and are taken: exact counts, no report" {
	CORO_ACTIVATIONS=module run --separate-stderr timeout 600 \
		"$ASAN_TESTS/t_act_module" runs 30 2
	assert_success
	assert_output --partial "ok 30 runs back to back (module, 2 worker(s)): 600 ping-pongs"
}

@test "libcoro (module): a worker woken after the listener's claim is not taken; the claim is given back" {
	CORO_ACTIVATIONS=module run --separate-stderr timeout 300 \
		"$CORO_TESTS/t_act_module" stale 50
	assert_success
	assert_line "stale: 50 blocks woken after the claim: 0 taken, 50 stale takes avoided, 0 hand-offs"
}

@test "libcoro (module): the spare woken for a block runs the queue it takes, on its own thread (one wake-up per hand-off), plain and ASan" {
	local t
	for t in "$CORO_TESTS" "$ASAN_TESTS"; do
		CORO_ACTIVATIONS=module run --separate-stderr timeout 300 \
			"$t/t_act_module" watcher 200
		assert_success
		assert_line "ok each of 200 blocked workers' queues ran on the thread that took it"
		assert_output --partial "watcher: 200 blocks, 200 taken, 200 hand-offs"
	done
}

@test "libcoro (module): no OS thread to be had (RLIMIT_NPROC): the spare runs the blocked worker's queue itself, no new spare starts, the run ends, said once" {
	local w
	for w in 1 2; do
		CORO_ACTIVATIONS=module run --separate-stderr timeout 300 \
			"$CORO_TESTS/t_nproc" take $w
		assert_success
		assert_output --partial "ok no thread to take a blocked worker with (module, $w worker(s))"
		assert_output --regexp "[1-9][0-9]* taken"
		assert_equal "$(grep -c '^libcoro: cannot start an OS thread' <<<"$stderr")" 1
	done
}

@test "the kernel log shows no warning, bug, lockup, stall or hung task" {
	kp_assert_dmesg_clean
}
