/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kthread_perf: the scheduler-activations ABI of /dev/kthread_perf
 * (SPEC.md section 9; Documentation/activations.md).
 *
 * A user-level thread system opens /dev/kthread_perf once.  Each of its
 * worker threads registers itself on that file descriptor with
 * KP_ACT_REGISTER and a cookie of its choice (a worker index, a slot and
 * generation).  From then on, without polling, the descriptor delivers:
 *
 *   KP_ACT_BLOCKED    the registered thread went to sleep in the kernel
 *                     (a blocking system call, a page fault, a futex wait):
 *                     it left the CPU and its run queue;
 *   KP_ACT_UNBLOCKED  it was woken after that BLOCKED (same seq);
 *   KP_ACT_LOST       the queue overflowed and `cookie` events were dropped
 *                     here, between the events before and after it;
 *
 * and, only to a registration with KP_ACT_REG_PREEMPT in its flags:
 *
 *   KP_ACT_PREEMPTED  the registered thread left the CPU still runnable
 *                     (preempted, or sched_yield() with another task to
 *                     run): it waits on its run queue;
 *   KP_ACT_RESUMED    it got a CPU back after that PREEMPTED (same seq).
 *
 * Each registration numbers its blocks: the n-th BLOCKED carries seq n
 * (from 1), and the UNBLOCKED that ends it carries the same n.  Events of
 * one registration come in order, BLOCKED n before UNBLOCKED n before
 * BLOCKED n + 1.  When the queue drops a BLOCKED (LOST counts it), the
 * UNBLOCKED that would end it is not sent either: no UNBLOCKED arrives
 * alone.  PREEMPTED and RESUMED are numbered the same way, on a count of
 * their own (the n-th PREEMPTED carries seq n, its RESUMED the same n), and
 * alternate the same way; a dropped PREEMPTED has no RESUMED.  The two
 * pairs interleave: a thread is never preempted while blocked, so a
 * PREEMPTED comes between an UNBLOCKED and the next BLOCKED, and so does
 * its RESUMED.
 *
 * PREEMPTED and RESUMED wake no reader until the queue is half full: a
 * reader gets them with the next event that does (or reads them when it
 * wants to know, without blocking).  Woken for each, a reader would
 * preempt the threads it watches on a busy CPU, and each preemption is an
 * event.
 *
 * read() returns whole struct kp_act_event records, as many as fit and are
 * queued, and blocks while none is (EAGAIN with O_NONBLOCK); poll() reports
 * EPOLLIN when one is queued.
 *
 * A file belongs to the process that opened it, in the program it ran
 * then: register, unregister and read from another process (a child after
 * fork, a process the descriptor was passed to) or after that process's
 * execve() fail with EPERM, and poll() reports EPOLLERR.  A registration
 * ends with KP_ACT_UNREGISTER from the thread itself, when the thread
 * exits or calls execve(), or when the last descriptor of the file is
 * closed.  A thread is registered on at most one file at a time (EBUSY
 * otherwise).
 *
 * struct kp_act_register.flags is 0 or KP_ACT_REG_PREEMPT: bits this module
 * does not know fail with EINVAL, so that later flags (more event types)
 * can be asked for without changing what a caller that does not ask
 * receives.  That is also how a caller tells which module it talks to: a
 * module older than KP_ACT_REG_PREEMPT refuses it with EINVAL, and the
 * caller may register again with flags 0 (and get no PREEMPTED/RESUMED).
 *
 * The ioctl type 0xB9 is unassigned in the kernel's
 * Documentation/userspace-api/ioctl/ioctl-number.rst.
 */
#ifndef KTHREAD_PERF_ACT_H
#define KTHREAD_PERF_ACT_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define KP_ACT_DEVICE		"/dev/kthread_perf"

enum kp_act_type {
	KP_ACT_BLOCKED = 1,
	KP_ACT_UNBLOCKED = 2,
	KP_ACT_LOST = 3,
	KP_ACT_PREEMPTED = 4,	/* with KP_ACT_REG_PREEMPT only */
	KP_ACT_RESUMED = 5,	/* with KP_ACT_REG_PREEMPT only */
};

/* struct kp_act_register.flags */
#define KP_ACT_REG_PREEMPT	0x1U	/* PREEMPTED and RESUMED too */
/* Every flag this header knows. */
#define KP_ACT_REG_FLAGS	KP_ACT_REG_PREEMPT

struct kp_act_event {
	__u32 type;		/* enum kp_act_type */
	__u32 tid;		/* the registered thread (gettid()); LOST: 0 */
	__u64 cookie;		/* its cookie; KP_ACT_LOST: events dropped */
	__u64 time_ns;		/* CLOCK_MONOTONIC when it happened */
	__u64 seq;		/* its block or preemption (from 1); LOST: 0 */
};

struct kp_act_register {
	__u64 cookie;		/* returned in every event of this thread */
	__u32 flags;		/* 0, or KP_ACT_REG_PREEMPT */
	__u32 reserved;		/* 0 */
};

#define KP_ACT_IOC_MAGIC	0xB9
/* Register the calling thread (struct kp_act_register). */
#define KP_ACT_REGISTER		_IOW(KP_ACT_IOC_MAGIC, 0x01, struct kp_act_register)
/* End the calling thread's registration on this file (ENOENT: none). */
#define KP_ACT_UNREGISTER	_IO(KP_ACT_IOC_MAGIC, 0x02)

#endif /* KTHREAD_PERF_ACT_H */
