#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# kperf merge: result directories from several machines or kernels become one
# report, the systems told apart by each result's `system` block (SPEC.md
# section 5).  The results are real pthread and coro runs; the second
# machine is the same runs with another system block, as a result copied
# from elsewhere would carry.

load ../lib/common

setup_file() {
	export REPO="$KP_REPO"
	export KPERF="$REPO/tools/kperf"
	[ -x "$REPO/userspace/pthread_bench" ] && [ -x "$REPO/coro/coro_bench" ] ||
		make -C "$REPO" user >&2
	RUNS="$BATS_FILE_TMPDIR/runs"
	export RUNS
	mkdir -p "$RUNS"
	for m in pthread coro; do
		"$KPERF" run "$m" --work-mode yield --yield-interval 100 \
			--work-target 20000 --json >"$RUNS/$m.json"
	done
}

# machine DIR HOSTNAME KERNEL PREEMPT: DIR holds the runs, as measured on a
# system of that name, kernel and preemption model.
machine() {
	mkdir -p "$1"
	for f in "$RUNS"/*.json; do
		jq --arg h "$2" --arg k "$3" --arg p "$4" \
			'.system = {kernel: $k, machine: "x86_64", cpu_model: "cpu",
			  online_cpus: 2, accel: "none", hostname: $h, preempt: $p}
			 | .kernel = $k' "$f" >"$1/${f##*/}"
	done
}

@test "merge of two directories gives one table with both systems side by side" {
	machine "$BATS_TEST_TMPDIR/a" alpha 6.1.0-56-amd64 PREEMPT_DYNAMIC
	machine "$BATS_TEST_TMPDIR/b" beta 6.1.0-56-rt-amd64 PREEMPT_RT
	run "$KPERF" merge --out "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	assert_success
	assert_output "$BATS_TEST_TMPDIR/out/report.md"
	report="$BATS_TEST_TMPDIR/out/report.md"
	# One ratio table whose header names both systems, one row for the
	# configuration both measured, with a ratio under each system.
	run grep -A4 '^## Throughput ratios' "$report"
	# The kernels differ, so they alone name the columns.
	assert_line --regexp '^\| configuration \| coro/pthread 6\.1\.0-56-amd64 \| coro/pthread 6\.1\.0-56-rt-amd64 \|$'
	assert_line --regexp '^\| 4 threads x 2e4 ops, yield, atomic, every 100 ops, unbound \| [0-9.]+x \| [0-9.]+x \|$'
	run grep -c '^| 6.1.0-56-' "$report"
	assert_output 2
	run grep -F '| 6.1.0-56-rt-amd64 | 6.1.0-56-rt-amd64 | PREEMPT_RT |' "$report"
	assert_success
	refute grep -q 'no `system` block' "$report"
	# Two machines with one kernel: the host names tell the columns apart.
	machine "$BATS_TEST_TMPDIR/c" gamma 6.1.0-56-amd64 PREEMPT_DYNAMIC
	run "$KPERF" merge --out "$BATS_TEST_TMPDIR/out2" "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/c"
	assert_success
	run grep -A4 '^## Throughput ratios' "$BATS_TEST_TMPDIR/out2/report.md"
	assert_line --regexp '^\| configuration \| coro/pthread 6\.1\.0-56-amd64 @ alpha \| coro/pthread 6\.1\.0-56-amd64 @ gamma \|$'
}

@test "the same directory given twice is one system; a machine's ratio is its own runs'" {
	machine "$BATS_TEST_TMPDIR/a" alpha 6.1.0-56-amd64 PREEMPT_DYNAMIC
	run "$KPERF" merge --out "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/a/"
	assert_success
	run grep '^| 6.1.0-56-amd64 |' "$BATS_TEST_TMPDIR/out/report.md"
	assert_equal "${#lines[@]}" 1
	# Its runs are counted once: the pthread run and the coro run.
	assert_output --regexp '\| 2 \|$' 
	# The ratio in the table is coro's throughput over pthread's (printed
	# to 3 significant digits: within 1 %).
	run bash -c "grep -A4 '^## Throughput ratios' '$BATS_TEST_TMPDIR/out/report.md' | tail -1 | cut -d'|' -f3"
	assert_success
	got=${output//[ x]/}
	run jq -n --argjson got "$got" --slurpfile c "$RUNS/coro.json" --slurpfile p "$RUNS/pthread.json" \
		'($c[0].throughput / $p[0].throughput) as $want | (($got - $want) | fabs) <= 0.01 * $want'
	assert_output true
}

@test "results without a system block are told apart by kernel and directory, and the report says so" {
	local f d
	mkdir -p "$BATS_TEST_TMPDIR/x" "$BATS_TEST_TMPDIR/y"
	# Results as older versions wrote them: no system block.
	for f in "$RUNS"/*.json; do
		for d in x y; do
			jq 'del(.system)' "$f" >"$BATS_TEST_TMPDIR/$d/${f##*/}"
		done
	done
	run "$KPERF" merge --out "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/x" "$BATS_TEST_TMPDIR/y"
	assert_success
	run grep -c "^| $(uname -r) @ [xy] |" "$BATS_TEST_TMPDIR/out/report.md"
	assert_output 2
	run grep -c 'no `system` block' "$BATS_TEST_TMPDIR/out/report.md"
	assert_output 1
}

@test "merge refuses a missing directory (2) and one without results (1)" {
	run "$KPERF" merge --out "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/nonexistent"
	assert_failure 2
	assert_output --partial "is not a directory"
	assert_equal "${#lines[@]}" 1
	mkdir -p "$BATS_TEST_TMPDIR/empty"
	echo '{"not": "a result"}' >"$BATS_TEST_TMPDIR/empty/x.json"
	run "$KPERF" merge --out "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/empty"
	assert_failure 1
	assert_output --partial "holds no kperf results"
	run "$KPERF" merge
	assert_failure 2
}

@test "--kernel and --kernels refuse kernels tools/vm cannot boot, with exit status 2" {
	run "$KPERF" compare --kernel 0.0-none
	assert_failure 2
	assert_output --partial "no /boot/vmlinuz-0.0-none"
	run "$KPERF" report --kernels "$("$REPO/tools/kernel" --version)"
	assert_failure 2
	assert_output --partial "two or more"
	run "$KPERF" compare --kernel "$("$REPO/tools/kernel" --version)" --host
	assert_failure 2
	assert_output --partial "cannot go with --host"
}
