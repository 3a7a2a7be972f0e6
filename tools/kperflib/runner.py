# SPDX-License-Identifier: GPL-2.0
"""Run one configuration on one model and check what came back.

pthread and coro run their binaries with --json and pass the object
through; klt goes through klt.run().  Every result is checked the same way:
a run that was not stopped must have counter == total_ops ==
thread_count * work_target, or kperf fails loudly.
"""

import json
import os
import re
import shutil
import subprocess
import sys

from . import klt
from .env import online_cpus, worker_cpu
from .models import (RunError, UsageError, SAMPLING_PARAMS, WORKLOAD_PARAMS,
                     flag)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.realpath(__file__))))

BINARIES = {
    "pthread": os.path.join("userspace", "pthread_bench"),
    "coro": os.path.join("coro", "coro_bench"),
}


def binary(model):
    """The model's binary; KPERF_PTHREAD_BENCH / KPERF_CORO_BENCH override.

    The source tree's build first; an installed kperf (make install) has no
    tree beside it and finds the installed binary on PATH.
    """
    env = os.environ.get("KPERF_%s_BENCH" % model.upper())
    path = env or os.path.join(ROOT, BINARIES[model])
    if not env and not os.path.exists(path):
        path = shutil.which(os.path.basename(BINARIES[model])) or path
    if not os.access(path, os.X_OK):
        raise RunError("%s: %s is not built (run make)" % (model, path))
    return path


_LIMITS = {}


def defs_limits():
    """The module's ranges, read from workload/kp_defs.h (the header the
    module and both binaries compile against)."""
    path = os.path.join(ROOT, "workload", "kp_defs.h")
    with open(path) as f:
        defs = dict(re.findall(r"^#define\s+KP_(\w+)\s+([0-9]+)(?:ULL)?\s*$",
                               f.read(), re.M))
    n = klt.max_threads() or int(defs["MAX_THREADS_DEFAULT"])
    return {
        "thread_count": (1, n),
        "work_target": (1, int(defs["WORK_TARGET_MAX"])),
        "yield_interval": (1, int(defs["YIELD_INTERVAL_MAX"])),
        "sleep_us": (0, int(defs["SLEEP_US_MAX"])),
        "bind_cpu_count": (0, online_cpus()),
        "latency_sample": (0, int(defs.get("LATENCY_SAMPLE_MAX", 1000000))),
    }


def limits(model):
    """{param: (lo, hi)} that model accepts: klt's from kp_defs.h (and the
    loaded module's max_threads), a binary's from its own --limits."""
    if model not in _LIMITS:
        if model == "klt":
            _LIMITS[model] = defs_limits()
        else:
            path = binary(model)
            try:
                out = subprocess.run([path, "--limits"], check=True, text=True,
                                     stdout=subprocess.PIPE).stdout
                doc = json.loads(out)
                if not isinstance(doc, dict):
                    raise ValueError("not a JSON object")
                _LIMITS[model] = {k: tuple(v) for k, v in doc.items()
                                  if isinstance(v, list) and len(v) == 2
                                  and all(isinstance(x, int) for x in v)}
            except (OSError, ValueError, subprocess.CalledProcessError) as e:
                raise RunError("%s: %s --limits failed (%s)"
                               % (model, path, e))
    return _LIMITS[model]


def binary_args(model, cfg):
    args = [binary(model)]
    for name in WORKLOAD_PARAMS:
        args += ["--" + flag(name), str(getattr(cfg, name))]
    for name in SAMPLING_PARAMS:
        if getattr(cfg, name) is not None:
            args += ["--" + flag(name), str(getattr(cfg, name))]
    if model == "coro":
        args += ["--workers", str(cfg.workers)]
        if cfg.stack_size:
            args += ["--stack-size", str(cfg.stack_size)]
        if cfg.block_call:
            args += ["--block-call", cfg.block_call]
    return args + ["--json"]


def binary_env(model, cfg):
    """The environment of a binary's run: CORO_ACTIVATIONS for coro when
    the configuration names it, else kperf's own."""
    if model == "coro" and cfg.activations:
        return dict(os.environ, CORO_ACTIVATIONS=cfg.activations)
    return None


