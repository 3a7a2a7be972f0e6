// SPDX-License-Identifier: GPL-2.0
/*
 * What AddressSanitizer, ThreadSanitizer and Valgrind need to be told
 * about stacks the program switches between by itself.  Each hook is
 * empty unless the tool is in use.
 */
#ifndef CORO_SANITIZER_H
#define CORO_SANITIZER_H

#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__)
#define CORO_ASAN 1
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

#if defined(__SANITIZE_THREAD__)
#define CORO_TSAN 1
/* The fiber API of libtsan (not in GCC 12's tsan_interface.h). */
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned int flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned int flags);
#endif

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>) && __has_include(<valgrind/memcheck.h>)
#define CORO_VALGRIND 1
#include <valgrind/valgrind.h>
#include <valgrind/memcheck.h>
#endif
#endif

/* What the tools know about one context (a coroutine or an OS thread). */
struct tool_ctx {
	const void *stack_lo;	/* its stack, for ASan */
	size_t stack_size;
	void *asan_fake;	/* ASan's fake stack while switched out */
	void *tsan_fiber;
};

/* A context on the stack [lo, lo + size) and the TSan fiber it runs as. */
static inline void tool_ctx_set(struct tool_ctx *t, const void *lo,
				size_t size, void *tsan_fiber)
{
	t->stack_lo = lo;
	t->stack_size = size;
	t->asan_fake = NULL;
	t->tsan_fiber = tsan_fiber;
}

/* A new coroutine's context on [lo, lo + size). */
static inline void tool_ctx_create(struct tool_ctx *t, const void *lo,
				   size_t size)
{
#ifdef CORO_TSAN
	tool_ctx_set(t, lo, size, __tsan_create_fiber(0));
#else
	tool_ctx_set(t, lo, size, NULL);
#endif
}

static inline void tool_ctx_destroy(struct tool_ctx *t)
{
#ifdef CORO_TSAN
	if (t->tsan_fiber)
		__tsan_destroy_fiber(t->tsan_fiber);
#endif
	t->tsan_fiber = NULL;
}

/* The context of the calling OS thread on its own stack. */
static inline void tool_ctx_thread(struct tool_ctx *t, const void *lo,
				   size_t size)
{
#ifdef CORO_TSAN
	tool_ctx_set(t, lo, size, __tsan_get_current_fiber());
#else
	tool_ctx_set(t, lo, size, NULL);
#endif
}

/* Just before switching from one context to another; from_ends when the
 * context left will never run again. */
static inline void tool_start_switch(struct tool_ctx *from,
				     const struct tool_ctx *to, int from_ends)
{
#ifdef CORO_ASAN
	__sanitizer_start_switch_fiber(from_ends ? NULL : &from->asan_fake,
				       to->stack_lo, to->stack_size);
#else
	(void)from;
	(void)from_ends;
#endif
#ifdef CORO_TSAN
	__tsan_switch_to_fiber(to->tsan_fiber, 0);
#else
	(void)to;
#endif
}

/* First thing in a context that was just switched to. */
static inline void tool_finish_switch(struct tool_ctx *self)
{
#ifdef CORO_ASAN
	__sanitizer_finish_switch_fiber(self->asan_fake, NULL, NULL);
#else
	(void)self;
#endif
}

/* Tell Valgrind about a stack it would otherwise take for heap. */
static inline unsigned int tool_stack_register(void *lo, void *hi)
{
#ifdef CORO_VALGRIND
	return VALGRIND_STACK_REGISTER(lo, hi);
#else
	(void)lo;
	(void)hi;
	return 0;
#endif
}

/*
 * A context starts on [lo, hi), which may be a pooled stack used before:
 * to every tool it is clean memory.  ASan may still hold poisoned
 * redzones of frames that never returned.  Memcheck marks what a stack
 * pointer moves up past as unaddressable; with another colour
 * (stack_colour()) the new first frame can lie where the last coroutine
 * only ever popped, and its writes were reported as invalid (t_basic
 * under Valgrind: 4 runs of 4 on one worker, 2 of 16 on two).
 */
static inline void tool_stack_fresh(void *lo, void *hi)
{
#ifdef CORO_ASAN
	__asan_unpoison_memory_region(lo, (size_t)((char *)hi - (char *)lo));
#endif
#ifdef CORO_VALGRIND
	VALGRIND_MAKE_MEM_UNDEFINED(lo, (char *)hi - (char *)lo);
#endif
	(void)lo;
	(void)hi;
}

/* Forget a stack that is about to be unmapped (its registration's id). */
static inline void tool_stack_deregister(unsigned int id)
{
#ifdef CORO_VALGRIND
	VALGRIND_STACK_DEREGISTER(id);
#else
	(void)id;
#endif
}

#endif /* CORO_SANITIZER_H */
