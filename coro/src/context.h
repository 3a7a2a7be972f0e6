// SPDX-License-Identifier: GPL-2.0
/*
 * The machine context of a coroutine and the switch between two.  x86-64
 * and AArch64 use the assembly in arch/; anything else (or
 * -DCORO_USE_UCONTEXT) falls back to swapcontext(), which is correct but
 * makes a sigprocmask system call per switch.
 */
#ifndef CORO_CONTEXT_H
#define CORO_CONTEXT_H

#include <stddef.h>

#if (defined(__x86_64__) || defined(__aarch64__)) && !defined(CORO_USE_UCONTEXT)
#define CORO_CTX_ASM 1

struct coro_ctx {
	void *sp;		/* saved stack pointer (layout in arch/) */
};

#if defined(__x86_64__)
/* 1: the switch loads MXCSR and the x87 control word only when their
 * control bits change; 0: always (src/context.c says which machines). */
extern __attribute__((visibility("hidden"))) unsigned char coro_ctx_fp_compare;

/*
 * Save the current context in from, resume to; returns the val of
 * whoever resumes from later.  x86-64: a jump into the switch with the
 * return address pushed by hand, so that the return-stack buffer stays
 * in step (arch/switch_x86_64.S).  It steps over the red zone first (the
 * compiler may keep data there, not knowing this pushes); everything
 * caller-saved is clobbered, as by a call.
 */
static inline void *coro_ctx_swap(struct coro_ctx *from, struct coro_ctx *to,
				  void *val)
{
	void *rdi = &from->sp, *rsi = to->sp, *rdx = val, *ret;

	__asm__ volatile("leaq\t-128(%%rsp), %%rsp\n\t"
			 "leaq\t1f(%%rip), %%rax\n\t"
			 "pushq\t%%rax\n\t"
			 "jmp\tcoro_ctx_switch\n"
			 "1:\n\t"
			 "leaq\t128(%%rsp), %%rsp"
			 : "=a"(ret), "+D"(rdi), "+S"(rsi), "+d"(rdx)
			 :
			 : "rcx", "r8", "r9", "r10", "r11", "memory", "cc",
			   "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5",
			   "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
			   "xmm12", "xmm13", "xmm14", "xmm15",
			   "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)",
			   "st(6)", "st(7)");
	return ret;
}
#else
__attribute__((visibility("hidden")))
void *coro_ctx_switch(void **save_sp, void *to_sp, void *val);

/* Save the current context in from, resume to; returns the val of
 * whoever resumes from later. */
static inline void *coro_ctx_swap(struct coro_ctx *from, struct coro_ctx *to,
				  void *val)
{
	return coro_ctx_switch(&from->sp, to->sp, val);
}
#endif
#else
#include <ucontext.h>

struct coro_ctx {
	ucontext_t uc;
};

__attribute__((visibility("hidden")))
void *coro_ctx_swap(struct coro_ctx *from, struct coro_ctx *to, void *val);
#endif

/* Called on the new stack with the val of the first switch into it. */
typedef void (*coro_ctx_entry_fn)(void *val, void *arg);

/* Make ctx start entry(val, arg) on the stack [lo, hi). */
__attribute__((visibility("hidden")))
void coro_ctx_init(struct coro_ctx *ctx, void *lo, void *hi,
		   coro_ctx_entry_fn entry, void *arg);

#endif /* CORO_CONTEXT_H */
