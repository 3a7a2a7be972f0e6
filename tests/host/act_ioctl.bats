#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# The ioctls of /dev/kthread_perf (module/uapi/kthread_perf_act.h) use a
# type and numbers that no entry of the kernel's ioctl registry,
# Documentation/userspace-api/ioctl/ioctl-number.rst in Debian's
# linux-source, claims.

bats_require_minimum_version 1.5.0

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

setup_file() {
	REPO="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
	export REPO
	local tarball top
	tarball=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -n1)
	[ -n "$tarball" ] || return 0
	top=$(basename "$tarball" .tar.xz)
	tar -xJf "$tarball" -C "$BATS_FILE_TMPDIR" \
		"$top/Documentation/userspace-api/ioctl/ioctl-number.rst"
	export RST="$BATS_FILE_TMPDIR/$top/Documentation/userspace-api/ioctl/ioctl-number.rst"
}

setup() {
	[ -n "${RST:-}" ] || skip "no /usr/src/linux-source-*.tar.xz (tools/install-deps)"
}

# claims TYPE NR: the registry's lines whose type is TYPE (a number) and
# whose range of numbers (00-1F, 05, all) holds NR.
claims() {
	awk -v type="$1" -v nr="$2" '
		function hex(s,   v, i) {
			v = 0
			for (i = 1; i <= length(s); i++)
				v = v * 16 + index("0123456789abcdef", tolower(substr(s, i, 1))) - 1
			return v
		}
		function num(s) { return s ~ /^0x/ ? hex(substr(s, 3)) : s ~ /^\x27.\x27$/ ? ord[substr(s, 2, 1)] : -1 }
		BEGIN { for (i = 32; i < 127; i++) ord[sprintf("%c", i)] = i }
		num($1) == type {
			if ($2 == "all") { print; next }
			n = split($2, r, "-"); lo = hex(r[1]); hi = n > 1 ? hex(r[2]) : lo
			if (nr >= lo && nr <= hi) print
		}' "$RST"
}

@test "the registry check finds the collisions of the first ABI ('k' 1 and 2: spidev, kyro)" {
	run claims $((0x6b)) 1
	assert_success
	assert_output --partial spidev
	assert_output --partial kyro
}

@test "KP_ACT_REGISTER and KP_ACT_UNREGISTER use a type and numbers nobody else claims" {
	local type nrs
	type=$(sed -n 's/^#define KP_ACT_IOC_MAGIC[[:space:]]*\(0x[0-9A-Fa-f]*\).*/\1/p' \
		"$REPO/module/uapi/kthread_perf_act.h")
	assert [ -n "$type" ]
	nrs=$(sed -n 's/^#define KP_ACT_[A-Z]*[[:space:]]*_IO[RW]*(KP_ACT_IOC_MAGIC, \(0x[0-9A-Fa-f]*\).*/\1/p' \
		"$REPO/module/uapi/kthread_perf_act.h")
	assert_equal "$(wc -l <<<"$nrs")" 2
	for nr in $nrs; do
		run claims $((type)) $((nr))
		assert_success
		assert_output ""
	done
}
