#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Inside the tools/vm guest: the system the other VM suites rely on (debugfs,
# /dev/fd, the host's tree read-only under a writable overlay), then the
# first module test: kthread_perf.ko loads, shows its sysfs directory,
# unloads, and the kernel log stays clean.

load ../lib/common

setup_file() {
	MARK="00_boot: begin $$"
	export MARK
	echo "$MARK" >/dev/kmsg
}

# The kernel log since setup_file's mark, without the lines that name the
# running test (tests/lib/common.bash).
dmesg_since_mark() {
	dmesg | awk -v mark="$MARK" \
		'found && !index($0, "kperf-test: ") { print } index($0, mark) { found = 1 }'
}

@test "the suite runs inside the tools/vm guest as root" {
	kp_in_vm || fail "not in a tools/vm guest: $(cat /proc/cmdline)"
	assert_equal "$(id -u)" 0
}

@test "the guest boots the kernel tools/kernel chooses, or the --kernel-image given" {
	assert_equal "$(uname -r)" "$KPERF_VM_KERNEL"
	if [ -z "${KPERF_VM_KERNEL_IMAGE:-}" ]; then
		assert_equal "$(uname -r)" "$("$KP_REPO/tools/kernel" --version)"
	fi
}

@test "each test names itself on the console (tools/vm quotes it when the guest locks up)" {
	run grep -c "kperf-test: 00_boot.bats: $BATS_SUITE_TEST_NUMBER each test names itself on the console (tools/vm quotes it when the guest locks up)$" <<<"$(dmesg)"
	assert_output 1
}

@test "debugfs is mounted at /sys/kernel/debug" {
	run findmnt -n -o FSTYPE /sys/kernel/debug
	assert_output debugfs
}

@test "/dev/fd and process substitution work" {
	assert_equal "$(cat <(echo through-dev-fd))" through-dev-fd
	assert [ -e /dev/stdin ]
}

@test "the root is an overlay: writes land in guest memory" {
	run findmnt -n -o FSTYPE /
	assert_output overlay
	echo scratch >"$KP_REPO/.vm-overlay-test"
	assert_equal "$(cat "$KP_REPO/.vm-overlay-test")" scratch
	rm "$KP_REPO/.vm-overlay-test"
}

@test "the host's tree is visible at the same paths, under the overlay" {
	run findmnt -n -o OPTIONS /
	assert_output --partial lowerdir=
	assert [ -f "$KP_REPO/Makefile" ]
	assert [ -f "/lib/modules/$("$KP_REPO/tools/kernel" --version)/modules.dep" ]
}

@test "kthread_perf.ko loads, shows /sys/kernel/kthread_perf/ and unloads" {
	local ko=$KP_KO
	[ -f "$ko" ] || fail "$ko is missing: run 'make module'"
	if [ -d /sys/module/kthread_perf ]; then
		rmmod kthread_perf
	fi
	insmod "$ko"
	assert [ -d /sys/kernel/kthread_perf ]
	assert [ -f /sys/kernel/kthread_perf/state ]
	rmmod kthread_perf
	assert [ ! -e /sys/kernel/kthread_perf ]
	assert [ ! -e /sys/module/kthread_perf ]
}

@test "the kernel log has no warning, bug, oops, lockup or stall" {
	run grep -E "$KP_KERNEL_TROUBLE" <<<"$(dmesg_since_mark)"
	assert_failure
}
