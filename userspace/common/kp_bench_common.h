/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kthread_perf: what pthread_bench and coro_bench share (SPEC.md section 5),
 * written once: option parsing and validation, the result of a run, its
 * JSON and human-readable output, the count check, and small system helpers.
 *
 * Build: `make -C userspace/common [VARIANT=asan|tsan]` makes
 * build/[VARIANT/]libkpcommon.a at the top of the tree; a Makefile may
 * `include userspace/common/kpcommon.mk` for the flags and paths
 * (KP_CFLAGS, KP_SAN_FLAGS, KP_LIB; see that file).
 *
 * A model's main() is, in outline:
 *
 *	static u64 workers = 1;
 *	static const struct kp_cli_opt extra[] = {
 *		{ "workers", "M", "OS threads that run the coroutines",
 *		  1, 1024, 1, &workers },
 *		{ NULL },
 *	};
 *	static const struct kp_cli cli = {
 *		.prog = "coro_bench", .summary = "...", .extra = extra,
 *	};
 *	struct kp_opts o;
 *	struct kp_result r;
 *
 *	kp_parse_args(&cli, argc, argv, &o);	   (exits 2 on bad usage, 0 on --help)
 *	kp_install_stop_handler();		   (SIGINT -> kp_stop_requested())
 *	w = kp_workers_alloc(o.cfg.thread_count, sizeof(*w));
 *	kp_result_init(&r, "coro", &o.cfg, workers);
 *	kp_result_begin(&r);			   (the process's CPU time so far)
 *	... run ...
 *	kp_result_end(&r, shared.counter);	   (CPU time, stopped, counter)
 *	kp_result_add_worker(&r, i, ...) for each worker, and its row's
 *	    pid, last_cpu, switches and CPU time;
 *	kp_result_sum_threads(&r);		   (ops, waits, switches, cputime)
 *	kp_result_report(&r, o.json);		   (print, check: exit 1 on a
 *						    count mismatch, free)
 *
 * Everything here is single-threaded except kp_stop_requested(), which
 * any thread may call at any time.
 */
#ifndef KP_BENCH_COMMON_H
#define KP_BENCH_COMMON_H

#include <stddef.h>
#include <stdio.h>

#include "kp_kernel_compat.h"
#include "kp_defs.h"

/* ---- Options ---------------------------------------------------------- */

/*
 * An option a binary adds to the common ones: `--NAME VALUE` (or
 * `--NAME=VALUE`), an unsigned decimal integer in min..max, stored in
 * *value, which holds def until the option is given.  NULL name ends a list.
 */
struct kp_cli_opt {
	const char *name;	/* without the leading "--" */
	const char *metavar;	/* "M", "BYTES" (for --help) */
	const char *help;	/* one line for --help */
	u64 min, max;
	u64 def;
	u64 *value;
};

/* What a binary tells the parser about itself. */
struct kp_cli {
	const char *prog;	/* name in messages: "pthread_bench" */
	const char *summary;	/* one line for --help */
	u32 max_threads;	/* bound of --thread-count; 0: KP_MAX_THREADS_DEFAULT */
	const struct kp_cli_opt *extra;	/* NULL or a list ended by name == NULL */
};

struct kp_opts {
	struct kp_config cfg;	/* validated: ranges, even count in pingpong */
	bool json;		/* --json given */
};

/*
 * Parse argv into *o, starting from KP_CONFIG_DEFAULT.  Common options:
 * --thread-count --work-mode --sync-mode --work-target --yield-interval
 * --sleep-us --bind-cpu-count --latency-sample --json --limits --help (-h),
 * parsed by getopt_long() from one table (kp_opts.c) with the binary's
 * extras appended.  Values are checked against the module's ranges
 * (kp_defs.h) and bind-cpu-count against the number of CPUs this process
 * may run on (kp_allowed_cpu_count()).  Bad
 * usage prints one line naming the option on stderr and exits 2; --help
 * prints usage on stdout and exits 0, --limits the ranges as JSON.
 */
void kp_parse_args(const struct kp_cli *cli, int argc, char **argv,
		   struct kp_opts *o);

/*
 * For checks a binary adds after kp_parse_args(): print
 * "PROG: OPTION: message" as one line on stderr and exit 2.
 * option is spelled as the user typed it ("--workers"); may be NULL.
 */
__attribute__((noreturn, format(printf, 2, 3)))
void kp_usage_error(const char *option, const char *fmt, ...);

/* Runtime failure: print "PROG: message" on stderr and exit 1. */
__attribute__((noreturn, format(printf, 1, 2)))
void kp_die(const char *fmt, ...);

/* Like kp_die() with ": strerror(err)" appended (err is an errno value). */
__attribute__((noreturn, format(printf, 2, 3)))
void kp_die_errno(int err, const char *fmt, ...);

/* The program name given to kp_parse_args() ("kp" before that). */
const char *kp_prog(void);
/* Set the name kp_prog() returns (kp_parse_args() does). */
void kp_set_prog(const char *name);

/* Names of the modes as spelled in flags, sysfs and JSON. */
const char *kp_work_mode_name(u32 mode);
const char *kp_sync_mode_name(u32 mode);

/* ---- Results ---------------------------------------------------------- */

/* One row of "threads" in the JSON (for coro: one coroutine). */
struct kp_thread_result {
	u32 id;
	long pid;		/* TID of the OS thread that ran it */
	int cpu;		/* bound CPU, or -1 */
	int last_cpu;		/* CPU it ended on */
	u64 ops;
	u64 nvcsw;		/* voluntary switches over the run (delta) */
	u64 nivcsw;		/* involuntary switches over the run (delta) */
	u64 cputime_ns;
	u64 runtime_ns;		/* its own start to its own end */
	u64 waits;
};

struct kp_result {
	const char *model;	/* "pthread", "coro" */
	struct kp_config cfg;
	u32 workers;		/* OS threads that ran the work */
	bool stopped;		/* stopped early (SIGINT): counts not checked */
	u64 total_ops;		/* sum of the per-thread ops */
	u64 counter;		/* the shared counter (percpu: sum of private ones) */
	u64 elapsed_ns;		/* first worker start to last worker end */
	u64 user_ns, sys_ns;	/* process CPU time over the run */
	u64 nvcsw, nivcsw;	/* totals over the OS threads */
	u64 cputime_ns;		/* total over the OS threads */
	u64 waits;		/* total waits */
	struct kp_hist hist;	/* every worker's histogram merged */
	struct kp_thread_result *threads;	/* cfg.thread_count rows */
	char model_json[768];	/* the model's own JSON members, or "" */
	u64 first_start_ns, last_end_ns;	/* kp_result_add_worker() */
	u64 user0_ns, sys0_ns;			/* kp_result_begin() */
};

/*
 * Zero *r, copy the configuration, allocate cfg->thread_count rows with
 * id = i, cpu = kp_worker_cpu(cfg, i) and last_cpu = -1.  Dies on ENOMEM.
 */
void kp_result_init(struct kp_result *r, const char *model,
		    const struct kp_config *cfg, u32 workers);
void kp_result_free(struct kp_result *r);

/*
 * Around the run: kp_result_begin() takes the process's CPU time so far;
 * kp_result_end() sets user_ns and sys_ns to the CPU time since, stopped
 * to whether SIGINT came, and adds the workers' shared counter to counter.
 * Both die when getrusage() fails.
 */
void kp_result_begin(struct kp_result *r);
void kp_result_end(struct kp_result *r, u64 shared_counter);

/*
 * Zeroed memory for n workers of size bytes each, each on its own cache
 * lines (aligned to 64); dies on ENOMEM.  free() releases it.
 */
void *kp_workers_alloc(u32 n, size_t size);

/*
 * Give a worker's statistics their histogram when the run records
 * latencies (kp_wants_hist()), else none; dies on ENOMEM.  kp_stats_free()
 * frees it.
 */
void kp_stats_init(struct kp_stats *st, const struct kp_config *cfg);
void kp_stats_free(struct kp_stats *st);

/* Wait samples a worker with waits waits records: waits / latency_sample. */
u64 kp_samples_of(const struct kp_config *cfg, u64 waits);

/*
 * Take what worker i's loop left in *st and its start and end times into
 * row i (ops, waits, runtime_ns), the histogram, the counter (percpu: the
 * private counts add up to it) and elapsed_ns, first start to last end.
 * The model fills pid, cpu, last_cpu and the switch and CPU-time columns.
 */
void kp_result_add_worker(struct kp_result *r, u32 i,
			  const struct kp_stats *st, u64 start_ns, u64 end_ns);

/*
 * Set total_ops, waits, nvcsw, nivcsw and cputime_ns to the sums over the
 * rows.  Models whose rows share an OS thread (coro) overwrite the switch
 * and CPU totals afterwards with per-OS-thread sums.
 */
void kp_result_sum_threads(struct kp_result *r);

/* ops/s over elapsed_ns (0 when elapsed_ns is 0). */
u64 kp_result_throughput(const struct kp_result *r);

/*
 * Print the result: one JSON object of SPEC.md section 5 (with a newline)
 * when json, else a human-readable summary with per-thread rows and the
 * non-empty part of the histogram.  A stopped run is noted on stderr.
 */
void kp_result_print(const struct kp_result *r, bool json, FILE *f);
void kp_result_print_json(const struct kp_result *r, FILE *f);
void kp_result_print_human(const struct kp_result *r, FILE *f);

/* Histogram rows "lo_ns hi_ns count" from the first to the last non-empty bucket. */
void kp_hist_print(const struct kp_hist *h, FILE *f);

/*
 * Unless r->stopped: check counter == total_ops == thread_count *
 * work_target, waits == thread_count * waits per worker, hist.samples ==
 * thread_count * (waits per worker / latency_sample), and the sum of the
 * buckets == samples.  On a mismatch print what differs on stderr and
 * exit 1.
 */
void kp_result_verify(const struct kp_result *r);

/*
 * The end of a model's main(): kp_result_print() on stdout,
 * kp_result_verify() (exit 1 on a mismatch), kp_result_free().
 */
void kp_result_report(struct kp_result *r, bool json);

/* ---- System helpers --------------------------------------------------- */

u64 kp_clock_ns(void);		/* CLOCK_MONOTONIC */
u64 kp_thread_cputime_ns(void);	/* CLOCK_THREAD_CPUTIME_ID of the caller */
u64 kp_tick_ns(void);		/* clock_getres(CLOCK_MONOTONIC_COARSE): one tick */
u64 kp_timeval_ns(long sec, long usec);	/* for struct rusage times */
/* Timer slack 1 ns for this thread and every thread it creates after. */
void kp_timer_slack_min(void);

/* Number of online CPUs, and the i-th of them (ascending; i < count). */
u32 kp_online_cpu_count(void);
int kp_online_cpu(u32 i);

/*
 * The CPUs workers may be bound to: the online CPUs in this process's
 * affinity mask (its cpuset, taskset), ascending; their number (the upper
 * bound of --bind-cpu-count), the i-th of them, and their list as the
 * kernel writes one ("0-3,6"), for messages and "bind_set" in the JSON.
 */
u32 kp_allowed_cpu_count(void);
int kp_allowed_cpu(u32 i);
const char *kp_allowed_cpu_list(void);

/*
 * CPU worker i is bound to: the (i mod bind_cpu_count)-th allowed CPU
 * (above), or -1 when bind_cpu_count is 0.
 */
int kp_worker_cpu(const struct kp_config *cfg, u32 i);

/* Kernel release (uname -r), for "kernel" in the JSON. */
const char *kp_kernel_release(void);

/*
 * Where a result came from (kp_system.c): kp_parse_args() records argv and
 * the start time; kp_system_print_json() prints the "system", "cmdline",
 * "start_time" and "version" members of SPEC section 5 (no trailing comma
 * or brace).  kp_system_accel() is "kvm", "tcg" or "none", from the
 * hypervisor's CPUID signature.  kp_json_string() prints s as a JSON string.
 */
void kp_system_record_start(int argc, char **argv);
void kp_system_print_json(FILE *f);
const char *kp_system_accel(void);
void kp_json_string(FILE *f, const char *s);

/*
 * SIGINT sets a flag instead of killing the process, so that a run can be
 * stopped early and still reported.  kp_stop_requested() reads the flag
 * (relaxed atomic load, cheap enough for every chunk of work).
 */
void kp_install_stop_handler(void);
bool kp_stop_requested(void);

/*
 * Block mode (SPEC section 2): kp_block_open() gives worker i of n (n even)
 * its end of one AF_UNIX stream socketpair per pair (2p, 2p+1), and has
 * SIGINT shut them all down, so that a read() blocked on one returns 0 and
 * the worker sees the stop.  Dies on failure.  kp_block_close() closes
 * them.  (A socketpair, not a pipe: the module cannot make kernel pipes on
 * Debian's 6.1, and every model must do the same work.)
 */
int *kp_block_open(u32 n);
void kp_block_close(int *fds, u32 n);
void kp_stop_shutdown(const int *fds, u32 n);

#endif /* KP_BENCH_COMMON_H */
