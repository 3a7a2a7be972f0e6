// SPDX-License-Identifier: GPL-2.0
/*
 * The library's own structures.  Names follow Solaris: a worker is a
 * virtual processor (struct vproc: a run queue and an index) that one OS
 * thread (struct lwp) holds at a time; spare lwps wait for a vproc that a
 * coroutine's blocking call left behind.
 *
 * The functions live in files named for what they hold, each with its
 * own header; a file includes the headers of what it uses, and the uses
 * go one way (README.md, "Source files"):
 *
 *   current    the calling thread's lwp          clock   monotonic ns
 *   queue      FIFO lists of coroutines          stack   stacks, death row
 *   runq       a vproc's run queue (the pool)    overflow  SIGSEGV, canaries
 *   steal      taking half of another's queue    idle    where lwps park
 *   timer      the sleepers' heap              dispatch  the scheduler core
 *   lwp        OS threads and their loop         handoff a vproc to a spare
 *   sched      the scheduler object              coro, sleep, blocking,
 *                                                mutex, cond, sem, barrier
 *   activations  CORO_ACTIVATIONS, the listener on the module's events
 *   monitor      the same by polling      act_take  the vproc to a spare
 *   act_register an lwp on the device     act_word.h  the hooks (inline)
 */
#ifndef CORO_INTERNAL_H
#define CORO_INTERNAL_H

#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "coro.h"
#include "context.h"
#include "spinlock.h"
#include "sanitizer.h"

#include <unistd.h>

/* Close *fd if it is open; it is -1 after. */
static inline void fd_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

#define HIDDEN __attribute__((visibility("hidden")))
#define CACHELINE 64

struct vp_ring;

#define CORO_CANARY 0xc0de5eedc0de5eedULL

/*
 * Running and queued are one state: a yield moves a coroutine between
 * the two and nothing needs to tell them apart (a joiner waits for
 * EXITED), so a yield does not write it.
 */
enum coro_state {
	CORO_READY,		/* running, or in a run queue or about to be */
	CORO_PARKED,		/* in a wait queue, the timer heap or a join */
	CORO_EXITED,
};

/*
 * A coroutine's control block.  It lives in its slab's array of control
 * blocks, above the slab's last stack and never below one (stack.c), and
 * goes back to the stack pool with its stack.  Each one is a cache line
 * aligned, and what a switch or a run queue touches is in its first line:
 * neighbours in the array often run on different workers (creation is
 * round robin), and a line shared between two of them went back and forth
 * between the workers at every switch.
 */
struct coro {
	/* ---- the first line: a switch, a yield, a run queue ---- */
	struct coro_ctx ctx;
	struct coro *next;		/* run queue, wait queue, pool */
	uint64_t sigpend;		/* signals routed to it (sigmask.c) */
	/* The lwp running it, else NULL; but after a yield on a solo vproc
	 * the lwp it last ran on (that lwp runs it next too).  A hint for
	 * the adaptive mutex (atomic). */
	struct lwp *on_lwp;
	struct vproc *home;		/* vproc it last ran on */
	uint64_t *canary;		/* canary gap, or NULL: guard */
	/* Signals (sigmask.c): bit s - 1 for signal s (atomic). */
	uint64_t sigmask;		/* masked; its own, read by routers */
	int switching;			/* queued by yield, context not yet saved */
	uint8_t state;			/* enum coro_state, under lock */
	uint8_t prio;			/* coro_setprio(), 0..CORO_PRIO_MAX */
	uint8_t qprio;			/* the class of the queue it is in */
	uint8_t in_sig;			/* in coro_signal()'s handler: never
					 * preempted there (preempt.c) */
	/* ---- the rest ---- */
	struct coro_sched *sched;
	void *(*fn)(void *);
	void *arg;
	void *ret;
	uint64_t id;
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
	unsigned int vg_id;
	struct tool_ctx tool;
	uint32_t *sigcnt;		/* real-time counts pending, or NULL */
} __attribute__((aligned(CACHELINE)));

#ifndef CORO_USE_UCONTEXT
_Static_assert(__builtin_offsetof(struct coro, in_sig) < CACHELINE,
	       "struct coro: the switch's members fill one cache line");
#endif

/*
 * The state is written by whoever moves the coroutine (sometimes without
 * its join lock, e.g. when a worker switches into it) and read under the
 * lock by a joiner: single untorn accesses.
 */
static inline void coro_set_state(struct coro *c, int s)
{
	__atomic_store_n(&c->state, (uint8_t)s, __ATOMIC_RELAXED);
}

static inline int coro_get_state(const struct coro *c)
{
	return __atomic_load_n(&c->state, __ATOMIC_RELAXED);
}

