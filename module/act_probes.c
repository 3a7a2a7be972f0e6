// SPDX-License-Identifier: GPL-2.0
/*
 * kthread_perf: the scheduler side of activations (SPEC.md section 9).
 *
 * Probes on sched_switch (BLOCKED; PREEMPTED and RESUMED for the
 * registrations that ask), sched_wakeup (UNBLOCKED), sched_process_exec
 * and sched_process_exit (the registration ends).  The tracepoints are
 * not exported to modules: for_each_kernel_tracepoint() finds them.  The
 * switch and wake-up probes run inside the scheduler with a run-queue
 * lock held: they look the task up without a lock, append to the file's
 * queue under its raw spinlock and queue an irq_work, which wakes the
 * readers once the scheduler's locks are gone.  Nothing here sleeps,
 * allocates or wakes a task, and every lock is raw, so the probes are
 * safe on PREEMPT_RT too.
 *
 * The hash table is sized when the probes attach, from the limit on
 * registrations (act_max_registrations, fixed at load), at one bucket per
 * two registrations: a lookup costs the same whether one thread or the
 * limit is registered.  A switch looks prev up only if prev blocks, and
 * never looks next up, unless some registration asked for PREEMPTED and
 * RESUMED: then it reads one counter of the preemption filter (act.h) for
 * a prev that stays runnable and one for next, and looks up only a task
 * whose counter is not 0.  So a switch between tasks that did not ask
 * still looks up at most one of them (a blocking prev), unless one shares
 * a counter with a task that asked.
 *
 * The probes attach on the first registration and detach a second after
 * the last one, so a machine where nobody is registered runs none of
 * this, and a loop of register and unregister patches no kernel text
 * (each attach and detach flips static keys, which interrupts every CPU).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hash.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/tracepoint.h>
#include <trace/events/sched.h>

#include "act.h"

#define KP_ACT_DETACH_DELAY	HZ

static struct tracepoint *tp_switch, *tp_wakeup, *tp_exec, *tp_exit;

/*
 * p's registration, or NULL.  Under rcu_read_lock(), or with preemption
 * off: since the RCU flavours were merged (4.20) a grace period waits for
 * such a section too, so the switch and wake-up probes, which the
 * scheduler calls with preemption off, save an rcu_read_lock() and its
 * unlock on every switch and wake-up of every task.
 */
struct kp_act_reg *kp_act_find(struct task_struct *p)
{
	struct kp_act_hash *h = rcu_dereference_check(kp_act.hash,
						      rcu_read_lock_any_held());
	struct kp_act_reg *r;

	if (!h)
		return NULL;
	hlist_for_each_entry_rcu(r, &h->b[hash_ptr(p, h->bits)], hnode)
		if (r->task == p)
			return r;
	return NULL;
}

/* r's task's counter of the preemption filter. */
static unsigned int *kp_act_pfilter(struct task_struct *p)
{
	return &kp_act.pfilter[hash_ptr(p, KP_ACT_PFILTER_BITS)];
}

/* r asks for PREEMPTED (add 1) or no longer does (-1).  Under kp_act.lock. */
static void kp_act_pcount(struct kp_act_reg *r, int d)
{
	unsigned int *c = kp_act_pfilter(r->task);

	if (!(r->flags & KP_ACT_REG_PREEMPT))
		return;
	WRITE_ONCE(*c, *c + d);
	WRITE_ONCE(kp_act.nr_preempt_regs, kp_act.nr_preempt_regs + d);
}

/* Under kp_act.lock, with the probes attached. */
void kp_act_hash_add(struct kp_act_reg *r)
{
	struct kp_act_hash *h = rcu_dereference_protected(kp_act.hash,
				lockdep_is_held(&kp_act.lock));

	hlist_add_head_rcu(&r->hnode, &h->b[hash_ptr(r->task, h->bits)]);
	kp_act_pcount(r, 1);
}

/*
 * Take r out of the hash and its file's list; the caller frees it after a
 * grace period, and calls kp_act_idle() if this returns true (the last
 * registration ended) once it has dropped kp_act.lock: nothing that
 * allocates or takes a sleeping lock runs under that raw lock (debug
 * objects allocate in mod_delayed_work(), and lockdep's wait-context check
 * says so).  Under kp_act.lock.
 */
