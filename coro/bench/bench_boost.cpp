// SPDX-License-Identifier: GPL-2.0
/*
 * Boost.Context's fcontext on the round-robin loop of bench_coro.c: two
 * contexts hand control back and forth; prints ns per switch.
 * Usage: bench_boost [ITERATIONS]
 */
#include <boost/context/detail/fcontext.hpp>

#include <cstdio>
#include <cstdlib>
#include <ctime>

using boost::context::detail::fcontext_t;
using boost::context::detail::jump_fcontext;
using boost::context::detail::make_fcontext;
using boost::context::detail::transfer_t;

static long iterations;

static void partner(transfer_t t)
{
	for (;;)
		t = jump_fcontext(t.fctx, nullptr);
}

static double now_ns()
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	static char stack[64 * 1024] __attribute__((aligned(16)));
	fcontext_t ctx;
	double t0, best = 1e30;
	int round;

	iterations = argc > 1 ? std::atol(argv[1]) : 10000000;
	ctx = make_fcontext(stack + sizeof(stack), sizeof(stack), partner);
	for (round = 0; round < 5; round++) {
		t0 = now_ns();
		for (long i = 0; i < iterations; i++)
			ctx = jump_fcontext(ctx, nullptr).fctx;
		double ns = (now_ns() - t0) / (2.0 * iterations);
		if (ns < best)
			best = ns;
	}
	std::printf("boost_fcontext_switch_ns %.2f\n", best);
	return 0;
}
