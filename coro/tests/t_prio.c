// SPDX-License-Identifier: GPL-2.0
/*
 * Priorities and preemption across workers (issue 22, part 1).
 *
 *   order     one worker: the queue serves the highest priority first,
 *             FIFO within one; a yield goes to an equal or higher
 *             priority only; a new coroutine takes its creator's
 *             priority; the API's errors.
 *   preempt   the Solaris notes' scenario on two workers: T2 (priority 1)
 *             holds a mutex, T3 (3) waits for it; T1 (0) spins on the
 *             other worker without yielding (bounded by a count of
 *             loads, so a failure ends); T2 unlocks.  T3 must run on
 *             T1's worker while T1 is still spinning.  T2 spins too
 *             after the unlock, so that its worker cannot take T3.
 *   same      the same with every priority 1: T3 must not run while T1
 *             spins SAME_SPINS loads past the unlock.
 *   steal     two workers: a thief takes the highest priority first.
 *
 * Usage: t_prio [order|preempt|same|steal|all [checkpoint|unsafe]]
 * checkpoint: T1's spin calls coro_checkpoint() (ThreadSanitizer, which
 * defers signals to its interceptors: the preemption then waits for a
 * scheduling point).  unsafe: T1's spin makes a system call each time
 * round, so that the signal mostly lands in libc (no safe point) and is
 * retried, and the retry's delay is 1 ns, shorter than the handler's own
 * timer_settime(): each retry fires inside the handler that arms it (as
 * in a TCG guest, where bench_preempt's stack overflowed with nested
 * handlers).  Synchronisation is by handshakes only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "coro.h"
#include "check.h"
#include "prio.h"

/* Bounds that end a failing run; none is reached when the test passes. */
#define SPIN_BOUND	20000000000ULL	/* loads, some seconds */
#define SAME_SPINS	200000000ULL	/* loads past the unlock */

static bool checkpoint, unsafe;

