/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kthread_perf: what the shared workload headers need in user space, in
 * the kernel's spelling, so that kp_defs.h and kp_loop.h compile unchanged.
 */
#ifndef KP_KERNEL_COMPAT_H
#define KP_KERNEL_COMPAT_H

#include <stdbool.h>
#include <stdint.h>

typedef uint64_t u64;
typedef uint32_t u32;

#ifndef __always_inline
#define __always_inline inline __attribute__((__always_inline__))
#endif

/* Single, untorn accesses the compiler may neither fold nor repeat. */
#define READ_ONCE(x)	 (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

#endif /* KP_KERNEL_COMPAT_H */
