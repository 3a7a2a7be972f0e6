// SPDX-License-Identifier: GPL-2.0
/*
 * kthread_perf: scheduler activations on a stock kernel (SPEC.md section 9),
 * the device /dev/kthread_perf.  The ABI is uapi/kthread_perf_act.h; the
 * probes that produce the events are in act_probes.c.
 *
 * Any user may open the device, so everything here is bounded and checked:
 * - a file is used only by the process that opened it, in the program it
 *   ran then (EPERM elsewhere), and only that process's threads register
 *   on it; registrations end at execve() and exit.  So a reader learns
 *   only about threads of its own program;
 * - the memory is charged to the caller's memory cgroup, and files and
 *   registrations are limited per user and overall (module parameters);
 * - the probes' cost does not depend on how many threads are registered.
 *
 * Lifetimes: kp_act.lock (raw: the exit probe takes it) guards the hash
 * table, each file's list of registrations, the per-user records and the
 * counts.  Registrations are freed a grace period after they end
 * (kfree_rcu), files a grace period after the last close, from a work
 * item: no close waits for a grace period.  An open file holds a reference
 * on the module, and unload drains those work items.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/moduleparam.h>
#include <linux/pid.h>
#include <linux/poll.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>

#include "kthread_perf.h"
#include "act.h"

unsigned int kp_act_max_regs = 32768;
module_param_named(act_max_registrations, kp_act_max_regs, uint, 0444);
MODULE_PARM_DESC(act_max_registrations,
		 "threads registered on /dev/kthread_perf at once, all users (ENOSPC beyond; default 32768)");

static unsigned int kp_act_max_regs_user = 16384;
module_param_named(act_max_registrations_per_user, kp_act_max_regs_user, uint, 0644);
MODULE_PARM_DESC(act_max_registrations_per_user,
		 "threads one user has registered at once (EDQUOT beyond; default 16384)");

static unsigned int kp_act_max_files = 1024;
module_param_named(act_max_files, kp_act_max_files, uint, 0644);
MODULE_PARM_DESC(act_max_files,
		 "open files of /dev/kthread_perf, all users (ENFILE beyond; default 1024)");

static unsigned int kp_act_max_files_user = 64;
module_param_named(act_max_files_per_user, kp_act_max_files_user, uint, 0644);
MODULE_PARM_DESC(act_max_files_per_user,
		 "open files of /dev/kthread_perf per user (EMFILE beyond; default 64)");

struct kp_act_state kp_act = {
	.lock = __RAW_SPIN_LOCK_UNLOCKED(kp_act.lock),
	.attach_lock = __MUTEX_INITIALIZER(kp_act.attach_lock),
	.detach = __DELAYED_WORK_INITIALIZER(kp_act.detach, kp_act_detach_fn, 0),
};

/* The calling thread belongs to the process and program that opened f. */
static bool kp_act_owner(struct kp_act_file *f)
{
	return task_tgid(current) == f->tgid &&
	       READ_ONCE(current->self_exec_id) == f->exec_id;
}

static struct kp_act_user *kp_act_user_find(kuid_t uid)
{
	struct kp_act_user *u;

	hash_for_each_possible(kp_act.users, u, node, __kuid_val(uid))
		if (uid_eq(u->uid, uid))
			return u;
	return NULL;
}

/* Drop u if nothing is charged to it any more.  Under kp_act.lock. */
static struct kp_act_user *kp_act_user_put(struct kp_act_user *u)
{
	if (u->files || u->regs)
		return NULL;
	hash_del(&u->node);
	return u;
}

static long kp_act_register(struct kp_act_file *f,
			    struct kp_act_register __user *arg)
{
	struct kp_act_register req;
	struct kp_act_reg *r;
	int err = 0;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if ((req.flags & ~KP_ACT_REG_FLAGS) || req.reserved)
		return -EINVAL;
	if (!kp_act_owner(f))
		return -EPERM;
	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r)
		return -ENOMEM;
	r->task = current;
	r->file = f;
	r->cookie = req.cookie;
	r->flags = req.flags;
	r->exec_id = READ_ONCE(current->self_exec_id);
	r->tid = task_pid_vnr(current);

	/* Keeps the probes (and the hash) attached while we add r. */
	mutex_lock(&kp_act.attach_lock);
	err = kp_act_attach();
	if (err)
		goto out;
	raw_spin_lock(&kp_act.lock);
	rcu_read_lock();
	if (kp_act_find(current))
		err = -EBUSY;
	rcu_read_unlock();
	if (!err && kp_act.nr_regs >= kp_act_max_regs)
		err = -ENOSPC;
	else if (!err && f->user->regs >= READ_ONCE(kp_act_max_regs_user))
		err = -EDQUOT;
	if (!err) {
		kp_act_hash_add(r);
		list_add(&r->fnode, &f->regs);
		r->linked = true;
		f->user->regs++;
		kp_act.nr_regs++;
	}
	raw_spin_unlock(&kp_act.lock);
