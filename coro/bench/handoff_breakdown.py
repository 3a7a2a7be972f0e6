#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Each hand-off's legs, from an ftrace of `t_activations handoff`
(coro/bench/handoff_trace.sh).  Coroutine A's thread X leaves its CPU
asleep (its blocking read); the device's irq_work wakes a spare Y waiting
on /dev/kthread_perf; Y runs, takes X's worker and runs A's sibling B,
whose write to the pipe wakes X.  Legs: X blocks -> Y runs, and Y runs
-> Y wakes X (Y's claim, its registration, B up to its write).  Wakes
from irq_work that end in no take (an idle lwp's block) are skipped.
Prints p50, p90 and max of each leg in microseconds, and how often Y ran
on X's CPU."""
import re
import sys

EVENT = re.compile(r'\s*(.+?)-(\d+)\s+\[(\d+)\]\s+(\S+)\s+([\d.]+): '
                   r'(\w+): (.*)')


def field(rest, name):
    m = re.search(name + r'=(\d+)', rest)
    return m.group(1) if m else None


def legs(events):
    rows, cur = [], None
    for comm, pid, cpu, flags, t, name, rest in events:
        t = float(t) * 1e6
        if (name == 'sched_switch' and 'prev_state=S' in rest
                and 'prev_comm=t_activations' in rest):
            x = field(rest, 'prev_pid')
            if cur and cur.get('ran') and cur['y'] == x:
                cur = None      # Y went back to sleep: no take
            if not cur or cur['x'] != x:
                cur = {'x': x, 't0': t, 'cpu0': cpu}
            continue
        if not cur:
            continue
        if (name == 'sched_waking' and 'h' in flags and 'y' not in cur
                and 'comm=t_activations' in rest):
            y = field(rest, 'pid')
            if y != cur['x']:
                cur['y'] = y
        elif (name == 'sched_switch' and cur.get('y')
              and field(rest, 'next_pid') == cur['y'] and 'ran' not in cur):
            cur['ran'], cur['cpu2'] = t, cpu
        elif (name == 'sched_waking' and cur.get('ran') and pid == cur['y']
              and field(rest, 'pid') == cur['x']):
            rows.append((cur['ran'] - cur['t0'], t - cur['ran'],
                         cur['cpu0'] == cur['cpu2']))
            cur = None
    return rows


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p))]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: handoff_breakdown.py TRACE")
    with open(sys.argv[1]) as f:
        events = [m.groups() for m in map(EVENT.match, f) if m]
    rows = legs(events)
    if not rows:
        sys.exit("handoff_breakdown.py: no hand-off in %s" % sys.argv[1])
    print("%d hand-offs" % len(rows))
    for k, label in enumerate(("block -> the woken spare runs",
                               "spare runs -> B wakes the blocked")):
        v = [r[k] for r in rows]
        print("%-34s p50 %7.1f  p90 %7.1f  max %7.1f us"
              % (label, pct(v, .5), pct(v, .9), max(v)))
    print("spare ran on the blocking CPU: %d of %d"
          % (sum(r[2] for r in rows), len(rows)))


if __name__ == '__main__':
    main()
