// SPDX-License-Identifier: GPL-2.0
/*
 * kthread_perf: /sys/kernel/kthread_perf/ itself, its control and state
 * files (start, stop, state, run_id) and the results of the run.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/kobject.h>
#include <linux/kstrtox.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "kthread_perf.h"

static const char * const kp_state_names[] = {
	[KP_STATE_IDLE] = "idle",
	[KP_STATE_RUNNING] = "running",
	[KP_STATE_DONE] = "done",
	[KP_STATE_STOPPED] = "stopped",
	[KP_STATE_FAILED] = "failed",
};

/*
 * Change the state and wake pollers of the state file.  Only start
 * (under kp.lock) leaves a non-running state and only the run's
 * controller leaves running, so the writers never race.
 */
void kp_set_state(int state)
{
	/* A reader of kp_get_state() sees the results that led to it. */
	smp_store_release(&kp.state, state);
	sysfs_notify(kp.root, NULL, "state");
}

int kp_get_state(void)
{
	/* Pairs with kp_set_state(). */
	return smp_load_acquire(&kp.state);
}

/* Writes of start and stop accept "1" only, with an optional newline. */
static bool kp_is_one(const char *buf)
{
	unsigned int v;

	return !kstrtouint(buf, 10, &v) && v == 1;
}

static ssize_t start_store(struct kobject *kobj, struct kobj_attribute *attr,
			   const char *buf, size_t count)
{
	int err;

	if (!kp_is_one(buf))
		return -EINVAL;
	mutex_lock(&kp.lock);
	if (kp_get_state() == KP_STATE_RUNNING)
		err = -EBUSY;
	else
		err = kp_run_start();
	mutex_unlock(&kp.lock);
	return err ? err : count;
}

static ssize_t stop_store(struct kobject *kobj, struct kobj_attribute *attr,
			  const char *buf, size_t count)
{
	if (!kp_is_one(buf))
		return -EINVAL;
	mutex_lock(&kp.lock);
	if (kp_get_state() == KP_STATE_RUNNING)
		kp_run_stop(kp.run);
	mutex_unlock(&kp.lock);
	return count;
}

static ssize_t state_show(struct kobject *kobj, struct kobj_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%s\n",
			  kp_state_names[kp_get_state()]);
}

static ssize_t run_id_show(struct kobject *kobj, struct kobj_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "%llu\n", READ_ONCE(kp.run_id));
}

static struct kobj_attribute kp_attr_start = __ATTR_WO(start);
static struct kobj_attribute kp_attr_stop = __ATTR_WO(stop);
static struct kobj_attribute kp_attr_state = __ATTR_RO(state);
static struct kobj_attribute kp_attr_run_id = __ATTR_RO(run_id);

/* One total of the current or last run; kp.lock keeps the run. */
static ssize_t kp_result_show(char *buf, size_t offset)
{
	struct kp_totals t;

	mutex_lock(&kp.lock);
	kp_run_totals(kp.run, &t);
	mutex_unlock(&kp.lock);
	return sysfs_emit(buf, "%llu\n", *(u64 *)((char *)&t + offset));
}

static ssize_t total_ops_show(struct kobject *kobj, struct kobj_attribute *attr,
			      char *buf)
{
	return kp_result_show(buf, offsetof(struct kp_totals, total_ops));
}

static ssize_t counter_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	return kp_result_show(buf, offsetof(struct kp_totals, counter));
}

static ssize_t elapsed_ns_show(struct kobject *kobj, struct kobj_attribute *attr,
			       char *buf)
{
	return kp_result_show(buf, offsetof(struct kp_totals, elapsed_ns));
}

static ssize_t throughput_show(struct kobject *kobj, struct kobj_attribute *attr,
			       char *buf)
{
	return kp_result_show(buf, offsetof(struct kp_totals, throughput));
}

static ssize_t nvcsw_show(struct kobject *kobj, struct kobj_attribute *attr,
			  char *buf)
{
	return kp_result_show(buf, offsetof(struct kp_totals, nvcsw));
}

static ssize_t nivcsw_show(struct kobject *kobj, struct kobj_attribute *attr,
			   char *buf)
{
	return kp_result_show(buf, offsetof(struct kp_totals, nivcsw));
}

static ssize_t cputime_ns_show(struct kobject *kobj, struct kobj_attribute *attr,
			       char *buf)
{
	return kp_result_show(buf, offsetof(struct kp_totals, cputime_ns));
}

static ssize_t waits_show(struct kobject *kobj, struct kobj_attribute *attr,
			  char *buf)
{
	return kp_result_show(buf, offsetof(struct kp_totals, waits));
}

static struct kobj_attribute kp_attr_total_ops = __ATTR_RO(total_ops);
static struct kobj_attribute kp_attr_counter = __ATTR_RO(counter);
static struct kobj_attribute kp_attr_elapsed_ns = __ATTR_RO(elapsed_ns);
static struct kobj_attribute kp_attr_throughput = __ATTR_RO(throughput);
static struct kobj_attribute kp_attr_nvcsw = __ATTR_RO(nvcsw);
static struct kobj_attribute kp_attr_nivcsw = __ATTR_RO(nivcsw);
static struct kobj_attribute kp_attr_cputime_ns = __ATTR_RO(cputime_ns);
static struct kobj_attribute kp_attr_waits = __ATTR_RO(waits);

static struct attribute *kp_run_attrs[] = {
	&kp_attr_start.attr,
	&kp_attr_stop.attr,
	&kp_attr_state.attr,
	&kp_attr_run_id.attr,
	&kp_attr_total_ops.attr,
	&kp_attr_counter.attr,
	&kp_attr_elapsed_ns.attr,
	&kp_attr_throughput.attr,
	&kp_attr_nvcsw.attr,
	&kp_attr_nivcsw.attr,
	&kp_attr_cputime_ns.attr,
	&kp_attr_waits.attr,
	NULL,
};

static const struct attribute_group kp_run_group = {
	.attrs = kp_run_attrs,
};

static const struct attribute_group *kp_groups[] = {
	&kp_config_group,
	&kp_run_group,
	NULL,
};

/* Create the directory, threads/ and every file. */
int kp_sysfs_init(void)
{
	int err;

	kp.root = kobject_create_and_add(KBUILD_MODNAME, kernel_kobj);
	if (!kp.root)
		return -ENOMEM;
	kp.threads = kobject_create_and_add("threads", kp.root);
	if (!kp.threads)
		return -ENOMEM;
	err = sysfs_create_groups(kp.root, kp_groups);
	if (err)
		return err;
	kp.files_added = true;
	return 0;
}

/*
 * Remove the files, waiting for their callbacks to return; afterwards no
 * writer can start a run.  Must not be called with kp.lock held.
 */
void kp_sysfs_remove_files(void)
{
	if (kp.files_added)
		sysfs_remove_groups(kp.root, kp_groups);
	kp.files_added = false;
}

/* Remove what is left (threads/ is empty by now) and the directory. */
void kp_sysfs_exit(void)
{
	kobject_put(kp.threads);
	kp.threads = NULL;
	kobject_put(kp.root);
	kp.root = NULL;
}
