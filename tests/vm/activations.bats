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
	coproc HOLDER { exec "$ACT_WATCH" --hold 1; }
	# Bash unsets HOLDER_PID once it has reaped the coprocess, which may
	# be before the wait below.
	local line holder=$HOLDER_PID
	read -r line <&"${HOLDER[0]}"
	jq -e '.registered == 1' <<<"$line"
	assert_equal "$(act_state)" "attached 1 registrations 1"
	run rmmod kthread_perf
	assert_failure
	assert [ -c /dev/kthread_perf ]
	exec {HOLDER[1]}>&-
	wait "$holder"
	assert_equal "$(act_state)" "attached 0 registrations 0"
	kp_unload
	assert [ ! -e /dev/kthread_perf ]
}

@test "bad requests: an unknown ioctl, unknown flags, a short read, a non-blocking read with nothing queued" {
	run python3 -c '
import errno, fcntl, os, struct
fd = os.open("/dev/kthread_perf", os.O_RDWR | os.O_NONBLOCK)
REGISTER = 0x4010B901      # _IOW(0xB9, 1, struct kp_act_register)
UNREGISTER = 0xB902        # _IO(0xB9, 2)
PREEMPT = 1                # KP_ACT_REG_PREEMPT, the one flag known
def reg(flags, reserved=0):
    fcntl.ioctl(fd, REGISTER, struct.pack("QII", 1, flags, reserved))
def unknown_flags():
    # Each unknown bit alone, and with the known one: EINVAL, or say which.
    for bit in range(1, 32):
        for flags in (1 << bit, 1 << bit | PREEMPT):
            try:
                reg(flags)
            except OSError as e:
                if e.errno == errno.EINVAL:
                    continue
            raise OSError(0, "flags %#x not refused with EINVAL" % flags)
    raise OSError(errno.EINVAL, "")
for what, call in (("ioctl", lambda: fcntl.ioctl(fd, 0xB963)),
                   ("old register", lambda: fcntl.ioctl(fd, 0x40086b01, struct.pack("Q", 1))),
                   ("flags", unknown_flags),
                   ("reserved", lambda: reg(0, 1)),
                   ("unregister", lambda: fcntl.ioctl(fd, UNREGISTER)),
                   ("preempt flag", lambda: reg(PREEMPT)),
                   ("then unregister", lambda: fcntl.ioctl(fd, UNREGISTER)),
                   ("short read", lambda: os.read(fd, 31)),
                   ("empty read", lambda: os.read(fd, 32))):
    try:
        call()
        print(what, "ok")
    except OSError as e:
        print(what, errno.errorcode.get(e.errno, e))
'
	assert_success
	assert_output $'ioctl ENOTTY\nold register ENOTTY\nflags EINVAL\nreserved EINVAL\nunregister ENOENT\npreempt flag ok\nthen unregister ok\nshort read EINVAL\nempty read EAGAIN'
}

@test "a forked child can neither register on, unregister from nor read its parent's file" {
	run --separate-stderr "$ACT_WATCH" --fork-check
	assert_success
	jq -e '.child_register == "EPERM" and .child_unregister == "EPERM"
		and .child_read == "EPERM" and .child_poll_err == true
		and .parent_read == true' <<<"$output"
}

@test "a registration ends at execve: the new program is not watched" {
	run --separate-stderr "$ACT_WATCH" --register-exec cat "$ACT_DEBUGFS"
	assert_success
	# The file stays open in the new program; its registration does not.
	assert_line "files 1"
	assert_line "registrations 0"
}

@test "open files are limited per user (EMFILE) and overall (ENFILE), and memory is charged to the caller's cgroup" {
	kp_unload
	kp_load act_max_files_per_user=3
	run --separate-stderr "$ACT_WATCH" --open-files 5
	assert_success
	jq -e '.opened == 3 and .errno == "EMFILE"' <<<"$output"
	kp_unload
	kp_load act_max_files=2
	run --separate-stderr "$ACT_WATCH" --open-files 5
	assert_success
	jq -e '.opened == 2 and .errno == "ENFILE"' <<<"$output"
	assert_equal "$(sed -n 's/^files //p' "$ACT_DEBUGFS")" 0

	# Each file's queue (32 KiB) is charged to the opener's memory cgroup.
	kp_unload
	kp_load
	local cg=/sys/fs/cgroup/kp_act_test
	mountpoint -q /sys/fs/cgroup || mount -t cgroup2 none /sys/fs/cgroup
	echo +memory >/sys/fs/cgroup/cgroup.subtree_control
	mkdir -p "$cg"
	run --separate-stderr sh -c 'echo $$ >"$1/cgroup.procs" && exec "$2" --open-files 32' \
		sh "$cg" "$ACT_WATCH"
	rmdir "$cg"
	assert_success
	jq -e '.opened == 32 and .memcg_delta >= 32 * 32768' <<<"$output"
}

