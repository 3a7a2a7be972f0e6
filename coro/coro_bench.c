// SPDX-License-Identifier: GPL-2.0
/*
 * coro_bench: the coroutine model.  thread_count coroutines run the shared
 * worker loop of workload/kp_loop.h on one OS thread (--workers 1,
 * many-to-one) or on M worker threads with work stealing (--workers M,
 * many-to-many), with the library's primitives in place of the kernel's:
 * an atomic add, a pthread spinlock (a real one, across workers), the
 * adaptive coroutine mutex, coro_yield(), coro_sleep_ns(), a semaphore
 * hand-off for ping-pong, coro_barrier_wait(), coro_create() plus
 * coro_join() for spawn, and for block the same plain read() as every
 * model, which scheduler activations (CORO_ACTIVATIONS) make survivable,
 * or (--block-call) coro_blocking_read() or coro_uring_read().
 *
 * Rows of "threads" are the coroutines; their pid and switch and CPU
 * counts are those of the OS thread they ended on, over the run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "kp_bench_common.h"
#include "coro.h"

#define CACHELINE 64
#define MAX_COROUTINES 4000000u

/* What the coroutines share, each on its own cache line. */
static struct kp_shared {
	u64 counter __attribute__((aligned(CACHELINE)));
	pthread_spinlock_t spin __attribute__((aligned(CACHELINE)));
	coro_mutex_t mutex __attribute__((aligned(CACHELINE)));
	coro_barrier_t meet __attribute__((aligned(CACHELINE)));
	u64 stop_gen;			/* barrier mode: see kp_loop_hooks.h */
	u64 tick_ns;
	coro_sched_t *sched;		/* spawn mode: where children run */
} shared;

/* A sample of the OS thread a coroutine runs on. */
struct thread_sample {
	long tid;
	u64 nvcsw, nivcsw, cputime_ns;
};

/* One coroutine.  The members kp_loop.h uses come first. */
struct kp_worker {
	unsigned int id;
	const struct kp_config *cfg;
	struct kp_stats st;
	struct kp_worker *partner;
	coro_t *co;
	int worker;			/* worker (OS thread slot) it ended on */
	int last_cpu;
	u64 start_ns, end_ns;
	struct thread_sample first, last;
	coro_sem_t turn;		/* ping-pong: posted by the partner */
	u64 wake_ns;			/* partner's hand-over time */
	int blk_fd;			/* block mode: own end of the pair */
} __attribute__((aligned(CACHELINE)));

/* ---- Hooks of kp_loop.h ---------------------------------------------- */

#define KP_SHARED shared
/* A woken OS thread that lost its worker gives the coroutine back. */
#define KP_BLK_AFTER_READ(w) coro_checkpoint()
/* read(), the wrapper or io_uring: --block-call. */
#define KP_BLK_READ(fd, buf, n) blk_read(fd, buf, n)
#include "bench_block.h"
#include "kp_loop_hooks.h"

static inline void kp_mutex_lock(struct kp_shared *s)
{
	coro_mutex_lock(&s->mutex);
}

static inline void kp_mutex_unlock(struct kp_shared *s)
{
	coro_mutex_unlock(&s->mutex);
}

static inline void kp_wait_yield(struct kp_worker *w)
{
	(void)w;
	coro_yield();
}

/* sleep_us, or one tick for 0 (the module's schedule_timeout(1)). */
static inline void kp_wait_sleep(struct kp_worker *w)
{
	coro_sleep_ns(kp_sleep_ns(w));
}

/* The partner's wake time first, then the event that releases it. */
static inline void kp_pp_give(struct kp_worker *w, u64 now)
{
	struct kp_worker *p = w->partner;

	__atomic_store_n(&p->wake_ns, now, __ATOMIC_RELAXED);
	coro_sem_post(&p->turn);
}

static inline u64 kp_pp_take(struct kp_worker *w)
{
	coro_sem_wait(&w->turn);
	return __atomic_load_n(&w->wake_ns, __ATOMIC_RELAXED);
}

/* Barrier mode: every coroutine meets at one coro_barrier_t. */
static inline void kp_barrier_wait(struct kp_worker *w)
{
	(void)w;
	coro_barrier_wait(&shared.meet);
}

/*
 * Spawn mode: coro_create() on the worker's own scheduler, whose body
 * returns at once, then coro_join().
 */
static inline void kp_spawn_join(struct kp_worker *w)
{
	coro_t *c = coro_create(shared.sched, kp_spawn_child, NULL, 0);
	int err;

	if (!c)
		kp_die_errno(errno, "coroutine %u: cannot create a coroutine "
			     "to spawn", w->id);
	if ((err = coro_join(c, NULL)))
		kp_die_errno(err, "coroutine %u: coro_join", w->id);
}

#include "kp_loop.h"
#include "bench_conc.h"

