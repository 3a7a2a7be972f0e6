// SPDX-License-Identifier: GPL-2.0
/*
 * The numbers behind coro's claims, on this machine, as "name value"
 * lines for run.sh to tabulate (best of 5 rounds where it is a loop):
 *
 *   coro_switch_ns      the bare switch (arch/), two contexts round robin
 *   boost_fcontext_switch_ns  Boost.Context's jump_fcontext on the same
 *                       loop, rounds interleaved with coro's (when built
 *                       with HAVE_BOOST_CONTEXT and -lboost_context)
 *   coro_yield_ns       coro_yield() between two coroutines, one worker
 *   ucontext_switch_ns  glibc swapcontext() on the same loop
 *   coro_create_join_ns coro_create + coro_join from a coroutine
 *   pthread_create_join_ns  pthread_create + pthread_join
 *   coro_idle_rss_bytes resident bytes per parked coroutine (RSS delta / N)
 *   coro_yields_per_s_1w, _2w  yield throughput on 1 and 2 workers
 *   coro_yields_per_cpu_s_1w, _2w  the same per second of CPU time
 */
#define _GNU_SOURCE
#include <fenv.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "coro.h"
#include "context.h"
#include "../tests/rss.h"

#define ROUNDS 5

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/*
 * ---- the bare switch, and Boost.Context's beside it ----
 * One loop shape for both: two contexts on 64 KiB static stacks hand
 * control back and forth.  Rounds of the two alternate in one process,
 * so that both see the same moments of a shared machine and the same
 * main-stack placement; each keeps its best round.
 */
static struct coro_ctx main_ctx, partner_ctx;

/* MXCSR's sticky inexact flag (and the x87 one) raised or cleared. */
static void set_inexact(int on)
{
	feclearexcept(FE_ALL_EXCEPT);
	if (on)
		feraiseexcept(FE_INEXACT);
}

static void partner(void *val, void *arg)
{
	(void)arg;
	for (;;)
		val = coro_ctx_swap(&partner_ctx, &main_ctx, val);
}

static double round_switch(long n)
{
	double t0 = now_ns();

	for (long i = 0; i < n; i++)
		coro_ctx_swap(&main_ctx, &partner_ctx, NULL);
	return (now_ns() - t0) / (2.0 * n);
}

#ifdef HAVE_BOOST_CONTEXT
/* libboost_context's C entry points (boost/context/detail/fcontext.hpp). */
typedef void *fcontext_t;
typedef struct { fcontext_t fctx; void *data; } transfer_t;
transfer_t jump_fcontext(fcontext_t const to, void *vp);
fcontext_t make_fcontext(void *sp, size_t size, void (*fn)(transfer_t));

static fcontext_t boost_ctx;

static void boost_partner(transfer_t t)
{
	for (;;)
		t = jump_fcontext(t.fctx, NULL);
}

static double round_boost(long n)
{
	double t0 = now_ns();

	for (long i = 0; i < n; i++)
		boost_ctx = jump_fcontext(boost_ctx, NULL).fctx;
	return (now_ns() - t0) / (2.0 * n);
}
#endif

/*
 * Best ns per switch of coro's and, if built with it, Boost's.  inexact:
 * run each round with MXCSR's inexact flag raised in the main context
 * (as after any rounding arithmetic) while the partner was made with it
 * clear; otherwise clear it before each round.
 */
static void bench_switch(long n, int inexact, double *coro, double *boost)
{
	static char stack[64 * 1024] __attribute__((aligned(64)));
	static char bstack[64 * 1024] __attribute__((aligned(64)));
	double ns;
	int r;

	coro_ctx_init(&partner_ctx, stack, stack + sizeof(stack), partner, NULL);
	*coro = *boost = 1e30;
	(void)bstack;
#ifdef HAVE_BOOST_CONTEXT
	boost_ctx = make_fcontext(bstack + sizeof(bstack), sizeof(bstack),
				  boost_partner);
#endif
	for (r = 0; r < ROUNDS; r++) {
		set_inexact(inexact);
		ns = round_switch(n);
		*coro = ns < *coro ? ns : *coro;
#ifdef HAVE_BOOST_CONTEXT
		set_inexact(inexact);
		ns = round_boost(n);
		*boost = ns < *boost ? ns : *boost;
#endif
	}
}

static void print_switch(long n)
{
	double coro, boost;

	bench_switch(n, 0, &coro, &boost);
	printf("coro_switch_ns %.2f\n", coro);
	if (boost < 1e30)
		printf("boost_fcontext_switch_ns %.2f\n", boost);
	bench_switch(n / 4, 1, &coro, &boost);
	printf("coro_switch_inexact_ns %.2f\n", coro);
	if (boost < 1e30)
		printf("boost_fcontext_switch_inexact_ns %.2f\n", boost);
}

/* ---- swapcontext ---- */
static ucontext_t uc_main, uc_partner;

static void uc_loop(void)
{
	for (;;)
		swapcontext(&uc_partner, &uc_main);
}

static double bench_ucontext(long n)
{
	static char stack[64 * 1024] __attribute__((aligned(16)));
	/* volatile: swapcontext returns twice, as setjmp does. */
	volatile double best = 1e30;
	double t0, ns;
	int r;

	getcontext(&uc_partner);
	uc_partner.uc_stack.ss_sp = stack;
	uc_partner.uc_stack.ss_size = sizeof(stack);
	makecontext(&uc_partner, uc_loop, 0);
	for (r = 0; r < ROUNDS; r++) {
		t0 = now_ns();
		for (long i = 0; i < n; i++)
			swapcontext(&uc_main, &uc_partner);
		ns = (now_ns() - t0) / (2.0 * n);
		best = ns < best ? ns : best;
	}
	return best;
}

