#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# tools/kperf inside the VM, where kthread_perf.ko loads: the klt model's
# JSON from sysfs and debugfs with exact counts, compare over all three
# models, a klt sweep, Ctrl-C on a klt run, and a --quick report.  Every
# expectation is computed from the options given.

bats_require_minimum_version 1.5.0

load ../lib/common

SYS=/sys/kernel/kthread_perf

setup_file() {
	REPO="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
	export REPO
	export KPERF="$REPO/tools/kperf"
	[ -f "$REPO/module/kthread_perf.ko" ] || skip "module/kthread_perf.ko is not built"
	[ -x "$REPO/userspace/pthread_bench" ] || skip "userspace/pthread_bench is not built"
	[ -x "$REPO/coro/coro_bench" ] || skip "coro/coro_bench is not built"
	# kperf loads the module itself when it is missing and unloads it after.
	if [ -d "$SYS" ]; then
		export WAS_LOADED=1
	else
		export WAS_LOADED=0
	fi
}

setup() {
	TMP="$(mktemp -d)"
}

teardown() {
	[ ! -d "$SYS" ] || echo 1 >"$SYS/stop" || true
	if [ "$WAS_LOADED" = 0 ] && [ -d "$SYS" ]; then
		rmmod kthread_perf || true
	fi
	rm -rf "$TMP"
}

# table_rows TITLE FILE: data rows of the Markdown table titled "Table N: TITLE...".
table_rows() {
	awk -v t="$1" '
		/^Table [0-9]+: / { on = index($0, t) > 0; n = 0; next }
		on && /^\|/ { n++; next }
		on && n { print n - 2; n = 0; exit }
		END { if (on && n) print n - 2 }' "$2"
}

# kperf ARGS...: never start another VM from inside this one.
kperf() {
	"$KPERF" "$@" --host
}

@test "run klt --json gives SPEC's JSON with exact counts" {
	local tc=4 wt=20000 yi=1000
	run --separate-stderr kperf run klt --thread-count $tc --work-target $wt \
		--work-mode yield --yield-interval $yi --json
	assert_success
	jq -e --argjson ops $((tc * wt)) --argjson waits $((tc * (wt / yi))) \
		--argjson tc $tc --argjson wt $wt --arg kernel "$(uname -r)" '
		.model == "klt" and .counter == $ops and .total_ops == $ops
		and .waits == $waits and .latency_hist.samples == $waits
		and ([.latency_hist.buckets[].count] | add) == $waits
		and (.threads | length) == $tc and all(.threads[]; .ops == $wt)
		and ([.threads[].waits] | add) == $waits
		and .config == {"thread_count": $tc, "work_mode": "yield",
			"sync_mode": "atomic", "work_target": $wt,
			"yield_interval": 1000, "sleep_us": 0, "bind_cpu_count": 0,
			"workers": $tc}
		and .user_ns == 0 and .sys_ns == .cputime_ns
		and .kernel == $kernel and .elapsed_ns > 0 and .throughput > 0
		and .latency_hist.buckets[0].lo_ns == 0
		and .latency_hist.min_ns <= .latency_hist.mean_ns
		and .latency_hist.mean_ns <= .latency_hist.max_ns' <<<"$output"
	json=$output
	kp_check_percentiles
}

@test "every model's JSON names the accelerator tools/vm ran this guest with" {
	[ -n "${KPERF_VM_ACCEL_USED:-}" ] || fail "tools/vm did not say how it runs this guest"
	local out=()
	run --separate-stderr kperf run klt --work-target 1000 --json
	assert_success
	out+=("$output")
	run --separate-stderr "$REPO/userspace/pthread_bench" --work-target 1000 --json
	assert_success
	out+=("$output")
	run --separate-stderr "$REPO/coro/coro_bench" --work-target 1000 --json
	assert_success
	out+=("$output")
	printf '%s\n' "${out[@]}" | jq -se --arg a "$KPERF_VM_ACCEL_USED" --arg k "$(uname -r)" '
		length == 3 and ([.[].model] == ["klt", "pthread", "coro"])
		and all(.[]; .system.accel == $a and .system.kernel == $k
			and .system.hostname == "kperf-vm"
			and (.start_time | test("Z$")) and (.cmdline | length > 1))
		and ([.[].system] | unique | length) == 1'
}