@test "registrations are limited overall (ENOSPC) and per user (EDQUOT); a refused one changes nothing" {
	kp_unload
	kp_load act_max_registrations=4
	run --separate-stderr "$ACT_WATCH" --hold 6 </dev/null
	assert_failure	# not every thread could register
	jq -e '.threads == 6 and .registered == 4 and .errno == "ENOSPC"' <<<"$output"
	echo 2 >/sys/module/kthread_perf/parameters/act_max_registrations_per_user
	run --separate-stderr "$ACT_WATCH" --hold 3 </dev/null
	jq -e '.registered == 2 and .errno == "EDQUOT"' <<<"$output"
	assert_equal "$(act_state)" "attached 0 registrations 0"
}

@test "1000 register/unregister cycles attach the probes once: no kernel text is patched per registration" {
	local before after
	before=$(sed -n 's/^attaches //p' "$ACT_DEBUGFS")
	run --separate-stderr "$ACT_WATCH" --register-cycles 1000
	assert_success
	after=$(sed -n 's/^attaches //p' "$ACT_DEBUGFS")
	assert_equal "$((after - before))" 1
}

@test "a sleep that a pending signal cuts short before it begins is no BLOCKED" {
	run --separate-stderr "$ACT_WATCH" --signal-storm 10000
	echo "$output"
	assert_success
	jq -e '.false_blocks == 0 and .out_of_order == 0 and .eintr > 0
		and .blocked > 0' <<<"$output"
}

@test "a full queue drops a BLOCKED and its UNBLOCKED together: no UNBLOCKED arrives alone" {
	run --separate-stderr "$ACT_WATCH" --overflow 4000
	echo "$output"
	assert_success
	jq -e '.lost > 0 and .out_of_order == 0' <<<"$output"
}

@test "a read() that cannot copy out takes nothing: the next read() gets the same events" {
	run --separate-stderr "$ACT_WATCH" --efault
	echo "$output"
	assert_success
	# The first event of all, BLOCKED 1, comes first again (a debug
	# kernel may add blocks of its own, on locks, before the unregister).
	jq -e '.first_read == "EFAULT" and .then >= 2 and .type == 1
		and .seq == 1' <<<"$output"
}

# Part 4 of issue 22: PREEMPTED and RESUMED, for a registration that asks
# (KP_ACT_REG_PREEMPT).  act_watch --preempt runs a registered thread on
# CPU 0 beside a spinning one until its own count of switches away while
# runnable (getrusage()'s ru_nivcsw) has moved K times, and checks each
# pair against where the thread saw its count move.

@test "with KP_ACT_REG_PREEMPT every preemption is a PREEMPTED, then its RESUMED, where the thread saw it" {
	run --separate-stderr "$ACT_WATCH" --preempt 20
	echo "$output"
	assert_success
	jq -e '.flag and .nivcsw_loop >= 20 and .preempted >= 20
		and .preempted == .resumed and .preempted <= .nivcsw
		and .strays == 0 and .missed == 0 and .out_of_order == 0
		and .lost == 0 and .foreign == 0 and .off_cpu_ns > 0' <<<"$output"
	assert_equal "$(sed -n 's/^preempt_registrations //p' "$ACT_DEBUGFS")" 0
}

@test "with KP_ACT_REG_PREEMPT a sched_yield() that lets another thread run is a PREEMPTED and RESUMED pair" {
	run --separate-stderr "$ACT_WATCH" --preempt 300 --yield
	echo "$output"
	assert_success
	jq -e '.yield and .preempted >= 300 and .preempted == .resumed
		and .preempted <= .nivcsw and .strays == 0 and .missed == 0
		and .out_of_order == 0 and .lost == 0' <<<"$output"
}

@test "without KP_ACT_REG_PREEMPT a preempted thread gets no PREEMPTED or RESUMED" {
	run --separate-stderr "$ACT_WATCH" --preempt 20 --no-flag
	echo "$output"
	assert_success
	jq -e '(.flag | not) and .nivcsw_loop >= 20 and .nivcsw >= 20
		and .preempted == 0 and .resumed == 0
		and .out_of_order == 0' <<<"$output"
}

@test "debugfs counts the registrations that asked for PREEMPTED" {
	coproc HOLDER { exec python3 -c '
import fcntl, os, struct, sys
fd = os.open("/dev/kthread_perf", os.O_RDWR)
fcntl.ioctl(fd, 0x4010B901, struct.pack("QII", 1, 1, 0))
print("registered", flush=True)
sys.stdin.read()
'; }
	local line holder=$HOLDER_PID
	read -r line <&"${HOLDER[0]}"
	assert_equal "$line" registered
	assert_equal "$(sed -n 's/^preempt_registrations //p' "$ACT_DEBUGFS")" 1
	exec {HOLDER[1]}>&-
	wait "$holder"
	assert_equal "$(act_state)" "attached 0 registrations 0"
	assert_equal "$(sed -n 's/^preempt_registrations //p' "$ACT_DEBUGFS")" 0
}

@test "an init that fails early unwinds without a warning" {
	kp_unload
	run insmod "$KP_KO" inject_fail_init=1
	assert_failure
	assert [ ! -d /sys/module/kthread_perf ]
	kp_assert_dmesg_clean
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
