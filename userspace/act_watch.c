// SPDX-License-Identifier: GPL-2.0
/*
 * act_watch: scheduler activations from /dev/kthread_perf, seen from user
 * space (SPEC.md section 9; the ABI is module/uapi/kthread_perf_act.h).
 *
 * N worker threads register themselves and then block, K times each, in a
 * plain read() on a pipe of their own.  The main thread, not registered,
 * plays a user-level runtime's spare: it reads the events, and each
 * BLOCKED of worker i is what makes it write the byte that wakes worker i.
 * So the run only ends if every block is reported; nothing waits on a
 * timer.  With --unregistered, one more thread blocks in read() without
 * registering, and must cause no event.  --register-cycles R registers and
 * unregisters one thread R times and checks the errors of misuse.
 *
 * Prints one JSON object: the counts, and how long each BLOCKED took from
 * the switch (its time_ns) to the spare reading it (p50, p99, max).
 * Exit status 0 when every count is as expected, 1 otherwise or on error,
 * 2 on bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "kthread_perf_act.h"

#define MAX_THREADS	1024

struct worker {
	pthread_t thread;
	int id;
	int pipe[2];
	pid_t tid;
	unsigned long blocked, unblocked;
};

static int dev_fd = -1;
static unsigned int cycles = 100;
static struct worker *workers;
static unsigned int nr_workers = 4;

static void die(const char *what)
{
	fprintf(stderr, "act_watch: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

/* A registered worker: block in read() `cycles` times, then exit. */
static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	uint64_t cookie = w->id;
	unsigned int i;
	char c;

	__atomic_store_n(&w->tid, gettid(), __ATOMIC_RELEASE);
	if (ioctl(dev_fd, KP_ACT_REGISTER, &cookie))
		die("KP_ACT_REGISTER");
	for (i = 0; i < cycles; i++)
		if (read(w->pipe[0], &c, 1) != 1)
			die("read");
	/* The registration ends with the thread. */
	return NULL;
}

/* The unregistered thread: one blocking read. */
static void *bystander_fn(void *arg)
{
	struct worker *w = arg;
	char c;

	__atomic_store_n(&w->tid, gettid(), __ATOMIC_RELEASE);
	if (read(w->pipe[0], &c, 1) != 1)
		die("read");
	return NULL;
}

/* Wait until thread tid sleeps in read() (its /proc syscall is 0). */
static void wait_in_read(pid_t tid)
{
	char path[64], buf[64];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
	for (;;) {
		fd = open(path, O_RDONLY);
		if (fd < 0)
			die(path);
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 2 && buf[0] == '0' && buf[1] == ' ')
			return;
		usleep(1000);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Register and unregister R times; misuse gets EBUSY and ENOENT. */
static void *cycler_fn(void *arg)
{
	unsigned long r = *(unsigned long *)arg, i, bad = 0;
	uint64_t cookie = 7;

	for (i = 0; i < r; i++) {
		if (ioctl(dev_fd, KP_ACT_REGISTER, &cookie))
			bad++;
		if (i == 0 && !(ioctl(dev_fd, KP_ACT_REGISTER, &cookie) == -1 &&
				errno == EBUSY))
			bad++;
		if (ioctl(dev_fd, KP_ACT_UNREGISTER))
			bad++;
	}
	if (!(ioctl(dev_fd, KP_ACT_UNREGISTER) == -1 && errno == ENOENT))
		bad++;
	*(unsigned long *)arg = bad;
	return NULL;
}

static int register_cycles(unsigned long r)
{
	unsigned long bad = r;
	pthread_t t;
	struct kp_act_event e;

	if (pthread_create(&t, NULL, cycler_fn, &bad))
		die("pthread_create");
	pthread_join(t, NULL);
	/* A thread that registered and never blocked leaves no event. */
	fcntl(dev_fd, F_SETFL, O_NONBLOCK);
	printf("{\"register_cycles\": %lu, \"errors\": %lu, \"events\": %s}\n",
	       r, bad, read(dev_fd, &e, sizeof(e)) > 0 ? "true" : "false");
	return bad ? 1 : 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: act_watch [--threads N] [--cycles K] [--unregistered]\n"
		"       act_watch --register-cycles R\n"
		"Scheduler activations from %s: N registered threads block K\n"
		"times each in read(); the unregistered main thread wakes each one\n"
		"when it reads its BLOCKED event.  Prints the counts and the\n"
		"notification latency as JSON (see module/uapi/kthread_perf_act.h).\n",
		KP_ACT_DEVICE);
}

