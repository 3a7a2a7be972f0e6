/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kthread_perf: the wait-latency histogram (SPEC.md sections 2 and 4),
 * written once for the module, pthread_bench and coro_bench.
 *
 * Log-linear in nanoseconds, as HdrHistogram is: one bucket per ns below
 * 8 ns, then every [2^k, 2^(k+1)) split into 8 equal sub-buckets, up to
 * 2^KP_HIST_TOP_SHIFT ns; the last bucket also counts everything above.
 * A bucket's width is at most an eighth of its lower bound, so a
 * percentile read as the largest value its bucket can hold is within
 * 12.5 % of the true one.
 *
 * Included through kp_defs.h.  Each worker owns one histogram and only it
 * writes it, through KP_STAT_STORE() (the kernel's WRITE_ONCE(); a release
 * store in user space), so that a reader inside the worker's sequence count
 * (kp_defs.h, kp_stats_read()) sees whole values.
 */
#ifndef KP_HIST_H
#define KP_HIST_H

#define KP_HIST_SUB_SHIFT	3	/* 8 sub-buckets per power of two */
#define KP_HIST_SUB		(1 << KP_HIST_SUB_SHIFT)
#define KP_HIST_TOP_SHIFT	36	/* about 68.7 s */
#define KP_HIST_BUCKETS \
	((KP_HIST_TOP_SHIFT - KP_HIST_SUB_SHIFT + 1) * KP_HIST_SUB)

#ifndef KP_STAT_STORE
#define KP_STAT_STORE(x, v)	WRITE_ONCE(x, v)
#endif
#ifndef KP_STAT_LOAD
#define KP_STAT_LOAD(x)		READ_ONCE(x)
#endif

struct kp_hist {
	u64 count[KP_HIST_BUCKETS];
	u64 samples;
	u64 sum_ns;
	u64 min_ns;
	u64 max_ns;
};

/*
 * The bucket of ns: ns itself below 8; else, with k the index of the top
 * bit, group k - 2 (8 buckets each) and the 3 bits below the top one.
 */
static inline unsigned int kp_hist_bucket(u64 ns)
{
	unsigned int k;

	if (ns < KP_HIST_SUB)
		return ns;
	if (ns >> KP_HIST_TOP_SHIFT)
		return KP_HIST_BUCKETS - 1;
	k = 63 - __builtin_clzll(ns);
	return ((k - KP_HIST_SUB_SHIFT + 1) << KP_HIST_SUB_SHIFT) +
	       ((ns >> (k - KP_HIST_SUB_SHIFT)) & (KP_HIST_SUB - 1));
}

/* Lower bound of bucket b in ns (inclusive). */
static inline u64 kp_hist_lo(unsigned int b)
{
	unsigned int shift;

	if (b < KP_HIST_SUB)
		return b;
	shift = (b >> KP_HIST_SUB_SHIFT) - 1;
	return (u64)(KP_HIST_SUB + (b & (KP_HIST_SUB - 1))) << shift;
}

/* Upper bound of bucket b in ns (exclusive; the last one counts above). */
static inline u64 kp_hist_hi(unsigned int b)
{
	return b + 1 < KP_HIST_BUCKETS ? kp_hist_lo(b + 1)
				       : 1ULL << KP_HIST_TOP_SHIFT;
}

static inline void kp_hist_add(struct kp_hist *h, u64 ns)
{
	unsigned int b = kp_hist_bucket(ns);

	KP_STAT_STORE(h->count[b], h->count[b] + 1);
	if (!h->samples || ns < h->min_ns)
		KP_STAT_STORE(h->min_ns, ns);
	if (ns > h->max_ns)
		KP_STAT_STORE(h->max_ns, ns);
	KP_STAT_STORE(h->sum_ns, h->sum_ns + ns);
	KP_STAT_STORE(h->samples, h->samples + 1);
}

/* Add src into dst; src is read with KP_STAT_LOAD() (a live worker's). */
static inline void kp_hist_merge(struct kp_hist *dst, const struct kp_hist *src)
{
	u64 samples = KP_STAT_LOAD(src->samples);
	u64 min_ns = KP_STAT_LOAD(src->min_ns);
	u64 max_ns = KP_STAT_LOAD(src->max_ns);
	unsigned int b;

	if (!samples)
		return;
	for (b = 0; b < KP_HIST_BUCKETS; b++)
		dst->count[b] += KP_STAT_LOAD(src->count[b]);
	if (!dst->samples || min_ns < dst->min_ns)
		dst->min_ns = min_ns;
	if (max_ns > dst->max_ns)
		dst->max_ns = max_ns;
	dst->sum_ns += KP_STAT_LOAD(src->sum_ns);
	dst->samples += samples;
}

static inline u64 kp_hist_mean(const struct kp_hist *h)
{
	return h->samples ? h->sum_ns / h->samples : 0;
}

/*
 * The percentiles debugfs and the JSON print, in parts per 10000, and
 * their names there ("# p50_ns 1408", "p50_ns": 1408).
 */
#define KP_HIST_NR_PCT		4
#define KP_HIST_PCT_NAMES	{ "p50_ns", "p90_ns", "p99_ns", "p999_ns" }
#define KP_HIST_PCT_PER10K	{ 5000, 9000, 9900, 9990 }

/*
 * The per10k/10000 percentile: the smallest value that at least that share
 * of the samples do not exceed, read as the largest value of its bucket
 * (clamped to max_ns), so at most 12.5 % above the true value; 0 without
 * samples.
 */
static inline u64 kp_hist_percentile(const struct kp_hist *h, u32 per10k)
{
	u64 rank, seen = 0, v;
	unsigned int b;

	if (!h->samples)
		return 0;
	/* ceil(samples * per10k / 10000), without overflowing the product */
	rank = h->samples / 10000 * per10k +
	       ((h->samples % 10000) * per10k + 9999) / 10000;
	if (!rank)
		rank = 1;
	for (b = 0; b < KP_HIST_BUCKETS - 1; b++) {
		seen += h->count[b];
		if (seen >= rank)
			break;
	}
	v = kp_hist_hi(b) - 1;
	if (b == KP_HIST_BUCKETS - 1 || v > h->max_ns)
		v = h->max_ns;
	return v < h->min_ns ? h->min_ns : v;
}

#endif /* KP_HIST_H */
