#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Debian's PREEMPT_RT kernel (tools/install-deps --rt): the module builds
# for it, loads in a tools/vm guest of it, and kperf compare --kernel runs
# every model there, and report --kernels puts it beside the generic kernel.
# Not part of make check (five more guest boots, about 2 minutes):
# `make check-rt` runs it.
#
# The RT kernel is the newest /boot/vmlinuz-*-rt-*; its headers are
# /lib/modules/V/build, or KPERF_RT_KDIR where they are unpacked elsewhere.

load ../lib/common

setup_file() {
	export REPO="$KP_REPO"
	RT=$(cd /boot && ls vmlinuz-*-rt-* 2>/dev/null | sed 's/^vmlinuz-//' | sort -V | tail -n 1)
	export RT
	export RT_KDIR=${KPERF_RT_KDIR:-/lib/modules/$RT/build}
	export RT_KO="$REPO/build/modules/$RT/module/kthread_perf.ko"
}

setup() {
	[ -n "$RT" ] || skip "no PREEMPT_RT kernel in /boot (tools/install-deps --rt)"
	[ -d "$RT_KDIR" ] || skip "no headers for $RT ($RT_KDIR; tools/install-deps --rt)"
}

@test "the module builds for the PREEMPT_RT kernel" {
	# kperf --kernel builds it the same way, into build/modules/VERSION/.
	run python3 -c "import sys; sys.path.insert(0, '$REPO/tools')
from kperflib import kernels
print(kernels.build('$REPO', '$RT', '$RT_KDIR'))"
	assert_success
	assert_output "$RT_KO"
	run modinfo -F vermagic "$RT_KO"
	assert_output --regexp "^$RT SMP preempt_rt "
}

@test "a guest of the RT kernel runs PREEMPT_RT and loads the module" {
	[ -f "$RT_KO" ] || skip "the module for $RT is not built"
	run "$REPO/tools/vm" --kernel "$RT" -- sh -c \
		"uname -rv; insmod '$RT_KO' && cat /sys/kernel/kthread_perf/state && rmmod kthread_perf && echo unloaded"
	assert_success
	assert_line --regexp "^$RT .*PREEMPT_RT"
	assert_line idle
	assert_line unloaded
}

@test "kperf compare --kernel runs klt, pthread and coro in the RT guest with exact counts" {
	[ -f "$RT_KO" ] || skip "the module for $RT is not built"
	run --separate-stderr "$REPO/tools/kperf" compare --kernel "$RT" \
		--thread-count 2 --work-mode yield --work-target 20000 --json
	assert_success
	run jq -r '.[] | "\(.model) \(.kernel) \(.counter == .total_ops and .total_ops == 40000)"' <<<"$output"
	assert_success
	assert_line "klt $RT true"
	assert_line "pthread $RT true"
	assert_line "coro $RT true"
}

@test "report --kernels puts the generic and the RT kernel side by side in one report" {
	[ -f "$RT_KO" ] || skip "the module for $RT is not built"
	generic=$("$REPO/tools/kernel" --version)
	out="$BATS_TEST_TMPDIR/report"
	run --separate-stderr "$REPO/tools/kperf" report --kernels "$generic,$RT" \
		--quick --models pthread,coro --work-target 2000 --out "$out"
	assert_success
	assert_output "$out/report.md"
	# Each kernel's own report, and the merged one naming both in one
	# ratio table, a row per configuration with a ratio under each.
	assert [ -f "$out/$generic/results.json" ]
	assert [ -f "$out/$RT/results.json" ]
	run grep -A4 '^## Throughput ratios' "$out/report.md"
	# Columns: coro/pthread per kernel (and coro-mn/pthread where the
	# report's thread-operations section ran it).
	assert_line --regexp "^\\| configuration \\| coro/pthread $generic \\| .*coro/pthread $RT \\| "
	assert_line --regexp '^\| 4 threads x 2000 ops, normal, atomic, unbound \| [0-9.]+x \| (- \| )?[0-9.]+x \|'
	run jq -r '[.[].kernel] | unique | .[]' "$out/$RT/results.json"
	assert_output "$RT"
}

@test "the activations suite passes on PREEMPT_RT, and the guest's log stays clean" {
	# SPEC.md section 9: the probes take only raw locks and never sleep,
	# so a registration, an exit or an exec of a registered thread is
	# safe where spinlock_t sleeps.
	[ -f "$RT_KO" ] || skip "the module for $RT is not built"
	run "$REPO/tools/vm" --timeout 1800 --kernel "$RT" -- env KPERF_MODULE="$RT_KO" \
		bats --tap "$REPO/tests/vm/activations.bats"
	echo "$output" | grep -E '^(not )?ok ' | sed 's/^/# /' >&3 || true
	assert_success
	refute_line --regexp '^not ok '
	assert_line --regexp '^ok [0-9]+ the kernel log shows no warning'
}
