#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# tools/vm and tools/kernel, from the host: what the guest runs, what comes
# back (stdout, stderr, exit status, files in --rw directories, the console
# log; every byte, under host load), time limits, crashes, lockups, bad
# usage, and that no QEMU is left behind.
# Each guest boot costs seconds under TCG, so one boot in setup_file serves
# most tests.

load ../lib/common

VM="$BATS_TEST_DIRNAME/../../tools/vm"
KERNEL="$BATS_TEST_DIRNAME/../../tools/kernel"

# QEMU processes started by tools/vm runs whose job dir is under DIR.
qemu_under() {
	pgrep -f "qemu-system-x86_64 .*kperf_job=$1" || true
}

# without_accel_line FILE: FILE without tools/vm's one line saying that KVM
# opens but cannot run a guest (tools/vm-accel), which comes on the first
# run on a machine (or with an empty cache) and not after: these tests must
# not depend on what an earlier run left in the cache.  That the line comes
# once, and when, is tests/host/vm_accel.bats's business.
without_accel_line() {
	sed '1{/^tools\/vm: .* opens but KVM cannot run a guest here (.*); using TCG$/d}' "$1"
}

# Busy loops on every host CPU (bounded, and killed by teardown).
BUSY=()
start_busy_loops() {
	local i
	for ((i = 0; i < $(nproc); i++)); do
		timeout 900 bash -c 'while :; do :; done' 3>&- &
		BUSY+=($!)
	done
}

