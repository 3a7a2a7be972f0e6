// SPDX-License-Identifier: GPL-2.0
/*
 * pthread_bench: the one-to-one model.  thread_count POSIX threads (one
 * kernel task each, NPTL) run the shared worker loop of workload/kp_loop.h
 * with user-space primitives in place of the module's: an atomic add, a
 * pthread spinlock, a pthread mutex, sched_yield(), clock_nanosleep(), a
 * futex hand-off for ping-pong, pthread_barrier_t, pthread_create() and
 * pthread_join() for spawn, and a blocking read() for block.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "kp_bench_common.h"

#define CACHELINE 64

/* What the workers share, each on its own cache line. */
static struct kp_shared {
	u64 counter __attribute__((aligned(CACHELINE)));
	pthread_spinlock_t spin __attribute__((aligned(CACHELINE)));
	pthread_mutex_t mutex __attribute__((aligned(CACHELINE)));
	pthread_barrier_t start __attribute__((aligned(CACHELINE)));
	pthread_barrier_t meet __attribute__((aligned(CACHELINE)));
	u64 stop_gen;			/* barrier mode: see kp_loop_hooks.h */
	u64 tick_ns;
} shared;

/*
 * One worker.  The members kp_loop.h uses come first; the hand-off token
 * and wake time, written by the partner, get their own cache line so the
 * hot loop never shares one with another thread.
 */
struct kp_worker {
	unsigned int id;
	const struct kp_config *cfg;
	struct kp_stats st;
	struct kp_worker *partner;
	pthread_t thread;
	int cpu;			/* bound CPU or -1 */
	int last_cpu;
	long tid;
	int err;			/* errno of a failure inside the thread */
	u64 start_ns, end_ns, cputime_ns;
	u64 nvcsw, nivcsw;
	u32 token __attribute__((aligned(CACHELINE)));	/* 1: it is my turn */
	u64 wake_ns;			/* partner's hand-over time */
	int blk_fd;			/* block mode: own end of the pair */
} __attribute__((aligned(CACHELINE)));

/* ---- Hooks of kp_loop.h ---------------------------------------------- */

#define KP_SHARED shared
#include "kp_loop_hooks.h"

static inline void kp_mutex_lock(struct kp_shared *s)
{
	pthread_mutex_lock(&s->mutex);
}

static inline void kp_mutex_unlock(struct kp_shared *s)
{
	pthread_mutex_unlock(&s->mutex);
}

static inline void kp_wait_yield(struct kp_worker *w)
{
	(void)w;
	sched_yield();
}

/* sleep_us, or one scheduler tick for 0 (the module's schedule_timeout(1)). */
static inline void kp_wait_sleep(struct kp_worker *w)
{
	u64 ns = kp_sleep_ns(w);
	struct timespec ts = {
		.tv_sec = (time_t)(ns / 1000000000u),
		.tv_nsec = (long)(ns % 1000000000u),
	};

	clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
}

