// SPDX-License-Identifier: GPL-2.0
/*
 * Scheduler activations: a coroutine's plain blocking system call (or
 * page fault) does not stall the coroutines queued behind it.  When the
 * lwp running it blocks in the kernel, its vproc goes to a spare lwp.
 *
 * Who notices:
 *   module   kthread_perf.ko's /dev/kthread_perf (SPEC section 9): every
 *            lwp registers itself with a slot and generation as the cookie
 *            (act_register.c), and the spare lwps wait on the device for
 *            BLOCKED and UNBLOCKED events (the spares watch, below);
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
#include "idle.h"
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
#include <sys/epoll.h>
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
	fd_close(&s->act_fd);
	fd_close(&s->act_kick_fd);
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
 * The spares watch.  In module mode every spare lwp waits on the device
 * itself, in epoll with EPOLLEXCLUSIVE (act_spare_wait()): the kernel
 * wakes one idle spare per wake-up of the device, and the first vproc
 * that spare takes it runs itself.  A block costs one wake-up (the
 * device's, of a spare) where a listener thread of its own cost two (the
 * device's, then its condition variable's, of a spare), each of which
 * may cross CPUs, and no spare has to be told to watch: the others wait
 * on the device already.  A spare is not registered while it waits (its
 * own sleep would post a BLOCKED that wakes a spare) and registers again
 * before it runs coroutine code (lwp_spare_wait()).
 */

/* Under lwp_mtx: l, a waiting spare, leaves the list (if it is on it). */
static void spare_unlink(struct coro_sched *s, struct lwp *l)
{
	struct lwp **p;

	for (p = &s->spares; *p; p = &(*p)->next_spare) {
		if (*p == l) {
			*p = l->next_spare;
			return;
		}
	}
}

/*
 * me, a spare on the device, has claimed l's lwp (or been let its vproc,
 * word w): it runs the vproc itself, unless a hand-off gave it one
 * meanwhile (then the claimed one goes to a spare, as the monitor's
 * takes do).  When it was the last spare waiting, a new thread takes
 * its place on the device.
 */
static void spare_take(struct coro_sched *s, struct lwp *me, struct lwp *l,
		       uint64_t w)
{
	bool mine, alone;

	pthread_mutex_lock(&s->lwp_mtx);
	mine = !me->vp;
	if (mine) {
		spare_unlink(s, me);
		me->vp = &s->vps[ACT_VP(w)];
	}
	alone = mine && !s->spares;
	pthread_mutex_unlock(&s->lwp_mtx);
	if (!mine) {
		act_give(s, l, w);
		return;
	}
	if (alone && !__atomic_load_n(&s->done, __ATOMIC_ACQUIRE))
		lwp_spawn(s, NULL);
	__atomic_add_fetch(&s->handoffs, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&s->act_takes, 1, __ATOMIC_RELAXED);
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
 *
 * me is the spare that reads (NULL: a test's caller): the first vproc it
 * takes it runs itself (spare_take()), any other goes to another spare.
 */
static void listener_takes(struct coro_sched *s, struct lwp *me)
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
		else if (me)
			spare_take(s, me, l, w);
		else
			act_give(s, l, w);
		if (act_test_claim_hook)
			act_test_claim_hook(s, l->tid, 1);
	}
}

/*
 * The takes of every reader, one reader at a time.  A claim stands from
 * act_claim() until the claimer has read the device again: if the lwp
 * woke meanwhile, and blocked again in the same stint of coroutine code
 * (its BLOCKED n + 1 read by another reader), a second reader would find
 * the claimed word, ACT_TAKEN, not ACT_IN_CORO, take it for a block in
 * scheduler code and drop BLOCKED n + 1; the claimer then gives the
 * claim back (UNBLOCKED n), and the worker stays with a blocked lwp for
 * good (t_fakedev reblock).  So a reader that finds another at its takes
 * leaves its pending slots to that one (act_retake), which goes round
 * again after its claim is settled.  After a LOST, every lwp is checked
 * as the monitor does, under the same rule.
 */
static void listener_takes_all(struct coro_sched *s, struct lwp *me)
{
	bool lost;

	for (;;) {
		__atomic_store_n(&s->act_retake, 1, __ATOMIC_SEQ_CST);
		if (__atomic_exchange_n(&s->act_taking, 1, __ATOMIC_SEQ_CST))
			return;		/* the reader at it sees act_retake */
		while (__atomic_exchange_n(&s->act_retake, 0,
					   __ATOMIC_SEQ_CST)) {
			listener_takes(s, me);
			pthread_mutex_lock(&s->lwp_mtx);
			lost = s->act_lost;
			s->act_lost = false;
			pthread_mutex_unlock(&s->lwp_mtx);
			if (lost)
				monitor_scan(s, true);
		}
		__atomic_store_n(&s->act_taking, 0, __ATOMIC_SEQ_CST);
		/* A reader that came after the last look, before the store. */
		if (!__atomic_load_n(&s->act_retake, __ATOMIC_SEQ_CST))
			return;
	}
}

