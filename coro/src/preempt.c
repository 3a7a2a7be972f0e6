// SPDX-License-Identifier: GPL-2.0
/*
 * Preemption across workers (issue 22, part 1), and coro_setprio().
 *
 * prio.c sends a worker's OS thread CORO_PREEMPT_SIGNAL when a coroutine
 * of a higher priority than the one it runs is queued for it.  The
 * handler here decides whether it may switch where it stands, as Go's
 * asynchronous preemption does (isAsyncSafePoint): only if the
 * interrupted instruction is the program's own code, in the executable's
 * text and not libcoro's (coro_text, below), libc's, the dynamic
 * loader's, the vDSO's or any other shared library's.  There the
 * interrupted coroutine holds none of the library's spinlocks (they are
 * taken and released inside libcoro's code) nor libc's (malloc, stdio),
 * and the lwp is between scheduling points, so the handler may do what a
 * coro_yield() does.  Anywhere else it only makes sure that the next
 * scheduling point takes the general path, which picks by priority.
 *
 * Go injects a call to asyncPreempt into the interrupted context, which
 * saves every register on the goroutine's stack; this library, without
 * the compiler's help, lets the kernel do that: the handler runs on the
 * coroutine's stack (no SA_ONSTACK) above the signal frame, which holds
 * every register and the FPU state, and switches from there to the
 * coroutine of higher priority.  The preempted coroutine is queued again
 * at the head of its priority, and when it is resumed, on whichever OS
 * thread, its handler returns and sigreturn() restores the interrupted
 * state.  Only two things in the frame belong to the thread rather than
 * to the coroutine, and they are rewritten to the resuming thread's own
 * before that: the signal mask (the library changes threads' masks,
 * sigmask.c) and the alternate signal stack (each lwp has its own,
 * overflow.c).  SA_NODEFER keeps the thread preemptible meanwhile; a
 * second signal while the handler runs finds libcoro's code and waits.
 *
 * libcoro's code is told by its section: the Makefile renames every
 * object's .text* to coro_text, whose bounds the linker gives
 * (__start_coro_text, __stop_coro_text) whether libcoro is linked into
 * the program or is a shared library.  Without them, or in a statically
 * linked program (libc in the executable), or under ThreadSanitizer (it
 * defers a signal to its next interceptor and passes the handler a copy
 * of the context), or on another architecture than x86-64, nothing is
 * switched from the handler: preemption then waits for a scheduling
 * point.
 */
#include "act_word.h"
#include "current.h"
#include "dispatch.h"
#include "prio.h"
#include "sigmask.h"

#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#if defined(__x86_64__) && defined(CORO_CTX_ASM) && !defined(__SANITIZE_THREAD__)
#define PREEMPT_ASYNC 1
#endif

/* The linker's bounds of libcoro's code (hidden: not exported by
 * libcoro.so; the section is always there, see the Makefile). */
extern const char __start_coro_text[] HIDDEN;
extern const char __stop_coro_text[] HIDDEN;

#define MAX_RANGES 8

static struct {
	uintptr_t lo, hi;
} exe_text[MAX_RANGES];
static unsigned int n_exe_text;
static bool async_ok;		/* the ranges are known: switch in the handler */
static int install_err;
static pthread_once_t install_once = PTHREAD_ONCE_INIT;

struct phdr_walk {
	unsigned int objects;
};

/* dl_iterate_phdr() reports the executable first: its code segments. */
static int phdr_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct phdr_walk *w = arg;
	unsigned int i;

	(void)size;
	if (w->objects++ == 0) {
		for (i = 0; i < info->dlpi_phnum && n_exe_text < MAX_RANGES; i++) {
			const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

			if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
				continue;
			exe_text[n_exe_text].lo = info->dlpi_addr + ph->p_vaddr;
			exe_text[n_exe_text].hi = exe_text[n_exe_text].lo + ph->p_memsz;
			n_exe_text++;
		}
	}
	return 0;
}

#ifdef PREEMPT_ASYNC
/* Is pc in the program's own code: the executable's, not libcoro's? */
static bool program_code(uintptr_t pc)
{
	unsigned int i;

	if (pc >= (uintptr_t)__start_coro_text && pc < (uintptr_t)__stop_coro_text)
		return false;
	for (i = 0; i < n_exe_text; i++)
		if (pc >= exe_text[i].lo && pc < exe_text[i].hi)
			return true;
	return false;
}

static bool async_safe_point(const ucontext_t *uc)
{
	return async_ok && program_code((uintptr_t)uc->uc_mcontext.gregs[REG_RIP]);
}
#else
static bool async_safe_point(const ucontext_t *uc)
{
	(void)uc;
	return false;
}
#endif

/*
 * Switch from the handler, at an asynchronous safe point: c goes back to
 * the head of its priority on its vproc.  Back here when c is resumed,
 * on whichever lwp: sigreturn() then restores the interrupted registers,
 * with this thread's mask and alternate stack.
 */
static void preempt_switch(struct lwp *l, struct coro *c, ucontext_t *uc)
{
	sigset_t now;
	stack_t ss;

	coro_switch_out(l, c, AFTER_PREEMPT, NULL, l->vp);
	if (!pthread_sigmask(SIG_SETMASK, NULL, &now))
		uc->uc_sigmask = now;
	if (!sigaltstack(NULL, &ss)) {
		ss.ss_flags &= ~SS_ONSTACK;
		uc->uc_stack = ss;
	}
}

