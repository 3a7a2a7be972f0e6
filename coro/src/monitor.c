// SPDX-License-Identifier: GPL-2.0
/*
 * Scheduler activations without the module: a monitor thread in the style
 * of Go's sysmon.  Every period it reads each lwp's act_word; an lwp seen
 * in the same stint of coroutine code (the same word, ACT_IN_CORO) at two
 * polls in a row, whose /proc/self/task/TID/stat state is then S or D
 * (asleep in the kernel), has its vproc taken (act_claim(), the same
 * compare-and-swap as the module's listener, then act_give()); unless its
 * state, read again after the claim, is no longer S or D: it woke
 * meanwhile, and the claim is given back (act_unclaim(), a stale take
 * avoided).  So the delay D from a worker blocking to its hand-off is
 * one to two periods.  The period is MON_MIN_NS, doubled after
 * MON_IDLE_POLLS polls without a take up to MON_MAX_NS (sysmon's 20 us to
 * 10 ms), and back to MON_MIN_NS after a take.  The monitor's timer
 * slack is 1 us (not the default 50 us).
 */
#include "monitor.h"
#include "act_take.h"

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MON_MIN_NS	20000ULL
#define MON_MAX_NS	10000000ULL
#define MON_IDLE_POLLS	50
#define MON_BATCH	64

/* Is thread tid of this process asleep in the kernel? */
static bool thread_sleeping(pid_t tid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	p = strrchr(buf, ')');	/* the name may hold anything */
	return p && p[1] == ' ' && (p[2] == 'S' || p[2] == 'D');
}

/* Read /proc/self/task/TID/NAME into buf (NUL-terminated); false if not. */
static bool read_task_file(pid_t tid, const char *name, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/%s", (int)tid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	return true;
}

/* The number after `key` in /proc status text, or -1. */
static long long status_field(const char *text, const char *key)
{
	const char *p = strstr(text, key);

	return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

/*
 * Is thread tid of this process off its CPU now: preempted (waiting on a
 * run queue), or asleep?  /proc has no state for it (R is running and
 * runnable alike), but the kernel counts the thread's switches out
 * (voluntary_ctxt_switches + nonvoluntary_ctxt_switches in status) and
 * its arrivals on a CPU (schedstat's third field, CONFIG_SCHED_INFO): a
 * running thread has arrived once more than it has left.  status is read
 * first: arrivals equal to the switches out read before them mean the
 * thread was off its CPU when schedstat was read.  False when it cannot
 * tell (no schedstat).  Costs two open()s and read()s.
 */
bool proc_off_cpu(pid_t tid)
{
	char st[4096], ss[128];
	long long vol, invol;
	unsigned long long run, wait, arrivals;

	if (!read_task_file(tid, "status", st, sizeof(st)) ||
	    !read_task_file(tid, "schedstat", ss, sizeof(ss)))
		return false;
	vol = status_field(st, "\nvoluntary_ctxt_switches:");
	invol = status_field(st, "\nnonvoluntary_ctxt_switches:");
	if (vol < 0 || invol < 0 ||
	    sscanf(ss, "%llu %llu %llu", &run, &wait, &arrivals) != 3 ||
	    !arrivals)
		return false;
	return arrivals == (unsigned long long)(vol + invol);
}

static void consider(struct lwp *l, bool now, struct lwp **cand,
		     uint64_t *word, unsigned int *n)
{
	uint64_t w = __atomic_load_n(&l->act_word, __ATOMIC_ACQUIRE);

	if (ACT_STATE(w) == ACT_IN_CORO && (now || w == l->mon_seen) &&
	    *n < MON_BATCH) {
		cand[*n] = l;
		word[(*n)++] = w;
	}
	l->mon_seen = w;
}

/*
 * One poll.  now: take every lwp asleep in coroutine code at once (the
 * listener, after the module dropped events).  Returns the takes.
 */
unsigned int monitor_scan(struct coro_sched *s, bool now)
{
	struct lwp *cand[MON_BATCH], *l;
	uint64_t word[MON_BATCH];
	unsigned int n = 0, i, took = 0;

	pthread_mutex_lock(&s->lwp_mtx);
	if (s->main_lwp)
		consider(s->main_lwp, now, cand, word, &n);
	for (l = s->all_lwps; l; l = l->next_all)
		consider(l, now, cand, word, &n);
	pthread_mutex_unlock(&s->lwp_mtx);
	for (i = 0; i < n; i++) {
		l = cand[i];
		if (!thread_sleeping(l->tid) || !act_claim(l, word[i]))
			continue;
		if (!thread_sleeping(l->tid) && act_unclaim(l, word[i]))
			__atomic_add_fetch(&s->act_stale, 1, __ATOMIC_RELAXED);
		else if (act_give(s, l, word[i]))
			took++;
	}
	return took;
}

void *monitor_main(void *arg)
{
	struct coro_sched *s = arg;
	struct pollfd pfd = { .fd = s->act_stop_fd, .events = POLLIN };
	uint64_t period = MON_MIN_NS;
	unsigned int idle = 0;
	struct timespec ts;

	/* The default 50 us of timer slack would dwarf a 20 us period. */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	for (;;) {
		ts.tv_sec = (time_t)(period / 1000000000u);
		ts.tv_nsec = (long)(period % 1000000000u);
		if (ppoll(&pfd, 1, &ts, NULL) > 0)
			break;
		if (monitor_scan(s, false)) {
			period = MON_MIN_NS;
			idle = 0;
		} else if (++idle > MON_IDLE_POLLS && period < MON_MAX_NS) {
			period = 2 * period < MON_MAX_NS ? 2 * period
							 : MON_MAX_NS;
			idle = 0;
		}
	}
	return NULL;
}
