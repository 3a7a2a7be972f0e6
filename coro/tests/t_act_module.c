// SPDX-License-Identifier: GPL-2.0
/*
 * Scheduler activations from the module (CORO_ACTIVATIONS=module; a guest
 * with kthread_perf.ko loaded, tests/vm/coro_activations.bats).
 *
 *   t_act_module runs N [WORKERS [PAIRS]]
 *	N short coro_sched_run()s back to back on one scheduler, each with
 *	PAIRS (4) pairs of coroutines that ping-pong 5 bytes over socket
 *	pairs with plain blocking read()s, so that every run starts worker
 *	and spare threads that block, are taken, and end.  A plain thread
 *	changes the protection of 32 MiB meanwhile, so that an ending
 *	thread may block in exit_mm(), after pthread_join() has returned
 *	and before the kernel ends its registration: the next run's
 *	listener may read that late BLOCKED, whose cookie must name nothing
 *	(before the fix, under ASan: a freed lwp's address).  A stress: the
 *	code before the fix did not hit that race in 2 x 100 runs in a TCG
 *	guest; t_fakedev makes late events on purpose.  Prints how many
 *	events of ended registrations were ignored.
 *
 *   t_act_module stale K
 *	One worker; coroutine A blocks K times in a plain read().  Each time
 *	the listener's claim on A's thread wins, the test (in the listener,
 *	through act_test_claim_hook) writes A's byte and waits until A runs
 *	again, in the same stint of coroutine code: the claim is then stale.
 *	A take of a running worker must not follow: taken 0, K stale takes
 *	avoided, no hand-off.
 *
 *   t_act_module watcher K
 *	One worker; coroutine A blocks K times in a plain read(), and its
 *	sibling B wakes it once it runs.  Each time, B must run on the very
 *	thread that read A's BLOCKED and won the claim (the spare woken on
 *	the device runs the vproc it takes: one wake-up per hand-off, not a
 *	listener's and then a spare's), every block must be taken, and the
 *	OS threads must stay few (spares are reused: at most 2 + K / 20 OS
 *	threads, where a thread per take would be K).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "coro.h"
#include "check.h"
#include "activations.h"

static void need_module(coro_sched_t *s)
{
	if (strcmp(coro_sched_activations(s), "module")) {
		fprintf(stderr, "t_act_module: activations are '%s', not "
			"'module' (load kthread_perf.ko)\n",
			coro_sched_activations(s));
		exit(1);
	}
}

/* ---- runs ----------------------------------------------------------- */

#define PAIRS_MAX 64
#define BYTES 5

static int stop_churn;
static long pingpongs;

/*
 * mprotect() of a large mapped region holds the mmap lock for writing
 * while it walks the page tables: a thread that ends meanwhile sleeps in
 * exit_mm() for the lock, after its joiner has returned.
 */
static void *churner(void *arg)
{
	size_t len = 32 << 20;
	char *p;

	(void)arg;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	CHECK(p != MAP_FAILED);
	while (!__atomic_load_n(&stop_churn, __ATOMIC_RELAXED)) {
		CHECK(mprotect(p, len, PROT_READ) == 0);
		CHECK(mprotect(p, len, PROT_READ | PROT_WRITE) == 0);
	}
	munmap(p, len);
	return NULL;
}

