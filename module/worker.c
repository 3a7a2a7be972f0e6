// SPDX-License-Identifier: GPL-2.0
/*
 * kthread_perf: the worker kthread, the kernel's hooks for the shared
 * worker loop (workload/kp_loop.h), the stop that wakes a worker from each
 * of its waits, and what a worker counts about itself.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/net.h>
#include <linux/ktime.h>
#include <linux/sched.h>
#include <linux/smp.h>
#include <linux/string.h>

#include "kthread_perf.h"

static inline struct kp_shared *kp_shared(struct kp_worker *w)
{
	return &w->run->shared;
}

static inline void kp_op_atomic(struct kp_shared *s)
{
	atomic64_inc(&s->counter);
}

/* Macros, so that sparse sees the lock and unlock in kp_do_ops(). */
#define kp_spin_lock(s)		spin_lock(&(s)->lock)
#define kp_spin_unlock(s)	spin_unlock(&(s)->lock)
#define kp_mutex_lock(s)	mutex_lock(&(s)->mutex)
#define kp_mutex_unlock(s)	mutex_unlock(&(s)->mutex)

static inline u64 *kp_locked_counter(struct kp_shared *s)
{
	return &s->locked_counter;
}

static inline u64 kp_now_ns(void)
{
	return ktime_get_ns();
}

static inline void kp_wait_yield(struct kp_worker *w)
{
	/* yield() is deliberate: it is the scheduling event being measured. */
	yield();
}

/*
 * Sleep sleep_us in TASK_IDLE (no load, no hung-task report), or one tick
 * when it is 0.  A stop wakes the hrtimer sleep early.
 */
static void kp_wait_sleep(struct kp_worker *w)
{
	ktime_t expires;

	if (!w->cfg->sleep_us) {
		schedule_timeout_idle(1);
		return;
	}
	expires = ktime_add_us(ktime_get(), w->cfg->sleep_us);
	for (;;) {
		set_current_state(TASK_IDLE);
		if (READ_ONCE(w->run->stop))
			break;
		if (!schedule_hrtimeout_range(&expires, 0, HRTIMER_MODE_ABS))
			return;
	}
	__set_current_state(TASK_RUNNING);
}

/*
 * Hand the turn to the partner: its wake time first, then the token that
 * publishes it, then the wake-up.
 */
static inline void kp_pp_give(struct kp_worker *w, u64 now)
{
	struct kp_worker *p = w->partner;

	WRITE_ONCE(p->pp_wake_ns, now);
	/* Publishes pp_wake_ns to the partner's acquire in kp_pp_take(). */
	smp_store_release(&p->pp_token, 1);
	wake_up(&p->pp_wq);
}

/* Wait for the turn (or a stop); return when the partner handed it over. */
static inline u64 kp_pp_take(struct kp_worker *w)
{
	/* Acquire: pp_wake_ns, written before the token, is read below. */
	wait_event_idle(w->pp_wq, smp_load_acquire(&w->pp_token) ||
			READ_ONCE(w->run->stop));
	WRITE_ONCE(w->pp_token, 0);
	return READ_ONCE(w->pp_wake_ns);
}

/*
 * Block mode: the partner's wake time, then one byte into our end of the
 * pair's socket; the partner's plain blocking read() of its end returns.
 */
static void kp_blk_give(struct kp_worker *w, u64 now)
{
	struct kvec iov = { .iov_base = "x", .iov_len = 1 };
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };	/* after a stop */

	/* Publishes pp_wake_ns to the partner's acquire in kp_blk_take(). */
	smp_store_release(&w->partner->pp_wake_ns, now);
	kernel_sendmsg(w->blk_sock, &msg, &iov, 1, 1);
}

/* Read one byte, blocking; a stop shuts the socket down (read returns 0). */
static u64 kp_blk_take(struct kp_worker *w)
{
	char c;
	struct kvec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr msg = { };

	if (kernel_recvmsg(w->blk_sock, &msg, &iov, 1, 1, 0) != 1)
		return ktime_get_ns();
	/* Pairs with the release in the partner's kp_blk_give(). */
	return smp_load_acquire(&w->pp_wake_ns);
}

/*
 * Barrier mode: the module's own barrier, generation-counted on a wait
 * queue.  The last of the run's workers to arrive opens the generation; a
 * stop releases every waiter (and every worker then stops).
 */
