// SPDX-License-Identifier: GPL-2.0
/*
 * The barrier: nobody leaves a generation before every party has arrived,
 * exactly one party per generation gets CORO_BARRIER_SERIAL, the barrier is
 * reusable at once (parties yield between generations to mix the order),
 * a plain thread can take part, and a count of 0 is refused.
 * Usage: t_barrier [WORKERS]
 */
#include <errno.h>
#include <pthread.h>

#include "coro.h"
#include "check.h"

#define PARTIES		24
#define GENERATIONS	500

static coro_barrier_t bar;
static unsigned long arrived[GENERATIONS];
static unsigned long serial[GENERATIONS];

static void *party(void *arg)
{
	unsigned long i = (unsigned long)(uintptr_t)arg, g;

	for (g = 0; g < GENERATIONS; g++) {
		__atomic_add_fetch(&arrived[g], 1, __ATOMIC_RELAXED);
		if (coro_barrier_wait(&bar) == CORO_BARRIER_SERIAL)
			__atomic_add_fetch(&serial[g], 1, __ATOMIC_RELAXED);
		/* Everyone of this generation arrived before anyone left. */
		CHECK_EQ(__atomic_load_n(&arrived[g], __ATOMIC_RELAXED), PARTIES);
		if ((g + i) % 3 == 0)
			coro_yield();
	}
	return NULL;
}

/* A plain thread as the last party of one generation. */
static coro_barrier_t mixed;
static void *plain_thread(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)coro_barrier_wait(&mixed);
}

static void *mixed_party(void *arg)
{
	return (void *)(intptr_t)coro_barrier_wait(&mixed) + (intptr_t)arg;
}

int main(int argc, char **argv)
{
	struct coro_sched_attr a = { .workers = argc > 1 ? atoi(argv[1]) : 1 };
	coro_t *c[PARTIES];
	coro_sched_t *s;
	pthread_t t;
	void *r, *rt;
	unsigned long i, g;

	CHECK_EQ(coro_barrier_init(&bar, 0), EINVAL);
	CHECK_EQ(coro_barrier_init(&bar, PARTIES), 0);
	CHECK(s = coro_sched_create(&a));
	for (i = 0; i < PARTIES; i++)
		CHECK(c[i] = coro_create(s, party, (void *)(uintptr_t)i, 0));
	CHECK_EQ(coro_sched_run(s), 0);
	for (i = 0; i < PARTIES; i++)
		CHECK_EQ(coro_join(c[i], NULL), 0);
	for (g = 0; g < GENERATIONS; g++) {
		CHECK_EQ(arrived[g], PARTIES);
		CHECK_EQ(serial[g], 1);
	}
	coro_sched_destroy(s);
	printf("ok barrier: %d parties x %d generations on %u worker(s)\n",
	       PARTIES, GENERATIONS, a.workers);

	CHECK_EQ(coro_barrier_init(&mixed, 2), 0);
	CHECK(s = coro_sched_create(&a));
	CHECK(c[0] = coro_create(s, mixed_party, (void *)(intptr_t)10, 0));
	CHECK_EQ(pthread_create(&t, NULL, plain_thread, NULL), 0);
	CHECK_EQ(coro_sched_run(s), 0);
	CHECK_EQ(coro_join(c[0], &r), 0);
	CHECK_EQ(pthread_join(t, &rt), 0);
	/* One of the two is the serial one. */
	CHECK_EQ((intptr_t)r - 10 + (intptr_t)rt, CORO_BARRIER_SERIAL);
	coro_sched_destroy(s);
	printf("ok barrier: a plain thread meets a coroutine\n");
	return 0;
}
