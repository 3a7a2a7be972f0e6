// SPDX-License-Identifier: GPL-2.0
/*
 * Coroutine life: creation, yield order, return values through join,
 * join from inside and outside, detach, coroutines creating coroutines,
 * stack reuse, stack colouring.  Usage: t_basic [WORKERS]
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "coro.h"
#include "check.h"

static int order[64], norder;

static void *recorder(void *arg)
{
	int id = (int)(intptr_t)arg, i;

	for (i = 0; i < 3; i++) {
		order[__atomic_fetch_add(&norder, 1, __ATOMIC_RELAXED)] = id;
		coro_yield();
	}
	return (void *)(intptr_t)(id * 10);
}

/* One worker: round robin, in creation order. */
static void test_yield_order(void)
{
	coro_sched_t *s = coro_sched_create(NULL);
	coro_t *c[3];
	void *ret;
	int i;

	norder = 0;
	for (i = 0; i < 3; i++)
		CHECK(c[i] = coro_create(s, recorder, (void *)(intptr_t)i, 0));
	CHECK(coro_join(c[0], NULL) == EBUSY);
	CHECK(coro_sched_run(s) == 0);
	CHECK_EQ(norder, 9);
	for (i = 0; i < 9; i++)
		CHECK_EQ(order[i], i % 3);
	for (i = 0; i < 3; i++) {
		CHECK(coro_join(c[i], &ret) == 0);
		CHECK_EQ((intptr_t)ret, i * 10);
	}
	coro_sched_destroy(s);
	printf("ok yield runs coroutines round robin in creation order\n");
}

static void *square(void *arg)
{
	intptr_t v = (intptr_t)arg;

	coro_yield();
	return (void *)(v * v);
}

static long fanout_sum;

/* A coroutine that creates and joins children, some of them detached. */
static void *parent(void *arg)
{
	int n = (int)(intptr_t)arg, i;
	coro_t *kids[100];
	void *ret;
	long sum = 0;

	CHECK(coro_self() != NULL);
	CHECK(coro_join(coro_self(), NULL) == EDEADLK);
	for (i = 0; i < n; i++)
		CHECK(kids[i] = coro_create(NULL, square, (void *)(intptr_t)i,
					    16384));
	for (i = 0; i < n; i++) {
		if (i % 10 == 9) {
			CHECK(coro_detach(kids[i]) == 0);
			continue;
		}
		CHECK(coro_join(kids[i], &ret) == 0);
		sum += (long)(intptr_t)ret;
	}
	__atomic_fetch_add(&fanout_sum, sum, __ATOMIC_RELAXED);
	return NULL;
}

static void test_fanout(unsigned int workers)
{
	struct coro_sched_attr a = { .workers = workers };
	coro_sched_t *s = coro_sched_create(&a);
	coro_t *p[8];
	long want = 0;
	int i, k;

	fanout_sum = 0;
	for (i = 0; i < 8; i++)
		CHECK(p[i] = coro_create(s, parent, (void *)(intptr_t)100, 0));
	CHECK(coro_sched_run(s) == 0);
	for (i = 0; i < 8; i++)
		CHECK(coro_join(p[i], NULL) == 0);
	for (k = 0; k < 100; k++)
		if (k % 10 != 9)
			want += (long)k * k;
	CHECK_EQ(fanout_sum, 8 * want);
	coro_sched_destroy(s);
	printf("ok coroutines create, join and detach children (%u workers)\n",
	       workers);
}

static void *nothing(void *arg)
{
	return arg;
}

/* Death row: a joined coroutine's stack serves the next creation. */
static void test_reuse(void)
{
	coro_sched_t *s = coro_sched_create(NULL);
	struct coro_stats st;
	coro_t *c;
	int i;

	for (i = 0; i < 1000; i++) {
		CHECK(c = coro_create(s, nothing, NULL, 0));
		CHECK(coro_sched_run(s) == 0);
		CHECK(coro_join(c, NULL) == 0);
	}
	coro_sched_stats(s, &st);
	CHECK_EQ(st.created, 1000);
	CHECK(st.reused >= 999);
	coro_sched_destroy(s);
	printf("ok exited coroutines' stacks are reused\n");
}

static void test_errors(void)
{
	coro_sched_t *s = coro_sched_create(NULL);
	coro_t *c;

	CHECK(coro_self() == NULL);
	CHECK(coro_create(NULL, nothing, NULL, 0) == NULL && errno == EINVAL);
	CHECK(c = coro_create(s, nothing, NULL, 0));
	CHECK(coro_detach(c) == 0);
	CHECK(coro_join(c, NULL) == EINVAL);
	CHECK(coro_sched_run(s) == 0);
	coro_sched_destroy(s);
	printf("ok join of a detached coroutine fails with EINVAL\n");
}

/* Where in its page each coroutine's first frames lie. */
static unsigned int frame_line[32];

static void *frame_recorder(void *arg)
{
	volatile char here;

	frame_line[(intptr_t)arg] = (unsigned int)((uintptr_t)&here % 4096 / 64);
	return NULL;
}

/*
 * Stack colouring: page-aligned stacks put every coroutine's top frames
 * at one offset in a page, so in the same L1 sets; libcoro starts each a
 * different number of cache lines down (stack.h: 32 colours).
 */
static void test_colouring(void)
{
	coro_sched_t *s = coro_sched_create(NULL);
	bool seen[64] = { false };
	int i, distinct = 0;

	for (i = 0; i < 32; i++)
		CHECK(coro_create(s, frame_recorder, (void *)(intptr_t)i, 0));
	CHECK(coro_sched_run(s) == 0);
	coro_sched_destroy(s);
	for (i = 0; i < 32; i++) {
		distinct += !seen[frame_line[i]];
		seen[frame_line[i]] = true;
	}
	CHECK(distinct >= 16);
	printf("ok 32 coroutines' first frames lie in %d different lines of a page\n",
	       distinct);
}

int main(int argc, char **argv)
{
	unsigned int workers = arg_workers(argc, argv, 1);

	if (workers == 1) {
		test_yield_order();
		test_reuse();
		test_errors();
		test_colouring();
	}
	test_fanout(workers);
	return 0;
}