static bool kp_act_unlink(struct kp_act_reg *r)
{
	hlist_del_rcu(&r->hnode);
	kp_act_pcount(r, -1);
	list_del(&r->fnode);
	r->linked = false;
	r->file->user->regs--;
	return !--kp_act.nr_regs;
}

/* Nobody is registered: detach the probes in a while, unless somebody is. */
static void kp_act_idle(void)
{
	mod_delayed_work(system_wq, &kp_act.detach, KP_ACT_DETACH_DELAY);
}

/*
 * End r unless it has ended; false if it had.  Any context but the
 * scheduler's, under rcu_read_lock() (r may be ending elsewhere).
 */
bool kp_act_end(struct kp_act_reg *r)
{
	bool ended, idle = false;

	raw_spin_lock(&kp_act.lock);
	ended = r->linked;
	if (ended)
		idle = kp_act_unlink(r);
	raw_spin_unlock(&kp_act.lock);
	if (idle)
		kp_act_idle();
	if (ended)
		kfree_rcu(r, rcu);
	return ended;
}

/* The last close: end every registration of f. */
void kp_act_release_regs(struct kp_act_file *f)
{
	struct kp_act_reg *r, *tmp;
	LIST_HEAD(gone);
	bool idle = false;

	raw_spin_lock(&kp_act.lock);
	list_for_each_entry_safe(r, tmp, &f->regs, fnode) {
		idle |= kp_act_unlink(r);
		list_add(&r->fnode, &gone);
	}
	raw_spin_unlock(&kp_act.lock);
	if (idle)
		kp_act_idle();
	list_for_each_entry_safe(r, tmp, &gone, fnode)
		kfree_rcu(r, rcu);
}

/* Append an event to f's queue, which has room.  Under f->qlock. */
static void kp_act_append(struct kp_act_file *f, struct kp_act_event e)
{
	f->q[(f->head + f->len) % KP_ACT_QUEUE] = e;
	f->len++;
}

/*
 * Queue one event for r's file and have its readers woken.  Any context.
 * Once the queue has dropped events, the next event that finds room for
 * two is preceded by a LOST record that counts them, so LOST stands
 * where the events went missing (the last one, if no event follows, is
 * added by the reader: kp_act_peek()).
 *
 * PREEMPTED and RESUMED wake nobody until the queue is half full: the
 * reader is a thread too, and woken for them it would preempt the
 * registered threads it watches on a busy CPU, each preemption an event
 * that wakes it again.  A reader gets them with the next event that does
 * wake it, or reads them when it wants to know (a non-blocking read()).
 */
static bool kp_act_post(struct kp_act_reg *r, u32 type, u64 seq)
{
	struct kp_act_event e = { .type = type, .tid = r->tid,
				  .cookie = r->cookie, .seq = seq,
				  .time_ns = ktime_get_mono_fast_ns() };
	bool lazy = type == KP_ACT_PREEMPTED || type == KP_ACT_RESUMED;
	struct kp_act_file *f = r->file;
	unsigned long flags;
	bool queued, wake;

	raw_spin_lock_irqsave(&f->qlock, flags);
	queued = f->len + (f->lost ? 2 : 1) <= KP_ACT_QUEUE;
	if (queued && f->lost) {
		kp_act_append(f, (struct kp_act_event){
			.type = KP_ACT_LOST, .cookie = f->lost,
			.time_ns = e.time_ns });
		f->lost = 0;
		f->lost_flushes++;
	}
	if (queued)
		kp_act_append(f, e);
	else
		f->lost++;
	wake = !lazy || !queued || f->len >= KP_ACT_QUEUE / 2;
	raw_spin_unlock_irqrestore(&f->qlock, flags);
	if (wake)
		irq_work_queue(&f->wake);
	return queued;
}

/* r is p's registration and p still runs the program that registered. */
static struct kp_act_reg *kp_act_live(struct task_struct *p)
{
	struct kp_act_reg *r = kp_act_find(p);

	return r && r->exec_id == READ_ONCE(p->self_exec_id) ? r : NULL;
}