static long futex(u32 *uaddr, int op, u32 val, const struct timespec *ts)
{
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

/*
 * Hand the turn to the partner: its wake time first, then the token with
 * release order (so the partner that sees the token sees the time), then
 * wake it if it sleeps on the token.
 */
static inline void kp_pp_give(struct kp_worker *w, u64 now)
{
	struct kp_worker *p = w->partner;

	__atomic_store_n(&p->wake_ns, now, __ATOMIC_RELAXED);
	__atomic_store_n(&p->token, 1, __ATOMIC_RELEASE);
	futex(&p->token, FUTEX_WAKE_PRIVATE, 1, NULL);
}

/*
 * Wait for the turn.  The wait is bounded so that a stop request (which
 * wakes only the thread SIGINT landed on) is seen within 50 ms.
 */
static inline u64 kp_pp_take(struct kp_worker *w)
{
	static const struct timespec poll = { .tv_nsec = 50000000 };

	while (!__atomic_load_n(&w->token, __ATOMIC_ACQUIRE)) {
		if (kp_stop_requested())
			return kp_now_ns();
		futex(&w->token, FUTEX_WAIT_PRIVATE, 0, &poll);
	}
	__atomic_store_n(&w->token, 0, __ATOMIC_RELAXED);
	return __atomic_load_n(&w->wake_ns, __ATOMIC_RELAXED);
}

/* Barrier mode: every worker meets at one pthread_barrier_t. */
static inline void kp_barrier_wait(struct kp_worker *w)
{
	(void)w;
	pthread_barrier_wait(&shared.meet);
}

/*
 * Spawn mode: pthread_create() with the worker's own binding, whose body
 * returns at once, then pthread_join().
 */
static inline void kp_spawn_join(struct kp_worker *w)
{
	pthread_attr_t attr;
	pthread_t t;
	int err;

	if ((err = pthread_attr_init(&attr)))
		kp_die_errno(err, "thread %u: pthread_attr_init", w->id);
	if (w->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(w->cpu, &set);
		if ((err = pthread_attr_setaffinity_np(&attr, sizeof(set),
						       &set)))
			kp_die_errno(err, "thread %u: cannot bind a spawned "
				     "thread to CPU %d (allowed CPUs: %s)",
				     w->id, w->cpu, kp_allowed_cpu_list());
	}
	err = pthread_create(&t, &attr, kp_spawn_child, NULL);
	pthread_attr_destroy(&attr);
	if (err && w->cpu >= 0 && err == EINVAL)
		kp_die_errno(err, "thread %u: cannot bind a spawned thread to "
			     "CPU %d (allowed CPUs: %s)", w->id, w->cpu,
			     kp_allowed_cpu_list());
	if (err)
		kp_die_errno(err, "thread %u: cannot create a thread to spawn",
			     w->id);
	pthread_join(t, NULL);
}

#include "kp_loop.h"

/* ---- The run ---------------------------------------------------------- */

/*
 * A worker: already bound (through its creation attributes) before it
 * first runs; waits for every other, then measures itself around the loop.
 */
static void *worker_main(void *arg)
{
	struct kp_worker *w = arg;
	struct rusage ru0, ru1;
	u64 cpu0;

	w->tid = gettid();
	pthread_barrier_wait(&shared.start);
	if (getrusage(RUSAGE_THREAD, &ru0)) {
		w->err = errno;
		return NULL;
	}
	cpu0 = kp_thread_cputime_ns();
	w->start_ns = kp_clock_ns();

	kp_run_workload(w);

	w->end_ns = kp_clock_ns();
	w->cputime_ns = kp_thread_cputime_ns() - cpu0;
	w->last_cpu = sched_getcpu();
	if (getrusage(RUSAGE_THREAD, &ru1)) {
		w->err = errno;
		return NULL;
	}
	w->nvcsw = (u64)(ru1.ru_nvcsw - ru0.ru_nvcsw);
	w->nivcsw = (u64)(ru1.ru_nivcsw - ru0.ru_nivcsw);
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct kp_cli cli = {
		.prog = "pthread_bench",
		.summary = "Run the kthread_perf workload on POSIX threads "
			   "(one-to-one model).",
	};
	struct kp_opts o;
	struct kp_result r;
	struct kp_worker *w;
	pthread_attr_t attr;
	int *blk_fds = NULL;
	u32 n, i;
	int err;

	kp_parse_args(&cli, argc, argv, &o);
	n = o.cfg.thread_count;
	kp_install_stop_handler();
	kp_timer_slack_min();	/* sleep as the module does: before any thread */
	shared.tick_ns = kp_tick_ns();
	if ((err = pthread_spin_init(&shared.spin, PTHREAD_PROCESS_PRIVATE)) ||
	    (err = pthread_mutex_init(&shared.mutex, NULL)) ||
	    (err = pthread_barrier_init(&shared.start, NULL, n)) ||
	    (err = pthread_barrier_init(&shared.meet, NULL, n)))
		kp_die_errno(err, "cannot initialise the locks");

	w = kp_workers_alloc(n, sizeof(*w));
	kp_result_init(&r, "pthread", &o.cfg, n);
	if (o.cfg.work_mode == KP_WORK_BLOCK)
		blk_fds = kp_block_open(n);

	kp_result_begin(&r);
	for (i = 0; i < n; i++) {
		w[i].id = i;
		w[i].cfg = &o.cfg;
		kp_stats_init(&w[i].st, &o.cfg);
		w[i].partner = &w[i ^ 1];
		w[i].blk_fd = blk_fds ? blk_fds[i] : -1;
		w[i].cpu = r.threads[i].cpu;
		w[i].last_cpu = -1;
		if ((err = pthread_attr_init(&attr)))
			kp_die_errno(err, "pthread_attr_init");
		if (w[i].cpu >= 0) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(w[i].cpu, &set);
			err = pthread_attr_setaffinity_np(&attr, sizeof(set),
							  &set);
			if (err)
				kp_die_errno(err, "cannot bind thread %u to "
					     "CPU %d (allowed CPUs: %s)", i,
					     w[i].cpu, kp_allowed_cpu_list());
		}
		/* A CPU outside the affinity mask: EINVAL, nothing runs. */
		err = pthread_create(&w[i].thread, &attr, worker_main, &w[i]);
		if (err && w[i].cpu >= 0 && err == EINVAL)
			kp_die_errno(err, "cannot bind thread %u to CPU %d "
				     "(allowed CPUs: %s)", i, w[i].cpu,
				     kp_allowed_cpu_list());
		if (err)
			kp_die_errno(err, "cannot create thread %u", i);
		pthread_attr_destroy(&attr);
	}
	for (i = 0; i < n; i++)
		pthread_join(w[i].thread, NULL);
	kp_result_end(&r, shared.counter);
	if (blk_fds)
		kp_block_close(blk_fds, n);
	for (i = 0; i < n; i++) {
		struct kp_thread_result *t = &r.threads[i];

		if (w[i].err)
			kp_die_errno(w[i].err, "thread %u: getrusage", i);
		t->pid = w[i].tid;
		t->last_cpu = w[i].last_cpu;
		t->nvcsw = w[i].nvcsw;
		t->nivcsw = w[i].nivcsw;
		t->cputime_ns = w[i].cputime_ns;
		kp_result_add_worker(&r, i, &w[i].st, w[i].start_ns,
				     w[i].end_ns);
	}
	kp_result_sum_threads(&r);
	kp_result_report(&r, o.json);

	for (i = 0; i < n; i++)
		kp_stats_free(&w[i].st);
	free(w);
	pthread_barrier_destroy(&shared.start);
	pthread_barrier_destroy(&shared.meet);
	pthread_mutex_destroy(&shared.mutex);
	pthread_spin_destroy(&shared.spin);
	return 0;
}