static void kp_barrier_wait(struct kp_worker *w)
{
	struct kp_run *run = w->run;
	u64 gen;

	spin_lock(&run->bar_lock);
	gen = run->bar_gen;
	if (++run->bar_waiting == run->nr_workers) {
		run->bar_waiting = 0;
		WRITE_ONCE(run->bar_gen, gen + 1);
		spin_unlock(&run->bar_lock);
		wake_up_all(&run->bar_wq);
		return;
	}
	spin_unlock(&run->bar_lock);
	wait_event_idle(run->bar_wq, READ_ONCE(run->bar_gen) != gen ||
			READ_ONCE(run->stop));
}

static int kp_spawn_child(void *unused)
{
	return 0;
}

/*
 * Set the run's stop flag and wake every worker wherever it waits (each
 * wait of this file, and the controller's); returns at once.  A worker
 * whose spawn fails calls it too.
 */
void kp_run_request_stop(struct kp_run *run)
{
	struct kp_worker *w;
	unsigned int i;

	WRITE_ONCE(run->stop, true);
	smp_mb();	/* the flag before the wake-ups; pairs with the waits */
	wake_up_all(&run->start_wq);
	wake_up_all(&run->bar_wq);
	for (i = 0; i < run->nr_workers; i++) {
		w = run->workers[i];
		wake_up(&w->pp_wq);
		wake_up_process(w->task);	/* an hrtimer or tick sleep */
		if (w->blk_sock)		/* a read() on the socket */
			kernel_sock_shutdown(w->blk_sock, SHUT_RDWR);
	}
	wake_up(&run->ctl_wq);
}

/*
 * Spawn mode: create a kthread (on the worker's CPU when it is bound),
 * wake it and join it with kthread_stop(); its body returns at once.  A
 * failure stops the run, which then ends as failed.
 */
static void kp_spawn_join(struct kp_worker *w)
{
	struct kp_run *run = w->run;
	struct task_struct *child;
	int inject = READ_ONCE(kp_inject_fail_spawn);

	if (inject > 0 && atomic_inc_return(&run->spawns) == inject)
		child = ERR_PTR(-ENOMEM);
	else
		child = kthread_create(kp_spawn_child, NULL, "kp_spawn/%u", w->id);
	if (IS_ERR(child)) {
		if (!cmpxchg(&run->spawn_err, 0, PTR_ERR(child)))
			pr_err("worker %u: cannot create a thread to spawn: %ld\n",
			       w->id, PTR_ERR(child));
		kp_run_request_stop(run);
		return;
	}
	get_task_struct(child);
	if (w->cpu >= 0)
		kthread_bind(child, w->cpu);
	wake_up_process(child);
	kthread_stop(child);
	put_task_struct(child);
}

/*
 * Around the update of a timed wait: the worker is the only writer of its
 * sequence count, and cannot be preempted while it is odd, so a reader
 * (kp_stats_read()) never spins behind a worker that is not running.  A
 * reader that keeps losing the race to the worker's writes holds it off
 * (kp_run_hist()); the worker lets others run until the reader is done.
 */
static inline void kp_stats_write_begin(struct kp_worker *w)
{
	/* Pairs with the release in kp_worker_snapshot(). */
	while (unlikely(smp_load_acquire(&w->hold)))
		cond_resched();
	preempt_disable();
	write_seqcount_begin(&w->st.seq);
}

static inline void kp_stats_write_end(struct kp_worker *w)
{
	write_seqcount_end(&w->st.seq);
	preempt_enable();
}

static inline bool kp_should_stop(struct kp_worker *w)
{
	return READ_ONCE(w->run->stop);
}

/* Chunk boundary: the voluntary-preemption kernel needs this to share. */
static inline void kp_relax(struct kp_worker *w)
{
	cond_resched();
}

#include "kp_loop.h"

/*
 * Wait until every worker has reached this point, so that they start the
 * workload together.  The last one to arrive takes the start time.
 */
static void kp_start_barrier(struct kp_run *run)
{
	if (atomic_dec_and_test(&run->arriving)) {
		WRITE_ONCE(run->start_ns, ktime_get_ns());
		/* Publishes start_ns to kp_run_elapsed(). */
		smp_store_release(&run->go, true);
		wake_up_all(&run->start_wq);
		return;
	}
	/* Pairs with the release above (nothing read after it, though). */
	wait_event_idle(run->start_wq, smp_load_acquire(&run->go) ||
			READ_ONCE(run->stop));
}

