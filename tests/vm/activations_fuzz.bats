#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# userspace/act_fuzz against /dev/kthread_perf (SPEC.md section 9): several
# processes of many threads call the device in random ways from a fixed
# seed, while a klt run of the module goes on and rmmod (and, from the
# fuzzer, delete_module(2)) is tried again and again.  Every call must
# return only what the ABI documents, unloading must be refused while a
# file is open and succeed after, and the kernel log must stay clean.  Then the same with the module's limits set low: the calls
# beyond them fail with EMFILE, ENFILE, EDQUOT and ENOSPC, and change
# nothing.
#
# make check runs a short seed (KPERF_FUZZ_SEED, default 20261207, and
# KPERF_FUZZ_ITERATIONS, default 1500, bounded by 45 s).  A long run, for
# make check-debug: KPERF_FUZZ_SECONDS=S runs S seconds (iterations
# unbounded unless KPERF_FUZZ_ITERATIONS is given) with a random seed
# unless KPERF_FUZZ_SEED is given; KPERF_FUZZ_BIN chooses the binary (e.g.
# build/asan/act_fuzz), KPERF_FUZZ_PROCS and KPERF_FUZZ_THREADS its shape,
# KPERF_FUZZ_HANG_SECONDS how long a call may take before it counts as a
# hang (default 30; make check-debug gives a slow debug guest 120).

load ../lib/common

ACT_DEBUGFS=/sys/kernel/debug/kthread_perf/activations

# What a kernel log must not say: KP_KERNEL_TROUBLE and the reports of the
# debug options a debug kernel turns on.
FUZZ_TROUBLE="$KP_KERNEL_TROUBLE|sleeping function called|lockdep|possible circular locking|possible recursive locking|inconsistent lock state|KASAN|UBSAN|KFENCE|general protection|refcount_t|list_add corruption|list_del corruption|ODEBUG|RCU used illegally|suspicious RCU usage|BUG: scheduling while atomic"

setup_file() {
	kp_setup_file
	export ACT_FUZZ="$KP_REPO/${KPERF_FUZZ_BIN:-userspace/act_fuzz}"
	[ -x "$ACT_FUZZ" ] || { echo "$ACT_FUZZ is missing: run make" >&2; return 1; }
}
teardown_file() { kp_teardown_file; }

# A test that failed half-way leaves nothing behind for the next one: the
# file it held open, its fuzzer, the module.
teardown() {
	if [ -n "${FUZZ_PID:-}" ]; then
		kill "$FUZZ_PID" 2>/dev/null || true
		wait "$FUZZ_PID" 2>/dev/null || true
	fi
	if [ -n "${FUZZ_HOLDER:-}" ]; then
		exec {FUZZ_HOLDER}>&- || true
	fi
	FUZZ_PID= FUZZ_HOLDER=
	# The fuzzer's processes may still be closing their files.
	local i
	for ((i = 0; i < 300; i++)); do
		[ -d /sys/module/kthread_perf ] || return 0
		rmmod kthread_perf 2>/dev/null && return 0
		kp_sleep 0.1
	done
	rmmod kthread_perf
}

