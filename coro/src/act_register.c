// SPDX-License-Identifier: GPL-2.0
/*
 * Module mode: each lwp registers itself on /dev/kthread_perf, so that
 * its BLOCKED and UNBLOCKED events name it.  The cookie is a slot of the
 * scheduler's table: its index (bits 0-31) and the slot's generation
 * (bits 32-63), which moves on each time the slot is taken.  An lwp is
 * freed only after its registration has ended, but events of that
 * registration may still be queued then, or arrive late (pthread_join()
 * returns before the kernel's exit tracepoint): they name a slot that is
 * free or of a later generation, and the listener ignores them.  Every
 * lwp unregisters before its thread ends.
 */
#include "act_register.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kthread_perf_act.h"

/*
 * Under s->lwp_mtx: a free slot for l (the table grows as needed), its
 * generation moved on; *cookie names it.
 */
int act_slot_get(struct coro_sched *s, struct lwp *l, uint64_t *cookie)
{
	struct act_slot *sl;
	uint32_t i, cap;

	for (i = 0; i < s->act_nslots; i++)
		if (!s->act_slots[i].lwp)
			break;
	if (i == s->act_nslots) {
		if (i == ACT_NO_SLOT)
			return ENOMEM;
		if (i == s->act_cap) {
			cap = s->act_cap ? 2 * s->act_cap : 16;
			sl = realloc(s->act_slots, cap * sizeof(*sl));
			if (!sl)
				return ENOMEM;
			s->act_slots = sl;
			s->act_cap = cap;
		}
		memset(&s->act_slots[i], 0, sizeof(s->act_slots[i]));
		s->act_slots[i].next_pending = ACT_NO_SLOT;
		s->act_nslots++;
	}
	sl = &s->act_slots[i];
	if (++sl->gen == 0)
		sl->gen = 1;
	sl->lwp = l;
	sl->blocked = sl->unblocked = sl->handled = 0;
	sl->preempted = sl->resumed = 0;
	__atomic_store_n(&l->off_cpu, 0, __ATOMIC_RELAXED);
	/* (pending, next_pending: it may still be on the listener's list.) */
	l->act_slot = i;
	*cookie = (uint64_t)sl->gen << 32 | i;
	return 0;
}

/* Under s->lwp_mtx: the registration of slot idx has ended. */
void act_slot_put(struct coro_sched *s, uint32_t idx)
{
	if (idx < s->act_nslots)
		s->act_slots[idx].lwp = NULL;
}

/*
 * Under s->lwp_mtx: the slot a cookie names, if its registration lives;
 * NULL for an index out of range, a free slot or another generation.
 */
struct act_slot *act_cookie_slot(struct coro_sched *s, uint64_t cookie)
{
	uint32_t idx = (uint32_t)cookie, gen = (uint32_t)(cookie >> 32);
	struct act_slot *sl;

	if (idx >= s->act_nslots)
		return NULL;
	sl = &s->act_slots[idx];
	return sl->lwp && sl->gen == gen ? sl : NULL;
}

void act_slots_free(struct coro_sched *s)
{
	free(s->act_slots);
	s->act_slots = NULL;
	s->act_nslots = s->act_cap = 0;
	s->act_pending_head = s->act_pending_tail = ACT_NO_SLOT;
}

/* In l's own thread. */
int act_register(struct coro_sched *s, struct lwp *l)
{
	struct kp_act_register reg = { 0 };
	uint64_t cookie;
	int err, rc;

	pthread_mutex_lock(&s->lwp_mtx);
	err = act_slot_get(s, l, &cookie);
	reg.cookie = cookie;
	pthread_mutex_unlock(&s->lwp_mtx);
	if (err)
		return err;
	if (__atomic_load_n(&s->act_preempt, __ATOMIC_RELAXED))
		reg.flags = KP_ACT_REG_PREEMPT;
	rc = ioctl(s->act_fd, KP_ACT_REGISTER, &reg);
	if (rc && reg.flags && errno == EINVAL) {
		/* A module older than PREEMPTED: without (mutex.c asks /proc). */
		__atomic_store_n(&s->act_preempt, false, __ATOMIC_RELAXED);
		reg.flags = 0;
		rc = ioctl(s->act_fd, KP_ACT_REGISTER, &reg);
	}
	if (rc) {
		err = errno;
		pthread_mutex_lock(&s->lwp_mtx);
		act_slot_put(s, l->act_slot);
		pthread_mutex_unlock(&s->lwp_mtx);
		return err;
	}
	l->act_registered = true;
	return 0;
}

/* In l's own thread. */
void act_unregister(struct coro_sched *s, struct lwp *l)
{
	if (!l->act_registered)
		return;
	ioctl(s->act_fd, KP_ACT_UNREGISTER);
	l->act_registered = false;
	__atomic_store_n(&l->off_cpu, 0, __ATOMIC_RELAXED);
	pthread_mutex_lock(&s->lwp_mtx);
	act_slot_put(s, l->act_slot);
	pthread_mutex_unlock(&s->lwp_mtx);
}

/* In an lwp's own thread when it gets a vproc, if something listens. */
void act_lwp_begin(struct lwp *l)
{
	struct coro_sched *s = l->sched;
	static int said;
	int err;

	if (s->act_mode != ACT_MODULE || l->act_registered ||
	    !__atomic_load_n(&s->act_thread_on, __ATOMIC_RELAXED))
		return;
	err = act_register(s, l);
	/* Once: each spare would say it again (e.g. EDQUOT, a user's limit). */
	if (err && !__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
		fprintf(stderr, "libcoro: cannot register an OS thread on %s: "
			"%s; a blocking call on it stalls its worker\n",
			KP_ACT_DEVICE, strerror(err));
}

/* The same thread, before it ends. */
void act_lwp_end(struct lwp *l)
{
	act_unregister(l->sched, l);
}
