# SPDX-License-Identifier: GPL-2.0
#
# The one helper file of the bats suites: `load ../lib/common` from
# tests/host or tests/vm.  It gives the repository root, bats-support and
# bats-assert, whether we run in the tools/vm guest, the module's paths
# and file lists, the online CPUs, and the helpers of the module suites
# (kp_*) and of the klt-versus-user-space comparisons (klt_run, rd).
#
# Under QEMU TCG every exec costs most of a second (the binary comes over
# 9p), so these helpers use bash builtins: read instead of cat, globs
# instead of ls, kp_sleep instead of sleep.  The module helpers run as root
# inside tools/vm, where kthread_perf.ko can be loaded; a module suite's
# setup loads the module and its teardown unloads it.

bats_require_minimum_version 1.5.0

# The repository root, without a fork: tests/<host|vm>/../..
KP_REPO=${BATS_TEST_DIRNAME%/*}
KP_REPO=${KP_REPO%/*}
[[ $KP_REPO == /* ]] || KP_REPO="$(cd "$KP_REPO" && pwd)"
export KP_REPO

# bats-support and bats-assert, sourced file by file: their load.bash runs
# $(dirname ...) once per file, an exec each, which costs seconds per test
# under TCG.
kp_source_bats_libs() {
	local dir f
	for dir in ${BATS_LIB_PATH//:/ } /usr/lib/bats /usr/local/lib/bats \
		/usr/lib/node_modules /usr/local/lib/node_modules; do
		[ -d "$dir/bats-support/src" ] && [ -d "$dir/bats-assert/src" ] || continue
		for f in "$dir"/bats-support/src/*.bash "$dir"/bats-assert/src/*.bash; do
			# shellcheck source=/dev/null
			source "$f"
		done
		return 0
	done
	echo "bats-support and bats-assert not found: run tools/install-deps" >&2
	return 1
}
kp_source_bats_libs

# Inside the tools/vm guest, each test says on the kernel console that it
# starts, so that when the guest locks up tools/vm can name the test that
# was running (it quotes the last such line).  Every test's process sources
# this file before the test runs, with BATS_TEST_NAME set (bats-exec-test);
# setup_file's process has none.  The name is bats's encoding of the
# description: "_" for a space, "-XX" for any other character.  Level <3>,
# so that the line reaches the console under "quiet".  A builtin echo: no
# exec.  The kernel-trouble checks below skip these lines, whatever the
# test is called.
if [ -n "${KPERF_IN_VM:-}" ] && [ -w /dev/kmsg ]; then
	kp_test_name=${BATS_TEST_NAME#test_}
	kp_test_name=${kp_test_name//_/ }
	printf -v kp_test_name '%b' "${kp_test_name//-/\\x}"
	if [ -n "${BATS_TEST_NAME:-}" ]; then
		kp_test_name="${BATS_SUITE_TEST_NUMBER:-?} $kp_test_name"
	else
		kp_test_name="setup_file"
	fi
	echo "<3>kperf-test: ${BATS_TEST_FILENAME##*/}: $kp_test_name" >/dev/kmsg 2>/dev/null || true
	unset kp_test_name
fi

# True inside a tools/vm guest: its kernel command line names the job.
kp_in_vm() {
	[[ " $(cat /proc/cmdline 2>/dev/null) " == *" kperf_job="* ]]
}

# The kernel log lines that mean something went wrong in the kernel.
KP_KERNEL_TROUBLE='WARNING|BUG|Oops|Call Trace|lockup|stall|hung task|blocked for more than'

