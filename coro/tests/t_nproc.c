// SPDX-License-Identifier: GPL-2.0
/*
 * No OS thread to be had (RLIMIT_NPROC): the scheduler runs on fewer
 * threads, says so once on stderr, and never aborts.  As root the limit
 * does not apply (the kernel exempts uid 0), so the program first becomes
 * nobody (65534) when it runs as root.
 *
 *   t_nproc take [WORKERS]
 *	The limit falls inside the run, once the first spare (or monitor) and
 *	the workers' threads have started: the first coroutine lowers
 *	RLIMIT_NPROC to 1 and blocks in a plain read() with 200 siblings
 *	queued behind it.  The taker sees it blocked, finds no spare thread
 *	and none can be started: the monitor gives the claim back (before:
 *	abort()); a spare on the module's device runs the queue itself,
 *	and the new spare that cannot start is said once.
 *	A plain thread writes the byte once a thread failure is counted
 *	(and, on more than one worker, once the other workers have run every
 *	sibling); the run ends with every sibling run.  (A warm-up run
 *	first, so that no first touch of a code page, a block in the guest,
 *	gets a spare started before the limit.)
 *
 *   t_nproc start [WORKERS]
 *	The limit is set before coro_sched_run(): neither the first spare (or
 *	monitor) nor any worker's thread starts, and each coro_blocking_read()
 *	finds no spare.  The caller's thread runs all 100 coroutines, whose
 *	yields and reads are counted exactly (before: EAGAIN from the run).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "coro.h"
#include "check.h"

#define SIBLINGS 200
#define YIELDS 5

static coro_sched_t *sched;
static unsigned int workers;
static int fds[2];
static long siblings_done, yields;

static void become_nobody(void)
{
	if (geteuid() != 0)
		return;
	CHECK(setgroups(0, NULL) == 0);
	CHECK(setgid(65534) == 0);
	CHECK(setuid(65534) == 0);
}

static void limit_threads(void)
{
	struct rlimit r;

	CHECK(getrlimit(RLIMIT_NPROC, &r) == 0);
	r.rlim_cur = 1;		/* fewer than this uid's processes: none */
	CHECK(setrlimit(RLIMIT_NPROC, &r) == 0);
}

static bool warming;

static void *reader(void *arg)
{
	char c = 0;

	if (warming)
		return arg;
	limit_threads();
	CHECK(read(fds[0], &c, 1) == 1 && c == 'x');
	coro_checkpoint();
	return arg;
}

static void *sibling(void *arg)
{
	int i;

	for (i = 0; i < YIELDS; i++) {
		__atomic_add_fetch(&yields, 1, __ATOMIC_RELAXED);
		coro_yield();
	}
	__atomic_add_fetch(&siblings_done, 1, __ATOMIC_RELEASE);
	return arg;
}

/* The byte, once the taker has met a thread failure (60 s at most). */
static void *releaser(void *arg)
{
	struct timespec ms = { 0, 1000000 };
	struct coro_stats st;
	int i;

	(void)arg;
	for (i = 0; i < 60000; i++) {
		coro_sched_stats(sched, &st);
		if (st.thread_failures >= 1 &&
		    (workers == 1 || __atomic_load_n(&siblings_done,
						     __ATOMIC_ACQUIRE) ==
		     SIBLINGS))
			break;
		nanosleep(&ms, NULL);
	}
	CHECK(write(fds[1], "x", 1) == 1);
	return NULL;
}

static int take_test(void)
{
	struct coro_sched_attr a = { .workers = workers };
	struct coro_stats st, st0;
	struct rlimit r;
	pthread_t th;
	int i;

	sched = coro_sched_create(&a);
	CHECK(sched);
	CHECK(pipe(fds) == 0);
	/*
	 * A warm-up run, so that the real one meets no page of code for the
	 * first time: a major fault in coroutine code is a block too, and a
	 * take on it before the limit would start a spare.
	 */
	warming = true;
	CHECK(getrlimit(RLIMIT_NPROC, &r) == 0 &&
	      setrlimit(RLIMIT_NPROC, &r) == 0);
	CHECK(coro_detach(coro_create(sched, reader, NULL, 0)) == 0);
	CHECK(coro_detach(coro_create(sched, sibling, NULL, 0)) == 0);
	CHECK(coro_sched_run(sched) == 0);
	warming = false;
	siblings_done = yields = 0;
	coro_sched_stats(sched, &st0);

	CHECK(coro_detach(coro_create(sched, reader, NULL, 0)) == 0);
	for (i = 0; i < SIBLINGS; i++)
		CHECK(coro_detach(coro_create(sched, sibling, NULL, 0)) == 0);
	CHECK(pthread_create(&th, NULL, releaser, NULL) == 0);
	CHECK(coro_sched_run(sched) == 0);
	pthread_join(th, NULL);
	coro_sched_stats(sched, &st);
	CHECK_EQ(siblings_done, SIBLINGS);
	CHECK_EQ(yields, SIBLINGS * YIELDS);
	CHECK(st.thread_failures >= 1);
	printf("ok no thread to take a blocked worker with (%s, %u "
	       "worker(s)): the run ended, %d siblings, %llu thread "
	       "failure(s), %llu taken\n", coro_sched_activations(sched),
	       workers, SIBLINGS, (unsigned long long)st.thread_failures,
	       (unsigned long long)(st.taken - st0.taken));
	coro_sched_destroy(sched);
	return 0;
}

static long reads;

static void *counted(void *arg)
{
	char c;
	int i;

	for (i = 0; i < YIELDS; i++) {
		__atomic_add_fetch(&yields, 1, __ATOMIC_RELAXED);
		coro_yield();
	}
	CHECK(coro_blocking_read(fds[0], &c, 1) == 1 && c == 'y');
	__atomic_add_fetch(&reads, 1, __ATOMIC_RELAXED);
	return arg;
}

static int start_test(void)
{
	struct coro_sched_attr a = { .workers = workers };
	struct coro_stats st;
	int i, n = 100;

	sched = coro_sched_create(&a);
	CHECK(sched);
	CHECK(pipe(fds) == 0);
	for (i = 0; i < n; i++) {
		CHECK(write(fds[1], "y", 1) == 1);
		CHECK(coro_detach(coro_create(sched, counted, NULL, 0)) == 0);
	}
	limit_threads();
	CHECK_EQ(coro_sched_run(sched), 0);
	coro_sched_stats(sched, &st);
	CHECK_EQ(yields, n * YIELDS);
	CHECK_EQ(reads, n);
	CHECK_EQ(st.os_threads, 1);
	CHECK(st.thread_failures >= workers - 1);
	CHECK_EQ(st.taken, 0);
	printf("ok no thread from the start (%s, %u worker(s)): %d "
	       "coroutines ran on 1 OS thread, %llu thread failure(s)\n",
	       coro_sched_activations(sched), workers, n,
	       (unsigned long long)st.thread_failures);
	coro_sched_destroy(sched);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || (strcmp(argv[1], "take") && strcmp(argv[1], "start"))) {
		fprintf(stderr, "usage: t_nproc take|start [WORKERS]\n");
		return 2;
	}
	workers = argc > 2 ? (unsigned int)strtoul(argv[2], NULL, 0) : 1;
	CHECK(workers >= 1);
	become_nobody();
	return strcmp(argv[1], "take") ? start_test() : take_test();
}
