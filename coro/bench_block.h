// SPDX-License-Identifier: GPL-2.0
/*
 * coro_bench --block-call read|wrapper|uring: how a coroutine makes block
 * mode's blocking read (SPEC section 5).  read: the plain read() of every
 * model, which only scheduler activations survive (the module's events or
 * the monitor); wrapper: coro_blocking_read(), which hands the worker to
 * a spare OS thread first; uring: coro_uring_read(), through the worker's
 * io_uring, no OS thread blocking.  Included by coro_bench.c.
 */
#ifndef CORO_BENCH_BLOCK_H
#define CORO_BENCH_BLOCK_H

#include "bench_opt.h"

enum blk_call { BLK_READ, BLK_WRAPPER, BLK_URING };

static const char *const blk_call_names[] = {
	[BLK_READ] = "read", [BLK_WRAPPER] = "wrapper", [BLK_URING] = "uring",
};

static enum blk_call blk_call = BLK_READ;

static void blk_parse(const char *v)
{
	unsigned int i;

	for (i = 0; i < sizeof(blk_call_names) / sizeof(*blk_call_names); i++) {
		if (!strcmp(v, blk_call_names[i])) {
			blk_call = (enum blk_call)i;
			return;
		}
	}
	kp_usage_error("--block-call", "unknown call '%s' (one of read, "
		       "wrapper, uring)", v);
}

static int blk_take_option(int argc, char **argv)
{
	return take_option(argc, argv, "--block-call", "read|wrapper|uring",
			   blk_parse);
}

/* The read of kp_blk_take() (kp_loop_hooks.h). */
static inline ssize_t blk_read(int fd, void *buf, size_t n)
{
	switch (blk_call) {
	case BLK_WRAPPER:
		return coro_blocking_read(fd, buf, n);
	case BLK_URING:
		return coro_uring_read(fd, buf, n);
	default:
		return read(fd, buf, n);
	}
}

#endif /* CORO_BENCH_BLOCK_H */
