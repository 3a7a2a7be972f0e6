// SPDX-License-Identifier: GPL-2.0
/*
 * Blocking system calls without blocking the siblings: the worker (its
 * run queue) moves to a spare OS thread for the duration of the call, and
 * the caller is queued on that worker again when the call returns.  The
 * OS thread that made the call then becomes the spare (Solaris LWPs,
 * scheduler activations).
 */
#include "current.h"
#include "handoff.h"
#include "dispatch.h"

#include <errno.h>
#include <stdint.h>
#include <unistd.h>

void *coro_call_blocking(void *(*fn)(void *), void *arg)
{
	struct lwp *l = lwp_current();
	struct coro *self = l ? l->current : NULL;
	struct vproc *vp;
	void *ret;
	int err;

	if (!self || !l->vp)
		return fn(arg);
	vp = l->vp;
	if (!lwp_hand_off(l))
		return fn(arg);
	ret = fn(arg);
	err = errno;
	coro_switch_out(l, self, AFTER_REQUEUE, NULL, vp);
	lwp_set_errno(err);
	return ret;
}

struct io_args {
	int fd;
	void *buf;
	size_t count;
};

static void *do_read(void *p)
{
	struct io_args *a = p;

	return (void *)(intptr_t)read(a->fd, a->buf, a->count);
}

static void *do_write(void *p)
{
	struct io_args *a = p;

	return (void *)(intptr_t)write(a->fd, a->buf, a->count);
}

ssize_t coro_blocking_read(int fd, void *buf, size_t count)
{
	struct io_args a = { fd, buf, count };

	return (ssize_t)(intptr_t)coro_call_blocking(do_read, &a);
}

ssize_t coro_blocking_write(int fd, const void *buf, size_t count)
{
	struct io_args a = { fd, (void *)buf, count };

	return (ssize_t)(intptr_t)coro_call_blocking(do_write, &a);
}
