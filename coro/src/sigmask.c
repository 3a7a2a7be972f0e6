// SPDX-License-Identifier: GPL-2.0
/*
 * Signals with per-coroutine masks (Solaris' thread library; issue 22,
 * part 2).  coro_sigmask() changes the calling coroutine's mask in user
 * space: a few loads and stores, no system call, unless it unmasks a
 * signal that is waiting for exactly that (below).  coro_signal()
 * installs sig_entry() in front of the caller's handler, and a signal is
 * routed by the four cases of the Solaris notes:
 *
 *  1. The running coroutine has it unmasked: sig_entry() calls the
 *     handler at once, on the coroutine's stack.
 *  2. Otherwise sig_entry() blocks it in this OS thread's kernel mask
 *     (through the context it returns to) and holds it; at the thread's
 *     next scheduling point sig_route() looks for a runnable coroutine of
 *     this worker with it unmasked, marks it pending there and moves it
 *     to the head of the queue, so that the switch about to happen goes
 *     to it and it is delivered there (sig_resumed()).  The running
 *     coroutine is not preempted: the handler switches nothing, it only
 *     holds; a signal handler that switched stacks could do it in the
 *     middle of the library's own code (a queue half linked, a spinlock
 *     held), so the switch waits for the next safe point, as in Go's
 *     asynchronous preemption.
 *  3. Else a coroutine with it unmasked running on another worker: a
 *     directed signal (tgkill()) to that worker's OS thread, where case 1
 *     or 2 applies.  (One queued on another worker gets it pending, and
 *     it is delivered when that coroutine runs.)
 *  4. Else every coroutine has it masked: it goes into sig_nobody, every
 *     OS thread of the library blocks it in the kernel (this one now, the
 *     others at their next scheduling point, those still open re-raised
 *     to by kill()), and it stays pending in the kernel.  A coroutine that
 *     unmasks it takes every pending instance from the kernel itself
 *     (sigtimedwait(), while the others still block it), then takes it
 *     out of sig_nobody and runs the handler: case 1, once.
 *
 * Real-time signals are counted, not merged, at every step (held counts,
 * pending counts, the kernel's queue), so n raised are n delivered.
 * An idle or spare lwp's handler cannot hold (the thread sleeps in the
 * kernel): it blocks the signal there and re-raises it to the process.
 * Threads that are not the library's take signals as plain threads do.
 */
#include "sigmask.h"
#include "act_word.h"
#include "current.h"
#include "runq.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NSIG_CORO 64

uint64_t sig_nobody;
uint64_t sig_reserved;
static void (*handlers[NSIG_CORO + 1])(int);

static inline uint64_t sig_bit(int sig)
{
	return 1ULL << (sig - 1);
}

static inline bool sig_is_rt(int sig)
{
	return sig >= SIGRTMIN && sig <= SIGRTMAX;
}

/* Signals that cannot be masked. */
#define SIG_UNMASKABLE (sig_bit(SIGKILL) | sig_bit(SIGSTOP))

/* Linux's sigset_t (glibc, musl) holds signal s at bit s - 1 of its
 * first 64 bits, as the kernel's does. */
static inline uint64_t set_bits(const sigset_t *set)
{
	uint64_t w;

	_Static_assert(sizeof(sigset_t) >= sizeof(uint64_t), "sigset_t");
	memcpy(&w, set, sizeof(w));
	return w;
}

static void bits_set(sigset_t *set, uint64_t w)
{
	memset(set, 0, sizeof(*set));
	memcpy(set, &w, sizeof(w));
}

/* Run the handler in c, with sig masked in c meanwhile (as POSIX). */
static void call_handler(struct coro *c, int sig)
{
	void (*h)(int) = __atomic_load_n(&handlers[sig], __ATOMIC_ACQUIRE);
	uint64_t bit = sig_bit(sig), old;

	if (!h)
		return;
	old = __atomic_fetch_or(&c->sigmask, bit, __ATOMIC_RELAXED);
	c->in_sig++;
	h(sig);
	c->in_sig--;
	if (!(old & bit))
		__atomic_and_fetch(&c->sigmask, ~bit, __ATOMIC_RELAXED);
}

static void reraise(int sig, const siginfo_t *si)
{
	union sigval v = { 0 };

	if (sig_is_rt(sig)) {
		if (si)
			v = si->si_value;
		sigqueue(getpid(), sig, v);
	} else {
		kill(getpid(), sig);
	}
}

