#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# The life of a kthread_perf.ko run: stop, poll() on state, many workers,
# concurrent writers and readers, unloading mid-run, and a clean kernel
# log at the end.

load ../lib/common

setup_file() { kp_setup_file; }
teardown_file() { kp_teardown_file; }
setup() { kp_load; }
teardown() {
	local pid
	for pid in ${BG_PIDS:-}; do
		kill "$pid" 2>/dev/null || true
	done
	wait
	kp_unload
}

PY=/usr/bin/python3

# stop_mid_run WORK_MODE SYNC_MODE [SLEEP_US]: stop a long run of 4 workers
# and check that stop returns with every worker gone and exact counts.
stop_mid_run() {
	local before m="$1/$2"
	before="$(kp_count_kthreads kp_worker)"
	kp_config 4 "$1" "$2" 1000000000000 1000 "${3:-0}"
	kp_set start 1
	kp_wait_ops 1
	assert_equal "$m $(kp_get state)" "$m running"
	kp_set stop 1
	assert_equal "$m $(kp_get state)" "$m stopped"
	assert_equal "$m threads $(kp_count_kthreads kp_worker)" "$m threads $before"
	ops="$(kp_get total_ops)"
	assert [ "$ops" -gt 0 ]
	assert_equal "$m counter $(kp_get counter)" "$m counter $ops"
	assert_equal "$m sum $(kp_threads_sum ops)" "$m sum $ops"
	kp_hist_read
	waits="$(kp_get waits)"
	assert_equal "$m samples $KP_HIST_samples" "$m samples $waits"
	assert_equal "$m buckets $KP_HIST_SUM" "$m buckets $waits"
	# Frozen after the stop.
	kp_sleep 0.1
	assert_equal "$m $(kp_get total_ops)" "$m $ops"
}

@test "stop ends a run in every work mode and returns when every worker has exited" {
	stop_mid_run normal atomic
	stop_mid_run yield spinlock
	stop_mid_run sleep mutex 1000000	# an hrtimer sleep of 1 s
	stop_mid_run sleep percpu 0		# a tick
	stop_mid_run pingpong mutex
	stop_mid_run block atomic	# workers blocked in a socket read
	stop_mid_run barrier mutex	# workers waiting at the barrier
	stop_mid_run spawn atomic
}

@test "poll() on state wakes when a run starts and when it ends" {
	kp_config 2 sleep atomic 2000 100 20000
	run "$PY" - "$KP_SYS" <<'EOF'
import os, select, sys, threading, time
sysdir = sys.argv[1]
fd = os.open(sysdir + "/state", os.O_RDONLY)
print("initial", os.read(fd, 64).decode().strip())

def wait_change(timeout_ms):
    p = select.poll()
    p.register(fd, select.POLLPRI | select.POLLERR)
    t = time.monotonic()
    ev = p.poll(timeout_ms)
    os.lseek(fd, 0, os.SEEK_SET)
    return bool(ev), os.read(fd, 64).decode().strip(), time.monotonic() - t

# The handshake: the writer waits until the main thread sleeps in poll()
# (its /proc syscall is poll, 7, or ppoll, 271), then starts the run.  poll()
# must not return before that write.
main_tid = threading.get_native_id()
written = []

def start_when_polling():
    path = "/proc/self/task/%d/syscall" % main_tid
    while open(path).read().split()[0] not in ("7", "271"):
        time.sleep(0.01)
    written.append(time.monotonic())
    with open(sysdir + "/start", "w") as f:
        f.write("1\n")

t = threading.Thread(target=start_when_polling)
t.start()
ev, state, waited = wait_change(30000)
woke_at = time.monotonic()
t.join()
print("woke", ev, state, "waited", woke_at >= written[0])
ev, state, waited = wait_change(60000)
print("woke", ev, state)
EOF
	assert_success
	assert_line --index 0 "initial idle"
	assert_line --index 1 "woke True running waited True"
	assert_line --index 2 "woke True done"
}

@test "poll() on state wakes when a run is stopped or fails" {
	kp_config 2 sleep atomic 1000000000 1 10000
	run "$PY" - "$KP_SYS" "$KP_PARAMS" <<'EOF'
import os, select, sys, threading
sysdir, params = sys.argv[1], sys.argv[2]
with open(sysdir + "/start", "w") as f:
    f.write("1\n")
fd = os.open(sysdir + "/state", os.O_RDONLY)
print("initial", os.read(fd, 64).decode().strip())

def wait_change():
    p = select.poll()
    p.register(fd, select.POLLPRI | select.POLLERR)
    ev = p.poll(30000)
    os.lseek(fd, 0, os.SEEK_SET)
    return bool(ev), os.read(fd, 64).decode().strip()

# The writers run in threads so that the change can come while the main
# thread is inside poll(); a change that comes before it still wakes poll()
# (sysfs counts events since the last read), so the delay is no race.
# Their errors are printed after the join, in a fixed order.
errors = []

def write(name):
    try:
        with open(sysdir + "/" + name, "w") as f:
            f.write("1\n")
    except OSError as e:
        errors.append("write %s %s" % (name, e.strerror))

t = threading.Timer(0.3, write, ["stop"])
t.start()
print("woke", *wait_change())
t.join()
with open(params + "/inject_fail_worker", "w") as f:
    f.write("1\n")
t = threading.Timer(0.3, write, ["start"])
t.start()
woke = wait_change()
t.join()
print("woke", *woke)
print(*errors, sep="\n")
EOF
	assert_success
	assert_line --index 0 "initial running"
	assert_line --index 1 "woke True stopped"
	assert_line --index 2 "woke True failed"
	assert_line --index 3 "write start Cannot allocate memory"
}

