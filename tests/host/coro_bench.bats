#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# coro_bench on the host: exact counts in every work_mode x sync_mode on
# one worker (many-to-one) and two (many-to-many), rows that are the
# coroutines with the OS thread under them, idle workers sleeping in the
# kernel, binding, and the options it adds to the shared command line.

load coro_helpers

setup_file() {
	coro_build coro_bench
}

@test "every work mode counts exactly and samples every wait in every sync mode on 1 and 2 workers" {
	kp_count_every_mode "1 2" "$CORO_BENCH" normal yield sleep pingpong barrier spawn
}

@test "one-tick sleep (sleep_us 0) counts exactly" {
	kp_json "$CORO_BENCH" --thread-count 2 --work-mode sleep \
		--work-target 3000 --yield-interval 1000
	kp_check_counts 2 3000 1000 sleep 1
}

@test "SIGINT in barrier mode stops every coroutine after the same barrier" {
	local w

	for w in 1 2; do
		kp_sigint_run "$CORO_BENCH" --workers $w --thread-count 8 \
			--work-mode barrier --work-target 1000000000000 --yield-interval 100
		jq -e '.total_ops > 0 and .total_ops == .counter
			and ([.threads[].ops] | unique | length) == 1
			and ([.threads[].waits] | unique | length) == 1
			and .waits == .latency_hist.samples' <<<"$json" >/dev/null
	done
}

@test "pingpong with one wait per operation and an odd work_target counts exactly" {
	kp_json "$CORO_BENCH" --workers 2 --thread-count 6 --work-mode pingpong \
		--work-target 2001 --yield-interval 1
	kp_check_counts 6 2001 1 pingpong 2
}

@test "thousands of coroutines on 3 workers count exactly" {
	kp_json "$CORO_BENCH" --workers 3 --thread-count 5000 --work-mode yield \
		--sync-mode mutex --work-target 2000 --yield-interval 100 \
		--stack-size 16384
	kp_check_counts 5000 2000 100 yield 3
}

@test "rows are the coroutines, with the OS threads of the workers under them" {
	kp_json "$CORO_BENCH" --thread-count 8 --work-mode yield \
		--work-target 20000 --yield-interval 100
	jq -e --argjson pid "$(jq '.threads[0].pid' <<<"$json")" '
		.config.workers == 1 and (.threads | length) == 8
		and ([.threads[].id] == [range(0; 8)])
		and all(.threads[]; .pid == $pid and .last_cpu >= 0
			and .runtime_ns > 0)' <<<"$json" >/dev/null
	kp_json "$CORO_BENCH" --workers 2 --thread-count 8 --work-mode yield \
		--work-target 20000 --yield-interval 100
	jq -e '.config.workers == 2 and ([.threads[].pid] | unique | length) <= 2
		and ([.threads[].pid] | unique | length) >= 1' <<<"$json" >/dev/null
}

@test "the stacks object says how each run's stacks were guarded and what they cost" {
	kp_json "$CORO_BENCH" --thread-count 300 --work-target 100 --stack-size 16384
	jq -e '.stacks.size == 16384 and (.stacks.guard == "madvise" or .stacks.guard == "mprotect")
		and .stacks.guarded >= 300 and .stacks.unguarded == 0
		and .stacks.resident_bytes >= 300 * 4096' <<<"$json" >/dev/null
	CORO_GUARD=canary kp_json "$CORO_BENCH" --thread-count 300 --work-target 100
	jq -e '.stacks.guard == "canary" and .stacks.guarded == 0
		and .stacks.unguarded >= 300' <<<"$json" >/dev/null
	CORO_MAX_GUARDS=100 kp_json "$CORO_BENCH" --thread-count 300 --work-target 100
	jq -e '.stacks.guard == "canary" and .stacks.guarded == 100
		and .stacks.unguarded >= 200' <<<"$json" >/dev/null
}

@test "the JSON has exactly the keys of SPEC.md section 5" {
	kp_json "$CORO_BENCH" --thread-count 2 --work-mode yield --work-target 10000
	kp_check_spec_keys coro stacks activations block_call handoffs taken
	jq -e '.stacks | keys_unsorted == ["size", "guard", "guarded",
		"unguarded", "resident_bytes"]' <<<"$json" >/dev/null
	kp_check_percentiles
}

