// SPDX-License-Identifier: GPL-2.0
/*
 * The scheduler: run queues, the switch out of a coroutine, work stealing,
 * idling in the kernel, and the OS threads (lwps) that carry the workers
 * (vprocs), including the hand-off of a worker to a spare lwp.
 */
#include "internal.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * The lwp of the calling thread.  Read only through lwp_current(), which
 * the optimiser may not look into: a coroutine can resume on another
 * thread, and a thread-local address computed before a switch would then
 * be stale.  Code that switches uses the lwp the switch returns instead.
 */
static __thread struct lwp *tls_lwp __attribute__((tls_model("initial-exec")));

__attribute__((noinline, noipa)) struct lwp *lwp_current(void)
{
	return tls_lwp;
}

__attribute__((noinline, noipa)) static void lwp_set_current(struct lwp *l)
{
	tls_lwp = l;
}

__attribute__((noinline, noipa)) void lwp_set_errno(int e)
{
	errno = e;
}

/* ---- Run queues ------------------------------------------------------- */

void vp_push(struct vproc *vp, struct coro *c)
{
	coro_set_state(c, CORO_RUNNABLE);
	c->home = vp;
	c->next = NULL;
	spin_lock(&vp->lock);
	if (vp->tail)
		vp->tail->next = c;
	else
		vp->head = c;
	vp->tail = c;
	__atomic_store_n(&vp->nqueued, vp->nqueued + 1, __ATOMIC_RELAXED);
	spin_unlock(&vp->lock);
}

static struct coro *vp_pop(struct vproc *vp)
{
	struct coro *c;

	if (!__atomic_load_n(&vp->nqueued, __ATOMIC_RELAXED))
		return NULL;
	spin_lock(&vp->lock);
	c = vp->head;
	if (c) {
		vp->head = c->next;
		if (!vp->head)
			vp->tail = NULL;
		__atomic_store_n(&vp->nqueued, vp->nqueued - 1,
				 __ATOMIC_RELAXED);
	}
	spin_unlock(&vp->lock);
	return c;
}

/*
 * Take half of the first non-empty queue of another worker: one to run,
 * the rest onto our own queue, after the victim's lock is dropped (two
 * thieves robbing each other must not hold each other's locks).
 */
static struct coro *steal(struct lwp *l)
{
	struct coro_sched *s = l->sched;
	struct vproc *me = l->vp, *v;
	struct coro *first = NULL, *rest = NULL, *c;
	unsigned int i, take;

	for (i = 1; i < s->nvp && !first; i++) {
		v = &s->vps[(me->id + i) % s->nvp];
		if (!__atomic_load_n(&v->nqueued, __ATOMIC_RELAXED))
			continue;
		spin_lock(&v->lock);
		take = (v->nqueued + 1) / 2;
		while (take--) {
			c = v->head;
			if (!c)
				break;
			v->head = c->next;
			if (!v->head)
				v->tail = NULL;
			__atomic_store_n(&v->nqueued, v->nqueued - 1,
					 __ATOMIC_RELAXED);
			if (!first) {
				first = c;
			} else {
				c->next = rest;
				rest = c;
			}
			l->steals++;
		}
		spin_unlock(&v->lock);
	}
	while (rest) {
		c = rest;
		rest = c->next;
		vp_push(me, c);
	}
	if (first) {
		first->next = NULL;
		first->home = me;
	}
	return first;
}

static bool work_visible(struct coro_sched *s, struct lwp *l)
{
	unsigned int i;

	if (__atomic_load_n(&s->next_wake, __ATOMIC_RELAXED) <= clock_now_ns())
		return true;
	if (s->nvp == 1)
		return l->vp && __atomic_load_n(&l->vp->nqueued, __ATOMIC_RELAXED);
	for (i = 0; i < s->nvp; i++)
		if (__atomic_load_n(&s->vps[i].nqueued, __ATOMIC_RELAXED))
			return true;
	return false;
}

/*
 * Wake an idle lwp after making work visible (a queued coroutine, an
 * earlier timer).  Pairs with lwp_idle(): both sides read-modify-write
 * nidle (+0 here, +1 there), so whichever comes second in its order
 * sees what the other published before it: the idler sees the work, or
 * we see the idler.  (An RMW rather than a fence, which TSan cannot model.)
 */
void sched_kick(struct coro_sched *s)
{
	if (__atomic_fetch_add(&s->nidle, 0, __ATOMIC_SEQ_CST) > 0) {
		pthread_mutex_lock(&s->idle_mtx);
		pthread_cond_signal(&s->idle_cond);
		pthread_mutex_unlock(&s->idle_mtx);
	}
}

