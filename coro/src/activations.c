// SPDX-License-Identifier: GPL-2.0
/*
 * Scheduler activations: a coroutine's plain blocking system call (or
 * page fault) does not stall the coroutines queued behind it.  When the
 * lwp running it blocks in the kernel, its vproc goes to a spare lwp.
 *
 * Who notices:
 *   module   kthread_perf.ko's /dev/kthread_perf (SPEC section 9): every
 *            lwp registers itself with a slot and generation as the cookie
 *            (act_register.c), and a listener thread sleeps in poll() +
 *            read() for BLOCKED and UNBLOCKED events;
 *   monitor  no module: a thread in the style of Go's sysmon (monitor.c);
 *   off      nothing: a plain blocking call stalls its worker's queue.
 * CORO_ACTIVATIONS=auto (the default: module when the device opens, else
 * monitor), module, monitor or off.
 *
 * The protocol (internal.h, act_word): the taker moves an lwp's word from
 * ACT_IN_CORO to ACT_TAKEN with a compare-and-swap and only then hands the
 * vproc named in the word to a spare; the lwp enters the scheduler with an
 * exchange to ACT_IN_SCHED and, reading ACT_TAKEN back, requeues its
 * coroutine on that vproc and becomes a spare itself.  At most `workers`
 * lwps hold a vproc; a woken lwp that lost its vproc runs only its own
 * coroutine, up to that coroutine's next scheduling point
 * (coro_checkpoint() being the cheapest).  A take that finds no OS thread
 * for the vproc gives the claim back (act_give()): the run goes on with
 * fewer threads, and never loses a vproc.
 */
#include "activations.h"
#include "act_register.h"
#include "act_take.h"
#include "current.h"
#include "lwp.h"
#include "monitor.h"
#include "runq.h"

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "kthread_perf_act.h"

static const char *const mode_names[] = {
	[ACT_OFF] = "off", [ACT_MODULE] = "module", [ACT_MONITOR] = "monitor",
};

/*
 * CORO_ACTIVATIONS, else the caller's choice (NULL: auto), resolved: the
 * device is opened here (module mode).
 */
int act_init(struct coro_sched *s, const char *choice)
{
	const char *env = getenv("CORO_ACTIVATIONS");

	if (!env || !*env)
		env = choice;
	bool automatic = !env || !*env || !strcmp(env, "auto");

	const char *watch = getenv("CORO_MUTEX_WATCH");

	s->act_fd = -1;
	s->act_stop_fd = -1;
	s->act_kick_fd = -1;
	s->act_auto = automatic;
	s->mutex_watch = CORO_WATCH_NONE;
	if (watch && *watch && strcmp(watch, "auto") && strcmp(watch, "off")) {
		errno = EINVAL;		/* the caller says which variable */
		return -1;
	}
	s->mutex_watch_off = watch && !strcmp(watch, "off");
	/* Module mode asks for PREEMPTED and RESUMED (act_register()). */
	s->act_preempt = !s->mutex_watch_off;
	s->act_pending_head = s->act_pending_tail = ACT_NO_SLOT;
	if (automatic || !strcmp(env, "module")) {
		s->act_fd = open(KP_ACT_DEVICE,
				 O_RDWR | O_CLOEXEC | O_NONBLOCK);
		if (s->act_fd >= 0) {
			s->act_mode = ACT_MODULE;
			return 0;
		}
		if (!automatic) {
			int err = errno;

			fprintf(stderr, "libcoro: CORO_ACTIVATIONS=module: "
				"cannot open %s: %s (is kthread_perf.ko "
				"loaded?)\n", KP_ACT_DEVICE, strerror(err));
			errno = err == ENOENT ? ENODEV : err;
			return -1;
		}
		s->act_mode = ACT_MONITOR;
	} else if (!strcmp(env, "monitor")) {
		s->act_mode = ACT_MONITOR;
	} else if (!strcmp(env, "off")) {
		s->act_mode = ACT_OFF;
	} else {
		errno = EINVAL;		/* the caller says which variable */
		return -1;
	}
	return 0;
}

void act_destroy(struct coro_sched *s)
{
	if (s->act_fd >= 0)
		close(s->act_fd);
	s->act_fd = -1;
	if (s->act_kick_fd >= 0)
		close(s->act_kick_fd);
	s->act_kick_fd = -1;
	act_slots_free(s);
}

const char *coro_sched_activations(const coro_sched_t *s)
{
	return mode_names[s->act_mode];
}