/* Now, and the task's switches so far (it may be running elsewhere). */
static void kp_take_sample(struct task_struct *t, struct kp_sample *s)
{
	s->ns = ktime_get_ns();
	s->nvcsw = READ_ONCE(t->nvcsw);
	s->nivcsw = READ_ONCE(t->nivcsw);
}

/*
 * A finished worker idles until the controller kthread_stop()s it.  Just
 * woken, its sum_exec_runtime is exact up to the moment it blocked, so it
 * is taken here rather than after the exit path has added to it.
 */
static void kp_wait_for_kthread_stop(struct kp_worker *w)
{
	for (;;) {
		set_current_state(TASK_IDLE);
		if (kthread_should_stop())
			break;
		schedule();
	}
	__set_current_state(TASK_RUNNING);
	w->end_runtime = current->se.sum_exec_runtime;
}

/*
 * The worker kthread: start barrier, the workload, then report being
 * finished and wait to be stopped.  It snapshots its own context-switch
 * counts around the work.
 */
int kp_worker_fn(void *arg)
{
	struct kp_worker *w = arg;
	struct kp_run *run = w->run;

	kp_start_barrier(run);
	/*
	 * sum_exec_runtime is brought up to date only when the scheduler
	 * picks a task; the last worker through the barrier has not slept
	 * there, so let the scheduler run before the snapshot below.
	 */
	schedule();
	if (!READ_ONCE(run->stop)) {
		w->start_runtime = current->se.sum_exec_runtime;
		kp_take_sample(current, &w->start);
		/* Publishes the start snapshots to kp_phase(). */
		smp_store_release(&w->phase, KP_PHASE_WORKING);

		kp_run_workload(w);

		w->last_cpu = raw_smp_processor_id();
		kp_take_sample(current, &w->end);
		/* Publishes the end snapshots to kp_phase(). */
		smp_store_release(&w->phase, KP_PHASE_FINISHED);
	}
	if (atomic_dec_and_test(&run->active))
		wake_up(&run->ctl_wq);
	kp_wait_for_kthread_stop(w);
	return 0;
}

/*
 * The statistics below are read while the worker runs, so they read its
 * snapshots according to its published phase and the task's live
 * counters with READ_ONCE().
 */
static int kp_phase(struct kp_worker *w)
{
	/* Pairs with the worker's releases: the snapshots are valid. */
	return smp_load_acquire(&w->phase);
}

/*
 * The worker's switches and wall-clock time over its workload so far:
 * nothing before it starts, live while it works, final once it has
 * finished.
 */
void kp_worker_so_far(struct kp_worker *w, struct kp_sample *d)
{
	struct kp_sample now;
	const struct kp_sample *end = &now;

	switch (kp_phase(w)) {
	case KP_PHASE_WORKING:
		kp_take_sample(w->task, &now);
		break;
	case KP_PHASE_FINISHED:
		end = &w->end;
		break;
	default:
		memset(d, 0, sizeof(*d));
		return;
	}
	d->ns = end->ns - w->start.ns;
	d->nvcsw = end->nvcsw - w->start.nvcsw;
	d->nivcsw = end->nivcsw - w->start.nivcsw;
}

/*
 * CPU time of the worker's workload.  sum_exec_runtime lags while the task
 * is on a CPU, so the live value is approximate; the exact one is taken by
 * the worker once it has blocked after the work, and published when the
 * controller has reaped it.
 */
u64 kp_worker_cputime_ns(struct kp_worker *w)
{
	/* Pairs with kp_reap_workers(): cputime_ns is valid. */
	if (smp_load_acquire(&w->reaped))
		return w->cputime_ns;
	if (kp_phase(w) == KP_PHASE_NEW)
		return 0;
	return READ_ONCE(w->task->se.sum_exec_runtime) - w->start_runtime;
}

/* The CPU the workload ended on, or where the task is now. */
int kp_worker_last_cpu(struct kp_worker *w)
{
	if (kp_phase(w) == KP_PHASE_FINISHED)
		return w->last_cpu;
	return task_cpu(w->task);
}
