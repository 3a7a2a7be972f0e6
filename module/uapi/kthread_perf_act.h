/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kthread_perf: the scheduler-activations ABI of /dev/kthread_perf
 * (SPEC.md section 9; Documentation/activations.md).
 *
 * A user-level thread system opens /dev/kthread_perf once.  Each of its
 * worker threads registers itself on that file descriptor with
 * KP_ACT_REGISTER and a cookie of its choice (a worker index, a pointer).
 * From then on, without polling, the descriptor delivers:
 *
 *   KP_ACT_BLOCKED    the registered thread went to sleep in the kernel
 *                     (a blocking system call, a page fault, a futex wait):
 *                     it left the CPU in a state other than runnable;
 *   KP_ACT_UNBLOCKED  it was woken after such a BLOCKED (every UNBLOCKED
 *                     follows a BLOCKED of the same thread, in order);
 *   KP_ACT_LOST       the queue overflowed and `cookie` events were dropped.
 *
 * read() returns whole struct kp_act_event records, as many as fit and are
 * queued, and blocks while none is (EAGAIN with O_NONBLOCK); poll() reports
 * EPOLLIN when one is queued.  Any thread may read, typically a spare
 * thread of the runtime, which is itself not registered.  Preemption (the
 * thread is still runnable) is not an event.
 *
 * A registration ends with KP_ACT_UNREGISTER from the thread itself, when
 * the thread exits, or when the last descriptor of the file is closed.
 * A thread is registered on at most one file at a time (EBUSY otherwise).
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
};

struct kp_act_event {
	__u32 type;		/* enum kp_act_type */
	__u32 tid;		/* the registered thread (gettid()) */
	__u64 cookie;		/* its cookie; KP_ACT_LOST: events dropped */
	__u64 time_ns;		/* CLOCK_MONOTONIC when it happened */
};

#define KP_ACT_IOC_MAGIC	'k'
/* Register the calling thread with the __u64 cookie pointed to. */
#define KP_ACT_REGISTER		_IOW(KP_ACT_IOC_MAGIC, 1, __u64)
/* End the calling thread's registration on this file (ENOENT: none). */
#define KP_ACT_UNREGISTER	_IO(KP_ACT_IOC_MAGIC, 2)

#endif /* KTHREAD_PERF_ACT_H */