/* Tests: called by the listener around each claim (activations.h). */
void (*act_test_claim_hook)(struct coro_sched *s, pid_t tid, int after);

/* Under lwp_mtx: slot idx goes on the listener's list, unless it is on. */
static void pending_push(struct coro_sched *s, uint32_t idx)
{
	struct act_slot *sl = &s->act_slots[idx];

	if (sl->pending)
		return;
	sl->pending = true;
	sl->next_pending = ACT_NO_SLOT;
	if (s->act_pending_tail == ACT_NO_SLOT)
		s->act_pending_head = idx;
	else
		s->act_slots[s->act_pending_tail].next_pending = idx;
	s->act_pending_tail = idx;
}

/* Under lwp_mtx: the next slot of the listener's list, or ACT_NO_SLOT. */
static uint32_t pending_pop(struct coro_sched *s)
{
	uint32_t idx = s->act_pending_head;

	if (idx == ACT_NO_SLOT)
		return idx;
	s->act_pending_head = s->act_slots[idx].next_pending;
	if (s->act_pending_head == ACT_NO_SLOT)
		s->act_pending_tail = ACT_NO_SLOT;
	s->act_slots[idx].pending = false;
	return idx;
}

/*
 * Under lwp_mtx: whether the kernel last said that sl's lwp is off its
 * CPU (preempted, or blocked), for the adaptive mutex (mutex.c).
 */
static void slot_off_cpu(struct act_slot *sl)
{
	__atomic_store_n(&sl->lwp->off_cpu, sl->preempted > sl->resumed ||
			 sl->blocked > sl->unblocked, __ATOMIC_RELAXED);
}

/*
 * Under lwp_mtx: events were dropped, maybe a RESUMED: forget the
 * preemptions read so far (spinning on a preempted owner wastes a bounded
 * spin; parking for a running one costs more).  A BLOCKED stays until its
 * UNBLOCKED or the next BLOCKED, which a blocking lwp sends soon.
 */
static void forget_preemptions(struct coro_sched *s)
{
	uint32_t i;

	for (i = 0; i < s->act_nslots; i++) {
		struct act_slot *sl = &s->act_slots[i];

		if (!sl->lwp)
			continue;
		sl->resumed = sl->preempted;
		slot_off_cpu(sl);
	}
}

/*
 * Under lwp_mtx: what one event says.  Only the highest seq of each kind
 * matters: BLOCKED n is current until UNBLOCKED n has been read, and
 * PREEMPTED n until RESUMED n.
 */
static void apply_event(struct coro_sched *s, const struct kp_act_event *e)
{
	struct act_slot *sl;

	if (e->type == KP_ACT_LOST) {
		s->act_lost = true;
		forget_preemptions(s);
		return;
	}
	if (e->type < KP_ACT_BLOCKED || e->type > KP_ACT_RESUMED)
		return;
	sl = act_cookie_slot(s, e->cookie);
	if (!sl) {
		/* Of a registration that has ended: its lwp may be gone. */
		s->act_stale_events++;
		return;
	}
	switch (e->type) {
	case KP_ACT_UNBLOCKED:
		if (e->seq > sl->unblocked)
			sl->unblocked = e->seq;
		break;
	case KP_ACT_BLOCKED:
		if (e->seq > sl->blocked) {
			sl->blocked = e->seq;
			pending_push(s, (uint32_t)(sl - s->act_slots));
		}
		break;
	case KP_ACT_PREEMPTED:
		if (e->seq > sl->preempted)
			sl->preempted = e->seq;
		break;
	default:	/* KP_ACT_RESUMED */
		if (e->seq > sl->resumed)
			sl->resumed = e->seq;
		break;
	}
	slot_off_cpu(sl);
}

/* Read every event queued now (the file is O_NONBLOCK) and apply it. */
static void listener_drain(struct coro_sched *s)
{
	struct kp_act_event ev[16];
	ssize_t n;
	size_t i;

	for (;;) {
		n = read(s->act_fd, ev, sizeof(ev));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < (ssize_t)sizeof(ev[0]))
			return;
		pthread_mutex_lock(&s->lwp_mtx);
		for (i = 0; i < (size_t)n / sizeof(ev[0]); i++)
			apply_event(s, &ev[i]);
		pthread_mutex_unlock(&s->lwp_mtx);
		if (n < (ssize_t)sizeof(ev))
			return;		/* the queue was empty */
	}
}

