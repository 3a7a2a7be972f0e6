#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# coro/bench/mutex_preempt.sh: issue 22 part 4, a lock holder the kernel
# preempted.  Run as root in a tools/vm guest from the top of the tree:
#
#   tools/vm --cpus 2 -- coro/bench/mutex_preempt.sh
#
# Loads module/kthread_perf.ko, starts a CPU hog on HOG_CPU (default: the
# last online CPU) and runs coro_bench's mutex workload on two workers
# (bound to CPUs 0 and 1 when there are two, else unbound), ROUNDS times
# (default 3) in each of four arms, interleaved:
#   off            CORO_ACTIVATIONS=off: the mutex watches nothing
#   module-nowatch module mode, CORO_MUTEX_WATCH=off: registered without
#                  KP_ACT_REG_PREEMPT, the mutex watches nothing
#   module         module mode: PREEMPTED/RESUMED (the events)
#   monitor        monitor mode: the /proc fallback
# One JSON line per run: the arm, the round, throughput, the mutex counts.
# WT (default 500000) is each coroutine's work target, THREADS (default 8)
# the coroutines.
set -u
WT=${WT:-500000}
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-8}
ncpu=$(getconf _NPROCESSORS_ONLN)
HOG_CPU=${HOG_CPU:-$((ncpu - 1))}
bind=
[ "$ncpu" -ge 2 ] && bind="--bind-cpu-count 2"

if [ ! -d /sys/module/kthread_perf ]; then
	insmod module/kthread_perf.ko || exit 1
fi
taskset -c "$HOG_CPU" sh -c 'while :; do :; done' &
hog=$!
trap 'kill $hog' EXIT
echo "{\"cpus\": $ncpu, \"hog_cpu\": $HOG_CPU, \"bind\": \"$bind\", \"work_target\": $WT, \"threads\": $THREADS}"
for r in $(seq "$ROUNDS"); do
	for arm in off module-nowatch module monitor; do
		case $arm in
		off) set -- CORO_ACTIVATIONS=off ;;
		module-nowatch) set -- CORO_ACTIVATIONS=module CORO_MUTEX_WATCH=off ;;
		module) set -- CORO_ACTIVATIONS=module ;;
		monitor) set -- CORO_ACTIVATIONS=monitor ;;
		esac
		# shellcheck disable=SC2086 # $bind is two words or none
		env "$@" coro/coro_bench --sync-mode mutex --workers 2 $bind \
			--thread-count "$THREADS" --work-target "$WT" --json |
		jq -c --arg arm "$arm" --argjson r "$r" '{arm: $arm, round: $r,
			throughput, elapsed_ns, cputime_ns, nivcsw,
			activations, mutex}' || exit 1
	done
done
