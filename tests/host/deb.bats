#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# The Debian packages (debian/, issue 23): tools/build-deb builds them with
# dpkg-buildpackage from a clean copy of the tree, which debian/rules clean
# must leave as it was; lintian finds no error or warning; the packages are
# unpacked into a throw-away root (dpkg -x: nothing touches the system's
# dpkg database), where the installed kperf runs and pkg-config coro gives
# flags that build a program against libcoro.so.1.  The version is the
# VERSION file's everywhere.

load ../lib/common

setup_file() {
	export REPO="$KP_REPO"
	OUT="$BATS_FILE_TMPDIR/deb"
	export OUT
	"$REPO/tools/build-deb" --out "$OUT" >"$BATS_FILE_TMPDIR/build-deb.log" 2>&1 ||
		{ cat "$BATS_FILE_TMPDIR/build-deb.log" >&2; return 1; }
	VERSION=$(<"$REPO/VERSION")
	export VERSION
	MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
	export MA
	ROOT="$BATS_FILE_TMPDIR/root"
	export ROOT
	for deb in "$OUT"/*.deb; do
		dpkg -x "$deb" "$ROOT"
	done
}

@test "debian/changelog's version is the VERSION file's" {
	run dpkg-parsechangelog -l "$REPO/debian/changelog" -S Version
	assert_success
	assert_output "$VERSION"
}

@test "the tree's kperf --version and coro.pc carry the VERSION file's version" {
	run "$REPO/tools/kperf" --version
	assert_success
	assert_output --regexp "^kperf $VERSION( \\(.*\\))?$"
	run make -s -C "$REPO/coro" coro.pc
	assert_success
	run grep -x "Version: $VERSION" "$REPO/coro/coro.pc"
	assert_success
}

@test "dpkg-buildpackage makes the four packages (and the debug symbols) at VERSION" {
	for p in kthread-perf_"$VERSION"_amd64 kthread-perf-dkms_"$VERSION"_all \
		libcoro1_"$VERSION"_amd64 libcoro-dev_"$VERSION"_amd64 \
		kthread-perf-dbgsym_"$VERSION"_amd64 libcoro1-dbgsym_"$VERSION"_amd64; do
		assert [ -s "$OUT/$p.deb" ]
	done
	run dpkg-deb -f "$OUT/kthread-perf-dkms_${VERSION}_all.deb" Depends Recommends
	assert_output --regexp "Depends: .*dkms"
	assert_output --partial "Recommends: linux-headers"
	run dpkg-deb -f "$OUT/kthread-perf_${VERSION}_amd64.deb" Depends
	assert_output --partial "python3"
	run dpkg-deb -f "$OUT/libcoro-dev_${VERSION}_amd64.deb" Depends
	assert_output --partial "libcoro1 (= $VERSION)"
	# libcoro links liburing (coro_uring_read()): the runtime library for
	# libcoro1, its headers for libcoro-dev (libcoro.a, coro.pc's
	# Requires.private).
	assert_output --partial "liburing-dev"
	run dpkg-deb -f "$OUT/libcoro1_${VERSION}_amd64.deb" Depends
	assert_output --partial "liburing2"
}

@test "debian/rules clean leaves the copy it built in as it was" {
	# The copy's files are the tree's tracked and untracked ones; after
	# the build (dpkg-buildpackage -b cleans first, not after) and
	# debian/rules clean, none is added, removed or changed.
	run bash -c "cd '$OUT/src' && debian/rules clean"
	assert_success
	run bash -c "cd '$OUT/src' && find . -type f ! -path './.git*' -print0 | sort -z | xargs -0 sha1sum"
	assert_success
	after=$output
	run bash -c "cd '$REPO' && git ls-files -co --exclude-standard -z | xargs -0 -r sh -c 'for f; do [ -f \"\$f\" ] && printf \"./%s\\0\" \"\$f\"; done' sh | grep -zv '^\\./\\.git' | sort -z | xargs -0 sha1sum"
	assert_success
	assert_equal "$after" "$output"
}

@test "lintian reports no error and no warning on the packages" {
	run lintian --fail-on error,warning "$OUT/kthread-perf_${VERSION}_amd64.changes"
	assert_success
	refute_output --regexp '^[EW]: '
}

@test "the packages put each file where Debian expects it" {
	for f in usr/bin/pthread_bench usr/bin/coro_bench \
		usr/lib/kthread-perf/tools/kperf usr/lib/kthread-perf/tools/kperflib/cli.py \
		usr/lib/kthread-perf/workload/kp_defs.h usr/lib/kthread-perf/VERSION \
		usr/share/man/man1/kperf.1.gz usr/share/man/man4/kthread_perf.4.gz \
		usr/share/man/man3/libcoro.3.gz usr/include/coro.h \
		"usr/lib/$MA/libcoro.a" "usr/lib/$MA/pkgconfig/coro.pc" \
		"usr/src/kthread_perf-$VERSION/dkms.conf" \
		"usr/src/kthread_perf-$VERSION/Kbuild" \
		"usr/src/kthread_perf-$VERSION/module/main.c" \
		"usr/src/kthread_perf-$VERSION/module/uapi/kthread_perf_act.h" \
		"usr/src/kthread_perf-$VERSION/workload/kp_loop.h"; do
		assert [ -f "$ROOT/$f" ]
	done
	assert [ -L "$ROOT/usr/bin/kperf" ]
	assert_equal "$(readlink -f "$ROOT/usr/bin/kperf")" "$ROOT/usr/lib/kthread-perf/tools/kperf"
	# The shared library's SONAME is what libcoro1 is named after.
	run readelf -d "$ROOT/usr/lib/$MA/libcoro.so.1"
	assert_output --regexp 'SONAME.*\[libcoro\.so\.1\]'
	assert_equal "$(readlink "$ROOT/usr/lib/$MA/libcoro.so")" libcoro.so.1
	# DKMS reads the version from the packaged dkms.conf: written in.
	run grep -E '^PACKAGE_VERSION=' "$ROOT/usr/src/kthread_perf-$VERSION/dkms.conf"
	assert_output "PACKAGE_VERSION=\"$VERSION\""
	run env PKG_CONFIG_PATH="$ROOT/usr/lib/$MA/pkgconfig" pkg-config --modversion coro
	assert_output "$VERSION"
}

@test "debian/libcoro1.symbols lists exactly what libcoro.so.1 exports" {
	# dpkg-gensymbols fails the build when a listed symbol is gone (an ABI
	# break); this catches one exported without being listed.
	run bash -c "nm -D --defined-only '$ROOT/usr/lib/$MA/libcoro.so.1' | awk '\$2 == \"T\" {print \$3}' | sort"
	assert_success
	exported=$output
	run bash -c "sed -n 's/^ \\([a-z_0-9]*\\)@Base .*/\\1/p' '$REPO/debian/libcoro1.symbols' | sort"
	assert_equal "$output" "$exported"
	assert [ -n "$exported" ]
}

