// SPDX-License-Identifier: GPL-2.0
/*
 * kthread_perf: the configuration files of /sys/kernel/kthread_perf/.
 *
 * A write parses and range-checks the value first (EINVAL), then takes
 * kp.lock and refuses while a run is in progress (EBUSY); either way the
 * configuration is unchanged.  Reads take no lock: every value is one
 * aligned word.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/kernel.h>
#include <linux/kstrtox.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "kthread_perf.h"

/* A decimal number in [min, max], with an optional trailing newline. */
static int kp_parse(const char *buf, u64 min, u64 max, u64 *val)
{
	if (kstrtou64(buf, 10, val) || *val < min || *val > max)
		return -EINVAL;
	return 0;
}

/*
 * Take kp.lock for a configuration change; -EBUSY (and no lock) while a
 * run is in progress.
 */
static int kp_config_lock(void)
{
	mutex_lock(&kp.lock);
	if (kp_get_state() == KP_STATE_RUNNING) {
		mutex_unlock(&kp.lock);
		return -EBUSY;
	}
	return 0;
}

/*
 * One configuration file: its field of kp.cfg (a u32 or a u64) and either
 * the names of its choices (max + 1 of them) or its range.
 * kp_config_show() and kp_config_store() serve every file from its row.
 */
struct kp_config_file {
	const char *name;
	u32 *u32;
	u64 *u64;
	const char * const *names;	/* a choice, or NULL for a number */
	u64 min, max;
	enum kp_bound bound;
};

static const struct kp_config_file kp_config_files[] = {
	/* name, u32 field, u64 field, names, min, max, bound */
	{ "thread_count", &kp.cfg.thread_count, NULL, NULL, 1, 0, KP_BOUND_MAX_THREADS },
	{ "work_mode", &kp.cfg.work_mode, NULL, kp_work_mode_names, 0, KP_WORK_NR - 1 },
	{ "sync_mode", &kp.cfg.sync_mode, NULL, kp_sync_mode_names, 0, KP_SYNC_NR - 1 },
	{ "work_target", NULL, &kp.cfg.work_target, NULL, 1, KP_WORK_TARGET_MAX },
	{ "yield_interval", NULL, &kp.cfg.yield_interval, NULL, 1, KP_YIELD_INTERVAL_MAX },
	{ "sleep_us", NULL, &kp.cfg.sleep_us, NULL, 0, KP_SLEEP_US_MAX },
	{ "bind_cpu_count", &kp.cfg.bind_cpu_count, NULL, NULL, 0, 0, KP_BOUND_ONLINE_CPUS },
	{ "latency_sample", &kp.cfg.latency_sample, NULL, NULL, 0, KP_LATENCY_SAMPLE_MAX },
};

/* The files' attributes, in the rows' order (kp_config_files_init()). */
static struct kobj_attribute kp_config_kattrs[ARRAY_SIZE(kp_config_files)];

static const struct kp_config_file *kp_config_file(struct kobj_attribute *a)
{
	return &kp_config_files[a - kp_config_kattrs];
}

static u64 kp_config_max(const struct kp_config_file *f)
{
	return kp_bound_max(f->bound, f->max, kp_max_threads,
			    num_online_cpus());
}

/* "[normal] yield sleep pingpong\n": every choice, the current bracketed. */
static ssize_t kp_show_choice(char *buf, const char * const *names,
			      unsigned int n, u64 cur)
{
	ssize_t len = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		len += sysfs_emit_at(buf, len, i == cur ? "%s[%s]" : "%s%s",
				     i ? " " : "", names[i]);
	len += sysfs_emit_at(buf, len, "\n");
	return len;
}

static ssize_t kp_config_show(struct kobject *kobj,
			      struct kobj_attribute *attr, char *buf)
{
	const struct kp_config_file *f = kp_config_file(attr);
	u64 val = f->u32 ? READ_ONCE(*f->u32) : READ_ONCE(*f->u64);

	if (f->names)
		return kp_show_choice(buf, f->names, f->max + 1, val);
	return sysfs_emit(buf, "%llu\n", val);
}

static ssize_t kp_config_store(struct kobject *kobj,
			       struct kobj_attribute *attr,
			       const char *buf, size_t count)
{
	const struct kp_config_file *f = kp_config_file(attr);
	u64 val;

	if (f->names) {
		int i = __sysfs_match_string(f->names, f->max + 1, buf);

		if (i < 0)
			return -EINVAL;
		val = i;
	} else if (kp_parse(buf, f->min, kp_config_max(f), &val)) {
		return -EINVAL;
	}
	if (kp_config_lock())
		return -EBUSY;
	if (f->u32)
		WRITE_ONCE(*f->u32, val);
	else
		WRITE_ONCE(*f->u64, val);
	mutex_unlock(&kp.lock);
	return count;
}

static ssize_t max_threads_show(struct kobject *kobj,
				struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", kp_max_threads);
}

static struct kobj_attribute kp_attr_max_threads = __ATTR_RO(max_threads);

/* The configuration files, then max_threads, then the NULL that ends them. */
static struct attribute *kp_config_attrs[ARRAY_SIZE(kp_config_files) + 2];

const struct attribute_group kp_config_group = {
	.attrs = kp_config_attrs,
};

/* Make the files' attributes from their rows; before kp_config_group is used. */
void kp_config_files_init(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(kp_config_files); i++) {
		kp_attr_init(&kp_config_kattrs[i], kp_config_files[i].name, 0644,
			     kp_config_show, kp_config_store);
		kp_config_attrs[i] = &kp_config_kattrs[i].attr;
	}
	kp_config_attrs[i] = &kp_attr_max_threads.attr;
}
