/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kthread_perf: what the files of the module share.
 *
 * One run at a time: kp.run is the current run, or the last one until the
 * next start or the unload.  kp.lock serialises the writers (configuration,
 * start, stop) and the readers of the run totals.  The per-thread files do
 * not take it: start removes them while holding it.
 */
#ifndef KTHREAD_PERF_H
#define KTHREAD_PERF_H

#include <linux/atomic.h>
#include <linux/cache.h>
#include <linux/completion.h>
#include <linux/kobject.h>
#include <linux/mutex.h>
#include <linux/seqlock.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/types.h>
#include <linux/wait.h>

/* The sequence count of struct kp_stats (kp_defs.h): the kernel's own. */
#define KP_SEQ_T seqcount_t

static inline unsigned int kp_seq_read_begin(const KP_SEQ_T *s)
{
	return read_seqcount_begin((KP_SEQ_T *)s);
}

static inline bool kp_seq_read_retry(const KP_SEQ_T *s, unsigned int start)
{
	return read_seqcount_retry((KP_SEQ_T *)s, start);
}

#include "kp_defs.h"

enum kp_state {
	KP_STATE_IDLE,
	KP_STATE_RUNNING,
	KP_STATE_DONE,
	KP_STATE_STOPPED,
	KP_STATE_FAILED,
	KP_STATE_NR,
};

/* Where a worker is; published with smp_store_release(). */
enum kp_phase {
	KP_PHASE_NEW,		/* not past the start barrier */
	KP_PHASE_WORKING,	/* start_* snapshots valid */
	KP_PHASE_FINISHED,	/* end_* snapshots valid too */
};

struct kp_run;

/* What a worker takes of itself at the start and at the end of its work. */
struct kp_sample {
	u64 ns;				/* ktime_get_ns() */
	unsigned long nvcsw;
	unsigned long nivcsw;
};

/*
 * One worker kthread.  The first three members are those kp_loop.h needs.
 * Freed by the release of its kobject, which also drops the task reference.
 */
struct kp_worker {
	unsigned int id;
	const struct kp_config *cfg;
	struct kp_stats st;

	struct kp_run *run;
	struct task_struct *task;	/* referenced for the run's life */
	pid_t pid;
	int cpu;			/* bound CPU or -1 */

	/* Ping-pong: the partner sets our token and wakes us. */
	struct kp_worker *partner;
	wait_queue_head_t pp_wq;
	int pp_token;
	u64 pp_wake_ns;
	/* Set by a histogram reader that needs the worker's writes held off. */
	bool hold;
	/* Block: our end of the pair's AF_UNIX stream socketpair. */
	struct socket *blk_sock;

	/* Written by the worker itself; valid according to phase. */
	int phase;
	struct kp_sample start;
	struct kp_sample end;
	u64 start_runtime;		/* se.sum_exec_runtime at start */
	u64 end_runtime;		/* and once blocked after the work */
	int last_cpu;

	/* Written by the controller once the kthread has exited. */
	bool reaped;
	u64 cputime_ns;

	struct kobject kobj;		/* threads/<id>/ */
};

/* What the workers update in the hot loop (kp_loop.h). */
struct kp_shared {
	atomic64_t counter;		/* sync_mode atomic */
	spinlock_t lock;		/* sync_mode spinlock: locked_counter */
	struct mutex mutex;		/* sync_mode mutex: locked_counter */
	u64 locked_counter;
};

/* One run: its configuration copy, shared objects and workers. */
struct kp_run {
	struct kp_config cfg;

	/* On its own cache line. */
	struct kp_shared shared ____cacheline_aligned_in_smp;

	bool stop ____cacheline_aligned_in_smp;
	bool go;			/* start barrier open */
	bool ended;			/* end_ns valid */
	atomic_t arriving;		/* workers not yet at the barrier */
	atomic_t active;		/* workers not yet finished */
	int spawn_err;			/* spawn mode: a child that failed */
	atomic_t spawns;		/* spawn mode: children so far */

