// SPDX-License-Identifier: GPL-2.0
/*
 * coro_uring_read(), coro_uring_write(): the call goes to the io_uring of
 * the caller's worker and the coroutine parks; its worker runs the others
 * meanwhile and, when it has nothing else to run, waits in the ring
 * (idle.c), never leaving user space for the coroutine's sake.  The ring
 * lock is the park lock: the switch out releases it, so no reaper wakes
 * the coroutine before it is off its stack.  Without a ring
 * (uring_ring.c), the blocking-call wrapper; outside a coroutine, the
 * plain system call.
 */
#include "current.h"
#include "dispatch.h"
#include "runq.h"
#include "uring_reap.h"
#include "uring_ring.h"

#include <errno.h>
#include <unistd.h>

/*
 * Completions already in the ring, the lock held: o's own when the
 * operation completed inline (data was there), others' to the queue.
 */
static void take_ready(struct lwp *l, struct vp_ring *r)
{
	struct coro *head = NULL, *tail = NULL;

	ring_take(r, &head, &tail);
	uring_queue(l, head, tail, l->current);
}

static ssize_t uring_io(enum ring_opcode op, int fd, void *buf, size_t n)
{
	struct lwp *l = lwp_current();
	struct coro *self = l ? l->current : NULL;
	struct ring_op o = { .co = self };
	struct vp_ring *r;
	int err;

	if (!self || !l->vp)
		return op == RING_WRITE ? write(fd, buf, n) : read(fd, buf, n);
	r = ring_get(l->vp);
	if (!r)
		goto wrapper;
	spin_lock(&r->lock);
	err = ring_submit(r, op, fd, buf, n, &o);
	if (err) {
		spin_unlock(&r->lock);
		goto wrapper;
	}
	if (ring_ready(r))
		take_ready(l, r);
	if (o.done) {
		spin_unlock(&r->lock);
	} else {
		coro_set_state(self, CORO_PARKED);
		coro_switch_out(l, self, AFTER_PARK, &r->lock, NULL);
	}
	if (o.res < 0) {
		lwp_set_errno((int)-o.res);
		return -1;
	}
	return o.res;
wrapper:
	return op == RING_WRITE ? coro_blocking_write(fd, buf, n) :
				       coro_blocking_read(fd, buf, n);
}

ssize_t coro_uring_read(int fd, void *buf, size_t n)
{
	return uring_io(RING_READ, fd, buf, n);
}

ssize_t coro_uring_write(int fd, const void *buf, size_t n)
{
	return uring_io(RING_WRITE, fd, (void *)buf, n);
}