/*
 * p may hold a registration that asked for PREEMPTED: some registration
 * did, and p's counter of the filter is not 0 (act.h).
 */
static bool kp_act_may_preempt(struct task_struct *p)
{
	return READ_ONCE(kp_act.nr_preempt_regs) &&
	       READ_ONCE(*kp_act_pfilter(p));
}

/* prev leaves the CPU and stays runnable: PREEMPTED, if it asked. */
static void kp_act_preempt(struct task_struct *prev)
{
	struct kp_act_reg *r;

	if (!kp_act_may_preempt(prev))
		return;
	r = kp_act_live(prev);
	if (r && (r->flags & KP_ACT_REG_PREEMPT) && !r->preempted) {
		r->pseq++;
		/* A dropped PREEMPTED leaves no RESUMED to follow it. */
		r->preempted = kp_act_post(r, KP_ACT_PREEMPTED, r->pseq);
	}
}

/* next gets the CPU: RESUMED, if its PREEMPTED was queued. */
static void kp_act_resume(struct task_struct *next)
{
	struct kp_act_reg *r;

	if (!kp_act_may_preempt(next))
		return;
	r = kp_act_live(next);
	if (r && r->preempted) {
		r->preempted = false;
		kp_act_post(r, KP_ACT_RESUMED, r->pseq);
	}
}

/*
 * prev leaves the CPU.  A block only if it also left its run queue:
 * prev_state is read before __schedule() looks for a pending signal, and
 * a task with one stays queued, runnable (psi asks on_rq for the same
 * reason).  Preemption (or a yield) leaves it queued as well.  Either way
 * the task left the CPU runnable: a PREEMPTED, for a registration that
 * asked.  Called with the run queue locked and interrupts off
 * (kp_act_find()).
 *
 * On PREEMPT_RT a spinlock_t or rwlock_t that is held elsewhere puts its
 * waiter to sleep in TASK_RTLOCK_WAIT (schedule_rtlock()).  That is no
 * block in the runtime's sense, as it is none in the workqueue's:
 * schedule_rtlock() bypasses sched_submit_work(), so a kworker waiting
 * for such a lock wakes no other worker.  The holder runs, boosted, and
 * releases it soon; reporting it would flood the queue with pairs a
 * runtime can only answer too late.
 */
static void kp_act_switch(void *data, bool preempt, struct task_struct *prev,
			  struct task_struct *next, unsigned int prev_state)
{
	struct kp_act_reg *r;

	if (READ_ONCE(prev->on_rq)) {
		kp_act_preempt(prev);
	} else if (!(prev_state & TASK_RTLOCK_WAIT)) {
		r = kp_act_live(prev);
		if (r && !r->blocked) {
			r->seq++;
			/* A dropped BLOCKED leaves no UNBLOCKED to follow it. */
			r->blocked = kp_act_post(r, KP_ACT_BLOCKED, r->seq);
		}
	}
	kp_act_resume(next);
}

/*
 * p is runnable again: UNBLOCKED, if its BLOCKED was queued.  Called with
 * preemption off (p's run queue locked, or p waking itself).
 */
static void kp_act_wakeup(void *data, struct task_struct *p)
{
	struct kp_act_reg *r = kp_act_live(p);

	if (r && r->blocked) {
		r->blocked = false;
		kp_act_post(r, KP_ACT_UNBLOCKED, r->seq);
	}
}

/* A registration ends when its thread exits or starts another program. */
static void kp_act_gone(struct task_struct *p)
{
	struct kp_act_reg *r;

	rcu_read_lock();
	r = kp_act_find(p);
	if (r)
		kp_act_end(r);
	rcu_read_unlock();
}

static void kp_act_exec(void *data, struct task_struct *p, pid_t old_pid,
			struct linux_binprm *bprm)
{
	kp_act_gone(p);
}

static void kp_act_exit(void *data, struct task_struct *p)
{
	kp_act_gone(p);
}

static void kp_act_find_tp(struct tracepoint *tp, void *unused)
{
	if (!strcmp(tp->name, "sched_switch"))
		tp_switch = tp;
	else if (!strcmp(tp->name, "sched_wakeup"))
		tp_wakeup = tp;
	else if (!strcmp(tp->name, "sched_process_exec"))
		tp_exec = tp;
	else if (!strcmp(tp->name, "sched_process_exit"))
		tp_exit = tp;
}

