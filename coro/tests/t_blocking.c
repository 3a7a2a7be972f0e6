// SPDX-License-Identifier: GPL-2.0
/*
 * The blocking hand-off: one coroutine blocks 1 s in read() on a pipe
 * through coro_blocking_read() while 1000 siblings must all finish long
 * before the data arrives.  Usage: t_blocking [WORKERS [SIBLINGS]]
 * (fewer siblings under TSan, whose fiber switches are slow).
 */
#include <errno.h>
#include <pthread.h>
#include <unistd.h>

#include "coro.h"
#include "check.h"

static int fds[2];
static uint64_t t0, t_read, t_last_sibling;
static long siblings_done, siblings = 1000;

static void *writer(void *arg)
{
	(void)arg;
	usleep(1000000);
	CHECK(write(fds[1], "x", 1) == 1);
	return NULL;
}

static void *reader(void *arg)
{
	char c = 0;

	(void)arg;
	CHECK(coro_blocking_read(fds[0], &c, 1) == 1);
	CHECK(c == 'x');
	t_read = now_ns() - t0;
	/* Still a coroutine afterwards, on some worker. */
	CHECK(coro_self() != NULL);
	coro_yield();
	errno = 0;
	CHECK(coro_blocking_read(-1, &c, 1) == -1 && errno == EBADF);
	return NULL;
}

static void *sibling(void *arg)
{
	uint64_t t;
	int i;

	for (i = 0; i < 20; i++)
		coro_yield();
	t = now_ns() - t0;
	if (__atomic_add_fetch(&siblings_done, 1, __ATOMIC_RELAXED) == siblings)
		t_last_sibling = t;
	return arg;
}

int main(int argc, char **argv)
{
	struct coro_sched_attr a = { .workers = arg_workers(argc, argv, 2) };
	coro_sched_t *s = coro_sched_create(&a);
	struct coro_stats st;
	pthread_t th;
	int i;

	CHECK(s);
	if (argc > 2)
		siblings = strtol(argv[2], NULL, 0);
	CHECK(pipe(fds) == 0);
	CHECK(coro_detach(coro_create(s, reader, NULL, 0)) == 0);
	for (i = 0; i < siblings; i++)
		CHECK(coro_detach(coro_create(s, sibling, NULL, 0)) == 0);
	t0 = now_ns();
	CHECK(pthread_create(&th, NULL, writer, NULL) == 0);
	CHECK(coro_sched_run(s) == 0);
	pthread_join(th, NULL);
	coro_sched_stats(s, &st);
	printf("%u workers: siblings done at %.3f s, read returned at %.3f s, "
	       "%llu hand-offs, %llu OS threads\n", a.workers,
	       t_last_sibling / 1e9, t_read / 1e9,
	       (unsigned long long)st.handoffs,
	       (unsigned long long)st.os_threads);
	CHECK_EQ(siblings_done, siblings);
	CHECK(t_read >= 990000000u);
	CHECK(t_last_sibling < 500000000u);
	CHECK(st.handoffs >= 1);
	coro_sched_destroy(s);
	printf("ok %ld siblings finish while one coroutine blocks in read()\n",
	       siblings);
	return 0;
}
