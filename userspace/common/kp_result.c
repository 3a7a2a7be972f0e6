// SPDX-License-Identifier: GPL-2.0
/*
 * kthread_perf: the result of one run of a user-space model, its output
 * (JSON of SPEC.md section 5, or a summary for people) and the count check
 * of section 2.  `kperf run klt --json` prints the same JSON from sysfs, so
 * the key order and spelling here follow the specification exactly.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "kp_bench_common.h"

void kp_result_init(struct kp_result *r, const char *model,
		    const struct kp_config *cfg, u32 workers)
{
	u32 i;

	memset(r, 0, sizeof(*r));
	r->model = model;
	r->cfg = *cfg;
	r->workers = workers;
	r->threads = calloc(cfg->thread_count, sizeof(*r->threads));
	if (!r->threads)
		kp_die("out of memory for %u result rows", cfg->thread_count);
	r->first_start_ns = UINT64_MAX;
	for (i = 0; i < cfg->thread_count; i++) {
		r->threads[i].id = i;
		r->threads[i].cpu = kp_worker_cpu(cfg, i);
		r->threads[i].last_cpu = -1;
	}
}

void kp_result_free(struct kp_result *r)
{
	free(r->threads);
	r->threads = NULL;
}

/* The process's user and system CPU time so far. */
static void kp_process_times(u64 *user_ns, u64 *sys_ns)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		kp_die_errno(errno, "getrusage");
	*user_ns = kp_timeval_ns(ru.ru_utime.tv_sec, ru.ru_utime.tv_usec);
	*sys_ns = kp_timeval_ns(ru.ru_stime.tv_sec, ru.ru_stime.tv_usec);
}

void kp_result_begin(struct kp_result *r)
{
	kp_process_times(&r->user0_ns, &r->sys0_ns);
}

void kp_result_end(struct kp_result *r, u64 shared_counter)
{
	kp_process_times(&r->user_ns, &r->sys_ns);
	r->user_ns -= r->user0_ns;
	r->sys_ns -= r->sys0_ns;
	r->stopped = kp_stop_requested();
	r->counter += shared_counter;
}

void *kp_workers_alloc(u32 n, size_t size)
{
	/* aligned_alloc() wants a multiple of the alignment. */
	size_t bytes = ((size_t)n * size + 63) & ~(size_t)63;
	void *w = aligned_alloc(64, bytes ? bytes : 64);

	if (!w)
		kp_die("out of memory for %u workers", n);
	memset(w, 0, bytes);
	return w;
}

void kp_stats_init(struct kp_stats *st, const struct kp_config *cfg)
{
	st->hist = NULL;
	if (!kp_wants_hist(cfg))
		return;
	st->hist = calloc(1, sizeof(*st->hist));
	if (!st->hist)
		kp_die("out of memory for a latency histogram");
}

void kp_stats_free(struct kp_stats *st)
{
	free(st->hist);
	st->hist = NULL;
}

u64 kp_samples_of(const struct kp_config *cfg, u64 waits)
{
	return cfg->latency_sample ? waits / cfg->latency_sample : 0;
}

void kp_result_add_worker(struct kp_result *r, u32 i,
			  const struct kp_stats *st, u64 start_ns, u64 end_ns)
{
	struct kp_thread_result *t = &r->threads[i];
	struct kp_hist tmp;

	t->ops = st->ops;
	kp_stats_read(st, &r->hist, &tmp, &t->waits, 0);
	t->runtime_ns = end_ns - start_ns;
	if (r->cfg.sync_mode == KP_SYNC_PERCPU)
		r->counter += st->private_count;
	if (start_ns < r->first_start_ns)
		r->first_start_ns = start_ns;
	if (end_ns > r->last_end_ns)
		r->last_end_ns = end_ns;
	r->elapsed_ns = r->last_end_ns > r->first_start_ns ?
		r->last_end_ns - r->first_start_ns : 0;
}

void kp_result_sum_threads(struct kp_result *r)
{
	u32 i;

	r->total_ops = r->waits = r->nvcsw = r->nivcsw = r->cputime_ns = 0;
	for (i = 0; i < r->cfg.thread_count; i++) {
		const struct kp_thread_result *t = &r->threads[i];

		r->total_ops += t->ops;
		r->waits += t->waits;
		r->nvcsw += t->nvcsw;
		r->nivcsw += t->nivcsw;
		r->cputime_ns += t->cputime_ns;
	}
}

u64 kp_result_throughput(const struct kp_result *r)
{
	if (!r->elapsed_ns)
		return 0;
	return (u64)((unsigned __int128)r->total_ops * 1000000000u /
		     r->elapsed_ns);
}

