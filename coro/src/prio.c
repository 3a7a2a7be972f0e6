// SPDX-License-Identifier: GPL-2.0
/*
 * Priorities across workers (issue 22, part 1; Solaris' "Multiple CPUs:
 * Interactive Issues").  Every vproc says what its lwp runs (running:
 * the OS thread's id and the coroutine's priority, or 0 between
 * coroutines).  A coroutine that becomes runnable with a priority above
 * 0 goes to the vproc that runs the lowest priority, if that is below
 * its own: an idle one is woken as usual, a busy one on another OS
 * thread gets a directed signal (preempt.c's handler switches there).
 * Equal priorities are never preempted: nothing runs lower, and the
 * coroutine goes where it would have gone without priorities.
 */
#include "prio.h"

#include <signal.h>
#include <string.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

/* From now on s keeps priorities: no vproc keeps the fast yield. */
void prio_enable(struct coro_sched *s)
{
	unsigned int i;

	if (prio_on(s))
		return;
	for (i = 0; i < s->vp_cap; i++) {
		__atomic_store_n(&s->vps[i].prio_on, true, __ATOMIC_RELAXED);
		__atomic_store_n(&s->vps[i].fast_yield, false, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&s->prio_on, true, __ATOMIC_RELEASE);
}

/*
 * Where c (priority above 0), becoming runnable, should be queued: the
 * active vproc running the lowest priority below c's (the first of
 * them), or NULL when none does.  *tid: the OS thread to preempt, when
 * that vproc runs a coroutine on a thread other than the caller's l.
 */
struct vproc *prio_place(struct lwp *l, struct coro *c, pid_t *tid)
{
	struct coro_sched *s = c->sched;
	unsigned int i, nvp = sched_nvp(s);
	int low = coro_prio(c), p, best = -1;
	uint64_t w, bw = 0;

	*tid = 0;
	for (i = 0; i < nvp; i++) {
		w = __atomic_load_n(&s->vps[i].running, __ATOMIC_RELAXED);
		p = w ? (int)(w & 0xff) - 1 : -1;
		if (p < low) {
			low = p;
			best = (int)i;
			bw = w;
			if (p < 0)
				break;		/* idle: nothing lower */
		}
	}
	if (best < 0)
		return NULL;
	if (bw && !(l && l->tid == (pid_t)(bw >> 8)))
		*tid = (pid_t)(bw >> 8);
	return &s->vps[best];
}

/*
 * l's retry timer, made at its first switch once priorities are on: it
 * sends l's own thread the signal again, SI_TIMER with l as its value.
 */
void prio_lwp_timer(struct lwp *l)
{
	struct sigevent ev;

	l->ptimer_made = true;
	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_THREAD_ID;
	ev._sigev_un._tid = l->tid;
	ev.sigev_signo = CORO_PREEMPT_SIGNAL;
	ev.sigev_value.sival_ptr = l;
	l->ptimer_ok = !timer_create(CLOCK_MONOTONIC, &ev, &l->ptimer);
}

void prio_lwp_timer_delete(struct lwp *l)
{
	if (l->ptimer_ok)
		timer_delete(l->ptimer);
	l->ptimer_ok = l->ptimer_made = false;
}

/* The directed signal (preempt.c's handler is installed by then). */
void prio_preempt(pid_t tid)
{
	syscall(SYS_tgkill, getpid(), tid, CORO_PREEMPT_SIGNAL);
}
