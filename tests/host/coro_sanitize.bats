#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# The coro suite again under the sanitizers (`make -C coro sanitize`):
# everything under ASan+UBSan, which the library tells about every stack
# switch; the many-to-many parts under TSan, which it tells through the
# fiber API.  A report fails the run (halt_on_error).

load coro_helpers

ASAN="$KP_REPO/build/asan"
TSAN="$KP_REPO/build/tsan"

setup_file() {
	coro_build sanitize
}

@test "ASan+UBSan: context switch, create/join/detach and synchronisation" {
	coro_run_test "$ASAN/coro/tests/t_switch"
	coro_run_test "$ASAN/coro/tests/t_basic" 1
	coro_run_test "$ASAN/coro/tests/t_basic" 2
	coro_run_test "$ASAN/coro/tests/t_sync" 1
	coro_run_test "$ASAN/coro/tests/t_sync" 2
	coro_run_test "$ASAN/coro/tests/t_barrier" 1
	coro_run_test "$ASAN/coro/tests/t_barrier" 2
	coro_run_test "$ASAN/coro/tests/t_inbox" 1
}

@test "ASan+UBSan: blocking hand-off on 1 and 2 workers" {
	coro_run_test "$ASAN/coro/tests/t_blocking" 1
	coro_run_test "$ASAN/coro/tests/t_blocking" 2
	coro_run_test "$ASAN/coro/tests/t_concurrency" 10
	coro_run_test "$ASAN/coro/tests/t_signal" 1
	coro_run_test "$ASAN/coro/tests/t_signal" 2
	coro_run_test "$ASAN/coro/tests/t_signal" 1 fresh
}

@test "ASan+UBSan: coro_uring_read on 1 and 2 workers, and its fallback" {
	coro_run_test "$ASAN/coro/tests/t_uring" 1
	coro_run_test "$ASAN/coro/tests/t_uring" 2
	assert_line "ok idle in the ring on 2 workers: timer, eventfd wake-up, completion"
	CORO_URING=off coro_run_test "$ASAN/coro/tests/t_uring" 1 4 50
	assert_line "ok exact 4 readers x 50 reads on 1 workers, the ticker moving while each read was in flight"
}

@test "ASan+UBSan: priorities, and preemption from the signal handler on the coroutine's stack" {
	coro_run_test "$ASAN/coro/tests/t_prio" all
	assert_line --partial "ok preempt: T3 (3) ran on T1's worker"
	coro_run_test "$ASAN/coro/tests/t_prio" preempt unsafe
	assert_line --partial "ok preempt from system calls, retried every 1 ns: T3 (3) ran on T1's worker"
}

@test "ASan+UBSan: activations (the monitor) on 1 and 2 workers, t_activations and coro_bench block" {
	local w
	for w in 1 2; do
		CORO_ACTIVATIONS=monitor coro_run_test "$ASAN/coro/tests/t_activations" $w 200
		CORO_ACTIVATIONS=monitor kp_json "$ASAN/coro_bench" --workers $w \
			--thread-count 8 --work-mode block --yield-interval 100 \
			--work-target 2000
		kp_check_counts 8 2000 100 block $w
	done
}

@test "ASan+UBSan: the listener without the module (late events of ended registrations), and no OS thread to be had" {
	local t m
	for t in cookies stale seq nothread offcpu proc; do
		coro_run_test "$ASAN/coro/tests/t_act_unit" $t
	done
	coro_run_test "$ASAN/coro/tests/t_fakedev" preempt
	# Before the cookies were slots: heap-use-after-free in the listener.
	coro_run_test "$ASAN/coro/tests/t_fakedev" late
	coro_run_test "$ASAN/coro/tests/t_fakedev" watcher 50
	assert_line "ok the watcher ran each worker it took, 50 times"
	coro_run_test "$ASAN/coro/tests/t_fakedev" reblock
	assert_line "ok a block read while another reader's claim stood took the worker"
	coro_run_test "$ASAN/coro/tests/t_fakedev" gone
	assert_line "ok the device gone, a monitor thread takes the blocked worker"
	for m in "take 1" "take 2" "start 2"; do
		CORO_ACTIVATIONS=monitor coro_run_test "$ASAN/coro/tests/t_nproc" $m
	done
}