/*
 * One round of the listener: read what is queued, take what is blocked.
 * me: the spare that reads (NULL: every take goes to a spare).
 */
static void act_listen(struct coro_sched *s, struct lwp *me)
{
	listener_drain(s);
	listener_takes_all(s, me);
}

void act_listen_once(struct coro_sched *s)
{
	act_listen(s, NULL);
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

static int ep_add(int ep, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* l's epoll set and eventfd, made on its first wait on the device. */
static bool spare_fds(struct lwp *l)
{
	struct coro_sched *s = l->sched;

	if (l->act_ep >= 0)
		return true;
	l->act_ep = epoll_create1(EPOLL_CLOEXEC);
	l->act_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->act_ep < 0 || l->act_wake_fd < 0 ||
	    /* One spare per wake-up of the device, or per kick ... */
	    ep_add(l->act_ep, s->act_fd, EPOLLIN | EPOLLEXCLUSIVE) ||
	    ep_add(l->act_ep, s->act_kick_fd, EPOLLIN | EPOLLEXCLUSIVE) ||
	    /* ... every one, for its own hand-off and for the end. */
	    ep_add(l->act_ep, l->act_wake_fd, EPOLLIN) ||
	    ep_add(l->act_ep, s->act_stop_fd, EPOLLIN)) {
		lwp_spare_fds_close(l);
		return false;
	}
	return true;
}

static int monitor_create(struct coro_sched *s);

/*
 * The file is not ours to read (SPEC section 9): a monitor thread polls
 * the lwps instead, and the spares wait on their condition variables.
 * Not once the run has ended: act_stop() joins what it finds started.
 */
static void spare_lost_device(struct coro_sched *s)
{
	int err = 0;

	if (__atomic_exchange_n(&s->act_dev_gone, true, __ATOMIC_ACQ_REL))
		return;		/* another spare saw it first */
	fprintf(stderr, "libcoro: %s stopped delivering events; watching "
		"the workers by polling\n", KP_ACT_DEVICE);
	pthread_mutex_lock(&s->lwp_mtx);
	if (!__atomic_load_n(&s->done, __ATOMIC_ACQUIRE)) {
		err = monitor_create(s);
		s->act_monitor_on = !err;
	}
	pthread_mutex_unlock(&s->lwp_mtx);
	if (err)
		lwp_no_thread(s, err);
}

/* Whether the spare l has a vproc, or the run has ended. */
static bool spare_done(struct coro_sched *s, struct lwp *l)
{
	bool done;

	pthread_mutex_lock(&s->lwp_mtx);
	done = l->vp || __atomic_load_n(&s->done, __ATOMIC_ACQUIRE);
	pthread_mutex_unlock(&s->lwp_mtx);
	return done;
}

/*
 * Module mode: the spare l (unregistered) waits on the device, and takes
 * the first vproc it can (see the spares watch, above), until a hand-off
 * gives it one (lwp_spare_wake()) or the run ends.  false when it cannot
 * wait so (another mode; the device gone; no fd to be had): it waits on
 * its condition variable instead.
 */
static bool act_spare_wait(struct lwp *l)
{
	struct coro_sched *s = l->sched;
	struct epoll_event ev[4];
	uint64_t v;
	int i, n;

	if (s->act_mode != ACT_MODULE ||
	    !__atomic_load_n(&s->act_thread_on, __ATOMIC_RELAXED) ||
	    __atomic_load_n(&s->act_dev_gone, __ATOMIC_ACQUIRE) ||
	    !spare_fds(l))
		return false;
	pthread_mutex_lock(&s->lwp_mtx);
	if (s->orphans) {
		/* A take found no OS thread for it (vp_orphan()). */
		l->vp = s->orphans;
		s->orphans = l->vp->next_orphan;
		pthread_mutex_unlock(&s->lwp_mtx);
		return true;
	}
	l->next_spare = s->spares;
	s->spares = l;
	l->spare_events = true;
	pthread_mutex_unlock(&s->lwp_mtx);
	lwp_set_in_wait(l, 1);	/* a signal goes on to another lwp */
	for (;;) {
		/*
		 * What was queued while no spare read, and after each wake-up
		 * what woke it: the device's wake-up is exclusive, and went
		 * to this spare alone, also when a hand-off gave it a vproc
		 * meanwhile (which then does not keep it from reading: its
		 * takes go to other spares).
		 */
		act_listen(s, l);
		if (spare_done(s, l))
			break;
		n = epoll_wait(l->act_ep, ev, 4, -1);
		for (i = 0; i < n; i++) {
			if (ev[i].data.fd == s->act_fd &&
			    (ev[i].events & (EPOLLERR | EPOLLHUP)))
				spare_lost_device(s);
			else if (ev[i].data.fd != s->act_fd &&
				 ev[i].data.fd != s->act_stop_fd &&
				 read(ev[i].data.fd, &v, sizeof(v)) < 0)
				v = 0;	/* its hand-off, or a kick */
		}
		if (__atomic_load_n(&s->act_dev_gone, __ATOMIC_ACQUIRE))
			break;
	}
	lwp_set_in_wait(l, 0);
	pthread_mutex_lock(&s->lwp_mtx);
	if (!l->vp)
		spare_unlink(s, l);
	l->spare_events = false;
	pthread_mutex_unlock(&s->lwp_mtx);
	return true;
}

/*
 * Events of an earlier run's lwps, queued after its spares stopped:
 * their registrations have ended, so they would be ignored anyway.
 */
static void drain_old_events(struct coro_sched *s)
{
	struct kp_act_event ev[16];

	while (read(s->act_fd, ev, sizeof(ev)) > 0)
		;
}

/*
 * The monitor thread takes no signal: they are the coroutines' (sigmask.c
 * routes them among the lwps), and a signal that every coroutine masks
 * must stay pending, not land here.  It inherits the mask it is created
 * with; faults stay open.  (A spare waiting on the device hands them on,
 * as every spare does.)
 */
static int monitor_create(struct coro_sched *s)
{
	sigset_t all, old;
	int err;

	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = pthread_create(&s->act_thread, NULL, monitor_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err;
}

/*
 * In coro_sched_run(), on the calling thread, before any other lwp (and
 * with the scheduler's done flag cleared: the first spare starts here).
 */
int act_start(struct coro_sched *s, struct lwp *main_lwp)
{
	bool module = false;
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
			module = true;
		}
	}
	s->act_stop_fd = eventfd(0, EFD_CLOEXEC);
	if (s->act_stop_fd < 0) {
		err = errno;
		goto fail;
	}
	if (module) {
		s->act_kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (s->act_kick_fd < 0) {
			err = errno;
			fd_close(&s->act_stop_fd);
			goto fail;
		}
		/*
		 * The first spare, to wait on the device.  Without a thread
		 * for it, the first lwp to become a spare does.
		 */
		s->act_dev_gone = false;
		s->act_spare_wait = act_spare_wait;
		__atomic_store_n(&s->act_thread_on, true, __ATOMIC_RELAXED);
		lwp_spawn(s, NULL);
	} else {
		err = monitor_create(s);
		if (err) {
			/* No thread to take workers with: the run goes on. */
			fd_close(&s->act_stop_fd);
			lwp_no_thread(s, err);
			return 0;
		}
		s->act_monitor_on = true;
		__atomic_store_n(&s->act_thread_on, true, __ATOMIC_RELAXED);
	}
	/* Module mode without PREEMPTED (an older module), or the monitor. */
	if (!s->mutex_watch_off)
		s->mutex_watch = module &&
			__atomic_load_n(&s->act_preempt, __ATOMIC_RELAXED) ?
			CORO_WATCH_EVENTS : CORO_WATCH_PROC;
	return 0;
fail:
	act_unregister(s, main_lwp);
	return err;
}