@test "run klt leaves the module as it found it" {
	run --separate-stderr kperf run klt --work-target 1000 --json
	assert_success
	if [ "$WAS_LOADED" = 0 ]; then
		[ ! -d "$SYS" ]
	else
		[ -d "$SYS" ]
	fi
}

@test "run klt counts pingpong waits and binds threads" {
	local tc=6 wt=12000 yi=400 bind=1
	run --separate-stderr kperf run klt --thread-count $tc --work-target $wt \
		--work-mode pingpong --yield-interval $yi --bind-cpu-count $bind --json
	assert_success
	jq -e --argjson ops $((tc * wt)) --argjson waits $((tc * (wt / yi))) '
		.counter == $ops and .waits == $waits
		and .latency_hist.samples == $waits
		and ([.threads[].cpu] | unique) == [([.threads[].cpu] | min)]
		and all(.threads[]; .cpu >= 0 and .last_cpu == .cpu)' <<<"$output"
}

@test "run klt prints a table with the wait latency" {
	run --separate-stderr kperf run klt --work-target 5000 --work-mode yield \
		--yield-interval 100
	assert_success
	assert_line --regexp '^counter +20,000$'
	assert_line --regexp '^waits +200$'
	assert_line --partial "wait latency min/mean/max"
}

@test "compare --json gives the four columns with equal total_ops, coro-mn on every CPU" {
	local tc=4 wt=30000
	run --separate-stderr kperf compare --thread-count $tc --work-target $wt \
		--work-mode yield --json
	assert_success
	jq -e --argjson ops $((tc * wt)) --argjson tc $tc --argjson n "$(nproc)" '
		([.[].model] == ["klt", "pthread", "coro", "coro"])
		and ([.[].config.workers] == [$tc, $tc, 1, $n])
		and all(.[]; .total_ops == $ops and .counter == $ops)
		and ([.[].config.work_mode] | unique) == ["yield"]' <<<"$output"
}

@test "compare prints one table with the ratios between models" {
	run --separate-stderr kperf compare --work-target 20000
	assert_success
	assert_line --regexp '^metric +klt +pthread +coro +coro-mn$'
	assert_line --regexp '^throughput \(ops/s\)( +[0-9,]+){4}$'
	assert_line --regexp '^coro/pthread +[0-9.]+x$'
	assert_line --regexp '^coro-mn/pthread +[0-9.]+x$'
	assert_line --regexp '^coro/klt +[0-9.]+x$'
	assert_line --regexp '^coro-mn/klt +[0-9.]+x$'
	assert_line --regexp '^klt/pthread +[0-9.]+x$'
	assert_line --partial "coro on 1 worker, coro-mn on $(nproc) workers"
	assert_output --partial "measured on QEMU guest of tools/vm, ${KPERF_VM_ACCEL_USED^^} [accel $KPERF_VM_ACCEL_USED]"
}

@test "sweep with klt writes a row per value x model x repeat" {
	local repeat=2
	run --separate-stderr kperf sweep bind_cpu_count --values 0,1 \
		--models klt,pthread --repeat $repeat --work-target 10000 --out "$TMP/s"
	assert_success
	assert_equal "$(wc -l <"$TMP/s/bind_cpu_count.csv")" $((1 + 2 * 2 * repeat))
	jq -e 'all(.runs[]; .result.counter == .result.total_ops)' \
		"$TMP/s/bind_cpu_count.json"
	assert_equal "$(head -c 4 "$TMP/s/bind_cpu_count.png" | od -An -tx1 | tr -d ' \n')" \
		89504e47
}