#define U(x) ((unsigned long long)(x))

static const char *const pct_names[KP_HIST_NR_PCT] = KP_HIST_PCT_NAMES;
static const u32 pct_per10k[KP_HIST_NR_PCT] = KP_HIST_PCT_PER10K;

void kp_result_print_json(const struct kp_result *r, FILE *f)
{
	const struct kp_config *c = &r->cfg;
	unsigned int b;
	u32 i;

	fprintf(f, "{\"model\": \"%s\", \"config\": {\"thread_count\": %u, "
		"\"work_mode\": \"%s\", \"sync_mode\": \"%s\", "
		"\"work_target\": %llu, \"yield_interval\": %llu, "
		"\"sleep_us\": %llu, \"bind_cpu_count\": %u, "
		"\"latency_sample\": %u, \"workers\": %u},\n",
		r->model, c->thread_count, kp_work_mode_name(c->work_mode),
		kp_sync_mode_name(c->sync_mode), U(c->work_target),
		U(c->yield_interval), U(c->sleep_us), c->bind_cpu_count,
		c->latency_sample, r->workers);
	fprintf(f, " \"total_ops\": %llu, \"counter\": %llu, "
		"\"elapsed_ns\": %llu, \"throughput\": %llu, "
		"\"user_ns\": %llu, \"sys_ns\": %llu, \"nvcsw\": %llu, "
		"\"nivcsw\": %llu, \"cputime_ns\": %llu, \"waits\": %llu,\n",
		U(r->total_ops), U(r->counter), U(r->elapsed_ns),
		U(kp_result_throughput(r)), U(r->user_ns), U(r->sys_ns),
		U(r->nvcsw), U(r->nivcsw), U(r->cputime_ns), U(r->waits));
	fputs(" \"threads\": [", f);
	for (i = 0; i < c->thread_count; i++) {
		const struct kp_thread_result *t = &r->threads[i];

		fprintf(f, "%s{\"id\": %u, \"pid\": %ld, \"cpu\": %d, "
			"\"last_cpu\": %d, \"ops\": %llu, \"nvcsw\": %llu, "
			"\"nivcsw\": %llu, \"cputime_ns\": %llu, "
			"\"runtime_ns\": %llu, \"waits\": %llu}",
			i ? ",\n  " : "", t->id, t->pid, t->cpu, t->last_cpu,
			U(t->ops), U(t->nvcsw), U(t->nivcsw),
			U(t->cputime_ns), U(t->runtime_ns), U(t->waits));
	}
	fputs("],\n \"latency_hist\": {\"buckets\": [", f);
	for (b = 0; b < KP_HIST_BUCKETS; b++)
		fprintf(f, "%s{\"lo_ns\": %llu, \"hi_ns\": %llu, \"count\": %llu}",
			b ? ", " : "", U(kp_hist_lo(b)), U(kp_hist_hi(b)),
			U(r->hist.count[b]));
	fprintf(f, "],\n  \"samples\": %llu, \"min_ns\": %llu, "
		"\"max_ns\": %llu, \"mean_ns\": %llu",
		U(r->hist.samples), U(r->hist.min_ns), U(r->hist.max_ns),
		U(kp_hist_mean(&r->hist)));
	for (b = 0; b < KP_HIST_NR_PCT; b++)
		fprintf(f, ", \"%s\": %llu", pct_names[b],
			U(kp_hist_percentile(&r->hist, pct_per10k[b])));
	fputs("},\n", f);
	/*
	 * The set bind_cpu_count's "i-th CPU" counts in (SPEC 3): the online
	 * CPUs this process may run on (the module's is "online").
	 */
	fputs(" \"bind_set\": {\"name\": \"allowed\", \"cpus\": [", f);
	for (i = 0; i < kp_allowed_cpu_count(); i++)
		fprintf(f, "%s%d", i ? ", " : "", kp_allowed_cpu(i));
	fputs("]},\n", f);
	if (r->model_json[0])
		fprintf(f, " %s,\n", r->model_json);
	fputs(" \"kernel\": ", f);
	kp_json_string(f, kp_kernel_release());
	fputs(",\n", f);
	kp_system_print_json(f);
	fputs("}\n", f);
}

