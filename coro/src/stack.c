// SPDX-License-Identifier: GPL-2.0
/*
 * Stacks: a pooled, protected fixed-size allocator (Boost.Context's
 * pooled_fixedsize_stack + protected_fixedsize_stack).
 *
 * Stacks are carved from mmap'd slabs, MAP_NORESERVE so that only pages
 * a coroutine touches cost memory.  Every stack has a gap of GAP_PAGES
 * pages below it, and the slab's control blocks sit above its last
 * stack, never below one:
 *
 *	| gap | stack 0 | gap | stack 1 | ... | gap | stack n-1 | ctl[n] |
 *
 * so that a stack running over its end reaches its own gap, never
 * another coroutine's control block or saved registers.  The gap is, in
 * order of preference:
 *
 *   madvise   MADV_GUARD_INSTALL (Linux >= 6.13): a guard that costs no
 *             VMA, so every stack is guarded at any count;
 *   mprotect  PROT_NONE, which splits the mapping (two VMAs a stack
 *             against vm.max_map_count), while the budget lasts;
 *   canary    the gap filled with CORO_CANARY, checked whole at every
 *             switch out and in the SIGSEGV handler (one more resident
 *             page or two per stack; overruns deeper than the gap are
 *             not caught).
 *
 * The library is built with -fstack-clash-protection, so a frame larger
 * than a page probes every page and hits the guard before its bottom.
 *
 * Exited coroutines come back here with their stack (death row) and are
 * handed out again for the same size.  A slab whose stacks are all free
 * is unmapped once more than pool_cap stacks of its size are free.
 */
#include "stack.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

#define CLASSES 32
#define GAP_PAGES 2
#define SLAB_BYTES (4u << 20)
#define SLAB_MAX 1024
#define POOL_CAP_DEFAULT 4096

enum guard_mode { MODE_UNKNOWN, MODE_MADVISE, MODE_MPROTECT, MODE_CANARY };

struct slab {
	char *mem;
	size_t bytes;
	struct stack_class *k;
	struct coro *free;		/* free slots of this slab */
	unsigned int n, nfree;
	unsigned int nguard;		/* slots with a guard gap */
	struct slab *partial_prev, *partial_next; /* the class's slabs with free slots */
	struct slab *all_prev, *all_next;	/* every slab */
} __attribute__((aligned(CACHELINE)));	/* the control blocks follow */

struct stack_class {
	size_t size;			/* usable bytes asked for */
	struct slab *partial;		/* slabs with a free slot */
	size_t nfree;			/* free slots over all its slabs */
};

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct stack_class classes[CLASSES];
static enum guard_mode mode;
static long max_guards = -1;		/* -1: not yet decided */
static long live_guards;		/* guard gaps mapped now */
static size_t pool_cap = POOL_CAP_DEFAULT;
static uint64_t nguarded, ncanary;	/* stacks made, ever */
static struct slab *all_slabs;
static bool canary_said;

static const char *const mode_names[] = {
	[MODE_UNKNOWN] = "none", [MODE_MADVISE] = "madvise",
	[MODE_MPROTECT] = "mprotect", [MODE_CANARY] = "canary",
};

static size_t page_size(void)
{
	static size_t page;

	if (!page)
		page = (size_t)sysconf(_SC_PAGESIZE);
	return page;
}

static size_t gap_bytes(void)
{
	return GAP_PAGES * page_size();
}

/*
 * Room for mprotect guards: what vm.max_map_count leaves after 4096 maps
 * for everything else.  CORO_MAX_GUARDS caps guards in every mode.
 */
static long default_max_guards(void)
{
	const char *env = getenv("CORO_MAX_GUARDS");
	long maps = 65530;
	FILE *f;

	if (env && *env)
		return strtol(env, NULL, 0);
	if (mode == MODE_MADVISE)
		return LONG_MAX;
	f = fopen("/proc/sys/vm/max_map_count", "r");
	if (f) {
		if (fscanf(f, "%ld", &maps) != 1)
			maps = 65530;
		fclose(f);
	}
	return maps > 8192 ? (maps - 4096) / 2 : maps / 4;
}

/*
 * The best guard this kernel has, tried on a scratch mapping; CORO_GUARD
 * (madvise, mprotect, canary) forces one.  pool_lock held.
 */