@test "ASan+UBSan: 30000 live coroutines past the guard budget" {
	CORO_MAX_GUARDS=1000 coro_run_test "$ASAN/coro/tests/t_million" 30000 16384
}

@test "ASan+UBSan: guard page and canary overflows are still named" {
	run --separate-stderr "$ASAN/coro/tests/t_overflow" guard
	[ "$status" -eq 134 ]
	[[ "$stderr" == *"<overflow_entry>): guard page hit"* ]]
	assert_line "neighbours untouched at the report"
	CORO_GUARD=canary run --separate-stderr "$ASAN/coro/tests/t_overflow" canary 2
	[ "$status" -eq 134 ]
	[[ "$stderr" == *"<overflow_entry>): canary overwritten"* ]]
	assert_line "neighbours untouched at the report"
}

@test "ASan+UBSan: coro_bench counts exactly in every mode on 1 and 2 workers" {
	kp_matrix "1 2" "$ASAN/coro_bench" 4 4100 1000 20 \
		normal yield sleep pingpong barrier spawn
}

# One worker too: its run queue is lock-free for its own thread, and
# other threads push onto its inbox (t_inbox, t_barrier's plain thread).
@test "TSan: create/join/detach and synchronisation on 1, 2 and 3 workers" {
	coro_run_test "$TSAN/coro/tests/t_inbox" 1 40
	coro_run_test "$TSAN/coro/tests/t_barrier" 1
	coro_run_test "$TSAN/coro/tests/t_basic" 2
	coro_run_test "$TSAN/coro/tests/t_sync" 2
	coro_run_test "$TSAN/coro/tests/t_sync" 3
	coro_run_test "$TSAN/coro/tests/t_barrier" 2
	coro_run_test "$TSAN/coro/tests/t_barrier" 3
}

# The run queues of several workers: locked for thieves, or biased to
# their owner, who then yields without the lock (coro/src/bias.h).  Under
# TSan the bias is kept with seq_cst atomics in place of membarrier().
@test "TSan: run queues under yields, steals, create/join and sleepers on 2 and 3 workers, exact counts" {
	coro_run_test "$TSAN/coro/tests/t_runq" 2 10
	coro_run_test "$TSAN/coro/tests/t_runq" 3 5
	coro_run_test env CORO_ACTIVATIONS=off "$TSAN/coro/tests/t_runq" 2 10
}

@test "ASan+UBSan: run queues on 2 workers, exact counts" {
	coro_run_test "$ASAN/coro/tests/t_runq" 2 10
}

@test "TSan: set_concurrency 1 -> 2 -> 4 -> 1 while yielding, from a thread and a coroutine" {
	coro_run_test "$TSAN/coro/tests/t_concurrency" 5
	coro_run_test "$TSAN/coro/tests/t_concurrency" 5 monitor
}

# TSan defers signals and merges those of one number, and does not apply
# a mask set in a deferred handler's context: SIGUSR1 only (t_signal.c).
@test "TSan: signal routing on 1 and 2 workers (SIGUSR1)" {
	coro_run_test "$TSAN/coro/tests/t_signal" 1 sigusr1-only
	coro_run_test "$TSAN/coro/tests/t_signal" 2 sigusr1-only
	assert_line "ok case 3 on 2 workers: delivered in the coroutine running on the other worker"
}

@test "TSan: blocking hand-off on 1 and 2 workers" {
	coro_run_test "$TSAN/coro/tests/t_blocking" 1 100
	coro_run_test "$TSAN/coro/tests/t_blocking" 2 100
}

