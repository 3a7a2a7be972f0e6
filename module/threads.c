// SPDX-License-Identifier: GPL-2.0
/*
 * kthread_perf: the per-worker directories /sys/kernel/kthread_perf/threads/<i>/.
 *
 * The kobject is embedded in struct kp_worker and its release frees the
 * worker, so a worker outlives every reader of its files.  The show()
 * callbacks take no lock: start removes these directories while holding
 * kp.lock, and sysfs waits for running callbacks before removing a file.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kobject.h>
#include <linux/mm.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

#include "kthread_perf.h"

static inline struct kp_worker *to_kp_worker(struct kobject *kobj)
{
	return container_of(kobj, struct kp_worker, kobj);
}

static ssize_t pid_show(struct kobject *kobj, struct kobj_attribute *attr,
			char *buf)
{
	return sysfs_emit(buf, "%d\n", to_kp_worker(kobj)->pid);
}

static ssize_t cpu_show(struct kobject *kobj, struct kobj_attribute *attr,
			char *buf)
{
	return sysfs_emit(buf, "%d\n", to_kp_worker(kobj)->cpu);
}

static ssize_t last_cpu_show(struct kobject *kobj, struct kobj_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "%d\n", kp_worker_last_cpu(to_kp_worker(kobj)));
}

static ssize_t ops_show(struct kobject *kobj, struct kobj_attribute *attr,
			char *buf)
{
	return sysfs_emit(buf, "%llu\n", READ_ONCE(to_kp_worker(kobj)->st.ops));
}

static ssize_t nvcsw_show(struct kobject *kobj, struct kobj_attribute *attr,
			  char *buf)
{
	struct kp_sample d;

	kp_worker_so_far(to_kp_worker(kobj), &d);
	return sysfs_emit(buf, "%lu\n", d.nvcsw);
}

static ssize_t nivcsw_show(struct kobject *kobj, struct kobj_attribute *attr,
			   char *buf)
{
	struct kp_sample d;

	kp_worker_so_far(to_kp_worker(kobj), &d);
	return sysfs_emit(buf, "%lu\n", d.nivcsw);
}

static ssize_t cputime_ns_show(struct kobject *kobj,
			       struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n",
			  kp_worker_cputime_ns(to_kp_worker(kobj)));
}

static ssize_t runtime_ns_show(struct kobject *kobj,
			       struct kobj_attribute *attr, char *buf)
{
	struct kp_sample d;

	kp_worker_so_far(to_kp_worker(kobj), &d);
	return sysfs_emit(buf, "%llu\n", d.ns);
}

static ssize_t waits_show(struct kobject *kobj, struct kobj_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%llu\n",
			  KP_STAT_LOAD(to_kp_worker(kobj)->st.waits));
}

static struct kobj_attribute kp_thread_pid = __ATTR_RO(pid);
static struct kobj_attribute kp_thread_cpu = __ATTR_RO(cpu);
static struct kobj_attribute kp_thread_last_cpu = __ATTR_RO(last_cpu);
static struct kobj_attribute kp_thread_ops = __ATTR_RO(ops);
static struct kobj_attribute kp_thread_nvcsw = __ATTR_RO(nvcsw);
static struct kobj_attribute kp_thread_nivcsw = __ATTR_RO(nivcsw);
static struct kobj_attribute kp_thread_cputime_ns = __ATTR_RO(cputime_ns);
static struct kobj_attribute kp_thread_runtime_ns = __ATTR_RO(runtime_ns);
static struct kobj_attribute kp_thread_waits = __ATTR_RO(waits);

static struct attribute *kp_thread_attrs[] = {
	&kp_thread_pid.attr,
	&kp_thread_cpu.attr,
	&kp_thread_last_cpu.attr,
	&kp_thread_ops.attr,
	&kp_thread_nvcsw.attr,
	&kp_thread_nivcsw.attr,
	&kp_thread_cputime_ns.attr,
	&kp_thread_runtime_ns.attr,
	&kp_thread_waits.attr,
	NULL,
};
ATTRIBUTE_GROUPS(kp_thread);

/* The last reference to a worker is gone: its kthread has exited. */
static void kp_thread_release(struct kobject *kobj)
{
	struct kp_worker *w = to_kp_worker(kobj);

	if (w->task)
		put_task_struct(w->task);
	kvfree(w->st.hist);
	kfree(w);
}

static const struct kobj_type kp_thread_ktype = {
	.release = kp_thread_release,
	.sysfs_ops = &kobj_sysfs_ops,
	.default_groups = kp_thread_groups,
};

/* From here on the worker is freed by kobject_put() only. */
void kp_worker_init_kobj(struct kp_worker *w)
{
	kobject_init(&w->kobj, &kp_thread_ktype);
}

/* Add threads/<id>/ for a worker whose kthread exists. */
int kp_thread_dir_add(struct kp_worker *w)
{
	return kobject_add(&w->kobj, kp.threads, "%u", w->id);
}