/* ---- The run ---------------------------------------------------------- */

static void sample_thread(struct thread_sample *s)
{
	struct rusage ru;

	s->tid = gettid();
	s->cputime_ns = kp_thread_cputime_ns();
	if (getrusage(RUSAGE_THREAD, &ru))
		kp_die_errno(errno, "getrusage");
	s->nvcsw = (u64)ru.ru_nvcsw;
	s->nivcsw = (u64)ru.ru_nivcsw;
}

static void *coroutine_main(void *arg)
{
	struct kp_worker *w = arg;

	sample_thread(&w->first);
	w->start_ns = kp_clock_ns();

	kp_run_workload(w);

	w->end_ns = kp_clock_ns();
	w->worker = coro_worker_id();
	w->last_cpu = sched_getcpu();
	sample_thread(&w->last);
	/* A stopped partner may wait for a turn that will not come. */
	if (w->cfg->work_mode == KP_WORK_PINGPONG && kp_stop_requested())
		coro_sem_post(&w->partner->turn);
	return NULL;
}

/* What one OS thread did over the run: the spread of its samples. */
struct os_thread {
	long tid;
	struct thread_sample lo, hi;
};

static struct os_thread *os_thread_of(struct os_thread *t, u32 *n, long tid)
{
	u32 i;

	for (i = 0; i < *n; i++)
		if (t[i].tid == tid)
			return &t[i];
	t[*n].tid = tid;
	t[*n].lo.tid = 0;
	return &t[(*n)++];
}

static void os_thread_add(struct os_thread *o, const struct thread_sample *s)
{
	if (!o->lo.tid) {
		o->lo = o->hi = *s;
		return;
	}
	if (s->cputime_ns < o->lo.cputime_ns)
		o->lo = *s;
	if (s->cputime_ns > o->hi.cputime_ns)
		o->hi = *s;
}

/*
 * Fill the rows and totals.  Switch and CPU counts belong to OS threads:
 * each thread's are its latest sample minus its earliest, given to every
 * coroutine that ended on it and counted once in the totals.
 */
static void collect(struct kp_result *r, struct kp_worker *w, u32 n,
		    u32 workers)
{
	struct os_thread *os = calloc(2 * (size_t)n + 2 * workers + 8,
				      sizeof(*os));
	u32 nos = 0, i;

	if (!os)
		kp_die("out of memory");
	for (i = 0; i < n; i++) {
		os_thread_add(os_thread_of(os, &nos, w[i].first.tid), &w[i].first);
		os_thread_add(os_thread_of(os, &nos, w[i].last.tid), &w[i].last);
	}
	for (i = 0; i < n; i++) {
		struct kp_thread_result *t = &r->threads[i];
		struct os_thread *o = os_thread_of(os, &nos, w[i].last.tid);

		t->pid = w[i].last.tid;
		t->cpu = w[i].worker >= 0 ?
			kp_worker_cpu(&r->cfg, (u32)w[i].worker) : -1;
		t->last_cpu = w[i].last_cpu;
		t->nvcsw = o->hi.nvcsw - o->lo.nvcsw;
		t->nivcsw = o->hi.nivcsw - o->lo.nivcsw;
		t->cputime_ns = o->hi.cputime_ns - o->lo.cputime_ns;
		kp_result_add_worker(r, i, &w[i].st, w[i].start_ns,
				     w[i].end_ns);
	}
	kp_result_sum_threads(r);
	r->nvcsw = r->nivcsw = r->cputime_ns = 0;
	for (i = 0; i < nos; i++) {
		r->nvcsw += os[i].hi.nvcsw - os[i].lo.nvcsw;
		r->nivcsw += os[i].hi.nivcsw - os[i].lo.nivcsw;
		r->cputime_ns += os[i].hi.cputime_ns - os[i].lo.cputime_ns;
	}
	free(os);
}

/*
 * SPEC section 5: what the run's stacks got and cost; the activations;
 * with --sync-mode mutex, the adaptive mutex's contention (how it knew
 * that the owner's OS thread was off its CPU, and how long its contenders
 * spun).
 */