/*
 * A worker: a run queue plus the index it is known by.  With one vproc
 * (solo: no thief) the lwp that holds it uses the queue without the
 * lock, and other threads push onto inbox instead (runq.c).
 */
struct vproc {
	int lock;
	unsigned int nqueued;		/* read racily by idle lwps */
	struct coro *head, *tail;
	struct coro *inbox;		/* solo: pushed by other threads */
	bool solo;			/* atomic: cleared once, by the owner */
	bool fast_yield;		/* solo, and no activations (atomic) */
	bool prio_on;			/* its scheduler's prio_on (atomic) */
	/* coro_sched_set_concurrency() (concurrency.c), atomic: */
	int retire;			/* enum vp_retire */
	int unsolo;			/* owner: leave solo at next point */
	struct coro_sched *sched;
	unsigned int id;
	int cpu;			/* bound CPU or -1 */
	struct vproc *next_orphan;	/* coro_sched.orphans, under lwp_mtx */
	/* Priorities (prio.c): what its lwp runs, tid << 8 | (prio + 1),
	 * 0 in the lwp's own context (atomic; not kept up to date on a
	 * fast_yield vproc, which has no peer). */
	uint64_t running;
	/* Classes 1..CORO_PRIO_MAX of the queue (class 0 is head, tail);
	 * bit p of pbits: class p is not empty (atomic, read racily). */
	unsigned int pbits;
	struct coro *phead[CORO_PRIO_MAX + 1], *ptail[CORO_PRIO_MAX + 1];
	/* Its io_uring (uring_ring.c), made on first use (atomic); ring_off:
	 * none could be made, coro_uring_read() falls back (atomic). */
	struct vp_ring *ring;
	bool ring_off;
} __attribute__((aligned(CACHELINE)));

/* A vproc's part in the concurrency (concurrency.c). */
enum vp_retire {
	VP_ACTIVE,
	VP_RETIRING,	/* id >= nvp: its lwp retires it at its next point */
	VP_RETIRED,	/* no lwp, empty; pushes go to an active vproc */
};

enum after_switch {
	AFTER_NOTHING,
	AFTER_REQUEUE,	/* put switched_from on the vproc requeue_to */
	AFTER_PREEMPT,	/* the same, at the head of its class (preempt.c) */
	AFTER_PARK,	/* release park_lock: switched_from is in a wait queue */
	AFTER_EXIT,	/* switched_from has ended */
};

/*
 * Module mode: a registration on /dev/kthread_perf (act_register.c).  Its
 * cookie is the slot's index and generation, never an address: an event
 * read after the registration ended (its lwp may be freed) names a slot
 * that is free or has moved on to a later generation, and is ignored.
 * Under the scheduler's lwp_mtx; the seq fields are the listener's.
 */
struct act_slot {
	struct lwp *lwp;		/* NULL: free */
	uint32_t gen;			/* of its current (or last) registration */
	uint32_t next_pending;		/* listener's list of slots to look at */
	bool pending;
	uint64_t blocked;		/* highest BLOCKED seq read */
	uint64_t unblocked;		/* highest UNBLOCKED seq read */
	uint64_t handled;		/* highest BLOCKED seq acted on */
	uint64_t preempted;		/* highest PREEMPTED seq read */
	uint64_t resumed;		/* highest RESUMED seq read */
};

/*
 * What the adaptive mutex did (mutex.c), counted by the lwp it ran on and
 * summed when the lwp ends (coro_sched_mutex_stats()).
 */
struct mtx_counts {
	uint64_t contended, spins, spin_iters, spin_ns, spin_acquired;
	uint64_t parks, owner_off;
	uint64_t checks;		/* asked the kernel while spinning */
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
	uint64_t clock_seen;		/* a CLOCK_MONOTONIC time it has read */
	struct tool_ctx tool;
	/* Scheduler activations (activations.h). */
	uint64_t act_word;		/* atomic: where the lwp is */
	uint32_t act_gen;		/* its stints in coroutine code */
	bool act_registered;		/* on /dev/kthread_perf */
	/* Module mode: a spare waits in epoll on the device (activations.c)
	 * and its own eventfd, which a hand-off writes; -1 until made. */
	int act_ep, act_wake_fd;
	bool spare_events;		/* waiting so (under lwp_mtx) */
	uint32_t act_slot;		/* its slot while registered */
	uint64_t mon_seen;		/* monitor.c: act_word at its last poll */
	/*
	 * Off its CPU, as far as the listener has read (atomic): the kernel
	 * reported it preempted (PREEMPTED, no RESUMED yet) or blocked
	 * (BLOCKED, no UNBLOCKED yet).  The adaptive mutex does not spin on
	 * an owner whose lwp is off its CPU.
	 */
	int off_cpu;
	struct mtx_counts mtx;		/* its coroutines' mutex contention */
	/* Signals (sigmask.c). */
	uint64_t cur_sigmask;		/* current's mask, ~0 with none (atomic) */
	uint64_t kblk;			/* what it blocks in its kernel mask */
	uint64_t held_bits;		/* held by the handler, to route */
	uint32_t held_cnt[65];		/* ... how many of each (atomic) */
	int in_wait;			/* idle or spare: the handler re-raises */
	/* Preemption (prio.c, preempt.c): a timer that sends this thread
	 * CORO_PREEMPT_SIGNAL again when the handler found it in libcoro's
	 * or a library's code. */
	timer_t ptimer;
	bool ptimer_made, ptimer_ok;
	/* preempt.c's retry, seen by the thread's own nested handlers */
	volatile bool ptimer_arming, ptimer_missed;
} __attribute__((aligned(CACHELINE)));

