// SPDX-License-Identifier: GPL-2.0
/*
 * coro.h: stackful coroutines on one OS thread (many-to-one) or on M
 * worker threads (many-to-many), with the synchronisation a thread
 * library has.  Link with -lcoro -pthread (pkg-config coro).
 *
 * Model.  A scheduler owns M virtual processors ("workers"), each with a
 * run queue.  coro_sched_run() lends the calling thread to worker 0 and
 * starts M-1 OS threads for the others; idle workers steal from busy
 * ones.  With M = 1 every coroutine runs on the calling thread.  A
 * coroutine that makes a blocking system call through
 * coro_call_blocking() hands its worker to a spare OS thread first, so
 * its siblings keep running (scheduler activations, in user space).
 *
 * Stacks.  mmap'd and lazily committed, with a guard below each one
 * (MADV_GUARD_INSTALL, else PROT_NONE) and control blocks kept apart from
 * stacks; a coroutine that runs into its guard is reported by id and
 * entry function on stderr and the process aborts.  When the kernel
 * refuses more guards (vm.max_map_count), new stacks get a canary gap
 * checked at every switch instead (said once on stderr).  Exited
 * coroutines keep their stack and control block for the next
 * coro_create() ("death row"), up to a cap past which stacks go back to
 * the OS.
 *
 * Errors: functions returning int return 0 or an errno value; those
 * returning pointers return NULL and set errno.
 */
#ifndef CORO_H
#define CORO_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct coro coro_t;
typedef struct coro_sched coro_sched_t;

/* Default usable stack of a coroutine when neither the scheduler nor
 * coro_create() name one. */
#define CORO_STACK_DEFAULT	(64 * 1024)
/* Smallest stack coro_create() accepts. */
#define CORO_STACK_MIN		(8 * 1024)

struct coro_sched_attr {
	unsigned int workers;		/* OS threads; 0 or 1: many-to-one */
	const int *cpus;		/* worker i runs on cpus[i mod ncpus]; */
	unsigned int ncpus;		/* 0: unbound.  The caller chooses the
					 * CPUs; the list is copied. */
	size_t stack_size;		/* 0: CORO_STACK_DEFAULT */
	const char *activations;	/* "auto", "module", "monitor" or
					 * "off" where CORO_ACTIVATIONS is
					 * unset; NULL: auto */
};

/* Counters of a scheduler since its creation (coro_sched_stats()). */
struct coro_stats {
	uint64_t switches;	/* context switches into coroutines */
	uint64_t steals;	/* coroutines taken from another worker's queue */
	uint64_t handoffs;	/* workers handed to a spare OS thread */
	uint64_t created;	/* coroutines created */
	uint64_t reused;	/* ... of which on a recycled stack */
	uint64_t os_threads;	/* OS threads that ever ran a worker */
	uint64_t taken;		/* workers taken from an OS thread blocked in
				 * the kernel (activations; also in handoffs) */
	uint64_t stale_takes;	/* takes undone: the OS thread had been woken
				 * by then (activations; not in taken) */
	uint64_t thread_failures; /* OS threads that could not be started
				 * (RLIMIT_NPROC, memory): the run went on with
				 * fewer */
};

/*
 * How a contender of an adaptive mutex tells that the owner's OS thread
 * is off its CPU (preempted, or blocked in the kernel), so that it parks
 * at once instead of spinning (CORO_MUTEX_WATCH=auto, the default, picks
 * the first that the scheduler has; off: none).
 */
enum coro_owner_watch {
	CORO_WATCH_NONE,	/* it cannot: it spins a bounded while */
	CORO_WATCH_EVENTS,	/* PREEMPTED/RESUMED and BLOCKED/UNBLOCKED
				 * from kthread_perf.ko (activations in
				 * module mode) */
	CORO_WATCH_PROC,	/* /proc/self/task/TID, read by a contender
				 * that has spun a while (monitor mode, or a
				 * module without PREEMPTED) */
};

