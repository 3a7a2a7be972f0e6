# SPDX-License-Identifier: GPL-2.0
"""kperf report's section on the Solaris thread library (issue 22).

The design notes (shared/seeds/001 and 002) make four predictions that
libcoro now implements; each subsection runs one small benchmark program
beside the models' runs and says what the notes predicted and what was
measured.  The programs are "extras" of the report (report.Context.extra):
planned in the first pass, run once after the models, their output kept
in DIR/extras.json.  A program that is not built, or that fails, leaves its
subsection saying so; the rest of the report is unaffected.
"""

import json
import os
import re

from . import plot, table
from .env import online_cpus
from .runner import ROOT

SIGNAL_BENCH = os.path.join("coro", "bench", "bench_signal")
PREEMPT_BENCH = os.path.join("coro", "bench", "bench_preempt")
CORO_BENCH = os.path.join("coro", "coro_bench")


def parse_pairs(stdout):
    """`name value` lines (bench_signal's output) as a dict of floats."""
    out = {}
    for line in stdout.splitlines():
        m = re.match(r"^(\w+) (-?[0-9.]+)$", line.strip())
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


def parse_timeline(stderr):
    """coro_bench's concurrency timeline (stderr) as a list of rows:
    {start_s, workers, ops, seconds, ops_per_s}."""
    rows, inside = [], False
    for line in stderr.splitlines():
        if line.startswith("coro_bench: concurrency timeline"):
            inside = True
            continue
        if not inside:
            continue
        f = line.split()
        if len(f) == 5 and re.match(r"^[0-9.]+$", f[0]):
            rows.append({"start_s": float(f[0]), "workers": int(f[1]),
                         "ops": int(f[2]), "seconds": float(f[3]),
                         "ops_per_s": float(f[4])})
        elif rows or (f and f[0] != "start"):
            inside = False
    return rows


def parse_preempt(stdout):
    """bench_preempt's table as {mode: {samples, p50_ns, p99_ns, mean_ns,
    on_l}}, or None without its header."""
    rows, head = {}, None
    for line in stdout.splitlines():
        f = line.split()
        if f[:1] == ["mode"]:
            head = f[1:]
        elif head and len(f) == len(head) + 1:
            try:
                rows[f[0]] = {k.lower(): float(v) for k, v in zip(head, f[1:])}
            except ValueError:
                continue
    return rows or None


def parse_json(stdout):
    """A model's JSON result (coro_bench --json)."""
    try:
        return json.loads(stdout)
    except ValueError:
        return None


def _missing(what, res):
    """The sentence for a subsection whose program gave nothing."""
    if res is None:
        return ""
    return "Not measured: %s.\n\n" % (res.get("error") or
                                     "%s printed nothing usable" % what)


def signal_argv(ctx):
    return [os.path.join(ROOT, SIGNAL_BENCH),
            str(5000 if ctx.quick else 1000000)]


def sec_masks(ctx):
    res = ctx.extra("signal", signal_argv(ctx), parse_pairs)
    out = ["### Signal masks: a cheap change, a dear delivery\n\n"
           "The notes (seed 001, \"Threads and Signal Handling\") keep a "
           "thread's signal mask in user space, so that the frequent "
           "operation, a mask change, makes no system call, and pay for it "
           "in the rare one, a delivery, which the library routes by four "
           "cases.  `coro_sigmask` against `pthread_sigmask` per call, and "
           "the cost of one delivery in each case (`%s`, the best of its "
           "rounds).\n\n" % " ".join([SIGNAL_BENCH] + signal_argv(ctx)[1:])]
    v = (res or {}).get("values") or {}
    if ctx.planning or "coro_sigmask_ns" not in v:
        return "".join(out) + _missing("bench_signal", res)
    rows = [["mask change, `coro_sigmask`", table.fmt_ns(v["coro_sigmask_ns"]),
             "1"],
            ["mask change, `pthread_sigmask`",
             table.fmt_ns(v["pthread_sigmask_ns"]),
             table.fmt_ratio(v["pthread_sigmask_ns"] / v["coro_sigmask_ns"])]]
    plain = v.get("delivery_plain_ns")
    for key, label in (("delivery_plain_ns", "delivery to a plain thread"),
                       ("delivery_case1_ns", "delivery, case 1 (running "
                        "coroutine)"),
                       ("delivery_case2_ns", "delivery, case 2 (another "
                        "coroutine of this worker)"),
                       ("delivery_case3_ns", "delivery, case 3 (a coroutine "
                        "on another worker)"),
                       ("delivery_case4_ns", "delivery, case 4 (every "
                        "coroutine masks it; at the unmask)")):
        if key in v:
            rows.append([label, table.fmt_ns(v[key]),
                         table.fmt_ratio(v[key] / plain) if plain else "-"])
    out.append(ctx.table("Signal masks and deliveries (time per call)",
                         ["operation", "time", "vs the first row of its "
                          "kind"], rows))
    ratio = v["pthread_sigmask_ns"] / v["coro_sigmask_ns"]
    out.append("Predicted: mask changes cheap, deliveries dearer.  Measured: "
               "a mask change is %s cheaper than `pthread_sigmask` (the "
               "issue's goal: at least 20x); a delivery costs %s of a plain "
               "thread's in case 1 and %s in case 4.\n\n"
               % (table.fmt_ratio(ratio),
                  table.fmt_ratio(v.get("delivery_case1_ns", 0) / plain)
                  if plain else "-",
                  table.fmt_ratio(v.get("delivery_case4_ns", 0) / plain)
                  if plain else "-"))
    return "".join(out)