static void sig_entry(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	struct lwp *l = lwp_current();
	uint64_t bit = sig_bit(sig);
	struct coro *c;
	int saved = errno;
	void (*h)(int);

	if (!l) {
		/* A thread of no scheduler: a plain thread. */
		h = __atomic_load_n(&handlers[sig], __ATOMIC_ACQUIRE);
		if (h)
			h(sig);
		goto out;
	}
	c = l->current;
	if (c && !(__atomic_load_n(&c->sigmask, __ATOMIC_RELAXED) & bit)) {
		call_handler(c, sig);		/* case 1 */
		goto out;
	}
	/* Blocked here until this thread's next scheduling point. */
	sigaddset(&uc->uc_sigmask, sig);
	__atomic_or_fetch(&l->kblk, bit, __ATOMIC_RELAXED);
	if (__atomic_load_n(&l->in_wait, __ATOMIC_RELAXED)) {
		reraise(sig, si);	/* asleep in the kernel: hand it on */
		goto out;
	}
	__atomic_add_fetch(&l->held_cnt[sig], 1, __ATOMIC_RELAXED);
	__atomic_or_fetch(&l->held_bits, bit, __ATOMIC_RELEASE);
	/* The next coro_yield() takes the general path, which routes it
	 * (the fast one pays nothing for signals). */
	tls_yield_vp = NULL;
out:
	errno = saved;
}

/*
 * A signal whose sigaction is another file's (sig_reserved: preempt.c's
 * SIGURG), that it does not take for itself: to coro_signal()'s handler,
 * routed as any other, if one is set.
 */
void sig_forward(int sig, siginfo_t *si, void *uc)
{
	if (__atomic_load_n(&handlers[sig], __ATOMIC_ACQUIRE))
		sig_entry(sig, si, uc);
}

/* The kernel mask of l's thread blocks what sig_nobody says, no more. */
static void sync_kernel(struct lwp *l)
{
	uint64_t want = __atomic_load_n(&sig_nobody, __ATOMIC_ACQUIRE);
	uint64_t had = __atomic_exchange_n(&l->kblk, want, __ATOMIC_ACQ_REL);
	sigset_t set;

	if (want & ~had) {
		bits_set(&set, want & ~had);
		pthread_sigmask(SIG_BLOCK, &set, NULL);
	}
	if (had & ~want) {
		bits_set(&set, had & ~want);
		pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	}
}

/* c (queued, not running) gets sig when it next runs. */
static void add_pending(struct coro *c, int sig)
{
	if (sig_is_rt(sig)) {
		if (!c->sigcnt)
			c->sigcnt = calloc(NSIG_CORO + 1, sizeof(*c->sigcnt));
		if (c->sigcnt)
			__atomic_add_fetch(&c->sigcnt[sig], 1, __ATOMIC_RELAXED);
	}
	__atomic_or_fetch(&c->sigpend, sig_bit(sig), __ATOMIC_RELEASE);
}

/*
 * The first coroutine of vp's queue with bit unmasked: pending there,
 * and to the head of the queue when to_head.  Under the lock, or solo
 * by its owner.
 */
static bool queue_take(struct vproc *vp, int sig, bool to_head)
{
	struct coro *c, *prev, **head, **tail;
	uint64_t bit = sig_bit(sig);
	int p;

	/* Each priority's list, the highest first (runq.h). */
	for (p = CORO_PRIO_MAX; p >= 0; p--) {
		head = vp_class_head(vp, p);
		tail = vp_class_tail(vp, p);
		for (prev = NULL, c = *head; c; prev = c, c = c->next) {
			if (__atomic_load_n(&c->sigmask, __ATOMIC_RELAXED) & bit)
				continue;
			add_pending(c, sig);
			if (to_head && prev) {
				prev->next = c->next;
				if (*tail == c)
					*tail = prev;
				c->next = *head;
				*head = c;
			}
			return true;
		}
	}
	return false;
}

/* Case 2: a runnable coroutine of l's own worker. */
static bool route_here(struct lwp *l, int sig)
{
	struct vproc *vp = l->vp;
	bool found;

	if (!vp)
		return false;
	if (vp_is_solo(vp)) {
		/* l owns it, unless activations gave it to a spare while l
		 * was blocked: then leave the lock-free queue alone. */
		if (act_on(l->sched))
			return false;
		vp_inbox_drain(vp);
		return queue_take(vp, sig, true);
	}
	spin_lock(&vp->lock);
	found = queue_take(vp, sig, true);
	spin_unlock(&vp->lock);
	return found;
}

