# SPDX-License-Identifier: GPL-2.0
"""kperf report: the reference report's experiment set, measured here.

The reference report (shared/seeds/000_*) has Tables 7-14 and Figures 1-6;
this adds the sync modes, wait latency by work mode and many-to-many
coroutines.  Every section is a function of a Context: a first pass with
ctx.planning set only collects the (model, configuration) pairs it asks
for, the pairs are measured once each (a configuration two tables share
runs once), and a second pass renders Markdown and PNGs from the results.

Everything measured is written as it comes (DIR/runs.csv, DIR/results.json),
so an interrupted or failed report keeps its data, and report.md is then
rendered from what there is, saying so.
"""

import csv
import datetime
import json
import os
import subprocess
import time

from . import (blockcalls, env, firmness, klt, plot, runner, solaris, stats,
               table)
from .measure import CSV_FIELDS, Progress, ResultsJson, csv_row, measure
from .env import online_cpus
from .models import MODELS, Config, RunError, fmt_count

# The reference report's own numbers, quoted beside ours.
REFERENCE = {
    "normal_klt_ult": "13.5%",
    "yield_klt_ult": "11.8%",
    "aligned": "normal: coro/ULT 45.9x, coro/KLT 70.1x, KLT/ULT 0.65x; "
               "yield 1000: coro/ULT 89.5x, coro/KLT 459x, KLT/ULT 0.19x",
}


class Context:
    """What sections see: the scale of the run, results, figure output."""

    def __init__(self, out, quick, work_target, repeat, models,
                 latency_sample=None):
        self.out = out
        self.latency_sample = latency_sample   # None: the models' default
        self.models = models
        self.quick = quick
        self.w = work_target
        self.repeat = repeat
        self.planning = True
        self.wanted = []            # [(model, cfg)] in first-asked order
        self.results = {}           # (model, cfg) -> [result]
        self.figures = 0
        self.tables = 0
        self.extras_wanted = []     # [Extra]
        self.extras = {}            # key -> {"argv", "values" | "error"}

    def extra(self, key, argv, parse_stdout, parse_stderr=None, env=None,
              hog=False):
        """A benchmark program run once after the models (solaris.py):
        {"values": parse(its output)} or {"error": why}; None while
        planning.  env: variables added to the program's environment; hog:
        a CPU hog spins on the last online CPU while it runs."""
        if self.planning:
            if key not in [x.key for x in self.extras_wanted]:
                self.extras_wanted.append(Extra(key, argv, parse_stdout,
                                                parse_stderr, env, hog))
            return None
        return self.extras.get(key, {"error": "not run (the report "
                                              "stopped before it)"})

    def get(self, model, cfg):
        if self.latency_sample is not None:
            cfg = cfg.with_param("latency_sample", self.latency_sample)
        key = (model, cfg)
        if model not in self.models:
            return []
        if self.planning:
            if key not in self.wanted:
                self.wanted.append(key)
            return []
        return self.results.get(key, [])

    def s(self, model, cfg, metric):
        return stats.summarize(self.get(model, cfg), metric)

    def med(self, model, cfg, metric="throughput"):
        return stats.median(self.get(model, cfg), metric)

    def table(self, title, header, rows):
        self.tables += 1
        return "Table %d: %s\n\n%s\n" % (self.tables, title,
                                         table.markdown(header, rows))

    def figure(self, name, title, draw):
        """Draw a PNG with draw(path); return the Markdown that shows it."""
        self.figures += 1
        if self.planning:
            return ""
        path = os.path.join(self.out, "fig%d-%s.png" % (self.figures, name))
        try:
            draw(path)
        except (RunError, ValueError, ZeroDivisionError) as e:
            return "Figure %d: %s (not drawn: %s)\n\n" % (self.figures,
                                                          title, e)
        return "![Figure %d: %s](%s)\n\nFigure %d: %s\n\n" % (
            self.figures, title, os.path.basename(path), self.figures, title)


# Helpers for cells ------------------------------------------------------

def thr(ctx, model, cfg):
    return table.fmt_spread("throughput", ctx.s(model, cfg, "throughput"))


def cell(ctx, model, cfg, metric):
    return table.fmt_spread(metric, ctx.s(model, cfg, metric))


def ratio(ctx, a, b, cfg):
    return table.fmt_ratio(stats.ratio(ctx.med(a, cfg), ctx.med(b, cfg)))