# kp_wait_busy PID [TICKS]: the handshake before signalling a run: wait until
# PID catches SIGINT (its handler is in place, so the signal cannot kill it)
# and has used TICKS clock ticks of CPU time (default 2: its workers are past
# their start and have done work).  Fails after 120 s or when PID is gone.
kp_wait_busy() {
	local pid=$1 want=${2:-2} i caught stat
	for ((i = 0; i < 1200; i++)); do
		caught=$(sed -n 's/^SigCgt:[[:space:]]*//p' "/proc/$pid/status" 2>/dev/null) || return 1
		[ -n "$caught" ] || return 1
		stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
		stat=${stat##*) }
		read -r -a stat <<<"$stat"
		# SIGINT is signal 2: bit 1 of the mask; utime, stime are fields 14, 15.
		if (((0x$caught & 2) && stat[11] + stat[12] >= want)); then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# kp_sigint_run BIN ARGS...: run a model binary with --json in the
# background, interrupt it once it is busy (kp_wait_busy), and check that it
# exits 0 saying it stopped early.  Its JSON is left in $json.
kp_sigint_run() {
	local out="$BATS_TEST_TMPDIR/sigint.json" err="$BATS_TEST_TMPDIR/sigint.err"
	local pid rc=0
	"$@" --json >"$out" 2>"$err" &
	pid=$!
	kp_wait_busy "$pid"
	kill -INT "$pid"
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ] || { echo "$* exited $rc: $(cat "$err")" >&2; return 1; }
	grep -q "stopped early" "$err" || { echo "no 'stopped early' from $*" >&2; return 1; }
	json=$(cat "$out")
}

# ---- the model binaries (pthread_bench, coro_bench) ----

# The sync modes, in SPEC order.
KP_SYNC_MODES=(atomic spinlock mutex percpu)

# kp_each_sync_mode CMD TC WORK_MODE ARGS...: CMD TC WORK_MODE SYNC_MODE
# ARGS... for every sync mode (the argument order of kp_config, klt_run and
# the comparison suites' compare).
kp_each_sync_mode() {
	local cmd=$1 tc=$2 wm=$3 sm
	shift 3
	for sm in "${KP_SYNC_MODES[@]}"; do
		"$cmd" "$tc" "$wm" "$sm" "$@"
	done
}

# kp_json BIN ARGS...: run BIN --json ARGS... (a hang fails after
# KP_TIMEOUT seconds, default 300); fail with its output on a non-zero
# status, else leave the JSON in $json.
kp_json() {
	local bin="$1"
	shift
	run --separate-stderr timeout "${KP_TIMEOUT:-300}" "$bin" --json "$@"
	if [ "$status" -ne 0 ]; then
		echo "$bin $* exited $status: $stderr $output" >&2
		return 1
	fi
	json="$output"
}

# The counts SPEC.md section 2 fixes, as a jq function of a result (a
# binary's JSON or klt_run's $klt): TC workers of WT operations each, WAITS
# waits in all, SAMPLES of them timed (default: each one).
KP_JQ_COUNTS='def counts_exact($ops; $waits; $tc; $per; $samples):
	.counter == $ops and .total_ops == $ops
	and (.threads | length) == $tc
	and all(.threads[]; .ops == $per)
	and .waits == $waits
	and ([.threads[].waits] | add) == $waits
	and .latency_hist.samples == $samples;
	def counts_exact($ops; $waits; $tc; $per):
	counts_exact($ops; $waits; $tc; $per; $waits);'

# kp_check_counts TC WT YI WORK_MODE [WORKERS [LATENCY_SAMPLE]]: the
# invariants of SPEC.md section 2 on $json, expected values computed from
# the inputs; WORKERS (OS threads, default TC) is what config.workers must
# say; each worker's every LATENCY_SAMPLE-th wait (default 1) is timed.
kp_check_counts() {
	local tc="$1" wt="$2" yi="$3" mode="$4" workers="${5:-$1}" n="${6:-1}"
	local per=0 samples=0

	[ "$mode" = normal ] || per=$((wt / yi))
	[ "$n" -eq 0 ] || samples=$((tc * (per / n)))
	jq -e --argjson ops $((tc * wt)) --argjson waits $((tc * per)) \
		--argjson tc "$tc" --argjson per "$wt" --argjson w "$workers" \
		--argjson s "$samples" "$KP_JQ_COUNTS"'
		counts_exact($ops; $waits; $tc; $per; $s)
		and ([.latency_hist.buckets[].count] | add // 0) == $s
		and .elapsed_ns > 0
		and .config.workers == $w' <<<"$json" >/dev/null || {
		echo "invariants fail: tc=$tc wt=$wt yi=$yi mode=$mode workers=$workers" >&2
		jq -c 'del(.latency_hist.buckets) | del(.threads)' <<<"$json" >&2
		return 1
	}
}

# kp_matrix WORKERS BIN TC WT YI SLEEP_US WORK_MODES...: every sync mode in
# each work mode, counts checked, on each of WORKERS ("1 2": --workers 1,
# then 2; 0: no --workers, one OS thread per worker as in pthread_bench).
kp_matrix() {
	local workers="$1" bin="$2" tc="$3" wt="$4" yi="$5" us="$6" w wm sm
	local -a opt
	shift 6
	for w in $workers; do
		opt=()
		((w == 0)) || opt=(--workers "$w")
		for wm in "$@"; do
			for sm in "${KP_SYNC_MODES[@]}"; do
				kp_json "$bin" "${opt[@]}" --thread-count "$tc" \
					--work-mode "$wm" --sync-mode "$sm" \
					--work-target "$wt" --yield-interval "$yi" \
					--sleep-us "$us"
				kp_check_counts "$tc" "$wt" "$yi" "$wm" $((w ? w : tc))
				jq -e --arg wm "$wm" --arg sm "$sm" \
					'.config.work_mode == $wm and .config.sync_mode == $sm' \
					<<<"$json" >/dev/null
			done
		done
	done
}

# One configuration per work mode that the suites of the model binaries
# count exactly in every sync mode: TC WT YI SLEEP_US (kp_count_every_mode).
declare -gA KP_MODE_RUNS=(
	[normal]="4 100000 1000 0"
	[yield]="6 30500 1000 0"
	[sleep]="3 10000 1000 50"
	[pingpong]="4 30500 500 0"
	[block]="4 30500 500 0"
	[barrier]="32 20500 500 0"
	[spawn]="4 20500 500 0"
)

# kp_count_every_mode WORKERS BIN WORK_MODE...: kp_matrix of each work
# mode's configuration in KP_MODE_RUNS.
kp_count_every_mode() {
	local workers="$1" bin="$2" wm
	shift 2
	for wm in "$@"; do
		# shellcheck disable=SC2086
		kp_matrix "$workers" "$bin" ${KP_MODE_RUNS[$wm]} "$wm"
	done
}

# kp_check_spec_keys MODEL [MEMBER...]: $json is MODEL's and has exactly
# the members of SPEC.md section 5, in order, with the model's own MEMBERs
# after latency_hist; config, the thread rows and the histogram exactly theirs.
kp_check_spec_keys() {
	jq -e --arg model "$1" '
		.model == $model
		and keys_unsorted == ["model", "config", "total_ops", "counter",
			"elapsed_ns", "throughput", "user_ns", "sys_ns", "nvcsw",
			"nivcsw", "cputime_ns", "waits", "threads", "latency_hist",
			"bind_set"]
			+ $ARGS.positional
			+ ["kernel", "system", "cmdline", "start_time", "version"]
		and (.config | keys_unsorted == ["thread_count", "work_mode",
			"sync_mode", "work_target", "yield_interval", "sleep_us",
			"bind_cpu_count", "latency_sample", "workers"])
		and all(.threads[]; keys_unsorted == ["id", "pid", "cpu",
			"last_cpu", "ops", "nvcsw", "nivcsw", "cputime_ns",
			"runtime_ns", "waits"])
		and (.latency_hist | keys_unsorted == ["buckets", "samples",
			"min_ns", "max_ns", "mean_ns", "p50_ns", "p90_ns", "p99_ns",
			"p999_ns"])
		and all(.latency_hist.buckets[]; keys_unsorted == ["lo_ns",
			"hi_ns", "count"])
		and (.bind_set | keys_unsorted == ["name", "cpus"])
		and (.bind_set.name | IN("allowed", "online"))' --args "${@:2}" <<<"$json" >/dev/null
}

# kp_check_sampling TC WT YI WORK_MODE N: a full run with latency_sample N
# counted every wait and timed each worker's every N-th (SPEC.md section
# 2): samples = TC * (waits per worker / N), 0 for N = 0.
kp_check_sampling() {
	local tc=$1 wt=$2 yi=$3 wm=$4 n=$5 per=0 samples=0
	[ "$wm" = normal ] || per=$((wt / yi))
	[ "$n" -eq 0 ] || samples=$((tc * (per / n)))
	jq -e --argjson n "$n" --argjson waits $((tc * per)) --argjson s "$samples" '
		.config.latency_sample == $n and .waits == $waits
		and ([.threads[].waits] | add) == $waits
		and .latency_hist.samples == $s
		and ([.latency_hist.buckets[].count] | add) == $s
		and (if $s == 0 then .latency_hist.max_ns == 0
			and .latency_hist.p999_ns == 0
		     else .latency_hist.p50_ns > 0 end)' <<<"$json" >/dev/null || {
		echo "sampling fails: tc=$tc wt=$wt yi=$yi mode=$wm latency_sample=$n" \
			"(expected $samples samples)" >&2
		jq -c 'del(.latency_hist.buckets) | del(.threads)' <<<"$json" >&2
		return 1
	}
}

