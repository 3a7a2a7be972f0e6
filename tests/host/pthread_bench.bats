#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# pthread_bench on the host: the workload's invariants (SPEC.md section 2) in
# every work_mode x sync_mode, binding, the JSON of section 5, the command
# line's errors, and the same matrix under ASan+UBSan and TSan.

bats_require_minimum_version 1.5.0

load ../lib/common

setup_file() {
	REPO="$KP_REPO"
	export REPO
	export BENCH="$REPO/userspace/pthread_bench"
	[ -x "$BENCH" ] || make -C "$REPO/userspace" >&2
}

@test "every work mode counts exactly and samples every wait in every sync mode" {
	kp_count_every_mode 0 "$BENCH" normal yield sleep pingpong block barrier spawn
}

@test "one-tick sleep (sleep_us 0) counts exactly" {
	kp_json "$BENCH" --thread-count 2 --work-mode sleep --work-target 5000 \
		--yield-interval 1000
	kp_check_counts 2 5000 1000 sleep
}

@test "SIGINT in barrier mode stops every thread after the same barrier" {
	kp_sigint_run "$BENCH" --thread-count 8 --work-mode barrier \
		--work-target 1000000000000 --yield-interval 100
	jq -e '.total_ops > 0 and .total_ops == .counter
		and ([.threads[].ops] | unique | length) == 1
		and ([.threads[].waits] | unique | length) == 1
		and .waits == .latency_hist.samples' <<<"$json" >/dev/null
}

@test "SIGINT stops a block run whose threads sit in read() and still reports it" {
	kp_sigint_run "$BENCH" --thread-count 4 --work-mode block \
		--work-target 1000000000000 --yield-interval 1
	jq -e '.total_ops > 0 and .total_ops == .counter
		and .waits == .latency_hist.samples' <<<"$json" >/dev/null
}

@test "pingpong with one wait per operation and odd work_target counts exactly" {
	kp_json "$BENCH" --thread-count 6 --work-mode pingpong --work-target 2001 \
		--yield-interval 1
	kp_check_counts 6 2001 1 pingpong
}

@test "a yield_interval above work_target means no waits" {
	kp_json "$BENCH" --thread-count 2 --work-mode yield --work-target 999 \
		--yield-interval 1000
	kp_check_counts 2 999 1000 yield
}

@test "bind-cpu-count 1 keeps every thread on the first online CPU" {
	kp_worker_cpus 1 4
	for wm in normal yield sleep pingpong block; do
		kp_json "$BENCH" --thread-count 4 --work-mode "$wm" \
			--work-target 20000 --yield-interval 1000 --sleep-us 100 \
			--bind-cpu-count 1
		jq -e --argjson want "$KP_WORKER_CPUS_JSON" \
			'.config.bind_cpu_count == 1 and [.threads[].cpu] == $want
			 and [.threads[].last_cpu] == $want' <<<"$json" >/dev/null
	done
}

@test "bind-cpu-count N binds thread i to the (i mod N)-th online CPU" {
	kp_worker_cpus "${#KP_CPUS[@]}" 5
	kp_json "$BENCH" --thread-count 5 --work-mode yield --work-target 20000 \
		--bind-cpu-count "${#KP_CPUS[@]}"
	jq -e --argjson want "$KP_WORKER_CPUS_JSON" \
		'[.threads[].cpu] == $want and [.threads[].last_cpu] == $want' \
		<<<"$json" >/dev/null
}