def mode_label(cfg):
    if cfg.work_mode == "normal":
        return "normal"
    if cfg.work_mode == "sleep":
        return "sleep %s every %d" % ("1 tick" if not cfg.sleep_us else
                                      "%d us" % cfg.sleep_us,
                                      cfg.yield_interval)
    return "%s %d" % (cfg.work_mode, cfg.yield_interval)


def spread(ctx, model, cfg, metric="throughput"):
    """(median, min, max) of metric, for a bar; None when unmeasured."""
    s = ctx.s(model, cfg, metric)
    return s and (s["median"], s["min"], s["max"])


def lines_section(ctx, intro, tab, fig, xlabel, series):
    """A section of one throughput table and one line figure: intro text,
    tab = (title, header, rows), fig = (name, caption, plot title)."""
    name, caption, title = fig
    return "".join([intro, ctx.table(*tab), ctx.figure(
        name, caption, lambda p: plot.lines(p, title, xlabel, "throughput",
                                            series))])


def series_points(ctx, model, cfgs, xs, metric="throughput"):
    pts = []
    for x, cfg in zip(xs, cfgs):
        s = ctx.s(model, cfg, metric)
        if s:
            pts.append((x, s["median"], s["min"], s["max"]))
    return pts


def bind_values():
    """Unbound, then 1, 2, 4, ... up to every online CPU."""
    n = online_cpus()
    vals, v = [0], 1
    while v < n:
        vals.append(v)
        v *= 2
    return vals + [n] if n not in vals else vals


# Sections ---------------------------------------------------------------

def base(ctx):
    return Config(thread_count=4, work_target=ctx.w)


def yield_cfg(cfg, interval=1000):
    return cfg.with_param("work_mode", "yield").with_param(
        "yield_interval", interval)


def metric_rows(ctx, cfg, metrics):
    rows = []
    for metric in metrics:
        fn, unit, label = stats.METRICS[metric]
        rows.append([label + (" (ops/s)" if metric == "throughput" else "")] +
                    [cell(ctx, m, cfg, metric) for m in ctx.models])
    return rows


SCENARIO_METRICS = ("throughput", "elapsed_ns", "user_ns", "sys_ns",
                    "cputime_ns", "cpu_eff", "nvcsw", "nivcsw", "waits",
                    "mean_wait_ns")


def sec_scenarios(ctx):
    a = base(ctx)
    b = yield_cfg(a)
    out = ["## 1. Scenarios A and B: normal and yield workloads\n\n"
           "The reference report's Tables 7 and 8: %s, and the same with a "
           "yield every 1000 operations (kernel `yield()`, `sched_yield()`, "
           "`coro_yield`).  KLT user time is 0 by construction: kernel "
           "threads never run in user mode, so all their CPU time is system "
           "time.\n\n" % a.describe()]
    for cfg, title, ref in ((a, "Scenario A, normal workload (reference "
                             "Table 7)", REFERENCE["normal_klt_ult"]),
                            (b, "Scenario B, yield every 1000 operations "
                             "(reference Table 8)",
                             REFERENCE["yield_klt_ult"])):
        rows = metric_rows(ctx, cfg, SCENARIO_METRICS)
        rows.append(["KLT/pthread throughput", ratio(ctx, "klt", "pthread",
                                                     cfg), "", ""])
        rows.append(["coro/pthread throughput", "", "",
                     ratio(ctx, "coro", "pthread", cfg)])
        out.append(ctx.table(title, ["metric"] + list(ctx.models), rows))
        out.append("KLT/pthread here: %s; in the reference report: %s.\n\n"
                   % (ratio(ctx, "klt", "pthread", cfg), ref))
    cats = ["A: normal", "B: yield 1000"]
    vals = {cats[0]: {m: spread(ctx, m, a) for m in ctx.models},
            cats[1]: {m: spread(ctx, m, b) for m in ctx.models}}
    out.append(ctx.figure("scenarios", "Throughput of scenarios A and B "
                          "by model", lambda p: plot.bars(
                              p, "Scenarios A and B (%s)" % a.describe(),
                              "throughput", cats, list(ctx.models),
                              vals)))
    return "".join(out)


