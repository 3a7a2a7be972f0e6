// SPDX-License-Identifier: GPL-2.0
/*
 * Memory comes back after a burst: N coroutines (default 1,000,000, 16
 * KiB stacks) live at once, then all end.  Resident memory must have
 * grown by at least a page a coroutine while they were live (so that the
 * check can fail) and, once they have ended, be back within the pool
 * cap's worth of stacks of where it started: CAP free stacks plus one
 * slab of at most 1024 (stack.c), each with its two-page gap and control
 * block, all resident at worst.  Usage: t_burst [N [CAP]]
 */
#include <unistd.h>

#include "coro.h"
#include "check.h"

#define STACK 16384

static long peak;

/* One worker, round robin: the first back from its yield sees all live. */
static void *one(void *arg)
{
	coro_yield();
	if (!peak)
		peak = rss_bytes();
	return arg;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 0) : 1000000;
	long cap = argc > 2 ? strtol(argv[2], NULL, 0) : 4096;
	long page = sysconf(_SC_PAGESIZE), rss0, rss1, bound, i;
	long per = STACK + 2 * page + 512;
	coro_sched_t *s;

	coro_set_pool_cap((size_t)cap);
	s = coro_sched_create(&(struct coro_sched_attr){ .stack_size = STACK });
	CHECK(s);
	rss0 = rss_bytes();
	for (i = 0; i < n; i++) {
		coro_t *c = coro_create(s, one, NULL, 0);

		CHECK(c);
		CHECK(coro_detach(c) == 0);
	}
	CHECK(coro_sched_run(s) == 0);
	coro_sched_destroy(s);
	rss1 = rss_bytes();
	bound = (cap + 1024) * per;
	printf("rss %ld KiB before, %ld KiB with %ld coroutines live, %ld KiB "
	       "after they ended; bound %ld KiB (pool cap %ld)\n",
	       rss0 >> 10, peak >> 10, n, rss1 >> 10, bound >> 10, cap);
	CHECK(peak - rss0 >= n * page);
	CHECK(rss1 - rss0 <= bound);
	printf("ok memory comes back after a burst of %ld coroutines\n", n);
	return 0;
}
