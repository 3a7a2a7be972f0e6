#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# tools/kperf on the host: help, bad usage (exit 2, one line), the pthread
# and coro models through kperf, sweep's CSV/JSON/PNG, a pthread-only report,
# the counter check and Ctrl-C.  klt needs the module, so its tests are in
# tests/vm/kperf.bats.

bats_require_minimum_version 1.5.0

load ../lib/common

setup_file() {
	REPO="$KP_REPO"
	export REPO
	export KPERF_SCRIPT="$REPO/tools/kperf"
	export KPERF="$KPERF_SCRIPT"
	# Debian's python3 straight away: a version manager's shim in PATH can
	# cost a second per call.  The --help test runs the script itself.
	if [ -x /usr/bin/python3 ]; then
		KPERF="$BATS_FILE_TMPDIR/kperf"
		printf '#!/bin/sh\nexec /usr/bin/python3 "%s" "$@"\n' "$KPERF_SCRIPT" >"$KPERF"
		chmod +x "$KPERF"
	fi
	[ -x "$REPO/userspace/pthread_bench" ] || make -C "$REPO/userspace" >&2
	NCPU="$(getconf _NPROCESSORS_ONLN)"
	export NCPU
}

setup() {
	TMP="$(mktemp -d)"
}

teardown() {
	rm -rf "$TMP"
}

# usage_error ARGS...: kperf ARGS must exit 2 with one line on stderr.
usage_error() {
	run --separate-stderr "$KPERF" "$@"
	assert_equal "$status" 2
	assert_equal "$(printf '%s\n' "$stderr" | wc -l)" 1
	[[ $stderr == kperf* ]]
}

need_coro() {
	[ -x "$REPO/coro/coro_bench" ] || skip "coro/coro_bench is not built"
}

@test "kperf --help and every subcommand's --help exit 0 and show usage" {
	for sub in "" run compare sweep report; do
		run --separate-stderr "$KPERF_SCRIPT" $sub --help
		assert_success
		assert_output --partial "usage: kperf"
	done
	run --separate-stderr "$KPERF" run --help
	assert_output --partial "--thread-count"
	assert_output --partial "--bind-cpu-count"
	run --separate-stderr "$KPERF" sweep --help
	assert_output --partial "--values"
}

@test "kperf without a command exits 2" {
	run "$KPERF"
	assert_equal "$status" 2
}

@test "an unknown model is bad usage naming the model" {
	usage_error run fibers
	[[ $stderr == *"unknown model 'fibers'"* ]]
	usage_error sweep thread_count --values 1,2 --models pthread,fibers
	[[ $stderr == *fibers* ]]
}

@test "an unknown option is bad usage naming the option" {
	usage_error run pthread --frobnicate 3
	[[ $stderr == *--frobnicate* ]]
	usage_error compare --thread-cnt 4
	[[ $stderr == *--thread-cnt* ]]
}

@test "an unknown sweep parameter is bad usage naming it" {
	usage_error sweep colour --values 1,2
	[[ $stderr == *"unknown parameter 'colour'"* ]]
}

@test "values outside the module's ranges are bad usage" {
	usage_error run pthread --thread-count 0
	[[ $stderr == *--thread-count* ]]
	usage_error run pthread --thread-count 1025
	usage_error run pthread --work-target 0
	usage_error run pthread --yield-interval 0
	usage_error run pthread --sleep-us 1000001
	usage_error run pthread --bind-cpu-count $((NCPU + 1))
	[[ $stderr == *--bind-cpu-count* ]]
	usage_error run pthread --work-mode spin
	[[ $stderr == *spin* ]]
	usage_error run pthread --work-target lots
	usage_error sweep thread_count --values 1,0 --models pthread
	[[ $stderr == *--thread-count* ]]
	usage_error sweep bind_cpu_count --values 0,$((NCPU + 1)) --models pthread
	usage_error sweep yield_interval --values 10,0 --models pthread
	usage_error run pthread --latency-sample 1000001
	[[ $stderr == *--latency-sample* ]]
	usage_error compare --latency-sample -1
	usage_error report --latency-sample lots
	usage_error sweep latency_sample --values 1,2000000 --models pthread
	[[ $stderr == *--latency-sample* ]]
}

