// SPDX-License-Identifier: GPL-2.0
/*
 * The first frame of a new context, in the layout the switch of arch/
 * pops; or, without one, the swapcontext() fallback.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "context.h"
#include "sanitizer.h"

#ifdef CORO_CTX_ASM

__attribute__((visibility("hidden"))) void coro_ctx_start(void);

/*
 * The first frame: bytes below the 16-byte aligned top of [lo, hi),
 * zeroed, on memory the tools see as clean (tool_stack_fresh()).
 */
static uint64_t *first_frame(void *lo, void *hi, size_t bytes)
{
	uintptr_t top = ((uintptr_t)hi & ~(uintptr_t)15) - 16;
	uint64_t *f = (uint64_t *)(top - bytes);

	tool_stack_fresh(lo, hi);
	memset(f, 0, bytes);
	return f;
}

#if defined(__x86_64__)
/*
 * How the switch restores MXCSR and the x87 control word
 * (arch/switch_x86_64.S): 0 loads both every time, as Boost does; 1
 * loads each only when its control bits differ from the running ones.
 * Written once, before main, and only read afterwards.
 */
__attribute__((visibility("hidden"))) unsigned char coro_ctx_fp_compare;

/*
 * Loading is the cheaper choice on AMD (a changed LDMXCSR costs little
 * there), comparing on Intel and the rest (~55 ns a changed LDMXCSR on
 * Xeon).  CORO_FPENV=load|compare overrides, to measure or test either;
 * any other value is said once on stderr and ignored.
 */
__attribute__((constructor)) static void fp_restore_decide(void)
{
	const char *env = getenv("CORO_FPENV");
	unsigned int r[4] = { 0 };
	char vendor[13] = "";

	if (__get_cpuid(0, &r[0], &r[1], &r[3], &r[2])) {
		memcpy(vendor, &r[1], 12);	/* ebx, edx, ecx */
		vendor[12] = '\0';
	}
	coro_ctx_fp_compare = strcmp(vendor, "AuthenticAMD") &&
			      strcmp(vendor, "HygonGenuine");
	if (!env || !*env)
		return;
	if (!strcmp(env, "load"))
		coro_ctx_fp_compare = 0;
	else if (!strcmp(env, "compare"))
		coro_ctx_fp_compare = 1;
	else
		fprintf(stderr, "libcoro: CORO_FPENV=%s: not load or compare, "
			"ignored\n", env);
}

/* x86-64: the creator's MXCSR and x87 control word (rounding, exception
 * masks; as Boost's make_fcontext and libaco), then r15..rbp, then the
 * "return address" coro_ctx_start (arch/switch_x86_64.S). */
void coro_ctx_init(struct coro_ctx *ctx, void *lo, void *hi,
		   coro_ctx_entry_fn entry, void *arg)
{
	uint64_t *f = first_frame(lo, hi, 64);
	uint32_t mxcsr;
	uint16_t fpucw;

	__asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
	__asm__ volatile("fnstcw %0" : "=m"(fpucw));
	mxcsr &= ~0x3fu;	/* not the creator's sticky exception flags */
	memcpy(&f[0], &mxcsr, 4);
	memcpy((char *)&f[0] + 4, &fpucw, 2);
	f[3] = (uint64_t)(uintptr_t)arg;	/* r13 */
	f[4] = (uint64_t)(uintptr_t)entry;	/* r12 */
	f[7] = (uint64_t)(uintptr_t)coro_ctx_start;
	ctx->sp = f;
}
#elif defined(__aarch64__)
/* AArch64: d8-d15 zero, x19 = entry, x20 = arg, x29 = 0, x30 =
 * coro_ctx_start, the creator's FPCR (arch/switch_aarch64.S). */
void coro_ctx_init(struct coro_ctx *ctx, void *lo, void *hi,
		   coro_ctx_entry_fn entry, void *arg)
{
	uint64_t *f = first_frame(lo, hi, 0xb0);
	uint64_t fpcr;

	__asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
	f[20] = fpcr;
	f[8] = (uint64_t)(uintptr_t)entry;	/* x19 */
	f[9] = (uint64_t)(uintptr_t)arg;	/* x20 */
	f[19] = (uint64_t)(uintptr_t)coro_ctx_start;	/* x30 */
	ctx->sp = f;
}
#endif

#else /* swapcontext fallback */

/*
 * val travels through a thread-local: the resumed context reads it on the
 * thread it resumed on.  The accessors are opaque to the optimiser so
 * that it cannot reuse a thread-local address computed before a switch
 * that moved the coroutine to another thread.
 */
static __thread void *switch_val;

__attribute__((noinline, noipa)) static void put_val(void *v)
{
	switch_val = v;
}

__attribute__((noinline, noipa)) static void *get_val(void)
{
	return switch_val;
}

static void uc_start(unsigned int e_lo, unsigned int e_hi,
		     unsigned int a_lo, unsigned int a_hi)
{
	coro_ctx_entry_fn entry = (coro_ctx_entry_fn)(uintptr_t)
		((uint64_t)e_hi << 32 | e_lo);
	void *arg = (void *)(uintptr_t)((uint64_t)a_hi << 32 | a_lo);

	entry(get_val(), arg);
	__builtin_trap();
}

void coro_ctx_init(struct coro_ctx *ctx, void *lo, void *hi,
		   coro_ctx_entry_fn entry, void *arg)
{
	uint64_t e = (uint64_t)(uintptr_t)entry, a = (uint64_t)(uintptr_t)arg;

	tool_stack_fresh(lo, hi);
	getcontext(&ctx->uc);
	ctx->uc.uc_stack.ss_sp = lo;
	ctx->uc.uc_stack.ss_size = (size_t)((char *)hi - (char *)lo) - 64;
	ctx->uc.uc_link = NULL;
	makecontext(&ctx->uc, (void (*)(void))uc_start, 4,
		    (unsigned int)e, (unsigned int)(e >> 32),
		    (unsigned int)a, (unsigned int)(a >> 32));
}

void *coro_ctx_swap(struct coro_ctx *from, struct coro_ctx *to, void *val)
{
	put_val(val);
	swapcontext(&from->uc, &to->uc);
	return get_val();
}
#endif
