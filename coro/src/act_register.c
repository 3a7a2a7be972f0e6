// SPDX-License-Identifier: GPL-2.0
/*
 * Module mode: each lwp registers itself on /dev/kthread_perf, with its
 * own address as the cookie, so that its BLOCKED events name it.
 */
#include "act_register.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kthread_perf_act.h"

int act_register(struct coro_sched *s, struct lwp *l)
{
	uint64_t cookie = (uintptr_t)l;

	if (ioctl(s->act_fd, KP_ACT_REGISTER, &cookie))
		return errno;
	l->act_registered = true;
	return 0;
}

/* In each new lwp's own thread. */
void act_lwp_begin(struct lwp *l)
{
	struct coro_sched *s = l->sched;
	int err;

	if (s->act_mode != ACT_MODULE)
		return;
	err = act_register(s, l);
	if (err)
		fprintf(stderr, "libcoro: cannot register an OS thread on %s: "
			"%s; a blocking call on it stalls its worker\n",
			KP_ACT_DEVICE, strerror(err));
}

void act_unregister(struct coro_sched *s, struct lwp *l)
{
	if (l->act_registered)
		ioctl(s->act_fd, KP_ACT_UNREGISTER);
	l->act_registered = false;
}
