// SPDX-License-Identifier: GPL-2.0
/*
 * A coroutine that overflows its stack must be reported, by id and entry
 * function, and the process must abort.  Usage: t_overflow [guard|canary]
 * "guard" recurses into the guard page (SIGSEGV handler on the alternate
 * stack); "canary" is meant to run with CORO_MAX_GUARDS=0: it overwrites
 * the canary word just past the stack's end, returns, and yields, so the
 * check at the switch finds it.  Exits 0 only if nothing was caught.
 */
#include <string.h>

#include "coro.h"
#include "check.h"

static char *limit;

/* The deepest frame: a local array that reaches 512 bytes past the end. */
__attribute__((noinline)) static int smash(void)
{
	volatile char big[2048];

	memset((char *)big, 0x5a, sizeof(big));
	return big[5];
}

static int recurse(int depth)
{
	volatile char buf[200];

	memset((char *)buf, depth, sizeof(buf));
	if ((char *)buf < limit)
		return smash();
	return recurse(depth + 1) + buf[3];
}

/* Named in the report (the test is linked with -rdynamic). */
void *overflow_entry(void *arg)
{
	void *lo;
	size_t size;
	int guarded;

	coro_stack_info(coro_self(), &lo, &size, &guarded);
	if ((intptr_t)arg)
		CHECK(!guarded);
	/* Deep enough for smash() to write into the guard page (or over
	 * the canary) but not past it. */
	limit = (char *)lo + 1536;
	printf("recursing, guarded %d\n", guarded);
	fflush(stdout);
	recurse(0);
	coro_yield();
	return NULL;
}

static void *bystander(void *arg)
{
	coro_yield();
	coro_yield();
	return arg;
}

int main(int argc, char **argv)
{
	int canary = argc > 1 && !strcmp(argv[1], "canary");
	coro_sched_t *s = coro_sched_create(NULL);
	coro_t *a, *b;

	CHECK(a = coro_create(s, bystander, NULL, 16384));
	CHECK(b = coro_create(s, overflow_entry, (void *)(intptr_t)canary,
			      16384));
	coro_sched_run(s);
	coro_join(a, NULL);
	coro_join(b, NULL);
	printf("no overflow was caught\n");
	return 0;
}
