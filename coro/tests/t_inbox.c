// SPDX-License-Identifier: GPL-2.0
/*
 * Wake-ups from other threads.  On one worker the run queue is the
 * worker's alone and other threads push onto its inbox (src/runq.c):
 * POSTERS plain threads post the semaphores that WAITERS coroutines wait
 * on, ROUNDS times each, while YIELDERS coroutines keep the queue
 * rotating; every wait must end, every yield count must be exact.  The
 * same on WORKERS > 1 (locked queues).  Usage: t_inbox [WORKERS [ROUNDS]]
 */
#include <pthread.h>
#include <sched.h>

#include "coro.h"
#include "check.h"

#define WAITERS 8
#define POSTERS 2
#define YIELDERS 4

static long rounds = 300;
static coro_sem_t sem[WAITERS];
static long woken[WAITERS], yields[YIELDERS];
static long waiters_done;

static void *waiter(void *arg)
{
	long i, k = (long)(intptr_t)arg;

	for (i = 0; i < rounds; i++) {
		coro_sem_wait(&sem[k]);
		__atomic_store_n(&woken[k], i + 1, __ATOMIC_RELEASE);
	}
	__atomic_add_fetch(&waiters_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *yielder(void *arg)
{
	long k = (long)(intptr_t)arg;

	while (__atomic_load_n(&waiters_done, __ATOMIC_ACQUIRE) < WAITERS) {
		coro_yield();
		yields[k]++;
	}
	return NULL;
}

/*
 * Poster p posts the semaphores p, p + POSTERS, ... rounds times each,
 * each post once the last one has been taken, so that it mostly finds
 * its waiter parked and wakes it from this thread.
 */
static void *poster(void *arg)
{
	long i, k, p = (long)(intptr_t)arg;

	for (i = 0; i < rounds; i++) {
		for (k = p; k < WAITERS; k += POSTERS) {
			while (__atomic_load_n(&woken[k], __ATOMIC_ACQUIRE) < i)
				sched_yield();
			coro_sem_post(&sem[k]);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct coro_sched_attr a = { .workers = 1 };
	coro_t *c[WAITERS + YIELDERS];
	pthread_t t[POSTERS];
	coro_sched_t *s;
	long i;

	if (argc > 1)
		a.workers = (unsigned int)strtoul(argv[1], NULL, 0);
	if (argc > 2)
		rounds = strtol(argv[2], NULL, 0);
	CHECK(s = coro_sched_create(&a));
	for (i = 0; i < WAITERS; i++) {
		coro_sem_init(&sem[i], 0);
		CHECK(c[i] = coro_create(s, waiter, (void *)(intptr_t)i, 0));
	}
	for (i = 0; i < YIELDERS; i++)
		CHECK(c[WAITERS + i] = coro_create(s, yielder,
						   (void *)(intptr_t)i, 0));
	for (i = 0; i < POSTERS; i++)
		CHECK_EQ(pthread_create(&t[i], NULL, poster,
					(void *)(intptr_t)i), 0);
	CHECK_EQ(coro_sched_run(s), 0);
	for (i = 0; i < POSTERS; i++)
		CHECK_EQ(pthread_join(t[i], NULL), 0);
	for (i = 0; i < WAITERS + YIELDERS; i++)
		CHECK_EQ(coro_join(c[i], NULL), 0);
	for (i = 0; i < WAITERS; i++)
		CHECK_EQ(woken[i], rounds);
	coro_sched_destroy(s);
	printf("ok inbox: %d coroutines woken %ld times each by %d plain "
	       "threads on %u worker(s)\n", WAITERS, rounds, POSTERS,
	       a.workers);
	return 0;
}
