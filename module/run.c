// SPDX-License-Identifier: GPL-2.0
/*
 * kthread_perf: the life of a run.  start creates the workers and a
 * controller kthread; the controller waits for the workers to finish (or
 * for a stop), stops them, takes the final statistics and sets the state.
 * This file owns the state machine, the check of a configuration and the
 * names of modes and states; sysfs.c, config.c and debugfs.c only present
 * them.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/err.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/net.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/sysfs.h>
#include <net/net_namespace.h>

#include "kthread_perf.h"

/* The names of the modes and states, as sysfs and debugfs spell them. */
const char * const kp_work_mode_names[KP_WORK_NR] = KP_WORK_MODE_NAMES;
const char * const kp_sync_mode_names[KP_SYNC_NR] = KP_SYNC_MODE_NAMES;

/* Whether a configuration can be started now; 0 or -EINVAL. */
int kp_config_check(const struct kp_config *cfg)
{
	if (cfg->thread_count < 1 || cfg->thread_count > kp_max_threads)
		return -EINVAL;
	if (kp_work_paired(cfg->work_mode) && cfg->thread_count % 2)
		return -EINVAL;
	if (cfg->bind_cpu_count > num_online_cpus())
		return -EINVAL;
	return 0;
}

const char * const kp_state_names[KP_STATE_NR] = {
	[KP_STATE_IDLE] = "idle",
	[KP_STATE_RUNNING] = "running",
	[KP_STATE_DONE] = "done",
	[KP_STATE_STOPPED] = "stopped",
	[KP_STATE_FAILED] = "failed",
};

/*
 * Change the state and wake pollers of the state file.  Only start
 * (under kp.lock) leaves a non-running state and only the run's
 * controller leaves running, so the writers never race.
 */
void kp_set_state(int state)
{
	/* A reader of kp_get_state() sees the results that led to it. */
	smp_store_release(&kp.state, state);
	sysfs_notify(kp.root, NULL, "state");
}

int kp_get_state(void)
{
	/* Pairs with kp_set_state(). */
	return smp_load_acquire(&kp.state);
}

/*
 * A start has replaced kp.run (under kp.lock): publish its state first,
 * then its run_id, then wake the pollers.  A reader that sees the new
 * run_id (acquire) then sees the new run's state, never the last run's
 * done; one that reads run_id again after the files it read knows whether
 * they all belong to one run (the results are read under kp.lock, which
 * start holds throughout).
 */
static void kp_publish_start(int state)
{
	/* Pairs with kp_get_state(): the run's results before its state. */
	smp_store_release(&kp.state, state);
	/* Pairs with kp_get_run_id(): the state before the run_id. */
	smp_store_release(&kp.run_id, kp.run_id + 1);
	sysfs_notify(kp.root, NULL, "state");
}

u64 kp_get_run_id(void)
{
	/* Pairs with kp_publish_start(). */
	return smp_load_acquire(&kp.run_id);
}

/* The n-th online CPU, counting from 0; the caller holds cpus_read_lock(). */
static int kp_nth_online_cpu(unsigned int n)
{
	int cpu;

	for_each_online_cpu(cpu)
		if (!n--)
			return cpu;
	return -1;
}

/*
 * Allocate worker i and create its kthread, bound before it ever runs;
 * the caller holds cpus_read_lock() until it is woken.
 * The worker is stored in run->workers[i] even on failure, so that the
 * run's teardown frees it.
 */
static int kp_worker_create(struct kp_run *run, unsigned int i)
{
	struct task_struct *task;
	struct kp_worker *w;

	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (!w)
		return -ENOMEM;
	w->id = i;
	w->cfg = &run->cfg;
	w->run = run;
	w->cpu = -1;
	w->last_cpu = -1;
	seqcount_init(&w->st.seq);
	init_waitqueue_head(&w->pp_wq);
	kp_worker_init_kobj(w);
	run->workers[i] = w;

	if (kp_wants_hist(&run->cfg)) {
		w->st.hist = kvzalloc(sizeof(*w->st.hist), GFP_KERNEL);
		if (!w->st.hist)
			return -ENOMEM;
	}

	if (run->cfg.bind_cpu_count) {
		w->cpu = kp_nth_online_cpu(i % run->cfg.bind_cpu_count);
		if (w->cpu < 0)
			return -EINVAL;	/* CPUs went offline since the check */
	}
	if (i == READ_ONCE(kp_inject_fail_worker))
		return -ENOMEM;

	task = kthread_create(kp_worker_fn, w, "kp_worker/%u", i);
	if (IS_ERR(task))
		return PTR_ERR(task);
	get_task_struct(task);
	w->task = task;
	w->pid = task_pid_nr(task);
	if (w->cpu >= 0)
		kthread_bind(task, w->cpu);
	return 0;
}