static void model_json(struct kp_result *r, size_t size, size_t resident,
		       coro_sched_t *s, bool mutex)
{
	static const char *const watch[] = {
		[CORO_WATCH_NONE] = "none", [CORO_WATCH_EVENTS] = "events",
		[CORO_WATCH_PROC] = "proc",
	};
	struct coro_mutex_stats m;
	struct coro_stats st;
	uint64_t guarded, unguarded;
	int len;

	coro_stack_counts(&guarded, &unguarded);
	coro_sched_stats(s, &st);
	len = snprintf(r->model_json, sizeof(r->model_json),
		       "\"stacks\": {\"size\": %zu, \"guard\": \"%s\", "
		       "\"guarded\": %llu, \"unguarded\": %llu, "
		       "\"resident_bytes\": %zu},\n \"activations\": \"%s\", "
		       "\"block_call\": \"%s\", \"handoffs\": %llu, "
		       "\"taken\": %llu",
		       size, coro_stack_mode(),
		       (unsigned long long)guarded, (unsigned long long)unguarded,
		       resident, coro_sched_activations(s),
		       blk_call_names[blk_call],
		       (unsigned long long)st.handoffs,
		       (unsigned long long)st.taken);
	if (!mutex || len < 0 || (size_t)len >= sizeof(r->model_json))
		return;
	coro_sched_mutex_stats(s, &m);
	snprintf(r->model_json + len, sizeof(r->model_json) - (size_t)len,
		 ",\n \"mutex\": {\"watch\": \"%s\", \"contended\": %llu, "
		 "\"spins\": %llu, \"spin_iters\": %llu, \"spin_ns\": %llu, "
		 "\"spin_acquired\": %llu, "
		 "\"parks\": %llu, \"owner_off_cpu\": %llu, \"checks\": %llu}",
		 m.watch >= 0 && m.watch <= CORO_WATCH_PROC ? watch[m.watch] : "?",
		 (unsigned long long)m.contended, (unsigned long long)m.spins,
		 (unsigned long long)m.spin_iters,
		 (unsigned long long)m.spin_ns,
		 (unsigned long long)m.spin_acquired,
		 (unsigned long long)m.parks,
		 (unsigned long long)m.owner_off_cpu,
		 (unsigned long long)m.checks);
}

/* The CPUs the workers are bound to, "1,0" (worker order), for a message. */
static const char *bound_cpus(const struct kp_config *cfg)
{
	static char buf[4 * CPU_SETSIZE];
	size_t len = 0;
	u32 i;

	for (i = 0; i < cfg->bind_cpu_count && len < sizeof(buf); i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%d",
					i ? "," : "", kp_worker_cpu(cfg, i));
	return buf;
}

/*
 * coro_sched_run() on a thread of its own, the first worker; the main
 * thread only waits for it, as pthread_bench's waits for its workers.
 * (In a TCG guest a process's initial thread slept 30 us later per
 * 100 us sleep than a thread it created.)
 */
static void *sched_main(void *arg)
{
	return (void *)(intptr_t)coro_sched_run(arg);
}