teardown() {
	[ ${#BUSY[@]} -eq 0 ] || kill "${BUSY[@]}" 2>/dev/null || true
}

# start_sleeping_guest: tools/vm -- sleep 1000 in the background with its job
# under this test's directory; returns once its QEMU runs, the pid of
# tools/vm in VM_PID.
start_sleeping_guest() {
	local i
	export TMPDIR="$BATS_TEST_TMPDIR"
	"$VM" -- sleep 1000 3>&- &
	VM_PID=$!
	for ((i = 0; i < 100; i++)); do
		[ -z "$(qemu_under "$BATS_TEST_TMPDIR")" ] || break
		sleep 0.1
	done
	refute [ -z "$(qemu_under "$BATS_TEST_TMPDIR")" ]
}

setup_file() {
	export OUT="$BATS_FILE_TMPDIR/out" RW="$BATS_FILE_TMPDIR/rw"
	mkdir -p "$OUT" "$RW"
	# One boot: a command that reports on the guest it runs in, with the
	# machine's own accelerator choice (no KPERF_VM_ACCEL* overrides).
	# Its stdout is a file the caller writes to as well: the guest's output
	# must land between the caller's lines, not over them.
	local status=0
	exec 4>"$OUT/stdout"
	echo before >&4
	(
		cd "$KP_REPO/tests"
		unset KPERF_VM_ACCEL KPERF_VM_KVM_DEV KPERF_VM_ACCEL_CACHE
		KPERF_TEST_VAR='a b' TMPDIR="$BATS_FILE_TMPDIR" "$VM" --cpus 2 --mem 512 \
			--rw "$RW" --console "$OUT/console" -- \
			bash -c 'echo "to stdout"; echo "to stderr" >&2
				uname -r >"$1/uname"; pwd >"$1/pwd"; nproc >"$1/nproc"
				echo "$KPERF_TEST_VAR" >"$1/env"; id -u >"$1/uid"
				cat >"$1/stdin"; [ -t 1 ] && echo tty >"$1/stdout-tty"
				echo "<2>guest-marker" >/dev/kmsg
				cd /proc/sys/kernel && cat softlockup_panic panic_on_rcu_stall \
					hung_task_panic hung_task_timeout_secs >"$1/watchdogs"
				echo lost >"$2/not-rw"
				exit 3' _ "$RW" "$OUT" \
			>&4 2>"$OUT/stderr" 3>&-
	) || status=$?
	echo after >&4
	exec 4>&-
	echo "$status" >"$OUT/status"
}

@test "tools/vm exits with the command's status" {
	assert_equal "$(cat "$OUT/status")" 3
}

@test "tools/vm keeps the command's stdout and stderr apart" {
	assert_equal "$(cat "$OUT/stdout")" $'before\nto stdout\nafter'
	assert_equal "$(without_accel_line "$OUT/stderr")" "to stderr"
}

@test "the guest writes into a --rw directory and the host sees it" {
	assert_equal "$(cat "$RW/uname")" "$("$KERNEL" --version)"
}

@test "the guest's writes outside --rw directories do not reach the host" {
	assert [ -s "$OUT/stdout" ]
	assert [ ! -e "$OUT/not-rw" ]
}

@test "the guest runs as root in the caller's directory, 2 CPUs, with KPERF_ variables" {
	assert_equal "$(cat "$RW/pwd")" "$KP_REPO/tests"
	assert_equal "$(cat "$RW/uid")" 0
	assert_equal "$(cat "$RW/nproc")" 2
	assert_equal "$(cat "$RW/env")" "a b"
}

@test "the command's stdin is empty and its stdout is not a terminal" {
	assert_equal "$(stat -c %s "$RW/stdin")" 0
	assert [ ! -e "$RW/stdout-tty" ]
}

@test "--console keeps the guest's kernel log" {
	run grep -c guest-marker "$OUT/console"
	assert_output 1
}

@test "the guest kernel panics on a soft lockup, an RCU stall and a task blocked for 30 s" {
	assert_equal "$(tr '\n' ' ' <"$RW/watchdogs")" "1 1 1 30 "
}

@test "every byte of the command's stdout and stderr arrives while every host CPU is busy" {
	# stdout: 3 MB of random bytes (every byte value, \r and \n among
	# them), whose checksum the guest writes into a --rw directory; stderr at
	# the same time: seq's 2.7 MB.  The host gets busy once the guest runs
	# the command (a handshake through the --rw directory): what is tested
	# is the output's way, not a boot under load.
	local n=400000 rw="$BATS_TEST_TMPDIR/rw" rc=0 vm i
	mkdir -p "$rw"
	"$VM" --rw "$rw" -- bash -c '
		: >"$1/running"
		while [ ! -e "$1/go" ]; do sleep 0.1; done
		head -c 3000000 /dev/urandom >/run/random
		sha256sum </run/random >"$1/sum"
		cat /run/random & seq "$2" >&2; wait' _ "$rw" "$n" \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	vm=$!
	for ((i = 0; i < 6000; i++)); do
		[ ! -e "$rw/running" ] && kill -0 "$vm" 2>/dev/null || break
		sleep 0.1
	done
	start_busy_loops
	: >"$rw/go"
	wait "$vm" || rc=$?
	teardown
	assert_equal "$rc" 0
	assert_equal "$(stat -c %s "$BATS_TEST_TMPDIR/out")" 3000000
	assert_equal "$(sha256sum <"$BATS_TEST_TMPDIR/out")" "$(cat "$rw/sum")"
	without_accel_line "$BATS_TEST_TMPDIR/err" >"$BATS_TEST_TMPDIR/err.seq"
	assert_equal "$(stat -c %s "$BATS_TEST_TMPDIR/err.seq")" "$(seq "$n" | wc -c)"
	assert_equal "$(sha256sum <"$BATS_TEST_TMPDIR/err.seq")" "$(seq "$n" | sha256sum)"
}

@test "a guest that gives no sign of life is stopped: status 125, the running test, the console" {
	# A TCG guest whose every vCPU spins with interrupts off says nothing
	# (issue 20): the watch goes by the guest's signs of life, which the
	# command here stops.
	export TMPDIR="$BATS_TEST_TMPDIR"
	run --separate-stderr env KPERF_VM_SILENCE=20 "$VM" --timeout 1500 -- sh -c '
		echo "<3>kperf-test: fake.bats: 8 silence" >/dev/kmsg
		kill -STOP "$(cat /run/kperf-vm-alive.pid)"
		exec sleep 2000'
	assert_equal "$status" 125
	assert_equal "${stderr_lines[0]}" "tools/vm: guest hung: no sign of life from it for 20 s (every vCPU stuck, interrupts off?)"
	assert_equal "${stderr_lines[1]}" "tools/vm: the test that was running: fake.bats: 8 silence"
	assert_equal "$(qemu_under "$BATS_TEST_TMPDIR")" ""
}

@test "a guest kernel that reports a soft lockup is stopped: status 125, the report, the running test, the console" {
	# The kernel would panic on a real one (softlockup_panic=1); a report
	# written to /dev/kmsg does not panic it, so tools/vm's console watch
	# must stop it.  The test name has a trouble word in it: such a line is
	# not a report.
	export TMPDIR="$BATS_TEST_TMPDIR"
	local start=$SECONDS
	run --separate-stderr "$VM" --timeout 1500 -- sh -c '
		echo "<3>kperf-test: fake.bats: 7 no soft lockup here" >/dev/kmsg
		echo "<0>watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [fake:1]" >/dev/kmsg
		exec sleep 2000'
	assert_equal "$status" 125
	assert_equal "${stderr_lines[0]}" "tools/vm: guest kernel locked up, stopped 15 s after it said: watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [fake:1]"
	assert_equal "${stderr_lines[1]}" "tools/vm: the test that was running: fake.bats: 7 no soft lockup here"
	[[ $stderr == *$'--- last lines of the guest console:\n'*"stuck for 22s"* ]] ||
		fail "no console tail in: $stderr"
	# Far sooner than the time limit (a generous bound: a loaded host).
	assert [ $((SECONDS - start)) -lt 900 ]
	assert_equal "$(qemu_under "$BATS_TEST_TMPDIR")" ""
}

@test "tools/vm -- false exits 1" {
	run "$VM" -- false
	assert_equal "$status" 1
}

@test "tools/vm --timeout stops a hung guest with status 124 and leaves no qemu" {
	export TMPDIR="$BATS_TEST_TMPDIR"
	local start=$SECONDS
	run --separate-stderr "$VM" --timeout 15 -- sleep 1000
	assert_equal "$status" 124
	assert_equal "$stderr" "tools/vm: guest timed out after 15 s"
	assert [ $((SECONDS - start)) -lt 25 ]
	assert_equal "$(qemu_under "$BATS_TEST_TMPDIR")" ""
}

@test "a guest that panics ends tools/vm with status 125 and the console's last lines" {
	run --separate-stderr "$VM" -- sh -c 'echo c >/proc/sysrq-trigger'
	assert_equal "$status" 125
	[[ ${stderr_lines[0]} == "tools/vm: guest failed: Kernel panic - not syncing: sysrq triggered crash"* ]] ||
		fail "unexpected first line: ${stderr_lines[0]}"
	[[ $stderr == *"Kernel Offset"* ]] || fail "no console tail in: $stderr"
}

@test "SIGTERM to tools/vm kills its qemu and exits 143" {
	start_sleeping_guest
	kill -TERM "$VM_PID"
	local status=0
	wait "$VM_PID" || status=$?
	assert_equal "$status" 143
	assert_equal "$(qemu_under "$BATS_TEST_TMPDIR")" ""
}

@test "two guests boot at once while the initramfs cache is built" {
	# The accelerator's verdict stays where it is: only the initramfs is new.
	export KPERF_VM_ACCEL_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/kthread_perf"
	export XDG_CACHE_HOME="$BATS_TEST_TMPDIR/cache"
	"$VM" -- echo one >"$BATS_TEST_TMPDIR/one" 3>&- &
	local pid=$!
	run "$VM" -- echo two
	assert_success
	assert_output two
	wait "$pid"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/one")" one
}

@test "tools/vm rejects bad usage with status 2 and one line" {
	local args
	for args in "" "--" "--cpus 0 -- true" "--timeout x -- true" "--bogus -- true" \
		"--rw /nonexistent -- true" "true"; do
		# shellcheck disable=SC2086
		run --separate-stderr "$VM" $args
		assert_equal "$status $args" "2 $args"
		assert_equal "${#stderr_lines[@]}" 1
		assert_output ""
	done
}

@test "KPERF_VM_ICOUNT: a bad shift or a second CPU is bad usage; on one CPU the guest runs on an instruction clock" {
	local v start
	for v in x 11 -1; do
		run --separate-stderr env KPERF_VM_ACCEL=tcg KPERF_VM_ICOUNT=$v "$VM" --cpus 1 -- true
		assert_equal "$status $v" "2 $v"
		assert_equal "${#stderr_lines[@]}" 1
	done
	# (TCG: a KVM guest has no instruction clock.)
	run --separate-stderr env KPERF_VM_ACCEL=tcg KPERF_VM_ICOUNT=3 "$VM" --cpus 2 -- true
	assert_failure 2
	assert_equal "$stderr" "tools/vm: KPERF_VM_ICOUNT needs --cpus 1, not 2 (try --help)"
	# An idle guest's clock jumps to its next timer (sleep=off): a
	# 60 s sleep in the guest ends long before 60 s have passed here.
	start=$SECONDS
	run --separate-stderr env KPERF_VM_ACCEL=tcg KPERF_VM_ICOUNT=3 "$VM" --cpus 1 --timeout 120 -- \
		sh -c 'echo "$KPERF_VM_ICOUNT_USED"; sleep 60; echo slept'
	assert_success
	assert_equal "$output" "3
slept"
	assert [ $((SECONDS - start)) -lt 60 ]
}

@test "tools/vm --help describes the options" {
	run "$VM" --help
	assert_success
	assert_output --partial "--timeout S"
	assert_output --partial "--rw DIR"
}

@test "tools/kernel picks a kernel with an image and headers" {
	run "$KERNEL" --version
	assert_success
	local v=$output
	assert_equal "$("$KERNEL" --image)" "/boot/vmlinuz-$v"
	assert_equal "$("$KERNEL" --build-dir)" "/lib/modules/$v/build"
	assert [ -d "/lib/modules/$v/build" ]
	if [ ! -d "/lib/modules/$(uname -r)/build" ]; then
		assert [ -f "/boot/vmlinuz-$v" ]
	fi
}

@test "tools/kernel --kernel with an unknown version fails with a message" {
	run --separate-stderr "$KERNEL" --kernel 0.0-none --image
	assert_equal "$status" 1
	assert_equal "$stderr" "tools/kernel: no kernel image /boot/vmlinuz-0.0-none"
	run "$VM" --kernel 0.0-none -- true
	assert_equal "$status" 125
}

@test "tools/install-deps has nothing to do once everything is installed" {
	run "$KP_REPO/tools/install-deps" --dry-run
	assert_success
	assert_output ""
}

@test "tools/vm stops the guest when its stdout reader goes away" {
	run bash -c '"$1" -- yes | head -n 2; echo "${PIPESTATUS[0]}"' _ "$VM"
	assert_output $'y\ny\n141'
}

@test "SIGKILL to tools/vm still takes its qemu and helpers down" {
	local i
	start_sleeping_guest
	kill -KILL "$VM_PID"
	wait "$VM_PID" || true
	for ((i = 0; i < 50; i++)); do
		[ -n "$(pgrep -f "$BATS_TEST_TMPDIR/kthread_perf-vm")" ] || break
		sleep 0.1
	done
	assert_equal "$(pgrep -af "$BATS_TEST_TMPDIR/kthread_perf-vm")" ""
}

@test "a guest survives 100 rounds of sched tracepoint flips while both vCPUs fork (issue 20)" {
	# Each enable or disable patches the static key sites in the scheduler
	# (text_poke_bp).  Under QEMU 7.2 with a thread per vCPU
	# (KPERF_VM_TCG_THREAD=multi) a vCPU kept running its old translation of
	# a patched site and looped on an int3 no longer in memory, interrupts
	# off, console silent: 3 of 3 guests hung within 60 rounds
	# (notes/lockup.md).  A hang here ends at --timeout with status 124.
	run --separate-stderr "$VM" --timeout 600 -- sh -c '
		t=/sys/kernel/tracing
		[ -d $t/events ] || mount -t tracefs nodev $t || exit 1
		pids=
		for c in 1 2; do
			(while :; do /bin/true; done) &
			pids="$pids $!"
		done
		i=0
		while [ $i -lt 100 ]; do
			for v in 1 0; do
				for e in sched_switch sched_wakeup; do
					echo $v >$t/events/sched/$e/enable || exit 1
				done
			done
			i=$((i + 1))
		done
		kill $pids
		echo "flipped $i times"'
	assert_success
	assert_output "flipped 100 times"
}
