# SPDX-License-Identifier: GPL-2.0
"""The workload configuration shared by every model (SPEC.md sections 2, 3, 5).

One Config describes one run.  Its fields are spelled as the sysfs files and
the JSON "config" object; the command-line flags are the same names with
dashes.  The ranges are not restated here: each binary prints its own
(`--limits`, runner.limits()), and check_config() takes them, so a value
that a model would reject is refused before any run.
"""

import re
from dataclasses import dataclass, asdict, replace
from typing import Optional

MODELS = ("klt", "pthread", "coro")
WORK_MODES = ("normal", "yield", "sleep", "pingpong", "barrier", "spawn",
              "block")
SYNC_MODES = ("atomic", "spinlock", "mutex", "percpu")

# Workload parameters in the order of SPEC.md section 5.
WORKLOAD_PARAMS = ("thread_count", "work_mode", "sync_mode", "work_target",
                   "yield_interval", "sleep_us", "bind_cpu_count")
# Latency timing (SPEC.md sections 2, 3): None leaves each model at its
# default (1: time every wait), and kperf then passes nothing, so that it
# still drives binaries and modules older than the knob.
SAMPLING_PARAMS = ("latency_sample",)
# Parameters only the coroutine model has.
CORO_PARAMS = ("workers", "stack_size")
PARAMS = WORKLOAD_PARAMS + SAMPLING_PARAMS + CORO_PARAMS

# What a parameter measures, for axis labels and table headers.
PARAM_LABELS = {
    "thread_count": "threads (coroutines for coro)",
    "work_mode": "work mode",
    "sync_mode": "sync mode",
    "work_target": "work target (operations per thread)",
    "yield_interval": "yield interval (operations between waits)",
    "sleep_us": "sleep (us; 0 = one tick)",
    "bind_cpu_count": "bound CPUs (0 = unbound)",
    "latency_sample": "latency sample (time every N-th wait, 0 = none)",
    "workers": "coro worker threads",
    "stack_size": "coroutine stack size (bytes)",
}


class UsageError(Exception):
    """Bad usage: kperf prints the message on one line and exits 2."""


class RunError(Exception):
    """A runtime failure: kperf prints the message and exits 1."""


@dataclass(frozen=True)
class Config:
    """One run's configuration; defaults are SPEC.md's."""
    thread_count: int = 4
    work_mode: str = "normal"
    sync_mode: str = "atomic"
    work_target: int = 1000000
    yield_interval: int = 1000
    sleep_us: int = 0
    bind_cpu_count: int = 0
    latency_sample: Optional[int] = None   # None: the model's default, 1
    workers: int = 1
    stack_size: int = 0     # 0: coro_bench's own default
    # How block mode's coroutines read (coro_bench --block-call: read,
    # wrapper, uring) and CORO_ACTIVATIONS for the run (module, monitor,
    # off); None: coro_bench's own choice (blockcalls.py).
    block_call: Optional[str] = None
    activations: Optional[str] = None

    def with_param(self, name, value):
        return replace(self, **{name: value})

    def workload(self):
        """The fields every model shares, as a dict."""
        d = asdict(self)
        return {k: d[k] for k in WORKLOAD_PARAMS}

    def total_ops(self):
        return self.thread_count * self.work_target

    def waits_per_worker(self):
        """Waits one worker does in a full run (kp_waits_per_worker())."""
        if self.work_mode == "normal":
            return 0
        return self.work_target // self.yield_interval

    def describe(self, skip=None):
        """One line naming the configuration (less parameter skip)."""
        s = "%s threads x %s ops, %s, %s" % (
            "N" if skip == "thread_count" else self.thread_count,
            "N" if skip == "work_target" else fmt_count(self.work_target),
            self.work_mode, self.sync_mode)
        if skip == "work_mode":
            s = s.replace(", %s," % self.work_mode, ",")
        if skip == "sync_mode":
            s = s[:-len(", " + self.sync_mode)]
        if self.work_mode != "normal" and skip != "yield_interval":
            s += ", every %s ops" % fmt_count(self.yield_interval)
        if self.work_mode == "sleep" and skip != "sleep_us":
            s += ", sleep %s" % ("1 tick" if self.sleep_us == 0
                                 else "%d us" % self.sleep_us)
        if skip == "bind_cpu_count":
            return s
        s += ", " + ("unbound" if self.bind_cpu_count == 0 else
                     "bound to %d CPU%s" % (self.bind_cpu_count,
                                            "s" if self.bind_cpu_count > 1
                                            else ""))
        if self.block_call:
            s += ", block call %s" % self.block_call
        if self.activations:
            s += ", activations %s" % self.activations
        if skip != "latency_sample" and self.latency_sample not in (None, 1):
            s += ", " + ("waits not timed" if self.latency_sample == 0 else
                         "1 wait in %s timed"
                         % fmt_count(self.latency_sample))
        return s


