// SPDX-License-Identifier: GPL-2.0
/*
 * Stack overflow is reported, not silent.  A SIGSEGV handler, on an
 * alternate signal stack of each OS thread (the faulting stack is
 * unusable), checks whether the fault address lies in the guard page of
 * the coroutine running on this thread; if so it names the coroutine on
 * stderr and aborts.  Any other fault goes to the handler that was there
 * before, or takes the default action.  A canary found overwritten at a
 * switch is reported the same way.  The report is async-signal-safe: the
 * entry symbol was looked up at coro_create() and the line is formatted
 * by hand and written with write(2).
 */
#include "overflow.h"
#include "current.h"

#include <dlfcn.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static struct sigaction old_segv;
static pthread_once_t segv_once = PTHREAD_ONCE_INIT;

/*
 * Entry symbols, looked up (dladdr) when a coroutine is created, never in
 * the signal handler: a small cache from function to name, the last hit
 * per thread first.
 */
#define NAMES 64
static struct { void *(*fn)(void *); const char *name; } names[NAMES];
static pthread_mutex_t names_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread void *(*last_fn)(void *);
static __thread const char *last_name;

const char *overflow_entry_name(void *(*fn)(void *))
{
	unsigned int h = (unsigned int)(((uintptr_t)fn >> 4) % NAMES);
	const char *name = NULL;
	Dl_info di;

	if (fn == last_fn)
		return last_name;
	pthread_mutex_lock(&names_lock);
	if (names[h].fn == fn) {
		name = names[h].name;
	} else {
		if (dladdr((void *)(uintptr_t)fn, &di) && di.dli_sname)
			name = di.dli_sname;
		names[h].fn = fn;
		names[h].name = name;
	}
	pthread_mutex_unlock(&names_lock);
	last_fn = fn;
	last_name = name;
	return name;
}

/* Async-signal-safe formatting: append s, a decimal, a hex number. */
struct line {
	char buf[512];
	size_t n;
};

static void put_s(struct line *b, const char *s)
{
	while (s && *s && b->n < sizeof(b->buf))
		b->buf[b->n++] = *s++;
}

static void put_u(struct line *b, uint64_t v, unsigned int base)
{
	char d[24];
	int i = 0;

	if (base == 16)
		put_s(b, "0x");
	do {
		d[i++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (i > 0 && b->n < sizeof(b->buf))
		b->buf[b->n++] = d[--i];
}

/* One line naming c, written with write(2) alone. */
static void report(struct coro *c, const char *what, const void *addr)
{
	struct line b = { .n = 0 };

	put_s(&b, "coro: stack overflow in coroutine ");
	put_u(&b, c->id, 10);
	put_s(&b, " (entry ");
	put_u(&b, (uintptr_t)c->fn, 16);
	if (c->entry_name) {
		put_s(&b, " <");
		put_s(&b, c->entry_name);
		put_s(&b, ">");
	}
	put_s(&b, "): ");
	put_s(&b, what);
	put_s(&b, " at ");
	put_u(&b, (uintptr_t)addr, 16);
	put_s(&b, "; stack ");
	put_u(&b, (uintptr_t)c->stack_lo, 16);
	put_s(&b, "-");
	put_u(&b, (uintptr_t)c->stack_hi, 16);
	put_s(&b, ", ");
	put_u(&b, c->stack_size, 10);
	put_s(&b, " bytes\n");
	(void)!write(STDERR_FILENO, b.buf, b.n);
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
	if (c && c->canary && !stack_canary_intact(c)) {
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
