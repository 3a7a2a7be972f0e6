// SPDX-License-Identifier: GPL-2.0
/*
 * t_hist: the shared histogram (workload/kp_hist.h) and the snapshot of a
 * worker's statistics (kp_stats_read(), workload/kp_defs.h) fed known
 * inputs: bucket bounds, percentiles against the sorted samples, merging,
 * and a reader racing a writer.  Prints one line per failure and exits 1,
 * or prints "ok N checks" and exits 0.  Run by tests/host/hist.bats.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "kp_kernel_compat.h"
#include "kp_defs.h"

static unsigned long checks, failures;

#define CHECK(cond, ...)						\
	do {								\
		checks++;						\
		if (!(cond)) {						\
			failures++;					\
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);			\
			fputc('\n', stderr);				\
		}							\
	} while (0)

#define U(x) ((unsigned long long)(x))

static const u32 per10k[KP_HIST_NR_PCT] = KP_HIST_PCT_PER10K;

/* Rows are contiguous, ascending, of a fixed count; each at most 1/8 wide. */
static void test_bounds(void)
{
	unsigned int b;

	CHECK(KP_HIST_BUCKETS == 272, "%d buckets", KP_HIST_BUCKETS);
	CHECK(kp_hist_lo(0) == 0, "lo(0) = %llu", U(kp_hist_lo(0)));
	CHECK(kp_hist_hi(KP_HIST_BUCKETS - 1) == 1ULL << 36, "top %llu",
	      U(kp_hist_hi(KP_HIST_BUCKETS - 1)));
	for (b = 0; b < KP_HIST_BUCKETS; b++) {
		u64 lo = kp_hist_lo(b), hi = kp_hist_hi(b);

		CHECK(lo < hi, "bucket %u: [%llu, %llu)", b, U(lo), U(hi));
		if (b + 1 < KP_HIST_BUCKETS)
			CHECK(hi == kp_hist_lo(b + 1), "bucket %u: hi %llu, next lo %llu",
			      b, U(hi), U(kp_hist_lo(b + 1)));
		if (b < 8)
			CHECK(lo == b && hi == b + 1, "bucket %u: [%llu, %llu)",
			      b, U(lo), U(hi));
		else
			CHECK((hi - lo) * 8 <= lo, "bucket %u: [%llu, %llu) wider than lo/8",
			      b, U(lo), U(hi));
		CHECK(kp_hist_bucket(lo) == b, "bucket(%llu) = %u, not %u",
		      U(lo), kp_hist_bucket(lo), b);
		CHECK(kp_hist_bucket(hi - 1) == b, "bucket(%llu) = %u, not %u",
		      U(hi - 1), kp_hist_bucket(hi - 1), b);
	}
	/* Above the top: the last bucket. */
	CHECK(kp_hist_bucket(1ULL << 36) == KP_HIST_BUCKETS - 1, "2^36");
	CHECK(kp_hist_bucket(~0ULL) == KP_HIST_BUCKETS - 1, "2^64 - 1");
	/* Powers of two start a group: 8 sub-buckets from 2^3 on. */
	CHECK(kp_hist_lo(8) == 8 && kp_hist_lo(16) == 16 && kp_hist_lo(24) == 32,
	      "groups start at 8, 16, 32");
	CHECK(kp_hist_lo(17) == 18 && kp_hist_lo(25) == 36, "sub-bucket widths");
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* The true per10k percentile of n sorted values (nearest rank). */
static u64 true_percentile(const u64 *v, size_t n, u32 p)
{
	size_t rank = (n * p + 9999) / 10000;

	return v[rank ? rank - 1 : 0];
}

/*
 * n values into a histogram; every percentile must be the true one or at
 * most 12.5 % above it, and within [min, max].
 */
static void check_percentiles(const char *what, u64 *v, size_t n)
{
	struct kp_hist *h = calloc(1, sizeof(*h));
	size_t i, b;
	u64 sum = 0;

	if (!h)
		abort();
	for (i = 0; i < n; i++)
		kp_hist_add(h, v[i]);
	qsort(v, n, sizeof(*v), cmp_u64);
	for (b = 0; b < KP_HIST_BUCKETS; b++)
		sum += h->count[b];
	CHECK(sum == n && h->samples == n, "%s: %llu counted, %llu samples, %zu added",
	      what, U(sum), U(h->samples), n);
	CHECK(h->min_ns == v[0] && h->max_ns == v[n - 1], "%s: min %llu max %llu",
	      what, U(h->min_ns), U(h->max_ns));
	for (b = 0; b < KP_HIST_NR_PCT; b++) {
		u64 t = true_percentile(v, n, per10k[b]);
		u64 got = kp_hist_percentile(h, per10k[b]);

		CHECK(got >= t && (got - t) * 8 <= t,
		      "%s: p%u/10000 %llu, true %llu", what, per10k[b], U(got), U(t));
		CHECK(got >= h->min_ns && got <= h->max_ns, "%s: p%u/10000 %llu outside [%llu, %llu]",
		      what, per10k[b], U(got), U(h->min_ns), U(h->max_ns));
	}
	free(h);
}

static u64 rng_state = 88172645463325252ULL;

static u64 rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void test_percentiles(void)
{
	static u64 v[100000];
	struct kp_hist *h = calloc(1, sizeof(*h));
	size_t i, n;
	int round;

	if (!h)
		abort();
	/* Empty: all 0. */
	CHECK(kp_hist_percentile(h, 5000) == 0, "empty p50");
	/* One value below 8 ns is exact. */
	kp_hist_add(h, 5);
	CHECK(kp_hist_percentile(h, 5000) == 5 && kp_hist_percentile(h, 9990) == 5,
	      "one sample of 5");
	/* The percentiles of 1..10000 ns. */
	for (i = 0; i < 10000; i++)
		v[i] = i + 1;
	check_percentiles("1..10000", v, 10000);
	/* 999 fast waits and one slow one: p99.9 is the fast, the max the slow. */
	for (i = 0; i < 1000; i++)
		v[i] = i ? 1000 : 50000000;
	check_percentiles("999 x 1 us + 50 ms", v, 1000);
	memset(h, 0, sizeof(*h));
	for (i = 0; i < 1000; i++)
		kp_hist_add(h, i ? 1000 : 50000000);
	CHECK(kp_hist_percentile(h, 9990) == 1023 && kp_hist_percentile(h, 9999) == 50000000,
	      "p99.9 %llu, p99.99 %llu", U(kp_hist_percentile(h, 9990)),
	      U(kp_hist_percentile(h, 9999)));
	/* Beyond the top bucket: clamped to max_ns. */
	v[0] = 1ULL << 40;
	v[1] = 3;
	check_percentiles("above the top", v, 2);
	/* Log-uniform random values over 1 ns .. 2^36 ns, several sizes. */
	for (round = 0; round < 20; round++) {
		n = 1 + rng() % 100000;
		for (i = 0; i < n; i++)
			v[i] = (rng() >> (28 + rng() % 36)) + 1;
		check_percentiles("log-uniform", v, n);
	}
	free(h);
}

/* Merging two histograms is adding their samples to one. */
static void test_merge(void)
{
	struct kp_hist *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct kp_hist *all = calloc(1, sizeof(*all)), *m = calloc(1, sizeof(*m));
	unsigned int i;

	if (!a || !b || !all || !m)
		abort();
	for (i = 0; i < 5000; i++) {
		u64 x = rng() % 1000000;

		kp_hist_add(i % 3 ? a : b, x);
		kp_hist_add(all, x);
	}
	kp_hist_merge(m, a);
	kp_hist_merge(m, b);
	CHECK(!memcmp(m, all, sizeof(*m)), "merge differs from one histogram");
	free(a);
	free(b);
	free(all);
	free(m);
}

/*
 * A writer updates a worker's statistics as kp_loop.h does (every N-th
 * wait timed, inside the sequence count); a reader snapshots them all the
 * while and checks the invariants of SPEC.md section 4 on every read.
 */
#define RACE_N		3
#define RACE_WAITS	300000

static struct kp_stats race_st;
static int race_done;

static void *race_writer(void *arg)
{
	u64 j;

	(void)arg;
	for (j = 1; j <= RACE_WAITS; j++) {
		if (j % RACE_N) {
			KP_STAT_STORE(race_st.waits, race_st.waits + 1);
			continue;
		}
		kp_seq_write_begin(&race_st.seq);
		kp_hist_add(race_st.hist, j % 5000);
		KP_STAT_STORE(race_st.waits, race_st.waits + 1);
		kp_seq_write_end(&race_st.seq);
	}
	__atomic_store_n(&race_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_race(void)
{
	struct kp_hist *h = malloc(sizeof(*h)), *tmp = malloc(sizeof(*tmp));
	unsigned long reads = 0, bad = 0;
	pthread_t t;
	u64 waits, sum;
	unsigned int b;
	int done;

	race_st.hist = calloc(1, sizeof(*race_st.hist));
	if (!h || !tmp || !race_st.hist ||
	    pthread_create(&t, NULL, race_writer, NULL))
		abort();
	do {
		done = __atomic_load_n(&race_done, __ATOMIC_ACQUIRE);
		memset(h, 0, sizeof(*h));
		kp_stats_read(&race_st, h, tmp, &waits, 0);
		for (sum = 0, b = 0; b < KP_HIST_BUCKETS; b++)
			sum += h->count[b];
		if (sum != h->samples || h->samples != waits / RACE_N)
			bad++;
		reads++;
	} while (!done);
	pthread_join(t, NULL);
	CHECK(!bad, "%lu of %lu snapshots inconsistent", bad, reads);
	CHECK(waits == RACE_WAITS && h->samples == RACE_WAITS / RACE_N,
	      "final waits %llu samples %llu", U(waits), U(h->samples));
	free(race_st.hist);
	free(h);
	free(tmp);
}

int main(void)
{
	test_bounds();
	test_percentiles();
	test_merge();
	test_race();
	if (failures) {
		fprintf(stderr, "%lu of %lu checks failed\n", failures, checks);
		return 1;
	}
	printf("ok %lu checks\n", checks);
	return 0;
}