/*
 * The adaptive mutexes of a scheduler since its creation, as of the end
 * of its last coro_sched_run() (coro_sched_mutex_stats()).
 */
struct coro_mutex_stats {
	uint64_t contended;	/* coro_mutex_lock() calls that found it held */
	uint64_t spins;		/* ... that spun, the owner running elsewhere */
	uint64_t spin_iters;	/* their turns of the spin loop */
	uint64_t spin_ns;	/* the time they spun (CLOCK_MONOTONIC: it
				 * includes time the spinning OS thread was
				 * itself preempted) */
	uint64_t spin_acquired;	/* spins that ended with the lock */
	uint64_t parks;		/* times a contender parked in the wait queue */
	uint64_t owner_off_cpu;	/* contenders that parked without spinning
				 * (on) because the owner's OS thread was
				 * off its CPU */
	uint64_t checks;	/* times a spinning contender asked the kernel
				 * (read the events, or /proc) */
	int watch;		/* enum coro_owner_watch */
};

/* ---- Scheduler -------------------------------------------------------- */

/* A scheduler; attr may be NULL (one worker, default stacks). */
coro_sched_t *coro_sched_create(const struct coro_sched_attr *attr);

/*
 * Run every coroutine of s to its end on the calling thread plus
 * workers-1 new OS threads; return when none is left.  0, or EDEADLK
 * (called from a coroutine), EBUSY (s is running already), ENOMEM, or
 * EINVAL (a worker's CPU in attr->cpus is not in the calling thread's
 * affinity mask, its cpuset: nothing ran).  A worker whose OS thread
 * cannot be started is served by the others.
 * Call it again after creating more coroutines.
 */
int coro_sched_run(coro_sched_t *s);

/* Free a scheduler that is not running and has no unjoined coroutine. */
void coro_sched_destroy(coro_sched_t *s);

void coro_sched_stats(coro_sched_t *s, struct coro_stats *st);
void coro_sched_mutex_stats(coro_sched_t *s, struct coro_mutex_stats *st);

/*
 * The number of workers, changed at any time: before a run, during one
 * (from a coroutine or another thread) or between runs (Solaris'
 * thr_setconcurrency, the VPI paper's strict parallelism).  Growing hands
 * each new worker to a spare OS thread or starts one.  Shrinking retires
 * the workers past n at their next scheduling point (a yield, a park, an
 * exit, their idle loop): each moves its queue to the remaining workers
 * and its OS thread becomes a spare.  The call returns once they have
 * retired, so from then on at most n OS threads run coroutines; a worker
 * whose coroutine runs without a scheduling point (or sits in a plain
 * blocking system call with activations off) holds the call up until it
 * gets to one.  n = 0: one worker per CPU in the process's affinity mask.
 * Up to max(workers at create, 256) workers.  A scheduler created with
 * one worker keeps its lock-free queue until it first grows; after that
 * its queue takes the lock even at one worker.  EINVAL: n < 0 or too many.
 */
int coro_sched_set_concurrency(coro_sched_t *s, int n);
/* The number of active workers (changes under coro_sched_set_concurrency()). */
int coro_sched_get_concurrency(const coro_sched_t *s);

/* ---- Signals ---------------------------------------------------------- */

