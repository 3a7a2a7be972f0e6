// SPDX-License-Identifier: GPL-2.0
/*
 * The scheduler object: its vprocs, made by coro_sched_create(), run by
 * coro_sched_run() on the calling thread and workers - 1 more lwps
 * (lwp.c) until every coroutine has ended.
 */
#include "activations.h"
#include "concurrency.h"
#include "current.h"
#include "lwp.h"
#include "overflow.h"
#include "uring_ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

coro_sched_t *coro_sched_create(const struct coro_sched_attr *attr)
{
	struct coro_sched *s;
	pthread_condattr_t ca;
	unsigned int i, n = attr && attr->workers ? attr->workers : 1;
	unsigned int cap = n > CORO_CONC_ROOM ? n : CORO_CONC_ROOM;

	if (n > 4096) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	/* Room for coro_sched_set_concurrency() to grow (concurrency.c). */
	if (posix_memalign((void **)&s->vps, CACHELINE, cap * sizeof(*s->vps))) {
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	memset(s->vps, 0, cap * sizeof(*s->vps));
	if (attr && attr->ncpus && attr->cpus) {
		s->cpus = malloc(attr->ncpus * sizeof(*s->cpus));
		if (!s->cpus) {
			free(s->vps);
			free(s);
			errno = ENOMEM;
			return NULL;
		}
		memcpy(s->cpus, attr->cpus, attr->ncpus * sizeof(*s->cpus));
		s->ncpus = attr->ncpus;
	}
	if (act_init(s, attr ? attr->activations : NULL)) {
		free(s->cpus);
		free(s->vps);
		free(s);
		return NULL;
	}
	s->nvp = n;
	s->vp_cap = cap;
	s->stack_size = attr && attr->stack_size ? attr->stack_size
						 : CORO_STACK_DEFAULT;
	if (s->stack_size < CORO_STACK_MIN)
		s->stack_size = CORO_STACK_MIN;
	for (i = 0; i < cap; i++) {
		s->vps[i].id = i;
		s->vps[i].sched = s;
		s->vps[i].solo = n == 1 && i == 0;
		/* With activations every yield enters the scheduler. */
		s->vps[i].fast_yield = s->vps[i].solo && !act_on(s);
		s->vps[i].cpu = s->ncpus ? s->cpus[i % s->ncpus] : -1;
		s->vps[i].retire = i < n ? VP_ACTIVE : VP_RETIRED;
	}
	s->next_wake = UINT64_MAX;
	pthread_mutex_init(&s->idle_mtx, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->idle_cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&s->lwp_mtx, NULL);
	pthread_mutex_init(&s->conc_mtx, NULL);
	pthread_cond_init(&s->conc_cond, NULL);
	overflow_init();
	return s;
}

int coro_sched_run(coro_sched_t *s)
{
	struct lwp *l;
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
	/*
	 * Every worker's CPU must be one the caller may run on (its cpuset,
	 * taskset): a worker is never left unbound where it was asked to be
	 * bound.  Nothing has run yet when this fails.
	 */
	if (!pthread_getaffinity_np(pthread_self(), sizeof(saved), &saved)) {
		for (i = 0; i < s->vp_cap; i++) {
			if (s->vps[i].cpu >= 0 &&
			    (s->vps[i].cpu >= CPU_SETSIZE ||
			     !CPU_ISSET(s->vps[i].cpu, &saved))) {
				__atomic_store_n(&s->running, 0,
						 __ATOMIC_RELEASE);
				return EINVAL;
			}
		}
	}
	l = lwp_new(s);
	if (!l) {
		__atomic_store_n(&s->running, 0, __ATOMIC_RELEASE);
		return ENOMEM;
	}
	l->vp = &s->vps[0];
	s->main_lwp = l;
	pthread_sigmask(SIG_SETMASK, NULL, &s->run_sigmask);
	s->done = 0;	/* before act_start(): the watcher is an lwp */
	err = act_start(s, l);
	if (err) {
		s->main_lwp = NULL;
		lwp_free(l);
		__atomic_store_n(&s->running, 0, __ATOMIC_RELEASE);
		return err;
	}
	lwp_enter(l);
	if (s->vps[0].cpu >= 0 &&
	    !pthread_getaffinity_np(pthread_self(), sizeof(saved), &saved)) {
		bound = true;
		lwp_bind(s->vps[0].cpu);
	}
	__atomic_add_fetch(&s->os_threads, 1, __ATOMIC_RELAXED);
	conc_run_begin(s);	/* the other workers' lwps */
	lwp_loop(l);
	conc_run_end(s);
	/* No vproc changes hands from here on. */
	act_stop(s, l);
	lwp_reap(s);
	act_close(s);
	lwp_fold(s, l);
	lwp_leave(l);
	if (bound)
		pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved);
	lwp_free(l);
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
	st->os_threads = __atomic_load_n(&s->os_threads, __ATOMIC_RELAXED);
	st->taken = __atomic_load_n(&s->act_takes, __ATOMIC_RELAXED);
	st->stale_takes = __atomic_load_n(&s->act_stale, __ATOMIC_RELAXED);
	st->thread_failures = __atomic_load_n(&s->thread_failures,
					      __ATOMIC_RELAXED);
}

void coro_sched_mutex_stats(coro_sched_t *s, struct coro_mutex_stats *st)
{
	const struct mtx_counts *d = &s->dead_mtx;

	memset(st, 0, sizeof(*st));
	st->contended = d->contended;
	st->spins = d->spins;
	st->spin_iters = d->spin_iters;
	st->spin_ns = d->spin_ns;
	st->spin_acquired = d->spin_acquired;
	st->parks = d->parks;
	st->owner_off_cpu = d->owner_off;
	st->checks = d->checks;
	st->watch = s->mutex_watch;
}

void coro_sched_destroy(coro_sched_t *s)
{
	unsigned int i;

	if (!s)
		return;
	pthread_mutex_destroy(&s->idle_mtx);
	pthread_cond_destroy(&s->idle_cond);
	pthread_mutex_destroy(&s->lwp_mtx);
	pthread_mutex_destroy(&s->conc_mtx);
	pthread_cond_destroy(&s->conc_cond);
	act_destroy(s);
	for (i = 0; i < s->vp_cap; i++)
		ring_free(&s->vps[i]);
	free(s->cpus);
	free(s->heap);
	free(s->vps);
	free(s);
}
