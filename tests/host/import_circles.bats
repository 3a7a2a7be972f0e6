#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# No circle of files that depend on each other (issue 10) among module/,
# userspace/common/, workload/, coro/src/ (#include, and calls between .c
# files) and tools/kperflib/ (imports, the lazy ones inside functions too),
# checked by tests/lib/import_circles.py; and that the checker finds a
# circle it is shown.

load ../lib/common

CHECK="$KP_REPO/tests/lib/import_circles.py"

@test "no circle of imports among module/, userspace/common/, workload/, coro/src/ and tools/kperflib/" {
	cd "$KP_REPO"
	run --separate-stderr python3 "$CHECK" module userspace/common workload \
		coro/src tools/kperflib
	assert_output ""
	assert_success
}

@test "the checker finds circles of includes, of calls and of lazy imports" {
	local d="$BATS_TEST_TMPDIR"
	mkdir -p "$d/c" "$d/pkg"
	# a.c calls b(), b.c calls a() through a shared header: a circle.
	printf '#include "ab.h"\nint a(void)\n{\n\treturn b();\n}\n' >"$d/c/a.c"
	printf '#include "ab.h"\nint b(void)\n{\n\treturn 0;\n}\nint c(void)\n{\n\treturn a();\n}\n' >"$d/c/b.c"
	printf 'int a(void);\nint b(void);\n' >"$d/c/ab.h"
	# x.h and y.h include each other.
	printf '#include "y.h"\n' >"$d/c/x.h"
	printf '#include "x.h"\n' >"$d/c/y.h"
	# p imports q at the top, q imports p inside a function.
	printf 'from . import q\n' >"$d/pkg/p.py"
	printf 'def f():\n    from .p import g\n    return g\n' >"$d/pkg/q.py"
	printf 'import os\n' >"$d/pkg/r.py"
	run --separate-stderr python3 "$CHECK" "$d/c" "$d/pkg"
	assert_equal "$status" 1
	assert_equal "${#lines[@]}" 3
	assert_line "$d/c/a.c $d/c/b.c: $d/c/a.c -> $d/c/b.c -> $d/c/a.c"
	assert_line "$d/c/x.h $d/c/y.h: $d/c/x.h -> $d/c/y.h -> $d/c/x.h"
	assert_line "$d/pkg/p.py $d/pkg/q.py: $d/pkg/p.py -> $d/pkg/q.py -> $d/pkg/p.py"
	# Without b.c's call of a(), and without the includes, no circle.
	printf '#include "ab.h"\nint b(void)\n{\n\treturn 0;\n}\n' >"$d/c/b.c"
	rm "$d/c/x.h" "$d/c/y.h" "$d/pkg/q.py"
	run --separate-stderr python3 "$CHECK" "$d/c" "$d/pkg"
	assert_success
	assert_output ""
}

@test "the checker's bad usage exits 2" {
	run --separate-stderr python3 "$CHECK" /nonexistent
	assert_equal "$status" 2
	[[ $stderr == *"/nonexistent: not a directory"* ]]
	run --separate-stderr python3 "$CHECK"
	assert_equal "$status" 2
}
