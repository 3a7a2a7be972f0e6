// SPDX-License-Identifier: GPL-2.0
/* Pooled, guarded stacks with their control blocks (stack.c). */
#ifndef CORO_STACK_H
#define CORO_STACK_H

#include "internal.h"

HIDDEN struct coro *stack_get(size_t stack_size, bool *reused);
HIDDEN void stack_put(struct coro *c);
HIDDEN bool stack_canary_intact(const struct coro *c);

#endif /* CORO_STACK_H */