static bool lwp_takes(struct lwp *x, uint64_t bit)
{
	return !(__atomic_load_n(&x->cur_sigmask, __ATOMIC_ACQUIRE) & bit);
}

/* Case 3: a coroutine with it unmasked runs on another lwp. */
static bool route_running(struct lwp *l, int sig)
{
	struct coro_sched *s = l->sched;
	uint64_t bit = sig_bit(sig);
	pid_t tid = 0;
	struct lwp *x;

	pthread_mutex_lock(&s->lwp_mtx);
	x = s->main_lwp;
	if (x && x != l && lwp_takes(x, bit))
		tid = x->tid;
	for (x = s->all_lwps; x && !tid; x = x->next_all)
		if (x != l && lwp_takes(x, bit))
			tid = x->tid;
	pthread_mutex_unlock(&s->lwp_mtx);
	if (!tid)
		return false;
	syscall(SYS_tgkill, getpid(), tid, sig);
	return true;
}

/* A coroutine queued on another worker: pending there. */
static bool route_queued(struct lwp *l, int sig)
{
	struct coro_sched *s = l->sched;
	unsigned int i, nvp = sched_nvp(s);
	bool found = false;

	for (i = 0; i < nvp && !found; i++) {
		struct vproc *vp = &s->vps[i];

		if (vp == l->vp || vp_is_solo(vp))
			continue;
		spin_lock(&vp->lock);
		found = queue_take(vp, sig, false);
		spin_unlock(&vp->lock);
	}
	return found;
}

/* Returns true when the running coroutine takes it (unmasked since). */
static bool route_one(struct lwp *l, int sig)
{
	struct coro *self = l->current;
	uint64_t bit = sig_bit(sig);

	if (self && !(__atomic_load_n(&self->sigmask, __ATOMIC_RELAXED) & bit))
		return true;
	if (route_here(l, sig) || route_running(l, sig) ||
	    route_queued(l, sig))
		return false;
	/* Case 4: nobody; pending in the kernel from now on. */
	__atomic_or_fetch(&sig_nobody, bit, __ATOMIC_ACQ_REL);
	sync_kernel(l);
	reraise(sig, NULL);
	return false;
}

/*
 * The running coroutine has unmasked what nobody had (give): it takes
 * every instance pending in the kernel before the bits leave sig_nobody.
 * Cleared first, the other lwps would unblock them at their next
 * scheduling point, and one spinning through its yields often won the
 * race with this thread's own unblock: the signal then reached this
 * coroutine late, sent back by that lwp (case 3), not at the unmask.
 * sigtimedwait() takes a blocked signal from the thread's pending set
 * and the process' alike.
 */
static void take_nobody(uint64_t give, uint32_t *here)
{
	static const struct timespec now;
	sigset_t set;
	int sig;

	bits_set(&set, give);
	while ((sig = sigtimedwait(&set, NULL, &now)) > 0)
		if (sig <= NSIG_CORO)
			here[sig]++;
	__atomic_and_fetch(&sig_nobody, ~give, __ATOMIC_ACQ_REL);
}

/*
 * Route what l's handler held, and bring l's kernel mask in line with
 * sig_nobody.  What falls to l's running coroutine runs last, as a
 * handler may switch: nothing of l is touched after one.
 */
void sig_route(struct lwp *l)
{
	uint64_t bits = __atomic_exchange_n(&l->held_bits, 0, __ATOMIC_ACQUIRE);
	struct coro *self = l->current;
	uint32_t here[NSIG_CORO + 1], n;
	uint64_t give = 0;
	int sig;

	memset(here, 0, sizeof(here));
	while (bits) {
		sig = __builtin_ctzll(bits) + 1;
		bits &= bits - 1;
		n = __atomic_exchange_n(&l->held_cnt[sig], 0, __ATOMIC_ACQUIRE);
		while (n--)
			if (route_one(l, sig))
				here[sig]++;
	}
	if (self)
		give = __atomic_load_n(&sig_nobody, __ATOMIC_ACQUIRE) &
		       ~__atomic_load_n(&self->sigmask, __ATOMIC_RELAXED);
	if (give)
		take_nobody(give, here);
	sync_kernel(l);
	for (sig = 1; self && sig <= NSIG_CORO; sig++)
		for (; here[sig]; here[sig]--)
			call_handler(self, sig);
}

