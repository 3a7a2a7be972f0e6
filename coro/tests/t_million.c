// SPDX-License-Identifier: GPL-2.0
/*
 * N coroutines alive at once (default 1,000,000, 16 KiB stacks, lazily
 * committed): all are created, each yields so that all of them exist
 * together, then each checks that all have started and ends.  Prints the
 * resident bytes per coroutine and how many stacks got guard pages.
 * Usage: t_million [N [STACK]]
 */
#include <string.h>
#include <unistd.h>

#include "coro.h"
#include "check.h"

static long started, finished;
static long n;

static void *one(void *arg)
{
	__atomic_add_fetch(&started, 1, __ATOMIC_RELAXED);
	coro_yield();
	/* Round robin: every coroutine ran once before anyone runs twice. */
	CHECK_EQ(__atomic_load_n(&started, __ATOMIC_RELAXED), n);
	__atomic_add_fetch(&finished, 1, __ATOMIC_RELAXED);
	return arg;
}

int main(int argc, char **argv)
{
	size_t stack = argc > 2 ? strtoul(argv[2], NULL, 0) : 16384;
	coro_sched_t *s;
	uint64_t guarded, canary, t0;
	long rss0, rss1, i;

	n = argc > 1 ? strtol(argv[1], NULL, 0) : 1000000;
	s = coro_sched_create(&(struct coro_sched_attr){ .stack_size = stack });
	CHECK(s);
	rss0 = rss_bytes();
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		coro_t *c = coro_create(s, one, NULL, 0);

		CHECK(c);
		CHECK(coro_detach(c) == 0);
	}
	rss1 = rss_bytes();
	CHECK(coro_sched_run(s) == 0);
	CHECK_EQ(finished, n);
	coro_stack_counts(&guarded, &canary);
	printf("ok %ld live coroutines with %zu-byte stacks in %.2f s; "
	       "%.0f bytes resident each after creation; "
	       "%llu guard pages, %llu canaries (guards by %s)\n", n, stack,
	       (now_ns() - t0) / 1e9, (double)(rss1 - rss0) / (double)n,
	       (unsigned long long)guarded, (unsigned long long)canary,
	       coro_stack_mode());
	coro_sched_destroy(s);
	return 0;
}