/*
 * Stop the kthreads of a run that never started, or whose workers have
 * all finished.  kthread_stop() on a never-woken kthread is safe: its
 * thread function is then never called.
 */
static void kp_reap_workers(struct kp_run *run)
{
	struct kp_worker *w;
	unsigned int i;

	for (i = 0; i < run->nr_workers; i++) {
		w = run->workers[i];
		if (!w || !w->task || w->reaped)
			continue;
		kthread_stop(w->task);
		/* The worker has exited: end_runtime is written. */
		if (w->phase != KP_PHASE_NEW)
			w->cputime_ns = w->end_runtime - w->start_runtime;
		/* Publishes cputime_ns to kp_worker_cputime_ns(). */
		smp_store_release(&w->reaped, true);
	}
}

/*
 * Block mode: the two ends of one AF_UNIX stream socketpair, made as
 * socketpair(2) makes them.  (Debian's 6.1 does not export
 * create_pipe_files(), so every model uses a socketpair, not a pipe.)
 */
static int kp_blk_pair(struct kp_worker *a, struct kp_worker *b)
{
	int err;

	err = sock_create_kern(&init_net, AF_UNIX, SOCK_STREAM, 0, &a->blk_sock);
	if (err)
		return err;
	err = sock_create_kern(&init_net, AF_UNIX, SOCK_STREAM, 0, &b->blk_sock);
	if (err)
		return err;
	return a->blk_sock->ops->socketpair(a->blk_sock, b->blk_sock);
}

/* Close the sockets of a run whose workers are gone. */
static void kp_blk_release(struct kp_run *run)
{
	struct kp_worker *w;
	unsigned int i;

	for (i = 0; i < run->nr_workers; i++) {
		w = run->workers[i];
		if (w && w->blk_sock) {
			sock_release(w->blk_sock);
			w->blk_sock = NULL;
		}
	}
}

/* Total operations of a run, live. */
static u64 kp_run_ops(struct kp_run *run)
{
	u64 ops = 0;
	unsigned int i;

	for (i = 0; i < run->nr_workers; i++)
		ops += READ_ONCE(run->workers[i]->st.ops);
	return ops;
}

/* Take the end of the run: the end of the last worker to finish. */
static void kp_run_end(struct kp_run *run)
{
	u64 end = READ_ONCE(run->start_ns);
	struct kp_worker *w;
	unsigned int i;

	for (i = 0; i < run->nr_workers; i++) {
		w = run->workers[i];
		if (w->phase == KP_PHASE_FINISHED && w->end.ns > end)
			end = w->end.ns;
	}
	run->end_ns = end;
	/* Publishes end_ns to kp_run_elapsed(). */
	smp_store_release(&run->ended, true);
}

/*
 * The controller kthread of a run: wait for the workers to finish or for
 * a stop, stop them, take the final statistics, set the state.  It exits
 * through kthread_complete_and_exit(), so no module code runs after the
 * completion that lets the run be freed.
 */
static int kp_controller_fn(void *arg)
{
	struct kp_run *run = arg;
	u64 expected = (u64)run->cfg.thread_count * run->cfg.work_target;
	bool stopped;

	wait_event_idle(run->ctl_wq, !atomic_read(&run->active) ||
			READ_ONCE(run->stop));
	kp_reap_workers(run);
	kp_run_end(run);
	stopped = READ_ONCE(run->stop) && kp_run_ops(run) < expected;
	if (READ_ONCE(run->spawn_err))
		kp_set_state(KP_STATE_FAILED);
	else
		kp_set_state(stopped ? KP_STATE_STOPPED : KP_STATE_DONE);
	kthread_complete_and_exit(&run->finished, 0);
}