@test "latency_sample 0, 1 and N time the expected waits on 1 and 2 workers; 0 reads no clock" {
	# The build that counts its clock reads (two per timed wait).
	local bin="$KP_REPO/build/count/coro_bench"
	[ -x "$bin" ] || coro_build "$bin"
	kp_each_latency_sample "$bin" 1 2
	kp_json "$CORO_BENCH" --workers 2 --thread-count 6 --work-mode pingpong \
		--work-target 2001 --yield-interval 1 --latency-sample 7
	kp_check_counts 6 2001 1 pingpong 2 7
	kp_check_percentiles
	run --separate-stderr "$CORO_BENCH" --latency-sample 1000001
	[ "$status" -eq 2 ] && [ -z "$output" ] && [[ "$stderr" == *--latency-sample* ]]
}

@test "a worker with nothing runnable sleeps in the kernel" {
	# 4 coroutines sleeping 20 ms 10 times each: ~200 ms of wall time
	# and almost no CPU.
	kp_json "$CORO_BENCH" --thread-count 4 --work-mode sleep \
		--work-target 10 --yield-interval 1 --sleep-us 20000
	kp_check_counts 4 10 1 sleep 1
	jq -e '.elapsed_ns >= 200000000 and
		(.user_ns + .sys_ns) < .elapsed_ns / 4' <<<"$json" >/dev/null
}

# on_worker_cpus: every coroutine of $json ran on the CPU of its worker, one
# of those in KP_WORKER_CPUS_JSON (coroutines move between workers).
on_worker_cpus() {
	jq -e --argjson cpus "$KP_WORKER_CPUS_JSON" \
		'all(.threads[]; .cpu == .last_cpu and (.cpu | IN($cpus[])))' \
		<<<"$json" >/dev/null
}

@test "bind-cpu-count 1 keeps every worker on the first online CPU" {
	kp_json "$CORO_BENCH" --workers 2 --thread-count 4 --work-mode yield \
		--work-target 20000 --bind-cpu-count 1
	kp_worker_cpus 1 2
	on_worker_cpus
}

