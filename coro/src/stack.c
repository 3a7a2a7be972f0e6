// SPDX-License-Identifier: GPL-2.0
/*
 * Stacks: a pooled, protected fixed-size allocator (Boost.Context's
 * pooled_fixedsize_stack + protected_fixedsize_stack).
 *
 * Stacks are carved from mmap'd slabs, MAP_NORESERVE so that only pages
 * a coroutine touches cost memory.  Each slot is a guard page followed by
 * the stack, with the coroutine's control block at the top:
 *
 *	| guard | stack, growing down ...          | struct coro |
 *	slot    stack_lo                           c             slot end
 *
 * The guard page is PROT_NONE, which splits the mapping: two VMAs per
 * stack against vm.max_map_count (65530 by default).  Past the guard
 * budget (see default_max_guards()) or when mprotect() fails with ENOMEM
 * a canary word at stack_lo, checked at every switch, stands in for it;
 * slabs made after that are packed without guard pages (slab_new()).
 *
 * Exited coroutines come back here with their stack (death row) and are
 * handed out again for the same size; stacks are never unmapped.
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CLASSES 32
#define SLAB_BYTES_GUARDED	(2u << 20)
#define SLAB_BYTES_CANARY	(32u << 20)

struct stack_class {
	size_t size;
	struct coro *free;
};

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct stack_class classes[CLASSES];
static long max_guards = -1;		/* -1: not yet decided */
static uint64_t nguarded, ncanary;
static bool canary_said;

/*
 * Room for guard pages: what vm.max_map_count leaves after 4096 maps for
 * everything else (libraries, heap, thread stacks, unguarded slabs).
 */
static long default_max_guards(void)
{
	const char *env = getenv("CORO_MAX_GUARDS");
	long maps = 65530;
	FILE *f;

	if (env && *env)
		return strtol(env, NULL, 0);
	f = fopen("/proc/sys/vm/max_map_count", "r");
	if (f) {
		if (fscanf(f, "%ld", &maps) != 1)
			maps = 65530;
		fclose(f);
	}
	return maps > 8192 ? (maps - 4096) / 2 : maps / 4;
}

void coro_set_max_guards(long n)
{
	pthread_mutex_lock(&pool_lock);
	max_guards = n;
	pthread_mutex_unlock(&pool_lock);
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
		*size = (size_t)((const char *)c - c->stack_lo);
	if (guarded)
		*guarded = c->guard != NULL;
}

static size_t page_size(void)
{
	static size_t page;

	if (!page)
		page = (size_t)sysconf(_SC_PAGESIZE);
	return page;
}

static size_t ctl_size(void)
{
	return (sizeof(struct coro) + CACHELINE - 1) & ~(size_t)(CACHELINE - 1);
}

static void slot_canary(struct coro *c);

/* Protect one guard page, or fall back to the canary.  pool_lock held. */
static void slot_protect(struct coro *c, char *guard)
{
	if ((long)nguarded < max_guards) {
		if (!mprotect(guard, page_size(), PROT_NONE)) {
			c->guard = guard;
			c->canary = NULL;
			nguarded++;
			return;
		}
		if (errno == ENOMEM)
			max_guards = (long)nguarded;
	}
	slot_canary(c);
}

/* A canary word at the stack's end instead of a guard page. */
static void slot_canary(struct coro *c)
{
	if (!canary_said) {
		canary_said = true;
		fprintf(stderr, "coro: no more guard pages after %llu stacks "
			"(vm.max_map_count, CORO_MAX_GUARDS); further stacks "
			"get a canary word checked at every switch\n",
			(unsigned long long)nguarded);
	}
	c->guard = NULL;
	c->canary = (uint64_t *)c->stack_lo;
	*c->canary = CORO_CANARY;
	ncanary++;
}

/* Map n slots of slot bytes each, lazily committed. */
static char *slab_map(size_t n, size_t slot)
{
	char *mem = mmap(NULL, n * slot, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
			 MAP_STACK, -1, 0);

	return mem == MAP_FAILED ? NULL : mem;
}

/* Pool every slot but the first, which is returned. */
static struct coro *slab_fill(struct stack_class *k, char *mem, size_t n,
			      size_t slot, size_t gap)
{
	struct coro *first = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		char *base = mem + i * slot;
		struct coro *c = (struct coro *)(base + slot - ctl_size());

		c->stack_lo = base + gap;
		c->stack_size = k->size;
		if (gap)
			slot_protect(c, base);
		else
			slot_canary(c);
		c->vg_id = tool_stack_register(c->stack_lo, c);
		if (!first) {
			first = c;
		} else {
			c->next = k->free;
			k->free = c;
		}
	}
	return first;
}

/*
 * Map a slab of stacks of one size; return one, pool the others.  While
 * guard pages last, slots are page-aligned with a guard page each.  After
 * that they are packed (64-byte aligned, no gap), so that a stack's
 * canary shares a page with its neighbour's control block and an idle
 * coroutine still costs about one resident page.
 */
static struct coro *slab_new(struct stack_class *k)
{
	size_t page = page_size(), slot, n;
	char *mem;

	if (max_guards < 0)
		max_guards = default_max_guards();
	if ((long)nguarded < max_guards) {
		slot = page + ((k->size + ctl_size() + page - 1) & ~(page - 1));
		n = SLAB_BYTES_GUARDED / slot;
		n = n < 1 ? 1 : n > 1024 ? 1024 : n;
		mem = slab_map(n, slot);
		return mem ? slab_fill(k, mem, n, slot, page) : NULL;
	}
	slot = (k->size + ctl_size() + CACHELINE - 1) & ~(size_t)(CACHELINE - 1);
	n = SLAB_BYTES_CANARY / slot;
	n = n < 1 ? 1 : n > 4096 ? 4096 : n;
	mem = slab_map(n, slot);
	return mem ? slab_fill(k, mem, n, slot, 0) : NULL;
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
	struct coro *c = NULL;

	pthread_mutex_lock(&pool_lock);
	k = class_of(stack_size);
	if (!k) {
		pthread_mutex_unlock(&pool_lock);
		errno = ENOMEM;
		return NULL;
	}
	c = k->free;
	*reused = c != NULL;
	if (c)
		k->free = c->next;
	else
		c = slab_new(k);
	pthread_mutex_unlock(&pool_lock);
	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	return c;
}

void stack_put(struct coro *c)
{
	struct stack_class *k;

	pthread_mutex_lock(&pool_lock);
	k = class_of(c->stack_size);
	c->next = k->free;
	k->free = c;
	pthread_mutex_unlock(&pool_lock);
}
