// SPDX-License-Identifier: GPL-2.0
/*
 * Stack overflow is reported, not silent.  A SIGSEGV handler, on an
 * alternate signal stack of each OS thread (the faulting stack is
 * unusable), checks whether the fault address lies in the guard page of
 * the coroutine running on this thread; if so it names the coroutine on
 * stderr and aborts.  Any other fault goes to the handler that was there
 * before, or takes the default action.  A canary found overwritten at a
 * switch is reported the same way.
 */
#include "internal.h"

#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static struct sigaction old_segv;
static pthread_once_t segv_once = PTHREAD_ONCE_INIT;

/* One line naming c, written without stdio buffers. */
static void report(struct coro *c, const char *what, const void *addr)
{
	char buf[512];
	const char *sym = NULL;
	Dl_info di;
	int n;

	if (dladdr((void *)(uintptr_t)c->fn, &di) && di.dli_sname)
		sym = di.dli_sname;
	n = snprintf(buf, sizeof(buf),
		     "coro: stack overflow in coroutine %llu (entry %p%s%s%s): "
		     "%s at %p; stack %p-%p, %zu bytes\n",
		     (unsigned long long)c->id, (void *)(uintptr_t)c->fn,
		     sym ? " <" : "", sym ? sym : "", sym ? ">" : "",
		     what, addr, (void *)c->stack_lo, (void *)c,
		     c->stack_size);
	if (n > 0)
		(void)!write(STDERR_FILENO, buf,
			     (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

void overflow_canary_report(struct coro *c)
{
	report(c, "canary overwritten (stack without guard page)", c->canary);
	abort();
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	struct lwp *l = lwp_current();
	struct coro *c = l ? l->current : NULL;
	char *a = si->si_addr;

	if (c && c->guard && a >= c->guard && a < c->stack_lo) {
		report(c, "guard page hit", a);
		abort();
	}
	if (c && c->canary && *c->canary != CORO_CANARY) {
		report(c, "canary overwritten (stack without guard page)", a);
		abort();
	}
	if (old_segv.sa_flags & SA_SIGINFO) {
		old_segv.sa_sigaction(sig, si, uc);
		return;
	}
	if (old_segv.sa_handler != SIG_DFL && old_segv.sa_handler != SIG_IGN) {
		old_segv.sa_handler(sig);
		return;
	}
	/* Returning re-executes the access, which now kills as usual. */
	signal(SIGSEGV, SIG_DFL);
}

static void install_handler(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &old_segv);
}

void overflow_init(void)
{
	pthread_once(&segv_once, install_handler);
}

/* Give the calling thread an alternate signal stack unless it has one. */
int overflow_altstack_on(struct lwp *l)
{
	stack_t ss, old;
	size_t size = 64 * 1024;

	if (sigaltstack(NULL, &old) || !(old.ss_flags & SS_DISABLE))
		return 0;
	ss.ss_sp = mmap(NULL, size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ss.ss_sp == MAP_FAILED)
		return -1;
	ss.ss_size = size;
	ss.ss_flags = 0;
	if (sigaltstack(&ss, NULL)) {
		munmap(ss.ss_sp, size);
		return -1;
	}
	l->altstack = ss.ss_sp;
	l->altstack_size = size;
	return 0;
}

void overflow_altstack_off(struct lwp *l)
{
	stack_t ss;

	if (!l->altstack)
		return;
	memset(&ss, 0, sizeof(ss));
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
	munmap(l->altstack, l->altstack_size);
	l->altstack = NULL;
}
