// SPDX-License-Identifier: GPL-2.0
/*
 * The library's own structures.  Names follow Solaris: a worker is a
 * virtual processor (struct vproc: a run queue and an index) that one OS
 * thread (struct lwp) holds at a time; spare lwps wait for a vproc that a
 * coroutine's blocking call left behind.
 */
#ifndef CORO_INTERNAL_H
#define CORO_INTERNAL_H

#define _GNU_SOURCE
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "coro.h"
#include "context.h"
#include "spinlock.h"
#include "tools.h"

#define HIDDEN __attribute__((visibility("hidden")))
#define CACHELINE 64

#define CORO_CANARY 0xc0de5eedc0de5eedULL

enum coro_state {
	CORO_RUNNABLE,		/* in a run queue or about to be */
	CORO_RUNNING,
	CORO_PARKED,		/* in a wait queue, the timer heap or a join */
	CORO_EXITED,
};

/*
 * A coroutine's control block.  It lives in its slab's array of control
 * blocks, above the slab's last stack and never below one (stack.c), and
 * goes back to the stack pool with its stack.
 */
struct coro {
	struct coro_ctx ctx;
	struct coro *next;		/* run queue, wait queue, pool */
	struct coro_sched *sched;
	void *(*fn)(void *);
	void *arg;
	void *ret;
	uint64_t id;
	struct lwp *on_lwp;		/* lwp running it, else NULL (atomic) */
	int switching;			/* queued by yield, context not yet saved */
	struct vproc *home;		/* vproc it last ran on */
	int state;			/* enum coro_state, under lock */
	int lock;			/* join */
	bool detached;
	bool joined;
	struct coro *joiner;
	uint64_t wake_ns;		/* timer heap */
	size_t heap_idx;
	const char *entry_name;		/* fn's symbol or NULL, for reports */
	/* The stack: [stack_lo, stack_hi) usable, its gap below stack_lo. */
	char *stack_lo, *stack_hi;
	size_t stack_size;		/* the usable size asked for */
	struct slab *slab;
	char *guard;			/* guard gap, or NULL: canary */
	uint64_t *canary;		/* canary gap, or NULL: guard */
	unsigned int vg_id;
	struct tool_ctx tool;
};

/*
 * The state is written by whoever moves the coroutine (sometimes without
 * its join lock, e.g. when a worker switches into it) and read under the
 * lock by a joiner: single untorn accesses.
 */
static inline void coro_set_state(struct coro *c, int s)
{
	__atomic_store_n(&c->state, s, __ATOMIC_RELAXED);
}

static inline int coro_get_state(const struct coro *c)
{
	return __atomic_load_n(&c->state, __ATOMIC_RELAXED);
}

/* A worker: a run queue plus the index it is known by. */
struct vproc {
	int lock;
	unsigned int nqueued;		/* read racily by idle lwps */
	struct coro *head, *tail;
	struct coro_sched *sched;
	unsigned int id;
	int cpu;			/* bound CPU or -1 */
} __attribute__((aligned(CACHELINE)));

enum after_switch {
	AFTER_NOTHING,
	AFTER_REQUEUE,	/* put switched_from on the vproc requeue_to */
	AFTER_PARK,	/* release park_lock: switched_from is in a wait queue */
	AFTER_EXIT,	/* switched_from has ended */
};

/* An OS thread running a scheduler. */
struct lwp {
	struct coro_ctx ctx;		/* the thread's own context */
	struct coro_sched *sched;
	struct vproc *vp;		/* NULL while spare or in a blocking call */
	struct coro *current;		/* running coroutine, NULL in ctx */
	/* What the context switched away from left for the next to do. */
	int after;			/* enum after_switch */
	struct coro *switched_from;
	int *park_lock;
	struct vproc *requeue_to;
	unsigned int ticks;
	pthread_t thread;
	pid_t tid;
	bool spawned;			/* a thread of ours, joined at the end */
	pthread_cond_t cond;		/* spare waits here */
	struct lwp *next_spare;
	struct lwp *next_all;
	void *altstack;
	size_t altstack_size;
	uint64_t switches, steals;
	struct tool_ctx tool;
	/* Scheduler activations (activations.c): see act_word below. */
	uint64_t act_word;		/* atomic */
	uint32_t act_gen;		/* this lwp's stints in coroutine code */
	bool act_registered;		/* on the device (module mode) */
	uint64_t mon_seen;		/* monitor.c: act_word at its last poll */
} __attribute__((aligned(CACHELINE)));

struct coro_sched {
	unsigned int nvp;
	size_t stack_size;
	struct vproc *vps;
	long live;			/* coroutines created, not yet ended */
	int nidle;			/* lwps waiting in idle_cond */
	int running;			/* in coro_sched_run() */
	int done;			/* live reached 0: lwps leave */
	unsigned int next_vp;		/* round robin for outside creation */
	pthread_mutex_t idle_mtx;
	pthread_cond_t idle_cond;
	/* Sleeping coroutines: a min-heap on wake_ns. */
	int timer_lock;
	struct coro **heap;
	size_t nheap, heap_cap;
	uint64_t next_wake;		/* heap[0]->wake_ns or UINT64_MAX */
	/* OS threads. */
	pthread_mutex_t lwp_mtx;
	struct lwp *all_lwps;
	struct lwp *spares;
	uint64_t handoffs, created, reused, os_threads;
	uint64_t dead_switches, dead_steals;	/* of lwps gone */
	struct lwp *main_lwp;		/* the caller's, in coro_sched_run() */
	/* Scheduler activations (activations.c, monitor.c). */
	int act_mode;			/* enum act_mode */
	int act_fd;			/* /dev/kthread_perf, module mode */
	int act_stop_fd;		/* eventfd: the listener/monitor ends */
	pthread_t act_thread;
	bool act_thread_on;
	uint64_t act_takes;		/* vprocs taken from blocked lwps */
};

