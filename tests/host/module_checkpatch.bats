#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# The module and the workload headers it compiles pass the kernel's own
# checks: scripts/checkpatch.pl --strict and sparse (tools/checkpatch).

load ../lib/common

@test "module/ and workload/kp_{defs,loop}.h are checkpatch --strict clean" {
	run "$KP_REPO/tools/checkpatch" --checkpatch-only
	assert_success
	assert_output --partial "files clean"
}

@test "the module builds sparse-clean with make C=2" {
	kdir="$("$KP_REPO/tools/kernel" --build-dir 2>/dev/null)" ||
		skip "no kernel headers installed"
	run "$KP_REPO/tools/checkpatch" --sparse-only "KDIR=$kdir"
	assert_success
	assert_output --partial "sparse: clean"
}
