#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# kthread_perf.ko refuses what SPEC.md section 3 refuses, with the right
# errno, and changes nothing when it does; a failure to create a worker
# leaves state "failed", the errno, one log line and no thread behind.

load ../lib/common

setup_file() { kp_setup_file; }
teardown_file() { kp_teardown_file; }
setup() { kp_load; }
teardown() { kp_unload; }

# rejects FILE VALUE...: each VALUE fails with EINVAL and changes nothing.
rejects() {
	local file="$1" before v
	shift
	kp_snapshot
	before=$KP_SNAPSHOT
	for v in "$@"; do
		kp_assert_write_fails "$file" "$v" "Invalid argument"
		kp_snapshot
		assert_equal "$KP_SNAPSHOT" "$before"
	done
}

# A long run to write against: sleeping workers that barely use the CPU.
start_long_run() {
	kp_config 2 sleep atomic 1000000000 1 10000
	kp_set start 1
	assert_equal "$(kp_get state)" running
}

@test "thread_count rejects 0, max_threads+1 and malformed numbers with EINVAL" {
	rejects thread_count 0 1025 -1 abc "" " 4" 4x 4.5 0x4 "4 4" \
		99999999999999999999999 $'4\n'
}

@test "work_target, yield_interval, sleep_us and latency_sample reject values out of range with EINVAL" {
	rejects work_target 0 1000000000001 -5 foo 1e6 18446744073709551616
	rejects yield_interval 0 1000000000001 -1 bar
	rejects sleep_us 1000001 -1 x
	rejects latency_sample 1000001 -1 x "" 4294967296 1e3
}

@test "bind_cpu_count rejects more than the online CPUs with EINVAL" {
	n=${#KP_CPUS[@]}
	rejects bind_cpu_count $((n + 1)) -1 x
	kp_set bind_cpu_count "$n"
	assert_equal "$(kp_get bind_cpu_count)" "$n"
}

@test "work_mode and sync_mode reject unknown modes with EINVAL" {
	rejects work_mode fast "" Normal "normal yield" "[normal]" " normal"
	rejects sync_mode rcu "" ATOMIC "atomic mutex"
}

@test "start and stop reject anything but 1 with EINVAL and start nothing" {
	rejects start 0 2 yes "" -1
	rejects stop 0 2 no ""
	assert_equal "$(kp_get state)" idle
	assert_equal "$(kp_get run_id)" 0
}

@test "start in pingpong mode with an odd thread_count fails with EINVAL" {
	kp_config 3 pingpong atomic 1000 100
	kp_assert_write_fails start 1 "Invalid argument"
	assert_equal "$(kp_get state)" idle
	assert_equal "$(kp_get run_id)" 0
	kp_thread_dirs
	assert_equal "${#KP_THREAD_DIRS[@]}" 0
}

@test "read-only files refuse writes" {
	for f in state run_id max_threads "${KP_RESULT_FILES[@]}"; do
		kp_assert_write_fails "$f" 1 "Permission denied"
	done
}

@test "every configuration write and start during a run fail with EBUSY and change nothing" {
	start_long_run
	kp_snapshot
	before=$KP_SNAPSHOT
	kp_assert_write_fails thread_count 2 "Device or resource busy"
	kp_assert_write_fails work_mode yield "Device or resource busy"
	kp_assert_write_fails sync_mode mutex "Device or resource busy"
	kp_assert_write_fails work_target 100 "Device or resource busy"
	kp_assert_write_fails yield_interval 100 "Device or resource busy"
	kp_assert_write_fails sleep_us 0 "Device or resource busy"
	kp_assert_write_fails bind_cpu_count 1 "Device or resource busy"
	kp_assert_write_fails latency_sample 0 "Device or resource busy"
	kp_assert_write_fails start 1 "Device or resource busy"
	# A malformed value is still EINVAL.
	kp_assert_write_fails thread_count 0 "Invalid argument"
	kp_snapshot
	assert_equal "$KP_SNAPSHOT" "$before"
	kp_set stop 1
}

@test "stop is a no-op when idle and after a finished run" {
	kp_set stop 1
	assert_equal "$(kp_get state)" idle
	assert_equal "$(kp_get run_id)" 0
	kp_run 2 normal atomic 1000 1000
	kp_set stop 1
	assert_equal "$(kp_get state)" done
	assert_equal "$(kp_get total_ops)" 2000
}

@test "a failure to create worker 2 fails start with ENOMEM and leaves state failed" {
	echo 2 >"$KP_PARAMS/inject_fail_worker"
	kp_config 4 normal atomic 100000000 1000
	before="$(kp_count_kthreads kp_)"
	kp_assert_write_fails start 1 "Cannot allocate memory"
	assert_equal "$(kp_get state)" failed
	assert_equal "$(kp_get run_id)" 1
	# Workers 0 and 1 were created, then stopped: nothing is left.
	assert_equal "$(kp_count_kthreads kp_)" "$before"
	kp_thread_dirs
	assert_equal "${#KP_THREAD_DIRS[@]}" 0
	run kp_dmesg_since_mark
	# %pe prints the name with CONFIG_SYMBOLIC_ERRNAME (Debian's kernels),
	# the number without (tools/debug-kernel's allnoconfig base).
	assert_output --regexp "kthread_perf: run 1: cannot create worker 2: -(ENOMEM|12)($|[[:space:]])"
	assert_equal "$(kp_dmesg_since_mark | grep -c 'cannot create')" 1
	assert_equal "$(kp_get total_ops)" 0
}

@test "a run after a failure to create worker 0 starts normally" {
	echo 0 >"$KP_PARAMS/inject_fail_worker"
	before="$(kp_count_kthreads kp_)"
	kp_assert_write_fails start 1 "Cannot allocate memory"
	assert_equal "$(kp_get state)" failed
	assert_equal "$(kp_count_kthreads kp_)" "$before"
	echo -1 >"$KP_PARAMS/inject_fail_worker"
	kp_run 4 yield atomic 2000 1000
	assert_equal "$(kp_get run_id)" 2
	kp_check_exact_run 4 2000 1000 yield
}

@test "the kernel log shows no warning, bug, lockup, stall or hung task" {
	kp_assert_dmesg_clean
}
