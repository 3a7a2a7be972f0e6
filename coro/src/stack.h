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
 * every 4 KiB (48 KiB of 12 ways on the Xeon we measure on), so without
 * it every coroutine's top frames fall into the same few sets, and from
 * about a dozen coroutines on a switch misses L1 (coro/README.md).  16
 * colours a cache line apart: at most 960 bytes of a stack.
 */
#define STACK_COLOURS 16

static inline size_t stack_colour(uint64_t id)
{
	return (size_t)(id % STACK_COLOURS) * CACHELINE;
}

#endif /* CORO_STACK_H */