/*
 * The run has ended: the monitor leaves (the spares asleep on the device
 * were woken by sched_finish(), each through its eventfd).
 */
static void act_finish(struct coro_sched *s)
{
	uint64_t one = 1;

	if (__atomic_load_n(&s->act_thread_on, __ATOMIC_RELAXED) &&
	    write(s->act_stop_fd, &one, sizeof(one)) != sizeof(one))
		abort();
}

/*
 * Everything has ended: no vproc changes hands after this.  The spares
 * are lwps, joined by lwp_reap(); the files go after that (act_close()).
 */
void act_stop(struct coro_sched *s, struct lwp *main_lwp)
{
	bool monitor;

	act_finish(s);
	pthread_mutex_lock(&s->lwp_mtx);	/* spare_lost_device() */
	monitor = s->act_monitor_on;
	s->act_monitor_on = false;
	pthread_mutex_unlock(&s->lwp_mtx);
	if (monitor)
		pthread_join(s->act_thread, NULL);
	act_unregister(s, main_lwp);
}

/* After lwp_reap(): nobody polls the eventfds any more. */
void act_close(struct coro_sched *s)
{
	__atomic_store_n(&s->act_thread_on, false, __ATOMIC_RELAXED);
	s->act_spare_wait = NULL;
	fd_close(&s->act_stop_fd);
	fd_close(&s->act_kick_fd);
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
