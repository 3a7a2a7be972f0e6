// SPDX-License-Identifier: GPL-2.0
/*
 * A worker's io_uring.  One ring per vproc, made when a coroutine on it
 * first submits; only the lwp holding the vproc uses it in practice, but
 * every use of its queues is under the ring's spinlock, which is also the
 * park lock of the coroutine that submits (so that no reaper can wake it
 * before it is off its stack).  A vproc's holder with nothing to run
 * waits in the ring while operations are in flight: for a completion, for
 * its eventfd (which sched_kick() writes, through ring_kick_idle(), as it
 * signals the idle condition variable), or until the next timer.
 *
 * Where no ring can be made (CORO_URING=off, a kernel without io_uring or
 * without IORING_FEAT_EXT_ARG, kernel.io_uring_disabled, a seccomp filter,
 * RLIMIT_MEMLOCK), ring_get() returns NULL, says why once per process, and
 * the caller falls back to the blocking-call wrapper.
 */
#include "uring_ring.h"
#include "clock.h"
#include "queue.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/*
 * Submissions go one at a time, so the submission queue is small; every
 * parked coroutine of the worker may have a completion queued, so the
 * completion queue is larger (beyond it the kernel keeps them aside, and
 * the idle wait's io_uring_enter() brings them back).
 */
#define RING_ENTRIES 256
#define RING_CQ_ENTRIES 4096
#define RING_WAKE_TAG 1ULL	/* user_data of the eventfd's poll */

static void ring_said(const char *why, int err)
{
	static int said;

	if (!__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
		fprintf(stderr, "libcoro: io_uring unavailable (%s%s%s); "
			"coro_uring_read() and coro_uring_write() fall back to "
			"coro_blocking_read() and coro_blocking_write()\n",
			why, err ? ": " : "", err ? strerror(err) : "");
}

#ifdef CORO_HAVE_URING
static struct vp_ring *ring_make(void)
{
	const char *env = getenv("CORO_URING");
	struct io_uring_params p;
	struct vp_ring *r;
	int err;

	if (env && !strcmp(env, "off")) {
		ring_said("CORO_URING=off", 0);
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		ring_said("out of memory", ENOMEM);
		return NULL;
	}
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_CQSIZE;
	p.cq_entries = RING_CQ_ENTRIES;
	err = -io_uring_queue_init_params(RING_ENTRIES, &r->ring, &p);
	if (err) {
		ring_said("io_uring_queue_init_params", err);
		free(r);
		return NULL;
	}
	/* Waiting with a timeout must not touch the submission queue. */
	if (!(r->ring.features & IORING_FEAT_EXT_ARG)) {
		ring_said("the kernel lacks IORING_FEAT_EXT_ARG", 0);
		goto fail;
	}
	r->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->efd < 0) {
		ring_said("eventfd", errno);
		goto fail;
	}
	return r;
fail:
	io_uring_queue_exit(&r->ring);
	free(r);
	return NULL;
}

#else
static struct vp_ring *ring_make(void)
{
	ring_said("libcoro was built without liburing", 0);
	return NULL;
}
#endif

/*
 * vp's ring, made on first use (under lwp_mtx, which orders it before
 * any other thread's vp_ring()); NULL, for good, when none can be made.
 */
struct vp_ring *ring_get(struct vproc *vp)
{
	struct coro_sched *s = vp->sched;
	struct vp_ring *r = vp_ring(vp);

	if (r || __atomic_load_n(&vp->ring_off, __ATOMIC_RELAXED))
		return r;
	pthread_mutex_lock(&s->lwp_mtx);
	r = vp->ring;
	if (!r && !vp->ring_off) {
		r = ring_make();
		if (r)
			__atomic_store_n(&vp->ring, r, __ATOMIC_RELEASE);
		else
			__atomic_store_n(&vp->ring_off, true, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&s->lwp_mtx);
	return r;
}

#ifdef CORO_HAVE_URING
/* A free entry of the submission queue, flushing it once if full. */
static struct io_uring_sqe *ring_sqe(struct vp_ring *r)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);

	if (!sqe) {
		io_uring_submit(&r->ring);
		sqe = io_uring_get_sqe(&r->ring);
	}
	return sqe;
}

/*
 * Submit op (a read or a write) for o, the lock held.
 * 0, or a negative errno with nothing in flight.
 */
