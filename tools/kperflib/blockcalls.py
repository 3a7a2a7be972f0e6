# SPDX-License-Identifier: GPL-2.0
"""Block mode's ways for coroutines to make the blocking call (issue 21).

Every model reads one byte from a socket its partner writes to.  pthread and
klt block their thread; a coroutine has five ways, each a column of
`kperf compare --work-mode block` and a row of the report's section 12:

  coro-mn            a plain read(), activations "auto": the module's
                     events where /dev/kthread_perf opens, else the monitor
  coro-mn/monitor    a plain read(), the sysmon-style monitor (a column of
                     its own only where coro-mn got the module)
  coro-mn/wrapper    coro_blocking_read(): the worker to a spare OS thread
                     first, no activations
  coro/uring,        coro_uring_read(): the worker's io_uring, no OS thread
  coro-mn/uring      blocking, on one worker and on M

The runs are coro_bench's with --block-call and CORO_ACTIVATIONS
(models.Config's block_call and activations).
"""

import os
import statistics
from dataclasses import replace

from . import table
from .env import online_cpus
from .models import Config, binary_model

DEVICE = "/dev/kthread_perf"

# column: (workers: "1" or "mn", block_call, activations), after coro-mn.
VARIANTS = (
    ("coro-mn/monitor", "mn", "read", "monitor"),
    ("coro-mn/wrapper", "mn", "wrapper", None),
    ("coro/uring", "1", "uring", None),
    ("coro-mn/uring", "mn", "uring", None),
)

# What each column's coroutines do, for the report's table.
MECHANISMS = {
    "pthread": "read(), the thread blocks",
    "klt": "kernel_read(), the kthread blocks",
    "coro": "read() + activations",
    "coro-mn": "read() + activations",
    "coro-mn/monitor": "read() + the monitor",
    "coro-mn/wrapper": "coro_blocking_read()",
    "coro/uring": "coro_uring_read()",
    "coro-mn/uring": "coro_uring_read()",
}


def module_opens():
    """Whether coro_bench's activations "auto" will get the module."""
    try:
        os.close(os.open(DEVICE, os.O_RDWR | os.O_CLOEXEC))
        return True
    except OSError:
        return False


def variant_cfgs(cfg, mn, module):
    """{column: Config} of the block-call columns beyond coro and coro-mn;
    the monitor's only when coro-mn will have the module (else coro-mn is
    the monitor already)."""
    out = {}
    for col, workers, call, act in VARIANTS:
        if act == "monitor" and not module:
            continue
        out[col] = replace(cfg, workers=1 if workers == "1" else mn,
                           block_call=call, activations=act)
    return out


# Per blocking call --------------------------------------------------------

def _median(results, fn):
    vals = [v for v in (fn(r) for r in results) if v is not None]
    return statistics.median(vals) if vals else None


def call_ns(res):
    """Wall time of one iteration: each worker does an operation and one
    blocking call (yield_interval 1) per iteration."""
    wt = res["config"].get("work_target")
    return res["elapsed_ns"] / wt if wt else None


def call_cpu_ns(res):
    """CPU time per blocking call: the process's (getrusage: every thread,
    so the spares the wrapper and activations run on, and the monitor or
    listener, which the per-thread cputime_ns of coro_bench, sampled by
    the coroutines, misses); klt's, which has none, its kthreads'."""
    if not res.get("waits"):
        return None
    cpu = res.get("user_ns", 0) + res.get("sys_ns", 0)
    return (cpu or res.get("cputime_ns", 0)) / res["waits"]


def handoffs_per_call(res):
    """Workers handed to a spare OS thread per blocking call (coro)."""
    if "handoffs" not in res or not res.get("waits"):
        return None
    return res["handoffs"] / res["waits"]


def label(col, results):
    """The column's name, with what coro-mn's "auto" got."""
    acts = {r.get("activations") for r in results} - {None}
    if col in ("coro", "coro-mn") and len(acts) == 1:
        return "%s (%s)" % (col, acts.pop())
    return col


def mechanism(col, results):
    text = MECHANISMS.get(col, "")
    acts = {r.get("activations") for r in results} - {None}
    if col in ("coro", "coro-mn") and len(acts) == 1:
        text = "read() + activations (%s)" % acts.pop()
    return text