/*
 * Per-coroutine signal masks (Solaris' thread library).  coro_sigmask()
 * is pthread_sigmask() for the calling coroutine (how: SIG_BLOCK,
 * SIG_UNBLOCK, SIG_SETMASK; set or old may be NULL), kept in user space:
 * no system call, unless it unmasks a signal that is pending because
 * every coroutine had it masked.  Outside a coroutine it is
 * pthread_sigmask().  A new coroutine starts with its creator's mask (a
 * plain thread's creation: none masked).  Signals 1 to 64 only;
 * EINVAL for a bad how.
 *
 * coro_signal() installs handler for sig (SIG_DFL, SIG_IGN: as they are)
 * behind the library's own, which routes each signal to a coroutine that
 * has it unmasked: the running one at once (on its stack); else one
 * runnable on the same worker, switched to at the worker's next
 * scheduling point (yield, wait), the handler then running in it; else
 * one running on another worker, by a directed signal to that worker's
 * OS thread; else it stays pending (blocked in the kernel for every
 * worker's thread) until a coroutine unmasks it, and is delivered there
 * once.  A real-time signal raised n times is delivered n times.  sig is
 * masked in the coroutine while its handler runs; a handler should not
 * yield.  Threads outside the scheduler take signals as plain threads.
 * EINVAL: SIGKILL, SIGSTOP, a fault (SIGSEGV, SIGBUS, SIGFPE, SIGILL,
 * SIGTRAP, SIGSYS: they belong to the thread that faulted), out of range.
 */
int coro_sigmask(int how, const sigset_t *set, sigset_t *old);
int coro_signal(int sig, void (*handler)(int));

/* ---- Coroutines ------------------------------------------------------- */

/*
 * A new coroutine running fn(arg), runnable at once.  s NULL: the
 * scheduler of the calling coroutine.  stack_size 0: the scheduler's
 * default.  It must be joined or detached.
 */
coro_t *coro_create(coro_sched_t *s, void *(*fn)(void *), void *arg,
		    size_t stack_size);

/*
 * Wait for c to end and release it; *ret (if not NULL) gets fn's return
 * value.  From a coroutine it parks the caller; from outside it needs the
 * scheduler to have finished (EBUSY otherwise).  EINVAL for a detached c,
 * EDEADLK for the caller itself.
 */
int coro_join(coro_t *c, void **ret);

/* Let c release itself when it ends. */
int coro_detach(coro_t *c);

/* The calling coroutine, or NULL outside any. */
coro_t *coro_self(void);

/* Its id: 1, 2, ... in creation order within the process. */
uint64_t coro_id(const coro_t *c);

/* Let the next runnable coroutine of this worker run. */
void coro_yield(void);

/*
 * Sleep at least ns nanoseconds (a timer min-heap; the worker sleeps in
 * the kernel when nothing else is runnable).  Outside a coroutine it
 * sleeps the thread.
 */
void coro_sleep_ns(uint64_t ns);

/* Index of the worker running the caller (0..workers-1), -1 outside. */
int coro_worker_id(void);

/* ---- Priorities ------------------------------------------------------- */

/*
 * Priorities 0 (lowest, the default) to CORO_PRIO_MAX, higher runs
 * first (Solaris' thr_setprio).  A new coroutine starts with its
 * creator's priority (a plain thread's creation: 0).  The default is the
 * lowest so that a program that never calls coro_setprio() keeps today's
 * cooperative scheduling and costs: until a priority above 0 is first
 * set in a scheduler, nothing of this runs, and yields keep their fast
 * path.  Eight levels: enough to order interactive over batch work, few
 * enough that a run queue is one FIFO per level behind a bitmap.
 *
 * A worker runs its highest-priority queued coroutine first, FIFO within
 * a level; an idle worker steals from the queue whose best is highest,
 * the highest first.  coro_yield() gives way to a queued coroutine of
 * the same or a higher priority only (a lower one waits, as
 * thr_yield()).  A coroutine that becomes runnable (created or woken)
 * with a priority above the lowest one running on a worker is queued on
 * that worker, and the worker is preempted by a directed SIGURG to its
 * OS thread (CORO_PREEMPT_SIGNAL).  Its handler switches at once when the
 * preempted coroutine was in the program's own code (the executable's
 * text, not libcoro's, libc's or any shared library's), holding none of
 * the library's locks; otherwise it marks the worker, which switches at
 * its next scheduling point (a yield, a wait, coro_checkpoint(), its
 * end).  Equal priorities are never preempted.  The preempted coroutine
 * goes back to the head of its level and may resume on another worker,
 * as after a yield: code that can be preempted must not hold an OS
 * thread's lock (a pthread mutex; use coro_mutex_t) or keep the address
 * of a thread-local variable.  A preemption in a signal handler's frame
 * waits for the handler to return.  Asynchronous switches need x86-64's
 * context switch (else, and under ThreadSanitizer, which defers signals
 * to its next interceptor, every preemption waits for a scheduling
 * point) and about 4 KiB of the coroutine's stack for the signal frame.
 * A SIGURG that a worker's OS thread gets from the process itself
 * (tgkill, pthread_kill) is a preemption request; any other goes to the
 * handler coro_signal() installed for it.
 *
 * coro_setprio(): c NULL is the caller; it takes effect at once for a
 * queued coroutine and the caller (lowering its own priority below a
 * queued one's yields to it); one running on another worker is judged by
 * its new priority from its next switch.  EINVAL: prio out of range, or
 * c NULL outside a coroutine.  coro_getprio(): c's priority (NULL: the
 * caller's), -1 with errno EINVAL for NULL outside a coroutine.
 */
