#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# The AArch64 switch (coro/arch/switch_aarch64.S): the coro tests built
# with Debian's cross compiler and run under qemu-user.  Skipped, visibly,
# where gcc-aarch64-linux-gnu or qemu-user is not installed.

load coro_helpers

A64="$KP_REPO/build/aarch64/coro/tests"

setup_file() {
	if command -v aarch64-linux-gnu-gcc >/dev/null &&
	   command -v qemu-aarch64 >/dev/null; then
		coro_build aarch64
	fi
}

setup() {
	command -v aarch64-linux-gnu-gcc >/dev/null ||
		skip "aarch64-linux-gnu-gcc not installed (gcc-aarch64-linux-gnu)"
	command -v qemu-aarch64 >/dev/null ||
		skip "qemu-aarch64 not installed (qemu-user)"
	[ -d /usr/aarch64-linux-gnu ] ||
		skip "no AArch64 libc (libc6-dev-arm64-cross)"
}

q() {
	coro_run_test qemu-aarch64 -L /usr/aarch64-linux-gnu "$@"
}

@test "AArch64: the switch keeps values and d8-d15 across 100000 switches" {
	run file "$A64/t_switch"
	assert_output --partial "ARM aarch64"
	q "$A64/t_switch"
	assert_output --partial "ok 100000 switches"
}

@test "AArch64: create, yield, join and detach on 1 and 2 workers" {
	q "$A64/t_basic" 1
	q "$A64/t_basic" 2
}

@test "AArch64: mutex, condition variable, semaphore and sleep on 1 and 2 workers" {
	q "$A64/t_sync" 1
	q "$A64/t_sync" 2
}

@test "AArch64: a guard page overflow is named and aborts, neighbours untouched" {
	run --separate-stderr qemu-aarch64 -L /usr/aarch64-linux-gnu "$A64/t_overflow" guard
	[ "$status" -eq 134 ]
	[[ "$stderr" == *"<overflow_entry>): guard page hit"* ]]
	assert_line "neighbours untouched at the report"
}

@test "AArch64: a new coroutine starts in its creator's rounding mode (FPCR), kept across switches" {
	q "$A64/t_fpstate" 1
	q "$A64/t_fpstate" 2
}

# The cross build has no liburing (coro/Makefile: A64_URING): no ring is
# made, and coro_uring_read() is the wrapper, said once.
@test "AArch64, built without liburing: coro_uring_read falls back to the wrapper, said once, exact counts" {
	CORO_URING=off q "$A64/t_uring" 1 4 20
	assert_line "ok exact 4 readers x 20 reads on 1 workers, the ticker moving while each read was in flight"
	assert_equal "$(grep -c '^libcoro: io_uring unavailable (libcoro was built without liburing)' <<<"$stderr")" 1
}
