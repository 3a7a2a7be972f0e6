/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kthread_perf: the definitions every model shares (SPEC.md section 2).
 *
 * This header is compiled into the kernel module, the pthread baseline and
 * the coroutine benchmark.  The includer provides u32, u64 and bool first:
 * <linux/types.h> in the kernel, "kp_kernel_compat.h" in user space.
 */
#ifndef KP_DEFS_H
#define KP_DEFS_H

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
};

#define KP_CONFIG_DEFAULT {					\
	.work_target = KP_WORK_TARGET_DEFAULT,			\
	.yield_interval = KP_YIELD_INTERVAL_DEFAULT,		\
	.sleep_us = 0,						\
	.thread_count = KP_THREAD_COUNT_DEFAULT,		\
	.bind_cpu_count = 0,					\
	.work_mode = KP_WORK_NORMAL,				\
	.sync_mode = KP_SYNC_ATOMIC,				\
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
 * Wait-latency histogram: bucket k counts samples in [2^k, 2^(k+1)) ns,
 * bucket 0 also counts 0 and the last bucket everything above it.
 * Each worker owns one and only it writes it; readers merge them.
 */
#define KP_HIST_BUCKETS 40

struct kp_hist {
	u64 count[KP_HIST_BUCKETS];
	u64 samples;
	u64 sum_ns;
	u64 min_ns;
	u64 max_ns;
};

static inline unsigned int kp_hist_bucket(u64 ns)
{
	unsigned int b = ns ? 63 - __builtin_clzll(ns) : 0;

	return b < KP_HIST_BUCKETS ? b : KP_HIST_BUCKETS - 1;
}

/* Lower bound of bucket b in ns, as printed (bucket 0 starts at 0). */
static inline u64 kp_hist_lo(unsigned int b)
{
	return b ? 1ULL << b : 0;
}

static inline u64 kp_hist_hi(unsigned int b)
{
	return 1ULL << (b + 1);
}

static inline void kp_hist_add(struct kp_hist *h, u64 ns)
{
	h->count[kp_hist_bucket(ns)]++;
	if (!h->samples || ns < h->min_ns)
		h->min_ns = ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
	h->sum_ns += ns;
	h->samples++;
}

static inline void kp_hist_merge(struct kp_hist *dst, const struct kp_hist *src)
{
	unsigned int b;

	if (!src->samples)
		return;
	for (b = 0; b < KP_HIST_BUCKETS; b++)
		dst->count[b] += src->count[b];
	if (!dst->samples || src->min_ns < dst->min_ns)
		dst->min_ns = src->min_ns;
	if (src->max_ns > dst->max_ns)
		dst->max_ns = src->max_ns;
	dst->sum_ns += src->sum_ns;
	dst->samples += src->samples;
}

static inline u64 kp_hist_mean(const struct kp_hist *h)
{
	return h->samples ? h->sum_ns / h->samples : 0;
}

/*
 * What a worker counts about itself.  Only the worker writes it while it
 * runs; ops and waits are published with WRITE_ONCE() so that live readers
 * see whole values.
 */
struct kp_stats {
	u64 ops;		/* operations done */
	u64 waits;		/* waits done (= hist.samples) */
	u64 private_count;	/* the worker's own counter (percpu mode) */
	bool barrier_stop;	/* barrier mode: the agreed stop has come */
	struct kp_hist hist;
};

#endif /* KP_DEFS_H */
