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
	return sysfs_emit(buf, "%llu\n", kp_get_run_id());
}

static struct kobj_attribute kp_attr_start = __ATTR_WO(start);
static struct kobj_attribute kp_attr_stop = __ATTR_WO(stop);
static struct kobj_attribute kp_attr_state = __ATTR_RO(state);
static struct kobj_attribute kp_attr_run_id = __ATTR_RO(run_id);

/* A total of the current or last run: its name and offset in struct kp_totals. */
struct kp_result_file {
	const char *name;
	size_t offset;
};

static const struct kp_result_file kp_result_files[] = {
	{ "total_ops", offsetof(struct kp_totals, total_ops) },
	{ "counter", offsetof(struct kp_totals, counter) },
	{ "elapsed_ns", offsetof(struct kp_totals, elapsed_ns) },
	{ "throughput", offsetof(struct kp_totals, throughput) },
	{ "nvcsw", offsetof(struct kp_totals, nvcsw) },
	{ "nivcsw", offsetof(struct kp_totals, nivcsw) },
	{ "cputime_ns", offsetof(struct kp_totals, cputime_ns) },
	{ "waits", offsetof(struct kp_totals, waits) },
};

/* Their attributes, in the rows' order (kp_sysfs_init()). */
static struct kobj_attribute kp_result_kattrs[ARRAY_SIZE(kp_result_files)];

/* The total of the file's row; kp.lock keeps the run while it is summed. */
static ssize_t kp_result_show(struct kobject *kobj,
			      struct kobj_attribute *attr, char *buf)
{
	const struct kp_result_file *f =
		&kp_result_files[attr - kp_result_kattrs];
	struct kp_totals t;

	mutex_lock(&kp.lock);
	kp_run_totals(kp.run, &t);
	mutex_unlock(&kp.lock);
	return sysfs_emit(buf, "%llu\n", *(u64 *)((char *)&t + f->offset));
}

/* The control and state files, the totals, and the NULL that ends them. */
#define KP_CONTROL_FILES 4
static struct attribute *kp_run_attrs[KP_CONTROL_FILES +
				      ARRAY_SIZE(kp_result_files) + 1] = {
	&kp_attr_start.attr,
	&kp_attr_stop.attr,
	&kp_attr_state.attr,
	&kp_attr_run_id.attr,
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
	unsigned int i;
	int err;

	kp_config_files_init();
	for (i = 0; i < ARRAY_SIZE(kp_result_files); i++) {
		kp_attr_init(&kp_result_kattrs[i], kp_result_files[i].name, 0444,
			     kp_result_show, NULL);
		kp_run_attrs[KP_CONTROL_FILES + i] = &kp_result_kattrs[i].attr;
	}
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