/*
 * Wait until the controller has finished the run.  Its completion counts
 * once (kthread_complete_and_exit() calls complete()), so the first waiter
 * notes it; every caller holds kp.lock.
 */
static void kp_run_wait(struct kp_run *run)
{
	if (!run->controller || run->controller_gone)
		return;
	wait_for_completion(&run->finished);
	run->controller_gone = true;
}

/*
 * Free a run in any state start may leave it in: its kthreads are
 * stopped first (by the controller, if it ran), then each worker is put
 * (its release frees it).
 */
void kp_run_destroy(struct kp_run *run)
{
	unsigned int i;

	if (!run)
		return;
	kp_run_wait(run);
	kp_reap_workers(run);
	kp_blk_release(run);
	for (i = 0; i < run->nr_workers; i++)
		if (run->workers[i])
			kobject_put(&run->workers[i]->kobj);
	kvfree(run);
}

/*
 * Ask the workers of a running run to stop and wait until the controller
 * has stopped them.  Called with kp.lock held, which keeps the run alive;
 * the controller does not take kp.lock.
 */
void kp_run_stop(struct kp_run *run)
{
	if (!run || !run->controller)
		return;
	kp_run_request_stop(run);
	kp_run_wait(run);
}

static struct kp_run *kp_run_alloc(const struct kp_config *cfg)
{
	struct kp_run *run;

	run = kvzalloc(struct_size(run, workers, cfg->thread_count),
		       GFP_KERNEL);
	if (!run)
		return NULL;
	run->cfg = *cfg;
	run->nr_workers = cfg->thread_count;
	atomic64_set(&run->shared.counter, 0);
	spin_lock_init(&run->shared.lock);
	mutex_init(&run->shared.mutex);
	atomic_set(&run->arriving, cfg->thread_count);
	atomic_set(&run->active, cfg->thread_count);
	init_waitqueue_head(&run->start_wq);
	spin_lock_init(&run->bar_lock);
	init_waitqueue_head(&run->bar_wq);
	init_waitqueue_head(&run->ctl_wq);
	init_completion(&run->finished);
	return run;
}

/* Create every worker, its directory, and the controller. */
static int kp_run_build(struct kp_run *run, const char **what,
			unsigned int *which)
{
	struct task_struct *task;
	unsigned int i;
	int err;

	*what = "worker";
	for (i = 0; i < run->nr_workers; i++) {
		*which = i;
		err = kp_worker_create(run, i);
		if (err)
			return err;
	}
	if (kp_work_paired(run->cfg.work_mode))
		for (i = 0; i < run->nr_workers; i++)
			run->workers[i]->partner = run->workers[i ^ 1];
	if (run->cfg.work_mode == KP_WORK_BLOCK) {
		*what = "socketpair of worker";
		for (i = 0; i < run->nr_workers; i += 2) {
			*which = i;
			err = kp_blk_pair(run->workers[i], run->workers[i + 1]);
			if (err)
				return err;
		}
	}

	*what = "directory of worker";
	for (i = 0; i < run->nr_workers; i++) {
		*which = i;
		err = kp_thread_dir_add(run->workers[i]);
		if (err)
			return err;
	}

	*what = "controller";
	task = kthread_create(kp_controller_fn, run, "kp_control");
	if (IS_ERR(task))
		return PTR_ERR(task);
	run->controller = task;
	return 0;
}

/*
 * Start a run with the current configuration; kp.lock is held and no run
 * is in progress.  The previous run and its directories go first.  On
 * failure nothing is left running, the state is failed and the error is
 * returned to the writer of start.
 */
