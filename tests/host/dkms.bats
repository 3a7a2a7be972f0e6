#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# DKMS (SPEC.md section 10): the top-level dkms.conf adds, builds and
# installs kthread_perf.ko against the installed headers.  Every tree DKMS
# writes (--sourcetree, --dkmstree, --installtree) is a temporary directory,
# so the system's DKMS state is left as found.

load ../lib/common

setup_file() {
	export REPO="$KP_REPO"
	KVER=$("$REPO/tools/kernel" --version)
	export KVER
	# The name and version dkms.conf declares (DKMS sources it with bash;
	# the version is the VERSION file beside it): the tests ask DKMS for
	# those.
	PACKAGE_NAME=$(cd "$REPO" && bash -c '. ./dkms.conf && echo "$PACKAGE_NAME"')
	PACKAGE_VERSION=$(cd "$REPO" && bash -c '. ./dkms.conf && echo "$PACKAGE_VERSION"')
	export PACKAGE_NAME PACKAGE_VERSION
	export PKG="$PACKAGE_NAME/$PACKAGE_VERSION"
	export PKG_DIR="$PACKAGE_NAME-$PACKAGE_VERSION"
}

setup() {
	[ "$(id -u)" -eq 0 ] || skip "dkms add needs root"
	T="$BATS_TEST_TMPDIR"
	mkdir -p "$T/src" "$T/dkms" "$T/inst"
	TREES=(--sourcetree "$T/src" --dkmstree "$T/dkms" --installtree "$T/inst")
}

@test "dkms.conf names the module kthread_perf and the path the top-level Kbuild builds it at" {
	run grep -E '^BUILT_MODULE_NAME\[0\]="kthread_perf"$' "$REPO/dkms.conf"
	assert_success
	run grep -E '^BUILT_MODULE_LOCATION\[0\]="module/"$' "$REPO/dkms.conf"
	assert_success
	run grep -E '^obj-m \+?= module/$' "$REPO/Kbuild"
	assert_success
}

@test "dkms.conf's version is the VERSION file's" {
	assert_equal "$PACKAGE_VERSION" "$(cat "$REPO/VERSION")"
	assert [ -n "$PACKAGE_VERSION" ]
}

@test "dkms add . and dkms build make kthread_perf.ko for the installed headers' kernel" {
	cd "$REPO"
	run dkms add . "${TREES[@]}"
	assert_success
	assert [ -f "$T/src/$PKG_DIR/dkms.conf" ]
	run dkms build "$PKG" -k "$KVER" "${TREES[@]}"
	assert_success
	ko="$T/dkms/$PKG/$KVER/$(uname -m)/module/kthread_perf.ko"
	assert [ -f "$ko" ]
	run modinfo -F vermagic "$ko"
	assert_output --regexp "^$KVER "
	run modinfo -F name "$ko"
	assert_output kthread_perf
	run dkms status "$PKG" -k "$KVER" "${TREES[@]}"
	assert_output --partial "built"
}

@test "dkms install puts the built module under the kernel's updates/dkms" {
	# DKMS installs only into a kernel tree that exists; a minimal one.
	# --no-depmod: depmod would rewrite the system's /lib/modules/KVER.
	mkdir -p "$T/inst/$KVER"
	cp "/lib/modules/$KVER"/modules.{order,builtin,builtin.modinfo} "$T/inst/$KVER/"
	cd "$REPO"
	dkms add . "${TREES[@]}" >/dev/null
	dkms build "$PKG" -k "$KVER" "${TREES[@]}" >/dev/null
	run dkms install "$PKG" -k "$KVER" --no-depmod "${TREES[@]}"
	assert_success
	run modinfo -F vermagic "$T/inst/$KVER/updates/dkms/kthread_perf.ko"
	assert_output --regexp "^$KVER "
	run dkms status "$PKG" -k "$KVER" "${TREES[@]}"
	assert_output --partial "installed"
}