/*
 * Act on each registration whose last BLOCKED n has no UNBLOCKED n yet.
 * The word is read now, not when the thread blocked, so the thread may
 * have woken since (its coroutine code running on in the same stint):
 * after the claim, read what the device has queued.  The kernel posts
 * UNBLOCKED n when it wakes the thread, before the thread runs again; so
 * if UNBLOCKED n is not there (nor read before), the thread was still
 * blocked when the claim won, and the take stands.  If it is, the claim
 * is given back, unless the lwp has noticed it meanwhile (then it let
 * the vproc go and the take stands).  Exact unless the queue overflowed
 * (LOST): an UNBLOCKED n dropped makes a take of a running lwp, which
 * costs a hand-off and nothing else.
 */
static void listener_takes(struct coro_sched *s)
{
	struct act_slot *sl;
	struct lwp *l;
	uint64_t n, w;
	uint32_t idx, gen;
	bool woke;

	for (;;) {
		pthread_mutex_lock(&s->lwp_mtx);
		idx = pending_pop(s);
		if (idx == ACT_NO_SLOT) {
			pthread_mutex_unlock(&s->lwp_mtx);
			return;
		}
		sl = &s->act_slots[idx];
		l = sl->lwp;
		n = sl->blocked;
		gen = sl->gen;
		if (!l || n <= sl->unblocked || n <= sl->handled) {
			pthread_mutex_unlock(&s->lwp_mtx);
			continue;
		}
		sl->handled = n;
		pthread_mutex_unlock(&s->lwp_mtx);
		/* (l lives until the run ends, after the listener.) */
		w = __atomic_load_n(&l->act_word, __ATOMIC_ACQUIRE);
		if (ACT_STATE(w) != ACT_IN_CORO)
			continue;	/* blocked in scheduler code: idle */
		if (!act_claim(l, w))
			continue;
		if (act_test_claim_hook)
			act_test_claim_hook(s, l->tid, 0);
		listener_drain(s);
		pthread_mutex_lock(&s->lwp_mtx);
		sl = &s->act_slots[idx];
		woke = sl->gen != gen || sl->unblocked >= n;
		pthread_mutex_unlock(&s->lwp_mtx);
		if (woke && act_unclaim(l, w))
			__atomic_add_fetch(&s->act_stale, 1, __ATOMIC_RELAXED);
		else
			act_give(s, l, w);
		if (act_test_claim_hook)
			act_test_claim_hook(s, l->tid, 1);
	}
}

/*
 * One round of the listener: read what is queued, take what is blocked;
 * after a LOST, check every lwp as the monitor does.
 */
void act_listen_once(struct coro_sched *s)
{
	bool lost;

	listener_drain(s);
	listener_takes(s);
	pthread_mutex_lock(&s->lwp_mtx);
	lost = s->act_lost;
	s->act_lost = false;
	pthread_mutex_unlock(&s->lwp_mtx);
	if (lost)
		monitor_scan(s, true);
}

/*
 * A mutex contender wants to know whether the owner's lwp is preempted:
 * read what the device has queued (PREEMPTED and RESUMED wake nobody, so
 * they wait there).  What else it read (a BLOCKED, a LOST) is the
 * listener's to act on: kick it.  One contender at a time; the others go
 * on with what it applies.
 */
void act_refresh(struct coro_sched *s)
{
	uint64_t one = 1;
	bool kick;

	if (s->act_kick_fd < 0 ||
	    __atomic_exchange_n(&s->act_refreshing, 1, __ATOMIC_ACQUIRE))
		return;
	listener_drain(s);
	pthread_mutex_lock(&s->lwp_mtx);
	kick = s->act_pending_head != ACT_NO_SLOT || s->act_lost;
	pthread_mutex_unlock(&s->lwp_mtx);
	__atomic_store_n(&s->act_refreshing, 0, __ATOMIC_RELEASE);
	if (kick && write(s->act_kick_fd, &one, sizeof(one)) != sizeof(one))
		abort();
}