def sec_yield_sweep(ctx):
    a = base(ctx)
    intervals = [100, 1000, 10000]
    cfgs = [a] + [yield_cfg(a, i) for i in intervals]
    rows = []
    for cfg in cfgs:
        for m in ctx.models:
            rows.append([mode_label(cfg), m, thr(ctx, m, cfg),
                         cell(ctx, m, cfg, "cpu_eff"),
                         cell(ctx, m, cfg, "nvcsw"),
                         cell(ctx, m, cfg, "nivcsw"),
                         cell(ctx, m, cfg, "waits"),
                         cell(ctx, m, cfg, "mean_wait_ns")])
    intro = ("## 2. Yield-interval sweep\n\n"
             "Reference Table 9 and Figure 2: %s, yielding every 100, 1000 "
             "and 10000 operations.  CPU efficiency is CPU time over "
             "elapsed time times the CPUs the run could use (workers, capped"
             " by the binding and the online CPUs).  Waits are the yields "
             "themselves (expected: threads x work target / interval); the "
             "kernel counts a `yield()` that switches as an involuntary "
             "switch.\n\n"
             % a.describe("yield_interval"))
    series = {m: series_points(ctx, m, cfgs[1:], intervals) for m in ctx.models}
    return lines_section(
        ctx, intro, ("Yield-interval sweep", [
            "scenario", "model", "throughput (ops/s)", "CPU efficiency",
            "vol. switches", "invol. switches", "waits",
            "mean wait latency"], rows),
        ("yield-interval", "Throughput by yield interval",
         "Yield-interval sweep (%s)" % yield_cfg(a).describe(
             "yield_interval")),
        "yield interval (operations between yields)", series)


def sec_binding(ctx):
    a = base(ctx)
    binds = bind_values()
    rows, names = [], []
    cats = [str(n) if n else "unbound" for n in binds]
    vals = {c: {} for c in cats}
    for mode_cfg in (a, yield_cfg(a)):
        cfgs = [mode_cfg.with_param("bind_cpu_count", n) for n in binds]
        for c, cfg in zip(cats, cfgs):
            rows.append([c, mode_label(cfg)] +
                        [thr(ctx, m, cfg) for m in ctx.models] +
                        [ratio(ctx, "klt", "pthread", cfg)])
            for m in ctx.models:
                vals[c]["%s %s" % (m, mode_label(mode_cfg))] = spread(
                    ctx, m, cfg)
        names += ["%s %s" % (m, mode_label(mode_cfg)) for m in ctx.models]
    out = ["## 3. CPU binding\n\n"
           "Reference Table 10 and Figure 3: four threads bound round-robin "
           "to 1, 2, ... online CPUs (thread i to CPU i mod n), normal and "
           "yield 1000.  This machine has %d online CPU%s, so the "
           "reference's 4-CPU row becomes %s.  Coroutines run on one OS "
           "thread here, so binding only moves that thread.\n\n"
           % (online_cpus(), "s" if online_cpus() > 1 else "",
              "the all-CPUs row" if online_cpus() < 4 else "a 4-CPU row"),
           ctx.table("CPU binding (throughput, ops/s)",
                     ["bound CPUs", "mode"] + list(ctx.models) + ["KLT/pthread"],
                     rows)]
    out.append(ctx.figure("binding", "Throughput by CPU binding",
                          lambda p: plot.bars(
                              p, "CPU binding (%s); x: bound CPUs"
                              % a.describe("bind_cpu_count"), "throughput",
                              cats, names, vals)))
    return "".join(out)


def sec_work_target(ctx):
    one = base(ctx).with_param("bind_cpu_count", 1)
    targets = [ctx.w, 5 * ctx.w, 10 * ctx.w]
    rows, series = [], {}
    for mode_cfg in (one, yield_cfg(one)):
        cfgs = [mode_cfg.with_param("work_target", t) for t in targets]
        for t, cfg in zip(targets, cfgs):
            rows.append([fmt_count(t), mode_label(cfg)] +
                        [thr(ctx, m, cfg) for m in ctx.models] +
                        [ratio(ctx, "klt", "pthread", cfg)])
        for m in ctx.models:
            series["%s %s" % (m, mode_label(mode_cfg))] = series_points(
                ctx, m, cfgs, targets)
    return lines_section(
        ctx, "## 4. Work-target scaling\n\n"
        "Reference Table 11 and Figure 4: four threads bound to one CPU, "
        "1x, 5x and 10x the base work target.  Flat lines mean the runs "
        "measure the steady state, not start-up.\n\n",
        ("Work-target scaling (throughput, ops/s)",
         ["work target", "mode"] + list(ctx.models) + ["KLT/pthread"], rows),
        ("work-target", "Throughput by work target",
         "Work-target scaling (4 threads, 1 CPU)"),
        "work target (operations per thread)", series)