@test "compare --plot: a bad file or a workload without waits is bad usage" {
	usage_error compare --work-mode yield --plot "$TMP/no/such/dir/w.png"
	[[ $stderr == *"no directory"* ]]
	usage_error compare --work-mode yield --plot "$TMP/w.svg"
	[[ $stderr == *.png* ]]
	mkdir "$TMP/d.png"
	usage_error compare --work-mode yield --plot "$TMP/d.png"
	usage_error compare --plot "$TMP/w.png"
	[[ $stderr == *"no waits"* ]]
	usage_error compare --work-mode sleep --latency-sample 0 --plot "$TMP/w.png"
	usage_error compare --work-mode yield --plot
	[ ! -e "$TMP/w.png" ]
}

@test "--latency-sample N reaches the binary only when given" {
	# A stand-in binary that records its arguments and answers as
	# pthread_bench would: 4 threads x 1000 ops, 10 waits each, every
	# latency_sample-th of them timed.
	cat >"$TMP/bench" <<-'EOF'
	#!/bin/sh
	[ "$1" = --limits ] && { echo '{}'; exit 0; }
	echo "$@" >>"$(dirname "$0")/args"
	n=1
	while [ $# -gt 0 ]; do [ "$1" = --latency-sample ] && n=$2; shift; done
	s=$(( n ? 4 * (10 / n) : 0 ))
	cfg='"thread_count": 4, "work_mode": "yield", "work_target": 1000, "yield_interval": 100'
	[ "$n" = 1 ] || cfg="$cfg, \"latency_sample\": $n"
	echo "{\"model\": \"pthread\", \"config\": {$cfg}, \"total_ops\": 4000,
	  \"counter\": 4000, \"elapsed_ns\": 1, \"throughput\": 1, \"waits\": 40,
	  \"threads\": [{\"cpu\": -1, \"waits\": 10}, {\"cpu\": -1, \"waits\": 10},
	  {\"cpu\": -1, \"waits\": 10}, {\"cpu\": -1, \"waits\": 10}],
	  \"latency_hist\": {\"samples\": $s, \"buckets\": []}}"
	EOF
	chmod +x "$TMP/bench"
	local a=(run pthread --work-mode yield --work-target 1000 --yield-interval 100 --json)
	KPERF_PTHREAD_BENCH="$TMP/bench" run --separate-stderr "$KPERF" "${a[@]}"
	assert_success
	KPERF_PTHREAD_BENCH="$TMP/bench" run --separate-stderr "$KPERF" "${a[@]}" \
		--latency-sample 3
	assert_success
	assert_equal "$(jq .latency_hist.samples <<<"$output")" 12
	KPERF_PTHREAD_BENCH="$TMP/bench" run --separate-stderr "$KPERF" "${a[@]}" \
		--latency-sample 0
	assert_success
	run cat "$TMP/args"
	assert_equal "${#lines[@]}" 3
	[[ ${lines[0]} != *--latency-sample* ]]
	[[ ${lines[1]} == *"--latency-sample 3 "* ]]
	[[ ${lines[2]} == *"--latency-sample 0 "* ]]
}

@test "a sweep value a binary would reject is refused with exit 2 before any run" {
	need_coro
	local min
	min="$("$REPO/coro/coro_bench" --limits | jq '.stack_size[0]')"
	usage_error sweep stack_size --values 65536,$((min - 1)) --out "$TMP/st"
	[[ $stderr == *--stack-size* ]]
	[ ! -e "$TMP/st" ]
	# and a value only the module's range would refuse is not refused for coro
	local max
	max="$("$REPO/coro/coro_bench" --limits | jq '.thread_count[1]')"
	usage_error run coro --thread-count $((max + 1))
	run --separate-stderr "$KPERF" run coro --thread-count 1026 --work-target 1 --json
	assert_success
	assert_equal "$(jq .total_ops <<<"$output")" 1026
}

@test "an odd thread count in pingpong is bad usage" {
	usage_error run pthread --work-mode pingpong --thread-count 3
	[[ $stderr == *pingpong* ]]
	usage_error sweep thread_count --values 2,3 --work-mode pingpong --models pthread
}

@test "coro-only options are rejected for the other models" {
	usage_error run pthread --workers 2
	[[ $stderr == *--workers* ]]
	usage_error run pthread --stack-size 65536
}

@test "run pthread --json gives SPEC's JSON with exact counts" {
	local tc=3 wt=20000 yi=500
	run --separate-stderr "$KPERF" run pthread --thread-count $tc \
		--work-target $wt --work-mode yield --yield-interval $yi --json
	assert_success
	jq -e --argjson ops $((tc * wt)) --argjson waits $((tc * (wt / yi))) \
		--argjson tc $tc '
		.model == "pthread" and .counter == $ops and .total_ops == $ops
		and .waits == $waits and .latency_hist.samples == $waits
		and (.threads | length) == $tc and .config.workers == $tc
		and .config.work_mode == "yield" and (.kernel | type) == "string"
		and ([.latency_hist.buckets[].count] | add) == $waits
		and (has("elapsed_ns") and has("throughput") and has("user_ns")
		     and has("sys_ns") and has("nvcsw") and has("nivcsw")
		     and has("cputime_ns"))' <<<"$output"
}

@test "run coro --json gives SPEC's JSON with exact counts" {
	need_coro
	local tc=8 wt=10000 yi=100 w=2
	run --separate-stderr "$KPERF" run coro --thread-count $tc \
		--work-target $wt --work-mode yield --yield-interval $yi \
		--workers $w --json
	assert_success
	jq -e --argjson ops $((tc * wt)) --argjson waits $((tc * (wt / yi))) \
		--argjson tc $tc --argjson w $w '
		.model == "coro" and .counter == $ops and .total_ops == $ops
		and .waits == $waits and (.threads | length) == $tc
		and .config.workers == $w' <<<"$output"
}

@test "barrier, spawn and block run through kperf with exact counts; block needs pairs" {
	need_coro
	local m wm tc wt=2000 yi=100
	for m in pthread coro; do
		for wm in barrier spawn block; do
			tc=$([ $wm = barrier ] && echo 32 || echo 2)
			run --separate-stderr "$KPERF" run $m --thread-count $tc \
				--work-target $wt --work-mode $wm --yield-interval $yi --json
			assert_success
			jq -e --argjson ops $((tc * wt)) --argjson waits $((tc * (wt / yi))) \
				--arg wm $wm '.config.work_mode == $wm and .counter == $ops
				and .waits == $waits and .latency_hist.samples == $waits' <<<"$output"
		done
	done
	run --separate-stderr "$KPERF" run pthread --work-mode block --thread-count 3
	assert_equal "$status" 2
	[[ $stderr == *"block pairs the threads"* ]] || fail "unexpected message: $stderr"
}

@test "run pthread prints a readable table" {
	run --separate-stderr "$KPERF" run pthread --work-target 12345
	assert_success
	assert_output --partial "kperf run pthread: 4 threads x 12345 ops"
	assert_line --regexp '^throughput \(ops/s\) +[0-9,]+$'
	assert_line --regexp '^counter +49,380$'
}

@test "sweep over pthread writes CSV, JSON and a PNG, one row per value x repeat" {
	local values=1,2,4 repeat=2 n
	run --separate-stderr "$KPERF" sweep thread_count --values $values \
		--models pthread --repeat $repeat --work-target 5000 --out "$TMP/s"
	assert_success
	n=$(tr ',' '\n' <<<"$values" | wc -l)
	# header + one row per value x repeat
	assert_equal "$(wc -l <"$TMP/s/thread_count.csv")" $((1 + n * repeat))
	assert_equal "$(jq '.runs | length' "$TMP/s/thread_count.json")" $((n * repeat))
	assert_equal "$(jq '.summary | length' "$TMP/s/thread_count.json")" "$n"
	jq -e 'all(.runs[]; .result.counter == .result.config.thread_count * 5000)' \
		"$TMP/s/thread_count.json"
	[ -s "$TMP/s/thread_count.png" ]
	assert_equal "$(head -c 8 "$TMP/s/thread_count.png" | od -An -tx1 | tr -d ' \n')" \
		89504e470d0a1a0a
	assert_equal "$(wc -l <"$TMP/s/thread_count-summary.csv")" $((1 + n))
	# the table on stdout has a row per value
	for v in 1 2 4; do
		assert_line --regexp "^$v +[0-9,]+"
	done
}

@test "sweep over work modes: bars, wait percentiles in order, where each run came from" {
	need_coro
	local f="$TMP/m/work_mode"
	run --separate-stderr "$KPERF" sweep work_mode --values normal,yield,pingpong \
		--models pthread,coro --repeat 1 --work-target 5000 --yield-interval 100 \
		--out "$TMP/m"
	assert_success
	assert_equal "$(wc -l <"$f.csv")" 7
	[ -s "$f.png" ]
	# Categories are drawn as clustered bars: one data row per mode.
	grep -qx 'set style data histogram' "$f.gp"
	! grep -q 'yerrorlines' "$f.gp"
	assert_equal "$(grep -cE '^"(normal|yield|pingpong)" ' "$f.dat")" 3
	# The value axis is labelled in SI units, not 1x10^7.
	grep -qE '^set ytics \(.*"[0-9.]+ [kMG]? ?ops/s"' "$f.gp"
	! grep -qE "format y|10\^" "$f.gp"
	# CSV: the percentiles, ordered, for every run with waits, and the
	# system block, start time and version as columns.
	python3 - "$f.csv" <<-'EOF'
	import csv, sys
	rows = list(csv.DictReader(open(sys.argv[1])))
	cols = ["kernel", "machine", "cpu_model", "online_cpus", "accel",
	        "hostname", "preempt", "start_time", "version"]
	assert all(r[c] for r in rows for c in cols), "empty system column"
	assert {r["kernel"] for r in rows} == {__import__("platform").release()}
	assert all(r["start_time"].endswith("Z") for r in rows)
	p = ["p50_wait_ns", "p90_wait_ns", "p99_wait_ns", "p999_wait_ns"]
	timed = [r for r in rows if r["work_mode"] != "normal"]
	assert len(timed) == 4, rows
	for r in timed:
	    v = [int(float(r[k])) for k in p]
	    assert 0 < v[0] <= v[1] <= v[2] <= v[3] <= int(float(r["max_wait_ns"])), v
	assert all(r[k] == "" for r in rows if r["work_mode"] == "normal" for k in p)
	EOF
}

@test "report --quick without klt stays on the host and writes report.md" {
	run --separate-stderr "$KPERF" report --quick --models pthread \
		--work-target 2000 --out "$TMP/r"
	assert_success
	[ -s "$TMP/r/report.md" ]
	grep -q '^| kernel | ' "$TMP/r/report.md"
	grep -q '^| CPU | ' "$TMP/r/report.md"
	# Thread count table: one row per thread count (4, 16, 32).
	assert_equal "$(grep -cE '^\| (4|16|32) \| 2000 \|' "$TMP/r/report.md")" 3
	ls "$TMP"/r/fig*.png >/dev/null
	[ "$(jq length "$TMP/r/results.json")" -gt 10 ]
	# The wait-latency table has the percentiles; the distribution figure
	# is drawn from the buckets and linked.
	grep -q '^| mode | model | throughput (ops/s) | waits | mean wait | p50 wait | p90 wait | p99 wait | p99.9 wait | max wait |' \
		"$TMP/r/report.md"
	local fig
	fig=$(grep -oE '\(fig[0-9]+-wait-distribution\.png\)' "$TMP/r/report.md" | tr -d '()')
	[ -s "$TMP/r/$fig" ]
	grep -q 'set logscale x' "$TMP/r/${fig%.png}.gp"
	grep -q '"1 µs"' "$TMP/r/${fig%.png}.gp"
}

@test "report says how firm each row is: repeats, spread, and a warning where the models' order changes between repeats" {
	# The logic, on results made up so that one configuration keeps its
	# order and the other changes it in 1 repeat of 3.
	run --separate-stderr env PYTHONPATH="$REPO/tools" /usr/bin/python3 - <<-'EOF'
	from kperflib import firmness
	from kperflib.models import Config
	from kperflib.report import Context
	ctx = Context("/nonexistent", True, 2000, 3, ["pthread", "coro"])
	steady, flip = Config(), Config(work_mode="yield")
	def put(cfg, model, thr):
	    ctx.wanted.append((model, cfg))
	    ctx.results[(model, cfg)] = [{"throughput": t} for t in thr]
	put(steady, "pthread", [100, 110, 90])
	put(steady, "coro", [200, 190, 210])
	put(flip, "pthread", [100, 300, 100])
	put(flip, "coro", [200, 200, 200])
	ctx.planning = False
	rows = firmness.assess(ctx)
	assert [r["repeats"] for r in rows] == [3, 3], rows
	assert rows[0]["orders"] == {("coro", "pthread"): 3}, rows[0]
	assert rows[1]["orders"] == {("coro", "pthread"): 2,
	                             ("pthread", "coro"): 1}, rows[1]
	assert rows[1]["spread"] == ("pthread", 200.0), rows[1]
	assert [r["cfg"] for r in firmness.unsteady(rows)] == [flip]
	assert "in 1 of 2 configurations" in firmness.warning(ctx)
	text = firmness.sec_firmness(ctx)
	assert "coro > pthread in every repeat" in text, text
	assert "**changes**: coro > pthread (2 of 3); pthread > coro (1 of 3)" in text, text
	assert "1 of 2 configurations changed" not in text
	assert "1 of 2 configurations kept one order" in text, text
	del ctx.results[("pthread", flip)]
	assert firmness.warning(ctx) is None
	print("ok")
	EOF
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; return 1; }
	assert_output ok
	# A real report: a row per measured configuration, each with its
	# repeats; the header warns exactly when a row says the order changed.
	run --separate-stderr "$KPERF" report --quick --repeat 2 \
		--models pthread,coro --work-target 2000 --out "$TMP/f"
	assert_success
	sed -n '/^## 13\. How firm these numbers are/,$p' "$TMP/f/report.md" >"$TMP/s12"
	grep -q '^| configuration | repeats | largest spread | order by throughput |' "$TMP/s12"
	local rows changes
	rows=$(grep -cE '^\| [0-9]+ threads x ' "$TMP/s12")
	[ "$rows" -gt 20 ]
	assert_equal "$(grep -cE '^\| [0-9]+ threads x .* \| 2 \| (pthread|coro) [0-9]+ % \| ' "$TMP/s12")" "$rows"
	changes=$(grep -c '\*\*changes\*\*' "$TMP/s12" || true)
	grep -q "^$((rows - changes)) of $rows configurations kept one order in every repeat" "$TMP/s12"
	if [ "$changes" -gt 0 ]; then
		grep -q "^\*\*Warning:\*\* in $changes of $rows configurations the models' order" "$TMP/f/report.md"
	else
		! grep -q '^\*\*Warning:\*\*' "$TMP/f/report.md"
	fi
}

@test "report with coro measures the rest of the Solaris library: masks, preemption, a concurrency timeline, spinning" {
	run --separate-stderr "$KPERF" report --quick --models coro \
		--work-target 2000 --out "$TMP/s"
	assert_success
	sed -n '/^## 11\. The rest of the Solaris thread library/,$p' \
		"$TMP/s/report.md" >"$TMP/s11"
	[ -s "$TMP/s11" ]
	! grep -q 'Not measured' "$TMP/s11"
	# Every extra ran and kept its command and output.
	assert_equal "$(jq -r 'keys | join(" ")' "$TMP/s/extras.json")" \
		"preempt signal spin-monitor spin-off timeline"
	assert_equal "$(jq '[.[] | select(.error)] | length' "$TMP/s/extras.json")" 0
	# Masks: both mask changes and the four delivery cases.
	grep -qE '^\| mask change, `coro_sigmask` \| [0-9.]+ [mun]?s \|' "$TMP/s11"
	assert_equal "$(grep -cE '^\| delivery, case [1-4] ' "$TMP/s11")" 4
	# Preemption: each preempting sample ran on the worker it preempted.
	jq -e '.preempt.values | .async.on_l == .async.samples and
		.checkpoint.on_l == .checkpoint.samples and .async.samples == 200' \
		"$TMP/s/extras.json"
	# The timeline follows the plan 1, 2, 4, 1, then 0 (the CPUs it may
	# use), as far as the run got (a watcher thread makes the changes, at
	# operation counts), and its stretches add up to every operation.
	local seq n
	seq=$(jq -r '[.timeline.values[].workers] | join(" ")' "$TMP/s/extras.json")
	[[ "1 2 4 1 $NCPU" == "$seq"* ]]
	n=$(jq '.timeline.values | length' "$TMP/s/extras.json")
	[ "$n" -ge 2 ]
	assert_equal "$(grep -cE '^\| [0-9]+\.[0-9]{3} \| [0-9]+ \|' "$TMP/s11")" "$n"
	jq -e '([.timeline.values[].ops] | add) ==
		16 * (.timeline.argv | index("--work-target") as $i | .[$i + 1] | tonumber)' \
		"$TMP/s/extras.json"
	# Spinning: the arms watched what they were set to, under a hog.
	grep -qE '^\| off \| none \|' "$TMP/s11"
	grep -qE '^\| monitor \(/proc\) \| proc \|' "$TMP/s11"
	jq -e '."spin-off".env.CORO_ACTIVATIONS == "off" and
		(."spin-monitor".values.mutex.contended > 0)' "$TMP/s/extras.json"
	# No hog is left behind.
	run pgrep -f 'while :; do :; done'
	assert_failure
}

@test "report with coro has section 12: one blocking call by mechanism, a row and a sentence each, from the runs" {
	# The report of the test above is not kept between tests: a small one
	# of its own, coroutines only (no pthread row, no ratio to it).
	run --separate-stderr "$KPERF" report --quick --models coro \
		--work-target 2000 --out "$TMP/b"
	assert_success
	sed -n '/^## 12\. Blocking calls on coroutines/,/^## 13\./p' "$TMP/b/report.md" >"$TMP/s12"
	[ -s "$TMP/s12" ]
	# Rows: the plain read() with what "auto" got here (the monitor: no
	# module on this host), the wrapper, io_uring on 1 and 2+ workers.
	local act="monitor" mn=$((NCPU > 2 ? NCPU : 2))
	[ -e /dev/kthread_perf ] && act="module"
	grep -qE "^\| coro \($act\) \| read\(\) \+ activations \($act\) \| 1 \|" "$TMP/s12"
	grep -qE "^\| coro-mn \($act\) \| .* \| $mn \|" "$TMP/s12"
	# Hand-offs per call: the wrapper one per call, io_uring none.
	grep -qE '^\| coro-mn/wrapper \| coro_blocking_read\(\) \| [0-9]+ \|( [^|]+ \|){3} 1\.00 \|' "$TMP/s12"
	grep -qE '^\| coro/uring \| coro_uring_read\(\) \| 1 \|( [^|]+ \|){3} 0\.00 \|' "$TMP/s12"
	grep -qE '^\| coro-mn/uring \| coro_uring_read\(\) \| [0-9]+ \|( [^|]+ \|){3} 0\.00 \|' "$TMP/s12"
	# One sentence per row, its numbers those of the row.
	local rows sentences
	rows=$(grep -cE '^\| coro' "$TMP/s12")
	sentences=$(grep -cE '^- `coro[^`]*`: [0-9.]+ [mun]?s per blocking call, [0-9.]+ [mun]?s of CPU per call' "$TMP/s12")
	assert_equal "$rows" 5
	assert_equal "$sentences" "$rows"
	local t
	t=$(sed -nE 's/^\| coro\/uring \|[^|]+\|[^|]+\| ([^|]+) \|.*/\1/p' "$TMP/s12")
	grep -qF -- "- \`coro/uring\`: $t per blocking call" "$TMP/s12"
	# The runs behind it: io_uring handed no worker over, the wrapper one
	# per call, every count exact (kperf checks that), block_call said.
	jq -e '[.[] | select(.block_call == "uring")] | length == 2 and
		all(.[]; .handoffs == 0 and .counter == .total_ops)' "$TMP/b/results.json"
	jq -e '[.[] | select(.block_call == "wrapper")] | length == 1 and
		all(.[]; .handoffs == .waits)' "$TMP/b/results.json"
}

@test "a counter mismatch fails loudly with exit 1" {
	cat >"$TMP/liar" <<-'EOF'
	#!/bin/sh
	echo '{"model": "pthread", "config": {"thread_count": 4}, "total_ops": 4000, "counter": 3999, "elapsed_ns": 1, "throughput": 1, "waits": 0}'
	EOF
	chmod +x "$TMP/liar"
	KPERF_PTHREAD_BENCH="$TMP/liar" run --separate-stderr "$KPERF" run pthread \
		--work-target 1000
	assert_equal "$status" 1
	[[ $stderr == *"COUNTER MISMATCH"* ]]
}

@test "a thread row on another CPU than it is bound to fails with exit 1" {
	run --separate-stderr "$KPERF" run pthread --thread-count 3 \
		--work-target 1000 --bind-cpu-count "$NCPU"
	assert_success
	# The real binary, but thread 1 says it ran on CPU 99.
	cat >"$TMP/moved" <<-EOF
	#!/bin/sh
	case "\$*" in *--limits*) exec "$REPO/userspace/pthread_bench" "\$@" ;; esac
	"$REPO/userspace/pthread_bench" "\$@" | jq -c '.threads[1].cpu = 99'
	EOF
	chmod +x "$TMP/moved"
	kp_worker_cpus 1 2
	KPERF_PTHREAD_BENCH="$TMP/moved" run --separate-stderr "$KPERF" run pthread \
		--thread-count 2 --work-target 1000 --bind-cpu-count 1
	assert_equal "$status" 1
	assert_equal "$stderr" "kperf: pthread: thread 1 reports cpu 99, bound to ${KP_WORKER_CPUS[1]}"
}