static void *listener_main(void *arg)
{
	struct coro_sched *s = arg;
	struct pollfd pfd[3] = {
		{ .fd = s->act_fd, .events = POLLIN },
		{ .fd = s->act_stop_fd, .events = POLLIN },
		{ .fd = s->act_kick_fd, .events = POLLIN },
	};
	uint64_t kicks;

	for (;;) {
		if (poll(pfd, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents)
			break;
		if (pfd[2].revents & POLLIN) {
			/* A contender read events for us (act_refresh()). */
			if (read(s->act_kick_fd, &kicks, sizeof(kicks)) < 0)
				kicks = 0;
			act_listen_once(s);
		}
		if (pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
			/* The file is not ours to read (SPEC section 9). */
			fprintf(stderr, "libcoro: %s stopped delivering "
				"events; watching the workers by polling\n",
				KP_ACT_DEVICE);
			return monitor_main(arg);
		}
		if (pfd[0].revents & POLLIN)
			act_listen_once(s);
	}
	return NULL;
}

/*
 * Events of an earlier run's lwps, queued after its listener stopped:
 * their registrations have ended, so they would be ignored anyway.
 */
static void drain_old_events(struct coro_sched *s)
{
	struct kp_act_event ev[16];

	while (read(s->act_fd, ev, sizeof(ev)) > 0)
		;
}

/*
 * The listener or monitor thread takes no signal: they are the
 * coroutines' (sigmask.c routes them among the lwps), and a signal that
 * every coroutine masks must stay pending, not land here.  It inherits
 * the mask it is created with; faults stay open.
 */
static int act_thread_create(struct coro_sched *s, void *(*fn)(void *))
{
	sigset_t all, old;
	int err;

	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = pthread_create(&s->act_thread, NULL, fn, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err;
}

/* In coro_sched_run(), on the calling thread, before any other lwp. */
int act_start(struct coro_sched *s, struct lwp *main_lwp)
{
	void *(*fn)(void *) = monitor_main;
	int err;

	s->mutex_watch = CORO_WATCH_NONE;
	if (s->act_mode == ACT_OFF)
		return 0;
	if (s->act_mode == ACT_MODULE) {
		drain_old_events(s);
		err = act_register(s, main_lwp);
		if (err && s->act_auto) {
			/* E.g. the caller's thread is registered elsewhere. */
			act_destroy(s);
			s->act_mode = ACT_MONITOR;
		} else if (err) {
			return err;
		} else {
			fn = listener_main;
		}
	}
	s->act_stop_fd = eventfd(0, EFD_CLOEXEC);
	if (s->act_stop_fd < 0) {
		err = errno;
		goto fail;
	}
	if (fn == listener_main) {
		s->act_kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (s->act_kick_fd < 0) {
			err = errno;
			close(s->act_stop_fd);
			s->act_stop_fd = -1;
			goto fail;
		}
	}
	err = act_thread_create(s, fn);
	if (err) {
		/* No thread to take workers with: the run goes on without. */
		close(s->act_stop_fd);
		s->act_stop_fd = -1;
		if (s->act_kick_fd >= 0)
			close(s->act_kick_fd);
		s->act_kick_fd = -1;
		lwp_no_thread(s, err);
		act_unregister(s, main_lwp);
		return 0;
	}
	__atomic_store_n(&s->act_thread_on, true, __ATOMIC_RELAXED);
	/* Module mode without PREEMPTED (an older module), or the monitor. */
	if (!s->mutex_watch_off)
		s->mutex_watch = fn == listener_main &&
			__atomic_load_n(&s->act_preempt, __ATOMIC_RELAXED) ?
			CORO_WATCH_EVENTS : CORO_WATCH_PROC;
	return 0;
fail:
	act_unregister(s, main_lwp);
	return err;
}

/* Everything has ended: no vproc changes hands after this. */
void act_stop(struct coro_sched *s, struct lwp *main_lwp)
{
	uint64_t one = 1;

	if (s->act_thread_on) {
		if (write(s->act_stop_fd, &one, sizeof(one)) != sizeof(one))
			abort();
		pthread_join(s->act_thread, NULL);
		__atomic_store_n(&s->act_thread_on, false, __ATOMIC_RELAXED);
		close(s->act_stop_fd);
		s->act_stop_fd = -1;
		if (s->act_kick_fd >= 0)
			close(s->act_kick_fd);
		s->act_kick_fd = -1;
	}
	act_unregister(s, main_lwp);
}

void coro_checkpoint(void)
{
	struct lwp *l = lwp_current();

	if (!l || !l->current)
		return;
	if ((act_on(l->sched) &&
	     ACT_STATE(__atomic_load_n(&l->act_word, __ATOMIC_RELAXED)) ==
	     ACT_TAKEN) ||
	    /* a preemption waiting for a scheduling point (preempt.c) */
	    (l->vp && vp_has_above(l->vp, coro_prio(l->current))))
		coro_yield();
}