static unsigned long parse_num(const char *opt, const char *s, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > max || *s == '-') {
		fprintf(stderr, "act_watch: %s: expected 1..%lu, got '%s'\n",
			opt, max, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "threads", required_argument, NULL, 't' },
		{ "cycles", required_argument, NULL, 'c' },
		{ "unregistered", no_argument, NULL, 'u' },
		{ "register-cycles", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long reg_cycles = 0, blocked = 0, unblocked = 0, lost = 0;
	unsigned long foreign = 0, order = 0, total;
	struct worker bystander = { .id = -1 };
	struct kp_act_event ev[64];
	bool with_bystander = false;
	uint64_t *lat;
	unsigned int i, nlat = 0;
	int opt;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 't':
			nr_workers = parse_num("--threads", optarg, MAX_THREADS);
			break;
		case 'c':
			cycles = parse_num("--cycles", optarg, 1000000);
			break;
		case 'u':
			with_bystander = true;
			break;
		case 'r':
			reg_cycles = parse_num("--register-cycles", optarg, 10000000);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "act_watch: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}

	dev_fd = open(KP_ACT_DEVICE, O_RDWR | O_CLOEXEC);
	if (dev_fd < 0)
		die(KP_ACT_DEVICE " (is kthread_perf.ko loaded?)");
	if (reg_cycles)
		return register_cycles(reg_cycles);

	total = (unsigned long)nr_workers * cycles;
	workers = calloc(nr_workers, sizeof(*workers));
	lat = calloc(total, sizeof(*lat));
	if (!workers || !lat)
		die("calloc");
	if (with_bystander) {
		if (pipe(bystander.pipe))
			die("pipe");
		if (pthread_create(&bystander.thread, NULL, bystander_fn, &bystander))
			die("pthread_create");
		while (!__atomic_load_n(&bystander.tid, __ATOMIC_ACQUIRE))
			usleep(1000);
		wait_in_read(bystander.tid);
	}
	for (i = 0; i < nr_workers; i++) {
		workers[i].id = i;
		if (pipe(workers[i].pipe))
			die("pipe");
		if (pthread_create(&workers[i].thread, NULL, worker_fn, &workers[i]))
			die("pthread_create");
	}

	/* The spare: every BLOCKED of worker i is answered with a byte. */
	while (unblocked < total) {
		ssize_t n = read(dev_fd, ev, sizeof(ev));
		uint64_t t = now_ns();
		unsigned int k;

		if (n < 0)
			die("read " KP_ACT_DEVICE);
		for (k = 0; k < n / sizeof(ev[0]); k++) {
			struct kp_act_event *e = &ev[k];
			struct worker *w;

			if (e->type == KP_ACT_LOST) {
				lost += e->cookie;
				continue;
			}
			if (e->cookie >= nr_workers ||
			    (pid_t)e->tid != __atomic_load_n(&workers[e->cookie].tid,
							     __ATOMIC_ACQUIRE)) {
				foreign++;
				continue;
			}
			w = &workers[e->cookie];
			if (e->type == KP_ACT_BLOCKED) {
				if (w->blocked != w->unblocked)
					order++;
				w->blocked++;
				blocked++;
				if (nlat < total)
					lat[nlat++] = t > e->time_ns ? t - e->time_ns : 0;
				if (write(w->pipe[1], "x", 1) != 1)
					die("write");
			} else if (e->type == KP_ACT_UNBLOCKED) {
				if (w->unblocked + 1 != w->blocked)
					order++;
				w->unblocked++;
				unblocked++;
			}
		}
		if (lost)
			break;	/* a lost BLOCKED would leave its worker asleep */
	}
	for (i = 0; i < nr_workers && !lost; i++)
		pthread_join(workers[i].thread, NULL);
	if (with_bystander) {
		if (write(bystander.pipe[1], "x", 1) != 1)
			die("write");
		pthread_join(bystander.thread, NULL);
		/* Anything it caused is queued by now: drain without blocking. */
		fcntl(dev_fd, F_SETFL, O_NONBLOCK);
		for (;;) {
			ssize_t n = read(dev_fd, ev, sizeof(ev));

			if (n <= 0)
				break;
			foreign += n / sizeof(ev[0]);
		}
	}

	qsort(lat, nlat, sizeof(*lat), cmp_u64);
	printf("{\"threads\": %u, \"cycles\": %u, \"blocked\": %lu, "
	       "\"unblocked\": %lu, \"lost\": %lu, \"foreign\": %lu, "
	       "\"out_of_order\": %lu, \"latency_ns\": {\"p50\": %llu, "
	       "\"p99\": %llu, \"max\": %llu}}\n",
	       nr_workers, cycles, blocked, unblocked, lost, foreign, order,
	       nlat ? (unsigned long long)lat[nlat / 2] : 0,
	       nlat ? (unsigned long long)lat[nlat * 99 / 100] : 0,
	       nlat ? (unsigned long long)lat[nlat - 1] : 0);
	return blocked == total && unblocked == total && !lost && !foreign &&
	       !order ? 0 : 1;
}