void kp_hist_print(const struct kp_hist *h, FILE *f)
{
	int first = -1, last = -1, b;

	for (b = 0; b < KP_HIST_BUCKETS; b++) {
		if (!h->count[b])
			continue;
		if (first < 0)
			first = b;
		last = b;
	}
	fprintf(f, "# lo_ns hi_ns count\n");
	for (b = first; first >= 0 && b <= last; b++)
		fprintf(f, "%llu %llu %llu\n", U(kp_hist_lo(b)),
			U(kp_hist_hi(b)), U(h->count[b]));
	fprintf(f, "# samples %llu\n# min_ns %llu\n# max_ns %llu\n"
		"# mean_ns %llu\n", U(h->samples), U(h->min_ns),
		U(h->max_ns), U(kp_hist_mean(h)));
	for (b = 0; b < KP_HIST_NR_PCT; b++)
		fprintf(f, "# %s %llu\n", pct_names[b],
			U(kp_hist_percentile(h, pct_per10k[b])));
}

void kp_result_print_human(const struct kp_result *r, FILE *f)
{
	const struct kp_config *c = &r->cfg;
	u32 i;

	fprintf(f, "model %s: %u threads on %u OS threads, work_mode %s, "
		"sync_mode %s, work_target %llu, yield_interval %llu, "
		"sleep_us %llu, bind_cpu_count %u, latency_sample %u\n",
		r->model, c->thread_count, r->workers,
		kp_work_mode_name(c->work_mode),
		kp_sync_mode_name(c->sync_mode), U(c->work_target),
		U(c->yield_interval), U(c->sleep_us), c->bind_cpu_count,
		c->latency_sample);
	fprintf(f, "%s: total_ops %llu, counter %llu, elapsed %.3f ms, "
		"throughput %llu ops/s\n",
		r->stopped ? "stopped early" : "done", U(r->total_ops),
		U(r->counter), r->elapsed_ns / 1e6,
		U(kp_result_throughput(r)));
	fprintf(f, "cpu: user %.3f ms, sys %.3f ms, threads %.3f ms; "
		"switches: %llu voluntary, %llu involuntary; waits %llu\n",
		r->user_ns / 1e6, r->sys_ns / 1e6, r->cputime_ns / 1e6,
		U(r->nvcsw), U(r->nivcsw), U(r->waits));
	fprintf(f, "%6s %8s %4s %8s %14s %10s %10s %12s %12s %10s\n",
		"id", "pid", "cpu", "last_cpu", "ops", "nvcsw", "nivcsw",
		"cpu_ms", "runtime_ms", "waits");
	for (i = 0; i < c->thread_count; i++) {
		const struct kp_thread_result *t = &r->threads[i];

		fprintf(f, "%6u %8ld %4d %8d %14llu %10llu %10llu %12.3f "
			"%12.3f %10llu\n", t->id, t->pid, t->cpu, t->last_cpu,
			U(t->ops), U(t->nvcsw), U(t->nivcsw),
			t->cputime_ns / 1e6, t->runtime_ns / 1e6, U(t->waits));
	}
	if (c->work_mode != KP_WORK_NORMAL) {
		fprintf(f, "wait latency histogram (%s):\n",
			kp_work_mode_name(c->work_mode));
		kp_hist_print(&r->hist, f);
	}
}

void kp_result_print(const struct kp_result *r, bool json, FILE *f)
{
	if (json)
		kp_result_print_json(r, f);
	else
		kp_result_print_human(r, f);
	fflush(f);
	if (r->stopped)
		fprintf(stderr, "%s: stopped early; the count check is skipped\n",
			kp_prog());
}

void kp_result_verify(const struct kp_result *r)
{
	const struct kp_config *c = &r->cfg;
	u64 want_ops = (u64)c->thread_count * c->work_target;
	u64 want_waits = (u64)c->thread_count * kp_waits_per_worker(c);
	u64 want_samples = (u64)c->thread_count *
			   kp_samples_of(c, kp_waits_per_worker(c));
	u64 buckets = 0;
	unsigned int b;
	bool ok = true;

	if (r->stopped)
		return;
	for (b = 0; b < KP_HIST_BUCKETS; b++)
		buckets += r->hist.count[b];
	if (r->counter != want_ops || r->total_ops != want_ops) {
		fprintf(stderr, "%s: COUNT MISMATCH: counter %llu, total_ops %llu, "
			"thread_count*work_target %llu\n", kp_prog(),
			U(r->counter), U(r->total_ops), U(want_ops));
		ok = false;
	}
	if (r->waits != want_waits || r->hist.samples != want_samples ||
	    buckets != want_samples) {
		fprintf(stderr, "%s: WAIT MISMATCH: waits %llu, samples %llu, "
			"bucket sum %llu, expected %llu waits, %llu samples\n",
			kp_prog(), U(r->waits), U(r->hist.samples), U(buckets),
			U(want_waits), U(want_samples));
		ok = false;
	}
	if (!ok)
		exit(1);
}

void kp_result_report(struct kp_result *r, bool json)
{
	kp_result_print(r, json, stdout);
	kp_result_verify(r);
	kp_result_free(r);
}
