// SPDX-License-Identifier: GPL-2.0
/*
 * bench_signal: what per-coroutine signal masks cost (issue 22, part 2).
 * The Solaris notes make the frequent operation, a mask change, cheap
 * and the rare one, a delivery, dearer.  Printed, best of ROUNDS rounds,
 * ns per operation:
 *   coro_sigmask       SIG_BLOCK then SIG_UNBLOCK of SIGUSR1, in a
 *                      coroutine, per call
 *   pthread_sigmask    the same on a plain thread, per call
 *   delivery, case 1..4 a SIGUSR1 raised to the coroutine's own OS thread
 *                      (pthread_kill) until its handler has run, per
 *                      signal: 1 the raiser takes it; 2 a runnable
 *                      coroutine of the same worker, at the raiser's
 *                      yield; 3 a coroutine running on the other worker;
 *                      4 nobody, then the raiser's unmask (and mask again)
 *   plain              the same raise on a plain thread with a plain
 *                      sigaction handler, for scale
 *   yield pair         two coro_yield()s between two coroutines (case 2
 *                      pays one such pair per signal)
 * Usage: bench_signal [ITERATIONS]   (default 1000000; deliveries /20)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "coro.h"

#define ROUNDS 5

static long n_mask, n_sig;
static volatile int count;
static int stop;
static double result;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void on_sig(int sig)
{
	(void)sig;
	__atomic_add_fetch(&count, 1, __ATOMIC_RELAXED);
}

static sigset_t usr1;

static void set_mask(int masked)
{
	coro_sigmask(masked ? SIG_BLOCK : SIG_UNBLOCK, &usr1, NULL);
}

/* ---- mask changes ---- */

static void *coro_mask_loop(void *arg)
{
	double t0 = now_ns();
	long i;

	(void)arg;
	for (i = 0; i < n_mask; i++) {
		coro_sigmask(SIG_BLOCK, &usr1, NULL);
		coro_sigmask(SIG_UNBLOCK, &usr1, NULL);
	}
	result = (now_ns() - t0) / (2.0 * n_mask);
	return NULL;
}

static double pthread_mask_loop(void)
{
	double t0 = now_ns();
	long i, n = n_mask / 10;

	for (i = 0; i < n; i++) {
		pthread_sigmask(SIG_BLOCK, &usr1, NULL);
		pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
	}
	return (now_ns() - t0) / (2.0 * n);
}

/* ---- deliveries ---- */

static void raise_self(void)
{
	pthread_kill(pthread_self(), SIGUSR1);
}

static void wait_for(int c)
{
	while (__atomic_load_n(&count, __ATOMIC_RELAXED) < c)
		coro_yield();
}

/* A partner that yields until told to stop, with the given mask. */
static void *partner(void *arg)
{
	set_mask(arg != NULL);
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE))
		coro_yield();
	return NULL;
}

static void *case1(void *arg)
{
	double t0 = now_ns();
	long i;

	(void)arg;
	set_mask(0);
	for (i = 0; i < n_sig; i++)
		raise_self();
	result = (now_ns() - t0) / n_sig;
	return NULL;
}

static void *case2(void *arg)
{
	double t0;
	long i;

	(void)arg;
	coro_yield();		/* the partner sets its mask */
	set_mask(1);
	count = 0;
	t0 = now_ns();
	for (i = 0; i < n_sig; i++) {
		raise_self();	/* held */
		coro_yield();	/* to the partner, which takes it */
		wait_for((int)i + 1);
	}
	result = (now_ns() - t0) / n_sig;
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *yield_pairs(void *arg)
{
	double t0;
	long i;

	(void)arg;
	coro_yield();
	t0 = now_ns();
	for (i = 0; i < n_sig; i++)
		coro_yield();
	result = (now_ns() - t0) / n_sig;
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *case3(void *arg)
{
	double t0;
	long i;

	(void)arg;
	while (coro_worker_id() == 0)	/* the partner holds worker 0 */
		coro_yield();
	set_mask(1);
	count = 0;
	t0 = now_ns();
	for (i = 0; i < n_sig; i++) {
		raise_self();
		wait_for((int)i + 1);
	}
	result = (now_ns() - t0) / n_sig;
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *case4(void *arg)
{
	double t0;
	long i;

	(void)arg;
	set_mask(1);
	count = 0;
	t0 = now_ns();
	for (i = 0; i < n_sig; i++) {
		raise_self();	/* held */
		coro_yield();	/* routed: nobody; pending in the kernel */
		set_mask(0);	/* delivered here */
		set_mask(1);
	}
	result = (now_ns() - t0) / n_sig;
	if (count != n_sig)
		fprintf(stderr, "case 4: %d of %ld delivered\n", count, n_sig);
	return NULL;
}

/* Run main_fn (and a partner: NULL none, else its mask) on w workers. */
static double run(unsigned int w, void *(*main_fn)(void *), int partner_mask)
{
	struct coro_sched_attr a = { .workers = w, .activations = "off" };
	coro_sched_t *s = coro_sched_create(&a);

	if (!s) {
		perror("coro_sched_create");
		exit(1);
	}
	stop = 0;
	if (partner_mask >= 0)
		coro_create(s, partner, partner_mask ? (void *)1 : NULL, 0);
	coro_create(s, main_fn, NULL, 0);
	coro_sched_run(s);
	coro_sched_destroy(s);
	return result;
}

static void plain_handler(int sig)
{
	(void)sig;
	count++;
}

static double plain(void)
{
	struct sigaction sa = { .sa_handler = plain_handler };
	double t0;
	long i;

	sigaction(SIGUSR1, &sa, NULL);
	t0 = now_ns();
	for (i = 0; i < n_sig; i++)
		raise_self();
	return (now_ns() - t0) / n_sig;
}

static void best(double *b, double v)
{
	if (*b == 0 || v < *b)
		*b = v;
}

int main(int argc, char **argv)
{
	double cm = 0, pm = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0, pl = 0, yp = 0;
	int r;

	n_mask = argc > 1 ? atol(argv[1]) : 1000000;
	n_sig = n_mask / 20 > 0 ? n_mask / 20 : 1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	for (r = 0; r < ROUNDS; r++) {
		best(&pm, pthread_mask_loop());
		best(&cm, run(1, coro_mask_loop, -1));
		best(&pl, plain());
		coro_signal(SIGUSR1, on_sig);
		best(&c1, run(1, case1, -1));
		best(&c2, run(1, case2, 0));
		best(&yp, run(1, yield_pairs, 0));
		best(&c3, run(2, case3, 0));
		best(&c4, run(1, case4, -1));
	}
	printf("coro_sigmask_ns %.2f\npthread_sigmask_ns %.2f\n"
	       "mask_ratio %.1f\n", cm, pm, pm / cm);
	printf("delivery_plain_ns %.0f\ndelivery_case1_ns %.0f\n"
	       "delivery_case2_ns %.0f\nyield_pair_ns %.0f\n"
	       "delivery_case3_ns %.0f\ndelivery_case4_ns %.0f\n",
	       pl, c1, c2, yp, c3, c4);
	return 0;
}
