# SPDX-License-Identifier: GPL-2.0
"""Metrics derived from result objects, and their median/min/max.

A metric is a name known to METRICS: a function of one result object, its
unit, and a short label.  Repeated runs of one configuration are summarised
per metric as {"median", "min", "max", "n"}.
"""

import statistics

from .env import online_cpus


def mean_wait_ns(res):
    hist = res.get("latency_hist") or {}
    return hist.get("mean_ns", 0) if hist.get("samples") else None


def usable_cpus(res):
    """CPUs the run could use: workers, capped by binding and online CPUs."""
    cfg = res.get("config", {})
    cpus = online_cpus()
    bound = cfg.get("bind_cpu_count") or 0
    if bound:
        cpus = min(cpus, bound)
    return max(1, min(cpus, cfg.get("workers") or cfg.get("thread_count", 1)))


def cpu_efficiency(res):
    """CPU time over the CPU time the run could have had, in percent."""
    if not res.get("elapsed_ns"):
        return None
    return 100.0 * res.get("cputime_ns", 0) / (res["elapsed_ns"] *
                                               usable_cpus(res))


# name: (function, unit, label)
METRICS = {
    "throughput": (lambda r: r["throughput"], "ops/s", "throughput"),
    "elapsed_ns": (lambda r: r["elapsed_ns"], "ns", "elapsed"),
    "total_ops": (lambda r: r["total_ops"], "ops", "total ops"),
    "counter": (lambda r: r["counter"], "", "counter"),
    "nvcsw": (lambda r: r.get("nvcsw", 0), "", "voluntary switches"),
    "nivcsw": (lambda r: r.get("nivcsw", 0), "", "involuntary switches"),
    "waits": (lambda r: r.get("waits", 0), "", "waits"),
    "mean_wait_ns": (mean_wait_ns, "ns", "mean wait latency"),
    "max_wait_ns": (lambda r: (r.get("latency_hist") or {}).get("max_ns")
                    if r.get("waits") else None, "ns", "max wait latency"),
    "cputime_ns": (lambda r: r.get("cputime_ns", 0), "ns", "CPU time"),
    "user_ns": (lambda r: r.get("user_ns", 0), "ns", "user time"),
    "sys_ns": (lambda r: r.get("sys_ns", 0), "ns", "system time"),
    "cpu_eff": (cpu_efficiency, "%", "CPU efficiency"),
}


def value(res, metric):
    return METRICS[metric][0](res)


def summarize(results, metric):
    """median/min/max of metric over results (None values skipped)."""
    vals = [v for v in (value(r, metric) for r in results) if v is not None]
    if not vals:
        return None
    return {"median": statistics.median(vals), "min": min(vals),
            "max": max(vals), "n": len(vals)}


def median(results, metric):
    s = summarize(results, metric)
    return s["median"] if s else None


def ratio(a, b):
    if a is None or b is None or not b:
        return None
    return a / b