static int load(const int *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store(int *p, int v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* Spin until *p is set or the bound; false at the bound. */
static bool spin_until(const int *p)
{
	unsigned long long n;

	for (n = 0; n < SPIN_BOUND; n++)
		if (load(p))
			return true;
	return false;
}

/* ---- order ---- */

static int order[32], norder;

static void *recorder(void *arg)
{
	int i = (int)(intptr_t)arg;

	order[norder++] = i;
	coro_yield();
	order[norder++] = i;
	return NULL;
}

static int child_got = -1;

static void *child_prio(void *arg)
{
	(void)arg;
	child_got = coro_getprio(NULL);
	order[norder++] = 300;
	return NULL;
}

static void *inherit(void *arg)
{
	coro_t *c;

	(void)arg;
	c = coro_create(NULL, child_prio, NULL, 0);
	CHECK(c);
	CHECK_EQ(coro_detach(c), 0);
	CHECK_EQ(coro_getprio(c), 4);
	/* Lowered below the queued coroutines of higher priority (the
	 * child, 4, then higher(), 2): they run before setprio returns. */
	order[norder++] = 100;
	CHECK_EQ(coro_setprio(NULL, 0), 0);
	order[norder++] = 101;
	return NULL;
}

static void *higher(void *arg)
{
	(void)arg;
	order[norder++] = 200;
	return NULL;
}

static void test_order(void)
{
	static const int prios[] = { 0, 3, 1, 3, 7, 0 };
	static const int want[] = { 4, 4, 1, 3, 1, 3, 2, 2, 0, 5, 0, 5 };
	struct coro_sched_attr a = { .workers = 1 };
	coro_sched_t *s = coro_sched_create(&a);
	coro_t *c[6], *in, *hi;
	unsigned int i;

	CHECK(s);
	CHECK_EQ(coro_getprio(NULL), (unsigned long long)-1);
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(coro_setprio(NULL, 1), EINVAL);
	for (i = 0; i < 6; i++) {
		c[i] = coro_create(s, recorder, (void *)(intptr_t)i, 0);
		CHECK(c[i]);
		CHECK_EQ(coro_getprio(c[i]), CORO_PRIO_DEFAULT);
		CHECK_EQ(coro_setprio(c[i], prios[i]), 0);
		CHECK_EQ(coro_getprio(c[i]), prios[i]);
	}
	CHECK_EQ(coro_setprio(c[0], CORO_PRIO_MAX + 1), EINVAL);
	CHECK_EQ(coro_setprio(c[0], -1), EINVAL);
	CHECK_EQ(coro_getprio(c[0]), 0);
	CHECK_EQ(coro_sched_run(s), 0);
	CHECK_EQ(norder, 12);
	for (i = 0; i < 12; i++) {
		if (order[i] != want[i])
			fprintf(stderr, "order[%u] = %d, want %d\n", i,
				order[i], want[i]);
		CHECK_EQ(order[i], want[i]);
	}
	for (i = 0; i < 6; i++)
		CHECK_EQ(coro_join(c[i], NULL), 0);
	printf("ok order: highest priority first, FIFO within one, a yield "
	       "to equal or higher only\n");

	/* Inheritance, and lowering oneself below a queued coroutine. */
	norder = 0;
	in = coro_create(s, inherit, NULL, 0);
	hi = coro_create(s, higher, NULL, 0);
	CHECK(in && hi);
	CHECK_EQ(coro_setprio(in, 4), 0);
	CHECK_EQ(coro_setprio(hi, 2), 0);
	CHECK_EQ(coro_sched_run(s), 0);
	CHECK_EQ(norder, 4);
	CHECK_EQ(order[0], 100);
	CHECK_EQ(order[1], 300);
	CHECK_EQ(order[2], 200);
	CHECK_EQ(order[3], 101);
	CHECK_EQ(child_got, 4);
	CHECK_EQ(coro_join(in, NULL), 0);
	CHECK_EQ(coro_join(hi, NULL), 0);
	coro_sched_destroy(s);
	printf("ok order: a new coroutine has its creator's priority; "
	       "lowering oneself yields to a higher one queued\n");
}

/* ---- preempt, same ---- */

static coro_mutex_t m = CORO_MUTEX_INITIALIZER;
static bool same;
static int t1_started, t1_worker, t1_bound, t1_saw_t3, t1_done;
static int t3_ran, t3_worker, unlocked, t2_bound, t2_worker;

static void *t3_fn(void *arg)
{
	(void)arg;
	coro_mutex_lock(&m);
	__atomic_store_n(&t3_worker, coro_worker_id(), __ATOMIC_RELAXED);
	coro_mutex_unlock(&m);
	store(&t3_ran, 1);
	return NULL;
}

/* The lowest: spins without yielding. */
static void *t1_fn(void *arg)
{
	unsigned long long n;

	(void)arg;
	__atomic_store_n(&t1_worker, coro_worker_id(), __ATOMIC_RELAXED);
	store(&t1_started, 1);
	if (same) {
		if (!spin_until(&unlocked))
			store(&t1_bound, 1);
		for (n = 0; n < SAME_SPINS && !load(&t3_ran); n++)
			;
		store(&t1_saw_t3, load(&t3_ran));
		store(&t1_done, 1);
		return NULL;
	}
	for (n = 0; !load(&t3_ran); n++) {
		if (checkpoint)
			coro_checkpoint();
		if (unsafe)
			(void)getppid();
		if (n == SPIN_BOUND) {
			store(&t1_bound, 1);
			break;
		}
	}
	store(&t1_done, 1);
	return NULL;
}

static void *t2_fn(void *arg)
{
	coro_t *t1, *t3;
	bool ok;

	(void)arg;
	coro_mutex_lock(&m);
	/* T3 goes to the idle worker and parks on m. */
	t3 = coro_create(NULL, t3_fn, NULL, 0);
	CHECK(t3);
	CHECK_EQ(coro_detach(t3), 0);
	if (!same)
		CHECK_EQ(coro_setprio(t3, 3), 0);
	while (!__atomic_load_n(&m.wq.head, __ATOMIC_ACQUIRE))
		;
	/* T1 takes T2's priority at creation: T2 lowers itself for it. */
	if (!same)
		CHECK_EQ(coro_setprio(NULL, 0), 0);
	t1 = coro_create(NULL, t1_fn, NULL, 0);
	CHECK(t1);
	CHECK_EQ(coro_detach(t1), 0);
	if (!same)
		CHECK_EQ(coro_setprio(NULL, 1), 0);
	ok = spin_until(&t1_started);
	CHECK(ok);
	__atomic_store_n(&t2_worker, coro_worker_id(), __ATOMIC_RELAXED);
	CHECK(t2_worker != __atomic_load_n(&t1_worker, __ATOMIC_RELAXED));
	store(&unlocked, 1);
	coro_mutex_unlock(&m);
	/* Busy, so that this worker cannot take T3. */
	if (!spin_until(same ? &t1_done : &t3_ran))
		store(&t2_bound, 1);
	return NULL;
}

static void test_preempt(bool same_prio)
{
	struct coro_sched_attr a = { .workers = 2 };
	coro_sched_t *s = coro_sched_create(&a);
	coro_t *t2;

	CHECK(s);
	same = same_prio;
	t1_started = t1_bound = t1_saw_t3 = t1_done = 0;
	t3_ran = unlocked = t2_bound = 0;
	t1_worker = t3_worker = t2_worker = -1;
	t2 = coro_create(s, t2_fn, NULL, 0);
	CHECK(t2);
	CHECK_EQ(coro_setprio(t2, 1), 0);
	CHECK_EQ(coro_sched_run(s), 0);
	CHECK_EQ(coro_join(t2, NULL), 0);
	CHECK_EQ(load(&t1_bound), 0);
	CHECK_EQ(load(&t2_bound), 0);
	CHECK_EQ(load(&t3_ran), 1);
	if (same_prio) {
		CHECK_EQ(load(&t1_saw_t3), 0);
		printf("ok same priority: T3 (1) did not preempt T1 (1) "
		       "spinning on worker %d\n", t1_worker);
	} else {
		CHECK_EQ(t3_worker, t1_worker);
		printf("ok preempt%s: T3 (3) ran on T1's worker %d while T1 "
		       "(0) spun; T2 (1) on worker %d\n",
		       checkpoint ? " at a checkpoint" : unsafe ?
		       " from system calls, retried every 1 ns" : "",
		       t3_worker, t2_worker);
	}
	coro_sched_destroy(s);
}

/* ---- steal ---- */

static int go, nran, first_ran = -1, p_bound, s_bound;

static void *victim(void *arg)
{
	int i = (int)(intptr_t)arg, none = -1;

	__atomic_compare_exchange_n(&first_ran, &none, i, false,
				    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	__atomic_add_fetch(&nran, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* On worker 1 until S has queued its five, then its worker steals. */
static void *p_fn(void *arg)
{
	(void)arg;
	if (!spin_until(&go))
		store(&p_bound, 1);
	return NULL;
}

static void *s_fn(void *arg)
{
	coro_t *c[5];
	unsigned long long n;
	int i;

	(void)arg;
	for (i = 0; i < 5; i++) {
		c[i] = coro_create(NULL, victim, (void *)(intptr_t)i, 0);
		CHECK(c[i]);
		CHECK_EQ(coro_detach(c[i]), 0);
	}
	CHECK_EQ(coro_setprio(c[4], 5), 0);	/* queued last */
	store(&go, 1);
	for (n = 0; load(&nran) < 5; n++) {
		if (n == SPIN_BOUND) {
			store(&s_bound, 1);
			break;
		}
	}
	return NULL;
}

static void test_steal(void)
{
	struct coro_sched_attr a = { .workers = 2 };
	coro_sched_t *s = coro_sched_create(&a);
	coro_t *sc, *pc;

	CHECK(s);
	sc = coro_create(s, s_fn, NULL, 0);	/* worker 0 */
	pc = coro_create(s, p_fn, NULL, 0);	/* worker 1 */
	CHECK(sc && pc);
	CHECK_EQ(coro_sched_run(s), 0);
	CHECK_EQ(coro_join(sc, NULL), 0);
	CHECK_EQ(coro_join(pc, NULL), 0);
	CHECK_EQ(load(&p_bound), 0);
	CHECK_EQ(load(&s_bound), 0);
	CHECK_EQ(load(&nran), 5);
	CHECK_EQ(load(&first_ran), 4);
	coro_sched_destroy(s);
	printf("ok steal: the thief ran the highest priority first\n");
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "all";
	bool all = !strcmp(what, "all");

	if (argc > 2 && !strcmp(argv[2], "checkpoint")) {
		checkpoint = true;
	} else if (argc > 2 && !strcmp(argv[2], "unsafe")) {
		unsafe = true;
		preempt_retry_ns = 1;
	} else if (argc > 2 || (!all && strcmp(what, "order") &&
			      strcmp(what, "preempt") && strcmp(what, "same") &&
			      strcmp(what, "steal"))) {
		fprintf(stderr, "usage: t_prio [order|preempt|same|steal|all "
			"[checkpoint|unsafe]]\n");
		return 2;
	}
	if (all || !strcmp(what, "order"))
		test_order();
	if (all || !strcmp(what, "preempt"))
		test_preempt(false);
	if (all || !strcmp(what, "same"))
		test_preempt(true);
	if (all || !strcmp(what, "steal"))
		test_steal();
	return 0;
}
