// SPDX-License-Identifier: GPL-2.0
/* Stack overflow, reported with the coroutine's id and entry (overflow.c). */
#ifndef CORO_OVERFLOW_H
#define CORO_OVERFLOW_H

#include "internal.h"
#include "stack.h"

HIDDEN void overflow_init(void);
HIDDEN int overflow_altstack_on(struct lwp *l);
HIDDEN void overflow_altstack_off(struct lwp *l);
HIDDEN __attribute__((noreturn)) void overflow_canary_report(struct coro *c);
HIDDEN const char *overflow_entry_name(void *(*fn)(void *));

/* Stacks without a guard: the whole canary gap, at every switch out. */
static inline void canary_check(struct coro *c)
{
	if (__builtin_expect(c->canary != NULL, 0) && !stack_canary_intact(c))
		overflow_canary_report(c);
}

#endif /* CORO_OVERFLOW_H */
