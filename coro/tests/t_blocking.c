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
#include "siblings.h"

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
	struct coro_stats st;
	coro_sched_t *s;

	t0 = now_ns();
	s = run_reader_and_siblings(argc, argv, 2, fds, &siblings, reader,
				    sibling, writer, &st);
	printf("%u workers: siblings done at %.3f s, read returned at %.3f s, "
	       "%llu hand-offs, %llu OS threads\n", arg_workers(argc, argv, 2),
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