# kp_check_clock_reads: a build/count/ binary's clock reads ("kp_clock_reads
# N" in $stderr) are two per timed wait, so none with latency_sample 0.
kp_check_clock_reads() {
	local reads samples
	reads=$(sed -n 's/^kp_clock_reads //p' <<<"$stderr")
	samples=$(jq '.latency_hist.samples' <<<"$json")
	if [ -z "$reads" ] || [ "$reads" -ne $((2 * samples)) ]; then
		echo "clock reads '$reads', expected $((2 * samples)) for $samples samples" >&2
		return 1
	fi
}

# kp_check_percentiles: p50 <= p90 <= p99 <= p999 are integers within
# [min_ns, max_ns], all 0 without samples.
kp_check_percentiles() {
	jq -e '.latency_hist as $h | [$h.p50_ns, $h.p90_ns, $h.p99_ns, $h.p999_ns] as $p
		| all($p[]; type == "number" and . == floor)
		and $p == ($p | sort)
		and (if $h.samples > 0 then $p[0] >= $h.min_ns and $p[3] <= $h.max_ns
		     else $p == [0, 0, 0, 0] end)' <<<"$json" >/dev/null || {
		echo "bad percentiles:" >&2
		jq -c '.latency_hist | del(.buckets)' <<<"$json" >&2
		return 1
	}
}

