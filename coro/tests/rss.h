/* SPDX-License-Identifier: GPL-2.0 */
/* Resident bytes of this process, for the tests and the benchmark. */
#ifndef CORO_RSS_H
#define CORO_RSS_H

#include <stdio.h>
#include <unistd.h>

/* From /proc/self/statm; 0 when it cannot be read. */
static inline long rss_bytes(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * sysconf(_SC_PAGESIZE);
}

#endif /* CORO_RSS_H */
