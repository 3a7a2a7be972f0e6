# SPDX-License-Identifier: GPL-2.0
#
# The names documented in Documentation/ABI/testing/sysfs-kernel-kthread_perf
# (its What: lines), relative to /sys/kernel/kthread_perf/, with the
# per-thread directory written threads/<i>/.  Bash builtins only: the VM
# suite calls this under TCG, where every exec costs most of a second.

KP_ABI_DOC=Documentation/ABI/testing/sysfs-kernel-kthread_perf

# kp_abi_documented REPO: print the documented names, one a line.
kp_abi_documented() {
	local key value
	while read -r key value; do
		[ "$key" = "What:" ] || continue
		printf '%s\n' "${value#/sys/kernel/kthread_perf/}"
	done <"$1/$KP_ABI_DOC"
}