static void mode_decide(void)
{
	const char *env = getenv("CORO_GUARD");
	size_t page = page_size();
	char *p;

	if (env && !strcmp(env, "canary"))
		mode = MODE_CANARY;
	else if (env && !strcmp(env, "mprotect"))
		mode = MODE_MPROTECT;
	if (mode == MODE_UNKNOWN) {
		mode = MODE_MPROTECT;
		p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		/* An advice no kernel knows must fail: qemu-user, for one,
		 * accepts and ignores every madvise(). */
		if (p != MAP_FAILED) {
			if (madvise(p, page, 0x7fff) &&
			    !madvise(p, page, MADV_GUARD_INSTALL))
				mode = MODE_MADVISE;
			munmap(p, 2 * page);
		}
	}
	if (max_guards < 0)
		max_guards = mode == MODE_CANARY ? 0 : default_max_guards();
}

void coro_set_max_guards(long n)
{
	pthread_mutex_lock(&pool_lock);
	max_guards = n;
	pthread_mutex_unlock(&pool_lock);
}

void coro_set_pool_cap(size_t n)
{
	pthread_mutex_lock(&pool_lock);
	pool_cap = n;
	pthread_mutex_unlock(&pool_lock);
}

const char *coro_stack_mode(void)
{
	const char *s;

	pthread_mutex_lock(&pool_lock);
	if (mode == MODE_UNKNOWN)
		mode_decide();
	s = mode_names[live_guards < max_guards || !ncanary ?
		       mode : MODE_CANARY];
	pthread_mutex_unlock(&pool_lock);
	return s;
}

void coro_stack_counts(uint64_t *guarded, uint64_t *canary)
{
	pthread_mutex_lock(&pool_lock);
	if (guarded)
		*guarded = nguarded;
	if (canary)
		*canary = ncanary;
	pthread_mutex_unlock(&pool_lock);
}

void coro_stack_info(const coro_t *c, void **lo, size_t *size, int *guarded)
{
	if (lo)
		*lo = c->stack_lo;
	if (size)
		*size = (size_t)(c->stack_hi - c->stack_lo);
	if (guarded)
		*guarded = c->guard != NULL;
}

/* Resident bytes of every slab (stacks, gaps, control blocks): mincore. */
size_t coro_stack_resident(void)
{
	size_t page = page_size(), total = 0, cap = 0, i, n;
	unsigned char *vec = NULL, *v;
	struct slab *sl;

	pthread_mutex_lock(&pool_lock);
	for (sl = all_slabs; sl; sl = sl->all_next) {
		n = sl->bytes / page;
		if (n > cap) {
			v = realloc(vec, n);
			if (!v)
				break;
			vec = v;
			cap = n;
		}
		if (mincore(sl->mem, sl->bytes, vec))
			continue;
		for (i = 0; i < n; i++)
			total += (vec[i] & 1) * page;
	}
	pthread_mutex_unlock(&pool_lock);
	free(vec);
	return total;
}

/* The whole gap below c's stack still holds the pattern. */
bool stack_canary_intact(const struct coro *c)
{
	const uint64_t *w = c->canary;
	size_t i, n = gap_bytes() / sizeof(*w);
	uint64_t diff = 0;

	for (i = 0; i < n; i++)
		diff |= w[i] ^ CORO_CANARY;
	return !diff;
}

static void gap_canary(struct coro *c, char *gap)
{
	uint64_t *w = (uint64_t *)gap;
	size_t i, n = gap_bytes() / sizeof(*w);

	if (!canary_said && mode != MODE_CANARY) {
		canary_said = true;
		fprintf(stderr, "coro: no more guard pages after %llu stacks "
			"(vm.max_map_count, CORO_MAX_GUARDS); further stacks "
			"get a canary gap checked at every switch\n",
			(unsigned long long)nguarded);
	}
	for (i = 0; i < n; i++)
		w[i] = CORO_CANARY;
	c->guard = NULL;
	c->canary = w;
	ncanary++;
}

/* Make the gap below one stack a guard, or fill it with the canary. */
static void gap_protect(struct slab *sl, struct coro *c, char *gap)
{
	if (live_guards < max_guards) {
		if (mode == MODE_MADVISE &&
		    !madvise(gap, gap_bytes(), MADV_GUARD_INSTALL))
			goto guarded;
		if (mode == MODE_MPROTECT &&
		    !mprotect(gap, gap_bytes(), PROT_NONE))
			goto guarded;
		if (errno == ENOMEM)
			max_guards = live_guards;
	}
	gap_canary(c, gap);
	return;
guarded:
	c->guard = gap;
	c->canary = NULL;
	sl->nguard++;
	live_guards++;
	nguarded++;
}

/*
 * Map a slab of stacks of one size: n slots of gap + stack, the control
 * blocks above the last.  Free slots are handed out lowest first.
 */
