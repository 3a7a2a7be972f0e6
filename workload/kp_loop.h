/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kthread_perf: the worker loop of SPEC.md section 2, written once.
 *
 * The kernel module, pthread_bench and coro_bench include this file after
 * defining struct kp_worker and the hooks below, so that every model runs
 * the same instructions between its own primitives.  The hot loop counts
 * in a local and touches nothing but the counter; timestamps are taken
 * only around the timed waits (every latency_sample-th, none with 0).
 *
 * struct kp_worker must have the members
 *	unsigned int id;			worker index 0..thread_count-1
 *	const struct kp_config *cfg;
 *	struct kp_stats st;
 *
 * struct kp_shared holds what the workers share: the counter and the locks.
 * The includer defines (static inline, or macros):
 *	struct kp_shared *kp_shared(struct kp_worker *w);
 *	void kp_op_atomic(struct kp_shared *s);		atomic ++ of the counter
 *	void kp_spin_lock(struct kp_shared *s);		and kp_spin_unlock()
 *	void kp_mutex_lock(struct kp_shared *s);	and kp_mutex_unlock()
 *	u64 *kp_locked_counter(struct kp_shared *s);	counter under either lock
 *	u64 kp_now_ns(void);				monotonic clock
 *	void kp_stats_write_begin(struct kp_worker *w);	and _end(): around the
 *							update of a timed wait
 *							(w->st.seq)
 *	void kp_wait_yield(struct kp_worker *w);	give up the CPU
 *	void kp_wait_sleep(struct kp_worker *w);	sleep cfg->sleep_us (0: a tick)
 *	void kp_pp_give(struct kp_worker *w, u64 now);	store now (0: the wait
 *							is not timed) as the partner's
 *							wake time, hand it the
 *							turn and wake it
 *	u64 kp_pp_take(struct kp_worker *w);		wait for the turn; return
 *							the partner's wake time
 *	void kp_blk_give(struct kp_worker *w, u64 now);	block mode: the same, the
 *	u64 kp_blk_take(struct kp_worker *w);		turn being one byte written
 *							to the partner's socket and
 *							read from the own one with
 *							a plain blocking read()
 *	void kp_barrier_wait(struct kp_worker *w);	barrier mode: meet every
 *							other worker
 *	void kp_spawn_join(struct kp_worker *w);	spawn mode: create a thread
 *							of the model whose body
 *							returns at once, join it
 *	bool kp_should_stop(struct kp_worker *w);	stop requested
 *	void kp_relax(struct kp_worker *w);		between chunks (the kernel's
 *							cond_resched())
 *
 * A model whose barrier a stop cannot release (pthread_barrier_t) defines
 * KP_BARRIER_AGREED_STOP and the two hooks of the agreement (kp_barrier()):
 *	void kp_stop_propose(struct kp_worker *w, u64 k);  first proposal wins
 *	u64 kp_stop_agreed(struct kp_worker *w);	   0: none yet
 */
#ifndef KP_LOOP_H
#define KP_LOOP_H

#include "kp_defs.h"

/*
 * n times: take the lock, add one to the locked counter, drop the lock.
 * A macro, so that each sync mode's loop calls its lock directly (and
 * sparse sees the pair).
 */
#define KP_LOCKED_OPS(n, s, locked, lock, unlock)	\
	do {						\
		struct kp_shared *_s = (s);		\
		u64 _i, _n = (n);			\
							\
		for (_i = 0; _i < _n; _i++) {		\
			lock(_s);			\
			(*(locked))++;			\
			unlock(_s);			\
		}					\
	} while (0)

/*
 * n operations on the shared counter in the configured sync mode.  The
 * shared object's address is taken once, in a local: an atomic with a
 * memory clobber would otherwise make every operation reload it.
 */
static __always_inline void kp_do_ops(struct kp_worker *w, u64 n)
{
	struct kp_shared *s = kp_shared(w);
	u64 *locked = kp_locked_counter(s);
	u64 i;

	switch (w->cfg->sync_mode) {
	case KP_SYNC_ATOMIC:
		for (i = 0; i < n; i++)
			kp_op_atomic(s);
		break;
	case KP_SYNC_SPINLOCK:
		KP_LOCKED_OPS(n, s, locked, kp_spin_lock, kp_spin_unlock);
		break;
	case KP_SYNC_MUTEX:
		KP_LOCKED_OPS(n, s, locked, kp_mutex_lock, kp_mutex_unlock);
		break;
	default: /* KP_SYNC_PERCPU: a real store per operation, never folded */
		for (i = 0; i < n; i++)
			WRITE_ONCE(w->st.private_count,
				   READ_ONCE(w->st.private_count) + 1);
		break;
	}
}

/*
 * Whether the worker's next wait is timed: every latency_sample-th one,
 * counted down without a division (wait j, from 1, is timed iff
 * j % latency_sample == 0).  With latency_sample 0 the count starts at
 * U64_MAX and never reaches 0 (a run has at most 10^12 waits).
 */
static inline bool kp_next_wait_timed(struct kp_worker *w)
{
	if (--w->st.sample_left)
		return false;
	w->st.sample_left = w->cfg->latency_sample;
	return true;
}

/* The clock, read only for a timed wait (0 otherwise). */
static inline u64 kp_stamp(bool timed)
{
	return timed ? kp_now_ns() : 0;
}

/*
 * Count a wait; a timed one (begun at since) also goes into the
 * histogram, inside the sequence count, so that a reader sees waits and
 * samples agree.
 */
