// SPDX-License-Identifier: GPL-2.0
/* The scheduler's clock: CLOCK_MONOTONIC in ns (timer deadlines, idling). */
#ifndef CORO_CLOCK_H
#define CORO_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif /* CORO_CLOCK_H */
