// SPDX-License-Identifier: GPL-2.0
/*
 * kthread_perf: what the user-space models ask of the operating system:
 * clocks, the online CPUs (the one place "the i-th CPU" is computed in C:
 * kp_worker_cpu()), the kernel release, the timer slack of sleeps and the
 * SIGINT stop flag.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "kp_bench_common.h"

static u64 ts_ns(const struct timespec *ts)
{
	return (u64)ts->tv_sec * 1000000000u + (u64)ts->tv_nsec;
}

u64 kp_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts_ns(&ts);
}

u64 kp_thread_cputime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts_ns(&ts);
}

u64 kp_tick_ns(void)
{
	struct timespec ts;

	if (clock_getres(CLOCK_MONOTONIC_COARSE, &ts) || !ts_ns(&ts))
		return 4000000;	/* HZ=250, Debian's default */
	return ts_ns(&ts);
}

/*
 * The module's workers sleep with zero timer slack (worker.c:
 * schedule_hrtimeout_range(..., 0, ...)), a user task with its default
 * 50 us.  Ask for the least the prctl allows (1 ns; 0 would mean "reset
 * to the default"), so that a sleep ends when it is due in every model.
 * Called before any thread exists: a new thread starts with its
 * creator's slack, so every worker OS thread (pthread_bench's workers,
 * libcoro's lwps and the spares they spawn) inherits it.
 */
void kp_timer_slack_min(void)
{
	if (prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL))
		kp_die_errno(errno, "cannot set the timer slack");
}

u64 kp_timeval_ns(long sec, long usec)
{
	return (u64)sec * 1000000000u + (u64)usec * 1000u;
}

/*
 * Online CPUs, ascending, read once from /sys/devices/system/cpu/online
 * ("0-3,6,8-9"); where that is unreadable, the CPUs this process may run on.
 */
static int online_cpus[CPU_SETSIZE];
static u32 online_nr;

static void read_online_cpus(void)
{
	char buf[4096], *p, *end;
	FILE *f;

	if (online_nr)
		return;
	f = fopen("/sys/devices/system/cpu/online", "r");
	if (f) {
		if (fgets(buf, sizeof(buf), f)) {
			for (p = buf; *p >= '0' && *p <= '9';) {
				long lo = strtol(p, &end, 10), hi = lo;

				if (*end == '-')
					hi = strtol(end + 1, &end, 10);
				for (; lo <= hi && online_nr < CPU_SETSIZE; lo++)
					online_cpus[online_nr++] = (int)lo;
				if (*end != ',')
					break;
				p = end + 1;
			}
		}
		fclose(f);
	}
	if (!online_nr) {
		cpu_set_t set;
		int c;

		if (sched_getaffinity(0, sizeof(set), &set))
			kp_die_errno(errno, "cannot list the online CPUs");
		for (c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &set))
				online_cpus[online_nr++] = c;
	}
}

u32 kp_online_cpu_count(void)
{
	read_online_cpus();
	return online_nr;
}

int kp_online_cpu(u32 i)
{
	read_online_cpus();
	return online_cpus[i % online_nr];
}

/*
 * The CPUs workers are bound within: the online CPUs that this process's
 * affinity mask allows (sched_getaffinity(): a container's cpuset,
 * taskset), read once, before any thread binds itself.  SPEC section 3's
 * "i-th CPU" counts within this set (the module counts within the online
 * set); "bind_set" in the JSON says which set and which CPUs.
 */
static int allowed_cpus[CPU_SETSIZE];
static u32 allowed_nr;
static char allowed_str[4 * CPU_SETSIZE];

static void read_allowed_cpus(void)
{
	cpu_set_t set;
	size_t len = 0;
	u32 i, j;

	if (allowed_nr)
		return;
	read_online_cpus();
	if (sched_getaffinity(0, sizeof(set), &set))
		kp_die_errno(errno, "cannot read the CPUs this process may run on");
	for (i = 0; i < online_nr; i++)
		if (CPU_ISSET(online_cpus[i], &set))
			allowed_cpus[allowed_nr++] = online_cpus[i];
	if (!allowed_nr)
		kp_die("no online CPU is in this process's affinity mask");
	/* "0-3,6": runs of consecutive CPUs as ranges, as the kernel lists. */
	for (i = 0; i < allowed_nr; i = j + 1) {
		for (j = i; j + 1 < allowed_nr &&
		     allowed_cpus[j + 1] == allowed_cpus[j] + 1; j++)
			;
		len += (size_t)snprintf(allowed_str + len,
					sizeof(allowed_str) - len,
					j > i ? "%s%d-%d" : "%s%d",
					i ? "," : "", allowed_cpus[i],
					allowed_cpus[j]);
		if (len >= sizeof(allowed_str))
			break;
	}
}

u32 kp_allowed_cpu_count(void)
{
	read_allowed_cpus();
	return allowed_nr;
}

int kp_allowed_cpu(u32 i)
{
	read_allowed_cpus();
	return allowed_cpus[i % allowed_nr];
}

const char *kp_allowed_cpu_list(void)
{
	read_allowed_cpus();
	return allowed_str;
}

int kp_worker_cpu(const struct kp_config *cfg, u32 i)
{
	if (!cfg->bind_cpu_count)
		return -1;
	return kp_allowed_cpu(i % cfg->bind_cpu_count);
}

const char *kp_kernel_release(void)
{
	static struct utsname u;

	if (!u.release[0] && uname(&u))
		strcpy(u.release, "unknown");
	return u.release;
}

static int stop_flag;
static const int *stop_fds;	/* block mode: sockets a stop shuts down */
static u32 stop_nfds;

/* Async-signal-safe: a store and shutdown(2). */
static void on_sigint(int sig)
{
	u32 i;

	(void)sig;
	__atomic_store_n(&stop_flag, 1, __ATOMIC_RELAXED);
	for (i = 0; i < __atomic_load_n(&stop_nfds, __ATOMIC_ACQUIRE); i++)
		shutdown(stop_fds[i], SHUT_RDWR);
}

void kp_stop_shutdown(const int *fds, u32 n)
{
	stop_fds = fds;
	__atomic_store_n(&stop_nfds, n, __ATOMIC_RELEASE);
}

void kp_install_stop_handler(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL))
		kp_die_errno(errno, "sigaction(SIGINT)");
}

bool kp_stop_requested(void)
{
	return __atomic_load_n(&stop_flag, __ATOMIC_RELAXED);
}

int *kp_block_open(u32 n)
{
	int *fds = calloc(n, sizeof(*fds));
	u32 i;

	if (!fds)
		kp_die("out of memory for %u sockets", n);
	for (i = 0; i + 1 < n; i += 2)
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, &fds[i]))
			kp_die_errno(errno, "socketpair for workers %u and %u",
				     i, i + 1);
	kp_stop_shutdown(fds, n);
	return fds;
}

void kp_block_close(int *fds, u32 n)
{
	sigset_t block, old;
	u32 i;

	/* Called with every worker gone: only this thread can take SIGINT. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	kp_stop_shutdown(NULL, 0);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	for (i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
}