static inline void kp_record_wait(struct kp_worker *w, bool timed, u64 since)
{
	u64 now;

	if (!timed) {
		KP_STAT_STORE(w->st.waits, w->st.waits + 1);
		return;
	}
	now = kp_now_ns();
	kp_stats_write_begin(w);
	kp_hist_add(w->st.hist, now > since ? now - since : 0);
	KP_STAT_STORE(w->st.waits, w->st.waits + 1);
	kp_stats_write_end(w);
}

/*
 * Ping-pong (and block) turn order.  Workers 2p and 2p+1 are partners; the even one
 * starts.  With n = work_target / yield_interval, at each boundary
 * k = 1..n both hand the turn over; the even one then waits for it back
 * every time, the odd one before its first chunk and at every boundary
 * but the last.  So each waits exactly n times and each wait ends with
 * the partner's hand-over.
 *
 * The hand-over at boundary k ends the partner's k-th wait: the even
 * worker's take at k, or the odd worker's take at k - 1 (its first is at
 * 0).  So the giver stamps it (reads the clock) only when that wait is
 * timed: for the even worker the same count as its own k-th wait, taken
 * right after; for the odd worker the count of its own previous take.
 */
static inline void kp_pingpong(struct kp_worker *w, u64 k, u64 n)
{
	bool block = w->cfg->work_mode == KP_WORK_BLOCK;
	bool odd = w->id & 1;
	bool timed = odd ? w->st.pp_timed : kp_next_wait_timed(w);
	u64 since;

	if (k) {
		if (block)
			kp_blk_give(w, kp_stamp(timed));
		else
			kp_pp_give(w, kp_stamp(timed));
	}
	if (odd) {
		if (k == n)
			return;
		timed = kp_next_wait_timed(w);
		w->st.pp_timed = timed;
	}
	since = block ? kp_blk_take(w) : kp_pp_take(w);
	if (!kp_should_stop(w))
		kp_record_wait(w, timed, since);
}

/*
 * Barrier mode.  Where a stop releases the barrier (the module's), it ends
 * the run for every worker at once.  Where nothing can release it, no
 * worker may stop while another still has to arrive, so the workers agree
 * on the barrier to stop after: one that sees the stop before arriving at
 * barrier k proposes k, the first proposal wins, and after leaving barrier
 * k every worker reads the agreed one.  A proposal made before a barrier
 * is visible to every worker leaving it, so all stop after the same one;
 * between barriers nobody stops.
 */
static inline void kp_barrier(struct kp_worker *w, u64 k)
{
	bool timed;
	u64 since;

#ifdef KP_BARRIER_AGREED_STOP
	u64 agreed;

	if (kp_should_stop(w))
		kp_stop_propose(w, k);
#endif
	timed = kp_next_wait_timed(w);
	since = kp_stamp(timed);
	kp_barrier_wait(w);
	kp_record_wait(w, timed, since);
#ifdef KP_BARRIER_AGREED_STOP
	agreed = kp_stop_agreed(w);
	if (agreed && agreed <= k)
		w->st.barrier_stop = true;
#endif
}

/* Whether the loop ends before its next chunk. */
static inline bool kp_loop_stop(struct kp_worker *w)
{
#ifdef KP_BARRIER_AGREED_STOP
	if (w->cfg->work_mode == KP_WORK_BARRIER)
		return w->st.barrier_stop;
#endif
	return kp_should_stop(w);
}

/*
 * The wait at boundary k of n (k = 0 only for the odd ping-pong worker).
 * Inline in every model's loop: with coro_bench's hooks gcc kept it out
 * of line, a call and a mode dispatch per wait that the other models and
 * the Boost reference loop (coro/bench/boost_yield.c) did not pay.
 */
static __always_inline void kp_wait(struct kp_worker *w, u64 k, u64 n)
{
	u32 mode = w->cfg->work_mode;
	bool timed;
	u64 since;

	if (kp_work_paired(mode)) {
		kp_pingpong(w, k, n);
		return;
	}
	if (mode == KP_WORK_BARRIER) {
		kp_barrier(w, k);
		return;
	}
	timed = kp_next_wait_timed(w);
	since = kp_stamp(timed);
	if (mode == KP_WORK_YIELD)
		kp_wait_yield(w);
	else if (mode == KP_WORK_SLEEP)
		kp_wait_sleep(w);
	else
		kp_spawn_join(w);
	kp_record_wait(w, timed, since);
}

/*
 * Run the workload of one worker to its end or until a stop is requested.
 * w->st.ops is published after every chunk of at most KP_CHUNK operations.
 */
static inline void kp_run_workload(struct kp_worker *w)
{
	const struct kp_config *c = w->cfg;
	u64 target = c->work_target;
	u64 n = kp_waits_per_worker(c);
	u64 next = n ? c->yield_interval : target + 1;
	u64 done = 0, k = 0, end;

	w->st.sample_left = c->latency_sample ? c->latency_sample : ~0ULL;
	if (kp_work_paired(c->work_mode) && (w->id & 1) && n)
		kp_wait(w, 0, n);
	while (done < target && !kp_loop_stop(w)) {
		end = done + KP_CHUNK;
		if (end > next)
			end = next;
		if (end > target)
			end = target;
		kp_do_ops(w, end - done);
		done = end;
		WRITE_ONCE(w->st.ops, done);
		if (done == next) {
			kp_wait(w, ++k, n);
			next = k < n ? next + c->yield_interval : target + 1;
		}
		kp_relax(w);
	}
}

#endif /* KP_LOOP_H */
