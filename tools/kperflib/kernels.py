# SPDX-License-Identifier: GPL-2.0
"""kperf --kernel VERSION: the module built for another kernel, and checks.

The tree's module/kthread_perf.ko is built for one kernel (make's KDIR).
A command run in a guest of kernel V needs the module built for V: it is
built from a copy of the module's sources in build/modules/V/ (Kbuild
writes its objects beside the sources, so two kernels need two copies)
against /lib/modules/V/build, and handed to the guest's kperf through
KPERF_MODULE.
"""

import os
import shutil
import subprocess

from .models import RunError, UsageError

# What the module's Kbuild needs: the top-level Kbuild, module/, workload/.
SOURCES = ("Kbuild", "module", "workload")


def check_version(root, version):
    """UsageError unless tools/vm can boot kernel version."""
    if not version or "/" in version or version.startswith("."):
        raise UsageError("--kernel: '%s' is not a kernel version" % version)
    if not os.path.isfile("/boot/vmlinuz-%s" % version):
        have = sorted(f[len("vmlinuz-"):] for f in os.listdir("/boot")
                      if f.startswith("vmlinuz-")) \
            if os.path.isdir("/boot") else []
        raise UsageError("--kernel: no /boot/vmlinuz-%s (installed: %s; "
                         "tools/install-deps --rt installs Debian's "
                         "PREEMPT_RT kernel)" % (version,
                                                 ", ".join(have) or "none"))


def build_dir(root, version):
    return os.path.join(root, "build", "modules", version)


def module_file(root, version):
    return os.path.join(build_dir(root, version), "module",
                        "kthread_perf.ko")


def _sync(src, dst):
    """Copy src's files into dst where they are newer (make stays
    incremental)."""
    if os.path.isdir(src):
        os.makedirs(dst, exist_ok=True)
        for name in os.listdir(src):
            if name.endswith((".o", ".ko", ".mod", ".mod.c", ".cmd")) or \
                    name.startswith("."):
                continue
            _sync(os.path.join(src, name), os.path.join(dst, name))
        return
    if not os.path.exists(dst) or \
            os.path.getmtime(src) > os.path.getmtime(dst):
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(src, dst)


def build(root, version, kdir):
    """Build the module for version against kdir; return the .ko."""
    out = build_dir(root, version)
    for s in SOURCES:
        _sync(os.path.join(root, s), os.path.join(out, s))
    res = subprocess.run(["make", "-s", "-C", kdir, "M=" + out, "modules"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    if res.returncode != 0:
        raise RunError("building the module for %s against %s failed:\n%s"
                       % (version, kdir, res.stdout.strip()))
    return module_file(root, version)


def module_for(root, version, vermagic):
    """The module for kernel version: built now when its headers are
    installed, else one built before (vermagic(ko) == version)."""
    kdir = "/lib/modules/%s/build" % version
    if os.path.isdir(kdir):
        return build(root, version, kdir)
    ko = module_file(root, version)
    if vermagic(ko) == version:
        return ko
    raise RunError("no headers for kernel %s (%s), so no module for it: "
                   "install linux-headers-%s (tools/install-deps --rt for "
                   "Debian's PREEMPT_RT kernel)" % (version, kdir, version))