def binary_model(column):
    """The model whose binary runs a column: coro-mn and the block-call
    columns ("coro/uring", "coro-mn/wrapper", ...) are coro's."""
    m = column.split("/")[0]
    return "coro" if m == "coro-mn" else m


def fmt_count(n):
    """1000000 -> '1e6', 5000000 -> '5e6', 1234 -> '1234'."""
    if n >= 10000:
        m = re.fullmatch(r"([1-9])(0+)", str(n))
        if m:
            return "%se%d" % (m.group(1), len(m.group(2)))
    return str(n)


def parse_int(name, text):
    """An integer option: 1000000, 1e6, 1_000_000, 4k, 1M, 64K for sizes."""
    t = str(text).strip().replace("_", "")
    mult = {"k": 10 ** 3, "m": 10 ** 6, "g": 10 ** 9}
    try:
        if re.fullmatch(r"[0-9]+", t):
            return int(t)
        m = re.fullmatch(r"([0-9]+)[eE]([0-9]+)", t)
        if m:
            return int(m.group(1)) * 10 ** int(m.group(2))
        m = re.fullmatch(r"([0-9]+)([kKmMgG])", t)
        if m:
            base = 1024 if name == "stack_size" else None
            if base:
                return int(m.group(1)) * base ** (" kmg".index(
                    m.group(2).lower()))
            return int(m.group(1)) * mult[m.group(2).lower()]
    except ValueError:
        pass
    raise UsageError("--%s: '%s' is not a non-negative integer"
                     % (flag(name), text))


def flag(name):
    return name.replace("_", "-")


def parse_value(name, text):
    """Parse one value of parameter name (a sweep value or a flag)."""
    if name == "work_mode":
        if text not in WORK_MODES:
            raise UsageError("--work-mode: unknown mode '%s' (one of %s)"
                             % (text, ", ".join(WORK_MODES)))
        return text
    if name == "sync_mode":
        if text not in SYNC_MODES:
            raise UsageError("--sync-mode: unknown mode '%s' (one of %s)"
                             % (text, ", ".join(SYNC_MODES)))
        return text
    return parse_int(name, text)


def check_value(name, value, limits):
    """Raise UsageError when value is outside limits[name] (a model's
    {name: (lo, hi)}); a parameter the model does not have is not checked,
    nor stack_size 0 (the binary's own default)."""
    if value is None or name not in limits or \
            (name == "stack_size" and value == 0):
        return
    lo, hi = limits[name]
    if not lo <= value <= hi:
        extra = ""
        if name == "bind_cpu_count":
            # klt: the online CPUs; a binary: those it may run on.
            extra = " (%d CPU%s to bind within)" % (hi, "" if hi == 1
                                                     else "s")
        raise UsageError("--%s: %d is outside %d..%d%s"
                         % (flag(name), value, lo, hi, extra))


def check_config(cfg, limits):
    """Raise UsageError for a configuration the model of limits rejects."""
    for name in PARAMS:
        check_value(name, getattr(cfg, name), limits)
    if cfg.work_mode in ("pingpong", "block") and cfg.thread_count % 2:
        raise UsageError("--thread-count: %s pairs the threads, so it "
                         "needs an even count (got %d)"
                         % (cfg.work_mode, cfg.thread_count))