/* ---- coro_yield between two coroutines ---- */
static long yield_n;

static void *yielder(void *arg)
{
	for (long i = 0; i < yield_n; i++)
		coro_yield();
	return arg;
}

static double cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double last_cpu_ns;

/* k coroutines yielding n times each on w workers: elapsed ns (and the
 * process CPU time it took in last_cpu_ns). */
static double run_yielders(unsigned int w, int k, long n)
{
	struct coro_sched_attr a = { .workers = w };
	coro_sched_t *s = coro_sched_create(&a);
	double t0, c0;
	int i;

	yield_n = n;
	for (i = 0; i < k; i++)
		coro_detach(coro_create(s, yielder, NULL, 0));
	c0 = cpu_ns();
	t0 = now_ns();
	coro_sched_run(s);
	t0 = now_ns() - t0;
	last_cpu_ns = cpu_ns() - c0;
	coro_sched_destroy(s);
	return t0;
}

static double bench_yield(long n)
{
	double best = 1e30, ns;
	int r;

	for (r = 0; r < ROUNDS; r++) {
		ns = run_yielders(1, 2, n) / (2.0 * n);
		best = ns < best ? ns : best;
	}
	return best;
}

/*
 * Yields per second of wall time, and (in *per_cpu) per second of CPU
 * time: on a machine whose CPUs are busy with other work, the second
 * shows what the workers cost without what they waited for.
 */
static double bench_yield_rate(unsigned int w, long n, double *per_cpu)
{
	double best = 0, best_cpu = 0, rate;
	int r;

	for (r = 0; r < ROUNDS; r++) {
		rate = 16.0 * n / (run_yielders(w, 16, n) / 1e9);
		best = rate > best ? rate : best;
		rate = 16.0 * n / (last_cpu_ns / 1e9);
		best_cpu = rate > best_cpu ? rate : best_cpu;
	}
	*per_cpu = best_cpu;
	return best;
}

/* ---- create + join ---- */
static long cj_n;
static double cj_ns;

static void *nothing(void *arg)
{
	return arg;
}

static void *creator(void *arg)
{
	double t0 = now_ns();

	for (long i = 0; i < cj_n; i++)
		coro_join(coro_create(NULL, nothing, NULL, 0), NULL);
	cj_ns = (now_ns() - t0) / cj_n;
	return arg;
}

static double bench_create_join(long n)
{
	double best = 1e30;
	int r;

	cj_n = n;
	for (r = 0; r < ROUNDS; r++) {
		coro_sched_t *s = coro_sched_create(NULL);

		coro_detach(coro_create(s, creator, NULL, 0));
		coro_sched_run(s);
		coro_sched_destroy(s);
		best = cj_ns < best ? cj_ns : best;
	}
	return best;
}

static void *thread_nothing(void *arg)
{
	return arg;
}

static double bench_pthread_create_join(long n)
{
	double best = 1e30, t0, ns;
	pthread_t t;
	int r;

	for (r = 0; r < ROUNDS; r++) {
		t0 = now_ns();
		for (long i = 0; i < n; i++) {
			pthread_create(&t, NULL, thread_nothing, NULL);
			pthread_join(t, NULL);
		}
		ns = (now_ns() - t0) / n;
		best = ns < best ? ns : best;
	}
	return best;
}

/* ---- resident bytes per idle coroutine ---- */
static coro_sem_t idle_gate;
static long idle_parked;

static void *idler(void *arg)
{
	__atomic_add_fetch(&idle_parked, 1, __ATOMIC_RELAXED);
	coro_sem_wait(&idle_gate);
	return arg;
}

static long idle_n, idle_rss0;
static double idle_bytes;

static void *idle_boss(void *arg)
{
	long i;

	idle_rss0 = rss_bytes();
	for (i = 0; i < idle_n; i++)
		coro_detach(coro_create(NULL, idler, NULL, 0));
	while (__atomic_load_n(&idle_parked, __ATOMIC_RELAXED) < idle_n)
		coro_yield();
	idle_bytes = (double)(rss_bytes() - idle_rss0) / idle_n;
	for (i = 0; i < idle_n; i++)
		coro_sem_post(&idle_gate);
	return arg;
}

static double bench_idle_rss(long n)
{
	coro_sched_t *s = coro_sched_create(NULL);

	idle_n = n;
	coro_sem_init(&idle_gate, 0);
	coro_detach(coro_create(s, idle_boss, NULL, 0));
	coro_sched_run(s);
	coro_sched_destroy(s);
	return idle_bytes;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 10000000;
	double cpu;

	/* "bench_coro N switch": only the bare switches, for repeating. */
	if (argc > 2 && !strcmp(argv[2], "switch")) {
		print_switch(n);
		return 0;
	}

	print_switch(n);
	printf("coro_yield_ns %.2f\n", bench_yield(n / 2));
	printf("ucontext_switch_ns %.2f\n", bench_ucontext(n / 10));
	printf("coro_create_join_ns %.1f\n", bench_create_join(n / 10));
	printf("pthread_create_join_ns %.1f\n", bench_pthread_create_join(20000));
	printf("coro_idle_rss_bytes %.0f\n", bench_idle_rss(10000));
	printf("coro_yields_per_s_1w %.0f\n", bench_yield_rate(1, n / 20, &cpu));
	printf("coro_yields_per_cpu_s_1w %.0f\n", cpu);
	printf("coro_yields_per_s_2w %.0f\n", bench_yield_rate(2, n / 20, &cpu));
	printf("coro_yields_per_cpu_s_2w %.0f\n", cpu);
	return 0;
}