out:
	mutex_unlock(&kp_act.attach_lock);
	if (err)
		kfree(r);
	return err;
}

static long kp_act_unregister(struct kp_act_file *f)
{
	struct kp_act_reg *r;
	bool ended = false;

	if (!kp_act_owner(f))
		return -EPERM;
	rcu_read_lock();
	r = kp_act_find(current);
	if (r && r->file == f)
		ended = kp_act_end(r);
	rcu_read_unlock();
	return ended ? 0 : -ENOENT;
}

static long kp_act_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct kp_act_file *f = file->private_data;

	switch (cmd) {
	case KP_ACT_REGISTER:
		return kp_act_register(f, (struct kp_act_register __user *)arg);
	case KP_ACT_UNREGISTER:
		return kp_act_unregister(f);
	default:
		return -ENOTTY;
	}
}

static void kp_act_wake_fn(struct irq_work *work)
{
	struct kp_act_file *f = container_of(work, struct kp_act_file, wake);

	wake_up_interruptible_poll(&f->wq, EPOLLIN | EPOLLRDNORM);
}

static bool kp_act_pending(struct kp_act_file *f)
{
	return READ_ONCE(f->len) || READ_ONCE(f->lost);
}

/*
 * What a read() is about to deliver: the first `got` records of buf, of
 * which the last is a LOST for `lost` events dropped after the queue's
 * last event (0: none), seen when the pending count had been flushed into
 * the queue `flushes` times.
 */
struct kp_act_batch {
	unsigned int got;
	u64 lost, flushes;
};

/*
 * Copy up to n queued events to buf, and a LOST record for what was
 * dropped after them if they are all that is queued.  The queue keeps
 * them until kp_act_consume(): a read() that cannot copy them out loses
 * nothing.  Under f->read_lock.
 */
static void kp_act_peek(struct kp_act_file *f, struct kp_act_event *buf,
			unsigned int n, struct kp_act_batch *b)
{
	unsigned int i;

	*b = (struct kp_act_batch){ 0 };
	raw_spin_lock_irq(&f->qlock);
	for (i = 0; i < f->len && b->got < n; i++)
		buf[b->got++] = f->q[(f->head + i) % KP_ACT_QUEUE];
	if (i == f->len && f->lost && b->got < n) {
		buf[b->got++] = (struct kp_act_event){
			.type = KP_ACT_LOST, .cookie = f->lost,
			.time_ns = ktime_get_mono_fast_ns() };
		b->lost = f->lost;
		b->flushes = f->lost_flushes;
	}
	raw_spin_unlock_irq(&f->qlock);
}

/*
 * Take what kp_act_peek() saw off the queue.  Only readers remove events,
 * one at a time, so they are still at its head.  The trailing LOST's
 * count is still pending, unless an event has been queued since: the
 * first one flushed the count, with what was dropped meanwhile, into a
 * LOST record right behind the events delivered.  Under f->read_lock.
 */
static void kp_act_consume(struct kp_act_file *f, const struct kp_act_batch *b)
{
	unsigned int events = b->got - !!b->lost;
	struct kp_act_event *head;

	raw_spin_lock_irq(&f->qlock);
	f->head = (f->head + events) % KP_ACT_QUEUE;
	f->len -= events;
	if (b->lost && f->lost_flushes == b->flushes) {
		f->lost -= b->lost;
	} else if (b->lost) {
		head = &f->q[f->head];
		head->cookie -= b->lost;
		if (!head->cookie) {
			f->head = (f->head + 1) % KP_ACT_QUEUE;
			f->len--;
		}
	}
	raw_spin_unlock_irq(&f->qlock);
}

static ssize_t kp_act_read(struct file *file, char __user *ubuf, size_t count,
			   loff_t *ppos)
{
	struct kp_act_file *f = file->private_data;
	struct kp_act_event buf[16];
	struct kp_act_batch b;
	unsigned int n;
	int err;

	if (!kp_act_owner(f))
		return -EPERM;
	n = min_t(size_t, count / sizeof(buf[0]), ARRAY_SIZE(buf));
	if (!n)
		return -EINVAL;
	for (;;) {
		if (mutex_lock_interruptible(&f->read_lock))
			return -ERESTARTSYS;
		kp_act_peek(f, buf, n, &b);
		if (b.got)
			break;
		mutex_unlock(&f->read_lock);
		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		err = wait_event_interruptible(f->wq, kp_act_pending(f));
		if (err)
			return err;
	}
	if (copy_to_user(ubuf, buf, b.got * sizeof(buf[0]))) {
		mutex_unlock(&f->read_lock);
		return -EFAULT;
	}
	kp_act_consume(f, &b);
	mutex_unlock(&f->read_lock);
	return b.got * sizeof(buf[0]);
}

static __poll_t kp_act_poll(struct file *file, poll_table *wait)
{
	struct kp_act_file *f = file->private_data;

	if (!kp_act_owner(f))
		return EPOLLERR;
	poll_wait(file, &f->wq, wait);
	return kp_act_pending(f) ? EPOLLIN | EPOLLRDNORM : 0;
}