int ring_submit(struct vp_ring *r, enum ring_opcode op, int fd, void *buf,
		size_t n, struct ring_op *o)
{
	struct io_uring_sqe *sqe = ring_sqe(r);
	int ret;

	if (!sqe)
		return -EBUSY;
	if (n > UINT32_MAX)
		n = UINT32_MAX;
	/* -1: the file's own position, as read() and write() use. */
	if (op == RING_WRITE)
		io_uring_prep_write(sqe, fd, buf, (unsigned int)n, (__u64)-1);
	else
		io_uring_prep_read(sqe, fd, buf, (unsigned int)n, (__u64)-1);
	io_uring_sqe_set_data(sqe, o);
	o->done = false;
	__atomic_add_fetch(&r->inflight, 1, __ATOMIC_RELAXED);
	ret = io_uring_submit(&r->ring);
	if (ret >= 1)
		return 0;
	/*
	 * Not consumed (a submission error, EINTR): take it back.  The
	 * entry is still ours, and the next submit would send it; make it a
	 * no-op that nobody waits for.
	 */
	io_uring_prep_nop(sqe);
	io_uring_sqe_set_data64(sqe, RING_WAKE_TAG + 1);
	__atomic_sub_fetch(&r->inflight, 1, __ATOMIC_RELAXED);
	return ret < 0 ? ret : -EAGAIN;
}

/* The eventfd's poll fired: empty it, and arm the poll again next wait. */
static void ring_woken(struct vp_ring *r)
{
	uint64_t v;

	if (read(r->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	r->poll_armed = false;
}

/*
 * Reap every completion, the lock held: each operation gets its result
 * and its coroutine goes on the list (head, tail), to be made runnable
 * by the caller; the ring_op is on that coroutine's stack, so it is not
 * touched again.
 */
void ring_take(struct vp_ring *r, struct coro **head, struct coro **tail)
{
	struct io_uring_cqe *cqe;
	unsigned int head_idx, n = 0;

	io_uring_for_each_cqe(&r->ring, head_idx, cqe) {
		struct ring_op *o = io_uring_cqe_get_data(cqe);
		uint64_t tag = cqe->user_data;

		n++;
		if (tag == RING_WAKE_TAG) {
			ring_woken(r);
			continue;
		}
		if (tag == RING_WAKE_TAG + 1)
			continue;	/* a submission taken back */
		o->res = cqe->res;
		o->done = true;
		queue_append(head, tail, o->co);
		__atomic_sub_fetch(&r->inflight, 1, __ATOMIC_RELAXED);
	}
	io_uring_cq_advance(&r->ring, n);
}

/*
 * The holder waits for a completion or a wake-up, until the clock passes
 * wake (UINT64_MAX: no timer).  -ETIME when the wait timed out at wake.
 * Not under the lock: waiting reads the completion queue only.
 */
int ring_wait(struct vp_ring *r, uint64_t wake)
{
	struct __kernel_timespec ts;
	struct io_uring_cqe *cqe;
	uint64_t now, left;
	bool armed;

	spin_lock(&r->lock);
	if (!r->poll_armed) {
		struct io_uring_sqe *sqe = ring_sqe(r);

		if (sqe) {
			io_uring_prep_poll_add(sqe, r->efd, POLLIN);
			io_uring_sqe_set_data64(sqe, RING_WAKE_TAG);
			r->poll_armed = true;
		}
	}
	armed = r->poll_armed;
	io_uring_submit(&r->ring);
	spin_unlock(&r->lock);
	if (!armed)
		return 0;	/* no room in the ring: poll, do not sleep */
	if (wake == UINT64_MAX)
		return io_uring_wait_cqe(&r->ring, &cqe);
	now = clock_now_ns();
	if (wake <= now)
		return -ETIME;
	left = wake - now;
	ts.tv_sec = (long long)(left / 1000000000u);
	ts.tv_nsec = (long long)(left % 1000000000u);
	return io_uring_wait_cqe_timeout(&r->ring, &cqe, &ts);
}

#else
/* No ring is ever made (ring_make()): these are never called. */
int ring_submit(struct vp_ring *r, enum ring_opcode op, int fd, void *buf,
		size_t n, struct ring_op *o)
{
	(void)r, (void)op, (void)fd, (void)buf, (void)n, (void)o;
	return -ENOSYS;
}

void ring_take(struct vp_ring *r, struct coro **head, struct coro **tail)
{
	(void)r, (void)head, (void)tail;
}

int ring_wait(struct vp_ring *r, uint64_t wake)
{
	(void)r, (void)wake;
	return 0;
}
#endif

/*
 * Wake the holders of vps[0 .. nvp) that wait in their rings (after new
 * work was made visible: see sched_kick()).
 */
void ring_kick_idle(struct coro_sched *s, unsigned int nvp)
{
	static const uint64_t one = 1;
	unsigned int i;

	for (i = 0; i < nvp; i++) {
		struct vp_ring *r = vp_ring(&s->vps[i]);

		if (r && __atomic_load_n(&r->idle, __ATOMIC_SEQ_CST) &&
		    write(r->efd, &one, sizeof(one)) < 0)
			continue;	/* full: a wake-up is pending anyway */
	}
}

/* At the scheduler's end (no operation is in flight: none is live). */
void ring_free(struct vproc *vp)
{
	struct vp_ring *r = vp->ring;

	if (!r)
		return;
#ifdef CORO_HAVE_URING
	io_uring_queue_exit(&r->ring);
#endif
	close(r->efd);
	free(r);
	vp->ring = NULL;
}
