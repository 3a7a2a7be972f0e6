#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# The coroutine library (coro/): its C test programs on the host, on one
# worker (many-to-one) and on several (many-to-many); stack overflow
# reports and the canary fallback; a million live coroutines; the
# blocking hand-off; the ucontext fallback; install and pkg-config.

load coro_helpers

setup_file() {
	coro_build lib tests
}

@test "the bare context switch keeps values, FP state and MXCSR/x87 per context" {
	coro_run_test "$CORO_TESTS/t_switch"
	assert_output --partial "ok 100000 switches"
}

@test "create, yield, join and detach work on one worker" {
	coro_run_test "$CORO_TESTS/t_basic" 1
	assert_output --partial "round robin in creation order"
	assert_output --partial "stacks are reused"
}

@test "the barrier lets nobody through early, names one serial party, and takes a plain thread" {
	local w
	for w in 1 2 4; do
		coro_run_test "$CORO_TESTS/t_barrier" "$w"
		assert_output --partial "ok barrier: 24 parties x 500 generations on $w worker(s)"
		assert_output --partial "ok barrier: a plain thread meets a coroutine"
	done
}

@test "create, join and detach work on 2 and 4 workers" {
	coro_run_test "$CORO_TESTS/t_basic" 2
	coro_run_test "$CORO_TESTS/t_basic" 4
}

@test "mutex, condition variable, semaphore and sleep keep their semantics on one worker" {
	coro_run_test "$CORO_TESTS/t_sync" 1
	assert_line --partial "mutex excludes"
	assert_line --partial "deadline order"
}

@test "mutex, condition variable, semaphore and sleep keep their semantics on 2 workers" {
	coro_run_test "$CORO_TESTS/t_sync" 2
}

@test "the ucontext fallback passes the same tests" {
	coro_run_test "$CORO_TESTS/ucontext_t_basic" 1
	coro_run_test "$CORO_TESTS/ucontext_t_sync" 2
}

@test "a coroutine running into its guard page is named and the process aborts" {
	run --separate-stderr "$CORO_TESTS/t_overflow" guard
	[ "$status" -eq 134 ] # SIGABRT
	[[ "$stderr" == *"stack overflow in coroutine 2 (entry 0x"*"<overflow_entry>): guard page hit"* ]]
	[[ "$output" != *"no overflow was caught"* ]]
}

@test "an overwritten canary is named at the next switch and the process aborts" {
	CORO_MAX_GUARDS=0 run --separate-stderr "$CORO_TESTS/t_overflow" canary
	[ "$status" -eq 134 ]
	[[ "$stderr" == *"stack overflow in coroutine 2 (entry 0x"*"<overflow_entry>): canary overwritten"* ]]
}

@test "past the guard budget stacks get canaries, said once on stderr" {
	CORO_MAX_GUARDS=100 run --separate-stderr "$CORO_TESTS/t_million" 5000
	assert_success
	# Counts are of stacks made, slab by slab: at least the 4900 used.
	assert_output --regexp "; 100 guard pages, (49[0-9][0-9]|[5-9][0-9]{3}) canaries"
	[ "$(grep -c 'no more guard pages after 100 stacks' <<<"$stderr")" -eq 1 ]
}

@test "a million coroutines live at once on 16 KiB stacks" {
	coro_run_test "$CORO_TESTS/t_million" 1000000 16384
	assert_output --partial "ok 1000000 live coroutines"
	# vm.max_map_count allows ~32k guard pages; the rest fall back, once.
	[ "$(grep -c 'no more guard pages' <<<"$stderr")" -eq 1 ]
	# Lazily committed: a couple of pages each, not 16 KiB.
	local per
	per=$(sed -n 's/.*; \([0-9]*\) bytes resident each.*/\1/p' <<<"$output")
	[ "$per" -lt 12288 ]
}

@test "1000 siblings finish on one worker while a coroutine blocks 1 s in read()" {
	coro_run_test "$CORO_TESTS/t_blocking" 1
	assert_output --partial "ok 1000 siblings finish"
}

@test "1000 siblings finish on 2 workers while a coroutine blocks 1 s in read()" {
	coro_run_test "$CORO_TESTS/t_blocking" 2
	assert_output --partial "ok 1000 siblings finish"
}

@test "make install puts header, libraries and coro.pc under DESTDIR, and they link" {
	local d="$BATS_TEST_TMPDIR/root" prog="$BATS_TEST_TMPDIR/hello"

	make -s -C "$CORO" install PREFIX=/opt/coro DESTDIR="$d" >&2
	[ -f "$d/opt/coro/include/coro.h" ]
	[ -f "$d/opt/coro/lib/libcoro.a" ]
	[ -L "$d/opt/coro/lib/libcoro.so" ]
	[ -f "$d/opt/coro/lib/pkgconfig/coro.pc" ]
	cat >"$prog.c" <<'C'
#include <coro.h>
#include <stdio.h>
static void *hi(void *a) { coro_yield(); return a; }
int main(void)
{
	coro_sched_t *s = coro_sched_create(NULL);
	coro_t *c = coro_create(s, hi, (void *)42, 0);
	void *r;
	coro_sched_run(s);
	coro_join(c, &r);
	printf("%ld\n", (long)r);
	return 0;
}
C
	export PKG_CONFIG_PATH="$d/opt/coro/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$d"
	# shellcheck disable=SC2046
	gcc -o "$prog" "$prog.c" $(pkg-config --cflags --libs coro) -pthread
	LD_LIBRARY_PATH="$d/opt/coro/lib" run "$prog"
	assert_success
	assert_output 42
	# shellcheck disable=SC2046
	gcc -static-libgcc -o "$prog.static" "$prog.c" \
		$(pkg-config --cflags coro) "$d/opt/coro/lib/libcoro.a" -pthread -ldl
	run "$prog.static"
	assert_output 42
}

@test "Valgrind sees no errors on the registered coroutine stacks" {
	command -v valgrind >/dev/null || skip "valgrind not installed"
	run --separate-stderr valgrind -q --error-exitcode=9 \
		"$CORO_TESTS/t_basic" 2
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; return 1; }
}
