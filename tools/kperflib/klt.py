# SPDX-License-Identifier: GPL-2.0
"""The klt model: kthread_perf.ko driven through sysfs and debugfs.

A run writes the configuration files, writes 1 to start, waits for `state`
to leave `running` with poll() (sysfs_notify wakes POLLPRI|POLLERR), and
assembles the same JSON object the user-space binaries print (SPEC.md
section 5) from the result files, threads/<i>/ and debugfs latency_hist.
"""

import datetime
import errno
import os
import platform
import select
import subprocess
import time

from . import env
from .models import RunError, UsageError, SAMPLING_PARAMS, WORKLOAD_PARAMS

SYSFS = "/sys/kernel/kthread_perf"
DEBUGFS = "/sys/kernel/debug"
HIST = DEBUGFS + "/kthread_perf/latency_hist"
MODULE_NAME = "kthread_perf"

TERMINAL_STATES = ("done", "stopped", "failed")
RESULT_FILES = ("total_ops", "counter", "elapsed_ns", "throughput", "nvcsw",
                "nivcsw", "cputime_ns", "waits")
THREAD_FILES = ("pid", "cpu", "last_cpu", "ops", "nvcsw", "nivcsw",
                "cputime_ns", "runtime_ns", "waits")


def read(name, base=SYSFS):
    with open(os.path.join(base, name)) as f:
        return f.read().strip()


def read_int(name, base=SYSFS):
    return int(read(name, base))


def read_choice(name):
    """The bracketed choice of a file like `[normal] yield sleep pingpong`."""
    text = read(name)
    for word in text.split():
        if word.startswith("[") and word.endswith("]"):
            return word[1:-1]
    return text


def write(name, value):
    """Write one sysfs file; EINVAL is bad usage, anything else a failure."""
    path = os.path.join(SYSFS, name)
    try:
        fd = os.open(path, os.O_WRONLY)
        try:
            os.write(fd, ("%s\n" % value).encode())
        finally:
            os.close(fd)
    except OSError as e:
        if e.errno == errno.EINVAL:
            raise UsageError("klt: the module rejects %s = %s (EINVAL)"
                             % (name, value))
        if e.errno == errno.EBUSY:
            raise RunError("klt: the module is busy with another run "
                           "(%s: EBUSY); write 1 to %s/stop to end it"
                           % (name, SYSFS))
        raise RunError("klt: writing %s to %s: %s"
                       % (value, path, e.strerror))


def loaded():
    return os.path.isdir(SYSFS)


def max_threads():
    try:
        return read_int("max_threads")
    except (OSError, ValueError):
        return None


def module_path(root):
    """The tree's module; an installed kperf uses the installed one.
    KPERF_MODULE names another (kperf --kernel: the module built for the
    guest's kernel)."""
    if os.environ.get("KPERF_MODULE"):
        return os.environ["KPERF_MODULE"]
    ko = os.path.join(root, "module", MODULE_NAME + ".ko")
    if os.path.exists(ko):
        return ko
    return installed_module() or ko


