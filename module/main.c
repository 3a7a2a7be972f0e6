// SPDX-License-Identifier: GPL-2.0
/*
 * kthread_perf: kernel threads running the shared workload of SPEC.md,
 * configured and read through /sys/kernel/kthread_perf/, and scheduler
 * activations for user-level thread systems on /dev/kthread_perf.
 *
 * This file holds the module parameters, init and the one cleanup
 * function that serves both unload and a failed init.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bits.h>
#include <linux/init.h>
#include <linux/module.h>
#include <linux/moduleparam.h>

#include "kthread_perf.h"

/* Enough for any sane run; keeps the workers[] array allocatable. */
#define KP_MAX_THREADS_LIMIT	BIT(20)

unsigned int kp_max_threads = KP_MAX_THREADS_DEFAULT;
module_param_named(max_threads, kp_max_threads, uint, 0444);
MODULE_PARM_DESC(max_threads, "upper bound of thread_count (default 1024)");

int kp_inject_fail_worker = -1;
module_param_named(inject_fail_worker, kp_inject_fail_worker, int, 0644);
MODULE_PARM_DESC(inject_fail_worker,
		 "testing: creating this worker fails with -ENOMEM (-1: none)");

int kp_inject_fail_spawn;
module_param_named(inject_fail_spawn, kp_inject_fail_spawn, int, 0644);
MODULE_PARM_DESC(inject_fail_spawn,
		 "testing: the Nth spawn of a run fails with -ENOMEM (0: none)");

static bool kp_inject_fail_init;
module_param_named(inject_fail_init, kp_inject_fail_init, bool, 0444);
MODULE_PARM_DESC(inject_fail_init,
		 "testing: init fails with -ENOMEM before anything is set up");

struct kp_module kp = {
	.lock = __MUTEX_INITIALIZER(kp.lock),
	.cfg = KP_CONFIG_DEFAULT,
	.state = KP_STATE_IDLE,
};

/*
 * Undo whatever init did, in any partial state: the files first (no new
 * run can start, no reader is left), then the run, then the directories.
 */
static void kp_cleanup(void)
{
	kp_debugfs_exit();
	kp_act_cleanup();
	kp_sysfs_remove_files();
	mutex_lock(&kp.lock);
	if (kp_get_state() == KP_STATE_RUNNING)
		kp_run_stop(kp.run);
	kp_run_destroy(kp.run);
	kp.run = NULL;
	mutex_unlock(&kp.lock);
	kp_sysfs_exit();
}

static int __init kp_init(void)
{
	int err;

	if (kp_max_threads < 1 || kp_max_threads > KP_MAX_THREADS_LIMIT) {
		pr_err("max_threads must be 1..%lu\n", KP_MAX_THREADS_LIMIT);
		return -EINVAL;
	}
	kp.cfg.thread_count = min(kp.cfg.thread_count, kp_max_threads);

	err = kp_inject_fail_init ? -ENOMEM : kp_sysfs_init();
	if (err) {
		kp_cleanup();
		return err;
	}
	kp_debugfs_init();
	err = kp_act_init();
	if (err) {
		kp_cleanup();
		return err;
	}
	return 0;
}

static void __exit kp_exit(void)
{
	kp_cleanup();
}

module_init(kp_init);
module_exit(kp_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Kernel-thread side of kthread_perf: the shared workload run by kthreads");
MODULE_AUTHOR("kthread_perf developers");
