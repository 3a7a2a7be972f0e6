#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# tools/vm's choice of accelerator (tools/vm-accel, SPEC section 7): KVM only
# where a probe boot shows that it runs a guest.  A QEMU wrapper on PATH plays
# the machines of interest: one whose KVM aborts at once, one whose KVM
# guest hangs, and one whose KVM works (played by TCG).  A fake /dev/kvm (a
# file that opens read-write) and a private verdict cache make the probe run
# here whatever the real machine has.  That tools/vm works as it is on this
# machine (no overrides, the real QEMU and verdict) is checked by the boot in
# tests/host/vm.bats's setup_file.

load ../lib/common

VM="$KP_REPO/tools/vm"
ACCEL="$KP_REPO/tools/vm-accel"

setup() {
	export TMPDIR="$BATS_TEST_TMPDIR"
	export KPERF_VM_KVM_DEV="$BATS_TEST_TMPDIR/kvm" KPERF_VM_ACCEL_CACHE="$BATS_TEST_TMPDIR/verdict"
	: >"$KPERF_VM_KVM_DEV"
	unset KPERF_VM_ACCEL
	local bin="$BATS_TEST_TMPDIR/bin"
	mkdir -p "$bin"
	real_qemu=$(command -v qemu-system-x86_64)
	# The wrapper logs how it was called; under "-accel kvm" it does what
	# WRAPPER_KVM says; otherwise it is QEMU.
	cat >"$bin/qemu-system-x86_64" <<WRAPPER
#!/bin/bash
case " \$* " in
*" -accel kvm "*) echo kvm >>"$BATS_TEST_TMPDIR/calls" ;;
*" --version "*) exec "$real_qemu" "\$@" ;;
*) echo tcg >>"$BATS_TEST_TMPDIR/calls"
	for a in "\$@"; do case \$a in tcg,*) echo "\$a" >>"$BATS_TEST_TMPDIR/tcg-args" ;; esac; done
	exec "$real_qemu" "\$@" ;;
esac
case \$WRAPPER_KVM in
abort)
	echo "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69" >&2
	kill -ABRT \$\$ ;;
hang) exec -a kperf-fake-kvm-$BATS_TEST_NUMBER sleep 1000 ;;
works)
	args=()
	for a in "\$@"; do
		case \$a in kvm) a=tcg ;; host) a=max ;; esac
		args+=("\$a")
	done
	exec "$real_qemu" "\${args[@]}" ;;
esac
WRAPPER
	chmod +x "$bin/qemu-system-x86_64"
	export PATH="$bin:$PATH"
}

# Run tools/vm reporting the accelerator it told the guest it used.
vm_accel_used() {
	run --separate-stderr "$VM" --cpus 1 --mem 256 --timeout 120 -- \
		sh -c 'echo "$KPERF_VM_ACCEL_USED"'
}

@test "a KVM that aborts at once ends in a TCG run and one line saying so; the verdict is cached" {
	export WRAPPER_KVM=abort
	vm_accel_used
	assert_success
	assert_output tcg
	assert_equal "${#stderr_lines[@]}" 1
	[[ $stderr == "tools/vm: $KPERF_VM_KVM_DEV opens but KVM cannot run a guest here (a probe boot failed: QEMU exited with 134"* ]] ||
		fail "unexpected message: $stderr"
	assert_equal "$(tr '\n' ' ' <"$BATS_TEST_TMPDIR/calls")" "kvm tcg "
	# A second guest neither probes nor repeats the message.
	vm_accel_used
	assert_success
	assert_output tcg
	assert_equal "$stderr" ""
	assert [ -s "$(echo "$KPERF_VM_ACCEL_CACHE"/accel-*)" ]
	assert_equal "$(tr '\n' ' ' <"$BATS_TEST_TMPDIR/calls")" "kvm tcg tcg "
}

@test "a KVM guest that shows no progress is given up after the bound, leaving no process" {
	export WRAPPER_KVM=hang KPERF_VM_PROBE_TIMEOUT=3
	local start=$SECONDS
	vm_accel_used
	assert_success
	assert_output tcg
	assert_equal "$stderr" "tools/vm: $KPERF_VM_KVM_DEV opens but KVM cannot run a guest here (a probe boot showed no progress in 3 s); using TCG"
	assert [ $((SECONDS - start)) -lt 100 ]
	assert_equal "$(pgrep -f "kperf-fake-kvm-$BATS_TEST_NUMBER")" ""
}

@test "a KVM that works is chosen, silently, and the guest is told kvm" {
	export WRAPPER_KVM=works
	vm_accel_used
	assert_success
	assert_output kvm
	assert_equal "$stderr" ""
	assert_equal "$(tr '\n' ' ' <"$BATS_TEST_TMPDIR/calls")" "kvm kvm "
}

@test "KPERF_VM_ACCEL forces the choice without a probe" {
	export WRAPPER_KVM=abort KPERF_VM_ACCEL=tcg
	vm_accel_used
	assert_success
	assert_output tcg
	assert_equal "$stderr" ""
	assert_equal "$(tr '\n' ' ' <"$BATS_TEST_TMPDIR/calls")" "tcg "
	KPERF_VM_ACCEL=kvm run "$ACCEL" /nonexistent /nonexistent
	assert_success
	assert_output kvm
}

@test "a bad KPERF_VM_ACCEL is refused with status 2 and a message" {
	KPERF_VM_ACCEL=xen run --separate-stderr "$VM" -- true
	assert_equal "$status" 2
	assert_equal "$stderr" "tools/vm: KPERF_VM_ACCEL must be kvm or tcg, not 'xen'"
	assert [ ! -e "$BATS_TEST_TMPDIR/calls" ]
}

@test "no KVM device means TCG without a probe or a message" {
	export WRAPPER_KVM=abort KPERF_VM_KVM_DEV="$BATS_TEST_TMPDIR/none"
	run --separate-stderr "$ACCEL" /nonexistent /nonexistent
	assert_success
	assert_output tcg
	assert_equal "$stderr" ""
	assert [ ! -e "$BATS_TEST_TMPDIR/calls" ]
}

@test "a TCG guest's vCPUs share one host thread unless KPERF_VM_TCG_THREAD=multi; the guest is told" {
	# Issue 20: with a thread per vCPU, QEMU 7.2 ran stale code after the
	# guest patched its kernel text, and the guest hung (notes/lockup.md).
	export KPERF_VM_ACCEL=tcg
	local t
	for t in "" multi; do
		rm -f "$BATS_TEST_TMPDIR/tcg-args"
		KPERF_VM_TCG_THREAD=$t run --separate-stderr "$VM" --cpus 2 --mem 256 --timeout 120 -- \
			sh -c 'echo "$KPERF_VM_ACCEL_USED $KPERF_VM_TCG_THREAD_USED"'
		assert_success
		assert_output "tcg ${t:-single}"
		assert_equal "$(cat "$BATS_TEST_TMPDIR/tcg-args")" "tcg,thread=${t:-single}"
	done
}

@test "a bad KPERF_VM_TCG_THREAD is refused with status 2 and a message" {
	KPERF_VM_ACCEL=tcg KPERF_VM_TCG_THREAD=many run --separate-stderr "$VM" -- true
	assert_equal "$status" 2
	assert_equal "$stderr" "tools/vm: KPERF_VM_TCG_THREAD must be single or multi, not 'many' (try --help)"
	assert [ ! -e "$BATS_TEST_TMPDIR/calls" ]
}