/*
 * Not at a safe point: l's timer sends the signal again in
 * preempt_retry_ns, when the coroutine may be back in its own code (Go's
 * preemption requests are retried the same way).  Meanwhile a scheduling
 * point picks by priority anyway.
 *
 * The retry must fire after this handler has returned.  Where a system
 * call takes longer than the delay (a TCG guest: timer_settime() alone
 * took more than 20 us), it fired inside timer_settime(), the handler
 * (SA_NODEFER) ran again there, not at a safe point, and armed the timer
 * again: a recursion that overflowed the coroutine's stack (bench_preempt
 * died in 8 of 10 runs in a guest).  Now a handler that finds the timer
 * being armed only says so, and the one arming it arms it again, each
 * time twice as far, until the signal comes after it is done.
 */
#define RETRY_NS	20000
#define RETRY_MAX_NS	10000000

long preempt_retry_ns = RETRY_NS;

static void preempt_retry(struct lwp *l)
{
	long ns = __atomic_load_n(&preempt_retry_ns, __ATOMIC_RELAXED);
	struct itimerspec it = { { 0, 0 }, { 0, 0 } };

	tls_yield_vp = NULL;	/* (the general path of the next yield) */
	if (!l->ptimer_ok)
		return;
	if (l->ptimer_arming) {
		l->ptimer_missed = true;	/* (a nested handler) */
		return;
	}
	l->ptimer_arming = true;
	do {
		l->ptimer_missed = false;
		it.it_value.tv_sec = ns / 1000000000;
		it.it_value.tv_nsec = ns % 1000000000;
		timer_settime(l->ptimer, 0, &it, NULL);
		ns = ns < RETRY_MAX_NS / 2 ? ns * 2 : RETRY_MAX_NS;
	} while (l->ptimer_missed);
	l->ptimer_arming = false;
}

static void preempt_entry(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	int saved = errno;
	struct lwp *l = lwp_current();
	struct coro *c;

	/* A request (prio.c) or l's retry; anything else is not ours. */
	if (!l || !((si->si_code == SI_TKILL && si->si_pid == getpid()) ||
		    (si->si_code == SI_TIMER && si->si_value.sival_ptr == l))) {
		sig_forward(sig, si, ucv);
		goto out;
	}
	c = l->current;
	if (!c || !l->vp || !vp_has_above(l->vp, coro_prio(c)))
		goto out;	/* nothing (left) to preempt it for */
	if (act_on(l->sched) &&
	    ACT_STATE(__atomic_load_n(&l->act_word, __ATOMIC_RELAXED)) != ACT_IN_CORO)
		goto out;	/* in the scheduler, which picks by priority */
	if (c->in_sig || !async_safe_point(uc)) {
		preempt_retry(l);
		goto out;
	}
	preempt_switch(l, c, uc);
out:
	lwp_set_errno(saved);	/* on the thread it returns on */
}

static void install(void)
{
	struct sigaction sa;
	struct phdr_walk w = { 0 };

	dl_iterate_phdr(phdr_cb, &w);
	/* (More than the executable and the vDSO: libc is not in it.) */
	async_ok = (uintptr_t)__stop_coro_text > (uintptr_t)__start_coro_text &&
		   n_exe_text && w.objects > 2;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_sigaction = preempt_entry;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_NODEFER;
	if (sigaction(CORO_PREEMPT_SIGNAL, &sa, NULL)) {
		install_err = errno;
		return;
	}
	__atomic_or_fetch(&sig_reserved, 1ULL << (CORO_PREEMPT_SIGNAL - 1),
			  __ATOMIC_ACQ_REL);
}

int coro_setprio(coro_t *c, int prio)
{
	struct lwp *l = lwp_current();
	struct coro *self = l ? l->current : NULL;
	struct coro_sched *s;
	struct vproc *vp;
	int old;

	if (!c)
		c = self;
	if (!c || prio < 0 || prio > CORO_PRIO_MAX)
		return EINVAL;
	s = c->sched;
	if (prio && !prio_on(s)) {
		pthread_once(&install_once, install);
		if (install_err)
			return install_err;
		prio_enable(s);
	}
	old = coro_prio(c);
	if (prio == old)
		return 0;
	if (c == self) {
		__atomic_store_n(&c->prio, (uint8_t)prio, __ATOMIC_RELAXED);
		prio_running(l, c);
		/* Lowered below a queued coroutine: it runs now. */
		if (prio < old && l->vp && vp_has_above(l->vp, prio))
			coro_yield();
		return 0;
	}
	/* Queued, it moves to its new priority's list; else it is read
	 * when it is next queued (a solo vproc's list is its owner's). */
	vp = __atomic_load_n(&c->home, __ATOMIC_RELAXED);
	if (vp && coro_get_state(c) == CORO_READY &&
	    (!vp_is_solo(vp) || !__atomic_load_n(&s->running, __ATOMIC_ACQUIRE) ||
	     (l && l->vp == vp && !act_on(s))))
		vp_reprio(vp, c, prio);
	else
		__atomic_store_n(&c->prio, (uint8_t)prio, __ATOMIC_RELAXED);
	return 0;
}

int coro_getprio(const coro_t *c)
{
	if (!c)
		c = coro_self();
	if (!c) {
		errno = EINVAL;
		return -1;
	}
	return coro_prio(c);
}