static void kp_act_unregister_probes(void)
{
	tracepoint_probe_unregister(tp_exit, kp_act_exit, NULL);
	tracepoint_probe_unregister(tp_exec, kp_act_exec, NULL);
	tracepoint_probe_unregister(tp_wakeup, kp_act_wakeup, NULL);
	tracepoint_probe_unregister(tp_switch, kp_act_switch, NULL);
	/* No probe of ours is running once this returns. */
	tracepoint_synchronize_unregister();
}

/* Attach the probes unless they are.  Under attach_lock. */
int kp_act_attach(void)
{
	struct kp_act_hash *h;
	unsigned int bits;
	int err;

	check_trace_callback_type_sched_switch(kp_act_switch);
	check_trace_callback_type_sched_wakeup(kp_act_wakeup);
	check_trace_callback_type_sched_process_exec(kp_act_exec);
	check_trace_callback_type_sched_process_exit(kp_act_exit);

	lockdep_assert_held(&kp_act.attach_lock);
	if (kp_act.attached)
		return 0;
	if (!tp_switch)
		for_each_kernel_tracepoint(kp_act_find_tp, NULL);
	if (!tp_switch || !tp_wakeup || !tp_exec || !tp_exit) {
		pr_err("activations: scheduler tracepoints not found\n");
		return -ENODEV;
	}
	bits = ilog2(roundup_pow_of_two(max(kp_act_max_regs, 4U))) - 1;
	h = kvzalloc(struct_size(h, b, 1UL << bits), GFP_KERNEL);
	if (!h)
		return -ENOMEM;
	h->bits = bits;
	rcu_assign_pointer(kp_act.hash, h);

	err = tracepoint_probe_register(tp_switch, kp_act_switch, NULL);
	if (err)
		goto out_hash;
	err = tracepoint_probe_register(tp_wakeup, kp_act_wakeup, NULL);
	if (err)
		goto out_switch;
	err = tracepoint_probe_register(tp_exec, kp_act_exec, NULL);
	if (err)
		goto out_wakeup;
	err = tracepoint_probe_register(tp_exit, kp_act_exit, NULL);
	if (err)
		goto out_exec;
	kp_act.attached = true;
	kp_act.attaches++;
	return 0;

out_exec:
	tracepoint_probe_unregister(tp_exec, kp_act_exec, NULL);
out_wakeup:
	tracepoint_probe_unregister(tp_wakeup, kp_act_wakeup, NULL);
out_switch:
	tracepoint_probe_unregister(tp_switch, kp_act_switch, NULL);
	tracepoint_synchronize_unregister();
out_hash:
	RCU_INIT_POINTER(kp_act.hash, NULL);
	kvfree(h);
	return err;
}

/* Detach the probes and free the (empty) hash.  Under attach_lock. */
static void kp_act_detach(void)
{
	struct kp_act_hash *h;

	lockdep_assert_held(&kp_act.attach_lock);
	if (!kp_act.attached)
		return;
	kp_act_unregister_probes();
	kp_act.attached = false;
	h = rcu_dereference_protected(kp_act.hash, true);
	RCU_INIT_POINTER(kp_act.hash, NULL);
	/* Lookups outside the probes (ioctls) run under rcu_read_lock(). */
	synchronize_rcu();
	kvfree(h);
}

/* Detach once nobody has been registered for KP_ACT_DETACH_DELAY. */
void kp_act_detach_fn(struct work_struct *work)
{
	unsigned int n;

	mutex_lock(&kp_act.attach_lock);
	raw_spin_lock(&kp_act.lock);
	n = kp_act.nr_regs;
	raw_spin_unlock(&kp_act.lock);
	if (!n)
		kp_act_detach();
	mutex_unlock(&kp_act.attach_lock);
}

/* At unload: nobody is registered (no file is open). */
void kp_act_detach_now(void)
{
	cancel_delayed_work_sync(&kp_act.detach);
	mutex_lock(&kp_act.attach_lock);
	kp_act_detach();
	mutex_unlock(&kp_act.attach_lock);
}
