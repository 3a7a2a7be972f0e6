// SPDX-License-Identifier: GPL-2.0
/*
 * kthread_perf: how a user-space binary fails.  Bad usage is one line
 * naming the option and exit status 2; a runtime failure is one line and
 * exit status 1; sanitizer builds stop at their first report.  Everything
 * else in the common library reports through here, so this file depends
 * on nothing of it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_bench_common.h"

static const char *prog_name = "kp";

void kp_set_prog(const char *name)
{
	prog_name = name;
}

const char *kp_prog(void)
{
	return prog_name;
}

/*
 * "prog: [option: ]message[tail]" on stderr, then exit with status.  stdout
 * is flushed first so that what a run printed stays before the error.
 */
__attribute__((noreturn, format(printf, 2, 0)))
static void fail(const char *option, const char *fmt, va_list ap,
		 const char *tail, int status)
{
	fflush(stdout);
	fprintf(stderr, "%s: ", prog_name);
	if (option)
		fprintf(stderr, "%s: ", option);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "%s\n", tail);
	exit(status);
}

void kp_usage_error(const char *option, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fail(option, fmt, ap, " (try --help)", 2);
}

void kp_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fail(NULL, fmt, ap, "", 1);
}

void kp_die_errno(int err, const char *fmt, ...)
{
	char tail[256];
	va_list ap;

	snprintf(tail, sizeof(tail), ": %s", strerror(err));
	va_start(ap, fmt);
	fail(NULL, fmt, ap, tail, 1);
}

#if defined(__SANITIZE_THREAD__)
/*
 * Sanitizer builds stop at the first report, so that a test sees a
 * non-zero status instead of a warning scrolled past.  (Defined here
 * because every binary links this object: it reports every failure.)
 */
const char *__tsan_default_options(void);
const char *__tsan_default_options(void)
{
	return "halt_on_error=1:second_deadlock_stack=1";
}
#endif
#if defined(__SANITIZE_ADDRESS__)
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "halt_on_error=1:detect_leaks=1";
}
#endif
