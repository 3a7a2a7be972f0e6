#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Each hand-off's legs, from an ftrace of `t_activations handoff`
(coro/bench/handoff_trace.sh): an lwp leaves its CPU asleep (the
blocking read), the reader of /dev/kthread_perf (woken from irq_work)
runs, it wakes a spare, the spare runs.  Prints p50, p90 and max of each
leg, in microseconds, and where the reader and the spare ran."""
import re
import sys

EVENT = re.compile(r'\s*(.+?)-(\d+)\s+\[(\d+)\]\s+\S+\s+([\d.]+): (\w+): (.*)')


def field(rest, name):
    m = re.search(name + r'=(\d+)', rest)
    return m.group(1) if m else None


def reader_pid(events):
    """The thread irq_work wakes: the reader of the device."""
    for prev, ev in zip(events, events[1:]):
        if ev[4] == 'sched_waking' and prev[4] == 'irq_work_entry':
            return field(ev[5], 'pid')
    return None


def legs(events, reader):
    rows, block, run, wake = [], None, None, None
    for comm, pid, cpu, t, name, rest in events:
        t = float(t) * 1e6
        if name == 'sched_waking' and pid == reader and run:
            wake = (t, field(rest, 'pid'))
        if name != 'sched_switch':
            continue
        nxt = field(rest, 'next_pid')
        if ('prev_state=S' in rest and field(rest, 'prev_pid') != reader
                and 'prev_comm=t_activations' in rest):
            block = (t, cpu)
        if nxt == reader and block:
            run = (t, cpu)
        elif wake and nxt == wake[1]:
            rows.append((run[0] - block[0], wake[0] - run[0], t - wake[0],
                         block[1] == run[1], block[1] == cpu))
            block, run, wake = None, None, None
    return rows


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p))]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: handoff_breakdown.py TRACE")
    with open(sys.argv[1]) as f:
        events = [m.groups() for m in map(EVENT.match, f) if m]
    reader = reader_pid(events)
    rows = legs(events, reader)
    if not rows:
        sys.exit("handoff_breakdown.py: no hand-off in %s" % sys.argv[1])
    print("reader pid %s, %d hand-offs" % (reader, len(rows)))
    for k, label in enumerate(("block -> reader runs",
                               "reader runs -> wakes a spare",
                               "spare woken -> runs")):
        v = [r[k] for r in rows]
        print("%-30s p50 %7.1f  p90 %7.1f  max %7.1f us"
              % (label, pct(v, .5), pct(v, .9), max(v)))
    print("reader on the blocking CPU: %d of %d; spare: %d of %d"
          % (sum(r[3] for r in rows), len(rows),
             sum(r[4] for r in rows), len(rows)))


if __name__ == '__main__':
    main()
