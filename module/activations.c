// SPDX-License-Identifier: GPL-2.0
/*
 * kthread_perf: scheduler activations on a stock kernel (SPEC.md section 9).
 *
 * /dev/kthread_perf tells a user-level thread system when one of its
 * registered threads blocks in the kernel and when it is woken, the two
 * upcalls the VPI paper patched into Linux.  The ABI is in
 * uapi/kthread_perf_act.h.
 *
 * How: probes on the scheduler's tracepoints (sched_switch, sched_wakeup,
 * sched_process_exit), found with for_each_kernel_tracepoint() because they
 * are not exported to modules.  They are attached on the first
 * registration and detached after the last, so a machine where nobody is
 * registered runs no code of ours at all.
 *
 * The probes run inside the scheduler, with the run-queue lock held and
 * interrupts off, so they only look the task up (an RCU hash table keyed by
 * the task pointer), queue an event under the file's raw spinlock and
 * queue an irq_work; the irq_work, once the scheduler's locks are dropped,
 * wakes the readers.  Nothing is woken or signalled from a probe.
 *
 * Lifetimes: kp_act.lock (a spinlock: the exit probe cannot sleep) guards
 * the hash table, each file's list of registrations and the count.
 * Registrations and files are freed after an RCU grace period, which the
 * probes (preemption disabled) honour.  An open file holds a reference on
 * the module, so unload never meets a live registration.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/irq_work.h>
#include <linux/miscdevice.h>
#include <linux/poll.h>
#include <linux/rcupdate.h>
#include <linux/seq_file.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/tracepoint.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include "kthread_perf.h"
#include "uapi/kthread_perf_act.h"

/* Events a file holds before it drops them (and says so with LOST). */
#define KP_ACT_QUEUE	1024

/* One open file: a runtime's event queue and its registered threads. */
struct kp_act_file {
	raw_spinlock_t qlock;		/* the queue, taken in the probes */
	unsigned int head, len;
	u64 lost;
	struct kp_act_event q[KP_ACT_QUEUE];

	wait_queue_head_t wq;
	struct irq_work wake;		/* wakes wq outside the scheduler */
	struct list_head regs;		/* under kp_act.lock */
	struct rcu_head rcu;
};

/* One registered thread. */
struct kp_act_reg {
	struct task_struct *task;	/* the key; removed before it is freed */
	struct kp_act_file *file;
	u64 cookie;
	pid_t tid;
	atomic_t blocked;		/* a BLOCKED not yet matched */
	struct hlist_node hnode;	/* kp_act.hash, RCU */
	struct list_head fnode;		/* file->regs */
	struct rcu_head rcu;
};

static struct {
	spinlock_t lock;		/* hash, files' regs lists, nr_regs */
	unsigned int nr_regs;
	DECLARE_HASHTABLE(hash, 8);

	struct mutex attach_lock;	/* attached, the probes */
	bool attached;
	struct work_struct detach;	/* after the last registration */
	struct tracepoint *tp_switch, *tp_wakeup, *tp_exit;
	bool misc_added;
} kp_act = {
	.lock = __SPIN_LOCK_UNLOCKED(kp_act.lock),
	.attach_lock = __MUTEX_INITIALIZER(kp_act.attach_lock),
};

static struct kp_act_reg *kp_act_find(struct task_struct *p)
{
	struct kp_act_reg *r;

	hash_for_each_possible_rcu_notrace(kp_act.hash, r, hnode, (unsigned long)p)
		if (READ_ONCE(r->task) == p)
			return r;
	return NULL;
}

/* Queue one event for r's file and have its readers woken.  Any context. */
static void kp_act_post(struct kp_act_reg *r, u32 type)
{
	struct kp_act_file *f = r->file;
	struct kp_act_event *e;
	unsigned long flags;

	raw_spin_lock_irqsave(&f->qlock, flags);
	if (f->len == KP_ACT_QUEUE) {
		f->lost++;
	} else {
		e = &f->q[(f->head + f->len) % KP_ACT_QUEUE];
		e->type = type;
		e->tid = r->tid;
		e->cookie = r->cookie;
		e->time_ns = ktime_get_ns();
		f->len++;
	}
	raw_spin_unlock_irqrestore(&f->qlock, flags);
	irq_work_queue(&f->wake);
}

/* prev leaves the CPU: BLOCKED if it is not runnable any more. */
static void kp_act_switch(void *data, bool preempt, struct task_struct *prev,
			  struct task_struct *next, unsigned int prev_state)
{
	struct kp_act_reg *r;

	if (preempt || prev_state == TASK_RUNNING)
		return;
	r = kp_act_find(prev);
	if (r && !atomic_xchg(&r->blocked, 1))
		kp_act_post(r, KP_ACT_BLOCKED);
}

