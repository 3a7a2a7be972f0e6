// SPDX-License-Identifier: GPL-2.0
/*
 * The run queues under stress on several workers (default 2): yielders,
 * spawners that create and join children, and sleepers that leave a
 * worker idle now and then (so that it steals), all started by one
 * coroutine on one worker (so that the others must steal to get any).
 * Every yield, child and sleep is counted, and the counts must be exact;
 * with more than one worker some coroutine must have been stolen and some
 * must have run on more than one worker.  Meant for ThreadSanitizer as
 * much as for the plain build.  Usage: t_runq [WORKERS [ROUNDS]]
 */
#include <stdbool.h>

#include "coro.h"
#include "check.h"

#define YIELDERS	32
#define YIELDS		2000
#define SPAWNERS	8
#define CHILDREN	100
#define CHILD_YIELDS	3
#define SLEEPERS	4
#define SLEEPS		20
#define SLEEP_NS	20000

static long yields[YIELDERS], child_runs, sleeps, moved;

static void add(long *p, long n)
{
	__atomic_add_fetch(p, n, __ATOMIC_RELAXED);
}

static void *yielder(void *arg)
{
	long *mine = arg;
	int w = coro_worker_id(), x;
	bool was_moved = false;

	for (int i = 0; i < YIELDS; i++) {
		coro_yield();
		++*mine;	/* only this coroutine writes it */
		x = coro_worker_id();
		if (x != w)
			was_moved = true;
		w = x;
	}
	if (was_moved)
		add(&moved, 1);
	return arg;
}

static void *child(void *arg)
{
	for (int i = 0; i < CHILD_YIELDS; i++)
		coro_yield();
	add(&child_runs, 1);
	return arg;
}

static void *spawner(void *arg)
{
	coro_t *c[CHILDREN];
	void *ret;

	for (int i = 0; i < CHILDREN; i++) {
		c[i] = coro_create(NULL, child, c + i, 0);
		CHECK(c[i]);
		if (i % 3 == 0)
			coro_yield();
	}
	for (int i = 0; i < CHILDREN; i++) {
		CHECK_EQ(coro_join(c[i], &ret), 0);
		CHECK(ret == c + i);
	}
	return arg;
}

static void *sleeper(void *arg)
{
	for (int i = 0; i < SLEEPS; i++) {
		coro_sleep_ns(SLEEP_NS);
		add(&sleeps, 1);
	}
	return arg;
}

/* Everything starts here, on one worker: the others steal it. */
static void *boss(void *arg)
{
	coro_t *c[YIELDERS + SPAWNERS + SLEEPERS];
	int i, n = 0;

	for (i = 0; i < YIELDERS; i++)
		c[n++] = coro_create(NULL, yielder, &yields[i], 0);
	for (i = 0; i < SPAWNERS; i++)
		c[n++] = coro_create(NULL, spawner, NULL, 0);
	for (i = 0; i < SLEEPERS; i++)
		c[n++] = coro_create(NULL, sleeper, NULL, 0);
	for (i = 0; i < n; i++) {
		CHECK(c[i]);
		CHECK_EQ(coro_join(c[i], NULL), 0);
	}
	return arg;
}

int main(int argc, char **argv)
{
	unsigned int w = arg_workers(argc, argv, 2);
	long rounds = argc > 2 ? strtol(argv[2], NULL, 0) : 5;
	struct coro_stats st;
	uint64_t steals = 0;
	long r, total_moved = 0;

	for (r = 0; r < rounds; r++) {
		coro_sched_t *s = coro_sched_create(
			&(struct coro_sched_attr){ .workers = w });

		CHECK(s);
		for (int i = 0; i < YIELDERS; i++)
			yields[i] = 0;
		child_runs = sleeps = moved = 0;
		CHECK(coro_create(s, boss, NULL, 0));
		CHECK_EQ(coro_sched_run(s), 0);
		coro_sched_stats(s, &st);
		coro_sched_destroy(s);
		for (int i = 0; i < YIELDERS; i++)
			CHECK_EQ(yields[i], YIELDS);
		CHECK_EQ(child_runs, SPAWNERS * CHILDREN);
		CHECK_EQ(sleeps, SLEEPERS * SLEEPS);
		CHECK_EQ(st.created, 1 + YIELDERS + SPAWNERS + SLEEPERS +
			 SPAWNERS * CHILDREN);
		steals += st.steals;
		total_moved += moved;
	}
	printf("%ld rounds on %u workers: %llu steals, %ld yielders moved\n",
	       rounds, w, (unsigned long long)steals, total_moved);
	if (w > 1) {
		CHECK(steals > 0);
		CHECK(total_moved > 0);
	}
	printf("ok run queues: exact counts on %u workers\n", w);
	return 0;
}
