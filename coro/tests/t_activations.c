// SPDX-License-Identifier: GPL-2.0
/*
 * Scheduler activations (CORO_ACTIVATIONS, src/activations.c).
 *
 *   t_activations [WORKERS [SIBLINGS]]
 *	One coroutine blocks in a plain read() on a pipe, no wrapper, with
 *	SIBLINGS (1000) siblings queued behind it on one worker.  A plain
 *	thread writes the byte only once every sibling has finished (a
 *	handshake, not a timer; it gives up after 60 s, and the test fails),
 *	so the run ends only if a spare took over the blocked worker's queue;
 *	and no more than WORKERS siblings ever run at once (strict
 *	parallelism: the OS thread of the reader does not run the queue).
 *
 *   t_activations handoff ROUNDS [wrapper]
 *	Hand-off latency: coroutine A notes the time and blocks in read()
 *	(plain, or coro_blocking_read() with "wrapper"); its sibling B, the
 *	next in the one worker's queue, notes when it runs on another OS
 *	thread, and wakes A.  Prints p50, p99 and max of those delays.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "coro.h"
#include "check.h"
#include "siblings.h"

static int fds[2];
static long siblings_done, siblings = 1000;
static pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static bool all_done, released;

static void *releaser(void *arg)
{
	struct timespec ts;
	int err = 0;

	(void)arg;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 60;
	pthread_mutex_lock(&mtx);
	while (!all_done && err != ETIMEDOUT)
		err = pthread_cond_timedwait(&cond, &mtx, &ts);
	released = true;
	pthread_mutex_unlock(&mtx);
	CHECK(write(fds[1], "x", 1) == 1);
	return NULL;
}

/* A plain read(), no wrapper: only activations let the siblings run. */
static void *reader(void *arg)
{
	char c = 0;

	CHECK(read(fds[0], &c, 1) == 1 && c == 'x');
	/* Its worker went to a spare meanwhile: back to a run queue. */
	coro_checkpoint();
	return arg;
}

/* Strict parallelism: how many siblings run at once, at most. */
static int running, most_running;

static void *sibling(void *arg)
{
	int i, n, m;
	volatile int spin;

	for (i = 0; i < 20; i++) {
		n = __atomic_add_fetch(&running, 1, __ATOMIC_RELAXED);
		m = __atomic_load_n(&most_running, __ATOMIC_RELAXED);
		while (n > m && !__atomic_compare_exchange_n(&most_running, &m,
				n, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			;
		for (spin = 0; spin < 1000; spin++)
			;
		__atomic_sub_fetch(&running, 1, __ATOMIC_RELAXED);
		coro_yield();
	}
	pthread_mutex_lock(&mtx);
	CHECK(!released);	/* the reader is still blocked */
	if (++siblings_done == siblings) {
		all_done = true;
		pthread_cond_signal(&cond);
	}
	pthread_mutex_unlock(&mtx);
	return arg;
}

static int siblings_test(int argc, char **argv)
{
	unsigned int workers = arg_workers(argc, argv, 1);
	struct coro_stats st;
	coro_sched_t *s;

	s = run_reader_and_siblings(argc, argv, 1, fds, &siblings, reader,
				    sibling, releaser, &st);
	CHECK(all_done);
	CHECK(most_running >= 1 && most_running <= (int)workers);
	/* (On more workers the others may steal every sibling.) */
	CHECK(workers > 1 || st.taken >= 1);
	printf("ok activations (%s, %u worker(s)): %ld siblings finished while "
	       "one coroutine sat in a plain read(), at most %d at once; "
	       "%llu worker(s) taken, %llu OS threads\n",
	       coro_sched_activations(s), workers, siblings, most_running,
	       (unsigned long long)st.taken, (unsigned long long)st.os_threads);
	coro_sched_destroy(s);
	return 0;
}

/* ---- Hand-off latency ------------------------------------------------- */

static long rounds;
static bool wrapper;
static uint64_t t_block, *lat;
static long round_no;		/* rounds A has started */
static pid_t a_tid;

static void *blocker(void *arg)
{
	char c;
	long i;

	(void)arg;
	for (i = 0; i < rounds; i++) {
		__atomic_store_n(&a_tid, gettid(), __ATOMIC_RELAXED);
		__atomic_store_n(&t_block, now_ns(), __ATOMIC_RELAXED);
		__atomic_store_n(&round_no, i + 1, __ATOMIC_RELEASE);
		if (wrapper)
			CHECK(coro_blocking_read(fds[0], &c, 1) == 1);
		else
			CHECK(read(fds[0], &c, 1) == 1);
		coro_checkpoint();
	}
	return NULL;
}

static void *waker(void *arg)
{
	long seen = 0, r;

	(void)arg;
	while (seen < rounds) {
		r = __atomic_load_n(&round_no, __ATOMIC_ACQUIRE);
		/* A is blocked (its thread is not ours) in round r. */
		if (r == seen || __atomic_load_n(&a_tid, __ATOMIC_RELAXED) ==
		    gettid()) {
			coro_yield();
			continue;
		}
		lat[seen++] = now_ns() - __atomic_load_n(&t_block,
							 __ATOMIC_RELAXED);
		CHECK(write(fds[1], "x", 1) == 1);
	}
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int handoff_bench(int argc, char **argv)
{
	struct coro_sched_attr a = { .workers = 1 };
	coro_sched_t *s;
	struct coro_stats st;

	rounds = argc > 2 ? strtol(argv[2], NULL, 0) : 1000;
	wrapper = argc > 3 && !strcmp(argv[3], "wrapper");
	CHECK(rounds > 0);
	lat = calloc((size_t)rounds, sizeof(*lat));
	CHECK(lat);
	s = coro_sched_create(&a);
	CHECK(s);
	CHECK(pipe(fds) == 0);
	CHECK(coro_detach(coro_create(s, blocker, NULL, 0)) == 0);
	CHECK(coro_detach(coro_create(s, waker, NULL, 0)) == 0);
	CHECK(coro_sched_run(s) == 0);
	coro_sched_stats(s, &st);
	qsort(lat, (size_t)rounds, sizeof(*lat), cmp_u64);
	printf("{\"mechanism\": \"%s\", \"rounds\": %ld, \"p50_us\": %.1f, "
	       "\"p99_us\": %.1f, \"max_us\": %.1f, \"handoffs\": %llu, "
	       "\"os_threads\": %llu}\n",
	       wrapper ? "wrapper" : coro_sched_activations(s), rounds,
	       lat[rounds / 2] / 1e3, lat[rounds * 99 / 100] / 1e3,
	       lat[rounds - 1] / 1e3, (unsigned long long)st.handoffs,
	       (unsigned long long)st.os_threads);
	coro_sched_destroy(s);
	free(lat);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "handoff"))
		return handoff_bench(argc, argv);
	return siblings_test(argc, argv);
}