/* Sleep in the kernel until work is queued or the next timer is due. */
static void lwp_idle(struct lwp *l)
{
	struct coro_sched *s = l->sched;
	uint64_t wake;
	struct timespec ts;

	pthread_mutex_lock(&s->idle_mtx);
	__atomic_add_fetch(&s->nidle, 1, __ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&s->done, __ATOMIC_ACQUIRE) && !work_visible(s, l)) {
		wake = __atomic_load_n(&s->next_wake, __ATOMIC_RELAXED);
		if (wake == UINT64_MAX) {
			pthread_cond_wait(&s->idle_cond, &s->idle_mtx);
		} else {
			ts.tv_sec = (time_t)(wake / 1000000000u);
			ts.tv_nsec = (long)(wake % 1000000000u);
			pthread_cond_timedwait(&s->idle_cond, &s->idle_mtx, &ts);
		}
	}
	__atomic_sub_fetch(&s->nidle, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&s->idle_mtx);
}

/* Make c runnable: on the waker's worker when it has one, else at home. */
void coro_wake(struct lwp *l, struct coro *c)
{
	struct coro_sched *s = c->sched;
	struct vproc *vp = (l && l->vp && l->sched == s) ? l->vp : c->home;

	vp_push(vp, c);
	/* (With activations, l's vproc may be a spare's by now.) */
	if (s->nvp > 1 || !l || l->vp != vp || act_on(s))
		sched_kick(s);
}

/* ---- Switching -------------------------------------------------------- */

/*
 * A yielding coroutine is queued before its switch has saved its context
 * (yield_queued()); whoever is about to resume it waits the few
 * instructions until the lwp it left says the save is done.
 */
static inline void wait_saved(struct coro *c)
{
	unsigned int n = 0;

	while (__atomic_load_n(&c->switching, __ATOMIC_ACQUIRE)) {
		if (++n < 1000)
			cpu_relax();
		else
			sched_yield();
	}
}

/* The end of everything: every lwp leaves its loop. */
static void sched_finish(struct coro_sched *s)
{
	struct lwp *sp;

	__atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
	pthread_mutex_lock(&s->idle_mtx);
	pthread_cond_broadcast(&s->idle_cond);
	pthread_mutex_unlock(&s->idle_mtx);
	pthread_mutex_lock(&s->lwp_mtx);
	for (sp = s->spares; sp; sp = sp->next_spare)
		pthread_cond_signal(&sp->cond);
	pthread_mutex_unlock(&s->lwp_mtx);
}

/* c has ended and is off its stack: tell its joiner, or recycle it. */
static void coro_ended(struct lwp *l, struct coro *c)
{
	struct coro_sched *s = c->sched;
	struct coro *joiner;
	bool detached;

	tool_ctx_destroy(&c->tool);
	spin_lock(&c->lock);
	coro_set_state(c, CORO_EXITED);
	joiner = c->joiner;
	detached = c->detached;
	spin_unlock(&c->lock);
	if (joiner)
		coro_wake(l, joiner);
	if (detached)
		stack_put(c);
	if (__atomic_sub_fetch(&s->live, 1, __ATOMIC_ACQ_REL) == 0)
		sched_finish(s);
}

/*
 * Finish what the context we switched from could not do while still on
 * its stack.  Called first thing after every switch.
 */
HIDDEN void lwp_after_switch(struct lwp *l)
{
	struct coro *from = l->switched_from;

	if (!from)
		return;
	l->switched_from = NULL;
	__atomic_store_n(&from->on_lwp, NULL, __ATOMIC_RELEASE);
	if (l->after == AFTER_NOTHING) {
		/* yield_queued(): from is already in a queue. */
		__atomic_store_n(&from->switching, 0, __ATOMIC_RELEASE);
		return;
	}
	switch (l->after) {
	case AFTER_REQUEUE:
		vp_push(l->requeue_to, from);
		sched_kick(l->sched);
		break;
	case AFTER_PARK:
		spin_unlock(l->park_lock);
		break;
	case AFTER_EXIT:
		coro_ended(l, from);
		break;
	}
	l->after = AFTER_NOTHING;
}

/*
 * Leave coroutine c: straight into the next one of this worker's queue,
 * or back to the lwp's own context when the queue is empty.  after says
 * what to do with c once it is off its stack.  Returns (in c, when it is
 * resumed) the lwp it now runs on.
 */