static struct slab *slab_new(struct stack_class *k)
{
	size_t page = page_size();
	size_t stack = (k->size + page - 1) & ~(page - 1);
	size_t slot = gap_bytes() + stack, n, ctl, i;
	struct slab *sl;
	char *mem;

	n = SLAB_BYTES / slot;
	n = n < 1 ? 1 : n > SLAB_MAX ? SLAB_MAX : n;
	ctl = (sizeof(*sl) + n * sizeof(struct coro) + page - 1) & ~(page - 1);
	mem = mmap(NULL, n * slot + ctl, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK,
		   -1, 0);
	if (mem == MAP_FAILED)
		return NULL;
	sl = (struct slab *)(mem + n * slot);
	sl->mem = mem;
	sl->bytes = n * slot + ctl;
	sl->k = k;
	sl->n = sl->nfree = (unsigned int)n;
	for (i = n; i-- > 0;) {
		struct coro *c = (struct coro *)(sl + 1) + i;
		char *gap = mem + i * slot;

		c->slab = sl;
		c->stack_lo = gap + gap_bytes();
		c->stack_hi = c->stack_lo + stack;
		c->stack_size = k->size;
		gap_protect(sl, c, gap);
		c->vg_id = tool_stack_register(c->stack_lo, c->stack_hi);
		c->next = sl->free;
		sl->free = c;
	}
	k->nfree += n;
	sl->all_prev = NULL;
	sl->all_next = all_slabs;
	if (all_slabs)
		all_slabs->all_prev = sl;
	all_slabs = sl;
	return sl;
}

/*
 * Unmap a slab whose slots are all free, and tell Valgrind its stacks
 * are gone (the addresses may be mapped again, as a stack or as heap).
 * pool_lock held.
 */
static void slab_free(struct slab *sl)
{
	struct stack_class *k = sl->k;
	struct coro *ctl = (struct coro *)(sl + 1);
	unsigned int i;

	for (i = 0; i < sl->n; i++)
		tool_stack_deregister(ctl[i].vg_id);

	if (sl->partial_prev)
		sl->partial_prev->partial_next = sl->partial_next;
	else
		k->partial = sl->partial_next;
	if (sl->partial_next)
		sl->partial_next->partial_prev = sl->partial_prev;
	if (sl->all_prev)
		sl->all_prev->all_next = sl->all_next;
	else
		all_slabs = sl->all_next;
	if (sl->all_next)
		sl->all_next->all_prev = sl->all_prev;
	k->nfree -= sl->n;
	live_guards -= sl->nguard;	/* their VMAs are gone too */
	munmap(sl->mem, sl->bytes);
}

static struct stack_class *class_of(size_t size)
{
	int i;

	for (i = 0; i < CLASSES; i++) {
		if (classes[i].size == size)
			return &classes[i];
		if (!classes[i].size) {
			classes[i].size = size;
			return &classes[i];
		}
	}
	return NULL;
}

struct coro *stack_get(size_t stack_size, bool *reused)
{
	struct stack_class *k;
	struct slab *sl;
	struct coro *c = NULL;

	pthread_mutex_lock(&pool_lock);
	if (mode == MODE_UNKNOWN)
		mode_decide();
	k = class_of(stack_size);
	sl = k ? k->partial : NULL;
	if (k && !sl) {
		sl = slab_new(k);
		if (sl) {
			sl->partial_next = NULL;
			sl->partial_prev = NULL;
			k->partial = sl;
		}
	}
	if (sl) {
		c = sl->free;
		sl->free = c->next;
		sl->nfree--;
		k->nfree--;
		if (!sl->nfree) {
			k->partial = sl->partial_next;
			if (sl->partial_next)
				sl->partial_next->partial_prev = NULL;
		}
	}
	pthread_mutex_unlock(&pool_lock);
	if (!c)
		errno = ENOMEM;
	else
		*reused = c->id != 0;	/* ids start at 1; fresh slots are 0 */
	return c;
}

void stack_put(struct coro *c)
{
	struct slab *sl = c->slab;
	struct stack_class *k = sl->k;

	pthread_mutex_lock(&pool_lock);
	c->next = sl->free;
	sl->free = c;
	k->nfree++;
	if (!sl->nfree++) {
		sl->partial_prev = NULL;
		sl->partial_next = k->partial;
		if (k->partial)
			k->partial->partial_prev = sl;
		k->partial = sl;
	}
	if (sl->nfree == sl->n && k->nfree > pool_cap)
		slab_free(sl);
	pthread_mutex_unlock(&pool_lock);
}
