// SPDX-License-Identifier: GPL-2.0
/* Pooled, guarded stacks with their control blocks (stack.c). */
#ifndef CORO_STACK_H
#define CORO_STACK_H

#include "internal.h"

HIDDEN struct coro *stack_get(size_t stack_size, bool *reused);
HIDDEN void stack_put(struct coro *c);
HIDDEN bool stack_canary_intact(const struct coro *c);

/*
 * Stack colouring: how far below stack_hi coroutine id's first frame
 * starts.  Stacks are page aligned and an L1 data cache's sets repeat
 * every 4 KiB (48 KiB of 12 ways on the Xeon, 32 KiB of 8 ways on the
 * AMD EPYC (Zen 4) we measure on), so without it every coroutine's top
 * frames fall into the same few sets, and from about a dozen coroutines
 * on a switch misses L1 (coro/README.md).  32 colours a cache line
 * apart, at most 1984 bytes of a stack: 16 were enough for 12 ways, but
 * with 8, 32 coroutines yielding in turn (coro_bench --thread-count 32
 * --work-mode yield --yield-interval 1) missed L1 1.9 times a yield in
 * cachegrind's model of Zen 4's L1 (--D1=32768,8,64), 0.01 with 32.
 */
#define STACK_COLOURS 32

static inline size_t stack_colour(uint64_t id)
{
	return (size_t)(id % STACK_COLOURS) * CACHELINE;
}

#endif /* CORO_STACK_H */