/* ---- sched.c ---- */
HIDDEN struct lwp *lwp_current(void);
HIDDEN struct lwp *coro_switch_out(struct lwp *l, struct coro *c, int after,
				   int *park_lock, struct vproc *requeue_to);
HIDDEN void coro_wake(struct lwp *l, struct coro *c);
HIDDEN void vp_push(struct vproc *vp, struct coro *c);
HIDDEN void sched_kick(struct coro_sched *s);
HIDDEN struct lwp *lwp_hand_off(struct lwp *l);
HIDDEN void lwp_set_errno(int e);

/*
 * ---- Scheduler activations (activations.c, monitor.c) ----
 *
 * Each lwp's act_word says where it is: bits 0-1 ACT_IN_SCHED (scheduler
 * code, or a spare), ACT_IN_CORO (coroutine code, holding the vproc whose
 * index is in bits 2-17) or ACT_TAKEN (the listener or the monitor gave
 * that vproc to a spare while the lwp was blocked in coroutine code);
 * bits 32-63 count the lwp's stints in coroutine code, so that the monitor
 * can tell one long stint from two.  The lwp enters the scheduler with an
 * atomic exchange to ACT_IN_SCHED; when it reads ACT_TAKEN back it has
 * lost its vproc.  The taker moves ACT_IN_CORO to ACT_TAKEN with a
 * compare-and-swap, so that exactly one of the two wins.
 */
enum act_mode { ACT_OFF, ACT_MODULE, ACT_MONITOR };
enum act_state { ACT_IN_SCHED, ACT_IN_CORO, ACT_TAKEN };
#define ACT_STATE(w)	((unsigned int)((w) & 3))
#define ACT_VP(w)	((unsigned int)(((w) >> 2) & 0xffff))

static inline bool act_on(const struct coro_sched *s)
{
	return s->act_mode != ACT_OFF;
}

/*
 * Hook: the lwp enters scheduler code from a coroutine.  Returns true
 * when it lost its vproc meanwhile; l->vp is then NULL.
 */
static inline bool act_sched_enter(struct lwp *l)
{
	if (!act_on(l->sched))
		return false;
	if (ACT_STATE(__atomic_exchange_n(&l->act_word, ACT_IN_SCHED,
					  __ATOMIC_ACQ_REL)) != ACT_TAKEN)
		return false;
	l->vp = NULL;
	return true;
}

/* Hook: the lwp, holding l->vp, goes (back) into coroutine code. */
static inline void act_coro_enter(struct lwp *l)
{
	if (!act_on(l->sched))
		return;
	__atomic_store_n(&l->act_word, (uint64_t)++l->act_gen << 32 |
			 (uint64_t)l->vp->id << 2 | ACT_IN_CORO,
			 __ATOMIC_RELEASE);
}

HIDDEN int act_init(struct coro_sched *s);
HIDDEN int act_start(struct coro_sched *s, struct lwp *main_lwp);
HIDDEN void act_stop(struct coro_sched *s, struct lwp *main_lwp);
HIDDEN void act_destroy(struct coro_sched *s);
HIDDEN void act_lwp_begin(struct lwp *l);
HIDDEN bool act_take(struct coro_sched *s, struct lwp *l, uint64_t word);
HIDDEN unsigned int monitor_scan(struct coro_sched *s, bool now);
HIDDEN void *monitor_main(void *arg);
/* sched.c: give vp to a spare lwp (a new one if none waits). */
HIDDEN bool vp_hand_to_spare(struct coro_sched *s, struct vproc *vp);

/* ---- timer.c ---- */
HIDDEN void timer_poll(struct lwp *l);
HIDDEN uint64_t clock_now_ns(void);

/* ---- stack.c ---- */
HIDDEN struct coro *stack_get(size_t stack_size, bool *reused);
HIDDEN void stack_put(struct coro *c);
HIDDEN bool stack_canary_intact(const struct coro *c);

/* ---- overflow.c ---- */
HIDDEN void overflow_init(void);
HIDDEN int overflow_altstack_on(struct lwp *l);
HIDDEN void overflow_altstack_off(struct lwp *l);
HIDDEN __attribute__((noreturn)) void overflow_canary_report(struct coro *c);

HIDDEN const char *overflow_entry_name(void *(*fn)(void *));

/* Stacks without a guard: the whole canary gap, at every switch out. */
static inline void canary_check(struct coro *c)
{
	if (__builtin_expect(c->canary != NULL, 0) && !stack_canary_intact(c))
		overflow_canary_report(c);
}

/* ---- wait queues of mutex.c, cond.c, sem.c ---- */
static inline void waitq_push(struct coro_waitq *q, struct coro *c)
{
	c->next = NULL;
	if (q->tail)
		q->tail->next = c;
	else
		q->head = c;
	q->tail = c;
}

static inline struct coro *waitq_pop(struct coro_waitq *q)
{
	struct coro *c = q->head;

	if (c) {
		q->head = c->next;
		if (!q->head)
			q->tail = NULL;
		c->next = NULL;
	}
	return c;
}

#endif /* CORO_INTERNAL_H */