static void *ping(void *arg)
{
	int fd = (int)(intptr_t)arg, i;
	char c = 'p';

	for (i = 0; i < BYTES; i++) {
		CHECK(write(fd, &c, 1) == 1);
		CHECK(read(fd, &c, 1) == 1);
		__atomic_add_fetch(&pingpongs, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void *pong(void *arg)
{
	int fd = (int)(intptr_t)arg, i;
	char c;

	for (i = 0; i < BYTES; i++) {
		CHECK(read(fd, &c, 1) == 1);
		CHECK(write(fd, &c, 1) == 1);
	}
	return NULL;
}

static int runs_test(long n, unsigned int workers, int pairs)
{
	struct coro_sched_attr a = { .workers = workers };
	struct coro_stats st;
	int sv[PAIRS_MAX][2];
	coro_sched_t *s;
	pthread_t th;
	long r;
	int i;

	CHECK(pairs >= 1 && pairs <= PAIRS_MAX);
	s = coro_sched_create(&a);
	CHECK(s);
	CHECK(pthread_create(&th, NULL, churner, NULL) == 0);
	for (r = 0; r < n; r++) {
		for (i = 0; i < pairs; i++) {
			CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
					 0, sv[i]) == 0);
			CHECK(coro_detach(coro_create(s, ping,
				(void *)(intptr_t)sv[i][0], 0)) == 0);
			CHECK(coro_detach(coro_create(s, pong,
				(void *)(intptr_t)sv[i][1], 0)) == 0);
		}
		CHECK(coro_sched_run(s) == 0);
		for (i = 0; i < pairs; i++) {
			close(sv[i][0]);
			close(sv[i][1]);
		}
		CHECK_EQ(pingpongs, (r + 1) * pairs * BYTES);
	}
	__atomic_store_n(&stop_churn, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	coro_sched_stats(s, &st);
	printf("ok %ld runs back to back (%s, %u worker(s)): %ld "
	       "ping-pongs, %llu taken, %llu OS threads, %llu events of "
	       "ended registrations ignored\n", n,
	       coro_sched_activations(s), workers, pingpongs,
	       (unsigned long long)st.taken,
	       (unsigned long long)st.os_threads,
	       (unsigned long long)s->act_stale_events);
	coro_sched_destroy(s);
	return 0;
}

/* ---- stale ---------------------------------------------------------- */

enum { A_NONE, A_BLOCKING, A_RUNNING };

static int fds[2];
static pid_t a_tid;
static int a_phase;
static long a_round, woken_round, decided_round;

static void spin_until(long *what, long value)
{
	uint64_t end = now_ns() + 60000000000ULL;

	while (__atomic_load_n(what, __ATOMIC_ACQUIRE) < value) {
		CHECK(now_ns() < end);
		sched_yield();
	}
}

static void hook(struct coro_sched *s, pid_t tid, int after)
{
	long r = __atomic_load_n(&a_round, __ATOMIC_ACQUIRE);
	uint64_t end = now_ns() + 60000000000ULL;

	(void)s;
	if (tid != __atomic_load_n(&a_tid, __ATOMIC_RELAXED))
		return;
	if (after) {
		if (__atomic_load_n(&woken_round, __ATOMIC_RELAXED) == r)
			__atomic_store_n(&decided_round, r, __ATOMIC_RELEASE);
		return;
	}
	if (__atomic_load_n(&a_phase, __ATOMIC_ACQUIRE) != A_BLOCKING)
		return;
	/* The claim on A's blocked thread won: wake A and let it run. */
	CHECK(write(fds[1], "x", 1) == 1);
	while (__atomic_load_n(&a_phase, __ATOMIC_ACQUIRE) != A_RUNNING) {
		CHECK(now_ns() < end);
		sched_yield();
	}
	__atomic_store_n(&woken_round, r, __ATOMIC_RELAXED);
}

static long rounds;

static void *blocker(void *arg)
{
	long k;
	char c;

	for (k = 1; k <= rounds; k++) {
		__atomic_store_n(&a_tid, gettid(), __ATOMIC_RELAXED);
		__atomic_store_n(&a_round, k, __ATOMIC_RELEASE);
		__atomic_store_n(&a_phase, A_BLOCKING, __ATOMIC_RELEASE);
		CHECK(read(fds[0], &c, 1) == 1);
		__atomic_store_n(&a_phase, A_RUNNING, __ATOMIC_RELEASE);
		/* Still in coroutine code until the listener has decided. */
		spin_until(&decided_round, k);
		__atomic_store_n(&a_phase, A_NONE, __ATOMIC_RELEASE);
		coro_yield();
	}
	return arg;
}

static int stale_test(long k)
{
	struct coro_sched_attr a = { .workers = 1 };
	struct coro_stats st;
	coro_sched_t *s;

	rounds = k;
	s = coro_sched_create(&a);
	CHECK(s);
	need_module(s);
	CHECK(pipe(fds) == 0);
	act_test_claim_hook = hook;
	CHECK(coro_detach(coro_create(s, blocker, NULL, 0)) == 0);
	CHECK(coro_sched_run(s) == 0);
	act_test_claim_hook = NULL;
	coro_sched_stats(s, &st);
	printf("stale: %ld blocks woken after the claim: %llu taken, %llu "
	       "stale takes avoided, %llu hand-offs\n", k,
	       (unsigned long long)st.taken,
	       (unsigned long long)st.stale_takes,
	       (unsigned long long)st.handoffs);
	CHECK_EQ(st.taken, 0);
	CHECK_EQ(st.handoffs, 0);
	CHECK_EQ(st.stale_takes, k);
	printf("ok no running worker taken on %ld stale BLOCKED events\n", k);
	coro_sched_destroy(s);
	return 0;
}

/* ---- watcher -------------------------------------------------------- */

static pid_t *claimer;		/* per round: the thread whose claim won */
static long w_round;		/* rounds A has started */

static void watcher_hook(struct coro_sched *s, pid_t tid, int after)
{
	(void)s;
	if (after && tid == __atomic_load_n(&a_tid, __ATOMIC_RELAXED))
		__atomic_store_n(&claimer[__atomic_load_n(&w_round,
							  __ATOMIC_ACQUIRE)],
				 gettid(), __ATOMIC_RELEASE);
}

static void *w_blocker(void *arg)
{
	long k;
	char c;

	for (k = 1; k <= rounds; k++) {
		__atomic_store_n(&a_tid, gettid(), __ATOMIC_RELAXED);
		__atomic_store_n(&w_round, k, __ATOMIC_RELEASE);
		CHECK(read(fds[0], &c, 1) == 1);
		coro_checkpoint();
	}
	return arg;
}

static void *w_waker(void *arg)
{
	long seen = 0, r;
	pid_t by;

	while (seen < rounds) {
		r = __atomic_load_n(&w_round, __ATOMIC_ACQUIRE);
		/* A is blocked in round r once its thread is not ours. */
		if (r == seen || __atomic_load_n(&a_tid, __ATOMIC_RELAXED) ==
		    gettid()) {
			coro_yield();
			continue;
		}
		by = __atomic_load_n(&claimer[r], __ATOMIC_ACQUIRE);
		if (by != gettid()) {
			fprintf(stderr, "round %ld: B runs on thread %d, the "
				"claim was won by thread %d\n", r, gettid(),
				by);
			exit(1);
		}
		seen = r;
		CHECK(write(fds[1], "x", 1) == 1);
	}
	return arg;
}

static int watcher_test(long k)
{
	struct coro_sched_attr a = { .workers = 1 };
	struct coro_stats st;
	coro_sched_t *s;

	rounds = k;
	claimer = calloc((size_t)k + 1, sizeof(*claimer));
	CHECK(claimer);
	s = coro_sched_create(&a);
	CHECK(s);
	need_module(s);
	CHECK(pipe(fds) == 0);
	act_test_claim_hook = watcher_hook;
	CHECK(coro_detach(coro_create(s, w_blocker, NULL, 0)) == 0);
	CHECK(coro_detach(coro_create(s, w_waker, NULL, 0)) == 0);
	CHECK(coro_sched_run(s) == 0);
	act_test_claim_hook = NULL;
	coro_sched_stats(s, &st);
	printf("watcher: %ld blocks, %llu taken, %llu hand-offs, %llu OS "
	       "threads\n", k, (unsigned long long)st.taken,
	       (unsigned long long)st.handoffs,
	       (unsigned long long)st.os_threads);
	CHECK_EQ(st.taken, k);
	/* A new thread only when no spare waits at a take. */
	CHECK(st.os_threads <= 2 + (uint64_t)k / 20);
	printf("ok each of %ld blocked workers' queues ran on the thread "
	       "that took it\n", k);
	coro_sched_destroy(s);
	free(claimer);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "runs"))
		return runs_test(strtol(argv[2], NULL, 0),
				 argc > 3 ? (unsigned int)strtoul(argv[3],
								NULL, 0) : 2,
				 argc > 4 ? atoi(argv[4]) : 4);
	if (argc == 3 && !strcmp(argv[1], "stale"))
		return stale_test(strtol(argv[2], NULL, 0));
	if (argc == 3 && !strcmp(argv[1], "watcher"))
		return watcher_test(strtol(argv[2], NULL, 0));
	fprintf(stderr, "usage: t_act_module runs N [WORKERS [PAIRS]] | "
		"stale K | watcher K\n");
	return 2;
}
