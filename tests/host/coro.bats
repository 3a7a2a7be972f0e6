#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# The coroutine library (coro/): its C test programs on the host, on one
# worker (many-to-one) and on several (many-to-many); stack overflow
# reports in every guard mode, the canary fallback; a million live
# coroutines, memory back after a burst; FP state of new coroutines; the
# CET and stack-clash builds; the
# blocking hand-off; the ucontext fallback; install and pkg-config.

load coro_helpers

setup_file() {
	coro_build lib tests
}

@test "the bare context switch keeps values, FP state and MXCSR/x87 per context" {
	coro_run_test "$CORO_TESTS/t_switch"
	assert_output --partial "ok 100000 switches"
}

# The switch restores MXCSR and the x87 control word in one of two ways,
# chosen by CPU vendor (src/context.c); each host runs one by default, so
# both are forced here.
@test "both ways of restoring MXCSR/x87 (load, compare) keep each context's own; another CORO_FPENV is named and ignored" {
	[ "$(uname -m)" = x86_64 ] || skip "x86-64 only"
	for mode in load compare; do
		CORO_FPENV=$mode coro_run_test "$CORO_TESTS/t_switch"
		assert_output --partial "ok each context keeps its own MXCSR and x87 control word"
		CORO_FPENV=$mode coro_run_test "$CORO_TESTS/t_fpstate" 2
		assert_output --partial "ok new coroutines start in their creator's rounding mode"
	done
	CORO_FPENV=fast coro_run_test "$CORO_TESTS/t_switch"
	assert_output --partial "ok each context keeps its own MXCSR and x87 control word"
	[[ "$stderr" == *"CORO_FPENV=fast: not load or compare, ignored"* ]]
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

@test "run queues on 2 and 3 workers (biased to their owners, stolen from): exact counts, some stolen" {
	coro_run_test "$CORO_TESTS/t_runq" 2 20
	assert_line "ok run queues: exact counts on 2 workers"
	coro_run_test "$CORO_TESTS/t_runq" 3 20
	coro_run_test env CORO_ACTIVATIONS=off "$CORO_TESTS/t_runq" 2 20
}

@test "the ucontext fallback passes the same tests" {
	coro_run_test "$CORO_TESTS/ucontext_t_basic" 1
	coro_run_test "$CORO_TESTS/ucontext_t_sync" 2
}

# overflow_case MODE WORKERS: the large-frame overflow of t_overflow.
overflow_case() {
	local env=()

	[ "$1" = canary ] && env=(CORO_GUARD=canary)
	run --separate-stderr env "${env[@]}" timeout "$CORO_TIMEOUT" \
		"$CORO_TESTS/t_overflow" "$1" "$2"
	echo "stdout: $output" >&2
	echo "stderr: $stderr" >&2
	[ "$status" -eq 134 ] # SIGABRT
	assert_line --partial "overflowing between coroutines 1 and 3"
	[[ "$stderr" == *"stack overflow in coroutine 2 (entry 0x"*"<overflow_entry>): $3"* ]]
	assert_line "neighbours untouched at the report"
	refute_line --partial "no overflow was caught"
}

@test "coroutines on one worker are woken from plain threads (the inbox), and on 2" {
	coro_run_test "$CORO_TESTS/t_inbox" 1
	coro_run_test "$CORO_TESTS/t_inbox" 2 50
}

@test "a frame larger than a page hits the guard: the middle of three is named, neighbours untouched (1 worker)" {
	overflow_case guard 1 "guard page hit"
}

@test "a frame larger than a page hits the guard: the middle of three is named, neighbours untouched (2 workers)" {
	overflow_case guard 2 "guard page hit"
}

@test "a frame larger than a page over a canary gap: the middle of three is named, neighbours untouched (1 worker)" {
	overflow_case canary 1 "canary overwritten"
}

@test "a frame larger than a page over a canary gap: the middle of three is named, neighbours untouched (2 workers)" {
	overflow_case canary 2 "canary overwritten"
}

@test "past the guard budget stacks get canaries, said once on stderr" {
	CORO_MAX_GUARDS=100 run --separate-stderr "$CORO_TESTS/t_million" 5000
	assert_success
	# Counts are of stacks made, slab by slab: at least the 4900 used.
	assert_output --regexp "; 100 guard pages, (49[0-9][0-9]|[5-9][0-9]{3}) canaries"
	[ "$(grep -c 'no more guard pages after 100 stacks' <<<"$stderr")" -eq 1 ]
}

@test "a million coroutines live at once on 16 KiB stacks, every one guarded where the kernel has MADV_GUARD_INSTALL" {
	coro_run_test "$CORO_TESTS/t_million" 1000000 16384
	assert_output --partial "ok 1000000 live coroutines"
	if [[ "$output" == *"(guards by madvise)"* ]]; then
		# Counts are of stacks made: at least the million used.
		assert_output --regexp "; [0-9]{7,} guard pages, 0 canaries"
		[ "$(grep -c 'no more guard pages' <<<"$stderr")" -eq 0 ]
	else
		# mprotect: vm.max_map_count allows ~32k; the rest fall back, once.
		[ "$(grep -c 'no more guard pages' <<<"$stderr")" -eq 1 ]
	fi
	# Lazily committed: a page or two each, not 16 KiB.
	local per
	per=$(sed -n 's/.*; \([0-9]*\) bytes resident each.*/\1/p' <<<"$output")
	[ "$per" -lt 12288 ]
}

@test "resident memory comes back within the pool cap after a burst of a million coroutines" {
	coro_run_test "$CORO_TESTS/t_burst" 1000000 4096
	assert_output --partial "ok memory comes back after a burst of 1000000 coroutines"
}

@test "a new coroutine starts in its creator's rounding mode (MXCSR and x87) on 1 and 2 workers" {
	coro_run_test "$CORO_TESTS/t_fpstate" 1
	assert_output --partial "ok new coroutines start in their creator's rounding mode"
	coro_run_test "$CORO_TESTS/t_fpstate" 2
}

@test "a -fcf-protection build carries the IBT property note, the switch included" {
	[ "$(uname -m)" = x86_64 ] || skip "x86-64 only"
	run readelf -n "$KP_REPO/build/coro/cet/libcoro-cet.o"
	assert_success
	assert_output --partial "x86 feature: IBT"
	run objdump -d "$KP_REPO/build/coro/cet/switch.o"
	assert_output --partial "endbr64"
}

@test "libcoro and coro_bench are built with -fstack-clash-protection" {
	run make -s -n -B -C "$CORO" libcoro.a coro_bench
	assert_success
	local compiles
	compiles=$(grep -E '^(cc|gcc) .* -c .*src/' <<<"$output" | grep -vc -- -fstack-clash-protection || true)
	[ "$compiles" -eq 0 ]
	assert_line --regexp '^(cc|gcc) .*-fstack-clash-protection.* -o coro_bench '
}

@test "1000 siblings finish on one worker while a coroutine blocks 1 s in read()" {
	coro_run_test "$CORO_TESTS/t_blocking" 1
	assert_output --partial "ok 1000 siblings finish"
}

@test "1000 siblings finish on 2 workers while a coroutine blocks 1 s in read()" {
	coro_run_test "$CORO_TESTS/t_blocking" 2
	assert_output --partial "ok 1000 siblings finish"
}

@test "coro_uring_read on 1, 2 and 3 workers: every byte in order, no hand-off, the worker runs others while a read is in flight, idles in the ring" {
	local w
	for w in 1 2 3; do
		coro_run_test "$CORO_TESTS/t_uring" $w
		assert_line "ok exact 8 readers x 200 reads on $w workers, the ticker moving while each read was in flight"
		assert_line --regexp "^$w workers, ring: 1600 bytes read, [0-9]+ ticks, 0 hand-offs, $w OS threads$"
		assert_line "ok idle in the ring on $w workers: timer, eventfd wake-up, completion"
		assert_equal "$stderr" ""
	done
}

@test "coro_uring_read without a ring (CORO_URING=off, or io_uring_setup() denied by a seccomp filter): the wrapper, said once with why, exact counts, no abort" {
	local w why env arg
	for w in 1 2; do
		for why in "CORO_URING=off" "io_uring_queue_init_params: Operation not permitted"; do
			env=(env) arg=seccomp
			[ "$why" != "CORO_URING=off" ] || env=(env CORO_URING=off) arg=
			# shellcheck disable=SC2086
			coro_run_test "${env[@]}" "$CORO_TESTS/t_uring" $w 4 50 $arg
			assert_line "ok exact 4 readers x 50 reads on $w workers, the ticker moving while each read was in flight"
			assert_line --regexp "^$w workers, fallback: 200 bytes read, [0-9]+ ticks, [1-9][0-9]* hand-offs, [0-9]+ OS threads$"
			assert_equal "$stderr" "libcoro: io_uring unavailable ($why); coro_uring_read() and coro_uring_write() fall back to coro_blocking_read() and coro_blocking_write()"
		done
	done
}

@test "1000 siblings finish on 1 and 2 workers while a coroutine sits in a plain read() (activations: the monitor)" {
	local w
	for w in 1 2; do
		CORO_ACTIVATIONS=monitor coro_run_test "$CORO_TESTS/t_activations" $w
		assert_output --partial "ok activations (monitor, $w worker(s)): 1000 siblings finished"
	done
}

@test "activations' listener, without the module: a cookie is a slot and a generation; ended, reused, out-of-range and address cookies name no lwp" {
	coro_run_test "$CORO_TESTS/t_act_unit" cookies
	assert_output --partial "ok cookies"
	coro_run_test "$CORO_TESTS/t_act_unit" stale
	assert_output --partial "ok stale: 3 events of an ended registration ignored"
}

@test "module mode on a fake device: BLOCKED events of the previous run's ended registrations, read in the next run, name no lwp" {
	coro_run_test "$CORO_TESTS/t_fakedev" late
	# Run 1 registers the caller's thread and worker 1's lwp, or only the
	# caller's when it ends before that lwp starts (a loaded host):
	# t_fakedev checks that every one of them was ignored and none taken.
	assert_line --regexp "^late: [12] BLOCKED events of run 1's ended registrations read in run 2: [12] ignored, 0 taken$"
	assert_line "ok late events of ended registrations name no lwp"
}

@test "module mode on a fake device: the spare woken for a block runs the worker it takes, on the thread whose claim won" {
	coro_run_test "$CORO_TESTS/t_fakedev" watcher 50
	assert_line --regexp "^watcher: 50 blocks posted, 50 taken, [0-9]+ OS threads$"
	assert_line "ok the watcher ran each worker it took, 50 times"
}

@test "module mode on a fake device: a block read while another reader's claim on the same lwp stands still takes the worker" {
	coro_run_test "$CORO_TESTS/t_fakedev" reblock
	assert_line "reblock: 2 claims, 1 given back, 1 taken"
	assert_line "ok a block read while another reader's claim stood took the worker"
}

@test "module mode on a fake device that hangs up: the spares leave it, a monitor thread takes the blocked worker, said once" {
	coro_run_test "$CORO_TESTS/t_fakedev" gone
	assert_line --regexp "^gone: B ran while A was blocked, [1-9][0-9]* taken$"
	assert_equal "$(grep -c 'stopped delivering events; watching the workers by polling' <<<"$stderr")" 1
}

@test "activations' listener, without the module: BLOCKED n is acted on only until UNBLOCKED n, also one read after the claim" {
	coro_run_test "$CORO_TESTS/t_act_unit" seq
	assert_output --partial "ok seq"
}

@test "activations' listener, without the module: a take that finds no OS thread is given back, or its worker waits for the next spare" {
	coro_run_test "$CORO_TESTS/t_act_unit" nothread
	assert_output --partial "ok nothread"
}

@test "adaptive mutex, module mode on a fake device: an lwp's off_cpu follows PREEMPTED/RESUMED and BLOCKED/UNBLOCKED; a contender parks at once on a preempted owner and spins on a running one" {
	coro_run_test "$CORO_TESTS/t_act_unit" offcpu
	assert_output --partial "ok offcpu"
	coro_run_test "$CORO_TESTS/t_fakedev" preempt
	assert_line "preempt: watch 1, contended 2, spins 1, checks 1, spin_acquired 0, parks 2, owner_off_cpu 1"
	assert_line "ok a contender parks at once on an owner whose lwp is preempted, and spins on one that runs"
}

@test "adaptive mutex without the module: /proc tells a thread on its CPU from one asleep" {
	coro_run_test "$CORO_TESTS/t_act_unit" proc
	[[ $output != *"skip proc"* ]] || skip "$output"
	assert_output --partial "ok proc"
}

# t_nproc becomes nobody when run as root: the kernel exempts uid 0 from
# RLIMIT_NPROC.
@test "no OS thread to be had (RLIMIT_NPROC): a blocked worker is never lost, the run ends on fewer threads with exact counts, said once (monitor)" {
	local m
	for m in "take 1" "take 2" "start 1" "start 4"; do
		CORO_ACTIVATIONS=monitor coro_run_test "$CORO_TESTS/t_nproc" $m
		assert_output --partial "ok no thread"
		assert_equal "$(grep -c '^libcoro: cannot start an OS thread' <<<"$stderr")" 1
	done
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
		$(pkg-config --cflags coro) "$d/opt/coro/lib/libcoro.a" -pthread -ldl -luring
	run "$prog.static"
	assert_output 42
}

@test "Valgrind sees no errors on the registered coroutine stacks" {
	command -v valgrind >/dev/null || skip "valgrind not installed"
	local w
	# A pooled stack reused at another colour (both worker counts).
	for w in 1 2; do
		run --separate-stderr valgrind -q --error-exitcode=9 \
			"$CORO_TESTS/t_basic" "$w"
		[ "$status" -eq 0 ] || { echo "$stderr" >&2; return 1; }
	done
}

# Valgrind's debug log (-d -d) names every stack registered and
# deregistered.  With a pool cap of 0, every slab of a burst of 1000 is
# unmapped once its stacks are free, so each registration (but Valgrind's
# own of the main stack, number 0) must have been withdrawn.
@test "Valgrind: the stacks of an unmapped slab are deregistered" {
	command -v valgrind >/dev/null || skip "valgrind not installed"
	run --separate-stderr valgrind -q -d -d --error-exitcode=9 \
		"$CORO_TESTS/t_burst" 1000 0
	[ "$status" -eq 0 ] || { echo "$stderr" | grep -v -- '^--' >&2; return 1; }
	local reg dereg
	reg=$(grep -c 'register .* as stack [1-9]' <<<"$stderr" || true)
	dereg=$(grep -c 'deregister stack ' <<<"$stderr" || true)
	echo "registered $reg, deregistered $dereg"
	[ "$reg" -ge 1000 ]
	[ "$dereg" -eq "$reg" ]
}

# make -C coro bench's reference for the yield cost: the same kp_loop.h
# workload on Boost.Context fcontexts.  It must count exactly (its result
# is checked as coro_bench's is), time every latency_sample-th wait, and
# refuse what it does not measure.
@test "boost_yield, the Boost.Context reference of make bench, counts exactly and refuses other modes" {
	[ -e /usr/include/boost/context/detail/fcontext.hpp ] ||
		skip "libboost-context-dev not installed"
	coro_build -C bench boost_yield
	local b="$CORO/bench/boost_yield" a=(--thread-count 5 --work-mode yield
		--work-target 1000 --yield-interval 3 --json)
	coro_run_test "$b" "${a[@]}" --latency-sample 1
	[[ "$output" == *'"counter": 5000,'*'"waits": 1665,'* ]]
	[[ "$output" == *'"samples": 1665'* ]]
	coro_run_test "$b" "${a[@]}" --latency-sample 0 --sync-mode mutex
	[[ "$output" == *'"counter": 5000,'*'"waits": 1665,'* ]]
	run "$b" --work-mode sleep
	[ "$status" -eq 2 ]
	[[ "$output" == *"--work-mode: only yield"* ]]
}

@test "set_concurrency 1 -> 2 -> 4 -> 1 under a yield workload, from a plain thread and from a coroutine: counts exact, never more running than the value in force (activations off and monitor)" {
	local a
	for a in off monitor; do
		coro_run_test "$CORO_TESTS/t_concurrency" 30 $a
		assert_line --partial "ok set_concurrency outside a run: EINVAL for -1 and 100000"
		assert_line --regexp "^ok set_concurrency 1->2->4->1 x 30 from a plain thread \\(activations $a\\): [0-9]+ yields, counts exact"
		assert_line --regexp "^ok set_concurrency 1->2->4->1 x 30 from a coroutine \\(activations $a\\): [0-9]+ yields, counts exact"
	done
}

@test "per-coroutine signal masks: the four Solaris delivery cases on 1 and 2 workers (case 2 also to a coroutine that never ran), pending until an unmask and then once, a real-time signal n times" {
	coro_run_test "$CORO_TESTS/t_signal" 1
	assert_line "ok case 1 on 1 worker(s): delivered in the running coroutine"
	assert_line "ok case 2 on 1 worker(s): delivered in the runnable coroutine of the same worker at the yield"
	assert_line "ok case 4 on 1 worker(s), 100 rounds: pending while all mask it, delivered once at the unmask"
	assert_line "ok real-time signal raised 50 times delivered 50 times in every case"
	# Routed to a coroutine queued before it ever ran (bench_signal's
	# case 3 hung on it in a guest).
	coro_run_test "$CORO_TESTS/t_signal" 1 fresh
	assert_line "ok case 2 to a coroutine that had never run: delivered at its first run, before its body"
	coro_run_test "$CORO_TESTS/t_signal" 2
	assert_line "ok case 1 on 2 worker(s): delivered in the running coroutine"
	assert_line "ok case 2 on 2 worker(s): delivered in the runnable coroutine of the same worker at the yield"
	assert_line "ok case 3 on 2 workers: delivered in the coroutine running on the other worker"
	assert_line "ok case 4 on 2 worker(s), 100 rounds: pending while all mask it, delivered once at the unmask"
	assert_line "ok real-time signal raised 50 times delivered 50 times in every case"
	# The monitor's thread takes no signal: case 4 stays pending.
	CORO_ACTIVATIONS=monitor coro_run_test "$CORO_TESTS/t_signal" 2
	assert_line "ok case 4 on 2 worker(s), 100 rounds: pending while all mask it, delivered once at the unmask"
	# A spare OS thread the monitor hands the worker to takes signals too.
	CORO_ACTIVATIONS=monitor coro_run_test "$CORO_TESTS/t_signal" 1 handoff
	assert_line "ok after a hand-off to another OS thread: delivered in the running coroutine, a real-time signal 50 times"
}

@test "priorities: highest first on one worker; the Solaris notes' T1 < T2 < T3 scenario on two workers, T3 preempting T1 while it spins (also from system calls, with retries faster than the handler); equal priorities never preempted; a thief takes the highest (activations off and monitor)" {
	local a
	for a in off monitor; do
		CORO_ACTIVATIONS=$a coro_run_test "$CORO_TESTS/t_prio" all
		assert_line "ok order: highest priority first, FIFO within one, a yield to equal or higher only"
		assert_line "ok order: a new coroutine has its creator's priority; lowering oneself yields to a higher one queued"
		assert_line --regexp "^ok preempt: T3 \\(3\\) ran on T1's worker [01] while T1 \\(0\\) spun; T2 \\(1\\) on worker [01]$"
		assert_line --regexp "^ok same priority: T3 \\(1\\) did not preempt T1 \\(1\\) spinning on worker [01]$"
		assert_line "ok steal: the thief ran the highest priority first"
	done
	# Waiting for a scheduling point instead (what TSan builds do).
	coro_run_test "$CORO_TESTS/t_prio" preempt checkpoint
	assert_line --partial "ok preempt at a checkpoint: T3 (3) ran on T1's worker"
	# Retries that fire inside the handler arming them (a TCG guest's
	# slow timer_settime(), made here by a 1 ns delay): no recursion.
	coro_run_test "$CORO_TESTS/t_prio" preempt unsafe
	assert_line --partial "ok preempt from system calls, retried every 1 ns: T3 (3) ran on T1's worker"
	run "$CORO_TESTS/t_prio" bogus
	assert_equal "$status" 2
}
