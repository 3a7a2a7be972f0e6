#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# The shared wait-latency histogram (workload/kp_hist.h) and the snapshot of
# a worker's statistics, fed known inputs by build/t_hist
# (userspace/common/t_hist.c): bucket bounds, percentiles within 12.5 % of
# the sorted samples' own, merging, and a reader racing a writer (also
# under TSan, which sees the sequence count's atomics).

load ../lib/common

@test "bucket bounds, percentiles, merging and snapshots against known inputs" {
	local bin="$KP_REPO/build/t_hist"
	[ -x "$bin" ] || make -s -C "$KP_REPO/userspace/common" >&2
	run --separate-stderr "$bin"
	[ "$status" -eq 0 ] || fail "t_hist exited $status: $stderr"
	assert_output --regexp '^ok [0-9]+ checks$'
}

@test "the snapshot reader racing the writer is clean under TSan" {
	local bin="$KP_REPO/build/tsan/t_hist"
	[ -x "$bin" ] || make -s -C "$KP_REPO/userspace/common" VARIANT=tsan >&2
	TSAN_OPTIONS="halt_on_error=1" run --separate-stderr "$bin"
	[ "$status" -eq 0 ] || fail "tsan t_hist exited $status: $stderr"
	assert_output --regexp '^ok [0-9]+ checks$'
}
