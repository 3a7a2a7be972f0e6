#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Scheduler activations (SPEC.md section 9): /dev/kthread_perf tells a
# registered thread's runtime when the thread blocks in the kernel and when
# it is woken.  userspace/act_watch drives it: its unregistered main thread
# wakes each registered worker only when it has read that worker's BLOCKED
# event, so a run ends only if every block is reported.

load ../lib/common

ACT_WATCH="$KP_REPO/userspace/act_watch"
ACT_DEBUGFS=/sys/kernel/debug/kthread_perf/activations

setup_file() {
	kp_setup_file
	[ -x "$ACT_WATCH" ] || { echo "$ACT_WATCH is missing: run make" >&2; return 1; }
}
teardown_file() { kp_teardown_file; }
setup() { kp_load; }
teardown() { kp_unload; }

# act_state: "attached A registrations R" from debugfs, once the detach
# work that follows the last registration has run (bounded wait).
act_state() {
	local i a r
	for ((i = 0; i < 600; i++)); do
		{ read -r _ a; read -r _ r; } <"$ACT_DEBUGFS"
		[ "$r" != 0 ] || [ "$a" = 0 ] && break
		kp_sleep 0.05
	done
	echo "attached $a registrations $r"
}

@test "/dev/kthread_perf comes and goes with the module, open to every user" {
	assert [ -c /dev/kthread_perf ]
	assert_equal "$(stat -c %a /dev/kthread_perf)" 666
	assert_equal "$(act_state)" "attached 0 registrations 0"
	kp_unload
	assert [ ! -e /dev/kthread_perf ]
}

@test "every block of a registered thread is reported once, then its wake-up, in order" {
	local n=4 k=300
	run --separate-stderr "$ACT_WATCH" --threads $n --cycles $k
	assert_success
	jq -e --argjson t $((n * k)) --argjson n $n --argjson k $k '
		.threads == $n and .cycles == $k and .blocked == $t
		and .unblocked == $t and .lost == 0 and .foreign == 0
		and .out_of_order == 0 and .latency_ns.p50 > 0
		and .latency_ns.p50 <= .latency_ns.p99
		and .latency_ns.p99 <= .latency_ns.max' <<<"$output"
}

@test "many registered threads on two CPUs lose no event" {
	local n=64 k=50
	run --separate-stderr "$ACT_WATCH" --threads $n --cycles $k
	assert_success
	jq -e --argjson t $((n * k)) '.blocked == $t and .unblocked == $t
		and .lost == 0 and .out_of_order == 0' <<<"$output"
}

@test "a thread that did not register causes no event" {
	run --separate-stderr "$ACT_WATCH" --threads 1 --cycles 10 --unregistered
	assert_success
	jq -e '.foreign == 0 and .blocked == 10' <<<"$output"
}

@test "registrations end when their threads exit, and the probes detach" {
	"$ACT_WATCH" --threads 8 --cycles 5 >/dev/null
	assert_equal "$(act_state)" "attached 0 registrations 0"
}

@test "1000 register/unregister cycles: misuse gets EBUSY and ENOENT, nothing leaks" {
	run --separate-stderr "$ACT_WATCH" --register-cycles 1000
	assert_success
	assert_output '{"register_cycles": 1000, "errors": 0, "events": false}'
	assert_equal "$(act_state)" "attached 0 registrations 0"
}

@test "while a registration lives the probes are attached, and rmmod is refused" {
	coproc HOLDER { exec python3 -c '
import fcntl, os, struct, sys
fd = os.open("/dev/kthread_perf", os.O_RDWR)
fcntl.ioctl(fd, 0x40086b01, struct.pack("Q", 42))   # KP_ACT_REGISTER
print("registered", flush=True)
sys.stdin.readline()
'; }
	local line
	read -r line <&"${HOLDER[0]}"
	assert_equal "$line" registered
	assert_equal "$(act_state)" "attached 1 registrations 1"
	run rmmod kthread_perf
	assert_failure
	assert [ -c /dev/kthread_perf ]
	echo done >&"${HOLDER[1]}"
	wait "$HOLDER_PID"
	assert_equal "$(act_state)" "attached 0 registrations 0"
	kp_unload
	assert [ ! -e /dev/kthread_perf ]
}

@test "bad requests: an unknown ioctl, a short read, a non-blocking read with nothing queued" {
	run python3 -c '
import errno, fcntl, os
fd = os.open("/dev/kthread_perf", os.O_RDWR | os.O_NONBLOCK)
for what, call in (("ioctl", lambda: fcntl.ioctl(fd, 0x6b63)),
                   ("unregister", lambda: fcntl.ioctl(fd, 0x6b02)),
                   ("short read", lambda: os.read(fd, 8)),
                   ("empty read", lambda: os.read(fd, 24))):
    try:
        call()
        print(what, "ok")
    except OSError as e:
        print(what, errno.errorcode[e.errno])
'
	assert_success
	assert_output $'ioctl ENOTTY\nunregister ENOENT\nshort read EINVAL\nempty read EAGAIN'
}

# coro_block W: coro_bench's block mode (plain read()s) on W workers.
coro_block() {
	run --separate-stderr timeout 300 "$KP_REPO/coro/coro_bench" --json \
		--workers "$1" --thread-count 64 --work-mode block \
		--yield-interval 100 --work-target 10000
	assert_success
	jq -e --argjson w "$1" '.activations == "module" and .config.workers == $w
		and .total_ops == 640000 and .counter == 640000 and .waits == 6400
		and .latency_hist.samples == 6400
		and all(.threads[]; .ops == 10000 and .waits == 100)' <<<"$output"
}

@test "libcoro: coro_bench's block mode counts exactly on 1 and 2 workers with activations from the module" {
	coro_block 1
	assert_equal "$(act_state)" "attached 0 registrations 0"
	coro_block 2
	assert_equal "$(act_state)" "attached 0 registrations 0"
}

@test "libcoro: 1000 siblings on one worker finish while a coroutine sits in a plain read() that waits for them" {
	run --separate-stderr timeout 300 "$KP_REPO/build/coro/tests/t_activations" 1
	assert_success
	assert_output --partial "ok activations (module, 1 worker(s)): 1000 siblings finished"
}

@test "the kernel log shows no warning, bug, lockup, stall or hung task" {
	kp_assert_dmesg_clean
}
