#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Documentation/ABI/testing/sysfs-kernel-kthread_perf is in the kernel's ABI
# format (Documentation/ABI/README): entries of What: lines, then Date:,
# KernelVersion:, Contact:, Description:, separated by blank lines.  That it
# names exactly the files the module creates is checked in the guest
# (tests/vm/abi.bats).

bats_require_minimum_version 1.5.0

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
load ../lib/abi

setup_file() {
	REPO="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
	export REPO
}

@test "every entry has What, Date, KernelVersion, Contact and Description in that order" {
	# One line per entry: its field names in order, What: once.
	run awk '
		/^$/ { if (e != "") print e; e = ""; last = ""; next }
		/^[A-Za-z]+:/ { f = $1; if (f != last) e = e (e == "" ? "" : " ") f; last = f; next }
		/^\t/ { next }
		{ print "stray line: " $0 }
		END { if (e != "") print e }' "$REPO/$KP_ABI_DOC"
	assert_success
	assert [ "${#lines[@]}" -gt 0 ]
	for line in "${lines[@]}"; do
		assert_equal "$line" "What: Date: KernelVersion: Contact: Description:"
	done
}

@test "every description is indented text and no file is documented twice" {
	run bash -c "grep -A1 '^Description:' '$REPO/$KP_ABI_DOC' | grep -v -e '^Description:' -e '^--\$'"
	assert [ "${#lines[@]}" -gt 0 ]
	for line in "${lines[@]}"; do
		assert_equal "${line:0:1}" $'\t'
	done
	run bash -c "source '$REPO/tests/lib/abi.bash'; kp_abi_documented '$REPO' | sort | uniq -d"
	assert_success
	assert_output ""
	run bash -c "source '$REPO/tests/lib/abi.bash'; kp_abi_documented '$REPO'"
	assert_line thread_count
	assert_line threads/\<i\>/pid
	refute_line --regexp '^/'
}
