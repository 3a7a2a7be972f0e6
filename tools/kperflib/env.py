# SPDX-License-Identifier: GPL-2.0
"""Where the numbers come from: the SPEC section 5 `system` block.

accel is how the kernel that runs the work is run: "kvm" or "tcg" in a
tools/vm guest, which tools/vm tells the guest in KPERF_VM_ACCEL_USED (what
it actually used, after its probe), and otherwise the machine's own view:
the kvm-clock clock source means a KVM guest, a QEMU machine without it a
TCG guest, anything else "none" (bare metal or another hypervisor).  It is
never guessed from the host's /dev/kvm.  The C binaries read the same thing
from the hypervisor's CPUID signature (userspace/common/kp_system.c).

tcg_thread, in a tools/vm TCG guest only, is how QEMU ran its vCPUs:
"single" (all on one host thread, tools/vm's default) or "multi" (one
each), from KPERF_VM_TCG_THREAD_USED; the guest cannot see it itself.
"""

import datetime
import os
import platform
import socket
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def _read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""


def cpu_model():
    """The first "model name" of /proc/cpuinfo."""
    for line in _read("/proc/cpuinfo").splitlines():
        key, _, val = line.partition(":")
        if key.strip() == "model name":
            return val.strip()
    return "unknown"


def in_vm():
    return os.environ.get("KPERF_IN_VM") == "1"


def accel():
    """(accel, how we know): accel is "kvm", "tcg" or "none"."""
    used = os.environ.get("KPERF_VM_ACCEL_USED", "")
    if in_vm() and used in ("kvm", "tcg"):
        return used, "tools/vm ran this guest under %s" % used.upper()
    clocks = _read("/sys/devices/system/clocksource/clocksource0/"
                   "available_clocksource").split()
    if "kvm-clock" in clocks:
        return "kvm", "kvm-clock clock source"
    if (_read("/sys/devices/virtual/dmi/id/sys_vendor") == "QEMU"
            or cpu_model().startswith("QEMU TCG")):
        return "tcg", "a QEMU machine without kvm-clock"
    return "none", "no KVM or QEMU signs"


def preempt():
    """The preemption model as uname -v names it."""
    version = platform.version()
    for name in ("PREEMPT_RT", "PREEMPT_DYNAMIC", "PREEMPT"):
        if name in version:
            return name
    return "none"


def tcg_thread():
    """"single" or "multi" in a tools/vm TCG guest, else None."""
    used = os.environ.get("KPERF_VM_TCG_THREAD_USED", "")
    return used if used in ("single", "multi") else None


def system():
    """The `system` object of SPEC section 5, for this machine (with
    tcg_thread only where tools/vm said how it ran a TCG guest, as
    kp_system.c prints it)."""
    d = {"kernel": platform.release(), "machine": platform.machine(),
         "cpu_model": cpu_model(), "online_cpus": online_cpus(),
         "accel": accel()[0], "hostname": socket.gethostname(),
         "preempt": preempt()}
    if tcg_thread():
        d["tcg_thread"] = tcg_thread()
    return d


def online_cpu_list():
    """The online CPUs, ascending, from /sys/devices/system/cpu/online
    ("0-1,4" is [0, 1, 4])."""
    cpus = []
    for part in _read("/sys/devices/system/cpu/online").split(","):
        lo, _, hi = part.partition("-")
        if lo.isdigit() and (hi or lo).isdigit():
            cpus.extend(range(int(lo), int(hi or lo) + 1))
    return cpus or list(range(os.cpu_count() or 1))


def online_cpus():
    """How many CPUs are online (the upper bound of bind_cpu_count)."""
    return len(online_cpu_list())


def allowed_cpu_list():
    """The online CPUs this process may run on (its affinity mask: a
    cpuset, taskset), ascending: the set pthread_bench and coro_bench,
    which inherit kperf's mask, bind within (their "bind_set")."""
    try:
        mask = os.sched_getaffinity(0)
    except (AttributeError, OSError):
        return online_cpu_list()
    return [c for c in online_cpu_list() if c in mask] or online_cpu_list()


def worker_cpu(bind_cpu_count, i, cpus=None):
    """The CPU worker i is bound to (SPEC section 3): the (i mod
    bind_cpu_count)-th CPU of cpus (a result's bind_set; default the
    online CPUs, the module's set), or -1 when unbound.  module/run.c and
    userspace/common's kp_worker_cpu() compute the same."""
    if not bind_cpu_count:
        return -1
    return (cpus or online_cpu_list())[i % bind_cpu_count]


_version = None


def release_version():
    """The project's version, from the VERSION file at the top of the tree
    (installed beside kperflib): the one source debian/changelog,
    dkms.conf, coro.pc and the binaries read.  kperf --version prints it,
    with git describe after it when kperf runs from a git tree."""
    try:
        with open(os.path.join(ROOT, "VERSION")) as f:
            release = f.read().strip()
    except OSError:
        release = "unknown"
    described = git_describe()
    return "%s (%s)" % (release, described) if described else release


def git_describe():
    """git describe of the tree kperf runs from, or "" outside git."""
    if not os.path.exists(os.path.join(ROOT, ".git")):
        return ""
    try:
        return subprocess.run(
            ["git", "-C", ROOT, "describe", "--always", "--dirty"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            universal_newlines=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def version():
    """The "version" of a result: git describe of the tree kperf runs from,
    else (an installed kperf) the VERSION file's, else "unknown"."""
    global _version
    if _version is None:
        _version = git_describe()
        if not _version:
            try:
                with open(os.path.join(ROOT, "VERSION")) as f:
                    _version = f.read().strip()
            except OSError:
                _version = ""
        _version = _version or "unknown"
    return _version


def provenance(start_time=None):
    """The members every result carries: system, cmdline, start_time,
    version (SPEC section 5)."""
    start = start_time or datetime.datetime.utcnow()
    return {"system": system(), "cmdline": list(sys.argv),
            "start_time": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "version": version()}


def vm_environment():
    """Variables to hand to the guest through tools/vm."""
    return {"KPERF_HOST_CPU": cpu_model()}


def describe():
    """A dict naming kernel, CPU and machine, for reports and tables."""
    d = system()
    d["detected_by"] = accel()[1]
    d["guest"] = in_vm()
    host_cpu = os.environ.get("KPERF_HOST_CPU")
    if in_vm() and host_cpu:
        d["host_cpu"] = host_cpu
    return d


MACHINE = {"tcg": "QEMU guest, TCG (instruction emulation, no KVM)",
           "kvm": "KVM guest",
           "none": "bare metal or a guest of another hypervisor"}


def machine(d):
    """How the kernel was run, in words, from accel."""
    if d["guest"] and d["accel"] != "none":
        return "QEMU guest of tools/vm, %s" % d["accel"].upper()
    return MACHINE[d["accel"]]


def sentence(d):
    """One line: where the numbers came from."""
    cpus = d["online_cpus"]
    s = "%s [accel %s], kernel %s, %d %sCPU%s (%s)" % (
        machine(d), d["accel"], d["kernel"], cpus,
        "v" if d["accel"] != "none" else "", "s" if cpus > 1 else "",
        d["cpu_model"])
    if d.get("host_cpu"):
        s += ", host CPU %s" % d["host_cpu"]
    if d.get("tcg_thread") == "single":
        s += ", all vCPUs on one host thread"
    elif d.get("tcg_thread") == "multi":
        s += ", one host thread per vCPU"
    if d["accel"] == "tcg":
        s += "; TCG emulates every instruction, so absolute numbers " \
             "are far below bare metal and only the ratios carry over"
    return s