def sec_thread_count(ctx):
    one = base(ctx).with_param("bind_cpu_count", 1)
    counts = [4, 16, 32]
    cfgs = [one.with_param("thread_count", n) for n in counts]
    rows = [[str(n), fmt_count(ctx.w)] + [thr(ctx, m, cfg) for m in ctx.models] +
            [ratio(ctx, "klt", "pthread", cfg)]
            for n, cfg in zip(counts, cfgs)]
    series = {m: series_points(ctx, m, cfgs, counts) for m in ctx.models}
    return lines_section(
        ctx, "## 5. Thread count\n\n"
        "Reference Table 12 and Figure 5: 4, 16 and 32 threads (coroutines"
        " for coro) bound to one CPU, normal mode.  On one CPU more "
        "threads add scheduling pressure, not capacity.\n\n",
        ("Thread count (throughput, ops/s)",
         ["threads", "work target"] + list(ctx.models) + ["KLT/pthread"],
         rows),
        ("thread-count", "Throughput by thread count",
         "Thread count (%s)" % one.describe("thread_count")),
        "threads (coroutines for coro)", series)


def coro_workers():
    n = online_cpus()
    return [1, 2] + ([n] if n > 2 else [])


def sec_coro(ctx):
    aligned = base(ctx).with_param("thread_count", 32).with_param(
        "bind_cpu_count", 1)
    rows = []
    for cfg in (aligned, yield_cfg(aligned)):
        rows.append([mode_label(cfg), "1 (bound)", thr(ctx, "coro", cfg),
                     cell(ctx, "coro", cfg, "user_ns"),
                     cell(ctx, "coro", cfg, "sys_ns"),
                     os_switches(ctx, cfg),
                     cell(ctx, "coro", cfg, "waits")])
    mn = base(ctx).with_param("thread_count", 32)
    cats, vals = [], {}
    workers = coro_workers()
    for cfg0 in (mn, yield_cfg(mn)):
        cats.append(mode_label(cfg0))
        vals[mode_label(cfg0)] = {}
        for w in workers:
            cfg = cfg0.with_param("workers", w)
            rows.append([mode_label(cfg), "%d (unbound)" % w,
                         thr(ctx, "coro", cfg),
                         cell(ctx, "coro", cfg, "user_ns"),
                         cell(ctx, "coro", cfg, "sys_ns"),
                         os_switches(ctx, cfg),
                         cell(ctx, "coro", cfg, "waits")])
            vals[mode_label(cfg0)]["%d worker%s" % (w, "s" if w > 1 else "")
                                   ] = spread(ctx, "coro", cfg)
    names = ["%d worker%s" % (w, "s" if w > 1 else "") for w in workers]
    out = ["## 6. Coroutines: many-to-one and many-to-many\n\n"
           "Reference Table 13 and Figure 6: 32 coroutines, %s operations "
           "each, on one OS thread bound to one CPU (many-to-one), and "
           "unbound on 1, 2%s worker threads (many-to-many).  OS switches "
           "are the kernel's counts for the worker threads; coroutine "
           "switches are the yields between coroutines, which the kernel "
           "never sees.\n\n" % (fmt_count(ctx.w), ", %d" % workers[-1]
                                if len(workers) > 2 else ""),
           ctx.table("Coroutine modes", [
               "mode", "worker threads", "throughput (ops/s)", "user time",
               "system time", "OS switches", "coroutine switches"], rows)]
    out.append(ctx.figure("coroutines", "Coroutine throughput by mode and "
                          "worker threads",
                          lambda p: plot.bars(
                              p, "Coroutines (32 coroutines x %s ops)"
                              % fmt_count(ctx.w), "throughput",
                              cats, names, vals)))
    return "".join(out)


def os_switches(ctx, cfg):
    res = ctx.get("coro", cfg)
    if not res:
        return "-"
    return table.fmt_int(stats.median(res, "nvcsw") +
                         stats.median(res, "nivcsw"))


def sec_sync(ctx):
    a = base(ctx)
    modes = ("atomic", "spinlock", "mutex", "percpu")
    cfgs = [a.with_param("sync_mode", s) for s in modes]
    rows = [[s] + [thr(ctx, m, cfg) for m in ctx.models] +
            [ratio(ctx, "klt", "pthread", cfg),
             ratio(ctx, "coro", "pthread", cfg)]
            for s, cfg in zip(modes, cfgs)]
    vals = {s: {m: spread(ctx, m, cfg) for m in ctx.models}
            for s, cfg in zip(modes, cfgs)}
    out = ["## 7. Synchronisation modes\n\n"
           "Not in the reference report (its future work 3): %s with each "
           "sync mode: one shared atomic, a spinlock, a sleeping mutex "
           "(kernel `struct mutex`, `pthread_mutex_t`, the coroutine mutex), "
           "and per-worker counters summed at the end.\n\n"
           % a.describe("sync_mode"),
           ctx.table("Sync modes (throughput, ops/s)",
                     ["sync mode"] + list(ctx.models) +
                     ["KLT/pthread", "coro/pthread"], rows)]
    out.append(ctx.figure("sync-modes", "Throughput by sync mode",
                          lambda p: plot.bars(
                              p, "Sync modes (%s)" % a.describe("sync_mode"),
                              "throughput", list(modes), list(ctx.models),
                              vals)))
    return "".join(out)


