// SPDX-License-Identifier: GPL-2.0
/*
 * Per-coroutine signal masks (sigmask.c): the hooks the scheduler calls.
 * A coroutine's mask lives in user space; the handler the library
 * installs routes a signal by the four cases of Solaris' thread library.
 */
#ifndef CORO_SIGMASK_H
#define CORO_SIGMASK_H

#include "internal.h"

#include <signal.h>

/* Signals every runnable coroutine had masked: blocked in the kernel,
 * pending there until a coroutine unmasks one (atomic). */
HIDDEN extern uint64_t sig_nobody;
/* Signals whose sigaction another file of the library installs, and
 * which it passes on with sig_forward() (atomic). */
HIDDEN extern uint64_t sig_reserved;

HIDDEN void sig_forward(int sig, siginfo_t *si, void *uc);

HIDDEN void sig_route(struct lwp *l);
HIDDEN struct lwp *sig_deliver_pending(struct lwp *l, struct coro *c);
HIDDEN void sig_coro_begin(struct coro *c, struct coro *creator);
HIDDEN void sig_coro_ended(struct coro *c);

/*
 * At a scheduling point (not holding a wait queue's lock): route what the
 * handler held, and bring the kernel mask in line with sig_nobody, or
 * give back to the kernel a signal the running coroutine has unmasked.
 */
HIDDEN struct lwp *sig_route_point(struct lwp *l);

/* Returns the lwp it then runs on (a handler run here may switch). */
static inline struct lwp *sig_sched_point(struct lwp *l)
{
	uint64_t nobody = __atomic_load_n(&sig_nobody, __ATOMIC_RELAXED);

	if (__builtin_expect(__atomic_load_n(&l->held_bits, __ATOMIC_RELAXED) ||
			     __atomic_load_n(&l->kblk, __ATOMIC_RELAXED) != nobody ||
			     (l->current && (nobody & ~__atomic_load_n(
				&l->current->sigmask, __ATOMIC_RELAXED))), 0))
		return sig_route_point(l);
	return l;
}

/*
 * In a coroutine just resumed on l: what was routed to it while queued.
 * (Or in l's own context, back from lwp_run(): no coroutine.)
 */
static inline struct lwp *sig_resumed(struct lwp *l)
{
	struct coro *c = l->current;

	if (__builtin_expect(c && __atomic_load_n(&c->sigpend, __ATOMIC_RELAXED) != 0, 0))
		return sig_deliver_pending(l, c);
	return l;
}

/* What the lwp's peers read of the mask of the coroutine it runs. */
static inline void sig_running(struct lwp *l, const struct coro *c)
{
	__atomic_store_n(&l->cur_sigmask,
			 c ? __atomic_load_n(&c->sigmask, __ATOMIC_RELAXED) : ~0ULL,
			 __ATOMIC_RELAXED);
}

#endif /* CORO_SIGMASK_H */
