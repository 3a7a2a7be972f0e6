/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kthread_perf: the definitions every model shares (SPEC.md section 2).
 *
 * This header is compiled into the kernel module, the pthread baseline and
 * the coroutine benchmark.  The includer provides first: u32, u64, bool,
 * READ_ONCE(), WRITE_ONCE(), memset(), and the sequence count of struct
 * kp_stats: its type KP_SEQ_T, kp_seq_read_begin(const KP_SEQ_T *) (waits
 * for an even count and returns it) and kp_seq_read_retry(seq, start)
 * (whether to read again).  The kernel's are in "kthread_perf.h" (a
 * seqcount_t), user space's in "kp_kernel_compat.h" (C11 atomics).
 */
#ifndef KP_DEFS_H
#define KP_DEFS_H

#include "kp_hist.h"

enum kp_work_mode {
	KP_WORK_NORMAL,
	KP_WORK_YIELD,
	KP_WORK_SLEEP,
	KP_WORK_PINGPONG,
	KP_WORK_BARRIER,
	KP_WORK_SPAWN,
	KP_WORK_BLOCK,
	KP_WORK_NR,
};

enum kp_sync_mode {
	KP_SYNC_ATOMIC,
	KP_SYNC_SPINLOCK,
	KP_SYNC_MUTEX,
	KP_SYNC_PERCPU,
	KP_SYNC_NR,
};

/* Indexed by the enums above; the spelling of sysfs, flags and JSON. */
#define KP_WORK_MODE_NAMES \
	{ "normal", "yield", "sleep", "pingpong", "barrier", "spawn", "block" }
#define KP_SYNC_MODE_NAMES { "atomic", "spinlock", "mutex", "percpu" }

/* Ranges and defaults of the configuration (SPEC.md section 3). */
#define KP_MAX_THREADS_DEFAULT	1024
#define KP_THREAD_COUNT_DEFAULT	4
#define KP_WORK_TARGET_DEFAULT	1000000ULL
#define KP_WORK_TARGET_MAX	1000000000000ULL
#define KP_YIELD_INTERVAL_DEFAULT 1000ULL
#define KP_YIELD_INTERVAL_MAX	1000000000000ULL
#define KP_SLEEP_US_MAX		1000000ULL
#define KP_LATENCY_SAMPLE_DEFAULT 1
#define KP_LATENCY_SAMPLE_MAX	1000000ULL

/*
 * Where the upper bound of a configuration number comes from: the sysfs
 * files (module/config.c) and the command line (kp_opts.c) share it.
 */
enum kp_bound {
	KP_BOUND_FIXED,		/* a constant of this file */
	KP_BOUND_MAX_THREADS,	/* the module's max_threads (a binary's own) */
	KP_BOUND_ONLINE_CPUS,	/* the online CPUs at the time of the check */
};

static inline u64 kp_bound_max(enum kp_bound bound, u64 fixed,
			       u64 max_threads, u64 online_cpus)
{
	if (bound == KP_BOUND_MAX_THREADS)
		return max_threads;
	return bound == KP_BOUND_ONLINE_CPUS ? online_cpus : fixed;
}

/* Operations between two checks of the stop flag in every work mode. */
#define KP_CHUNK		4096ULL

struct kp_config {
	u64 work_target;	/* operations per worker */
	u64 yield_interval;	/* operations between two waits */
	u64 sleep_us;		/* 0: one scheduler tick */
	u32 thread_count;
	u32 bind_cpu_count;	/* 0: unbound */
	u32 work_mode;		/* enum kp_work_mode */
	u32 sync_mode;		/* enum kp_sync_mode */
	u32 latency_sample;	/* time every N-th wait; 0: none */
};

#define KP_CONFIG_DEFAULT {					\
	.work_target = KP_WORK_TARGET_DEFAULT,			\
	.yield_interval = KP_YIELD_INTERVAL_DEFAULT,		\
	.sleep_us = 0,						\
	.thread_count = KP_THREAD_COUNT_DEFAULT,		\
	.bind_cpu_count = 0,					\
	.work_mode = KP_WORK_NORMAL,				\
	.sync_mode = KP_SYNC_ATOMIC,				\
	.latency_sample = KP_LATENCY_SAMPLE_DEFAULT,		\
}

/*
 * Modes that pair workers (0,1), (2,3), ... and so need an even
 * thread_count: pingpong hands the turn over with the model's own wake-up,
 * block with a byte through a socket and a plain blocking read().
 */
static inline bool kp_work_paired(u32 work_mode)
{
	return work_mode == KP_WORK_PINGPONG || work_mode == KP_WORK_BLOCK;
}

/*
 * Waits a worker performs in a full run: one every yield_interval
 * operations, none in normal mode.
 */
static inline u64 kp_waits_per_worker(const struct kp_config *c)
{
	if (c->work_mode == KP_WORK_NORMAL)
		return 0;
	return c->work_target / c->yield_interval;
}

/*
 * Whether a run records wait latencies at all: it waits and times some of
 * its waits.  Only then does a worker need its histogram.
 */
static inline bool kp_wants_hist(const struct kp_config *c)
{
	return c->work_mode != KP_WORK_NORMAL && c->latency_sample;
}

/*
 * What a worker counts about itself.  Only the worker writes it while it
 * runs.  ops is published with WRITE_ONCE().  A timed wait updates the
 * histogram and waits inside the sequence count seq, so that a reader
 * (kp_stats_read()) sees the two agree; an untimed wait only bumps waits,
 * which cannot take it across a multiple of latency_sample, so the two
 * agree at every moment: hist->samples == waits / latency_sample.
 */
struct kp_stats {
	u64 ops;		/* operations done */
	u64 waits;		/* waits done, timed or not */
	u64 private_count;	/* the worker's own counter (percpu mode) */
	u64 sample_left;	/* waits until the next timed one */
	KP_SEQ_T seq;		/* around the timed updates */
	bool barrier_stop;	/* barrier mode: the agreed stop has come */
	bool pp_timed;		/* pingpong: whether the last take was timed */
	struct kp_hist *hist;	/* NULL unless kp_wants_hist() */
};

/*
 * A consistent snapshot of a worker's waits and histogram, which may be
 * running: on success h gets its histogram added and *waits its waits.
 * tmp is scratch space for one histogram.  Gives up (false, h unchanged)
 * after tries attempts that a write overlapped; 0 tries: never.
 */
static inline bool kp_stats_read(const struct kp_stats *st, struct kp_hist *h,
				 struct kp_hist *tmp, u64 *waits,
				 unsigned int tries)
{
	unsigned int seq;

	do {
		seq = kp_seq_read_begin(&st->seq);
		*waits = KP_STAT_LOAD(st->waits);
		memset(tmp, 0, sizeof(*tmp));
		if (st->hist)
			kp_hist_merge(tmp, st->hist);
		if (!kp_seq_read_retry(&st->seq, seq)) {
			kp_hist_merge(h, tmp);
			return true;
		}
	} while (!tries || --tries);
	return false;
}

#endif /* KP_DEFS_H */
