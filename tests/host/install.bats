#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Installing (SPEC.md section 10): make install into a DESTDIR, the files it
# puts there, the installed kperf run from outside the source tree, and the
# man pages.  make modules_install into an INSTALL_MOD_PATH.

load ../lib/common

setup_file() {
	export REPO="$KP_REPO"
	DEST="$BATS_FILE_TMPDIR/dest"
	export DEST
	make -C "$REPO" install DESTDIR="$DEST" PREFIX=/usr >"$BATS_FILE_TMPDIR/make.log" 2>&1 ||
		{ cat "$BATS_FILE_TMPDIR/make.log" >&2; return 1; }
}

# Run the installed kperf from an empty directory with only the installed
# bin directory and the system's on PATH, so nothing of the tree is found.
installed_kperf() {
	cd "$BATS_TEST_TMPDIR" &&
		PATH="$DEST/usr/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
			"$DEST/usr/bin/kperf" "$@"
}

@test "make install DESTDIR= puts the binaries, kperf, libcoro and the man pages under PREFIX" {
	run bash -c "cd '$DEST' && find . \\( -type f -o -type l \\) | sort"
	assert_success
	for f in usr/bin/pthread_bench usr/bin/coro_bench usr/bin/kperf \
		usr/lib/kthread_perf/tools/kperf \
		usr/lib/kthread_perf/tools/kperflib/cli.py \
		usr/lib/kthread_perf/workload/kp_defs.h \
		usr/include/coro.h usr/lib/libcoro.a usr/lib/libcoro.so \
		usr/lib/libcoro.so.1 usr/lib/pkgconfig/coro.pc \
		usr/share/man/man1/kperf.1 usr/share/man/man1/pthread_bench.1 \
		usr/share/man/man1/coro_bench.1 usr/share/man/man3/libcoro.3 \
		usr/share/man/man4/kthread_perf.4; do
		assert_line "./$f"
	done
	# Every Python file of kperf's library is installed, and nothing
	# outside PREFIX.
	for py in "$REPO"/tools/kperflib/*.py; do
		assert_line "./usr/lib/kthread_perf/tools/kperflib/${py##*/}"
	done
	refute_line --regexp '^\./[^u]'
	refute_line --partial __pycache__
}

@test "the installed binaries run and coro.pc names the installed prefix" {
	run "$DEST/usr/bin/pthread_bench" --thread-count 2 --work-target 1000 --json
	assert_success
	assert_output --partial '"counter": 2000'
	run "$DEST/usr/bin/coro_bench" --thread-count 2 --work-target 1000 --json
	assert_success
	assert_output --partial '"counter": 2000'
	run env PKG_CONFIG_PATH="$DEST/usr/lib/pkgconfig" pkg-config --variable=includedir coro
	assert_success
	assert_output /usr/include
	run env PKG_CONFIG_PATH="$DEST/usr/lib/pkgconfig" pkg-config --libs coro
	assert_success
	assert_output --partial "-lcoro"
}

@test "a program builds against the installed coro.h and libcoro" {
	cat >"$BATS_TEST_TMPDIR/hello.c" <<'C'
#include <coro.h>
static int ran;
static void *body(void *arg) { (void)arg; ran = 1; return 0; }
int main(void)
{
	coro_sched_t *s = coro_sched_create(0);
	coro_t *c = coro_create(s, body, 0, 0);
	coro_sched_run(s);
	(void)c;
	coro_sched_destroy(s);
	return ran ? 0 : 1;
}
C
	run cc -std=c11 -Wall -Wextra -Werror -I"$DEST/usr/include" \
		-o "$BATS_TEST_TMPDIR/hello" "$BATS_TEST_TMPDIR/hello.c" \
		"$DEST/usr/lib/libcoro.a" -pthread -ldl -luring
	assert_success
	run "$BATS_TEST_TMPDIR/hello"
	assert_success
}

@test "the installed kperf --help works outside the source tree" {
	run installed_kperf --help
	assert_success
	assert_output --partial "usage: kperf"
	run installed_kperf compare --help
	assert_success
	assert_output --partial "--thread-count"
}

@test "the installed kperf runs pthread and coro from PATH" {
	run installed_kperf run pthread --thread-count 2 --work-target 1000 --json
	assert_success
	assert_output --partial '"model": "pthread"'
	assert_output --partial '"counter": 2000'
	run installed_kperf run coro --thread-count 2 --work-target 1000 --json
	assert_success
	assert_output --partial '"model": "coro"'
	# Without the installed bin directory on PATH there is no binary to run.
	cd "$BATS_TEST_TMPDIR"
	run env PATH=/usr/bin:/bin "$DEST/usr/bin/kperf" run pthread --work-target 1000
	assert_failure 1
	assert_output --partial "pthread_bench is not built"
}

@test "the installed kperf says what klt needs when this kernel cannot load the module" {
	run installed_kperf run klt --work-target 1000 --vm
	assert_failure 1
	assert_output --partial "tools/vm is missing"
	assert_output --partial "modules_install or DKMS"
}

@test "every man page formats without warnings and names itself" {
	for page in "$DEST"/usr/share/man/man*/*; do
		name=${page##*/}
		run bash -c "LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l '$page' 2>&1 >/dev/null"
		assert_success
		assert_output ""
		run bash -c "LC_ALL=C.UTF-8 MANWIDTH=80 man -l '$page' 2>/dev/null | head -1"
		name=${name%.*}
		assert_output --regexp "^${name^^}\\(${page##*.}\\)"
	done
}

@test "make modules_install puts kthread_perf.ko under INSTALL_MOD_PATH" {
	kver=$("$REPO/tools/kernel" --version)
	run make -C "$REPO" modules_install INSTALL_MOD_PATH="$BATS_TEST_TMPDIR/mod" DEPMOD=true
	assert_success
	run find "$BATS_TEST_TMPDIR/mod/lib/modules/$kver" -name 'kthread_perf.ko*'
	assert_success
	assert_output --regexp "/lib/modules/$kver/.*/kthread_perf\.ko"
}