static int kp_act_open(struct inode *inode, struct file *file)
{
	struct kp_act_user *u, *fresh;
	struct kp_act_file *f;
	kuid_t uid = current_uid();
	int err = 0;

	f = kvzalloc(sizeof(*f), GFP_KERNEL_ACCOUNT);
	fresh = kzalloc(sizeof(*fresh), GFP_KERNEL_ACCOUNT);
	if (!f || !fresh) {
		err = -ENOMEM;
		goto fail;
	}
	raw_spin_lock(&kp_act.lock);
	u = kp_act_user_find(uid);
	if (kp_act.nr_files >= READ_ONCE(kp_act_max_files)) {
		err = -ENFILE;
	} else if (u && u->files >= READ_ONCE(kp_act_max_files_user)) {
		err = -EMFILE;
	} else {
		if (!u) {
			u = fresh;
			fresh = NULL;
			u->uid = uid;
			hash_add(kp_act.users, &u->node, __kuid_val(uid));
		}
		u->files++;
		kp_act.nr_files++;
		f->user = u;
	}
	raw_spin_unlock(&kp_act.lock);
	if (err)
		goto fail;
	kfree(fresh);

	raw_spin_lock_init(&f->qlock);
	mutex_init(&f->read_lock);
	f->tgid = get_pid(task_tgid(current));
	f->exec_id = READ_ONCE(current->self_exec_id);
	init_waitqueue_head(&f->wq);
	init_irq_work(&f->wake, kp_act_wake_fn);
	INIT_LIST_HEAD(&f->regs);
	file->private_data = f;
	return stream_open(inode, file);

fail:
	kfree(fresh);
	kvfree(f);
	return err;
}

/* A grace period after the last close: no probe can see f or its regs. */
static void kp_act_free_fn(struct work_struct *work)
{
	struct kp_act_file *f = container_of(to_rcu_work(work),
					     struct kp_act_file, free_work);

	irq_work_sync(&f->wake);
	put_pid(f->tgid);
	kvfree(f);
}

/* The last close ends every registration of the file. */
static int kp_act_release(struct inode *inode, struct file *file)
{
	struct kp_act_file *f = file->private_data;
	struct kp_act_user *gone;

	kp_act_release_regs(f);
	raw_spin_lock(&kp_act.lock);
	f->user->files--;
	kp_act.nr_files--;
	gone = kp_act_user_put(f->user);
	raw_spin_unlock(&kp_act.lock);
	kfree(gone);
	INIT_RCU_WORK(&f->free_work, kp_act_free_fn);
	queue_rcu_work(kp_act.wq, &f->free_work);
	return 0;
}

static const struct file_operations kp_act_fops = {
	.owner = THIS_MODULE,
	.open = kp_act_open,
	.release = kp_act_release,
	.read = kp_act_read,
	.poll = kp_act_poll,
	.unlocked_ioctl = kp_act_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = no_llseek,
};

static struct miscdevice kp_act_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "kthread_perf",
	.fops = &kp_act_fops,
	.mode = 0666,
};

/* debugfs activations: the probes, the registrations, the files. */
static int activations_show(struct seq_file *m, void *unused)
{
	unsigned int regs, files, pregs;
	unsigned long attaches;
	bool attached;

	mutex_lock(&kp_act.attach_lock);
	attached = kp_act.attached;
	attaches = kp_act.attaches;
	raw_spin_lock(&kp_act.lock);
	regs = kp_act.nr_regs;
	files = kp_act.nr_files;
	pregs = kp_act.nr_preempt_regs;
	raw_spin_unlock(&kp_act.lock);
	mutex_unlock(&kp_act.attach_lock);
	seq_printf(m, "attached %d\nregistrations %u\nfiles %u\nattaches %lu\npreempt_registrations %u\n",
		   attached, regs, files, attaches, pregs);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(activations);

int kp_act_init(void)
{
	int err;

	hash_init(kp_act.users);
	kp_act.wq = alloc_workqueue("kthread_perf_act", 0, 0);
	if (!kp_act.wq)
		return -ENOMEM;
	err = misc_register(&kp_act_misc);
	if (err) {
		pr_err("activations: cannot register /dev/kthread_perf: %d\n", err);
		return err;
	}
	kp_act.misc_added = true;
	/* Removed with the directory, before kp_act_cleanup() runs. */
	debugfs_create_file("activations", 0400, kp.debugfs, NULL,
			    &activations_fops);
	return 0;
}

/*
 * From unload or a failed init, in any state kp_act_init() left.  No file
 * is open (each holds a module reference), so nobody is registered.
 */
void kp_act_cleanup(void)
{
	if (kp_act.misc_added)
		misc_deregister(&kp_act_misc);
	kp_act.misc_added = false;
	kp_act_detach_now();
	if (kp_act.wq) {
		/* Files closed last: their free work is queued after this. */
		rcu_barrier();
		destroy_workqueue(kp_act.wq);
		kp_act.wq = NULL;
	}
}
