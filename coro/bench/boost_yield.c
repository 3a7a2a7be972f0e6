// SPDX-License-Identifier: GPL-2.0
/*
 * boost_yield: the reference for coro_bench's many-to-one yield cost.
 * thread_count contexts of Boost.Context's fcontext run the yield
 * workload of workload/kp_loop.h, the same loop coro_bench runs, with
 * no scheduler at all: kp_wait_yield() jumps straight to the next live
 * context of a ring (plain round robin, the order coro's FIFO run queue
 * gives).  Takes the common options (yield mode only) and prints the
 * same result, JSON with --json, so that run.sh can set it beside
 *
 *	coro_bench --workers 1 --work-mode yield ...
 *
 * in one run (make -C coro bench).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kp_bench_common.h"

/* libboost_context's C entry points (boost/context/detail/fcontext.hpp). */
typedef void *fcontext_t;
typedef struct { fcontext_t fctx; void *data; } transfer_t;
transfer_t jump_fcontext(fcontext_t const to, void *vp);
fcontext_t make_fcontext(void *sp, size_t size, void (*fn)(transfer_t));

#define CACHELINE 64
#define STACK (64 * 1024)
/*
 * Stacks lie STRIDE apart, as protected_fixedsize_stack's mmaps of a
 * stack and its guard page would (the page is not protected here): a
 * stride of exactly 64 KiB would put every context's top frames in the
 * same L2 sets, a handicap no real allocator imposes.  They do share L1
 * sets, as the tops of any page-aligned stacks do, Boost's allocators'
 * included; libcoro starts each coroutine's first frame at one of 16
 * offsets (stack colouring, coro/src/stack.h), Boost does not.
 */
#define STRIDE (STACK + 4096)

static struct kp_shared {
	u64 counter __attribute__((aligned(CACHELINE)));
	pthread_spinlock_t spin __attribute__((aligned(CACHELINE)));
	u64 stop_gen, tick_ns;
	int mutex_held;
} shared;

/* One context.  The members kp_loop.h and kp_loop_hooks.h use first. */
struct kp_worker {
	unsigned int id;
	const struct kp_config *cfg;
	struct kp_stats st;
	struct kp_worker *next, *prev;	/* the ring of live contexts */
	fcontext_t fctx;		/* where it resumes */
	struct kp_worker *partner;	/* block-mode members, unused */
	u64 wake_ns;
	int blk_fd;
	u64 start_ns, end_ns;
} __attribute__((aligned(CACHELINE)));

static struct kp_worker *workers;
static char *stacks;
static fcontext_t main_fctx;

/*
 * Leave the running context (whose resume point goes to *save, or
 * nowhere when save is NULL) for to.  Whoever is resumed stores the
 * context that left where the leaver said.
 */
static inline void jump_to(fcontext_t *save, fcontext_t to)
{
	transfer_t t = jump_fcontext(to, save);

	if (t.data)
		*(fcontext_t *)t.data = t.fctx;
}

/* ---- Hooks of kp_loop.h ---------------------------------------------- */

#define KP_SHARED shared
#include "kp_loop_hooks.h"

/*
 * One OS thread, and no jump inside a critical section (kp_do_ops()
 * waits only between them): the mutex is a flag that is always free.
 */
static inline void kp_mutex_lock(struct kp_shared *s)
{
	if (s->mutex_held++)
		kp_die("the mutex is held across a context switch");
}

static inline void kp_mutex_unlock(struct kp_shared *s)
{
	s->mutex_held = 0;
}

/* The whole point: the next context of the ring, nothing else. */
static inline void kp_wait_yield(struct kp_worker *w)
{
	if (w->next != w)
		jump_to(&w->fctx, w->next->fctx);
}

/* Refused in main(): yield mode only. */
static inline void kp_wait_sleep(struct kp_worker *w)
{
	kp_die("worker %u: sleep mode is not measured here", w->id);
}

static inline void kp_pp_give(struct kp_worker *w, u64 now)
{
	(void)now;
	kp_die("worker %u: pingpong mode is not measured here", w->id);
}

static inline u64 kp_pp_take(struct kp_worker *w)
{
	kp_die("worker %u: pingpong mode is not measured here", w->id);
}

static inline void kp_barrier_wait(struct kp_worker *w)
{
	kp_die("worker %u: barrier mode is not measured here", w->id);
}

static inline void kp_spawn_join(struct kp_worker *w)
{
	kp_die("worker %u: spawn mode is not measured here", w->id);
}

#include "kp_loop.h"

/* ---- The run ---------------------------------------------------------- */

/* First frame of every context: its worker is found by its stack. */
static void context_main(transfer_t t)
{
	char *sp = __builtin_frame_address(0);
	struct kp_worker *w = &workers[(sp - stacks) / STRIDE];
	struct kp_worker *next;

	if (t.data)
		*(fcontext_t *)t.data = t.fctx;
	w->start_ns = kp_clock_ns();
	kp_run_workload(w);
	w->end_ns = kp_clock_ns();
	/* Leave the ring for good: to the next live context, or home. */
	next = w->next;
	w->prev->next = next;
	next->prev = w->prev;
	jump_to(NULL, next == w ? main_fctx : next->fctx);
	__builtin_unreachable();
}

int main(int argc, char **argv)
{
	static const struct kp_cli cli = {
		.prog = "boost_yield",
		.summary = "Run the kthread_perf yield workload on Boost.Context "
			   "fcontexts in plain round robin (the reference for "
			   "coro_bench --workers 1).",
	};
	struct kp_opts o;
	struct kp_result r;
	u64 cpu0;
	u32 n, i;

	kp_parse_args(&cli, argc, argv, &o);
	if (o.cfg.work_mode != KP_WORK_YIELD)
		kp_usage_error("--work-mode", "only yield is measured here");
	n = o.cfg.thread_count;
	kp_install_stop_handler();
	shared.tick_ns = kp_tick_ns();
	pthread_spin_init(&shared.spin, PTHREAD_PROCESS_PRIVATE);
	workers = kp_workers_alloc(n, sizeof(*workers));
	stacks = aligned_alloc(4096, (size_t)n * STRIDE);
	if (!stacks)
		kp_die("out of memory for %u contexts", n);
	for (i = 0; i < n; i++) {
		struct kp_worker *w = &workers[i];

		w->id = i;
		w->cfg = &o.cfg;
		kp_stats_init(&w->st, &o.cfg);
		w->partner = w;
		w->next = &workers[(i + 1) % n];
		w->prev = &workers[(i + n - 1) % n];
		w->fctx = make_fcontext(stacks + (size_t)i * STRIDE + STACK,
					STACK, context_main);
	}
	kp_result_init(&r, "boost_fcontext", &o.cfg, 1);
	kp_result_begin(&r);
	cpu0 = kp_thread_cputime_ns();
	jump_to(&main_fctx, workers[0].fctx);
	cpu0 = kp_thread_cputime_ns() - cpu0;
	kp_result_end(&r, shared.counter);

	for (i = 0; i < n; i++) {
		r.threads[i].pid = gettid();
		kp_result_add_worker(&r, i, &workers[i].st, workers[i].start_ns,
				     workers[i].end_ns);
		kp_stats_free(&workers[i].st);
	}
	kp_result_sum_threads(&r);
	/* One OS thread ran them all: its time, counted once. */
	r.cputime_ns = cpu0;
	free(stacks);
	free(workers);
	kp_result_report(&r, o.json);
	return 0;
}