def sec_latency(ctx):
    a = base(ctx)
    cfgs = [yield_cfg(a),
            a.with_param("work_mode", "sleep").with_param("sleep_us", 100),
            a.with_param("work_mode", "pingpong")]
    rows = []
    cats, vals = [], {}
    for cfg in cfgs:
        cats.append(mode_label(cfg))
        vals[mode_label(cfg)] = {}
        for m in ctx.models:
            rows.append([mode_label(cfg), m, thr(ctx, m, cfg),
                         cell(ctx, m, cfg, "waits"),
                         cell(ctx, m, cfg, "mean_wait_ns")] +
                        [cell(ctx, m, cfg, p)
                         for p in stats.PERCENTILE_METRICS] +
                        [cell(ctx, m, cfg, "max_wait_ns"),
                         cell(ctx, m, cfg, "nvcsw"),
                         cell(ctx, m, cfg, "nivcsw")])
            vals[mode_label(cfg)][m] = spread(ctx, m, cfg, "mean_wait_ns")
    out = ["## 8. Wait latency by work mode\n\n"
           "Not in the reference report (its future work 4): the "
           "wait-latency histograms of yield, sleep (100 us every 1000 "
           "operations) and pingpong (pairs hand a turn back and forth every "
           "1000 operations), four workers.  Yield latency is the time inside"
           " the yield call, sleep latency from asking to sleep until running"
           " again, pingpong latency from the partner's wake-up to running."
           "  Percentiles are read from each run's histogram (within 12.5 %"
           " of the true value; of older results' power-of-two buckets, "
           "their upper bound), medians over the repeats.  Every model "
           "sleeps with the least timer slack (README: fair sleeps).\n\n",
           ctx.table("Wait latency by work mode", [
               "mode", "model", "throughput (ops/s)", "waits", "mean wait"] +
               ["%s wait" % label for _, _, label in stats.PERCENTILES] +
               ["max wait", "vol. switches", "invol. switches"], rows)]
    out.append(ctx.figure("wait-latency", "Mean wait latency by work mode",
                          lambda p: plot.bars(
                              p, "Mean wait latency (4 workers)",
                              "mean wait latency", cats, list(ctx.models),
                              vals, yunit="ns")))
    series, styles = {}, {}
    for i, cfg in enumerate(cfgs):
        for j, m in enumerate(ctx.models):
            name = "%s, %s" % (m, mode_label(cfg))
            series[name] = stats.merged_buckets(ctx.get(m, cfg))
            styles[name] = "lc %d dt %d" % (j + 1, i + 1)
    out.append(ctx.figure("wait-distribution", "Wait-latency distribution "
                          "by model and work mode (CDF)",
                          lambda p: plot.distribution(
                              p, "Wait-latency distribution (4 workers; "
                              "colour: model, dashes: mode)", series,
                              styles)))
    return "".join(out)


def sec_aligned(ctx):
    aligned = base(ctx).with_param("thread_count", 32).with_param(
        "bind_cpu_count", 1)
    rows, rows2 = [], []
    for cfg in (aligned, yield_cfg(aligned)):
        rows.append([mode_label(cfg)] + [thr(ctx, m, cfg) for m in ctx.models] +
                    [ratio(ctx, "coro", "pthread", cfg),
                     ratio(ctx, "coro", "klt", cfg),
                     ratio(ctx, "klt", "pthread", cfg)])
        for m in ctx.models:
            rows2.append([mode_label(cfg), m,
                          cell(ctx, m, cfg, "nvcsw"),
                          cell(ctx, m, cfg, "nivcsw"),
                          cell(ctx, m, cfg, "waits"),
                          cell(ctx, m, cfg, "mean_wait_ns"),
                          cell(ctx, m, cfg, "cputime_ns")])
    return "".join([
        "## 9. Strict aligned comparison\n\n"
        "Reference Table 14: %s, normal and yield 1000, the three models "
        "alternating run by run.  The reference report measured: %s.\n\n"
        % (aligned.describe(), REFERENCE["aligned"]),
        ctx.table("Strict aligned KLT vs pthread vs coroutine (throughput, "
                  "ops/s)", ["scenario"] + list(ctx.models) +
                  ["coro/pthread", "coro/klt", "klt/pthread"], rows),
        ctx.table("Strict aligned comparison: switches and waits",
                  ["scenario", "model", "vol. switches", "invol. switches",
                   "waits", "mean wait latency", "CPU time"], rows2)])