def installed_module():
    """kthread_perf.ko installed for the running kernel (make
    modules_install, DKMS), or None."""
    try:
        res = subprocess.run(["modinfo", "-n", MODULE_NAME],
                             stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
    except OSError:
        return None
    path = res.stdout.strip()
    return path if res.returncode == 0 and os.path.exists(path) else None


def module_vermagic(ko):
    """The kernel release a .ko was built for, from its .modinfo strings."""
    try:
        with open(ko, "rb") as f:
            data = f.read()
    except OSError:
        return None
    i = data.find(b"vermagic=")
    if i < 0:
        return None
    end = data.find(b"\0", i)
    return data[i + len(b"vermagic="):end].decode(errors="replace").split()[0]


def host_can_load(root):
    """(True, why) when this kernel can run the klt model, else (False, why).

    Already loaded counts; otherwise it takes root, module support
    (/proc/modules), and a module built for this kernel (or the running
    kernel's headers, so that make can build one).
    """
    if loaded():
        return True, "kthread_perf is loaded"
    release = platform.release()
    if os.geteuid() != 0:
        return False, "not root"
    if not os.path.exists("/proc/modules"):
        return False, "kernel %s has no module support" % release
    ko = module_path(root)
    magic = module_vermagic(ko)
    # A module built for this kernel (here, for kperf --kernel, or
    # installed) needs no headers; building one does.
    if magic != release and \
            not os.path.isdir("/lib/modules/%s/build" % release):
        return False, "no headers for the running kernel %s" % release
    if magic is None:
        return False, "%s is not built (run make, or install the module " \
            "with make modules_install or DKMS)" % ko
    if magic != release:
        return False, "%s is built for %s, not the running %s" % (
            ko, magic, release)
    return True, "the host kernel %s can load the module" % release


class Module:
    """Context manager: make sure the module is loaded; unload what we load."""

    def __init__(self, root):
        self.root = root
        self.inserted = False

    def __enter__(self):
        mount_debugfs()
        if loaded():
            return self
        ko = module_path(self.root)
        if not os.path.exists(ko):
            raise RunError("klt: %s is not built (run make)" % ko)
        res = subprocess.run(["insmod", ko], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        if res.returncode != 0 or not loaded():
            raise RunError("klt: insmod %s failed: %s"
                           % (ko, res.stdout.strip() or "no sysfs directory"))
        self.inserted = True
        return self

    def __exit__(self, *exc):
        if self.inserted:
            subprocess.run(["rmmod", MODULE_NAME], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        return False


def mount_debugfs():
    """latency_hist lives in debugfs; mount it if nobody has."""
    if os.path.isdir(DEBUGFS) and not os.listdir(DEBUGFS):
        subprocess.run(["mount", "-t", "debugfs", "debugfs", DEBUGFS],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def parse_hist(text):
    """debugfs latency_hist -> the JSON "latency_hist" object."""
    hist = {"buckets": [], "samples": 0, "min_ns": 0, "max_ns": 0,
            "mean_ns": 0, "p50_ns": 0, "p90_ns": 0, "p99_ns": 0,
            "p999_ns": 0}
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            words = line[1:].split()
            if len(words) == 2 and words[0] in hist:
                hist[words[0]] = int(words[1])
            continue
        lo, hi, count = (int(w) for w in line.split())
        hist["buckets"].append({"lo_ns": lo, "hi_ns": hi, "count": count})
    return hist


def has_file(name):
    return os.path.exists(os.path.join(SYSFS, name))


def configure(cfg):
    for name in WORKLOAD_PARAMS:
        value = getattr(cfg, name)
        current = read_choice(name) if name.endswith("_mode") else read(name)
        if str(current) != str(value):
            write(name, value)
    # Not given: the default, 1, not what an earlier run left in the
    # module.  A module older than the knob can only time every wait.
    for name in SAMPLING_PARAMS:
        value = getattr(cfg, name)
        if not has_file(name):
            if value not in (None, 1):
                raise RunError("klt: this kthread_perf.ko has no %s file "
                               "(built before it existed; run make)"
                               % name)
            continue
        value = 1 if value is None else value
        if read(name) != str(value):
            write(name, value)


def collect(cfg=None, start_time=None):
    """The JSON result object of the last run, from sysfs and debugfs."""
    config = {}
    for name in WORKLOAD_PARAMS:
        config[name] = (read_choice(name) if name.endswith("_mode")
                        else read_int(name))
    for name in SAMPLING_PARAMS:
        if has_file(name):
            config[name] = read_int(name)
    config["workers"] = config["thread_count"]
    res = {"model": "klt", "config": config}
    vals = {name: read_int(name) for name in RESULT_FILES}
    res.update({k: vals[k] for k in ("total_ops", "counter", "elapsed_ns",
                                     "throughput")})
    res["user_ns"] = 0
    res["sys_ns"] = vals["cputime_ns"]
    res.update({k: vals[k] for k in ("nvcsw", "nivcsw", "cputime_ns",
                                     "waits")})
    threads = []
    for i in range(config["thread_count"]):
        base = os.path.join(SYSFS, "threads", str(i))
        t = {"id": i}
        for name in THREAD_FILES:
            t[name] = read_int(name, base)
        threads.append(t)
    res["threads"] = threads
    try:
        with open(HIST) as f:
            res["latency_hist"] = parse_hist(f.read())
    except OSError as e:
        raise RunError("klt: cannot read %s: %s (is debugfs mounted?)"
                       % (HIST, e.strerror))
    # The module binds within the online CPUs, whatever kperf's own mask.
    res["bind_set"] = {"name": "online", "cpus": env.online_cpu_list()}
    res["kernel"] = platform.release()
    res.update(env.provenance(start_time))
    res["state"] = read("state")
    res["run_id"] = read_int("run_id")
    return res


def run(cfg, timeout=600.0, progress=None):
    """Run cfg on the loaded module and return its result object.

    Waits on `state` with poll(); a Ctrl-C (KeyboardInterrupt) or the
    timeout writes 1 to stop before giving up, so no worker outlives kperf.
    progress(done_ops, total_ops) is called about every 5 s of a long run.
    """
    if read("state") == "running":
        raise RunError("klt: another run is in progress (state running); "
                       "write 1 to %s/stop to end it" % SYSFS)
    configure(cfg)
    fd = os.open(os.path.join(SYSFS, "state"), os.O_RDONLY)
    try:
        os.read(fd, 64)
        run_id = read_int("run_id") + 1
        start_time = datetime.datetime.utcnow()
        poller = select.poll()
        poller.register(fd, select.POLLPRI | select.POLLERR)
        t0 = time.monotonic()
        last = t0
        state = "running"
        try:
            # Inside the try: a Ctrl-C from the moment the run exists
            # stops it.
            write("start", 1)
            while True:
                os.lseek(fd, 0, os.SEEK_SET)
                state = os.read(fd, 64).decode().strip()
                if state in TERMINAL_STATES and read_int("run_id") == run_id:
                    break
                now = time.monotonic()
                if now - t0 > timeout:
                    write("stop", 1)
                    raise RunError("klt: the run did not finish within %g s; "
                                   "stopped it (raise --run-timeout)"
                                   % timeout)
                if progress and now - last >= 5:
                    last = now
                    progress(read_int("total_ops"), cfg.total_ops())
                # A bounded wait: sysfs_notify wakes us at once, the
                # timeout only lets Ctrl-C, progress and the limit in.
                poller.poll(1000)
        except KeyboardInterrupt:
            write("stop", 1)
            raise
    finally:
        os.close(fd)
    if state == "failed":
        raise RunError("klt: the run failed (state failed; see dmesg)")
    return collect(cfg, start_time)