# kp_each_latency_sample BIN WORKERS...: latency_sample 0, 1 and 3 in every
# work mode the binary runs (4 workers, 20 waits each), on each of WORKERS
# (0: no --workers): the samples and, for a build/count/ binary, the clock
# reads.
kp_each_latency_sample() {
	local bin=$1 w wm n
	local -a opt
	shift
	for w in "$@"; do
		opt=()
		((w == 0)) || opt=(--workers "$w")
		for wm in yield sleep pingpong block barrier spawn; do
			[[ $bin != *coro_bench || $wm != block ]] || continue
			for n in 0 1 3; do
				kp_json "$bin" "${opt[@]}" --thread-count 4 \
					--work-mode "$wm" --work-target 2000 \
					--yield-interval 100 --sleep-us 20 \
					--latency-sample "$n"
				kp_check_sampling 4 2000 100 "$wm" "$n"
				kp_check_clock_reads
			done
		done
	done
}

# ---- the module (tests/vm/module_*.bats) ----

# KPERF_MODULE names another build of the module (make check-debug: the one
# built against the debug kernel; make check-rt: the PREEMPT_RT one); kperf
# reads the same variable.
KP_KO=${KPERF_MODULE:-$KP_REPO/module/kthread_perf.ko}
KP_SYS=/sys/kernel/kthread_perf
KP_HIST=/sys/kernel/debug/kthread_perf/latency_hist
KP_PARAMS=/sys/module/kthread_perf/parameters

