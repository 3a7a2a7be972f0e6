#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# tools/debug-kernel and make check-debug, cheaply: the help, bad usage, the
# config fragment asks for every check, make check-debug is wired to it, and
# tools/vm's --kernel-image refuses an image that lacks a built-in driver.
# The kernel build itself (most of an hour) is not part of make check.

load ../lib/common

DK="$KP_REPO/tools/debug-kernel"
VM="$KP_REPO/tools/vm"

@test "tools/debug-kernel --help says what it builds, where, and what check does" {
	run "$DK" --help
	assert_success
	assert_line --partial "Usage: tools/debug-kernel"
	assert_output --partial "linux-source-6.1"
	assert_output --partial "kthread_perf/debug-kernel/KEY/"
	assert_output --partial "--kernel-image"
	assert_output --partial "make check-debug"
	assert_output --partial "KPERF_MODULE"
}

@test "tools/debug-kernel refuses bad usage with status 2" {
	run "$DK" --no-such-option
	assert_failure 2
	assert_output --partial "unknown option '--no-such-option'"
	run "$DK" --jobs 0
	assert_failure 2
	run "$DK" stray-argument
	assert_failure 2
	run "$DK" check --timeout soon
	assert_failure 2
}

@test "tools/debug-kernel --image in an empty cache says the kernel is not built" {
	[ -r /usr/src/linux-source-6.1.tar.xz ] || skip "linux-source-6.1 is not installed"
	XDG_CACHE_HOME="$BATS_TEST_TMPDIR/cache" run "$DK" --image
	assert_failure 1
	assert_output --regexp "the debug kernel [0-9a-f]{12} is not built"
}

@test "the config fragment asks for every check and every driver tools/vm needs" {
	local frag="$KP_REPO/tools/debug-kernel.config" o
	for o in PROVE_LOCKING PROVE_RCU DEBUG_ATOMIC_SLEEP KASAN KASAN_GENERIC \
		DEBUG_OBJECTS DEBUG_OBJECTS_WORK DEBUG_LIST SOFTLOCKUP_DETECTOR \
		DETECT_HUNG_TASK SMP PVH SERIAL_8250_CONSOLE VIRTIO_PCI \
		VIRTIO_CONSOLE NET_9P_VIRTIO 9P_FS OVERLAY_FS TMPFS DEVTMPFS \
		DEBUG_FS FTRACE MODULES MODULE_UNLOAD KALLSYMS IO_URING MEMCG \
		CGROUPS PREEMPT; do
		grep -qx "CONFIG_$o=y" "$frag" || fail "CONFIG_$o=y is not in $frag"
	done
}

# recipe TARGET: the Makefile's recipe lines of TARGET (make -n would run
# the recursive makes of check).
recipe() {
	awk -v t="$1:" '$1 == t { on = 1; next } on && /^\t/ { print; next } { on = 0 }' \
		"$KP_REPO/Makefile"
}

@test "make check-debug runs tools/debug-kernel check, and make check does not" {
	run recipe check-debug
	assert_line --partial "tools/debug-kernel check"
	run recipe check
	assert_output --partial "tests/run"
	refute_output --partial "debug-kernel"
	run make -C "$KP_REPO" -n -W tools/debug-kernel check-debug MAKE=:
	assert_success
	assert_line "tools/debug-kernel check"
}

@test "tools/vm --help documents --kernel-image; a missing image is bad usage" {
	run "$VM" --help
	assert_success
	assert_output --partial "--kernel-image PATH"
	run "$VM" --kernel-image "$BATS_TEST_TMPDIR/no-such-vmlinux" -- true
	assert_failure 2
	assert_output --partial "no such readable file"
}

@test "tools/vm --kernel-image refuses an image whose modules.builtin lacks a driver" {
	command -v qemu-system-x86_64 >/dev/null || skip "no QEMU"
	local d="$BATS_TEST_TMPDIR/kernel"
	mkdir -p "$d"
	# Not a kernel that boots: tools/vm must stop before QEMU starts.
	printf 'junk\0Linux version 6.1.0-fake-test (nobody@nowhere) #1\0' >"$d/vmlinux"
	printf '%s\n' kernel/drivers/virtio/virtio_pci.ko kernel/net/9p/9pnet_virtio.ko \
		kernel/fs/9p/9p.ko >"$d/modules.builtin"
	XDG_CACHE_HOME="$BATS_TEST_TMPDIR/cache" KPERF_VM_ACCEL=tcg \
		run "$VM" --kernel-image "$d/vmlinux" -- true
	assert_failure 125
	assert_output --partial "kernel 6.1.0-fake-test lacks modules: overlay"
}