@test "under taskset, bind-cpu-count counts within the allowed CPUs, runs there and says so" {
	local last="${KP_CPUS[${#KP_CPUS[@]} - 1]}"

	[ ${#KP_CPUS[@]} -ge 2 ] || skip "needs two online CPUs"
	command -v taskset >/dev/null || skip "no taskset"
	# The mask excludes the first online CPU: the first allowed one is the
	# last online CPU, and only one may be bound to (issue 23).
	json="$(taskset -c "$last" "$CORO_BENCH" --bind-cpu-count 1 --json \
		--workers 2 --thread-count 4 --work-target 20000 --work-mode yield)"
	jq -e --argjson c "$last" '
		.bind_set == {"name": "allowed", "cpus": [$c]}
		and all(.threads[]; .cpu == $c and .last_cpu == $c)' \
		<<<"$json" >/dev/null
	run taskset -c "$last" "$CORO_BENCH" --bind-cpu-count 2 --workers 2
	assert_failure 2
	assert_output --partial "--bind-cpu-count"
	# Unconfined, the set is every online CPU.
	kp_json "$CORO_BENCH" --bind-cpu-count 1 --work-target 1000
	jq -e --argjson cpus "$(IFS=,; echo "[${KP_CPUS[*]}]")" \
		'.bind_set == {"name": "allowed", "cpus": $cpus}' <<<"$json" >/dev/null
}

@test "libcoro refuses a worker's CPU outside the caller's affinity mask and runs nothing" {
	coro_run_test "$CORO_TESTS/t_bind"
	assert_output --partial "ok a worker bound to the allowed CPU"
	assert_output --partial "is refused, nothing ran"
}

@test "--help names --workers and --stack-size besides the common options" {
	run --separate-stderr "$CORO_BENCH" --help
	assert_success
	for opt in --thread-count --work-mode --sync-mode --work-target \
		--yield-interval --sleep-us --bind-cpu-count --json --workers \
		--stack-size; do
		assert_output --partial -- "$opt"
	done
}

@test "bad --workers and --stack-size exit 2 naming the option" {
	local opt v
	for opt in --workers --stack-size; do
		for v in 0 abc -1 ""; do
			run --separate-stderr "$CORO_BENCH" "$opt" "$v"
			[ "$status" -eq 2 ] && [ -z "$output" ] && [[ "$stderr" == *"$opt"* ]]
		done
	done
	run --separate-stderr "$CORO_BENCH" --workers 1025
	[ "$status" -eq 2 ]
	run --separate-stderr "$CORO_BENCH" --stack-size 4096
	[ "$status" -eq 2 ]
}

@test "SIGINT stops a pingpong run early and still reports it" {
	kp_sigint_run "$CORO_BENCH" --workers 2 --thread-count 4 --work-mode pingpong \
		--work-target 1000000000000 --yield-interval 100
	jq -e '.total_ops > 0 and .total_ops == .counter' <<<"$json" >/dev/null
}

@test "block mode counts exactly with CORO_ACTIVATIONS=monitor (plain read()s) on 1 and 2 workers, and says so" {
	local w
	for w in 1 2; do
		CORO_ACTIVATIONS=monitor kp_json "$CORO_BENCH" --workers $w \
			--thread-count 64 --work-mode block --yield-interval 100 \
			--work-target 10000
		kp_check_counts 64 10000 100 block $w
		jq -e '.activations == "monitor"' <<<"$json" >/dev/null
	done
	CORO_ACTIVATIONS=monitor kp_matrix "1 2" "$CORO_BENCH" 4 2000 100 0 block
}

@test "--block-call uring and wrapper count exactly on 1 and 2 workers without activations; uring hands no worker over, the wrapper one per read" {
	local w c
	unset CORO_ACTIVATIONS CORO_URING
	for c in uring wrapper; do
		for w in 1 2; do
			kp_json "$CORO_BENCH" \
				--workers $w --thread-count 64 --work-mode block \
				--yield-interval 100 --work-target 10000 --block-call $c
			kp_check_counts 64 10000 100 block $w
			jq -e --arg c $c '.block_call == $c and .activations == "off" and .taken == 0' \
				<<<"$json" >/dev/null
			if [ $c = uring ]; then
				jq -e '.handoffs == 0' <<<"$json" >/dev/null
			else
				jq -e '.handoffs == .waits' <<<"$json" >/dev/null
			fi
			assert_equal "$stderr" ""
		done
	done
	# The default is the plain read().
	CORO_ACTIVATIONS=monitor kp_json "$CORO_BENCH" --workers 2 --thread-count 4 \
		--work-mode block --yield-interval 100 --work-target 1000
	jq -e '.block_call == "read" and .activations == "monitor"' <<<"$json" >/dev/null
}

@test "--block-call uring without a ring (CORO_URING=off) falls back to the wrapper, said once, counts exact" {
	CORO_URING=off kp_json "$CORO_BENCH" --workers 2 --thread-count 8 \
		--work-mode block --yield-interval 10 --work-target 1000 --block-call uring
	kp_check_counts 8 1000 10 block 2
	jq -e '.block_call == "uring" and .handoffs == .waits' <<<"$json" >/dev/null
	assert_equal "$(grep -c '^libcoro: io_uring unavailable (CORO_URING=off)' <<<"$stderr")" 1
}

@test "--block-call: a bad or missing value exits 2 with one line naming it; --help lists it" {
	local v
	for v in "--block-call bogus" "--block-call=" "--block-call"; do
		# shellcheck disable=SC2086
		run --separate-stderr "$CORO_BENCH" --work-mode block $v
		assert_equal "$status" 2
		assert_equal "${#stderr_lines[@]}" 1
		[[ $stderr == *"--block-call"* ]] || fail "unexpected message: $stderr"
	done
	run "$CORO_BENCH" --help
	assert_success
	assert_output --partial "--block-call read|wrapper|uring"
}

@test "without the module, auto means the monitor; coro_bench asks for activations only in block mode" {
	CORO_ACTIVATIONS= kp_json "$CORO_BENCH" --workers 2 --thread-count 4 \
		--work-mode block --work-target 1000 --yield-interval 100
	jq -e '.activations == "monitor"' <<<"$json" >/dev/null
	# A workload that never blocks in the kernel runs without them, unless
	# asked for.
	env -u CORO_ACTIVATIONS "$CORO_BENCH" --json --thread-count 2 --work-target 10 |
		jq -e '.activations == "off"' >/dev/null
	CORO_ACTIVATIONS=auto "$CORO_BENCH" --json --thread-count 2 --work-target 10 |
		jq -e '.activations == "monitor"' >/dev/null
}

@test "CORO_ACTIVATIONS=off: block mode is refused up front with exit 2 naming --work-mode, never a hang" {
	local n
	for n in 1 2; do
		CORO_ACTIVATIONS=off run --separate-stderr timeout 20 "$CORO_BENCH" \
			--workers "$n" --thread-count 2 --work-mode block --work-target 100
		assert_equal "$status" 2
		[[ $stderr == "coro_bench: --work-mode: block needs scheduler activations"* ]] ||
			fail "unexpected message: $stderr"
	done
	CORO_ACTIVATIONS=off kp_json "$CORO_BENCH" --workers 2 --thread-count 4 \
		--work-mode yield --work-target 1000
	jq -e '.activations == "off"' <<<"$json" >/dev/null
}

@test "a bad CORO_ACTIVATIONS exits 2 naming it; module without the device exits 1 naming the device" {
	CORO_ACTIVATIONS=sometimes run --separate-stderr "$CORO_BENCH" --thread-count 2
	assert_equal "$status" 2
	[[ $stderr == "coro_bench: CORO_ACTIVATIONS: 'sometimes' is not one of auto, module, monitor, off"* ]] ||
		fail "unexpected message: $stderr"
	[ -e /dev/kthread_perf ] && skip "the module is loaded here"
	CORO_ACTIVATIONS=module run --separate-stderr "$CORO_BENCH" --thread-count 2
	assert_equal "$status" 1
	[[ $stderr == *"cannot open /dev/kthread_perf"* ]] || fail "unexpected message: $stderr"
}

@test "mutex mode reports the adaptive mutex (how it watches the owner, its spins); CORO_MUTEX_WATCH is auto or off, anything else exits 2" {
	run --separate-stderr env CORO_MUTEX_WATCH=off "$CORO_BENCH" --json \
		--sync-mode mutex --workers 2 --thread-count 4 --work-target 1000
	assert_success
	jq -e '.mutex.watch == "none" and .counter == 4000
		and .mutex.spin_acquired <= .mutex.spins
		and .mutex.spins <= .mutex.contended' <<<"$output"
	run --separate-stderr env CORO_MUTEX_WATCH=auto CORO_ACTIVATIONS=monitor \
		"$CORO_BENCH" --json --sync-mode mutex --workers 2 \
		--thread-count 4 --work-target 1000
	assert_success
	jq -e '.mutex.watch == "proc" and .activations == "monitor"' <<<"$output"
	run --separate-stderr env CORO_MUTEX_WATCH=sometimes "$CORO_BENCH" \
		--sync-mode mutex --workers 2 --work-target 1000
	assert_failure 2
	[[ $stderr == *CORO_MUTEX_WATCH* ]]
	# Only mutex mode has the member (SPEC.md section 5's keys otherwise).
	run --separate-stderr "$CORO_BENCH" --json --workers 2 --work-target 1000
	assert_success
	jq -e 'has("mutex") | not' <<<"$output"
}

@test "--set-concurrency-at changes the workers during the run: counts stay exact, the stderr timeline has a row per stretch; bad lists are usage errors" {
	kp_json "$CORO_BENCH" --workers 1 --thread-count 8 --work-mode yield \
		--work-target 100000 --yield-interval 1 \
		--set-concurrency-at 100000:2,200000:4,300000:1,400000:0
	kp_check_counts 8 100000 1 yield 1
	grep -q '^coro_bench: concurrency timeline (4 of 4 changes made)$' <<<"$stderr"
	# One row for the start and one per change, with its worker count.
	[ "$(grep -cE '^ +[0-9.]+ +[0-9]+ +[0-9]+ +[0-9.]+ +[0-9]+$' <<<"$stderr")" -eq 5 ]
	[ "$(grep -E '^ +[0-9.]+ +[0-9]+ ' <<<"$stderr" | awk '{print $2}' | head -4 | tr '\n' ' ')" = "1 2 4 1 " ]
	local bad
	for bad in "" "5" "5:x" "5:-1" "5:2000" "10:2,5:1" "-5:2"; do
		run --separate-stderr "$CORO_BENCH" --set-concurrency-at "$bad"
		assert_failure 2
		assert_equal "$output" ""
		grep -q -- '--set-concurrency-at' <<<"$stderr"
	done
}