struct coro_sched {
	unsigned int nvp;		/* active vprocs (atomic: sched_nvp()) */
	unsigned int vp_cap;		/* vps[] has room for this many */
	int *cpus;			/* attr's list, copied; NULL: unbound */
	unsigned int ncpus;
	/* coro_sched_set_concurrency() (concurrency.c). */
	pthread_mutex_t conc_mtx;
	pthread_cond_t conc_cond;	/* a vproc retired or left solo */
	bool conc_live;			/* lwps run: changes go through them */
	uint64_t conc_changes;
	bool prio_on;			/* a coroutine's priority was set (atomic;
					 * never cleared): prio.c */
	size_t stack_size;
	struct vproc *vps;
	long live;			/* coroutines created, not yet ended */
	int nidle;			/* lwps waiting in idle_cond or a ring */
	int ring_idlers;		/* of them, waiting in a vproc's io_uring
					 * (uring_ring.c; atomic) */
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
	uint64_t thread_failures;	/* pthread_create() failed (atomic) */
	/* vprocs whose lwp gave them up to a take that found no OS thread:
	 * the next lwp to become a spare holds them (handoff.c). */
	struct vproc *orphans;
	uint64_t dead_switches, dead_steals;	/* of lwps gone */
	struct mtx_counts dead_mtx;		/* of lwps gone */
	/* How a mutex contender tells that the owner's lwp is off its CPU
	 * (enum coro_owner_watch; CORO_MUTEX_WATCH). */
	int mutex_watch;
	bool mutex_watch_off;		/* CORO_MUTEX_WATCH=off */
	struct lwp *main_lwp;		/* the caller's, in coro_sched_run() */
	sigset_t run_sigmask;		/* its signal mask then: every lwp's */
	/* Scheduler activations (activations.c, monitor.c). */
	int act_mode;			/* enum act_mode */
	bool act_auto;			/* CORO_ACTIVATIONS=auto */
	int act_fd;			/* /dev/kthread_perf, module mode */
	int act_stop_fd;		/* eventfd: the listener/monitor ends */
	pthread_t act_thread;		/* the monitor (monitor mode) */
	bool act_monitor_on;		/* act_thread runs */
	bool act_thread_on;		/* the monitor, or the spares, listen */
	bool act_dev_gone;		/* the device stopped delivering (atomic) */
	/* How a spare waits in module mode (activations.c installs it;
	 * NULL: on its condition variable); false: it cannot, and waits
	 * there.  A hook, so that the lwps' code does not call up into the
	 * device's, which calls down into theirs to start spares. */
	bool (*act_spare_wait)(struct lwp *l);
	uint64_t act_takes;		/* vprocs taken from blocked lwps */
	uint64_t act_stale;		/* takes undone: the lwp had woken */
	uint64_t act_stale_events;	/* events of ended registrations */
	/* Module mode: registrations (act_register.c), under lwp_mtx. */
	struct act_slot *act_slots;
	uint32_t act_nslots, act_cap;
	uint32_t act_pending_head, act_pending_tail;	/* slots, FIFO */
	bool act_lost;			/* a LOST was read: check every lwp */
	bool act_preempt;		/* register with KP_ACT_REG_PREEMPT */
	int act_kick_fd;		/* eventfd: events for the listener were
					 * read by a mutex contender */
	int act_refreshing;		/* a contender is reading (atomic) */
	int act_taking;			/* a reader takes (atomic; activations.c) */
	int act_retake;			/* another read meanwhile (atomic) */
};

/* The number of active vprocs; it changes while the scheduler runs. */
static inline unsigned int sched_nvp(const struct coro_sched *s)
{
	return __atomic_load_n(&s->nvp, __ATOMIC_ACQUIRE);
}

static inline bool vp_is_solo(const struct vproc *vp)
{
	return __atomic_load_n(&vp->solo, __ATOMIC_ACQUIRE);
}

#endif /* CORO_INTERNAL_H */