int kp_run_start(void)
{
	const char *what = "run";
	unsigned int which = 0, i;
	struct kp_run *run;
	int err;

	err = kp_config_check(&kp.cfg);
	if (err)
		return err;

	kp_run_destroy(kp.run);
	kp.run = NULL;

	run = kp_run_alloc(&kp.cfg);
	/*
	 * Hold CPU hotplug off from the n-th-online-CPU lookup, through
	 * kthread_bind(), to the first wake-up: every bound worker first
	 * runs on the CPU it was bound to.  Lock order: kp.lock, then
	 * cpu_hotplug_lock; nothing under it takes a lock of the module
	 * (kthread, socket and sysfs creation under it are as in the
	 * workqueue code, which creates its kthreads under it too).
	 */
	cpus_read_lock();
	err = run ? kp_run_build(run, &what, &which) : -ENOMEM;
	if (!err) {
		kp.run = run;
		kp_publish_start(KP_STATE_RUNNING);
		for (i = 0; i < run->nr_workers; i++)
			wake_up_process(run->workers[i]->task);
		wake_up_process(run->controller);
	}
	cpus_read_unlock();
	if (err) {
		pr_err("run %llu: cannot create %s %u: %pe\n",
		       kp.run_id + 1, what, which, ERR_PTR(err));
		kp_run_destroy(run);	/* the controller is created last */
		kp_publish_start(KP_STATE_FAILED);
		return err;
	}
	return 0;
}

/* Elapsed time: from the start barrier to the last worker's end, or now. */
static u64 kp_run_elapsed(struct kp_run *run)
{
	/* Acquire start_ns (from the start barrier) and end_ns. */
	if (!smp_load_acquire(&run->go))
		return 0;
	/* Acquire end_ns from kp_run_end(). */
	if (smp_load_acquire(&run->ended))
		return run->end_ns - run->start_ns;
	return ktime_get_ns() - READ_ONCE(run->start_ns);
}

/* The run's totals; live while it runs, final afterwards. */
void kp_run_totals(struct kp_run *run, struct kp_totals *t)
{
	struct kp_sample d;
	struct kp_worker *w;
	unsigned int i;

	memset(t, 0, sizeof(*t));
	if (!run)
		return;
	t->counter = atomic64_read(&run->shared.counter) +
		     READ_ONCE(run->shared.locked_counter);
	for (i = 0; i < run->nr_workers; i++) {
		w = run->workers[i];
		t->total_ops += READ_ONCE(w->st.ops);
		t->counter += READ_ONCE(w->st.private_count);
		t->waits += READ_ONCE(w->st.waits);
		kp_worker_so_far(w, &d);
		t->nvcsw += d.nvcsw;
		t->nivcsw += d.nivcsw;
		t->cputime_ns += kp_worker_cputime_ns(w);
	}
	t->elapsed_ns = kp_run_elapsed(run);
	if (t->elapsed_ns)
		t->throughput = mul_u64_u64_div_u64(t->total_ops, NSEC_PER_SEC,
						    t->elapsed_ns);
}

/*
 * Add a consistent snapshot of worker w's histogram to h.  A worker that
 * writes more often than a copy of its histogram takes (yield every
 * operation under QEMU's TCG) could starve the reader, so after a few
 * overlapped attempts the reader holds its writes off until it has one.
 */
static void kp_worker_snapshot(struct kp_worker *w, struct kp_hist *h,
			       struct kp_hist *tmp)
{
	u64 waits;

	if (kp_stats_read(&w->st, h, tmp, &waits, 4))
		return;
	WRITE_ONCE(w->hold, true);
	smp_mb();	/* hold before the reads; pairs with the worker's acquire */
	kp_stats_read(&w->st, h, tmp, &waits, 0);
	/* Pairs with kp_stats_write_begin(): the reads before the release. */
	smp_store_release(&w->hold, false);
}

/*
 * The workers' histograms merged, each a consistent snapshot (its counts
 * add up to its samples, which agree with its waits) even while it runs.
 */
int kp_run_hist(struct kp_run *run, struct kp_hist *h)
{
	struct kp_hist *tmp;
	unsigned int i;

	memset(h, 0, sizeof(*h));
	if (!run)
		return 0;
	tmp = kmalloc(sizeof(*tmp), GFP_KERNEL);
	if (!tmp)
		return -ENOMEM;
	for (i = 0; i < run->nr_workers; i++)
		kp_worker_snapshot(run->workers[i], h, tmp);
	kfree(tmp);
	return 0;
}
