#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# The ABI document names exactly the files kthread_perf.ko creates under
# /sys/kernel/kthread_perf/ (SPEC.md sections 3 and 10), per-thread files
# included (they exist once a run has started).

load ../lib/common
load ../lib/abi

setup_file() { kp_setup_file; }
teardown_file() { kp_teardown_file; }
setup() { kp_load; }
teardown() { kp_unload; }

# kp_sysfs_files DIR PREFIX: every regular file under DIR, relative to the
# module's directory, with threads/N/ written threads/<i>/.
kp_sysfs_files() {
	local f rel
	for f in "$1"/*; do
		rel=${f#"$KP_SYS"/}
		if [ -d "$f" ]; then
			kp_sysfs_files "$f"
		elif [[ $rel =~ ^threads/[0-9]+/(.*)$ ]]; then
			printf 'threads/<i>/%s\n' "${BASH_REMATCH[1]}"
		else
			printf '%s\n' "$rel"
		fi
	done
}

@test "the ABI document names exactly the files the module creates" {
	kp_run 2 normal atomic 1000 100
	declare -A doc=() have=()
	while read -r name; do doc[$name]=1; done < <(kp_abi_documented "$KP_REPO")
	while read -r name; do have[$name]=1; done < <(kp_sysfs_files "$KP_SYS")
	assert [ "${#have[@]}" -gt 0 ]
	for name in "${!have[@]}"; do
		assert_equal "undocumented: $name ${doc[$name]:-0}" "undocumented: $name 1"
	done
	for name in "${!doc[@]}"; do
		assert_equal "documented, not created: $name ${have[$name]:-0}" \
			"documented, not created: $name 1"
	done
}