KP_CONFIG_FILES=(thread_count work_mode sync_mode work_target yield_interval
	sleep_us bind_cpu_count latency_sample)
KP_RESULT_FILES=(total_ops counter elapsed_ns throughput nvcsw nivcsw
	cputime_ns waits)
KP_THREAD_FILES=(pid cpu last_cpu ops nvcsw nivcsw cputime_ns runtime_ns waits)

# The online CPUs in order, from /sys/devices/system/cpu/online ("0-1,4").
KP_CPUS=()
kp_parse_online_cpus() {
	local list range lo hi c
	read -r list </sys/devices/system/cpu/online
	KP_CPUS=()
	for range in ${list//,/ }; do
		lo=${range%-*} hi=${range#*-}
		for ((c = lo; c <= hi; c++)); do
			KP_CPUS+=("$c")
		done
	done
}
kp_parse_online_cpus

# kp_worker_cpus BIND N: the CPU each of N workers is bound to (SPEC section
# 3: worker i on the (i mod BIND)-th online CPU; -1 each when BIND is 0),
# into the array KP_WORKER_CPUS and the JSON array KP_WORKER_CPUS_JSON.
kp_worker_cpus() {
	local bind=$1 n=$2 i IFS=,
	KP_WORKER_CPUS=()
	for ((i = 0; i < n; i++)); do
		if ((bind > 0)); then
			KP_WORKER_CPUS+=("${KP_CPUS[i % bind]}")
		else
			KP_WORKER_CPUS+=(-1)
		fi
	done
	KP_WORKER_CPUS_JSON="[${KP_WORKER_CPUS[*]}]"
}

# kp_sleep SECONDS: sleep without an exec (read times out on a pipe that
# this shell holds open for writing, so no data ever comes).
exec {KP_SLEEP_FD}<> <(:)
kp_sleep() {
	read -r -t "$1" -u "$KP_SLEEP_FD" _ || true
}

# For setup_file: the module must be built; unload a copy someone left
# loaded (and put it back afterwards), and mark the kernel log so that
# kp_assert_dmesg_clean reads only what this suite caused.
kp_setup_file() {
	if [ ! -f "$KP_KO" ]; then
		echo "$KP_KO is missing: run 'make module' first" >&2
		return 1
	fi
	export KP_WAS_LOADED=0
	if [ -d /sys/module/kthread_perf ]; then
		KP_WAS_LOADED=1
		rmmod kthread_perf
	fi
	export KP_MARK="kthread_perf-test: begin ${BATS_TEST_FILENAME##*/} $$"
	echo "$KP_MARK" >/dev/kmsg
}

kp_teardown_file() {
	kp_unload
	if [ "${KP_WAS_LOADED:-0}" = 1 ]; then
		insmod "$KP_KO"
	fi
}

kp_load() {
	insmod "$KP_KO" "$@"
}

# Unload if loaded; rmmod stops a run in progress itself.
kp_unload() {
	if [ -d /sys/module/kthread_perf ]; then
		rmmod kthread_perf
	fi
}

# kp_set FILE VALUE: a write that must succeed.
kp_set() {
	printf '%s\n' "$2" >"$KP_SYS/$1"
}

# kp_get FILE: print the value of a file of the module's directory.
kp_get() {
	local v
	read -r v <"$KP_SYS/$1"
	printf '%s\n' "$v"
}

# kp_config TC WORK_MODE SYNC_MODE WORK_TARGET YIELD_INTERVAL [SLEEP_US [BIND]]
kp_config() {
	kp_set thread_count "$1" &&
		kp_set work_mode "$2" &&
		kp_set sync_mode "$3" &&
		kp_set work_target "$4" &&
		kp_set yield_interval "$5" &&
		kp_set sleep_us "${6:-0}" &&
		kp_set bind_cpu_count "${7:-0}"
}

# kp_wait_finished [SECONDS]: wait while the state is running; leaves the
# state it ended in (still "running" when the time ran out) in KP_STATE.
kp_wait_finished() {
	local limit=$((${1:-60} * 20)) i
	for ((i = 0; i < limit; i++)); do
		read -r KP_STATE <"$KP_SYS/state"
		[ "$KP_STATE" = running ] || return 0
		kp_sleep 0.05
	done
}

# kp_wait_ops N [SECONDS]: the handshake with a running run: wait until its
# workers have done at least N operations (total_ops is live).  Fails when
# the time (default 120 s) runs out first.
kp_wait_ops() {
	local limit=$((${2:-120} * 20)) i ops
	for ((i = 0; i < limit; i++)); do
		read -r ops <"$KP_SYS/total_ops"
		[ "$ops" -lt "$1" ] || return 0
		kp_sleep 0.05
	done
	echo "total_ops still $ops < $1 after ${2:-120} s" >&2
	return 1
}

# kp_run ARGS-OF-kp_config: configure, start, and wait for "done".
kp_run() {
	kp_config "$@" || return 1
	kp_set start 1 || return 1
	kp_wait_finished 240
	if [ "$KP_STATE" != done ]; then
		echo "run ended in state '$KP_STATE'" >&2
		return 1
	fi
}

# kp_assert_write_fails FILE VALUE MESSAGE: writing VALUE and a newline,
# as a shell user does, fails with MESSAGE (e.g. "Invalid argument").
kp_assert_write_fails() {
	local err="$BATS_TEST_TMPDIR/kp_write.err" msg=""
	if printf '%s\n' "$2" 2>"$err" >"$KP_SYS/$1"; then
		fail "writing '$2' to $1 succeeded; expected '$3'"
	fi
	read -r msg <"$err" || true
	if [[ $msg != *"$3"* ]]; then
		fail "writing '$2' to $1 failed with '$msg'; expected '$3'"
	fi
}

# Every configuration and state value, one line each, into KP_SNAPSHOT.
kp_snapshot() {
	local f v
	KP_SNAPSHOT=
	for f in "${KP_CONFIG_FILES[@]}" state run_id; do
		read -r v <"$KP_SYS/$f"
		KP_SNAPSHOT+="$f=$v"$'\n'
	done
}

# kp_threads_sum FILE: sum of one per-thread file over threads/*/ (one
# awk reads them all: cheaper than a read per file for many workers).
kp_threads_sum() {
	awk '{ s += $1 } END { print s + 0 }' "$KP_SYS"/threads/*/"$1"
}

# The names of threads/*/ in numeric order, into KP_THREAD_DIRS.
kp_thread_dirs() {
	local d
	local -a seen=()
	for d in "$KP_SYS"/threads/*/; do
		[ -d "$d" ] || continue
		d=${d%/}
		seen[${d##*/}]=1
	done
	KP_THREAD_DIRS=("${!seen[@]}")
}

# Read latency_hist into KP_HIST_ROWS (bucket rows), KP_HIST_SUM (sum of
# their counts) and KP_HIST_samples, _min_ns, _max_ns, _mean_ns, _p50_ns,
# _p90_ns, _p99_ns, _p999_ns.  One awk reads the file front to back: a
# `while read` loop seeks back after every line, and seq_file then prints
# the whole file again from a new snapshot for each line; and a bash loop
# over its 282 lines runs bats' debug trap at every command, seconds in a
# TCG guest.
kp_hist_read() {
	local vars
	unset KP_HIST_samples KP_HIST_min_ns KP_HIST_max_ns KP_HIST_mean_ns \
		KP_HIST_p50_ns KP_HIST_p90_ns KP_HIST_p99_ns KP_HIST_p999_ns
	vars=$(awk '
		/^# (samples|min_ns|max_ns|mean_ns|p50_ns|p90_ns|p99_ns|p999_ns) / {
			print "KP_HIST_" $2 "=" $3; next
		}
		/^#/ { next }
		{ rows++; sum += $3 }
		END { printf "KP_HIST_ROWS=%d\nKP_HIST_SUM=%.0f\n", rows, sum }
	' "$KP_HIST") || return 1
	eval "$vars"
}

# Number of live tasks whose name starts with PREFIX (default kp_).
kp_count_kthreads() {
	cat /proc/[0-9]*/comm 2>/dev/null | grep -c "^${1:-kp_}" || true
}

# The kernel log since this suite's mark, without the kperf-test lines.
kp_dmesg_since_mark() {
	dmesg | awk -v mark="$KP_MARK" \
		'found && !index($0, "kperf-test: ") { print } index($0, mark) { found = 1 }'
}

# No warning, bug, oops, lockup, stall or hung task since the mark.
kp_assert_dmesg_clean() {
	local bad
	bad="$(kp_dmesg_since_mark | grep -E "$KP_KERNEL_TROUBLE" || true)"
	if [ -n "$bad" ]; then
		fail "kernel log since the suite began: $bad"
	fi
}

# kp_check_live_snapshot: one read during a run with latency_sample 1
# (SPEC.md section 4): the histogram's counts add up to its samples, which
# lie between the waits read before and after it.
kp_check_live_snapshot() {
	local w1 w2
	read -r w1 <"$KP_SYS/waits"
	kp_hist_read
	read -r w2 <"$KP_SYS/waits"
	if [ "$KP_HIST_SUM" != "$KP_HIST_samples" ] ||
	   [ "$KP_HIST_samples" -lt "$w1" ] || [ "$KP_HIST_samples" -gt "$w2" ]; then
		echo "inconsistent snapshot: bucket sum $KP_HIST_SUM, samples" \
			"$KP_HIST_samples, waits $w1 before and $w2 after" >&2
		return 1
	fi
}

# kp_check_exact_run TC WT YI WORK_MODE [LATENCY_SAMPLE]: after a finished
# run, the counts SPEC.md section 2 fixes, from the totals, every thread
# and the histogram (each worker's every LATENCY_SAMPLE-th wait, default 1).
kp_check_exact_run() {
	local tc="$1" wt="$2" yi="$3" wm="$4" n="${5:-1}" ops waits=0 per_waits=0
	local samples=0
	ops=$((tc * wt))
	[ "$wm" = normal ] || per_waits=$((wt / yi))
	waits=$((tc * per_waits))
	[ "$n" -eq 0 ] || samples=$((tc * (per_waits / n)))
	assert_equal "total_ops $(kp_get total_ops)" "total_ops $ops"
	assert_equal "counter $(kp_get counter)" "counter $ops"
	assert_equal "waits $(kp_get waits)" "waits $waits"
	# Every thread: its ops and waits, and how many threads there are.
	run awk -v ops="$wt" -v waits="$per_waits" '
		FNR == 1 { n++ }
		FILENAME ~ /\/ops$/ && $1 != ops { print FILENAME ": " $1 }
		FILENAME ~ /\/waits$/ && $1 != waits { print FILENAME ": " $1 }
		END { print n / 2 " threads" }' \
		"$KP_SYS"/threads/*/ops "$KP_SYS"/threads/*/waits
	assert_output "$tc threads"
	kp_hist_read
	assert_equal "samples $KP_HIST_samples" "samples $samples"
	assert_equal "bucket sum $KP_HIST_SUM" "bucket sum $samples"
}

# ---- klt against a user-space model (tests/vm/compare_*.bats) ----

# The comparison suites spell the module's paths short.
SYS=$KP_SYS
HIST=$KP_HIST

# Load the module unless it is there already (unload only what we loaded).
kp_compare_setup_file() {
	export LOADED_HERE=0
	if [ ! -d "$SYS" ]; then
		kp_load
		LOADED_HERE=1
	fi
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
	local tc="$1" i state rows="" f v buckets=0 samples=null
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
	kp_hist_read
	samples=$KP_HIST_samples buckets=$KP_HIST_SUM
	for f in total_ops counter waits nvcsw; do
		rd v "$SYS/$f"
		t[$f]=$v
	done
	klt="{\"total_ops\": ${t[total_ops]}, \"counter\": ${t[counter]},
		\"waits\": ${t[waits]}, \"nvcsw\": ${t[nvcsw]}, \"threads\": [$rows],
		\"latency_hist\": {\"samples\": $samples, \"bucket_sum\": $buckets}}"
}
