/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kthread_perf: what the shared workload headers need in user space, in
 * the kernel's spelling, so that kp_defs.h and kp_loop.h compile unchanged.
 */
#ifndef KP_KERNEL_COMPAT_H
#define KP_KERNEL_COMPAT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

typedef uint64_t u64;
typedef uint32_t u32;

#ifndef __always_inline
#define __always_inline inline __attribute__((__always_inline__))
#endif

/* Single, untorn accesses the compiler may neither fold nor repeat. */
#define READ_ONCE(x)	 (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

/*
 * The sequence count of struct kp_stats (kp_defs.h), in C11 atomics
 * without fences (ThreadSanitizer does not model them): the writer makes
 * the count odd, stores the data with release order (KP_STAT_STORE, so
 * that the odd count is visible before any of it) and makes the count even
 * with release order; the reader loads the count and the data with acquire
 * order and retries while the count was odd or has moved.
 */
#define KP_SEQ_T u32

#define KP_STAT_STORE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELEASE)
#define KP_STAT_LOAD(x)		__atomic_load_n(&(x), __ATOMIC_ACQUIRE)

static inline void kp_seq_write_begin(KP_SEQ_T *s)
{
	__atomic_store_n(s, *s + 1, __ATOMIC_RELAXED);
}

static inline void kp_seq_write_end(KP_SEQ_T *s)
{
	__atomic_store_n(s, *s + 1, __ATOMIC_RELEASE);
}

static inline unsigned int kp_seq_read_begin(const KP_SEQ_T *s)
{
	KP_SEQ_T v;

	while ((v = __atomic_load_n(s, __ATOMIC_ACQUIRE)) & 1)
		;
	return v;
}

static inline bool kp_seq_read_retry(const KP_SEQ_T *s, unsigned int start)
{
	return __atomic_load_n(s, __ATOMIC_RELAXED) != start;
}

#endif /* KP_KERNEL_COMPAT_H */
