// SPDX-License-Identifier: GPL-2.0
/*
 * The take: an lwp seen blocked in coroutine code loses its vproc to a
 * spare, if the compare-and-swap on its word (act_word.h) wins against
 * the lwp's own entry into the scheduler.  Used by the listener on the
 * module's events (activations.c) and by the monitor (monitor.c), in
 * three steps: act_claim() (the CAS), a check that the lwp was still
 * blocked at the CAS (each mechanism has its own), then act_give(), or
 * act_unclaim() when the lwp had been woken by then.
 */
#include "act_take.h"
#include "handoff.h"

/*
 * l's word was `word` (ACT_IN_CORO) when it was seen blocked: move it to
 * ACT_TAKEN unless l has been through the scheduler since.
 */
bool act_claim(struct lwp *l, uint64_t word)
{
	return ACT_STATE(word) == ACT_IN_CORO &&
	       __atomic_compare_exchange_n(&l->act_word, &word,
					   (word & ~3ULL) | ACT_TAKEN, false,
					   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/*
 * Give the claim back: true if l had not noticed it (its word is still
 * the claimed one), and l keeps its vproc as if nothing had happened;
 * false if l has entered the scheduler meanwhile, read ACT_TAKEN and let
 * the vproc go, which then must go to a spare (act_give()).
 */
bool act_unclaim(struct lwp *l, uint64_t word)
{
	uint64_t taken = (word & ~3ULL) | ACT_TAKEN;

	return __atomic_compare_exchange_n(&l->act_word, &taken, word, false,
					   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/*
 * After act_claim(): hand the vproc named in `word` to a spare.  With no
 * OS thread to be had (vp_hand_to_spare() warned), the claim is given
 * back and l keeps running its queue when its call returns: the run goes
 * on with fewer OS threads, never stalls a vproc for good.  Returns true
 * when the vproc changed hands (a take).
 */
bool act_give(struct coro_sched *s, struct lwp *l, uint64_t word)
{
	struct vproc *vp = &s->vps[ACT_VP(word)];

	if (!vp_hand_to_spare(s, vp)) {
		if (act_unclaim(l, word))
			return false;
		/* l gave the vproc up: it, or the next spare, holds it. */
		vp_orphan(s, vp);
	}
	__atomic_add_fetch(&s->act_takes, 1, __ATOMIC_RELAXED);
	return true;
}
