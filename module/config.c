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
 * One configuration file: a field of kp.cfg (offset and size) and either
 * its range or the names of its choices.  kp_config_show() and
 * kp_config_store() serve every file from this description.
 */
struct kp_config_attr {
	struct kobj_attribute kattr;
	size_t offset;
	size_t size;			/* sizeof(u32) or sizeof(u64) */
	u64 min, max;
	enum kp_bound bound;
	const char * const *names;	/* a choice, or NULL for a number */
	unsigned int nr_names;
};

static const struct kp_config_attr *to_kp_config_attr(struct kobj_attribute *a)
{
	return container_of(a, struct kp_config_attr, kattr);
}

static u64 kp_config_max(const struct kp_config_attr *ca)
{
	return kp_bound_max(ca->bound, ca->max, kp_max_threads,
			    num_online_cpus());
}

static u64 kp_config_read(const struct kp_config_attr *ca)
{
	void *field = (char *)&kp.cfg + ca->offset;

	if (ca->size == sizeof(u32))
		return READ_ONCE(*(u32 *)field);
	return READ_ONCE(*(u64 *)field);
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
	const struct kp_config_attr *ca = to_kp_config_attr(attr);
	u64 val = kp_config_read(ca);

	if (ca->names)
		return kp_show_choice(buf, ca->names, ca->nr_names, val);
	return sysfs_emit(buf, "%llu\n", val);
}

static ssize_t kp_config_store(struct kobject *kobj,
			       struct kobj_attribute *attr,
			       const char *buf, size_t count)
{
	const struct kp_config_attr *ca = to_kp_config_attr(attr);
	void *field = (char *)&kp.cfg + ca->offset;
	u64 val;

	if (ca->names) {
		int i = __sysfs_match_string(ca->names, ca->nr_names, buf);

		if (i < 0)
			return -EINVAL;
		val = i;
	} else if (kp_parse(buf, ca->min, kp_config_max(ca), &val)) {
		return -EINVAL;
	}
	if (kp_config_lock())
		return -EBUSY;
	if (ca->size == sizeof(u32))
		WRITE_ONCE(*(u32 *)field, val);
	else
		WRITE_ONCE(*(u64 *)field, val);
	mutex_unlock(&kp.lock);
	return count;
}

static struct kp_config_attr kp_attr_thread_count = {
	.kattr = __ATTR(thread_count, 0644, kp_config_show, kp_config_store),
	.offset = offsetof(struct kp_config, thread_count),
	.size = sizeof(u32),
	.min = 1,
	.bound = KP_BOUND_MAX_THREADS,
};

static struct kp_config_attr kp_attr_work_mode = {
	.kattr = __ATTR(work_mode, 0644, kp_config_show, kp_config_store),
	.offset = offsetof(struct kp_config, work_mode),
	.size = sizeof(u32),
	.names = kp_work_mode_names,
	.nr_names = KP_WORK_NR,
};

static struct kp_config_attr kp_attr_sync_mode = {
	.kattr = __ATTR(sync_mode, 0644, kp_config_show, kp_config_store),
	.offset = offsetof(struct kp_config, sync_mode),
	.size = sizeof(u32),
	.names = kp_sync_mode_names,
	.nr_names = KP_SYNC_NR,
};

static struct kp_config_attr kp_attr_work_target = {
	.kattr = __ATTR(work_target, 0644, kp_config_show, kp_config_store),
	.offset = offsetof(struct kp_config, work_target),
	.size = sizeof(u64),
	.min = 1,
	.max = KP_WORK_TARGET_MAX,
};

static struct kp_config_attr kp_attr_yield_interval = {
	.kattr = __ATTR(yield_interval, 0644, kp_config_show, kp_config_store),
	.offset = offsetof(struct kp_config, yield_interval),
	.size = sizeof(u64),
	.min = 1,
	.max = KP_YIELD_INTERVAL_MAX,
};

static struct kp_config_attr kp_attr_sleep_us = {
	.kattr = __ATTR(sleep_us, 0644, kp_config_show, kp_config_store),
	.offset = offsetof(struct kp_config, sleep_us),
	.size = sizeof(u64),
	.min = 0,
	.max = KP_SLEEP_US_MAX,
};

static struct kp_config_attr kp_attr_bind_cpu_count = {
	.kattr = __ATTR(bind_cpu_count, 0644, kp_config_show, kp_config_store),
	.offset = offsetof(struct kp_config, bind_cpu_count),
	.size = sizeof(u32),
	.min = 0,
	.bound = KP_BOUND_ONLINE_CPUS,
};

static struct kp_config_attr kp_attr_latency_sample = {
	.kattr = __ATTR(latency_sample, 0644, kp_config_show, kp_config_store),
	.offset = offsetof(struct kp_config, latency_sample),
	.size = sizeof(u32),
	.min = 0,
	.max = KP_LATENCY_SAMPLE_MAX,
};

static ssize_t max_threads_show(struct kobject *kobj,
				struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", kp_max_threads);
}

static struct kobj_attribute kp_attr_max_threads = __ATTR_RO(max_threads);

static struct attribute *kp_config_attrs[] = {
	&kp_attr_thread_count.kattr.attr,
	&kp_attr_work_mode.kattr.attr,
	&kp_attr_sync_mode.kattr.attr,
	&kp_attr_work_target.kattr.attr,
	&kp_attr_yield_interval.kattr.attr,
	&kp_attr_sleep_us.kattr.attr,
	&kp_attr_bind_cpu_count.kattr.attr,
	&kp_attr_latency_sample.kattr.attr,
	&kp_attr_max_threads.attr,
	NULL,
};

const struct attribute_group kp_config_group = {
	.attrs = kp_config_attrs,
};
