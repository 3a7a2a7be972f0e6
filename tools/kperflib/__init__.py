# SPDX-License-Identifier: GPL-2.0
"""kperf: the front door of kthread_perf (SPEC.md section 6).

cli      argument parsing, subcommands, where to run (host or tools/vm)
models   the workload configuration, its ranges, and the three models
klt      the kernel model, driven through sysfs and debugfs
runner   running one configuration on one model, with result checks
env      where the numbers come from: kernel, CPU, bare metal, KVM or TCG
stats    medians, ratios and derived metrics
table    plain-text and Markdown tables
plot     PNG plots through gnuplot
report   the reference report's experiment set
"""