@test "under taskset, bind-cpu-count counts within the allowed CPUs, runs there and says so" {
	local last="${KP_CPUS[${#KP_CPUS[@]} - 1]}"

	[ ${#KP_CPUS[@]} -ge 2 ] || skip "needs two online CPUs"
	command -v taskset >/dev/null || skip "no taskset"
	# taskset -c LAST: the first allowed CPU is LAST, not the first online.
	for wm in yield spawn; do
		json="$(taskset -c "$last" "$BENCH" --bind-cpu-count 1 --json \
			--thread-count 2 --work-target 2000 --work-mode "$wm")"
		jq -e --argjson c "$last" '
			.config.bind_cpu_count == 1
			and .bind_set == {"name": "allowed", "cpus": [$c]}
			and all(.threads[]; .cpu == $c and .last_cpu == $c)' \
			<<<"$json" >/dev/null
	done
	run taskset -c "$last" "$BENCH" --bind-cpu-count 2
	assert_failure 2
	assert_output --partial "--bind-cpu-count"
	assert_output --partial "0..1"
	run taskset -c "$last" "$BENCH" --limits
	assert_output --regexp '"bind_cpu_count": \[0, 1\]'
}

@test "unbound threads report cpu -1 and a real last_cpu" {
	kp_json "$BENCH" --thread-count 3 --work-target 1000
	jq -e 'all(.threads[]; .cpu == -1 and .last_cpu >= 0 and .pid > 0)' \
		<<<"$json" >/dev/null
}

@test "every one-tick sleep is a voluntary context switch" {
	kp_json "$BENCH" --thread-count 2 --work-mode sleep --work-target 20000 \
		--yield-interval 1000 --sleep-us 0
	kp_check_counts 2 20000 1000 sleep
	jq -e '.nvcsw >= .waits and all(.threads[]; .nvcsw >= .waits)' \
		<<<"$json" >/dev/null
}

@test "every result says where it came from: system, cmdline, start_time, version" {
	# A program path with a quote and a backslash: the JSON must escape it.
	local odd="$BATS_TEST_TMPDIR/pthread \"q\" b\\s"
	ln -s "$BENCH" "$odd"
	kp_json "$odd" --thread-count 1 --work-target 1000
	jq -e --arg k "$(uname -r)" --arg m "$(uname -m)" --arg h "$(uname -n)" \
		--arg odd "$odd" --argjson n "$(getconf _NPROCESSORS_ONLN)" '
		(.system | keys_unsorted == ["kernel", "machine", "cpu_model",
			"online_cpus", "accel", "hostname", "preempt"])
		and .system.kernel == $k and .system.machine == $m
		and .system.hostname == $h and .system.online_cpus == $n
		and (.system.cpu_model | type == "string" and length > 0)
		and (.system.accel | IN("none", "kvm", "tcg"))
		and (.system.preempt | IN("none", "PREEMPT", "PREEMPT_DYNAMIC", "PREEMPT_RT"))
		and .cmdline == [$odd, "--json", "--thread-count", "1", "--work-target", "1000"]
		and (.start_time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"))
		and (.version | type == "string" and length > 0)' <<<"$json" >/dev/null
}

@test "the JSON has exactly the keys of SPEC.md section 5" {
	kp_json "$BENCH" --thread-count 2 --work-mode yield --work-target 10000
	kp_check_spec_keys pthread
	jq -e --arg k "$(uname -r)" '
		.kernel == $k
		and ([.threads[].id] == [range(0; .config.thread_count)])
		and .throughput > 0
		and .cputime_ns == ([.threads[].cputime_ns] | add)
		and .nvcsw == ([.threads[].nvcsw] | add)
		and .nivcsw == ([.threads[].nivcsw] | add)
		and (.elapsed_ns as $e |
			all(.threads[]; .runtime_ns > 0 and .runtime_ns <= $e))
		and .latency_hist.min_ns <= .latency_hist.mean_ns
		and .latency_hist.mean_ns <= .latency_hist.max_ns' \
		<<<"$json" >/dev/null
	kp_check_percentiles
}

@test "histogram buckets are the log-linear ranges of SPEC.md section 2" {
	kp_json "$BENCH" --thread-count 2 --work-mode yield --work-target 10000
	# A fixed count of contiguous rows from 0: one per ns below 8, then 8
	# per power of two, each at most an eighth of its lower bound wide.
	jq -e '.latency_hist.buckets as $b | ($b | length) == 272
		and $b[0].lo_ns == 0 and $b[-1].hi_ns == pow(2; 36)
		and all(range(1; $b | length); $b[.].lo_ns == $b[. - 1].hi_ns)
		and all(range(0; 8); $b[.].hi_ns - $b[.].lo_ns == 1)
		and all(range(8; $b | length); ($b[.].hi_ns - $b[.].lo_ns) * 8 <= $b[.].lo_ns)
		and $b[8].lo_ns == 8 and $b[16].lo_ns == 16 and $b[24].lo_ns == 32' \
		<<<"$json" >/dev/null
	# Every sample lies in its bucket: min is in the first non-empty one,
	# max in the last.
	jq -e '.latency_hist as $h | [$h.buckets[] | select(.count > 0)] |
		(.[0].lo_ns <= $h.min_ns and $h.min_ns < .[0].hi_ns)
		and (.[-1].lo_ns <= $h.max_ns and $h.max_ns < .[-1].hi_ns)' \
		<<<"$json" >/dev/null
}

@test "the human-readable summary shows totals, threads and the histogram" {
	run --separate-stderr "$BENCH" --thread-count 2 --work-mode yield \
		--work-target 10000
	assert_success
	assert_output --partial "total_ops 20000, counter 20000"
	assert_output --partial "# samples 20"
	assert_output --partial "# p999_ns "
	assert_output --partial "last_cpu"
}

@test "latency_sample 0, 1 and N time the expected waits in every mode; 0 reads no clock" {
	# The build that counts its clock reads: two per timed wait (its start
	# and end, or the partner's hand-over and the end), none untimed.
	local bin="$REPO/build/count/pthread_bench"
	[ -x "$bin" ] || make -C "$REPO/userspace" >&2
	kp_each_latency_sample "$bin" 0
	# The plain build agrees, and sampling keeps the counts exact.
	kp_json "$BENCH" --thread-count 4 --work-mode pingpong --work-target 2001 \
		--yield-interval 1 --latency-sample 7
	kp_check_counts 4 2001 1 pingpong 4 7
	kp_check_percentiles
}

@test "SIGINT stops a run early and still reports it" {
	kp_sigint_run "$BENCH" --thread-count 2 --work-mode pingpong \
		--work-target 1000000000000 --yield-interval 100
	jq -e '.total_ops > 0 and .total_ops < 2000000000000
		and .total_ops == .counter' <<<"$json" >/dev/null
}

@test "--help prints usage and exits 0" {
	run --separate-stderr "$BENCH" --help
	assert_success
	for opt in --thread-count --work-mode --sync-mode --work-target \
		--yield-interval --sleep-us --bind-cpu-count --latency-sample \
		--json --limits --help; do
		assert_output --partial -- "$opt"
	done
}

# bad_usage OPTION ARGS...: exit 2 and one line on stderr naming OPTION,
# nothing on stdout.
bad_usage() {
	local opt="$1"
	shift
	run --separate-stderr "$BENCH" "$@"
	if [ "$status" -ne 2 ] || [ -n "$output" ] ||
	   [ "$(printf '%s\n' "$stderr" | wc -l)" -ne 1 ] ||
	   [[ "$stderr" != *"$opt"* ]]; then
		echo "args: $*; status $status; stderr: $stderr; stdout: $output" >&2
		return 1
	fi
}

@test "unknown options and stray arguments exit 2 naming them" {
	bad_usage --frobnicate --frobnicate
	bad_usage --threads --threads 4
	bad_usage stray stray
	bad_usage --json --json=yes
}

@test "a missing value exits 2 naming the option" {
	for opt in --thread-count --work-mode --sync-mode --work-target \
		--yield-interval --sleep-us --bind-cpu-count --latency-sample; do
		bad_usage "$opt" "$opt"
		bad_usage "$opt" "$opt" --json
	done
}

@test "a non-number exits 2 naming the option" {
	for opt in --thread-count --work-target --yield-interval --sleep-us \
		--bind-cpu-count --latency-sample; do
		for v in abc 4x 0x10 "" 1.5 " 4" +4; do
			bad_usage "$opt" "$opt" "$v"
		done
	done
}

@test "a negative value exits 2 naming the option" {
	for opt in --thread-count --work-target --yield-interval --sleep-us \
		--bind-cpu-count --latency-sample; do
		bad_usage "$opt" "$opt" -1
		bad_usage "$opt" "$opt=-5"
	done
}

@test "out-of-range values exit 2 naming the option" {
	local ncpu=${#KP_CPUS[@]}

	bad_usage --thread-count --thread-count 0
	bad_usage --thread-count --thread-count 1025
	bad_usage --thread-count --thread-count 99999999999999999999999
	bad_usage --work-target --work-target 0
	bad_usage --work-target --work-target 1000000000001
	bad_usage --yield-interval --yield-interval 0
	bad_usage --yield-interval --yield-interval 1000000000001
	bad_usage --sleep-us --sleep-us 1000001
	bad_usage --bind-cpu-count --bind-cpu-count $((ncpu + 1))
	bad_usage --latency-sample --latency-sample 1000001
	bad_usage --latency-sample --latency-sample=18446744073709551616
}

@test "the range limits themselves are accepted" {
	kp_json "$BENCH" --thread-count 1 --work-target 1 --yield-interval 1 \
		--sleep-us 0 --bind-cpu-count 0 --latency-sample 0
	kp_check_counts 1 1 1 normal 1 0
	kp_json "$BENCH" --thread-count 2 --work-mode yield --work-target 3 \
		--yield-interval 1 --latency-sample 1000000
	kp_check_sampling 2 3 1 yield 1000000
	kp_json "$BENCH" --thread-count 1 --work-target 3 --work-mode sleep \
		--sleep-us 1 --yield-interval 1000000000000 \
		--bind-cpu-count "${#KP_CPUS[@]}"
	kp_check_counts 1 3 1000000000000 sleep
}

@test "an unknown mode exits 2 naming the option" {
	bad_usage --work-mode --work-mode fast
	bad_usage --work-mode --work-mode Normal
	bad_usage --sync-mode --sync-mode rwlock
	bad_usage --sync-mode --sync-mode ""
}

@test "pingpong with an odd thread_count exits 2 naming --thread-count" {
	bad_usage --thread-count --thread-count 3 --work-mode pingpong
	bad_usage --thread-count --work-mode pingpong --thread-count 1
	bad_usage --thread-count --work-mode block --thread-count 5
}

@test "ASan+UBSan build counts exactly in every mode" {
	local bin="$REPO/build/asan/pthread_bench"
	[ -x "$bin" ] || make -C "$REPO/userspace" sanitize >&2
	kp_matrix 0 "$bin" 4 20500 1000 20 normal yield sleep pingpong barrier spawn block
}

@test "TSan build counts exactly in every mode without a report" {
	local bin="$REPO/build/tsan/pthread_bench"
	[ -x "$bin" ] || make -C "$REPO/userspace" sanitize >&2
	kp_matrix 0 "$bin" 4 20500 1000 20 normal yield sleep pingpong barrier spawn block
}

@test "sanitizer builds stop with a non-zero status on a report" {
	# A sanitizer report must not scroll past as a warning: the binaries
	# carry halt_on_error, so a clean run above really means no report.
	local v
	for v in asan tsan; do
		run strings "$REPO/build/$v/pthread_bench"
		assert_output --partial "halt_on_error=1"
	done
}