int main(int argc, char **argv)
{
	static u64 workers = 1, stack_size = CORO_STACK_DEFAULT;
	static const struct kp_cli_opt extra[] = {
		{ "workers", "M", "OS threads that run the coroutines (1: "
		  "many-to-one on one thread; M > 1: many-to-many)",
		  1, 1024, 1, &workers },
		{ "stack-size", "BYTES", "usable stack of each coroutine "
		  "(lazily committed, plus a two-page guard)",
		  CORO_STACK_MIN, 1ULL << 30, CORO_STACK_DEFAULT, &stack_size },
		{ NULL, NULL, NULL, 0, 0, 0, NULL },
	};
	static const struct kp_cli cli = {
		.prog = "coro_bench",
		.summary = "Run the kthread_perf workload on coroutines "
			   "(many-to-one or many-to-many model).  Also "
			   "--set-concurrency-at OPS:N[,OPS:N...]: change the "
			   "number of workers to N once OPS operations are "
			   "done (N = 0: one per allowed CPU); a timeline of "
			   "the throughput goes to stderr.  And --block-call "
			   "read|wrapper|uring: how block mode's coroutines "
			   "read (read: a plain read(), which needs scheduler "
			   "activations; wrapper: coro_blocking_read(); uring: "
			   "coro_uring_read(); default read).",
		.max_threads = MAX_COROUTINES,
		.extra = extra,
	};
	struct coro_sched_attr attr;
	int cpus[CPU_SETSIZE];
	struct kp_opts o;
	struct kp_result r;
	struct kp_worker *w;
	size_t resident;
	coro_sched_t *s;
	pthread_t sched_thread;
	int *blk_fds = NULL;
	void *ret;
	u32 n, i;
	int err;

	argc = conc_take_option(argc, argv);
	argc = blk_take_option(argc, argv);
	kp_parse_args(&cli, argc, argv, &o);
	n = o.cfg.thread_count;
	kp_install_stop_handler();
	kp_timer_slack_min();	/* sleep as the module does: before any thread */
	shared.tick_ns = kp_tick_ns();
	if ((err = pthread_spin_init(&shared.spin, PTHREAD_PROCESS_PRIVATE)))
		kp_die_errno(err, "cannot initialise the spinlock");
	coro_mutex_init(&shared.mutex);
	if ((err = coro_barrier_init(&shared.meet, n)))
		kp_die_errno(err, "cannot initialise the barrier");

	w = kp_workers_alloc(n, sizeof(*w));
	kp_result_init(&r, "coro", &o.cfg, (u32)workers);

	/* Worker j runs where kp_worker_cpu() says, as in pthread_bench. */
	for (i = 0; i < o.cfg.bind_cpu_count && i < CPU_SETSIZE; i++)
		cpus[i] = kp_worker_cpu(&o.cfg, i);
	memset(&attr, 0, sizeof(attr));
	attr.workers = (unsigned int)workers;
	/*
	 * Activations cost a locked exchange per scheduling point and a
	 * listener or monitor thread, so the benchmark asks for them only
	 * where its workload blocks in the kernel (block mode with a plain
	 * read(): the wrapper and io_uring need none); an explicit
	 * CORO_ACTIVATIONS still wins, and the JSON says which ran.
	 */
	attr.activations = o.cfg.work_mode == KP_WORK_BLOCK &&
			   blk_call == BLK_READ ? "auto" : "off";
	attr.ncpus = o.cfg.bind_cpu_count;
	attr.cpus = cpus;
	attr.stack_size = (size_t)stack_size;
	s = coro_sched_create(&attr);
	if (!s && errno == EINVAL && getenv("CORO_MUTEX_WATCH") &&
	    *getenv("CORO_MUTEX_WATCH") &&
	    strcmp(getenv("CORO_MUTEX_WATCH"), "auto") &&
	    strcmp(getenv("CORO_MUTEX_WATCH"), "off"))
		kp_usage_error("CORO_MUTEX_WATCH", "'%s' is not one of auto, "
			       "off", getenv("CORO_MUTEX_WATCH"));
	if (!s && errno == EINVAL && getenv("CORO_ACTIVATIONS"))
		kp_usage_error("CORO_ACTIVATIONS", "'%s' is not one of auto, "
			       "module, monitor, off",
			       getenv("CORO_ACTIVATIONS"));
	if (!s)
		kp_die_errno(errno, "cannot create the scheduler");
	/*
	 * A plain blocking read() stalls every coroutine queued on its OS
	 * thread, and here its partner: without activations the run hangs.
	 */
	if (o.cfg.work_mode == KP_WORK_BLOCK && blk_call == BLK_READ &&
	    !strcmp(coro_sched_activations(s), "off"))
		kp_usage_error("--work-mode", "block needs scheduler "
			       "activations (CORO_ACTIVATIONS=auto, module or "
			       "monitor; it is off): a plain blocking read() "
			       "would stall every coroutine on its worker "
			       "(--block-call wrapper or uring need none)");
	shared.sched = s;
	if (o.cfg.work_mode == KP_WORK_BLOCK)
		blk_fds = kp_block_open(n);
	for (i = 0; i < n; i++) {
		w[i].id = i;
		w[i].cfg = &o.cfg;
		kp_stats_init(&w[i].st, &o.cfg);
		w[i].partner = &w[(i ^ 1) < n ? (i ^ 1) : i];
		w[i].worker = -1;
		w[i].last_cpu = -1;
		w[i].blk_fd = blk_fds ? blk_fds[i] : -1;
		coro_sem_init(&w[i].turn, 0);
	}
	for (i = 0; i < n; i++) {
		w[i].co = coro_create(s, coroutine_main, &w[i], 0);
		if (!w[i].co)
			kp_die_errno(errno, "cannot create coroutine %u", i);
	}

	resident = coro_stack_resident();
	kp_result_begin(&r);
	if ((err = pthread_create(&sched_thread, NULL, sched_main, s)))
		kp_die_errno(err, "cannot create the scheduler's thread");
	conc_start(s, w, n);
	pthread_join(sched_thread, &ret);
	conc_report();
	err = (int)(intptr_t)ret;
	if (err == EINVAL && o.cfg.bind_cpu_count)
		kp_die_errno(err, "cannot bind the workers to CPUs %s "
			     "(allowed CPUs: %s)", bound_cpus(&o.cfg),
			     kp_allowed_cpu_list());
	if (err)
		kp_die_errno(err, "cannot run the coroutines");
	if (coro_stack_resident() > resident)
		resident = coro_stack_resident();
	kp_result_end(&r, shared.counter);
	for (i = 0; i < n; i++)
		if ((err = coro_join(w[i].co, NULL)))
			kp_die_errno(err, "coroutine %u", i);

	collect(&r, w, n, (u32)workers);
	model_json(&r, (size_t)stack_size, resident, s,
		   o.cfg.sync_mode == KP_SYNC_MUTEX);
	kp_result_report(&r, o.json);
	if (blk_fds)
		kp_block_close(blk_fds, n);
	coro_sched_destroy(s);
	for (i = 0; i < n; i++)
		kp_stats_free(&w[i].st);
	free(w);
	pthread_spin_destroy(&shared.spin);
	return 0;
}
