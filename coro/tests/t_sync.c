// SPDX-License-Identifier: GPL-2.0
/*
 * Synchronisation semantics: the mutex excludes (a critical section that
 * yields inside still counts exactly), the condition variable hands items
 * over without loss, the semaphore makes a strict ping-pong, sleep wakes
 * in deadline order and never early.  Usage: t_sync [WORKERS]
 */
#include "coro.h"
#include "check.h"

static unsigned int workers;

static coro_sched_t *sched(void)
{
	struct coro_sched_attr a = { .workers = workers };
	coro_sched_t *s = coro_sched_create(&a);

	CHECK(s);
	return s;
}

/* Run n coroutines of fn(i) to their end. */
static void run_all(coro_sched_t *s, void *(*fn)(void *), int n)
{
	coro_t *c[64];
	int i;

	CHECK(n <= 64);
	for (i = 0; i < n; i++)
		CHECK(c[i] = coro_create(s, fn, (void *)(intptr_t)i, 0));
	CHECK(coro_sched_run(s) == 0);
	for (i = 0; i < n; i++)
		CHECK(coro_join(c[i], NULL) == 0);
	coro_sched_destroy(s);
}

/* ---- mutex ---- */
static coro_mutex_t mtx = CORO_MUTEX_INITIALIZER;
static volatile long guarded;
static int inside;

static void *mutex_worker(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 2000; i++) {
		long v;

		coro_mutex_lock(&mtx);
		CHECK(__atomic_add_fetch(&inside, 1, __ATOMIC_RELAXED) == 1);
		v = guarded;
		if (i % 3 == 0)
			coro_yield();	/* others must block, not barge in */
		guarded = v + 1;
		__atomic_sub_fetch(&inside, 1, __ATOMIC_RELAXED);
		coro_mutex_unlock(&mtx);
		if (i % 7 == 0)
			coro_yield();
	}
	return NULL;
}

static void test_mutex(void)
{
	guarded = 0;
	run_all(sched(), mutex_worker, 16);
	CHECK_EQ(guarded, 16 * 2000);
	CHECK(coro_mutex_trylock(&mtx) == 0);
	CHECK(coro_mutex_trylock(&mtx) != 0);
	coro_mutex_unlock(&mtx);
	printf("ok the mutex excludes even across yields (%u workers)\n",
	       workers);
}

/* ---- condition variable: a one-slot mailbox ---- */
static coro_mutex_t box_mtx = CORO_MUTEX_INITIALIZER;
static coro_cond_t box_full = CORO_COND_INITIALIZER;
static coro_cond_t box_empty = CORO_COND_INITIALIZER;
static long box, box_has, received_sum, received_n;
#define ITEMS 5000

static void *producer(void *arg)
{
	long i;

	(void)arg;
	for (i = 1; i <= ITEMS; i++) {
		coro_mutex_lock(&box_mtx);
		while (box_has)
			coro_cond_wait(&box_empty, &box_mtx);
		box = i;
		box_has = 1;
		coro_cond_signal(&box_full);
		coro_mutex_unlock(&box_mtx);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	long got;

	(void)arg;
	do {
		coro_mutex_lock(&box_mtx);
		while (!box_has)
			coro_cond_wait(&box_full, &box_mtx);
		got = box;
		box_has = 0;
		received_sum += got;
		received_n++;
		coro_cond_signal(&box_empty);
		coro_mutex_unlock(&box_mtx);
	} while (got != ITEMS);
	return NULL;
}

static void *cond_pair(void *arg)
{
	return (intptr_t)arg ? consumer(arg) : producer(arg);
}

static void test_cond(void)
{
	received_sum = received_n = box_has = 0;
	run_all(sched(), cond_pair, 2);
	CHECK_EQ(received_n, ITEMS);
	CHECK_EQ(received_sum, (long)ITEMS * (ITEMS + 1) / 2);
	printf("ok the condition variable hands every item over once (%u workers)\n",
	       workers);
}

/* ---- broadcast ---- */
static coro_cond_t gate = CORO_COND_INITIALIZER;
static int gate_open, passed;

static void *gate_waiter(void *arg)
{
	if ((intptr_t)arg == 0) {
		int i;

		for (i = 0; i < 20; i++)
			coro_yield();
		coro_mutex_lock(&box_mtx);
		gate_open = 1;
		coro_cond_broadcast(&gate);
		coro_mutex_unlock(&box_mtx);
		return NULL;
	}
	coro_mutex_lock(&box_mtx);
	while (!gate_open)
		coro_cond_wait(&gate, &box_mtx);
	passed++;
	coro_mutex_unlock(&box_mtx);
	return NULL;
}

static void test_broadcast(void)
{
	gate_open = passed = 0;
	run_all(sched(), gate_waiter, 33);
	CHECK_EQ(passed, 32);
	printf("ok broadcast wakes every waiter (%u workers)\n", workers);
}

/* ---- semaphore ping-pong ---- */
static coro_sem_t ping, pong;
static long turn;
#define ROUNDS 20000

static void *pinger(void *arg)
{
	long i, me = (intptr_t)arg;
	coro_sem_t *mine = me ? &pong : &ping, *other = me ? &ping : &pong;

	for (i = 0; i < ROUNDS; i++) {
		coro_sem_wait(mine);
		CHECK_EQ(__atomic_load_n(&turn, __ATOMIC_RELAXED) % 2, me);
		__atomic_add_fetch(&turn, 1, __ATOMIC_RELAXED);
		coro_sem_post(other);
	}
	return NULL;
}

static void test_sem(void)
{
	turn = 0;
	coro_sem_init(&ping, 1);
	coro_sem_init(&pong, 0);
	run_all(sched(), pinger, 2);
	CHECK_EQ(turn, 2 * ROUNDS);
	printf("ok two semaphores make a strict ping-pong (%u workers)\n",
	       workers);
}

/* ---- sleep ---- */
static int woke[3], nwoke;
static uint64_t slept[3];

static void *sleeper(void *arg)
{
	int i = (int)(intptr_t)arg;
	uint64_t want = (uint64_t)(3 - i) * 20000000u, t0 = now_ns();

	coro_sleep_ns(want);
	slept[i] = now_ns() - t0;
	CHECK(slept[i] >= want);
	woke[__atomic_fetch_add(&nwoke, 1, __ATOMIC_RELAXED)] = i;
	return NULL;
}

static void test_sleep(void)
{
	uint64_t t0 = now_ns(), dt;

	nwoke = 0;
	run_all(sched(), sleeper, 3);
	dt = now_ns() - t0;
	CHECK_EQ(nwoke, 3);
	CHECK(woke[0] == 2 && woke[1] == 1 && woke[2] == 0);
	CHECK(dt >= 60000000u && dt < 500000000u);
	printf("ok sleepers wake in deadline order, none early (%u workers)\n",
	       workers);
}

int main(int argc, char **argv)
{
	workers = arg_workers(argc, argv, 1);
	test_mutex();
	test_cond();
	test_broadcast();
	test_sem();
	test_sleep();
	return 0;
}
