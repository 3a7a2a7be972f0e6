/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kthread_perf: the hooks of workload/kp_loop.h that every user-space model
 * implements the same way: the shared counter and its spinlock, the clock,
 * the stop flag (SIGINT), the sleep length and the no-op between chunks.
 *
 * The includer defines struct kp_worker and struct kp_shared, with the
 * members `u64 counter`, `pthread_spinlock_t spin`, `u64 tick_ns` and
 * `u64 stop_gen`, and
 * KP_SHARED, the one object of that type; includes this file; then defines
 * its own kp_mutex_lock(), kp_mutex_unlock(), kp_wait_yield(),
 * kp_wait_sleep(), kp_pp_give(), kp_pp_take(), kp_barrier_wait() and
 * kp_spawn_join() (whose child may run kp_spawn_child()), and includes
 * kp_loop.h.
 * The block-mode hooks are here: a blocking read() is the same call in
 * every model.
 */
#ifndef KP_LOOP_HOOKS_H
#define KP_LOOP_HOOKS_H

#include <errno.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kp_bench_common.h"

static inline struct kp_shared *kp_shared(struct kp_worker *w)
{
	(void)w;
	return &KP_SHARED;
}

static inline void kp_op_atomic(struct kp_shared *s)
{
	__atomic_fetch_add(&s->counter, 1, __ATOMIC_RELAXED);
}

static inline void kp_spin_lock(struct kp_shared *s)
{
	pthread_spin_lock(&s->spin);
}

static inline void kp_spin_unlock(struct kp_shared *s)
{
	pthread_spin_unlock(&s->spin);
}

/* Both locks guard the same counter the atomic mode adds to. */
static inline u64 *kp_locked_counter(struct kp_shared *s)
{
	return &s->counter;
}

#ifdef KP_COUNT_CLOCK
/*
 * Test build (build/count/): count the clock reads of the worker loop and
 * print the count on stderr at exit ("kp_clock_reads N"), to prove that
 * latency_sample 0 reads none.
 */
static u64 kp_clock_reads;

__attribute__((destructor)) static void kp_clock_reads_print(void)
{
	fprintf(stderr, "kp_clock_reads %llu\n", (unsigned long long)
		__atomic_load_n(&kp_clock_reads, __ATOMIC_RELAXED));
}

static inline u64 kp_now_ns(void)
{
	__atomic_fetch_add(&kp_clock_reads, 1, __ATOMIC_RELAXED);
	return kp_clock_ns();
}
#else
static inline u64 kp_now_ns(void)
{
	return kp_clock_ns();
}
#endif

/* Around the update of a timed wait (kp_kernel_compat.h: the sequence count). */
static inline void kp_stats_write_begin(struct kp_worker *w)
{
	kp_seq_write_begin(&w->st.seq);
}

static inline void kp_stats_write_end(struct kp_worker *w)
{
	kp_seq_write_end(&w->st.seq);
}

static inline bool kp_should_stop(struct kp_worker *w)
{
	(void)w;
	return kp_stop_requested();
}

/* Between chunks: nothing (the kernel's cond_resched() has no peer here). */
static inline void kp_relax(struct kp_worker *w)
{
	(void)w;
}

/*
 * Barrier mode: no user-space barrier can be released by a stop, so the
 * workers agree on the barrier to stop after (kp_loop.h, kp_barrier()),
 * through `u64 stop_gen` of struct kp_shared.
 */
#define KP_BARRIER_AGREED_STOP

static inline void kp_stop_propose(struct kp_worker *w, u64 k)
{
	u64 none = 0;

	(void)w;
	__atomic_compare_exchange_n(&KP_SHARED.stop_gen, &none, k, false,
				    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

/* Read after a barrier, which orders it after every earlier proposal. */
static inline u64 kp_stop_agreed(struct kp_worker *w)
{
	(void)w;
	return __atomic_load_n(&KP_SHARED.stop_gen, __ATOMIC_RELAXED);
}

/* Spawn mode: the body of the spawned thread or coroutine returns at once. */
static inline void *kp_spawn_child(void *arg)
{
	return arg;
}

/* Length of one wait in sleep mode: sleep_us, or one tick when it is 0. */
static inline u64 kp_sleep_ns(const struct kp_worker *w)
{
	return w->cfg->sleep_us ? w->cfg->sleep_us * 1000 : KP_SHARED.tick_ns;
}

/*
 * Block mode, the same in every user-space model: the partner's wake time,
 * then one byte into the pair's socket; the partner's plain blocking read()
 * returns.  (send() only for MSG_NOSIGNAL: a stop shuts the sockets down.)
 * struct kp_worker has `int blk_fd`, `u64 wake_ns` and `partner`.
 */
static inline void kp_blk_give(struct kp_worker *w, u64 now)
{
	__atomic_store_n(&w->partner->wake_ns, now, __ATOMIC_RELEASE);
	if (send(w->blk_fd, "x", 1, MSG_NOSIGNAL) != 1 && !kp_stop_requested())
		kp_die_errno(errno, "worker %u: send", w->id);
}

/*
 * What a model does once its worker's read() has returned (coro_bench:
 * coro_checkpoint(), the scheduling point of a woken OS thread that lost
 * its worker to a spare meanwhile).  Nothing by default.
 */
#ifndef KP_BLK_AFTER_READ
#define KP_BLK_AFTER_READ(w) ((void)(w))
#endif

/*
 * The blocking read itself: read() by default (coro_bench may send it
 * through a wrapper or io_uring, --block-call).
 */
#ifndef KP_BLK_READ
#define KP_BLK_READ(fd, buf, n) read(fd, buf, n)
#endif

/* A read() that returns 0 means a stop shut the socket down. */
static inline u64 kp_blk_take(struct kp_worker *w)
{
	char c;

	if (KP_BLK_READ(w->blk_fd, &c, 1) != 1) {
		if (!kp_stop_requested())
			kp_die_errno(errno, "worker %u: read", w->id);
		return kp_now_ns();
	}
	KP_BLK_AFTER_READ(w);
	return __atomic_load_n(&w->wake_ns, __ATOMIC_ACQUIRE);
}

#endif /* KP_LOOP_HOOKS_H */