# The VPI paper's thread operations (its Figures 3-7): label, work mode,
# threads, CPUs bound (0: all), and the work target's divisor (spawning
# a kernel thread costs milliseconds under TCG, so fewer of those).
VPI_OPS = (("create + join", "spawn", 1, 0, 5000),
           ("condition signal", "pingpong", 2, 1, 500),
           ("32-thread barrier", "barrier", 32, 0, 2000),
           ("Sun ping-pong, 1 game", "pingpong", 2, 0, 500),
           ("Sun ping-pong, 4 games", "pingpong", 8, 0, 500))
# The same, short enough for the figure's axis.
VPI_SHORT = {"create + join": "create+join", "condition signal": "signal",
             "32-thread barrier": "barrier x32",
             "Sun ping-pong, 1 game": "ping-pong x1",
             "Sun ping-pong, 4 games": "ping-pong x4"}
VPI_COLUMNS = ("klt", "pthread", "coro", "coro-mn")


def vpi_cfgs(ctx):
    """[(label, {column: Config})]: one operation per iteration."""
    out = []
    for label, mode, threads, bind, div in VPI_OPS:
        cfg = Config(thread_count=threads, work_mode=mode, yield_interval=1,
                     bind_cpu_count=bind, work_target=max(50, ctx.w // div))
        out.append((label, {"klt": ("klt", cfg), "pthread": ("pthread", cfg),
                            "coro": ("coro", cfg),
                            "coro-mn": ("coro", cfg.with_param(
                                "workers", online_cpus()))}))
    return out


def per_op_ns(ctx, model, cfg):
    """Median wall time of one iteration (an operation and its wait)."""
    el = ctx.med(model, cfg, "elapsed_ns")
    return el / cfg.work_target if el else None


def sec_vpi(ctx):
    rows, vals, cats, winners = [], {}, [], []
    cols = [c for c in VPI_COLUMNS if c.split("-")[0] in ctx.models]
    for label, by_col in vpi_cfgs(ctx):
        short = VPI_SHORT[label]
        cats.append(short)
        vals[short] = {}
        row = [label]
        for c in cols:
            m, cfg = by_col[c]
            t = per_op_ns(ctx, m, cfg)
            vals[short][c] = t
            row.append("%s (wait %s)" % (table.fmt_ns(t),
                                         cell(ctx, m, cfg, "mean_wait_ns")))
        base_t = vals[short].get("pthread")
        for c in cols:
            if c != "pthread":
                t = vals[short].get(c)
                row.append(table.fmt_ratio(base_t / t if t and base_t
                                           else None))
        measured = {c: t for c, t in vals[short].items() if t}
        if measured:
            winners.append("%s: %s" % (label, min(measured,
                                                  key=measured.get)))
        rows.append(row)
    out = ["## 10. Thread operations (the VPI paper's Figures 3-7)\n\n"
           "Not in the reference report: the operations the VPI paper "
           "(shared/seeds/003) compares thread systems on, one per iteration "
           "(yield_interval 1): create a thread of the model and join it "
           "(`spawn`, one thread), hand a turn between two threads on one "
           "CPU (condition signal) and on every CPU (Sun ping-pong, 1 game), "
           "four pairs at once (4 games), and 32 threads meeting at a "
           "barrier.  `coro` runs on one OS thread, `coro-mn` on %d.  Cells "
           "are the wall time of one iteration (elapsed / work target), "
           "with the mean wait latency; ratios are pthread's time over the "
           "model's (above 1: faster than pthread).\n\n" % online_cpus(),
           ctx.table("Thread operations (time per operation)",
                     ["operation"] + cols +
                     ["%s vs pthread" % c for c in cols if c != "pthread"],
                     rows)]
    if not ctx.planning:
        out.append("Fastest here per operation: %s.  The paper found the "
                   "user-level systems fastest at create/join, signal and "
                   "the barrier, and its VPIthreads (user-level threads "
                   "with kernel upcalls) fastest at ping-pong, by less with "
                   "4 games on 2 CPUs.\n\n" % ("; ".join(winners) or "-"))
    out.append(ctx.figure("thread-ops", "Time per thread operation",
                          lambda p: plot.bars(
                              p, "Thread operations (time per iteration)",
                              "time per iteration", cats, list(cols), vals,
                              yunit="ns")))
    return "".join(out)


SECTIONS = (sec_scenarios, sec_yield_sweep, sec_binding, sec_work_target,
            sec_thread_count, sec_coro, sec_sync, sec_latency, sec_aligned,
            sec_vpi, solaris.sec_solaris, blockcalls.sec_blocking,
            firmness.sec_firmness)


def render(ctx):
    ctx.tables = ctx.figures = 0
    return [s(ctx) for s in SECTIONS]


# Output -----------------------------------------------------------------

class RunLog:
    """DIR/runs.csv and DIR/results.json, written run by run."""

    def __init__(self, out):
        self.csv_path = os.path.join(out, "runs.csv")
        self.json = ResultsJson(os.path.join(out, "results.json"))
        self.f = open(self.csv_path, "w", newline="")
        self.w = csv.DictWriter(self.f, ["key"] + CSV_FIELDS[1:])
        self.w.writeheader()

    def add(self, key, model, i, res):
        row = csv_row("", "", model, i, res)
        del row["param"], row["value"]
        row["key"] = key
        self.w.writerow(row)
        self.f.flush()
        self.json.add(res)

    def close(self):
        self.f.close()


class Extra:
    """A section's benchmark program (Context.extra)."""

    def __init__(self, key, argv, parse_stdout, parse_stderr, env, hog):
        self.key, self.argv, self.env, self.hog = key, argv, env, hog
        self.parse_stdout, self.parse_stderr = parse_stdout, parse_stderr


def start_hog():
    """A CPU hog on the last online CPU (the extras that ask for one)."""
    cpu = str(max(env.online_cpu_list() or [0]))
    return subprocess.Popen(["taskset", "-c", cpu, "sh", "-c",
                             "while :; do :; done"],
                            stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL)


def run_extra(x, run_timeout):
    """One extra: {"argv", "values"} or {"argv", "error"}."""
    res = {"argv": x.argv}
    if x.env:
        res["env"] = x.env
    if not os.access(x.argv[0], os.X_OK):
        res["error"] = "%s is not built (make -C %s)" % (
            os.path.relpath(x.argv[0], runner.ROOT),
            os.path.relpath(os.path.dirname(x.argv[0]), runner.ROOT))
        return res
    hog = start_hog() if x.hog else None
    try:
        p = subprocess.run(x.argv, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True,
                           timeout=run_timeout or 600,
                           env=dict(os.environ, **(x.env or {})))
        res["stdout"], res["stderr"] = p.stdout, p.stderr
        if p.returncode:
            res["error"] = "%s exited %d: %s" % (
                os.path.basename(x.argv[0]), p.returncode,
                (p.stderr.strip().splitlines() or [""])[-1])
        else:
            res["values"] = (x.parse_stdout(p.stdout) if x.parse_stdout
                             else x.parse_stderr(p.stderr))
            if res["values"] is None:
                res["error"] = "%s printed nothing usable" % (
                    os.path.basename(x.argv[0]))
    except subprocess.TimeoutExpired:
        res["error"] = "%s did not finish in %s s" % (
            os.path.basename(x.argv[0]), run_timeout or 600)
    finally:
        if hog:
            hog.kill()
            hog.wait()
    return res


def run_extras(ctx, out, progress, run_timeout):
    """Run the sections' benchmark programs (Context.extra), one after
    the other; DIR/extras.json keeps each one's command and output."""
    kept = {}
    for x in ctx.extras_wanted:
        key = x.key
        progress.step("%s: %s%s" % (key, "".join(
            "%s=%s " % kv for kv in sorted((x.env or {}).items())), " ".join(
            os.path.relpath(a, runner.ROOT) if a.startswith(runner.ROOT)
            else a for a in x.argv)))
        res = run_extra(x, run_timeout)
        ctx.extras[key] = res
        kept[key] = res
        with open(os.path.join(out, "extras.json"), "w") as f:
            json.dump(kept, f, indent=1)
        if "error" in res:
            progress.note("%s: %s" % (key, res["error"]))


def header(ctx, args, where, wall, status):
    cfg = "quick (--quick)" if ctx.quick else "full"
    lines = [
        "# kthread_perf: kernel threads, pthreads and coroutines\n",
        "Generated by `tools/kperf report%s` on %s UTC in %.0f s (%s "
        "set, base work target %s operations per thread, %d run%s per "
        "point; cells are medians with min..max when runs differ)."
        % (" --quick" if ctx.quick else "",
           datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M"), wall, cfg,
           fmt_count(ctx.w), ctx.repeat, "s" if ctx.repeat > 1 else ""),
        "",
        "## Where these numbers come from\n",
        "| | |",
        "|:---|:---|",
        "| kernel | %s |" % where["kernel"],
        "| CPU | %s (%d online) |" % (where["cpu_model"],
                                       where["online_cpus"]),
        "| machine | %s |" % env.machine(where),
        "| accel | %s (%s) |" % (where["accel"], where["detected_by"]),
        "| preemption | %s |" % where["preempt"],
    ]
    if ctx.latency_sample is not None:
        lines.append("| latency sample | every %s-th wait of each worker "
                     "timed (0: none) |" % ctx.latency_sample)
    if where.get("host_cpu"):
        lines.append("| host CPU | %s |" % where["host_cpu"])
    if where.get("tcg_thread"):
        lines.append("| TCG vCPU threads | %s (%s) |" % (
            where["tcg_thread"], "all vCPUs on one host thread"
            if where["tcg_thread"] == "single" else "one host thread per vCPU"))
    lines.append("")
    if where["accel"] == "tcg":
        lines.append("Under TCG every guest instruction is translated, so "
                     "absolute throughputs are far below bare metal and the "
                     "kernel's timing differs; compare models by their "
                     "ratios, which all come from the same guest.\n")
    lines.append("The models ran in the same %s on the same kernel, "
                 "alternating run by run.  Every run's shared counter was "
                 "checked: counter == total_ops == threads x work target.\n"
                 % ("guest" if where["guest"] else "machine"))
    if status:
        lines.append("**%s**\n" % status)
    warn = firmness.warning(ctx)
    if warn:
        lines.append(warn + "\n")
    return "\n".join(lines) + "\n"


def main(args):
    quick = args.quick
    w = Config().work_target // (10 if quick else 1)
    if args.work_target is not None:
        w = args.work_target_n
    out = args.out
    os.makedirs(out, exist_ok=True)
    ctx = Context(out, quick, w, args.repeat_n, args.models,
                  args.latency_sample)
    render(ctx)                          # planning pass
    ctx.planning = False
    keys = {k: i for i, k in enumerate(ctx.wanted)}
    configs = []
    for model, cfg in ctx.wanted:
        if cfg not in configs:
            configs.append(cfg)
    models_of = {cfg: [m for m in MODELS if (m, cfg) in keys]
                 for cfg in configs}
    progress = Progress(len(ctx.wanted) * ctx.repeat +
                        len(ctx.extras_wanted))
    progress.note("report: %d configurations, %d runs, into %s"
                  % (len(configs), len(ctx.wanted) * ctx.repeat, out))
    log = RunLog(out)
    status = None
    t0 = time.monotonic()
    failure = None

    def body():
        for cfg in configs:
            def sink(m, i, res, cfg=cfg):
                ctx.results.setdefault((m, cfg), []).append(res)
                log.add(keys[(m, cfg)], m, i, res)
            measure(models_of[cfg], cfg, ctx.repeat, args.run_timeout,
                    progress, label="%s: " % cfg.describe(), sink=sink)
        run_extras(ctx, out, progress, args.run_timeout)

    try:
        with_module = "klt" in {m for m, _ in ctx.wanted}
        if with_module:
            with klt.Module(runner.ROOT):
                body()
        else:
            body()
    except KeyboardInterrupt:
        status = "Interrupted: this report is partial (- marks what was " \
                 "not measured)."
        failure = KeyboardInterrupt
    except RunError as e:
        status = "FAILED: %s.  The report is partial." % e
        failure = e
    finally:
        log.close()
    where = env.describe()
    progress.note("report: rendering tables and plots")
    sections = render(ctx)
    text = header(ctx, args, where, time.monotonic() - t0, status) + \
        "\n".join(sections)
    path = os.path.join(out, "report.md")
    with open(path, "w") as f:
        f.write(text)
    progress.note("report: wrote %s (%d tables, %d figures)"
                  % (path, ctx.tables, ctx.figures))
    if failure is KeyboardInterrupt:
        raise KeyboardInterrupt
    if failure:
        raise failure
    print(path)
    return 0
