// SPDX-License-Identifier: GPL-2.0
/*
 * A new coroutine starts with its creator's floating-point control state
 * (rounding mode; MXCSR and the x87 control word on x86-64, FPCR on
 * AArch64), as Boost's make_fcontext and libaco do, and keeps its own
 * afterwards.  Usage: t_fpstate [WORKERS]
 */
#include <fenv.h>

#include "coro.h"
#include "check.h"

static int seen[3];

/* fegetround() reads the x87 control word; MXCSR must agree with it. */
static void check_sse_agrees(void)
{
#if defined(__x86_64__)
	unsigned int mxcsr, x87;
	unsigned short cw;

	__asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
	__asm__ volatile("fnstcw %0" : "=m"(cw));
	x87 = (cw >> 10) & 3;
	CHECK_EQ((mxcsr >> 13) & 3, x87);
#endif
}

static void *report_mode(void *arg)
{
	int *slot = arg;

	*slot = fegetround();
	check_sse_agrees();
	coro_yield();
	/* Still its own after others ran with another mode. */
	CHECK_EQ(fegetround(), *slot);
	return NULL;
}

/* Creates two children under two rounding modes, then restores its own. */
static void *creator(void *arg)
{
	coro_t *up, *zero;

	(void)arg;
	CHECK(fesetround(FE_UPWARD) == 0);
	CHECK(up = coro_create(NULL, report_mode, &seen[0], 0));
	CHECK(fesetround(FE_TOWARDZERO) == 0);
	CHECK(zero = coro_create(NULL, report_mode, &seen[1], 0));
	CHECK(fesetround(FE_TONEAREST) == 0);
	CHECK(coro_join(up, NULL) == 0);
	CHECK(coro_join(zero, NULL) == 0);
	CHECK_EQ(fegetround(), FE_TONEAREST);
	return NULL;
}

int main(int argc, char **argv)
{
	struct coro_sched_attr attr = { .workers = arg_workers(argc, argv, 1) };
	coro_sched_t *s = coro_sched_create(&attr);
	coro_t *a, *b;

	CHECK(s);
	CHECK(a = coro_create(s, creator, NULL, 0));
	CHECK(b = coro_create(s, report_mode, &seen[2], 0));
	CHECK(coro_sched_run(s) == 0);
	CHECK(coro_join(a, NULL) == 0);
	CHECK(coro_join(b, NULL) == 0);
	CHECK_EQ(seen[0], FE_UPWARD);
	CHECK_EQ(seen[1], FE_TOWARDZERO);
	CHECK_EQ(seen[2], FE_TONEAREST);
	printf("ok new coroutines start in their creator's rounding mode "
	       "(%u workers)\n", attr.workers);
	coro_sched_destroy(s);
	return 0;
}