/* p is runnable again: UNBLOCKED, if a BLOCKED is pending. */
static void kp_act_wakeup(void *data, struct task_struct *p)
{
	struct kp_act_reg *r = kp_act_find(p);

	if (r && atomic_xchg(&r->blocked, 0))
		kp_act_post(r, KP_ACT_UNBLOCKED);
}

/* Take r out of the hash and its file's list.  Under kp_act.lock. */
static void kp_act_unlink(struct kp_act_reg *r)
{
	hash_del_rcu(&r->hnode);
	list_del(&r->fnode);
	kp_act.nr_regs--;
	if (!kp_act.nr_regs)
		schedule_work(&kp_act.detach);
}

/* A registered thread exits: its registration ends with it. */
static void kp_act_exit(void *data, struct task_struct *p)
{
	struct kp_act_reg *r;

	spin_lock(&kp_act.lock);
	r = kp_act_find(p);
	if (r)
		kp_act_unlink(r);
	spin_unlock(&kp_act.lock);
	if (r)
		kfree_rcu(r, rcu);
}

static void kp_act_find_tp(struct tracepoint *tp, void *unused)
{
	if (!strcmp(tp->name, "sched_switch"))
		kp_act.tp_switch = tp;
	else if (!strcmp(tp->name, "sched_wakeup"))
		kp_act.tp_wakeup = tp;
	else if (!strcmp(tp->name, "sched_process_exit"))
		kp_act.tp_exit = tp;
}

static void kp_act_unregister_probes(void)
{
	tracepoint_probe_unregister(kp_act.tp_exit, kp_act_exit, NULL);
	tracepoint_probe_unregister(kp_act.tp_wakeup, kp_act_wakeup, NULL);
	tracepoint_probe_unregister(kp_act.tp_switch, kp_act_switch, NULL);
	/* No probe of ours is running once this returns. */
	tracepoint_synchronize_unregister();
}

/* Attach the probes unless they are.  Under attach_lock. */
static int kp_act_attach(void)
{
	int err;

	if (kp_act.attached)
		return 0;
	if (!kp_act.tp_switch)
		for_each_kernel_tracepoint(kp_act_find_tp, NULL);
	if (!kp_act.tp_switch || !kp_act.tp_wakeup || !kp_act.tp_exit) {
		pr_err("activations: scheduler tracepoints not found\n");
		return -ENODEV;
	}
	err = tracepoint_probe_register(kp_act.tp_switch, kp_act_switch, NULL);
	if (err)
		return err;
	err = tracepoint_probe_register(kp_act.tp_wakeup, kp_act_wakeup, NULL);
	if (err)
		goto out_switch;
	err = tracepoint_probe_register(kp_act.tp_exit, kp_act_exit, NULL);
	if (err)
		goto out_wakeup;
	kp_act.attached = true;
	return 0;

out_wakeup:
	tracepoint_probe_unregister(kp_act.tp_wakeup, kp_act_wakeup, NULL);
out_switch:
	tracepoint_probe_unregister(kp_act.tp_switch, kp_act_switch, NULL);
	tracepoint_synchronize_unregister();
	return err;
}

/* Detach the probes once nobody is registered. */
static void kp_act_detach_fn(struct work_struct *work)
{
	bool idle;

	mutex_lock(&kp_act.attach_lock);
	spin_lock(&kp_act.lock);
	idle = !kp_act.nr_regs;
	spin_unlock(&kp_act.lock);
	if (idle && kp_act.attached) {
		kp_act_unregister_probes();
		kp_act.attached = false;
	}
	mutex_unlock(&kp_act.attach_lock);
}

static long kp_act_register(struct kp_act_file *f, u64 __user *arg)
{
	struct kp_act_reg *r;
	u64 cookie;
	int err;

	if (get_user(cookie, arg))
		return -EFAULT;
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	r->task = current;
	r->file = f;
	r->cookie = cookie;
	r->tid = task_pid_vnr(current);

	mutex_lock(&kp_act.attach_lock);
	err = kp_act_attach();
	if (!err) {
		spin_lock(&kp_act.lock);
		if (kp_act_find(current)) {
			err = -EBUSY;
		} else {
			hash_add_rcu(kp_act.hash, &r->hnode, (unsigned long)current);
			list_add(&r->fnode, &f->regs);
			kp_act.nr_regs++;
		}
		spin_unlock(&kp_act.lock);
	}
	/* A failed first registration leaves the probes to the detach work. */
	if (err && kp_act.attached)
		schedule_work(&kp_act.detach);
	mutex_unlock(&kp_act.attach_lock);
	if (err)
		kfree(r);
	return err;
}

