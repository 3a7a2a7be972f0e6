# SPDX-License-Identifier: GPL-2.0
#
# Helpers of the VM suites that run one workload through the module's sysfs
# files (klt) and through a user-space model, then compare: `load
# ../lib/common` and `load ../lib/compare`.  Files are read with bash's
# read, not cat: every fork+exec costs tens of milliseconds in a TCG guest.

SYS=/sys/kernel/kthread_perf
HIST=/sys/kernel/debug/kthread_perf/latency_hist

# Load the module unless it is there already (unload only what we loaded),
# and list the online CPUs in ONLINE_CPUS.
kp_compare_setup_file() {
	export LOADED_HERE=0
	if [ ! -d "$SYS" ]; then
		insmod "$KP_REPO/module/kthread_perf.ko"
		LOADED_HERE=1
	fi
	ONLINE_CPUS="$(tr ',' '\n' </sys/devices/system/cpu/online |
		awk -F- '{ hi = NF > 1 ? $2 : $1; for (c = $1; c <= hi; c++) print c }' |
		tr '\n' ' ')"
	export ONLINE_CPUS
}

kp_compare_teardown_file() {
	if [ -d "$SYS" ]; then
		echo 1 >"$SYS/stop" || true
	fi
	if [ "$LOADED_HERE" = 1 ]; then
		rmmod kthread_perf
	fi
}

# rd VAR FILE: read the one-line FILE into VAR without a fork.
rd() {
	local -n _rd_var="$1"
	read -r _rd_var <"$2"
}

# klt_run TC WORK_MODE SYNC_MODE WT YI SLEEP_US [BIND]: configure the module
# through sysfs, start, wait for "done", and leave in $klt a JSON object
# read back from the files: totals, per-thread rows and the histogram's
# samples and bucket sum.
klt_run() {
	local tc="$1" i state rows="" f v lo hi count buckets=0 samples=null
	local -A t

	echo "$1" >"$SYS/thread_count"
	echo "$2" >"$SYS/work_mode"
	echo "$3" >"$SYS/sync_mode"
	echo "$4" >"$SYS/work_target"
	echo "$5" >"$SYS/yield_interval"
	echo "$6" >"$SYS/sleep_us"
	echo "${7:-0}" >"$SYS/bind_cpu_count"
	echo 1 >"$SYS/start"
	for ((i = 0; i < 3000; i++)); do
		rd state "$SYS/state"
		[ "$state" = running ] || break
		sleep 0.1
	done
	if [ "$state" != done ]; then
		echo "klt run ended in state '$state'" >&2
		return 1
	fi
	for ((i = 0; i < tc; i++)); do
		for f in pid cpu last_cpu ops nvcsw nivcsw waits; do
			rd v "$SYS/threads/$i/$f"
			t[$f]=$v
		done
		rows+="${rows:+, }{\"id\": $i, \"pid\": ${t[pid]}, \"cpu\": ${t[cpu]},"
		rows+=" \"last_cpu\": ${t[last_cpu]}, \"ops\": ${t[ops]},"
		rows+=" \"nvcsw\": ${t[nvcsw]}, \"nivcsw\": ${t[nivcsw]},"
		rows+=" \"waits\": ${t[waits]}}"
	done
	while read -r lo hi count; do
		if [ "$lo" = "#" ]; then
			[ "$hi" = samples ] && samples=$count
		else
			buckets=$((buckets + count))
		fi
	done <"$HIST"
	for f in total_ops counter waits nvcsw; do
		rd v "$SYS/$f"
		t[$f]=$v
	done
	klt="{\"total_ops\": ${t[total_ops]}, \"counter\": ${t[counter]},
		\"waits\": ${t[waits]}, \"nvcsw\": ${t[nvcsw]}, \"threads\": [$rows],
		\"latency_hist\": {\"samples\": $samples, \"bucket_sum\": $buckets}}"
}
