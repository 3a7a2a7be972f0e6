// SPDX-License-Identifier: GPL-2.0
/*
 * coro_bench's own options that take words, not numbers (kp_opts.c takes
 * numbers only): taken out of argv before the common parser sees it,
 * "--opt VALUE" or "--opt=VALUE".  Included by coro_bench.c.
 */
#ifndef CORO_BENCH_OPT_H
#define CORO_BENCH_OPT_H

#include <string.h>

/* Take opt out of argv, giving its value to parse(); the new argc. */
static int take_option(int argc, char **argv, const char *opt,
		       const char *metavar, void (*parse)(const char *))
{
	size_t len = strlen(opt);
	int i, j = 1;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], opt)) {
			if (i + 1 == argc)
				kp_usage_error(opt, "needs %s", metavar);
			parse(argv[++i]);
		} else if (!strncmp(argv[i], opt, len) && argv[i][len] == '=') {
			parse(argv[i] + len + 1);
		} else {
			argv[j++] = argv[i];
		}
	}
	argv[j] = NULL;
	return j;
}

#endif /* CORO_BENCH_OPT_H */
