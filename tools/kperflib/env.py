# SPDX-License-Identifier: GPL-2.0
"""Where the numbers come from: kernel, CPU, and bare metal, KVM or TCG.

tools/vm passes KPERF_* variables into the guest; kperf sets KPERF_ACCEL
(tcg or kvm) and KPERF_HOST_CPU before it boots one, so the guest knows how
it is run.  Without them kperf looks for itself: the cpuinfo "hypervisor"
flag, the DMI vendor, and the kvm-clock clock source (present under KVM,
absent under TCG).
"""

import os
import platform


def _read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""


def cpuinfo():
    """(model name, flags) of the first CPU in /proc/cpuinfo."""
    model, flags = "unknown CPU", set()
    for line in _read("/proc/cpuinfo").splitlines():
        key, _, val = line.partition(":")
        key = key.strip()
        if key == "model name" and model == "unknown CPU":
            model = val.strip()
        elif key == "flags" and not flags:
            flags = set(val.split())
    return model, flags


def kvm_usable():
    """What tools/vm checks: /dev/kvm opens read-write."""
    try:
        fd = os.open("/dev/kvm", os.O_RDWR)
    except OSError:
        return False
    os.close(fd)
    return True


def vm_environment():
    """Variables to hand to the guest through tools/vm."""
    return {"KPERF_ACCEL": "kvm" if kvm_usable() else "tcg",
            "KPERF_HOST_CPU": cpuinfo()[0]}


def in_vm():
    return os.environ.get("KPERF_IN_VM") == "1"


def accel():
    """'bare metal', 'KVM', 'TCG' or 'a virtual machine', and how we know."""
    model, flags = cpuinfo()
    given = os.environ.get("KPERF_ACCEL", "").lower()
    if in_vm() and given in ("tcg", "kvm"):
        return given.upper(), "tools/vm (KPERF_ACCEL)"
    vendor = _read("/sys/devices/virtual/dmi/id/sys_vendor")
    clocks = _read("/sys/devices/system/clocksource/clocksource0/"
                   "available_clocksource").split()
    if "hypervisor" not in flags:
        return "bare metal", "no hypervisor flag in /proc/cpuinfo"
    if vendor == "QEMU" and "kvm-clock" not in clocks:
        return "TCG", "QEMU DMI vendor, no kvm-clock"
    if "kvm-clock" in clocks:
        return "KVM", "kvm-clock clock source%s" % (
            ", DMI vendor " + vendor if vendor else "")
    return "a virtual machine", "hypervisor flag%s" % (
        ", DMI vendor " + vendor if vendor else "")


def describe():
    """A dict naming kernel, CPU and machine, for reports and tables."""
    model, _ = cpuinfo()
    where, how = accel()
    d = {"kernel": platform.release(), "cpu": model,
         "cpus": os.cpu_count() or 1, "accel": where, "detected_by": how,
         "guest": in_vm()}
    host_cpu = os.environ.get("KPERF_HOST_CPU")
    if in_vm() and host_cpu:
        d["host_cpu"] = host_cpu
    return d


def sentence(d):
    """One line: where the numbers came from."""
    if d["guest"]:
        s = "a QEMU guest under %s (tools/vm), kernel %s, %d vCPU%s (%s)" % (
            d["accel"], d["kernel"], d["cpus"], "s" if d["cpus"] > 1 else "",
            d["cpu"])
        if d.get("host_cpu"):
            s += ", host CPU %s" % d["host_cpu"]
        if d["accel"] == "TCG":
            s += "; TCG emulates every instruction, so absolute numbers " \
                 "are far below bare metal and only the ratios carry over"
        return s
    what = {"bare metal": "bare metal", "KVM": "this host, a KVM guest",
            "TCG": "this host, a TCG guest"}.get(d["accel"], "this host, "
                                                 "a virtual machine")
    return "%s, kernel %s, %d CPU%s (%s; %s)" % (
        what, d["kernel"], d["cpus"], "s" if d["cpus"] > 1 else "",
        d["cpu"], d["detected_by"])
