// SPDX-License-Identifier: GPL-2.0
/*
 * Workers bound to CPUs (coro_sched_attr.cpus) within the caller's
 * affinity mask, its cpuset: a worker's CPU outside the mask makes
 * coro_sched_run() fail with EINVAL before any coroutine runs (never an
 * unbound run where a bound one was asked for); a CPU inside it runs the
 * worker there.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>

#include "coro.h"
#include "check.h"

static int ran_on = -1;

static void *body(void *arg)
{
	(void)arg;
	ran_on = sched_getcpu();
	return NULL;
}

/* Run one coroutine on one worker bound to cpu; coro_sched_run()'s result. */
static int run_bound(int cpu, int *where)
{
	struct coro_sched_attr attr = { .workers = 1, .cpus = &cpu, .ncpus = 1 };
	coro_sched_t *s = coro_sched_create(&attr);
	coro_t *c;
	int err;

	CHECK(s);
	c = coro_create(s, body, NULL, 0);
	CHECK(c);
	ran_on = -1;
	err = coro_sched_run(s);
	*where = ran_on;
	if (err) {
		/* Nothing ran: allow every CPU again and let it finish. */
		cpu_set_t all;

		CPU_ZERO(&all);
		CPU_SET(cpu, &all);
		if (sched_setaffinity(0, sizeof(all), &all) == 0)
			CHECK_EQ(coro_sched_run(s), 0);
		else
			return err;	/* cpu does not exist: leak s */
	}
	CHECK_EQ(coro_join(c, NULL), 0);
	coro_sched_destroy(s);
	return err;
}

int main(void)
{
	cpu_set_t set, one;
	int first = -1, other, where, c;

	CHECK(sched_getaffinity(0, sizeof(set), &set) == 0);
	for (c = 0; c < CPU_SETSIZE && first < 0; c++)
		if (CPU_ISSET(c, &set))
			first = c;
	CHECK(first >= 0);
	/* Confined to one CPU, as under taskset -c. */
	CPU_ZERO(&one);
	CPU_SET(first, &one);
	CHECK(sched_setaffinity(0, sizeof(one), &one) == 0);

	CHECK_EQ(run_bound(first, &where), 0);
	CHECK_EQ(where, first);
	printf("ok a worker bound to the allowed CPU %d runs there\n", first);

	other = first + 1;	/* outside the mask, online or not */
	CHECK(sched_setaffinity(0, sizeof(one), &one) == 0);
	CHECK_EQ(run_bound(other, &where), EINVAL);
	CHECK_EQ(where, -1);
	printf("ok a worker bound to CPU %d outside the mask is refused, "
	       "nothing ran\n", other);
	return 0;
}