struct lwp *coro_switch_out(struct lwp *l, struct coro *c, int after,
			    int *park_lock, struct vproc *requeue_to)
{
	struct coro *next = NULL;

	canary_check(c);
	act_sched_enter(l);
	if (l->vp)
		next = vp_pop(l->vp);
	l->after = after;
	l->switched_from = c;
	l->park_lock = park_lock;
	l->requeue_to = requeue_to;
	if (next) {
		wait_saved(next);
		act_coro_enter(l);
		l->current = next;
		coro_set_state(next, CORO_RUNNING);
		__atomic_store_n(&next->on_lwp, l, __ATOMIC_RELAXED);
		l->switches++;
		tool_start_switch(&c->tool, &next->tool, after == AFTER_EXIT);
		l = coro_ctx_swap(&c->ctx, &next->ctx, l);
	} else {
		l->current = NULL;
		tool_start_switch(&c->tool, &l->tool, after == AFTER_EXIT);
		l = coro_ctx_swap(&c->ctx, &l->ctx, l);
	}
	tool_finish_switch(&c->tool);
	lwp_after_switch(l);
	return l;
}

/*
 * Yield with one critical section: pop the next coroutine and queue the
 * caller together.  The caller is then visible to thieves before its
 * context is saved, so it carries switching = 1 until the context it
 * switched to clears it (lwp_after_switch()), and every lwp about to
 * resume a coroutine waits for that (wait_saved()).
 */
static void yield_queued(struct lwp *l, struct coro *c)
{
	struct vproc *vp = l->vp;
	struct coro *next;

	spin_lock(&vp->lock);
	next = vp->head;
	if (!next) {
		spin_unlock(&vp->lock);
		act_coro_enter(l);
		return;
	}
	vp->head = next->next;
	__atomic_store_n(&c->switching, 1, __ATOMIC_RELAXED);
	coro_set_state(c, CORO_RUNNABLE);
	c->home = vp;
	c->next = NULL;
	if (vp->head)
		vp->tail->next = c;
	else
		vp->head = c;
	vp->tail = c;
	spin_unlock(&vp->lock);
	wait_saved(next);
	act_coro_enter(l);
	l->after = AFTER_NOTHING;
	l->switched_from = c;
	l->current = next;
	coro_set_state(next, CORO_RUNNING);
	__atomic_store_n(&next->on_lwp, l, __ATOMIC_RELAXED);
	l->switches++;
	tool_start_switch(&c->tool, &next->tool, 0);
	l = coro_ctx_swap(&c->ctx, &next->ctx, l);
	tool_finish_switch(&c->tool);
	lwp_after_switch(l);
}

void coro_yield(void)
{
	struct lwp *l = lwp_current();

	if (!l || !l->current) {
		sched_yield();
		return;
	}
	if (act_sched_enter(l)) {
		/* Its vproc went to a spare while it was blocked. */
		coro_switch_out(l, l->current, AFTER_REQUEUE, NULL,
				l->current->home);
		return;
	}
	if (!l->vp)
		return;
	canary_check(l->current);	/* even with nothing to switch to */
	if (!(++l->ticks & 63) &&
	    __atomic_load_n(&l->sched->next_wake, __ATOMIC_RELAXED) !=
	    UINT64_MAX)
		timer_poll(l);
	if (__atomic_load_n(&l->vp->nqueued, __ATOMIC_RELAXED))
		yield_queued(l, l->current);
	else
		act_coro_enter(l);
}

int coro_worker_id(void)
{
	struct lwp *l = lwp_current();

	return l && l->vp ? (int)l->vp->id : -1;
}

/* ---- lwps ------------------------------------------------------------- */