@test "the installed kperf --help and --version work from the throw-away root" {
	cd "$BATS_TEST_TMPDIR"
	run env PATH="$ROOT/usr/bin:/usr/bin:/bin" "$ROOT/usr/bin/kperf" --help
	assert_success
	assert_output --partial "usage: kperf"
	run env PATH="$ROOT/usr/bin:/usr/bin:/bin" "$ROOT/usr/bin/kperf" --version
	assert_success
	assert_output "kperf $VERSION"
	run env PATH="$ROOT/usr/bin:/usr/bin:/bin" "$ROOT/usr/bin/kperf" run pthread \
		--thread-count 2 --work-target 1000 --json
	assert_success
	assert_output --partial '"counter": 2000'
	assert_output --partial "\"version\": \"$VERSION\""
}

@test "pkg-config coro from the throw-away root builds a program that runs on libcoro.so.1" {
	cat >"$BATS_TEST_TMPDIR/hello.c" <<'C'
#include <coro.h>
#include <stdio.h>
static int ran;
static void *body(void *arg) { ran = *(int *)arg; return 0; }
int main(void)
{
	int v = 42;
	coro_sched_t *s = coro_sched_create(0);
	coro_create(s, body, &v, 0);
	coro_sched_run(s);
	coro_sched_destroy(s);
	printf("ran %d\n", ran);
	return ran == 42 ? 0 : 1;
}
C
	export PKG_CONFIG_PATH="$ROOT/usr/lib/$MA/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$ROOT"
	run pkg-config --cflags --libs coro
	assert_success
	assert_output --partial "-I$ROOT/usr/include"
	assert_output --partial "-lcoro"
	# shellcheck disable=SC2046
	run cc -std=gnu11 -Wall -Wextra -Werror -o "$BATS_TEST_TMPDIR/hello" \
		"$BATS_TEST_TMPDIR/hello.c" $(pkg-config --cflags --libs coro)
	assert_success
	run readelf -d "$BATS_TEST_TMPDIR/hello"
	assert_output --regexp 'NEEDED.*\[libcoro\.so\.1\]'
	run env LD_LIBRARY_PATH="$ROOT/usr/lib/$MA" "$BATS_TEST_TMPDIR/hello"
	assert_success
	assert_output "ran 42"
}

@test "DKMS builds the packaged module source for the installed headers' kernel" {
	[ "$(id -u)" -eq 0 ] || skip "dkms add needs root"
	kver=$("$REPO/tools/kernel" --version)
	T="$BATS_TEST_TMPDIR"
	mkdir -p "$T/src" "$T/dkms" "$T/inst"
	trees=(--sourcetree "$T/src" --dkmstree "$T/dkms" --installtree "$T/inst")
	run dkms add "$ROOT/usr/src/kthread_perf-$VERSION" "${trees[@]}"
	assert_success
	run dkms build "kthread_perf/$VERSION" -k "$kver" "${trees[@]}"
	assert_success
	run modinfo -F vermagic "$T/dkms/kthread_perf/$VERSION/$kver/$(uname -m)/module/kthread_perf.ko"
	assert_output --regexp "^$kver "
}