def run_binary(model, cfg, timeout):
    """Run pthread_bench or coro_bench; a Ctrl-C ends the child too."""
    args = binary_args(model, cfg)
    proc = subprocess.Popen(args, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env=binary_env(model, cfg))
    try:
        out, err = proc.communicate(timeout=timeout)
    except (KeyboardInterrupt, subprocess.TimeoutExpired) as e:
        proc.terminate()
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if isinstance(e, KeyboardInterrupt):
            raise
        raise RunError("%s: the run did not finish within %g s; killed it "
                       "(raise --run-timeout)" % (model, timeout))
    if err:
        sys.stderr.write(err)
    if proc.returncode == 2:
        raise UsageError("%s: %s rejected the options: %s" % (
            model, os.path.basename(args[0]),
            (err.strip().splitlines() or ["exit status 2"])[-1]))
    if proc.returncode != 0:
        raise RunError("%s: %s failed with exit status %d" % (
            model, " ".join(args), proc.returncode))
    try:
        res = json.loads(out)
    except ValueError as e:
        raise RunError("%s: %s printed no valid JSON (%s)"
                       % (model, os.path.basename(args[0]), e))
    if not isinstance(res, dict):
        raise RunError("%s: the JSON output is not an object" % model)
    return res


def latency_sample(res):
    """The result's latency_sample (1 where it predates the knob)."""
    n = res.get("config", {}).get("latency_sample")
    return 1 if n is None else n


def expected_samples(res):
    """Timed waits (SPEC.md section 2): each worker's waits / N, rounded
    down; none for N = 0."""
    n = latency_sample(res)
    if n == 1:
        return res["waits"]
    if n == 0:
        return 0
    threads = res.get("threads") or []
    return sum(t.get("waits", 0) // n for t in threads)


def check(model, cfg, res):
    """Fail loudly on a result that cannot be right."""
    for key in ("total_ops", "counter", "elapsed_ns", "throughput", "waits"):
        if not isinstance(res.get(key), int):
            raise RunError("%s: result has no integer '%s'" % (model, key))
    if res.get("state") == "stopped" or res.get("stopped"):
        return
    expect = cfg.total_ops()
    if res["counter"] != res["total_ops"] or res["total_ops"] != expect:
        raise RunError(
            "%s: COUNTER MISMATCH: counter %d, total_ops %d, expected "
            "thread_count * work_target = %d * %d = %d" % (
                model, res["counter"], res["total_ops"], cfg.thread_count,
                cfg.work_target, expect))
    hist = res.get("latency_hist")
    if hist and hist.get("samples") != expected_samples(res):
        raise RunError("%s: latency histogram has %s samples but %d waits "
                       "with latency_sample %d make %d"
                       % (model, hist.get("samples"), res["waits"],
                          latency_sample(res), expected_samples(res)))
    got = res.get("config", {})
    for name in WORKLOAD_PARAMS + SAMPLING_PARAMS:
        if getattr(cfg, name) is None:
            continue
        if name in got and got[name] != getattr(cfg, name):
            raise RunError("%s: ran with %s = %s, asked for %s" % (
                model, name, got[name], getattr(cfg, name)))
    check_binding(model, cfg, res)


def check_binding(model, cfg, res):
    """Each row's cpu is where SPEC section 3 binds it: worker i on
    worker_cpu(bind_cpu_count, i).  A coroutine's row names the CPU of the
    OS worker it ended on, any of the first `workers`."""
    bind = cfg.bind_cpu_count
    # The set "i-th" counts in, as the result says (binaries: the CPUs
    # they may run on; the module: the online ones); older binaries bound
    # within the online CPUs and did not say.
    cpus = (res.get("bind_set") or {}).get("cpus") or None
    if model == "coro":
        allowed = {worker_cpu(bind, j, cpus)
                   for j in range(cfg.workers or 1)}
    for i, row in enumerate(res.get("threads") or []):
        want = allowed if model == "coro" else {worker_cpu(bind, i, cpus)}
        if row.get("cpu") not in want:
            raise RunError("%s: thread %d reports cpu %s, bound to %s" % (
                model, i, row.get("cpu"),
                " or ".join(str(c) for c in sorted(want))))


def run(model, cfg, timeout=600.0, progress=None):
    """Run cfg on model; return the checked result object."""
    if model == "klt":
        res = klt.run(cfg, timeout=timeout, progress=progress)
    else:
        res = run_binary(model, cfg, timeout)
    check(model, cfg, res)
    res.setdefault("model", model)
    return res