# fuzz_count KEY: the line "KEY N" of debugfs' activations, once N is 0 or
# after a bounded wait (files are freed a grace period after their last
# close, and a fuzzer process's registrations end as it exits).
fuzz_count() {
	local i line n=
	for ((i = 0; i < 600; i++)); do
		n=
		while read -r line; do
			[[ $line == "$1 "* ]] && n=${line#"$1 "}
		done <"$ACT_DEBUGFS"
		[ "$n" != 0 ] || break
		kp_sleep 0.05
	done
	echo "$1 ${n:-missing}"
}

# fuzz_log_clean MARK: nothing in the kernel log since MARK matches
# FUZZ_TROUBLE.
fuzz_log_clean() {
	local bad
	bad=$(dmesg | awk -v mark="$1" 'found { print } index($0, mark) { found = 1 }' |
		grep -v 'kperf-test: ' | grep -E "$FUZZ_TROUBLE" || true)
	[ -z "$bad" ] || fail "the kernel log since the fuzz began: $bad"
}

@test "act_fuzz: --help, and bad usage exits 2" {
	run "$ACT_FUZZ" --help
	assert_success
	assert_output --partial "Usage: act_fuzz"
	run "$ACT_FUZZ" --procs 0
	assert_failure 2
	run "$ACT_FUZZ" --seconds -1
	assert_failure 2
	run "$ACT_FUZZ" --no-such-option
	assert_failure 2
	run "$ACT_FUZZ" stray
	assert_failure 2
}

@test "fuzzing the device during a klt run: only documented results, rmmod refused until the last close, a clean log, no registration left" {
	local seed=${KPERF_FUZZ_SEED:-20261207} iters=${KPERF_FUZZ_ITERATIONS:-1500}
	local secs=45 out="$BATS_TEST_TMPDIR/fuzz.json" err="$BATS_TEST_TMPDIR/fuzz.err"
	local mark pid rc=0 tries=0 refused=0 msg
	if [ -n "${KPERF_FUZZ_SECONDS:-}" ]; then
		secs=$KPERF_FUZZ_SECONDS
		iters=${KPERF_FUZZ_ITERATIONS:-1000000000000}
		seed=${KPERF_FUZZ_SEED:-}
	fi
	mark="kthread_perf-test: act_fuzz begin $$ $BATS_TEST_NUMBER"
	echo "$mark" >/dev/kmsg

	kp_load
	# A file held open for the whole fuzz: rmmod must be refused even
	# between the fuzzer's own files.
	exec {FUZZ_HOLDER}<>/dev/kthread_perf
	# The klt run: sleeping workers, until stopped.
	kp_config 2 sleep atomic 1000000000000 1000 50
	kp_set start 1
	kp_wait_ops 1000

	timeout $((secs + 180)) "$ACT_FUZZ" ${seed:+--seed "$seed"} \
		--procs "${KPERF_FUZZ_PROCS:-3}" --threads "${KPERF_FUZZ_THREADS:-6}" \
		--iterations "$iters" --seconds "$secs" --try-unload kthread_perf --strict-efault \
		--hang-seconds "${KPERF_FUZZ_HANG_SECONDS:-30}" \
		>"$out" 2>"$err" 3>&- &
	pid=$!
	FUZZ_PID=$pid
	# rmmod, again and again while the fuzzer runs: refused each time.
	while kill -0 "$pid" 2>/dev/null; do
		tries=$((tries + 1))
		if msg=$(rmmod kthread_perf 2>&1); then
			kill "$pid" 2>/dev/null
			fail "rmmod succeeded while /dev/kthread_perf was open (attempt $tries)"
		fi
		[[ $msg == *"in use"* ]] && refused=$((refused + 1))
		[ -d /sys/module/kthread_perf ] || fail "the module went away after a refused rmmod"
		kp_sleep 0.5
	done
	wait "$pid" || rc=$?
	FUZZ_PID=
	echo "# $(head -n 1 "$err")" >&3
	echo "# act_fuzz: $(jq -c '{iterations, seconds, iterations_per_second, events}' "$out" 2>/dev/null)" >&3
	echo "# rmmod refused $refused of $tries tries; delete_module refused $(jq .unload_attempts "$out") times" >&3
	if [ "$rc" -ne 0 ]; then
		cat "$err" >&2
		cat "$out" >&2
		fail "act_fuzz exited $rc"
	fi
	assert [ "$tries" -ge 1 ]
	assert_equal "refused $refused" "refused $tries"
	# It did what it is for: every kind of call, and events flowed.
	jq -e '.violations == 0 and .iterations > 0
		and ([.calls[] | select(. == 0)] | length) == 0
		and .events.blocked > 0 and .events.unblocked > 0
		and .unload_attempts > 0' "$out" >/dev/null ||
		fail "act_fuzz left a kind of call untried or saw no event: $(cat "$out")"

	# The klt run went on through it all.
	assert_equal "$(kp_get state)" running
	kp_set stop 1
	assert_equal "$(kp_get state)" stopped

	assert_equal "$(fuzz_count registrations)" "registrations 0"
	exec {FUZZ_HOLDER}>&-
	FUZZ_HOLDER=
	assert_equal "$(fuzz_count files)" "files 0"
	run rmmod kthread_perf
	assert_success
	assert [ ! -e /dev/kthread_perf ]

	fuzz_log_clean "$mark"
}

# fuzz_limits ARGS...: a short fuzz with the module's limits set low; its
# JSON in $json.  Calls beyond a limit fail with its errno and change
# nothing (the fuzzer's model checks what follows them).
fuzz_limits() {
	run --separate-stderr timeout 240 "$ACT_FUZZ" --seed "${KPERF_FUZZ_SEED:-20261207}" \
		--iterations 400 --seconds 60 "$@"
	[ "$status" -eq 0 ] || fail "act_fuzz exited $status: $stderr $output"
	json=$output
	echo "# act_fuzz with limits: $(jq -c '{iterations, iterations_per_second, open: .errors.open, register: .errors.register}' <<<"$json")" >&3
}

@test "fuzzing beyond the limits: open fails with EMFILE and ENFILE, register with EDQUOT and ENOSPC, and nothing else changes" {
	local mark="kthread_perf-test: act_fuzz limits $$ $BATS_TEST_NUMBER"
	echo "$mark" >/dev/kmsg
	kp_load act_max_registrations=2
	# The per-user limits below the global ones.
	echo 5 >"$KP_PARAMS/act_max_files_per_user"
	echo 1 >"$KP_PARAMS/act_max_registrations_per_user"
	fuzz_limits
	jq -e '.violations == 0 and .errors.open.EMFILE > 0
		and .errors.register.EDQUOT > 0' <<<"$json" >/dev/null ||
		fail "no EMFILE or EDQUOT: $json"
	# The global limits below the per-user ones.
	echo 64 >"$KP_PARAMS/act_max_files_per_user"
	echo 5 >"$KP_PARAMS/act_max_files"
	echo 1000 >"$KP_PARAMS/act_max_registrations_per_user"
	fuzz_limits
	jq -e '.violations == 0 and .errors.open.ENFILE > 0
		and .errors.register.ENOSPC > 0' <<<"$json" >/dev/null ||
		fail "no ENFILE or ENOSPC: $json"
	assert_equal "$(fuzz_count registrations)" "registrations 0"
	assert_equal "$(fuzz_count files)" "files 0"
	kp_unload
	fuzz_log_clean "$mark"
}