@test "under taskset, kperf binds pthread and coro within the allowed CPUs and the JSON says so" {
	local last="${KP_CPUS[${#KP_CPUS[@]} - 1]}"

	[ ${#KP_CPUS[@]} -ge 2 ] || skip "needs two online CPUs"
	command -v taskset >/dev/null || skip "no taskset"
	for model in pthread coro; do
		run --separate-stderr taskset -c "$last" "$KPERF" run "$model" \
			--thread-count 2 --work-target 1000 --bind-cpu-count 1 --json
		assert_success
		jq -e --argjson c "$last" '
			.bind_set == {"name": "allowed", "cpus": [$c]}
			and all(.threads[]; .cpu == $c and .last_cpu == $c)' \
			<<<"$output" >/dev/null
	done
	run --separate-stderr taskset -c "$last" "$KPERF" run pthread --bind-cpu-count 2
	assert_equal "$status" 2
	assert_equal "$stderr" "kperf: --bind-cpu-count: 2 is outside 0..1 (1 CPU to bind within)"
}

@test "a failing model binary is a runtime failure (exit 1)" {
	printf '#!/bin/sh\necho boom >&2\nexit 1\n' >"$TMP/broken"
	chmod +x "$TMP/broken"
	KPERF_PTHREAD_BENCH="$TMP/broken" run --separate-stderr "$KPERF" run pthread
	assert_equal "$status" 1
	[[ $stderr == *"exit status 1"* ]]
}

@test "klt with --host fails with exit 1 where the host cannot load the module" {
	if [ -d /sys/kernel/kthread_perf ] || { [ -e /proc/modules ] &&
		[ -d "/lib/modules/$(uname -r)/build" ] && [ "$(id -u)" = 0 ]; }; then
		skip "this host can run klt"
	fi
	run --separate-stderr "$KPERF" run klt --host
	assert_equal "$status" 1
	[[ $stderr == *"cannot load"* ]]
}

@test "Ctrl-C stops a sweep, kills the child and keeps the finished rows" {
	# Each run sleeps 1 ms per operation: 2000 ops take >= 2 s.  The
	# binary runs through a link of this test's own, so that pgrep below
	# sees only our child, whatever else runs on the machine.
	ln -s "$REPO/userspace/pthread_bench" "$TMP/our_pthread_bench"
	KPERF_PTHREAD_BENCH="$TMP/our_pthread_bench" \
		"$KPERF" sweep thread_count --values 1,2,3,4,5 --models pthread --repeat 1 \
		--work-mode sleep --sleep-us 1000 --yield-interval 1 --work-target 2000 \
		--out "$TMP/c" 2>"$TMP/err" &
	local pid=$! i
	for i in $(seq 100); do
		[ -f "$TMP/c/thread_count.csv" ] &&
			[ "$(wc -l <"$TMP/c/thread_count.csv")" -ge 2 ] && break
		sleep 0.1
	done
	kill -INT "$pid"
	local rc=0
	wait "$pid" || rc=$?
	assert_equal "$rc" 130
	grep -q interrupted "$TMP/err"
	[ "$(wc -l <"$TMP/c/thread_count.csv")" -ge 2 ]
	jq -e '.runs | length >= 1' "$TMP/c/thread_count.json"
	# no pthread_bench of ours is left running: kperf reaps its child
	# before it exits
	! pgrep -f "$TMP/our_pthread_bench" >/dev/null
}
