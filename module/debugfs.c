// SPDX-License-Identifier: GPL-2.0
/*
 * kthread_perf: /sys/kernel/debug/kthread_perf/latency_hist, the wait
 * latencies of the current or last run, all workers merged (SPEC.md 4).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "kthread_perf.h"

static const char * const kp_pct_names[KP_HIST_NR_PCT] = KP_HIST_PCT_NAMES;
static const u32 kp_pct_per10k[KP_HIST_NR_PCT] = KP_HIST_PCT_PER10K;

/*
 * Every bucket row, then the summary; the sum of the counts is samples,
 * which agrees with waits (waits / latency_sample per worker), even while
 * the run goes on (kp_run_hist()).
 */
static int latency_hist_show(struct seq_file *m, void *unused)
{
	unsigned int mode, b;
	struct kp_hist *h;
	u64 run_id;
	int err;

	h = kmalloc(sizeof(*h), GFP_KERNEL);
	if (!h)
		return -ENOMEM;
	mutex_lock(&kp.lock);
	err = kp_run_hist(kp.run, h);
	run_id = kp.run_id;
	mode = kp.run ? kp.run->cfg.work_mode : kp.cfg.work_mode;
	mutex_unlock(&kp.lock);
	if (err)
		goto out;

	seq_printf(m, "# kthread_perf latency histogram, run_id %llu, work_mode %s, unit ns\n",
		   run_id, kp_work_mode_names[mode]);
	seq_puts(m, "# lo_ns hi_ns count\n");
	for (b = 0; b < KP_HIST_BUCKETS; b++)
		seq_printf(m, "%llu %llu %llu\n",
			   kp_hist_lo(b), kp_hist_hi(b), h->count[b]);
	seq_printf(m, "# samples %llu\n", h->samples);
	seq_printf(m, "# min_ns %llu\n", h->min_ns);
	seq_printf(m, "# max_ns %llu\n", h->max_ns);
	seq_printf(m, "# mean_ns %llu\n", kp_hist_mean(h));
	for (b = 0; b < KP_HIST_NR_PCT; b++)
		seq_printf(m, "# %s %llu\n", kp_pct_names[b],
			   kp_hist_percentile(h, kp_pct_per10k[b]));
out:
	kfree(h);
	return err;
}
DEFINE_SHOW_ATTRIBUTE(latency_hist);

/* debugfs is optional: a failure here is not an error of the module. */
void kp_debugfs_init(void)
{
	kp.debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("latency_hist", 0400, kp.debugfs, NULL,
			    &latency_hist_fops);
}

/* Waits for readers of the file to leave. */
void kp_debugfs_exit(void)
{
	debugfs_remove_recursive(kp.debugfs);
	kp.debugfs = NULL;
}
