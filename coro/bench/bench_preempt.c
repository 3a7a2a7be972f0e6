// SPDX-License-Identifier: GPL-2.0
/*
 * bench_preempt: preemption latency across workers (issue 22, part 1),
 * from a coroutine becoming runnable to its running, on two workers.
 * W (priority 1) on one worker posts a semaphore that H (priority 2)
 * waits on, reading the clock just before the post; H reads it first
 * thing when it runs.  On the other worker:
 *   async        L (priority 0) spins without yielding: H gets L's
 *                worker by the directed signal, the handler switching
 *                at once (L is in the program's own code)
 *   checkpoint   L calls coro_checkpoint() in its spin: the handler only
 *                marks, and the switch waits for the checkpoint
 *   idle         no L: the worker sleeps in the kernel and is woken
 *                (the cost without preemption, for scale)
 * W spins (no yield) until H has run, so H can only run on the other
 * worker, and before the next post until H waits again and L is back in
 * its loop (L counts its laps).  Printed per mode: samples, p50, p99, mean in ns, and how many
 * times H ran on L's worker.
 * Usage: bench_preempt [SAMPLES]   (default 2000)
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coro.h"

enum mode { M_ASYNC, M_CHECKPOINT, M_IDLE };
static const char *const names[] = { "async", "checkpoint", "idle" };

static enum mode mode;
static long samples;
static uint64_t *lat;
static coro_sem_t sem = CORO_SEM_INITIALIZER(0);
static uint64_t t_post, t_ran;
static int done, stop, l_started, l_worker, on_l;
static unsigned long l_laps;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int load(const int *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void *h_fn(void *arg)
{
	(void)arg;
	for (;;) {
		coro_sem_wait(&sem);
		if (load(&stop))
			return NULL;
		__atomic_store_n(&t_ran, now_ns(), __ATOMIC_RELAXED);
		if (coro_worker_id() == __atomic_load_n(&l_worker, __ATOMIC_RELAXED))
			on_l++;
		__atomic_store_n(&done, 1, __ATOMIC_RELEASE);
	}
}

static void *l_fn(void *arg)
{
	(void)arg;
	__atomic_store_n(&l_worker, coro_worker_id(), __ATOMIC_RELAXED);
	__atomic_store_n(&l_started, 1, __ATOMIC_RELEASE);
	if (mode == M_CHECKPOINT) {
		while (!load(&stop)) {
			coro_checkpoint();
			__atomic_store_n(&l_laps, l_laps + 1, __ATOMIC_RELAXED);
		}
	} else {
		while (!load(&stop))
			__atomic_store_n(&l_laps, l_laps + 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void *w_fn(void *arg)
{
	coro_t *h, *l;
	long i;

	(void)arg;
	h = coro_create(NULL, h_fn, NULL, 0);	/* to the idle worker */
	coro_setprio(h, 2);
	while (!__atomic_load_n(&sem.wq.head, __ATOMIC_ACQUIRE))
		;
	if (mode != M_IDLE) {
		coro_setprio(NULL, 0);		/* L takes 0 from W */
		l = coro_create(NULL, l_fn, NULL, 0);
		coro_detach(l);
		coro_setprio(NULL, 1);
		while (!load(&l_started))
			;
	}
	for (i = 0; i < samples; i++) {
		__atomic_store_n(&done, 0, __ATOMIC_RELAXED);
		t_post = now_ns();
		coro_sem_post(&sem);
		while (!load(&done))
			;
		lat[i] = __atomic_load_n(&t_ran, __ATOMIC_RELAXED) - t_post;
		/* H parks again before the next post (its wait queue), and L
		 * is back in its loop (it counts laps), out of the library. */
		while (!__atomic_load_n(&sem.wq.head, __ATOMIC_ACQUIRE))
			;
		if (mode != M_IDLE) {
			unsigned long laps = __atomic_load_n(&l_laps, __ATOMIC_RELAXED);

			while (__atomic_load_n(&l_laps, __ATOMIC_RELAXED) - laps < 2)
				;
		}
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	coro_sem_post(&sem);
	coro_join(h, NULL);
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void run(enum mode m)
{
	struct coro_sched_attr a = { .workers = 2 };
	coro_sched_t *s = coro_sched_create(&a);
	coro_t *w;
	double sum = 0;
	long i;

	if (!s) {
		perror("coro_sched_create");
		exit(1);
	}
	mode = m;
	done = stop = l_started = on_l = 0;
	l_worker = -1;
	w = coro_create(s, w_fn, NULL, 0);
	coro_setprio(w, 1);
	coro_sched_run(s);
	coro_join(w, NULL);
	coro_sched_destroy(s);
	qsort(lat, (size_t)samples, sizeof(*lat), cmp);
	for (i = 0; i < samples; i++)
		sum += (double)lat[i];
	printf("%-11s %8ld %10llu %10llu %10.0f %8d\n", names[m], samples,
	       (unsigned long long)lat[samples / 2],
	       (unsigned long long)lat[samples * 99 / 100], sum / samples,
	       m == M_IDLE ? 0 : on_l);
}

int main(int argc, char **argv)
{
	if (argc > 2 || (argc == 2 && (!strcmp(argv[1], "--help") ||
				      atol(argv[1]) < 1))) {
		fprintf(stderr, "usage: bench_preempt [SAMPLES]\n");
		return argc == 2 && !strcmp(argv[1], "--help") ? 0 : 2;
	}
	samples = argc > 1 ? atol(argv[1]) : 2000;
	lat = calloc((size_t)samples, sizeof(*lat));
	if (!lat)
		return 1;
	printf("%-11s %8s %10s %10s %10s %8s\n", "mode", "samples", "p50_ns",
	       "p99_ns", "mean_ns", "on_L");
	run(M_ASYNC);
	run(M_CHECKPOINT);
	run(M_IDLE);
	free(lat);
	return 0;
}