# The timeline's plan: the workers at each fifth of the run (0: the
# library decides, which is the CPUs the process may use).
TIMELINE = (2, 4, 1, 0)


def timeline_argv(ctx):
    threads = 16
    per = max(50000, ctx.w // 2)
    total = threads * per
    at = ",".join("%d:%d" % (total * (i + 1) // (len(TIMELINE) + 1), n)
                  for i, n in enumerate(TIMELINE))
    return [os.path.join(ROOT, CORO_BENCH), "--thread-count", str(threads),
            "--work-mode", "yield", "--yield-interval", "1",
            "--work-target", str(per), "--sync-mode", "percpu",
            "--workers", "1", "--set-concurrency-at", at]


def sec_timeline(ctx):
    argv = timeline_argv(ctx)
    res = ctx.extra("timeline", argv, None, parse_stderr=parse_timeline)
    out = ["### set_concurrency while running\n\n"
           "The notes treat the number of LWPs as the library's to change "
           "while threads run (`thr_setconcurrency`): growing starts OS "
           "threads, shrinking retires them at their next scheduling point "
           "and moves their queues.  16 coroutines yield in a loop "
           "(`--sync-mode percpu`) while the workers go 1, %s "
           "(0: the library decides: the CPUs this process may use, %d "
           "here); a row per stretch between changes (`%s`).\n\n"
           % (", ".join(str(n) for n in TIMELINE), online_cpus(),
              " ".join([CORO_BENCH] + argv[1:]))]
    rows = (res or {}).get("values") or []
    if ctx.planning or not rows:
        return "".join(out) + _missing("the concurrency timeline", res)
    out.append(ctx.table("Throughput between concurrency changes",
                         ["from (s)", "workers", "operations", "seconds",
                          "ops/s"],
                         [["%.3f" % r["start_s"], str(r["workers"]),
                           table.fmt_int(r["ops"]), "%.3f" % r["seconds"],
                           table.fmt_int(r["ops_per_s"])] for r in rows]))
    out.append(ctx.figure(
        "concurrency-timeline", "Throughput as the workers change",
        lambda p: plot.lines(
            p, "Yield throughput as the workers change", "time (s)",
            "throughput", {"coro-mn": [
                (r["start_s"], r["ops_per_s"], r["ops_per_s"],
                 r["ops_per_s"]) for r in rows]}, xunit="s")))
    one = [r["ops_per_s"] for r in rows if r["workers"] == 1]
    two = [r["ops_per_s"] for r in rows if r["workers"] == 2]
    out.append("Predicted: more LWPs, more throughput up to the CPUs, and "
               "nothing lost in a change.  Measured: %d stretches, every "
               "operation counted; 2 workers ran at %s the rate of 1 (the "
               "best stretch of each).\n\n"
               % (len(rows), table.fmt_ratio(max(two) / max(one))
                  if one and two else "-"))
    return "".join(out)


def preempt_argv(ctx):
    return [os.path.join(ROOT, PREEMPT_BENCH), str(200 if ctx.quick else 2000)]


def sec_preempt(ctx):
    argv = preempt_argv(ctx)
    res = ctx.extra("preempt", argv, parse_preempt)
    out = ["### Priorities that preempt across workers\n\n"
           "The notes (seed 002, \"Multiple CPUs: Interactive Issues\"): when "
           "a thread becomes runnable above the priority of one running on "
           "another CPU, the library must preempt that one, and since it "
           "cannot touch another CPU's registers it signals that LWP.  "
           "libcoro sends the worker's OS thread a directed SIGURG; its "
           "handler switches at once when the interrupted coroutine is in "
           "the program's own code (async), or marks the worker, and the "
           "switch waits for the next safe point (checkpoint: a "
           "`coro_checkpoint()` in the spin).  Idle: no coroutine to "
           "preempt, the worker is woken from its sleep, for scale.  From "
           "a priority-2 coroutine becoming runnable to its running on the "
           "other worker (`%s`).\n\n" % " ".join([PREEMPT_BENCH] + argv[1:])]
    v = (res or {}).get("values") or {}
    if ctx.planning or "async" not in v:
        return "".join(out) + _missing("bench_preempt", res)
    rows = [[m, table.fmt_int(v[m]["samples"]), table.fmt_ns(v[m]["p50_ns"]),
             table.fmt_ns(v[m]["p99_ns"]), table.fmt_ns(v[m]["mean_ns"]),
             table.fmt_int(v[m]["on_l"]) if m != "idle" else "-"]
            for m in ("async", "checkpoint", "idle") if m in v]
    out.append(ctx.table("Preemption latency across workers",
                         ["mode", "samples", "p50", "p99", "mean",
                          "ran on the preempted worker"], rows))
    out.append("Predicted: the preemption costs a signal to the other LWP.  "
               "Measured: p50 %s (async) against %s for waking an idle "
               "worker; %d of %d samples ran on the preempted worker.\n\n"
               % (table.fmt_ns(v["async"]["p50_ns"]),
                  table.fmt_ns(v["idle"]["p50_ns"]) if "idle" in v else "-",
                  v["async"]["on_l"], v["async"]["samples"]))
    return "".join(out)


# The spinning arms: the mutex watches nothing, or /proc (no module on
# the host; the module's PREEMPTED events need a guest: coro/bench/
# mutex_preempt.sh).
SPIN_ARMS = (("off", {"CORO_ACTIVATIONS": "off"}),
             ("monitor (/proc)", {"CORO_ACTIVATIONS": "monitor"}))


def spin_argv(ctx):
    argv = [os.path.join(ROOT, CORO_BENCH), "--sync-mode", "mutex",
            "--workers", "2", "--thread-count", "8",
            "--work-target", str(max(200000, ctx.w * 5)), "--json"]
    if online_cpus() >= 2:
        argv[-1:-1] = ["--bind-cpu-count", "2"]
    return argv


def sec_spin(ctx):
    argv = spin_argv(ctx)
    res = {arm: ctx.extra("spin-" + arm.split()[0], argv, parse_json,
                          env=e, hog=True) for arm, e in SPIN_ARMS}
    out = ["### A lock holder the kernel preempted\n\n"
           "The notes (seed 001, \"Visibility and Scheduling Problems\"): "
           "the kernel preempts the LWP of a thread that holds a lock, and "
           "the threads that want the lock spin for nothing.  libcoro's "
           "adaptive mutex spins only while the owner's OS thread is on a "
           "CPU, which it learns from the module's PREEMPTED and RESUMED "
           "events or, without the module, from /proc.  8 coroutines on 2 "
           "workers share a mutex while a CPU hog competes for the last "
           "CPU (`%s`, CORO_ACTIVATIONS as in the first column).  The "
           "events' arm needs the module: `tools/vm --cpus 2 -- "
           "coro/bench/mutex_preempt.sh`.\n\n"
           % " ".join([CORO_BENCH] + argv[1:])]
    if ctx.planning:
        return "".join(out)
    rows, got = [], {}
    for arm, _ in SPIN_ARMS:
        r = res[arm] or {}
        v = r.get("values")
        if not v or "mutex" not in v:
            rows.append([arm, r.get("error", "-"), "", "", "", ""])
            continue
        m = v["mutex"]
        got[arm] = v
        rows.append([arm, m["watch"], table.fmt_int(v["throughput"]),
                     table.fmt_ns(m["spin_ns"]),
                     "%.1f %%" % (100.0 * m["spin_ns"] /
                                  max(1, v["cputime_ns"])),
                     table.fmt_int(m["parks"])])
    out.append(ctx.table("Spinning on a preempted owner",
                         ["arm", "watch", "ops/s", "time spinning",
                          "of the CPU time", "parks"], rows))
    if len(got) == len(SPIN_ARMS):
        off, mon = (got[a] for a, _ in SPIN_ARMS)
        out.append("Predicted: contenders that know the owner is off its "
                   "CPU stop spinning.  Measured: %s spinning watching "
                   "/proc against %s watching nothing; throughput %s of "
                   "the unwatched run's.\n\n"
                   % (table.fmt_ns(mon["mutex"]["spin_ns"]),
                      table.fmt_ns(off["mutex"]["spin_ns"]),
                      table.fmt_ratio(mon["throughput"] /
                                      max(1, off["throughput"]))))
    return "".join(out)


def sec_solaris(ctx):
    if "coro" not in ctx.models:
        return ""
    return "".join([
        "## 11. The rest of the Solaris thread library\n\n"
        "Not in the reference report: the parts of the Solaris design notes "
        "(shared/seeds/001 and 002) that libcoro implements, each measured "
        "by its own small program after the models' runs.\n\n",
        sec_masks(ctx), sec_preempt(ctx), sec_timeline(ctx),
        sec_spin(ctx)])
