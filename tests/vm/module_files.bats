#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# The files of kthread_perf.ko (SPEC.md sections 3 and 4): names, modes,
# defaults, formats, and the per-thread directories.

load ../lib/common

setup_file() { kp_setup_file; }
teardown_file() { kp_teardown_file; }
setup() { kp_load; }
teardown() { kp_unload; }

# modes_are MODE FILE...: every FILE has permission bits MODE (e.g. 644).
modes_are() {
	local want="$1" line
	shift
	while read -r line; do
		assert_equal "$line" "${line% *} $want"
	done < <(stat -c '%n %a' "$@")
}

@test "every configuration file is 0644 with its default" {
	declare -A want=(
		[thread_count]=4
		[work_mode]="[normal] yield sleep pingpong barrier spawn block"
		[sync_mode]="[atomic] spinlock mutex percpu"
		[work_target]=1000000
		[yield_interval]=1000
		[sleep_us]=0
		[bind_cpu_count]=0
		[latency_sample]=1
	)
	modes_are 644 "${KP_CONFIG_FILES[@]/#/$KP_SYS/}"
	for f in "${!want[@]}"; do
		assert_equal "$f $(kp_get "$f")" "$f ${want[$f]}"
	done
}

@test "the control, state and result files have their modes and start idle at 0" {
	modes_are 200 "$KP_SYS/start" "$KP_SYS/stop"
	modes_are 444 "$KP_SYS/state" "$KP_SYS/run_id" "$KP_SYS/max_threads" \
		"${KP_RESULT_FILES[@]/#/$KP_SYS/}"
	assert_equal "$(kp_get state)" idle
	assert_equal "$(kp_get run_id)" 0
	assert_equal "$(kp_get max_threads)" 1024
	for f in "${KP_RESULT_FILES[@]}"; do
		assert_equal "$f $(kp_get "$f")" "$f 0"
	done
	assert [ -d "$KP_SYS/threads" ]
	kp_thread_dirs
	assert_equal "${#KP_THREAD_DIRS[@]}" 0
}

@test "every value reads as exactly one newline-terminated line" {
	for f in "${KP_CONFIG_FILES[@]}" state run_id max_threads "${KP_RESULT_FILES[@]}"; do
		IFS= read -r -d '' content <"$KP_SYS/$f" || true
		assert_equal "$f ${content//[^$'\n']/}" "$f "$'\n'
		assert_equal "$f ${content: -1}" "$f "$'\n'
	done
}

@test "max_threads (0444) bounds thread_count and inject_fail_worker (0644) is -1" {
	modes_are 444 "$KP_PARAMS/max_threads"
	modes_are 644 "$KP_PARAMS/inject_fail_worker"
	assert_equal "$(<"$KP_PARAMS/max_threads")" 1024
	assert_equal "$(<"$KP_PARAMS/inject_fail_worker")" -1
	kp_unload
	kp_load max_threads=8
	assert_equal "$(kp_get max_threads)" 8
	kp_set thread_count 8
	kp_assert_write_fails thread_count 9 "Invalid argument"
}

@test "max_threads=0 is refused at load time" {
	kp_unload
	run insmod "$KP_KO" max_threads=0
	assert_failure
	assert [ ! -d "$KP_SYS" ]
}

@test "a choice file brackets the value written to it, newline or not" {
	kp_set work_mode pingpong
	assert_equal "$(kp_get work_mode)" "normal yield sleep [pingpong] barrier spawn block"
	kp_set sync_mode percpu
	assert_equal "$(kp_get sync_mode)" "atomic spinlock mutex [percpu]"
	printf yield >"$KP_SYS/work_mode"
	assert_equal "$(kp_get work_mode)" "normal [yield] sleep pingpong barrier spawn block"
	printf 12 >"$KP_SYS/thread_count"
	assert_equal "$(kp_get thread_count)" 12
}

@test "each configuration file keeps the largest value it accepts" {
	kp_set thread_count 1024
	kp_set work_target 1000000000000
	kp_set yield_interval 1000000000000
	kp_set sleep_us 1000000
	kp_set bind_cpu_count "${#KP_CPUS[@]}"
	kp_set latency_sample 1000000
	assert_equal "$(kp_get latency_sample)" 1000000
	assert_equal "$(kp_get thread_count)" 1024
	assert_equal "$(kp_get work_target)" 1000000000000
	assert_equal "$(kp_get yield_interval)" 1000000000000
	assert_equal "$(kp_get sleep_us)" 1000000
	assert_equal "$(kp_get bind_cpu_count)" "${#KP_CPUS[@]}"
}