@test "TSan: coro_uring_read on 1 and 2 workers, and its fallback" {
	coro_run_test "$TSAN/coro/tests/t_uring" 1 4 50
	coro_run_test "$TSAN/coro/tests/t_uring" 2 4 50
	assert_line "ok idle in the ring on 2 workers: timer, eventfd wake-up, completion"
	CORO_URING=off coro_run_test "$TSAN/coro/tests/t_uring" 2 4 20
	assert_line "ok exact 4 readers x 20 reads on 2 workers, the ticker moving while each read was in flight"
	unset CORO_ACTIVATIONS CORO_URING
	kp_json "$TSAN/coro_bench" --workers 2 --thread-count 8 --work-mode block \
		--yield-interval 100 --work-target 2000 --block-call uring
	kp_check_counts 8 2000 100 block 2
	jq -e '.handoffs == 0' <<<"$json" >/dev/null
}

@test "TSan: activations (the monitor) on 2 workers, t_activations and coro_bench block" {
	CORO_ACTIVATIONS=monitor coro_run_test "$TSAN/coro/tests/t_activations" 2 100
	CORO_ACTIVATIONS=monitor kp_json "$TSAN/coro_bench" --workers 2 \
		--thread-count 8 --work-mode block --yield-interval 100 --work-target 2000
	kp_check_counts 8 2000 100 block 2
	# The adaptive mutex asking /proc about the owner's thread.
	CORO_ACTIVATIONS=monitor kp_json "$TSAN/coro_bench" --workers 2 \
		--thread-count 8 --sync-mode mutex --yield-interval 100 --work-target 20000
	kp_check_counts 8 20000 100 normal 2
	jq -e '.mutex.watch == "proc"' <<<"$json" >/dev/null
}

@test "TSan: no OS thread to be had, with the monitor on 2 workers; the listener and the spares on a fake device" {
	coro_run_test "$TSAN/coro/tests/t_fakedev" late
	coro_run_test "$TSAN/coro/tests/t_fakedev" preempt
	coro_run_test "$TSAN/coro/tests/t_fakedev" watcher 50
	assert_line "ok the watcher ran each worker it took, 50 times"
	coro_run_test "$TSAN/coro/tests/t_fakedev" reblock
	assert_line "ok a block read while another reader's claim stood took the worker"
	coro_run_test "$TSAN/coro/tests/t_fakedev" gone
	assert_line "ok the device gone, a monitor thread takes the blocked worker"
	CORO_ACTIVATIONS=monitor coro_run_test "$TSAN/coro/tests/t_nproc" take 2
	CORO_ACTIVATIONS=monitor coro_run_test "$TSAN/coro/tests/t_nproc" start 2
}

@test "TSan: coro_bench counts exactly in every mode on 2 workers" {
	kp_matrix 2 "$TSAN/coro_bench" 4 4100 1000 20 \
		normal yield sleep pingpong barrier spawn
}

# TSan defers a signal to its next interceptor and hands the handler a
# copy of the context: no switch from the handler, so T1's spin calls
# coro_checkpoint(), where the preemption waits (src/preempt.c).
# Activations off: TSan's runtime can put a thread to sleep in the kernel
# inside coroutine code, the monitor then hands its worker to a spare, and
# T1 may start on T2's worker while T2 spins (seen once in 8 runs; the
# plain build runs the scenario with the monitor in coro.bats).
@test "TSan: priorities, and preemption at a scheduling point" {
	export CORO_ACTIVATIONS=off
	coro_run_test "$TSAN/coro/tests/t_prio" order
	coro_run_test "$TSAN/coro/tests/t_prio" preempt checkpoint
	assert_line --partial "ok preempt at a checkpoint: T3 (3) ran on T1's worker"
	coro_run_test "$TSAN/coro/tests/t_prio" same
	coro_run_test "$TSAN/coro/tests/t_prio" steal
}
