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

const char * const kp_work_mode_names[KP_WORK_NR] = KP_WORK_MODE_NAMES;
const char * const kp_sync_mode_names[KP_SYNC_NR] = KP_SYNC_MODE_NAMES;

/* Whether a configuration can be started now; 0 or -EINVAL. */
int kp_config_check(const struct kp_config *cfg)
{
	if (cfg->thread_count < 1 || cfg->thread_count > kp_max_threads)
		return -EINVAL;
	if (kp_work_paired(cfg->work_mode) && cfg->thread_count % 2)
		return -EINVAL;
	if (cfg->bind_cpu_count > num_online_cpus())
		return -EINVAL;
	return 0;
}

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

static ssize_t kp_store_u64(const char *buf, size_t count, u64 min, u64 max,
			    u64 *field)
{
	u64 val;

	if (kp_parse(buf, min, max, &val))
		return -EINVAL;
	if (kp_config_lock())
		return -EBUSY;
	WRITE_ONCE(*field, val);
	mutex_unlock(&kp.lock);
	return count;
}

static ssize_t kp_store_u32(const char *buf, size_t count, u32 min, u32 max,
			    u32 *field)
{
	u64 val;

	if (kp_parse(buf, min, max, &val))
		return -EINVAL;
	if (kp_config_lock())
		return -EBUSY;
	WRITE_ONCE(*field, val);
	mutex_unlock(&kp.lock);
	return count;
}

static ssize_t thread_count_show(struct kobject *kobj,
				 struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(kp.cfg.thread_count));
}

static ssize_t thread_count_store(struct kobject *kobj,
				  struct kobj_attribute *attr,
				  const char *buf, size_t count)
{
	return kp_store_u32(buf, count, 1, kp_max_threads,
			    &kp.cfg.thread_count);
}

static ssize_t work_target_show(struct kobject *kobj,
				struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", READ_ONCE(kp.cfg.work_target));
}

static ssize_t work_target_store(struct kobject *kobj,
				 struct kobj_attribute *attr,
				 const char *buf, size_t count)
{
	return kp_store_u64(buf, count, 1, KP_WORK_TARGET_MAX,
			    &kp.cfg.work_target);
}

static ssize_t yield_interval_show(struct kobject *kobj,
				   struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", READ_ONCE(kp.cfg.yield_interval));
}

static ssize_t yield_interval_store(struct kobject *kobj,
				    struct kobj_attribute *attr,
				    const char *buf, size_t count)
{
	return kp_store_u64(buf, count, 1, KP_YIELD_INTERVAL_MAX,
			    &kp.cfg.yield_interval);
}

static ssize_t sleep_us_show(struct kobject *kobj,
			     struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", READ_ONCE(kp.cfg.sleep_us));
}

static ssize_t sleep_us_store(struct kobject *kobj,
			      struct kobj_attribute *attr,
			      const char *buf, size_t count)
{
	return kp_store_u64(buf, count, 0, KP_SLEEP_US_MAX, &kp.cfg.sleep_us);
}

static ssize_t bind_cpu_count_show(struct kobject *kobj,
				   struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(kp.cfg.bind_cpu_count));
}

static ssize_t bind_cpu_count_store(struct kobject *kobj,
				    struct kobj_attribute *attr,
				    const char *buf, size_t count)
{
	return kp_store_u32(buf, count, 0, num_online_cpus(),
			    &kp.cfg.bind_cpu_count);
}

/* "[normal] yield sleep pingpong\n": every choice, the current bracketed. */
static ssize_t kp_show_choice(char *buf, const char * const *names,
			      unsigned int n, unsigned int cur)
{
	ssize_t len = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		len += sysfs_emit_at(buf, len, i == cur ? "%s[%s]" : "%s%s",
				     i ? " " : "", names[i]);
	len += sysfs_emit_at(buf, len, "\n");
	return len;
}

static ssize_t work_mode_show(struct kobject *kobj,
			      struct kobj_attribute *attr, char *buf)
{
	return kp_show_choice(buf, kp_work_mode_names, KP_WORK_NR,
			      READ_ONCE(kp.cfg.work_mode));
}

static ssize_t work_mode_store(struct kobject *kobj,
			       struct kobj_attribute *attr,
			       const char *buf, size_t count)
{
	int i = sysfs_match_string(kp_work_mode_names, buf);

	if (i < 0)
		return -EINVAL;
	if (kp_config_lock())
		return -EBUSY;
	WRITE_ONCE(kp.cfg.work_mode, i);
	mutex_unlock(&kp.lock);
	return count;
}

static ssize_t sync_mode_show(struct kobject *kobj,
			      struct kobj_attribute *attr, char *buf)
{
	return kp_show_choice(buf, kp_sync_mode_names, KP_SYNC_NR,
			      READ_ONCE(kp.cfg.sync_mode));
}

static ssize_t sync_mode_store(struct kobject *kobj,
			       struct kobj_attribute *attr,
			       const char *buf, size_t count)
{
	int i = sysfs_match_string(kp_sync_mode_names, buf);

	if (i < 0)
		return -EINVAL;
	if (kp_config_lock())
		return -EBUSY;
	WRITE_ONCE(kp.cfg.sync_mode, i);
	mutex_unlock(&kp.lock);
	return count;
}

static ssize_t max_threads_show(struct kobject *kobj,
				struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", kp_max_threads);
}

static struct kobj_attribute kp_attr_thread_count = __ATTR_RW(thread_count);
static struct kobj_attribute kp_attr_work_target = __ATTR_RW(work_target);
static struct kobj_attribute kp_attr_yield_interval = __ATTR_RW(yield_interval);
static struct kobj_attribute kp_attr_sleep_us = __ATTR_RW(sleep_us);
static struct kobj_attribute kp_attr_bind_cpu_count = __ATTR_RW(bind_cpu_count);
static struct kobj_attribute kp_attr_work_mode = __ATTR_RW(work_mode);
static struct kobj_attribute kp_attr_sync_mode = __ATTR_RW(sync_mode);
static struct kobj_attribute kp_attr_max_threads = __ATTR_RO(max_threads);

static struct attribute *kp_config_attrs[] = {
	&kp_attr_thread_count.attr,
	&kp_attr_work_mode.attr,
	&kp_attr_sync_mode.attr,
	&kp_attr_work_target.attr,
	&kp_attr_yield_interval.attr,
	&kp_attr_sleep_us.attr,
	&kp_attr_bind_cpu_count.attr,
	&kp_attr_max_threads.attr,
	NULL,
};

const struct attribute_group kp_config_group = {
	.attrs = kp_config_attrs,
};