@test "each start counts in run_id and replaces threads/<i>/ with every per-thread file" {
	kp_run 3 normal atomic 1000 1000
	assert_equal "$(kp_get run_id)" 1
	kp_thread_dirs
	assert_equal "${KP_THREAD_DIRS[*]}" "0 1 2"
	for i in 0 1 2; do
		modes_are 444 "${KP_THREAD_FILES[@]/#/$KP_SYS/threads/$i/}"
		assert_equal "$(<"$KP_SYS/threads/$i/cpu")" -1
	done
	pid0="$(<"$KP_SYS/threads/0/pid")"
	kp_run 2 normal atomic 1000 1000
	assert_equal "$(kp_get run_id)" 2
	kp_thread_dirs
	assert_equal "${KP_THREAD_DIRS[*]}" "0 1"
	refute [ "$(<"$KP_SYS/threads/0/pid")" = "$pid0" ]
}

@test "latency_hist is 0400 and prints every bucket row and the summary" {
	modes_are 400 "$KP_HIST"
	mapfile -t lines <"$KP_HIST"
	assert_equal "${lines[0]}" "# kthread_perf latency histogram, run_id 0, work_mode normal, unit ns"
	assert_equal "${lines[*]: -8}" "# samples 0 # min_ns 0 # max_ns 0 # mean_ns 0 # p50_ns 0 # p90_ns 0 # p99_ns 0 # p999_ns 0"

	kp_run 2 yield atomic 4000 1000
	mapfile -t lines <"$KP_HIST"
	assert_equal "${lines[0]}" "# kthread_perf latency histogram, run_id 1, work_mode yield, unit ns"
	assert_equal "${lines[1]}" "# lo_ns hi_ns count"
	# 272 rows from 0, each starting where the last ended: one per ns below
	# 8 ns, then 8 per power of two (SPEC.md section 2).
	prev=0
	for ((i = 2; i < 274; i++)); do
		read -r lo hi count <<<"${lines[i]}"
		assert_equal "row $i lo $lo" "row $i lo $prev"
		if ((i < 10)); then
			assert_equal "row $i width $((hi - lo))" "row $i width 1"
		elif (((hi - lo) * 8 > lo)); then
			fail "row $i: [$lo, $hi) is wider than an eighth of $lo"
		fi
		[[ $count =~ ^[0-9]+$ ]] || fail "row $i: '${lines[i]}'"
		prev=$hi
	done
	assert_equal "$prev" $((1 << 36))
	assert_equal "${lines[274]}" "# samples 8"
	for ((i = 275; i < 282; i++)); do
		[[ ${lines[i]} =~ ^"# "(min|max|mean|p50|p90|p99|p999)"_ns "[0-9]+$ ]] ||
			fail "${lines[i]}"
	done
	assert_equal "${#lines[@]}" 282
	kp_hist_read
	assert_equal "$KP_HIST_SUM" 8
	assert [ "$KP_HIST_min_ns" -le "$KP_HIST_mean_ns" ]
	assert [ "$KP_HIST_mean_ns" -le "$KP_HIST_max_ns" ]
	assert [ "$KP_HIST_min_ns" -le "$KP_HIST_p50_ns" ]
	assert [ "$KP_HIST_p50_ns" -le "$KP_HIST_p90_ns" ]
	assert [ "$KP_HIST_p90_ns" -le "$KP_HIST_p99_ns" ]
	assert [ "$KP_HIST_p99_ns" -le "$KP_HIST_p999_ns" ]
	assert [ "$KP_HIST_p999_ns" -le "$KP_HIST_max_ns" ]
}

@test "unloading removes every file" {
	kp_run 2 normal atomic 100 100
	kp_unload
	assert [ ! -e "$KP_SYS" ]
	assert [ ! -e /sys/kernel/debug/kthread_perf ]
	assert [ ! -e /sys/module/kthread_perf ]
}

@test "the kernel log shows no warning, bug, lockup, stall or hung task" {
	kp_assert_dmesg_clean
}