static void bind_self(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* A spare: wait until a vproc is handed over or everything has ended. */
static void lwp_spare_wait(struct lwp *l)
{
	struct coro_sched *s = l->sched;

	pthread_mutex_lock(&s->lwp_mtx);
	l->next_spare = s->spares;
	s->spares = l;
	while (!l->vp && !__atomic_load_n(&s->done, __ATOMIC_ACQUIRE))
		pthread_cond_wait(&l->cond, &s->lwp_mtx);
	if (!l->vp) {
		struct lwp **p;

		for (p = &s->spares; *p; p = &(*p)->next_spare) {
			if (*p == l) {
				*p = l->next_spare;
				break;
			}
		}
	}
	pthread_mutex_unlock(&s->lwp_mtx);
	if (l->vp)
		bind_self(l->vp->cpu);
}

/* Run coroutines until the scheduler has none left. */
static void lwp_loop(struct lwp *l)
{
	struct coro_sched *s = l->sched;
	struct coro *c;

	while (!__atomic_load_n(&s->done, __ATOMIC_ACQUIRE)) {
		if (!l->vp) {
			lwp_spare_wait(l);
			continue;
		}
		c = vp_pop(l->vp);
		if (!c && __atomic_load_n(&s->next_wake, __ATOMIC_RELAXED) !=
		    UINT64_MAX) {
			timer_poll(l);
			c = vp_pop(l->vp);
		}
		if (!c && s->nvp > 1)
			c = steal(l);
		if (!c) {
			lwp_idle(l);
			continue;
		}
		wait_saved(c);
		act_coro_enter(l);
		l->current = c;
		coro_set_state(c, CORO_RUNNING);
		__atomic_store_n(&c->on_lwp, l, __ATOMIC_RELAXED);
		l->switches++;
		tool_start_switch(&l->tool, &c->tool, 0);
		coro_ctx_swap(&l->ctx, &c->ctx, l);
		tool_finish_switch(&l->tool);
		lwp_after_switch(l);
	}
}

/* Tell the tools where the calling thread's own stack is. */
static void lwp_tool_init(struct lwp *l)
{
	pthread_attr_t a;
	void *lo = NULL;
	size_t size = 0;

	if (!pthread_getattr_np(pthread_self(), &a)) {
		pthread_attr_getstack(&a, &lo, &size);
		pthread_attr_destroy(&a);
	}
	tool_ctx_thread(&l->tool, lo, size);
}

static struct lwp *lwp_new(struct coro_sched *s)
{
	struct lwp *l;

	if (posix_memalign((void **)&l, CACHELINE, sizeof(*l)))
		return NULL;
	memset(l, 0, sizeof(*l));
	l->sched = s;
	pthread_cond_init(&l->cond, NULL);
	return l;
}

static void *lwp_thread_main(void *arg)
{
	struct lwp *l = arg;

	l->tid = gettid();
	lwp_set_current(l);
	lwp_tool_init(l);
	overflow_altstack_on(l);
	act_lwp_begin(l);
	lwp_loop(l);
	overflow_altstack_off(l);
	lwp_set_current(NULL);
	return NULL;
}

/* Start an OS thread that holds vp (or is a spare when vp is NULL). */
static struct lwp *lwp_spawn(struct coro_sched *s, struct vproc *vp)
{
	pthread_attr_t attr;
	struct lwp *l = lwp_new(s);
	int err;

	if (!l)
		return NULL;
	l->vp = vp;
	l->spawned = true;
	if (vp)
	pthread_attr_init(&attr);
	if (vp && vp->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(vp->cpu, &set);
		pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	}
	pthread_mutex_lock(&s->lwp_mtx);
	err = pthread_create(&l->thread, &attr, lwp_thread_main, l);
	if (!err) {
		l->next_all = s->all_lwps;
		s->all_lwps = l;
		s->os_threads++;
	}
	pthread_mutex_unlock(&s->lwp_mtx);
	pthread_attr_destroy(&attr);
	if (err) {
		pthread_cond_destroy(&l->cond);
		free(l);
		errno = err;
		return NULL;
	}
	return l;
}

/*
 * Give vp to a spare lwp (a new one if none waits) so that its queue
 * keeps running.  false when no OS thread can be had.
 */
bool vp_hand_to_spare(struct coro_sched *s, struct vproc *vp)
{
	struct lwp *sp;

	pthread_mutex_lock(&s->lwp_mtx);
	sp = s->spares;
	if (sp) {
		s->spares = sp->next_spare;
		sp->vp = vp;
		pthread_cond_signal(&sp->cond);
	}
	pthread_mutex_unlock(&s->lwp_mtx);
	if (!sp && !lwp_spawn(s, vp))
		return false;
	__atomic_add_fetch(&s->handoffs, 1, __ATOMIC_RELAXED);
	return true;
}

/*
 * Before a blocking call: give l's vproc to a spare.  Returns NULL,
 * keeping the vproc, when no OS thread can be had.
 */
struct lwp *lwp_hand_off(struct lwp *l)
{
	if (act_sched_enter(l))
		return l;	/* a spare has the vproc already */
	if (!vp_hand_to_spare(l->sched, l->vp)) {
		act_coro_enter(l);
		return NULL;
	}
	l->vp = NULL;
	return l;
}

/* ---- The scheduler object --------------------------------------------- */

coro_sched_t *coro_sched_create(const struct coro_sched_attr *attr)
{
	struct coro_sched *s;
	pthread_condattr_t ca;
	unsigned int i, n = attr && attr->workers ? attr->workers : 1;

	if (n > 4096) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	if (posix_memalign((void **)&s->vps, CACHELINE, n * sizeof(*s->vps))) {
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	memset(s->vps, 0, n * sizeof(*s->vps));
	if (act_init(s)) {
		free(s->vps);
		free(s);
		return NULL;
	}
	s->nvp = n;
	s->stack_size = attr && attr->stack_size ? attr->stack_size
						 : CORO_STACK_DEFAULT;
	if (s->stack_size < CORO_STACK_MIN)
		s->stack_size = CORO_STACK_MIN;
	for (i = 0; i < n; i++) {
		s->vps[i].id = i;
		s->vps[i].sched = s;
		s->vps[i].cpu = attr && attr->ncpus ?
			attr->cpus[i % attr->ncpus] : -1;
	}
	s->next_wake = UINT64_MAX;
	pthread_mutex_init(&s->idle_mtx, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->idle_cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&s->lwp_mtx, NULL);
	overflow_init();
	return s;
}

int coro_sched_run(coro_sched_t *s)
{
	struct lwp *l, *x, *next;
	cpu_set_t saved;
	bool bound = false;
	unsigned int i;
	int err;

	if (lwp_current())
		return EDEADLK;
	if (__atomic_load_n(&s->live, __ATOMIC_ACQUIRE) == 0)
		return 0;
	if (__atomic_exchange_n(&s->running, 1, __ATOMIC_ACQ_REL))
		return EBUSY;
	l = lwp_new(s);
	if (!l) {
		__atomic_store_n(&s->running, 0, __ATOMIC_RELEASE);
		return ENOMEM;
	}
	l->tid = gettid();
	l->vp = &s->vps[0];
	s->main_lwp = l;
	err = act_start(s, l);
	if (err) {
		s->main_lwp = NULL;
		pthread_cond_destroy(&l->cond);
		free(l);
		__atomic_store_n(&s->running, 0, __ATOMIC_RELEASE);
		return err;
	}
	s->done = 0;
	lwp_set_current(l);
	lwp_tool_init(l);
	overflow_altstack_on(l);
	if (s->vps[0].cpu >= 0 &&
	    !pthread_getaffinity_np(pthread_self(), sizeof(saved), &saved)) {
		bound = true;
		bind_self(s->vps[0].cpu);
	}
	s->os_threads++;
	/* Workers that cannot get a thread are served by stealing. */
	for (i = 1; i < s->nvp; i++)
		lwp_spawn(s, &s->vps[i]);

	lwp_loop(l);
	/* No vproc changes hands from here on. */
	act_stop(s, l);

	/*
	 * done is set.  Wake every lwp ourselves: the one that set done may
	 * not have reached the spares list yet, and must not find it empty
	 * because we took it away.
	 */
	pthread_mutex_lock(&s->lwp_mtx);
	for (x = s->all_lwps; x; x = x->next_all)
		pthread_cond_signal(&x->cond);
	x = s->all_lwps;
	s->all_lwps = NULL;
	s->spares = NULL;
	pthread_mutex_unlock(&s->lwp_mtx);
	for (; x; x = next) {
		next = x->next_all;
		pthread_join(x->thread, NULL);
		s->dead_switches += x->switches;
		s->dead_steals += x->steals;
		pthread_cond_destroy(&x->cond);
		free(x);
	}
	s->dead_switches += l->switches;
	s->dead_steals += l->steals;
	overflow_altstack_off(l);
	if (bound)
		pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved);
	lwp_set_current(NULL);
	pthread_cond_destroy(&l->cond);
	free(l);
	s->main_lwp = NULL;
	__atomic_store_n(&s->running, 0, __ATOMIC_RELEASE);
	return 0;
}

void coro_sched_stats(coro_sched_t *s, struct coro_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->switches = s->dead_switches;
	st->steals = s->dead_steals;
	st->handoffs = __atomic_load_n(&s->handoffs, __ATOMIC_RELAXED);
	st->created = __atomic_load_n(&s->created, __ATOMIC_RELAXED);
	st->reused = __atomic_load_n(&s->reused, __ATOMIC_RELAXED);
	st->os_threads = s->os_threads;
	st->taken = __atomic_load_n(&s->act_takes, __ATOMIC_RELAXED);
}

void coro_sched_destroy(coro_sched_t *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->idle_mtx);
	pthread_cond_destroy(&s->idle_cond);
	pthread_mutex_destroy(&s->lwp_mtx);
	act_destroy(s);
	free(s->heap);
	free(s->vps);
	free(s);
}