@test "1024 workers bound to one CPU start and stop promptly" {
	before="$(kp_count_kthreads kp_worker)"
	kp_config 1024 normal atomic 1000000000000 1000 0 1
	t0=$SECONDS
	kp_set start 1
	assert_equal "$(kp_get state)" running
	kp_thread_dirs
	assert_equal "${#KP_THREAD_DIRS[@]}" 1024
	assert_equal "$(kp_count_kthreads kp_worker)" $((before + 1024))
	kp_wait_ops 1024
	kp_set stop 1
	assert_equal "$(kp_get state)" stopped
	assert_equal "$(kp_count_kthreads kp_worker)" "$before"
	echo "# start+stop of 1024 workers: $((SECONDS - t0)) s" >&3
	# Generous: creating 1024 kthreads under a loaded TCG takes a while.
	assert [ $((SECONDS - t0)) -lt 240 ]
	assert_equal "$(kp_get counter)" "$(kp_get total_ops)"
}

@test "concurrent writers and readers for a few seconds never break the module" {
	n=${#KP_CPUS[@]}
	BG_PIDS=""
	# Configuration writers, valid and invalid values.
	# (set +e: bats runs tests under set -e; failed writes are expected.)
	(
		set +e
		modes=(normal yield sleep pingpong bogus)
		syncs=(atomic spinlock mutex percpu bogus)
		while :; do
			echo $((RANDOM % 10)) >$KP_SYS/thread_count
			echo ${modes[RANDOM % 5]} >$KP_SYS/work_mode
			echo ${syncs[RANDOM % 5]} >$KP_SYS/sync_mode
			echo $((RANDOM * 10)) >$KP_SYS/work_target
			echo $((RANDOM % 2000)) >$KP_SYS/yield_interval
			echo $((RANDOM % 500)) >$KP_SYS/sleep_us
			echo $((RANDOM % (n + 2))) >$KP_SYS/bind_cpu_count
		done 2>/dev/null
	) &
	BG_PIDS+=" $!"
	# Two starters and a stopper.
	for i in 1 2; do
		(set +e; while :; do
			echo 1 >$KP_SYS/start
			kp_sleep 0.0$((RANDOM % 5))
		done 2>/dev/null) &
		BG_PIDS+=" $!"
	done
	(set +e; while :; do
		kp_sleep 0.1
		echo 1 >$KP_SYS/stop
	done 2>/dev/null) &
	BG_PIDS+=" $!"
	# Readers of every file, the per-thread files and the histogram.
	(set +e; while :; do
		for f in $KP_SYS/* $KP_SYS/threads/*/* $KP_HIST; do
			read -r v <"$f"
		done
	done 2>/dev/null) &
	BG_PIDS+=" $!"
	(set +e; while :; do
		mapfile -t lines <$KP_HIST
	done 2>/dev/null) &
	BG_PIDS+=" $!"

	kp_sleep 5
	# Each loop must still be running: none may have hung or died.
	for pid in $BG_PIDS; do
		kill "$pid" || fail "background loop $pid ended early"
	done
	wait
	BG_PIDS=""
	echo 1 >"$KP_SYS/stop"
	run kp_get state
	assert_output --regexp '^(idle|done|stopped|failed)$'
	assert [ "$(kp_get run_id)" -gt 0 ]
	kp_run 4 yield mutex 3000 1000
	kp_check_exact_run 4 3000 1000 yield
}

@test "unloading during a run stops the workers and leaves no thread behind" {
	before="$(kp_count_kthreads kp_)"
	for wm in normal yield sleep pingpong barrier spawn block; do
		kp_config 8 "$wm" mutex 1000000000000 1000 100000
		kp_set start 1
		kp_wait_ops 1
		assert_equal "$wm $(kp_get state)" "$wm running"
		kp_unload
		assert [ ! -e "$KP_SYS" ]
		assert_equal "$wm $(kp_count_kthreads kp_)" "$wm $before"
		kp_load
	done
}

@test "a spawn that cannot create its thread fails the run with one message, keeping what was counted" {
	kp_unload
	kp_load inject_fail_spawn=7
	kp_config 2 spawn atomic 100000 10
	kp_set start 1
	kp_wait_finished 120
	assert_equal "$KP_STATE" failed
	ops="$(kp_get total_ops)"
	assert [ "$ops" -gt 0 ]
	assert_equal "$(kp_get counter)" "$ops"
	run kp_dmesg_since_mark
	assert_equal "$(grep -c 'cannot create a thread to spawn: -12' <<<"$output")" 1
	assert_equal "$(kp_count_kthreads kp_worker) $(kp_count_kthreads kp_spawn)" "0 0"
	# The next run, without the fault, is whole again.
	echo 0 >/sys/module/kthread_perf/parameters/inject_fail_spawn
	kp_run 2 spawn atomic 1000 100
	kp_check_exact_run 2 1000 100 spawn
}

@test "the module reloads and runs after being unloaded mid-run" {
	kp_config 4 normal atomic 1000000000000 1000
	kp_set start 1
	kp_unload
	kp_load
	assert_equal "$(kp_get state)" idle
	assert_equal "$(kp_get run_id)" 0
	kp_run 4 normal spinlock 5000 1000
	kp_check_exact_run 4 5000 1000 normal
}

@test "the kernel log shows no warning, bug, lockup, stall or hung task" {
	kp_assert_dmesg_clean
}
