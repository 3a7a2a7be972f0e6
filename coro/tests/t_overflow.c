// SPDX-License-Identifier: GPL-2.0
/*
 * A coroutine whose frame is larger than a page overflows its stack
 * between two live neighbours.  It must be reported, by id and entry
 * function, before either neighbour's saved state is touched, and the
 * process must abort.  Usage: t_overflow [guard|canary [WORKERS]]
 *
 * Three coroutines are made one after the other, so their stacks are
 * neighbours in a slab.  The outer two park on semaphores of their own
 * (their contexts saved, their control blocks still); the middle one
 * recurses to about 1 KiB above its stack's end and calls a function
 * with a 6 KiB frame that writes its lowest byte: past a one-page guard,
 * within the library's gap.  "guard" expects the guard to catch the
 * frame's page probes (-fstack-clash-protection); "canary" (run with
 * CORO_GUARD=canary) expects the switch after it to find the canary gap
 * changed.  A SIGABRT handler then checksums the neighbours' control
 * blocks and stacks again and says whether they are as they were.
 * Exits 0 only if nothing was caught.
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "check.h"

#define FRAME 6144

static struct coro *co[3];
static coro_sem_t wake[3];
static uint64_t sum_before[3];
static char *limit;

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n--)
		h = (h ^ *b++) * 0x100000001b3ULL;
	return h;
}

/* A neighbour's control block and whole stack, async-signal-safe. */
static uint64_t neighbour_sum(struct coro *c)
{
	uint64_t h = fnv(0xcbf29ce484222325ULL, c, sizeof(*c));

	return fnv(h, c->stack_lo, (size_t)(c->stack_hi - c->stack_lo));
}

static void on_abort(int sig)
{
	static const char same[] = "neighbours untouched at the report\n";
	static const char diff[] = "a neighbour changed before the report\n";
	int ok = neighbour_sum(co[0]) == sum_before[0] &&
		 neighbour_sum(co[2]) == sum_before[2];

	(void)sig;
	(void)!write(STDOUT_FILENO, ok ? same : diff,
		     ok ? sizeof(same) - 1 : sizeof(diff) - 1);
	/* Returning lets abort() finish with the default action. */
}

/* Parked for good, context saved: nobody writes its state now. */
static int saved(struct coro *c)
{
	return coro_get_state(c) == CORO_PARKED &&
	       !__atomic_load_n(&c->on_lwp, __ATOMIC_ACQUIRE);
}

static void *neighbour(void *arg)
{
	coro_sem_wait(&wake[(intptr_t)arg]);
	return arg;
}

/* The large frame: its lowest byte lies about 5 KiB below the stack. */
__attribute__((noinline)) static int large_frame(void)
{
	volatile char big[FRAME];

	big[0] = 0x5a;
	return big[0] + big[FRAME - 1];
}

static int recurse(int depth)
{
	volatile char buf[200];

	memset((char *)buf, depth, sizeof(buf));
	if ((char *)buf < limit)
		return large_frame();
	return recurse(depth + 1) + buf[3];
}

/* Named in the report (the test is linked with -rdynamic). */
void *overflow_entry(void *arg)
{
	struct coro *self = coro_self();

	while (!saved(co[0]) || !saved(co[2]))
		coro_yield();
	sum_before[0] = neighbour_sum(co[0]);
	sum_before[2] = neighbour_sum(co[2]);
	printf("overflowing between coroutines %llu and %llu, guarded %d\n",
	       (unsigned long long)co[0]->id, (unsigned long long)co[2]->id,
	       self->guard != NULL);
	fflush(stdout);
	limit = self->stack_lo + 1024;
	recurse(0);
	coro_yield();
	coro_sem_post(&wake[0]);
	coro_sem_post(&wake[2]);
	return arg;
}

int main(int argc, char **argv)
{
	int canary = argc > 1 && !strcmp(argv[1], "canary");
	struct coro_sched_attr attr = {
		.workers = argc > 2 ? (unsigned int)atoi(argv[2]) : 1,
	};
	coro_sched_t *s = coro_sched_create(&attr);
	int i;

	CHECK(s);
	signal(SIGABRT, on_abort);
	for (i = 0; i < 3; i++)
		coro_sem_init(&wake[i], 0);
	CHECK(co[0] = coro_create(s, neighbour, (void *)0, 16384));
	CHECK(co[1] = coro_create(s, overflow_entry, NULL, 16384));
	CHECK(co[2] = coro_create(s, neighbour, (void *)2, 16384));
	CHECK((co[1]->guard != NULL) == !canary);
	coro_sched_run(s);
	for (i = 0; i < 3; i++)
		coro_join(co[i], NULL);
	printf("no overflow was caught\n");
	return 0;
}