@test "Ctrl-C on a klt run writes stop and leaves state stopped" {
	[ -d "$SYS" ] || insmod "$REPO/module/kthread_perf.ko"
	# 3000 ops per thread, a 1 ms sleep after each: >= 3 s.  fd 3 closed:
	# bats waits for it.
	"$KPERF" run klt --work-mode sleep --sleep-us 1000 --yield-interval 1 \
		--work-target 3000 --host 2>"$TMP/err" 3>&- &
	local pid=$! i rc=0
	for i in $(seq 300); do
		[ "$(cat $SYS/state)" = running ] && break
		sleep 0.1
	done
	# kperf writes start inside the block that turns Ctrl-C into a stop,
	# so a run seen running is a run that SIGINT stops.
	assert_equal "$(cat $SYS/state)" running
	kill -INT "$pid"
	wait "$pid" || rc=$?
	cat "$TMP/err" >&2
	assert_equal "$rc" 130
	assert_equal "$(cat $SYS/state)" stopped
	[ "$(cat $SYS/total_ops)" -lt $((4 * 3000)) ]
}

@test "bad usage is caught in the guest too" {
	run --separate-stderr kperf run klt --bind-cpu-count $(($(nproc) + 1))
	assert_equal "$status" 2
	run --separate-stderr kperf run klt --work-mode pingpong --thread-count 5
	assert_equal "$status" 2
}

@test "report --quick writes report.md with a row per configuration and the PNGs" {
	local w=20000
	run --separate-stderr kperf report --quick --work-target $w --out "$TMP/r"
	assert_success
	local md="$TMP/r/report.md"
	[ -s "$md" ]
	grep -qx "| machine | QEMU guest of tools/vm, ${KPERF_VM_ACCEL_USED^^} |" "$md"
	grep -q "^| accel | $KPERF_VM_ACCEL_USED (tools/vm ran this guest under" "$md"
	grep -q "^| kernel | $(uname -r) |" "$md"
	local n=$(nproc) binds=1 v=1 workers=2
	# bind_cpu_count values: unbound, 1, 2, 4, ... below n, and n.
	while [ $v -lt "$n" ]; do binds=$((binds + 1)); v=$((v * 2)); done
	binds=$((binds + 1))
	[ "$n" -le 2 ] || workers=3
	assert_equal "$(table_rows 'Scenario A, normal workload' "$md")" 12
	assert_equal "$(table_rows 'Yield-interval sweep' "$md")" $((4 * 3))
	assert_equal "$(table_rows 'CPU binding' "$md")" $((2 * binds))
	assert_equal "$(table_rows 'Work-target scaling' "$md")" $((3 * 2))
	assert_equal "$(table_rows 'Thread count' "$md")" 3
	assert_equal "$(table_rows 'Coroutine modes' "$md")" $((2 + 2 * workers))
	assert_equal "$(table_rows 'Sync modes' "$md")" 4
	assert_equal "$(table_rows 'Wait latency by work mode' "$md")" $((3 * 3))
	assert_equal "$(table_rows 'Strict aligned KLT' "$md")" 2
	assert_equal "$(table_rows 'Thread operations' "$md")" 5
	# Every operation measured in all four columns, with three ratios.
	assert_equal "$(grep -cE '^\| (create \+ join|condition signal|32-thread barrier|Sun ping-pong, [14] games?)( \| [0-9.]+ (ns|us|ms|s) \(wait [0-9.]+ (ns|us|ms|s)\)){4}( \| [0-9.]+x){3} \|$' "$md")" 5
	grep -q '^Fastest here per operation: create + join: ' "$md"
	# The rows name the configurations asked for.
	assert_equal "$(grep -cE "^\| (4|16|32) \| 2e4 \|" "$md")" 3
	assert_equal "$(grep -cE '^\| (2e4|1e5|2e5) \| (normal|yield 1000) \|' "$md")" 6
	# Aligned comparison: three throughputs and three ratios per scenario.
	assert_equal "$(grep -cE '^\| (normal|yield 1000)( \| [0-9,]+){3}( \| [0-9.]+x){3} \|$' "$md")" 2
	# No cell left unmeasured, every figure drawn and linked.
	! grep -q 'not drawn' "$md"
	local png n=0
	for png in $(grep -oE '\(fig[0-9]+-[a-z-]+\.png\)' "$md" | tr -d '()'); do
		assert_equal "$(head -c 4 "$TMP/r/$png" | od -An -tx1 | tr -d ' \n')" 89504e47
		n=$((n + 1))
	done
	[ "$n" -ge 6 ]
}