struct lwp *sig_route_point(struct lwp *l)
{
	sig_route(l);
	return lwp_current();
}

struct lwp *sig_deliver_pending(struct lwp *l, struct coro *c)
{
	uint64_t mine = __atomic_load_n(&c->sigpend, __ATOMIC_ACQUIRE) &
			~__atomic_load_n(&c->sigmask, __ATOMIC_RELAXED);
	uint32_t n;
	int sig;

	if (!mine)
		return l;
	__atomic_and_fetch(&c->sigpend, ~mine, __ATOMIC_ACQ_REL);
	while (mine) {
		sig = __builtin_ctzll(mine) + 1;
		mine &= mine - 1;
		n = 1;
		if (sig_is_rt(sig) && c->sigcnt)
			n = __atomic_exchange_n(&c->sigcnt[sig], 0,
						__ATOMIC_ACQUIRE);
		while (n--)
			call_handler(c, sig);
	}
	return lwp_current();	/* a handler may have switched */
}

void sig_coro_begin(struct coro *c, struct coro *creator)
{
	c->sigpend = 0;
	c->sigcnt = NULL;
	c->sigmask = creator ? __atomic_load_n(&creator->sigmask,
					       __ATOMIC_RELAXED) : 0;
}

void sig_coro_ended(struct coro *c)
{
	free(c->sigcnt);
	c->sigcnt = NULL;
}

/* coro_sigmask()'s rare path: it unmasked what waits for that. */
static __attribute__((noinline)) void unmask_slow(struct lwp *l,
						  struct coro *c)
{
	/* sig_nobody, held signals, kernel mask (a handler may switch) */
	l = sig_route_point(l);
	sig_deliver_pending(l, c);
}

int coro_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	struct lwp *l = lwp_current();
	struct coro *c = l ? l->current : NULL;
	uint64_t m, n, w;

	if (!c)
		return pthread_sigmask(how, set, old);
	m = __atomic_load_n(&c->sigmask, __ATOMIC_RELAXED);
	if (old)
		bits_set(old, m);
	if (!set)
		return 0;
	w = set_bits(set) & ~SIG_UNMASKABLE;
	switch (how) {
	case SIG_BLOCK:
		n = m | w;
		break;
	case SIG_UNBLOCK:
		n = m & ~w;
		break;
	case SIG_SETMASK:
		n = w;
		break;
	default:
		return EINVAL;
	}
	__atomic_store_n(&c->sigmask, n, __ATOMIC_RELAXED);
	__atomic_store_n(&l->cur_sigmask, n, __ATOMIC_RELEASE);
	if (__builtin_expect((m & ~n) &
			     (__atomic_load_n(&sig_nobody, __ATOMIC_RELAXED) |
			      __atomic_load_n(&c->sigpend, __ATOMIC_RELAXED) |
			      __atomic_load_n(&l->held_bits, __ATOMIC_RELAXED)),
			     0))
		unmask_slow(l, c);
	return 0;
}

/* Faults go to the thread that made them; SIGSEGV is overflow.c's. */
static bool sig_synchronous(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE ||
	       sig == SIGILL || sig == SIGTRAP || sig == SIGSYS;
}

int coro_signal(int sig, void (*handler)(int))
{
	struct sigaction sa;

	if (sig < 1 || sig > NSIG_CORO || sig == SIGKILL || sig == SIGSTOP ||
	    sig_synchronous(sig))
		return EINVAL;
	if (__atomic_load_n(&sig_reserved, __ATOMIC_ACQUIRE) & sig_bit(sig)) {
		/* Its sigaction is the library's, which forwards it. */
		__atomic_store_n(&handlers[sig], handler == SIG_DFL ||
				 handler == SIG_IGN ? NULL : handler,
				 __ATOMIC_RELEASE);
		return 0;
	}
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	if (handler == SIG_DFL || handler == SIG_IGN) {
		__atomic_store_n(&handlers[sig], NULL, __ATOMIC_RELEASE);
		sa.sa_handler = handler;
	} else {
		__atomic_store_n(&handlers[sig], handler, __ATOMIC_RELEASE);
		sa.sa_sigaction = sig_entry;
		sa.sa_flags = SA_SIGINFO | SA_RESTART;
	}
	if (sigaction(sig, &sa, NULL))
		return errno;
	return 0;
}
