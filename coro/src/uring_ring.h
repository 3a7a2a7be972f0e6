// SPDX-License-Identifier: GPL-2.0
/*
 * A worker's io_uring (uring_ring.c): made on the first coro_uring_read()
 * or coro_uring_write() of a coroutine running on the worker, used by the
 * lwp that holds the worker to submit, to reap completions and, when it
 * has nothing to run and operations are in flight, to wait in (an eventfd
 * polled in the ring lets other threads wake it, as the idle condition
 * variable does).
 */
#ifndef CORO_URING_RING_H
#define CORO_URING_RING_H

#include "internal.h"

/* Where liburing's header is missing (a cross build), no ring is made. */
#if __has_include(<liburing.h>) && !defined(CORO_NO_URING)
#define CORO_HAVE_URING 1
#include <liburing.h>
#endif

enum ring_opcode { RING_READ, RING_WRITE };

/* One operation in flight: on the stack of the coroutine that waits. */
struct ring_op {
	struct coro *co;
	ssize_t res;
	bool done;
};

struct vp_ring {
#ifdef CORO_HAVE_URING
	struct io_uring ring;
#endif
	int lock;		/* submission, reaping; the park lock */
	int efd;		/* eventfd: a write wakes the idle holder */
	bool poll_armed;	/* a POLL_ADD on efd is in the ring */
	int idle;		/* the holder waits in the ring (atomic) */
	unsigned int inflight;	/* ring_ops not reaped yet (atomic) */
};

HIDDEN struct vp_ring *ring_get(struct vproc *vp);
HIDDEN int ring_submit(struct vp_ring *r, enum ring_opcode op, int fd, void *buf,
		       size_t n, struct ring_op *o);
HIDDEN void ring_take(struct vp_ring *r, struct coro **head,
		      struct coro **tail);
HIDDEN int ring_wait(struct vp_ring *r, uint64_t wake);
HIDDEN void ring_kick_idle(struct coro_sched *s, unsigned int nvp);
HIDDEN void ring_free(struct vproc *vp);

/* The worker's ring, if it has one (read by other threads: atomic). */
static inline struct vp_ring *vp_ring(const struct vproc *vp)
{
	return __atomic_load_n(&vp->ring, __ATOMIC_ACQUIRE);
}

/* Operations in flight on vp's ring: its holder waits in the ring. */
static inline bool vp_ring_busy(const struct vproc *vp)
{
	struct vp_ring *r = vp_ring(vp);

	return r && __atomic_load_n(&r->inflight, __ATOMIC_RELAXED);
}

/* Completions to reap (two loads). */
static inline bool ring_ready(struct vp_ring *r)
{
#ifdef CORO_HAVE_URING
	return io_uring_cq_ready(&r->ring) != 0;
#else
	(void)r;
	return false;
#endif
}

#endif /* CORO_URING_RING_H */
