// SPDX-License-Identifier: GPL-2.0
/*
 * Scheduler activations: a coroutine's plain blocking system call (or
 * page fault) does not stall the coroutines queued behind it.  When the
 * lwp running it blocks in the kernel, its vproc goes to a spare lwp.
 *
 * Who notices:
 *   module   kthread_perf.ko's /dev/kthread_perf (SPEC section 9): every
 *            lwp registers itself with its own address as the cookie, and
 *            a listener thread sleeps in poll() + read() for BLOCKED events;
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
 * (coro_checkpoint() being the cheapest).
 */
#include "activations.h"
#include "act_register.h"
#include "act_take.h"
#include "current.h"
#include "monitor.h"

#include <errno.h>
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

	s->act_fd = -1;
	s->act_stop_fd = -1;
	s->act_auto = automatic;
	if (automatic || !strcmp(env, "module")) {
		s->act_fd = open(KP_ACT_DEVICE, O_RDWR | O_CLOEXEC);
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
}

const char *coro_sched_activations(const coro_sched_t *s)
{
	return mode_names[s->act_mode];
}

/*
 * Module mode: the events come in batches; a BLOCKED followed in the same
 * batch by another event of its thread is old news.
 */
static void listener_batch(struct coro_sched *s, const struct kp_act_event *ev,
			   size_t n)
{
	struct lwp *l;
	size_t i, j;

	for (i = 0; i < n; i++) {
		if (ev[i].type == KP_ACT_LOST) {
			monitor_scan(s, true);
			continue;
		}
		if (ev[i].type != KP_ACT_BLOCKED)
			continue;
		for (j = i + 1; j < n; j++)
			if (ev[j].tid == ev[i].tid)
				break;
		if (j < n)
			continue;
		l = (struct lwp *)(uintptr_t)ev[i].cookie;
		act_take(s, l, __atomic_load_n(&l->act_word, __ATOMIC_ACQUIRE));
	}
}

static void *listener_main(void *arg)
{
	struct coro_sched *s = arg;
	struct kp_act_event ev[16];
	struct pollfd pfd[2] = {
		{ .fd = s->act_fd, .events = POLLIN },
		{ .fd = s->act_stop_fd, .events = POLLIN },
	};
	ssize_t n;

	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents)
			break;
		if (!(pfd[0].revents & POLLIN))
			continue;
		n = read(s->act_fd, ev, sizeof(ev));
		if (n > 0)
			listener_batch(s, ev, (size_t)n / sizeof(ev[0]));
	}
	return NULL;
}

/*
 * Events of an earlier run's lwps, queued after its listener stopped:
 * their cookies point at freed lwps.  Those lwps have all ended.
 */
static void drain_old_events(struct coro_sched *s)
{
	struct kp_act_event ev[16];
	struct pollfd pfd = { .fd = s->act_fd, .events = POLLIN };

	while (poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN) &&
	       read(s->act_fd, ev, sizeof(ev)) > 0)
		;
}

/* In coro_sched_run(), on the calling thread, before any other lwp. */
int act_start(struct coro_sched *s, struct lwp *main_lwp)
{
	void *(*fn)(void *) = monitor_main;
	int err;

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
	err = pthread_create(&s->act_thread, NULL, fn, s);
	if (err) {
		close(s->act_stop_fd);
		s->act_stop_fd = -1;
		goto fail;
	}
	s->act_thread_on = true;
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
		s->act_thread_on = false;
		close(s->act_stop_fd);
		s->act_stop_fd = -1;
	}
	act_unregister(s, main_lwp);
}

void coro_checkpoint(void)
{
	struct lwp *l = lwp_current();

	if (l && l->current && act_on(l->sched) &&
	    ACT_STATE(__atomic_load_n(&l->act_word, __ATOMIC_RELAXED)) ==
	    ACT_TAKEN)
		coro_yield();
}
