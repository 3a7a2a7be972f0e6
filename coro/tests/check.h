// SPDX-License-Identifier: GPL-2.0
/*
 * The tests' one helper: CHECK(cond) prints the failed condition with its
 * place and exits 1; the tests print "ok <name>" lines as they go.
 */
#ifndef CORO_CHECK_H
#define CORO_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <time.h>

#include "rss.h"
#include <unistd.h>

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n",		\
			__FILE__, __LINE__, #cond);			\
		exit(1);						\
	}								\
} while (0)

#define CHECK_EQ(a, b) do {						\
	unsigned long long a_ = (unsigned long long)(a);		\
	unsigned long long b_ = (unsigned long long)(b);		\
	if (a_ != b_) {							\
		fprintf(stderr, "%s:%d: check failed: %s == %s "	\
			"(%llu != %llu)\n", __FILE__, __LINE__,		\
			#a, #b, a_, b_);				\
		exit(1);						\
	}								\
} while (0)

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Workers for a run: argv[1] if given, else def. */
static inline unsigned int arg_workers(int argc, char **argv, unsigned int def)
{
	return argc > 1 ? (unsigned int)strtoul(argv[1], NULL, 0) : def;
}

#endif /* CORO_CHECK_H */
