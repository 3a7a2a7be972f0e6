/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kthread_perf: scheduler activations, the parts shared by the device
 * (act_dev.c: files, registrations, limits) and the scheduler probes
 * (act_probes.c: the hash table, the probes, attach and detach).
 */
#ifndef KTHREAD_PERF_ACT_H_INTERNAL
#define KTHREAD_PERF_ACT_H_INTERNAL

#include <linux/hashtable.h>
#include <linux/irq_work.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rculist.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "uapi/kthread_perf_act.h"

/* Events a file holds before it drops them (and says so with LOST). */
#define KP_ACT_QUEUE	1024

/*
 * The preemption filter: how many registrations with KP_ACT_REG_PREEMPT
 * each of its counters' tasks (by hash_ptr()) hold.  The switch probe
 * reads one counter for a task that stays runnable (prev) and one for the
 * task that gets the CPU (next), and looks the task up only if it is not
 * 0: a task with no such registration costs no hash lookup there.
 */
#define KP_ACT_PFILTER_BITS	8

struct pid;
struct task_struct;

/* One user's open files and registrations, for the per-user limits. */
struct kp_act_user {
	kuid_t uid;
	unsigned int files, regs;
	struct hlist_node node;		/* kp_act.users, under kp_act.lock */
};

/* One open file: a runtime's event queue and its registered threads. */
struct kp_act_file {
	raw_spinlock_t qlock;		/* the queue, taken in the probes */
	unsigned int head, len;
	u64 lost;			/* dropped since the last event queued */
	u64 lost_flushes;		/* times lost became a queued LOST */
	struct kp_act_event q[KP_ACT_QUEUE];
	struct mutex read_lock;		/* one reader at a time */

	struct pid *tgid;		/* the process that opened it ... */
	u64 exec_id;			/* ... and the program it ran then */
	struct kp_act_user *user;	/* charged for it and its threads */
	wait_queue_head_t wq;
	struct irq_work wake;		/* wakes wq outside the scheduler */
	struct list_head regs;		/* under kp_act.lock */
	struct rcu_work free_work;
};

/* One registered thread. */
struct kp_act_reg {
	struct task_struct *task;	/* the key; unlinked before it is freed */
	struct kp_act_file *file;
	u64 cookie;
	u64 exec_id;			/* task->self_exec_id at register */
	pid_t tid;
	u32 flags;			/* KP_ACT_REG_*, fixed at register */
	bool linked;			/* in the hash and file->regs */
	/*
	 * Written only by the probes for this task's own sleep and wake-up,
	 * which the scheduler orders (a wake-up waits for the switch out).
	 */
	bool blocked;			/* a BLOCKED was queued, no UNBLOCKED */
	u64 seq;			/* BLOCKED events so far */
	/*
	 * The same for the task's switches out while runnable and back in
	 * (KP_ACT_REG_PREEMPT): written only by the switch probes, with the
	 * run queue of the CPU it leaves or enters locked, which the
	 * scheduler orders (the task is switched in only after its switch
	 * out has completed, wherever it migrated meanwhile).
	 */
	bool preempted;			/* a PREEMPTED was queued, no RESUMED */
	u64 pseq;			/* PREEMPTED events so far */
	struct hlist_node hnode;	/* kp_act.hash, RCU */
	struct list_head fnode;		/* file->regs */
	struct rcu_head rcu;
};

/* The registrations by task, while the probes are attached. */
struct kp_act_hash {
	unsigned int bits;
	struct hlist_head b[];
};

struct kp_act_state {
	raw_spinlock_t lock;	/* hash, users, files' lists, the counts */
	unsigned int nr_regs, nr_files;
	/* Written under lock, read by the switch probe without it: */
	unsigned int nr_preempt_regs;	/* with KP_ACT_REG_PREEMPT */
	unsigned int pfilter[1 << KP_ACT_PFILTER_BITS];
	struct kp_act_hash __rcu *hash;
	DECLARE_HASHTABLE(users, 6);

	struct mutex attach_lock;	/* attached, hash allocation */
	bool attached;
	unsigned long attaches;		/* times the probes were attached */
	struct delayed_work detach;	/* a while after the last registration */
	struct workqueue_struct *wq;	/* frees files after a grace period */
	bool misc_added;
};

extern struct kp_act_state kp_act;
extern unsigned int kp_act_max_regs;

/* act_probes.c */
int kp_act_attach(void);
void kp_act_detach_fn(struct work_struct *work);
void kp_act_detach_now(void);
struct kp_act_reg *kp_act_find(struct task_struct *p);
void kp_act_hash_add(struct kp_act_reg *r);
bool kp_act_end(struct kp_act_reg *r);
void kp_act_release_regs(struct kp_act_file *f);

#endif /* KTHREAD_PERF_ACT_H_INTERNAL */