#define CORO_PRIO_MAX		7
#define CORO_PRIO_DEFAULT	0
#define CORO_PREEMPT_SIGNAL	SIGURG

int coro_setprio(coro_t *c, int prio);
int coro_getprio(const coro_t *c);

/* ---- Blocking calls --------------------------------------------------- */

/*
 * Run fn(arg), which may block in the kernel, on the current OS thread
 * after handing this worker's run queue to a spare OS thread; the caller
 * is queued again when fn returns.  errno is what fn left.
 */
void *coro_call_blocking(void *(*fn)(void *), void *arg);

ssize_t coro_blocking_read(int fd, void *buf, size_t count);
ssize_t coro_blocking_write(int fd, const void *buf, size_t count);

/*
 * read() and write() through the io_uring of the caller's worker: the
 * call is submitted (at the file's own position, as read() and write()
 * use) and the coroutine parks until it completes, while its worker runs
 * the other coroutines; no OS thread blocks and no activation is needed.
 * The worker reaps completions when its queue runs dry and every 64
 * yields, and when it has nothing to run it waits in the ring (a wake-up
 * from another worker or a timer still ends the wait).  Returns what
 * read() or write() would, errno set on -1.  Where no ring can be made
 * (CORO_URING=off, a kernel without io_uring or with
 * kernel.io_uring_disabled, a seccomp filter), said once on stderr, they
 * are coro_blocking_read() and coro_blocking_write(); outside a coroutine,
 * read() and write().
 */
ssize_t coro_uring_read(int fd, void *buf, size_t count);
ssize_t coro_uring_write(int fd, const void *buf, size_t count);

/*
 * Scheduler activations: without any wrapper, a coroutine's plain
 * blocking system call (or page fault) does not stall the coroutines
 * queued behind it; its worker goes to a spare OS thread.
 * CORO_ACTIVATIONS=auto (default: module if /dev/kthread_perf opens, else
 * monitor), module, monitor or off, read by coro_sched_create(); where it
 * is unset, attr.activations chooses (NULL: auto).  EINVAL for another
 * value, ENODEV for module without the device.  Returns
 * "module", "monitor" or "off".
 */
const char *coro_sched_activations(const coro_sched_t *s);

/*
 * A scheduling point that yields only if the caller's OS thread lost its
 * worker while the caller was blocked in the kernel; then the caller goes
 * back to a run queue and the thread becomes a spare, so that no more
 * than `workers` OS threads run coroutines.  Also, once priorities are
 * in use, if a coroutine of a higher priority waits in this worker's
 * queue (a preemption that waited for a scheduling point).  A few loads
 * otherwise.
 */
void coro_checkpoint(void);

