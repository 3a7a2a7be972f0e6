// SPDX-License-Identifier: GPL-2.0
/*
 * The blocked-reader set-up of t_blocking and t_activations: one reader
 * coroutine, created first so that it blocks first, n siblings queued
 * behind it, and a plain thread (release) that writes the reader's byte,
 * run beside the scheduler until every coroutine has ended.
 */
#ifndef CORO_TEST_SIBLINGS_H
#define CORO_TEST_SIBLINGS_H

#include <pthread.h>
#include <unistd.h>

#include "coro.h"
#include "check.h"

/*
 * [WORKERS [SIBLINGS]] from the command line (defaults: workers, *n);
 * returns the scheduler after the run, its counts in *st.
 */
static inline coro_sched_t *run_reader_and_siblings(int argc, char **argv,
						    unsigned int workers,
						    int fds[2], long *n,
						    void *(*reader)(void *),
						    void *(*sibling)(void *),
						    void *(*release)(void *),
						    struct coro_stats *st)
{
	struct coro_sched_attr a = {
		.workers = arg_workers(argc, argv, workers),
	};
	coro_sched_t *s = coro_sched_create(&a);
	pthread_t th;
	long i;

	CHECK(s);
	if (argc > 2)
		*n = strtol(argv[2], NULL, 0);
	CHECK(pipe(fds) == 0);
	CHECK(coro_detach(coro_create(s, reader, NULL, 0)) == 0);
	for (i = 0; i < *n; i++)
		CHECK(coro_detach(coro_create(s, sibling, NULL, 0)) == 0);
	CHECK(pthread_create(&th, NULL, release, NULL) == 0);
	CHECK(coro_sched_run(s) == 0);
	pthread_join(th, NULL);
	coro_sched_stats(s, st);
	return s;
}

#endif /* CORO_TEST_SIBLINGS_H */