def sentence(name, t, cpu, others, base):
    """One sentence on a row: its cost per call and where it wins, from
    the numbers.  others: {name: (t, cpu)} of the other rows; base: the
    pthread row's (t, cpu) or None."""
    s = "`%s`: %s per blocking call, %s of CPU per call" % (
        name, table.fmt_ns(t), table.fmt_ns(cpu))
    if base and base[0] and name != "pthread":
        s += ", %s pthread's time" % table.fmt_ratio(t / base[0])
    beats = sorted(o for o, (ot, _) in others.items() if ot and t < ot)
    loses = sorted(o for o, (ot, _) in others.items() if ot and t >= ot)
    if not loses and beats:
        s += "; the fastest here"
    elif beats:
        s += "; faster than %s" % ", ".join("`%s`" % o for o in beats)
    else:
        s += "; the slowest here"
    cpus = [oc for _, oc in others.values() if oc is not None]
    if cpu is not None and cpus and cpu < min(cpus):
        s += ", and the least CPU per call"
    elif cpu is not None and cpus and cpu > max(cpus):
        s += ", and the most CPU per call"
    return s + "."


def rows_and_sentences(cols, results_of):
    """Table rows and one sentence per measured column; results_of(col) is
    that column's results."""
    rows, cost = [], {}
    for col in cols:
        res = results_of(col)
        if not res:
            continue
        name = label(col, res)
        t, cpu = _median(res, call_ns), _median(res, call_cpu_ns)
        cost[name] = (t, cpu)
        h = _median(res, handoffs_per_call)
        rows.append([name, mechanism(col, res),
                     table.fmt_int(_median(res, lambda r:
                                           r["config"].get("workers"))),
                     table.fmt_ns(t), table.fmt_ns(cpu),
                     table.fmt_ns(_median(res, lambda r: (
                         r.get("latency_hist") or {}).get("mean_ns"))),
                     "-" if h is None else "%.2f" % h])
    base = next((v for k, v in cost.items() if k == "pthread"), None)
    for row in rows:
        t = cost[row[0]][0]
        row.append(table.fmt_ratio(base[0] / t if base and base[0] and t
                                   else None))
    said = [sentence(n, t, cpu, {o: v for o, v in cost.items() if o != n},
                     base)
            for n, (t, cpu) in cost.items() if t is not None]
    return rows, said


HEADER = ["column", "blocking call", "OS threads running coroutines "
          "(workers)", "time per call", "CPU per call", "mean wait",
          "hand-offs per call", "pthread's time / this"]


def section_cfgs(ctx_w, quick, mn, module):
    """{column: (model, Config)}: eight coroutines (four pairs) of block
    mode, one blocking call per operation."""
    cfg = Config(thread_count=8, work_mode="block", yield_interval=1,
                 work_target=max(50, ctx_w // (500 if quick else 1000)))
    cols = {"klt": ("klt", cfg), "pthread": ("pthread", cfg),
            "coro": ("coro", cfg),
            "coro-mn": ("coro", cfg.with_param("workers", mn))}
    for col, c in variant_cfgs(cfg, mn, module).items():
        cols[col] = (binary_model(col), c)
    return cfg, cols


def sec_blocking(ctx):
    """Section 12 of kperf report: the block-call table and its sentences."""
    if "coro" not in ctx.models:
        return ""
    mn = max(2, online_cpus())
    module = "klt" in ctx.models or module_opens()
    cfg, cols = section_cfgs(ctx.w, ctx.quick, mn, module)
    rows, said = rows_and_sentences(
        list(cols), lambda c: ctx.get(*cols[c]))
    out = ["## 12. Blocking calls on coroutines\n\n"
           "Not in the reference report: the same blocking call (block "
           "mode: %d threads or coroutines in pairs, each writes a byte "
           "to its partner's socket and then reads one from its own, %s "
           "times) made the "
           "ways a coroutine runtime can make it: a plain `read()` that "
           "scheduler activations survive (the module's events, or the "
           "monitor), the wrapper `coro_blocking_read()` that hands the "
           "worker to a spare OS thread first, and `coro_uring_read()`, "
           "which submits the read to its worker's io_uring and parks, as "
           "Seastar, glommio and tokio-uring do.  `coro-mn` columns run "
           "on %d workers.  Time per call is the run's wall time over the "
           "iterations of one worker; CPU per call is the process's CPU "
           "time (every thread: spares, the monitor, the listener; klt: "
           "its kthreads') over all the calls.\n\n"
           % (cfg.thread_count, fmt_n(cfg.work_target), mn),
           ctx.table("One blocking call, by mechanism", HEADER, rows)]
    if said:
        out.append("".join("- %s\n" % s for s in said) + "\n")
    return "".join(out)


def fmt_n(n):
    return "{:,}".format(n)


def compare_note(results):
    """kperf compare's line on how each coroutine column blocked."""
    return "blocking call: " + "; ".join(
        "%s %s" % (c, mechanism(c, results[c])) for c in results
        if c in MECHANISMS and c not in ("klt",))