	/* Barrier mode: generation-counted, released by a stop too. */
	spinlock_t bar_lock;
	unsigned int bar_waiting;	/* arrived at this generation */
	u64 bar_gen;
	wait_queue_head_t bar_wq;
	wait_queue_head_t start_wq;
	wait_queue_head_t ctl_wq;
	u64 start_ns;
	u64 end_ns;
	struct completion finished;	/* controller has set done/stopped */
	struct task_struct *controller;	/* not referenced: exits alone */
	bool controller_gone;		/* finished seen; under kp.lock */

	unsigned int nr_workers;	/* allocated entries of workers[] */
	struct kp_worker *workers[];
};

/* Sums over the workers of a run, live or final. */
struct kp_totals {
	u64 total_ops;
	u64 counter;
	u64 elapsed_ns;
	u64 throughput;
	u64 nvcsw;
	u64 nivcsw;
	u64 cputime_ns;
	u64 waits;
};

struct kp_module {
	struct mutex lock;		/* see the top of this file */
	struct kp_config cfg;		/* the next run's configuration */
	int state;			/* enum kp_state */
	u64 run_id;
	struct kp_run *run;
	struct kobject *root;		/* /sys/kernel/kthread_perf */
	struct kobject *threads;	/* .../threads */
	bool files_added;
	struct dentry *debugfs;
};

extern struct kp_module kp;

extern unsigned int kp_max_threads;
extern int kp_inject_fail_worker;
extern int kp_inject_fail_spawn;

/*
 * A sysfs file made at init, for the rows of a table that one show and
 * store serve (config.c, sysfs.c).
 */
static inline void
kp_attr_init(struct kobj_attribute *ka, const char *name, umode_t mode,
	     ssize_t (*show)(struct kobject *, struct kobj_attribute *, char *),
	     ssize_t (*store)(struct kobject *, struct kobj_attribute *,
			      const char *, size_t))
{
	*ka = (struct kobj_attribute){
		.attr = { .name = name, .mode = mode },
		.show = show,
		.store = store,
	};
	sysfs_attr_init(&ka->attr);
}

/* config.c */
extern const struct attribute_group kp_config_group;
void kp_config_files_init(void);

/* sysfs.c */
int kp_sysfs_init(void);
void kp_sysfs_remove_files(void);
void kp_sysfs_exit(void);

/* threads.c */
int kp_thread_dir_add(struct kp_worker *w);
void kp_worker_init_kobj(struct kp_worker *w);

/* worker.c: the kthreads and their waits */
int kp_worker_fn(void *arg);
void kp_run_request_stop(struct kp_run *run);
void kp_worker_so_far(struct kp_worker *w, struct kp_sample *d);
u64 kp_worker_cputime_ns(struct kp_worker *w);
int kp_worker_last_cpu(struct kp_worker *w);

/* run.c: the state machine, the configuration check and the names */
extern const char * const kp_work_mode_names[KP_WORK_NR];
extern const char * const kp_sync_mode_names[KP_SYNC_NR];
extern const char * const kp_state_names[KP_STATE_NR];
void kp_set_state(int state);
int kp_get_state(void);
u64 kp_get_run_id(void);
int kp_config_check(const struct kp_config *cfg);
int kp_run_start(void);
void kp_run_stop(struct kp_run *run);
void kp_run_destroy(struct kp_run *run);
void kp_run_totals(struct kp_run *run, struct kp_totals *t);
int kp_run_hist(struct kp_run *run, struct kp_hist *h);

/* debugfs.c */
void kp_debugfs_init(void);
void kp_debugfs_exit(void);

/* activations.c: /dev/kthread_perf (SPEC section 9) */
int kp_act_init(void);
void kp_act_cleanup(void);

#endif /* KTHREAD_PERF_H */
