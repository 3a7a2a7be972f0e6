// SPDX-License-Identifier: GPL-2.0
/*
 * The bare context switch (src/context.h), below the scheduler: values
 * pass both ways, floating-point state that the ABI says survives a call
 * survives a switch, new stacks are aligned for the ABI, and on x86-64
 * each context keeps its own MXCSR and x87 control word.
 */
#include <fenv.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "check.h"

static struct coro_ctx main_ctx, co_ctx;
static long rounds;

/* Floating-point work whose live values sit in callee-saved registers
 * (d8-d15 on AArch64) across each switch. */
static void co_entry(void *val, void *arg)
{
	double a = 1.0, b = 0.5, c = 0.25, d = 0.125;
	long i = (long)(intptr_t)val;
	char buf[64];

	CHECK(arg == &co_ctx);
	CHECK_EQ(i, 1);
	/* printf of a double needs a 16-byte aligned stack on x86-64. */
	snprintf(buf, sizeof(buf), "%.3f", 1.5);
	CHECK(!strcmp(buf, "1.500"));
	for (;;) {
		a = a * 1.0000001 + b;
		b = b * 0.9999999 + c;
		c = c + d * 0.5;
		d = d * 1.0000003;
		i = (long)(intptr_t)coro_ctx_swap(&co_ctx, &main_ctx,
						  (void *)(intptr_t)(i * 2));
		if (i < 0)
			break;
	}
	snprintf(buf, sizeof(buf), "%.6e %.6e %.6e %.6e", a, b, c, d);
	coro_ctx_swap(&co_ctx, &main_ctx, strdup(buf));
	abort();
}

static void reference(char *out, size_t n, long steps)
{
	volatile double a = 1.0, b = 0.5, c = 0.25, d = 0.125;
	long k;

	for (k = 0; k < steps; k++) {
		a = a * 1.0000001 + b;
		b = b * 0.9999999 + c;
		c = c + d * 0.5;
		d = d * 1.0000003;
	}
	snprintf(out, n, "%.6e %.6e %.6e %.6e", a, b, c, d);
}

#if defined(__x86_64__)
static void *fp_entry_ret;

/* A context with its own rounding mode. */
static void fp_entry(void *val, void *arg)
{
	(void)val;
	(void)arg;
	CHECK(fegetround() == FE_TONEAREST);
	fesetround(FE_UPWARD);
	coro_ctx_swap(&co_ctx, &main_ctx, NULL);
	CHECK(fegetround() == FE_UPWARD);
	coro_ctx_swap(&co_ctx, &main_ctx, fp_entry_ret);
	abort();
}
#endif

int main(void)
{
	static char stack[256 * 1024] __attribute__((aligned(16)));
	double x = 3.0, y = 7.0;
	char want[64], *got;
	long i, v;

	coro_ctx_init(&co_ctx, stack, stack + sizeof(stack), co_entry, &co_ctx);
	for (i = 1, rounds = 0; rounds < 100000; rounds++) {
		v = (long)(intptr_t)coro_ctx_swap(&main_ctx, &co_ctx,
						  (void *)(intptr_t)i);
		CHECK_EQ(v, 2 * i);
		x = x * 1.5 - y;	/* live across the switch here too */
		y = y + 1.0;
		i++;
	}
	got = coro_ctx_swap(&main_ctx, &co_ctx, (void *)(intptr_t)-1);
	reference(want, sizeof(want), rounds);
	CHECK(!strcmp(got, want));
	CHECK(isfinite(x) || isinf(x));
	free(got);
	printf("ok 100000 switches pass values and keep callee-saved FP state\n");

#if defined(__x86_64__)
	coro_ctx_init(&co_ctx, stack, stack + sizeof(stack), fp_entry, NULL);
	fp_entry_ret = &rounds;
	coro_ctx_swap(&main_ctx, &co_ctx, NULL);
	CHECK(fegetround() == FE_TONEAREST);
	fesetround(FE_DOWNWARD);
	CHECK(coro_ctx_swap(&main_ctx, &co_ctx, NULL) == &rounds);
	CHECK(fegetround() == FE_DOWNWARD);
	fesetround(FE_TONEAREST);
	printf("ok each context keeps its own MXCSR and x87 control word\n");
#endif
	return 0;
}