static long kp_act_unregister(struct kp_act_file *f)
{
	struct kp_act_reg *r;

	spin_lock(&kp_act.lock);
	r = kp_act_find(current);
	if (r && r->file == f)
		kp_act_unlink(r);
	else
		r = NULL;
	spin_unlock(&kp_act.lock);
	if (!r)
		return -ENOENT;
	kfree_rcu(r, rcu);
	return 0;
}

static long kp_act_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct kp_act_file *f = file->private_data;

	switch (cmd) {
	case KP_ACT_REGISTER:
		return kp_act_register(f, (u64 __user *)arg);
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

/* Copy up to n queued events (a LOST record first, if any) to buf. */
static unsigned int kp_act_take(struct kp_act_file *f,
				struct kp_act_event *buf, unsigned int n)
{
	unsigned int got = 0;

	raw_spin_lock_irq(&f->qlock);
	if (f->lost && n) {
		buf[got++] = (struct kp_act_event){ .type = KP_ACT_LOST,
						    .cookie = f->lost,
						    .time_ns = ktime_get_ns() };
		f->lost = 0;
	}
	while (f->len && got < n) {
		buf[got++] = f->q[f->head];
		f->head = (f->head + 1) % KP_ACT_QUEUE;
		f->len--;
	}
	raw_spin_unlock_irq(&f->qlock);
	return got;
}

static ssize_t kp_act_read(struct file *file, char __user *ubuf, size_t count,
			   loff_t *ppos)
{
	struct kp_act_file *f = file->private_data;
	struct kp_act_event buf[16];
	unsigned int n, got;
	int err;

	n = min_t(size_t, count / sizeof(buf[0]), ARRAY_SIZE(buf));
	if (!n)
		return -EINVAL;
	for (;;) {
		got = kp_act_take(f, buf, n);
		if (got)
			break;
		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		err = wait_event_interruptible(f->wq, kp_act_pending(f));
		if (err)
			return err;
	}
	if (copy_to_user(ubuf, buf, got * sizeof(buf[0])))
		return -EFAULT;
	return got * sizeof(buf[0]);
}

static __poll_t kp_act_poll(struct file *file, poll_table *wait)
{
	struct kp_act_file *f = file->private_data;

	poll_wait(file, &f->wq, wait);
	return kp_act_pending(f) ? EPOLLIN | EPOLLRDNORM : 0;
}

static int kp_act_open(struct inode *inode, struct file *file)
{
	struct kp_act_file *f;

	f = kvzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	raw_spin_lock_init(&f->qlock);
	init_waitqueue_head(&f->wq);
	init_irq_work(&f->wake, kp_act_wake_fn);
	INIT_LIST_HEAD(&f->regs);
	file->private_data = f;
	return stream_open(inode, file);
}

/* The last close ends every registration of the file. */
static int kp_act_release(struct inode *inode, struct file *file)
{
	struct kp_act_file *f = file->private_data;
	struct kp_act_reg *r, *tmp;
	LIST_HEAD(gone);

	spin_lock(&kp_act.lock);
	list_for_each_entry_safe(r, tmp, &f->regs, fnode) {
		kp_act_unlink(r);
		list_add(&r->fnode, &gone);
	}
	spin_unlock(&kp_act.lock);
	/* No probe sees the registrations or the file after this. */
	synchronize_rcu();
	irq_work_sync(&f->wake);
	list_for_each_entry_safe(r, tmp, &gone, fnode)
		kfree(r);
	kvfree(f);
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

/* debugfs activations: whether the probes are attached, and to how many. */
static int activations_show(struct seq_file *m, void *unused)
{
	unsigned int n;
	bool attached;

	mutex_lock(&kp_act.attach_lock);
	attached = kp_act.attached;
	spin_lock(&kp_act.lock);
	n = kp_act.nr_regs;
	spin_unlock(&kp_act.lock);
	mutex_unlock(&kp_act.attach_lock);
	seq_printf(m, "attached %d\nregistrations %u\n", attached, n);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(activations);

int kp_act_init(void)
{
	int err;

	hash_init(kp_act.hash);
	INIT_WORK(&kp_act.detach, kp_act_detach_fn);
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
 * No file is open here (each holds a module reference), so no thread is
 * registered; the probes may still wait for their detach work.
 */
void kp_act_cleanup(void)
{
	if (kp_act.misc_added)
		misc_deregister(&kp_act_misc);
	kp_act.misc_added = false;
	flush_work(&kp_act.detach);
	mutex_lock(&kp_act.attach_lock);
	if (kp_act.attached) {
		kp_act_unregister_probes();
		kp_act.attached = false;
	}
	mutex_unlock(&kp_act.attach_lock);
	/* kfree_rcu() of registrations that ended on thread exit. */
	rcu_barrier();
}
