// SPDX-License-Identifier: GPL-2.0
/*
 * A test-and-test-and-set lock for the library's short critical sections
 * (run queues, wait queues, the timer heap).  It gives the CPU away after
 * a while, since with more OS threads than CPUs the holder may be
 * preempted.
 */
#ifndef CORO_SPINLOCK_H
#define CORO_SPINLOCK_H

#include <sched.h>

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

static inline int spin_trylock(int *l)
{
	return !__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE);
}

static inline void spin_lock(int *l)
{
	unsigned int n = 0;

	while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(l, __ATOMIC_RELAXED)) {
			if (++n < 1000)
				cpu_relax();
			else
				sched_yield();
		}
	}
}

static inline void spin_unlock(int *l)
{
	__atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

#endif /* CORO_SPINLOCK_H */