/* ---- Synchronisation -------------------------------------------------- *
 * Plain structs so they can be embedded and statically initialised;
 * the members are private.  None needs a destroy call.
 */

struct coro_waitq {
	int lock;
	coro_t *head, *tail;
};

/*
 * Adaptive mutex: spins while the owner runs on another worker, parks
 * otherwise.  Not recursive.
 */
typedef struct coro_mutex {
	int state;		/* 0 free, 1 locked, 2 locked with waiters */
	coro_t *owner;
	struct coro_waitq wq;
} coro_mutex_t;

typedef struct coro_cond {
	struct coro_waitq wq;
} coro_cond_t;

/* Counting semaphore; with initial 0 it is an event for hand-offs. */
typedef struct coro_sem {
	uint64_t count;
	struct coro_waitq wq;
} coro_sem_t;

/*
 * Barrier for count parties: coro_barrier_wait() returns when count of
 * them have called it, CORO_BARRIER_SERIAL in one of them and 0 in the
 * others, as pthread_barrier_wait() does.  Reusable at once.
 */
typedef struct coro_barrier {
	unsigned int count;
	unsigned int waiting;
	uint64_t generation;
	struct coro_waitq wq;
} coro_barrier_t;

#define CORO_BARRIER_SERIAL	1

#define CORO_MUTEX_INITIALIZER	{ 0, 0, { 0, 0, 0 } }
#define CORO_COND_INITIALIZER	{ { 0, 0, 0 } }
#define CORO_SEM_INITIALIZER(n)	{ (n), { 0, 0, 0 } }
#define CORO_BARRIER_INITIALIZER(n)	{ (n), 0, 0, { 0, 0, 0 } }

void coro_mutex_init(coro_mutex_t *m);
void coro_mutex_lock(coro_mutex_t *m);
int coro_mutex_trylock(coro_mutex_t *m);	/* 0 or EBUSY */
void coro_mutex_unlock(coro_mutex_t *m);

void coro_cond_init(coro_cond_t *cv);
void coro_cond_wait(coro_cond_t *cv, coro_mutex_t *m);
void coro_cond_signal(coro_cond_t *cv);
void coro_cond_broadcast(coro_cond_t *cv);

void coro_sem_init(coro_sem_t *s, uint64_t count);
void coro_sem_wait(coro_sem_t *s);
void coro_sem_post(coro_sem_t *s);

int coro_barrier_init(coro_barrier_t *b, unsigned int count);	/* EINVAL: 0 */
int coro_barrier_wait(coro_barrier_t *b);

/* ---- Stacks ----------------------------------------------------------- */

/*
 * At most n stacks at a time hold a guard (the rest a canary gap).  The
 * default is no limit with MADV_GUARD_INSTALL, else what vm.max_map_count
 * leaves room for; the environment variable CORO_MAX_GUARDS overrides it, and
 * CORO_GUARD=madvise|mprotect|canary picks the kind.  Takes effect for
 * stacks made later.
 */
void coro_set_max_guards(long n);

/* How stacks made now are guarded: "madvise", "mprotect" or "canary". */
const char *coro_stack_mode(void);

/*
 * Free stacks of one size kept for reuse: past n, a slab whose stacks
 * are all free goes back to the OS (default 4096).
 */
void coro_set_pool_cap(size_t n);

/*
 * Where c's stack is: usable bytes [*lo, *lo + *size), and whether a
 * guard (1) or a canary gap (0) lies below *lo.
 */
void coro_stack_info(const coro_t *c, void **lo, size_t *size, int *guarded);

/* Bytes of stacks, gaps and control blocks resident now (mincore). */
size_t coro_stack_resident(void);

/* Stacks made so far with a guard, and with a canary gap. */
void coro_stack_counts(uint64_t *guarded, uint64_t *canary);

#ifdef __cplusplus
}
#endif

#endif /* CORO_H */
