#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# coro/bench/handoff_trace.sh: where a hand-off's time goes (issue 21).
# Run as root in a tools/vm guest from the top of the tree, with an
# output directory the guest may write:
#
#   tools/vm --cpus 2 --rw DIR -- coro/bench/handoff_trace.sh DIR
#
# Loads module/kthread_perf.ko, traces the scheduler (sched_switch,
# sched_waking, sched_wakeup, the IRQ vectors) while
# `t_activations handoff ROUNDS` runs, and prints, from
# coro/bench/handoff_breakdown.py, each hand-off's two legs: the
# blocking lwp leaves its CPU -> the spare the device woke runs -> the
# sibling it runs wakes the blocked lwp.  The trace is kept in
# DIR/handoff-MODE[-pinCPUS].trace.
# Environment: ROUNDS (default 300), MODE (CORO_ACTIVATIONS, default
# module), PIN (a CPU list for taskset: every thread on those CPUs).
set -eu
dir=${1:?usage: handoff_trace.sh DIR}
ROUNDS=${ROUNDS:-300}
MODE=${MODE:-module}
PIN=${PIN:-}
here=$(dirname "$0")
T=/sys/kernel/tracing
[ -d /sys/module/kthread_perf ] || insmod module/kthread_perf.ko
[ -d $T/events ] || mount -t tracefs nodev $T
out="$dir/handoff-$MODE${PIN:+-pin$PIN}.trace"
echo 0 >$T/tracing_on
echo >$T/trace
echo 20000 >$T/buffer_size_kb
echo 'sched:sched_switch sched:sched_waking sched:sched_wakeup irq_vectors:*' \
	>$T/set_event
echo 1 >$T/tracing_on
CORO_ACTIVATIONS=$MODE ${PIN:+taskset -c "$PIN"} \
	build/coro/tests/t_activations handoff "$ROUNDS"
echo 0 >$T/tracing_on
cat $T/trace >"$out"
echo >$T/set_event
python3 "$here/handoff_breakdown.py" "$out"
