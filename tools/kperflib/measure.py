# SPDX-License-Identifier: GPL-2.0
"""Measuring: repeated runs of models, progress lines, CSV rows, and the
JSON file of results rewritten after every run.

The one place that runs configurations for a command: cli.py (run,
compare, sweep) and report.py both measure through here, so neither
imports the other's internals.
"""

import json
import os
import sys
import time

from . import klt, runner, stats
from .models import SAMPLING_PARAMS, WORKLOAD_PARAMS, binary_model


class Progress:
    """`[k/N  12.3s] what` lines on stderr for long runs."""

    def __init__(self, total, enabled=True):
        self.total = total
        self.k = 0
        self.t0 = time.monotonic()
        self.enabled = enabled

    def elapsed(self):
        return time.monotonic() - self.t0

    def step(self, what):
        self.k += 1
        self.note("%s" % what)

    def note(self, what):
        if self.enabled:
            sys.stderr.write("kperf: [%d/%d %6.1fs] %s\n"
                             % (self.k, self.total, self.elapsed(), what))
            sys.stderr.flush()

    def live(self, done, total):
        if self.enabled and total:
            sys.stderr.write("kperf:   ... %s of %s ops (%.0f%%)\n" % (
                "{:,}".format(done), "{:,}".format(total),
                100.0 * done / total))


def with_module(models, fn):
    """Call fn() with kthread_perf loaded when klt is among models."""
    if "klt" in models:
        with klt.Module(runner.ROOT):
            return fn()
    return fn()


def measure(models, cfg, repeat, run_timeout, progress, label="", sink=None):
    """{model: [result, ...]} of repeat runs of cfg on each model.

    cfg is one Config for all, or {model: Config}; the model coro-mn and
    the block-call columns (coro/uring, ...) run the coro binary.  Models alternate within a repeat (klt, pthread, coro,
    klt, ...) so a slow drift of the machine hits all of them alike.
    sink(model, i, res) is called after every run (incremental output).
    """
    cfgs = cfg if isinstance(cfg, dict) else {m: cfg for m in models}
    out = {m: [] for m in models}
    for i in range(repeat):
        for m in models:
            progress.step("%s%s%s" % (label, m, " repeat %d/%d" % (
                i + 1, repeat) if repeat > 1 else ""))
            res = runner.run(binary_model(m), cfgs[m], run_timeout,
                             progress=progress.live)
            out[m].append(res)
            if sink:
                sink(m, i, res)
    return out


# Where a result came from (SPEC.md section 5): the system block's members,
# then start_time and version, as columns of their own.
SYSTEM_FIELDS = ["kernel", "machine", "cpu_model", "online_cpus", "accel",
                 "hostname", "preempt"]
PROVENANCE_FIELDS = SYSTEM_FIELDS + ["start_time", "version"]
WAIT_FIELDS = ["mean_wait_ns"] + list(stats.PERCENTILE_METRICS) + \
    ["max_wait_ns"]

CSV_FIELDS = (["param", "value", "model", "repeat"] + list(WORKLOAD_PARAMS) +
              list(SAMPLING_PARAMS) +
              ["workers", "total_ops", "counter", "elapsed_ns", "throughput",
               "user_ns", "sys_ns", "cputime_ns", "nvcsw", "nivcsw", "waits"]
              + WAIT_FIELDS + ["cpu_eff"] + PROVENANCE_FIELDS)


def csv_row(param, value, model, i, res):
    row = {"param": param, "value": value, "model": model, "repeat": i + 1}
    row.update({k: res["config"].get(k) for k in WORKLOAD_PARAMS +
                SAMPLING_PARAMS})
    row["workers"] = res["config"].get("workers")
    for k in ("total_ops", "counter", "elapsed_ns", "throughput", "user_ns",
              "sys_ns", "cputime_ns", "nvcsw", "nivcsw", "waits"):
        row[k] = res.get(k)
    for k in WAIT_FIELDS:
        row[k] = stats.value(res, k)
    system = res.get("system") or {}
    row.update({k: system.get(k) for k in SYSTEM_FIELDS})
    row.update({k: res.get(k) for k in ("start_time", "version")})
    eff = stats.value(res, "cpu_eff")
    row["cpu_eff"] = None if eff is None else round(eff, 2)
    return row


class ResultsJson:
    """A JSON file of results, complete after every run: rewritten whole
    (and renamed into place) each time, but each result encoded once, when
    it comes.  Re-encoding every earlier result at every run is quadratic:
    with the 272-bucket histogram in each result it made a --quick
    report's 84 runs spend most of their time in json.dump under a TCG
    guest."""

    def __init__(self, path):
        self.path = path
        self.encoded = []

    def add(self, obj, doc=None):
        self.encoded.append(json.dumps(obj))
        self.write(doc)

    def write(self, doc=None):
        """The results as an array, or as key "runs" of the object doc."""
        text = "[" + ", ".join(self.encoded) + "]"
        if doc:
            # json.dumps(doc, indent=1) ends "\n}": the runs go before it.
            text = json.dumps(doc, indent=1)[:-2] + ',\n "runs": ' + \
                text + "\n}"
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.path)
