// SPDX-License-Identifier: GPL-2.0
/*
 * coro_bench --set-concurrency-at OPS:N[,OPS:N...]: a plain thread
 * watches the operations done (the sum of every coroutine's published
 * count) and calls coro_sched_set_concurrency(s, N) once OPS are done,
 * change by change (N = 0: the library decides).  At the end a timeline
 * goes to stderr, one row per stretch between changes: its workers, its
 * operations, its seconds and their rate, so that a change shows in the
 * throughput.  Parsed here, before the common options (kp_opts.c takes
 * numbers only); included by coro_bench.c.
 */
#ifndef CORO_BENCH_CONC_H
#define CORO_BENCH_CONC_H

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "bench_opt.h"

#define CONC_MAX_CHANGES 64

static struct conc_plan {
	unsigned int n;				/* changes asked for */
	u64 at_ops[CONC_MAX_CHANGES];
	int to[CONC_MAX_CHANGES];
	/* What happened: stretch i starts at t_ns[i] with ops[i] done. */
	unsigned int done;			/* changes made */
	u64 t_ns[CONC_MAX_CHANGES + 2], ops[CONC_MAX_CHANGES + 2];
	int workers[CONC_MAX_CHANGES + 2];
	int ended;				/* atomic: the run is over */
	pthread_t thread;
	coro_sched_t *s;
	struct kp_worker *w;
	u32 nw;
} conc;

static u64 conc_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000u + (u64)ts.tv_nsec;
}

static void conc_parse(const char *spec)
{
	const char *p = spec;
	char *end;

	while (*p) {
		unsigned long long ops, n;

		if (conc.n == CONC_MAX_CHANGES)
			kp_usage_error("--set-concurrency-at", "at most %d "
				       "changes", CONC_MAX_CHANGES);
		errno = 0;
		ops = strtoull(p, &end, 10);
		if (end == p || *end != ':' || errno || *p == '-')
			kp_usage_error("--set-concurrency-at", "'%s' is not "
				       "OPS:N[,OPS:N...]", spec);
		p = end + 1;
		n = strtoull(p, &end, 10);
		if (end == p || (*end && *end != ',') || *p == '-' || n > 1024)
			kp_usage_error("--set-concurrency-at", "'%s': N is "
				       "0..1024 (0: the library decides)",
				       spec);
		if (conc.n && ops < conc.at_ops[conc.n - 1])
			kp_usage_error("--set-concurrency-at", "'%s': OPS "
				       "must not go down", spec);
		conc.at_ops[conc.n] = ops;
		conc.to[conc.n++] = (int)n;
		p = *end ? end + 1 : end;
	}
	if (!conc.n)
		kp_usage_error("--set-concurrency-at", "an empty list");
}

/* Take --set-concurrency-at out of argv, for the common parser. */
static int conc_take_option(int argc, char **argv)
{
	return take_option(argc, argv, "--set-concurrency-at",
			   "OPS:N[,OPS:N...]", conc_parse);
}

static u64 conc_ops_done(void)
{
	u64 sum = 0;
	u32 i;

	for (i = 0; i < conc.nw; i++)
		sum += READ_ONCE(conc.w[i].st.ops);
	return sum;
}

static void *conc_main(void *arg)
{
	struct timespec nap = { 0, 100000 };	/* 0.1 ms between looks */
	int err;

	(void)arg;
	while (conc.done < conc.n &&
	       !__atomic_load_n(&conc.ended, __ATOMIC_ACQUIRE)) {
		u64 ops = conc_ops_done();

		if (ops < conc.at_ops[conc.done]) {
			nanosleep(&nap, NULL);
			continue;
		}
		err = coro_sched_set_concurrency(conc.s, conc.to[conc.done]);
		if (err)
			kp_die_errno(err, "coro_sched_set_concurrency(%d)",
				     conc.to[conc.done]);
		conc.done++;
		conc.t_ns[conc.done] = conc_now_ns();
		conc.ops[conc.done] = conc_ops_done();
		conc.workers[conc.done] = coro_sched_get_concurrency(conc.s);
	}
	return NULL;
}

/* Before the run: the watcher starts with the scheduler. */
static void conc_start(coro_sched_t *s, struct kp_worker *w, u32 n)
{
	int err;

	if (!conc.n)
		return;
	conc.s = s;
	conc.w = w;
	conc.nw = n;
	conc.t_ns[0] = conc_now_ns();
	conc.workers[0] = coro_sched_get_concurrency(s);
	if ((err = pthread_create(&conc.thread, NULL, conc_main, NULL)))
		kp_die_errno(err, "cannot start the concurrency watcher");
}

/* After the run: the timeline, on stderr. */
static void conc_report(void)
{
	unsigned int i;
	u64 t_end = conc_now_ns(), ops_end = conc_ops_done();

	if (!conc.n)
		return;
	__atomic_store_n(&conc.ended, 1, __ATOMIC_RELEASE);
	pthread_join(conc.thread, NULL);
	conc.t_ns[conc.done + 1] = t_end;
	conc.ops[conc.done + 1] = ops_end;
	fprintf(stderr, "coro_bench: concurrency timeline (%u of %u changes "
		"made)\n%10s %8s %14s %10s %14s\n", conc.done, conc.n,
		"start s", "workers", "operations", "seconds", "ops/s");
	for (i = 0; i <= conc.done; i++) {
		u64 dt = conc.t_ns[i + 1] - conc.t_ns[i];
		u64 dops = conc.ops[i + 1] - conc.ops[i];

		fprintf(stderr, "%10.4f %8d %14" PRIu64 " %10.4f %14.0f\n",
			(double)(conc.t_ns[i] - conc.t_ns[0]) / 1e9,
			conc.workers[i], dops, (double)dt / 1e9,
			dt ? (double)dops * 1e9 / (double)dt : 0.0);
	}
}

#endif /* CORO_BENCH_CONC_H */
