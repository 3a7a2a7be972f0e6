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

__attribute__((visibility("hidden")))
void *coro_ctx_switch(void **save_sp, void *to_sp, void *val);

/* Save the current context in from, resume to; returns the val of
 * whoever resumes from later. */
static inline void *coro_ctx_swap(struct coro_ctx *from, struct coro_ctx *to,
				  void *val)
{
	return coro_ctx_switch(&from->sp, to->sp, val);
}
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
