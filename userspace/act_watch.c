// SPDX-License-Identifier: GPL-2.0
/*
 * act_watch: scheduler activations from /dev/kthread_perf, seen from user
 * space (SPEC.md section 9; the ABI is module/uapi/kthread_perf_act.h).
 *
 * Default mode: N worker threads register themselves and then block, K
 * times each, in a plain read() on a pipe of their own.  The main thread,
 * not registered, plays a user-level runtime's spare: it reads the events,
 * and each BLOCKED of worker i is what makes it write the byte that wakes
 * worker i.  So the run only ends if every block is reported; nothing
 * waits on a timer.  With --unregistered, one more thread blocks in read()
 * without registering, and must cause no event.
 *
 * The other modes each check one promise of the device (see --help); the
 * tests in tests/vm/activations.bats drive them.
 *
 * Prints one JSON object.  Exit status 0 when every count is as expected,
 * 1 otherwise or on error, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kthread_perf_act.h"

#define MAX_THREADS	100000
/* Events a file's queue holds (the module's KP_ACT_QUEUE). */
#define QUEUE_EVENTS	1024

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

static const char *errname(int err)
{
	const char *s = err ? strerrorname_np(err) : "0";

	return s ? s : "?";
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

/* Register the calling thread with flags; 0 or an errno. */
static int act_register_flags(uint64_t cookie, uint32_t flags)
{
	struct kp_act_register req = { .cookie = cookie, .flags = flags };

	return ioctl(dev_fd, KP_ACT_REGISTER, &req) ? errno : 0;
}

/* Register the calling thread; 0 or an errno. */
static int act_register(uint64_t cookie)
{
	return act_register_flags(cookie, 0);
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu % CPU_SETSIZE, &set);
	/* One CPU (a guest started with --cpus 1): everything shares it. */
	sched_setaffinity(0, sizeof(set), &set);
}

/* A registered worker: block in read() `cycles` times, then exit. */
static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	unsigned int i;
	char c;

	__atomic_store_n(&w->tid, gettid(), __ATOMIC_RELEASE);
	errno = act_register(w->id);
	if (errno)
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

/*
 * One thread's event stream is well formed: BLOCKED n+1 after UNBLOCKED n,
 * UNBLOCKED n only right after BLOCKED n.  Where a LOST record stands
 * (the module puts it where events went missing), the next BLOCKED may
 * skip numbers, but no UNBLOCKED comes without its BLOCKED.
 */
struct stream {
	uint64_t seq;		/* last BLOCKED's */
	bool open;		/* a BLOCKED without its UNBLOCKED yet */
};

/* Feed one event of this stream; false if it breaks the order. */
static bool stream_feed(struct stream *s, const struct kp_act_event *e,
			bool after_loss)
{
	if (e->type == KP_ACT_BLOCKED) {
		bool ok = (!s->open && e->seq == s->seq + 1) ||
			  (after_loss && e->seq > s->seq);

		s->seq = e->seq;
		s->open = true;
		return ok;
	}
	if (e->type == KP_ACT_UNBLOCKED) {
		bool ok = s->open && e->seq == s->seq;

		s->open = false;
		return ok;
	}
	return true;
}

/* Register and unregister R times; misuse gets EBUSY and ENOENT. */
static void *cycler_fn(void *arg)
{
	unsigned long r = *(unsigned long *)arg, i, bad = 0;

	for (i = 0; i < r; i++) {
		if (act_register(7))
			bad++;
		if (i == 0 && act_register(7) != EBUSY)
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

/* ---- --signal-storm K ---- */

static uint64_t *storm_user;	/* times the worker ran user code */
static unsigned int storm_nuser;

static void on_usr1(int sig)
{
	(void)sig;
}

static void *hog_fn(void *arg)
{
	pin(0);
	while (__atomic_load_n((int *)arg, __ATOMIC_RELAXED))
		;
	return NULL;
}

/* The storm's reader: every event, as it comes, until told to stop. */
struct collector {
	struct kp_act_event *ev;
	unsigned long n, cap;
	int stop_fd;
};

static void *collector_fn(void *arg)
{
	struct collector *c = arg;
	struct pollfd pfd[2] = { { .fd = dev_fd, .events = POLLIN },
				 { .fd = c->stop_fd, .events = POLLIN } };
	bool stopping = false;

	pin(1);
	for (;;) {
		ssize_t n;

		if (!stopping && poll(pfd, 2, -1) < 0 && errno != EINTR)
			die("poll");
		stopping = stopping || pfd[1].revents;
		if (c->n + 16 > c->cap)
			return NULL;
		n = read(dev_fd, c->ev + c->n, 16 * sizeof(*c->ev));
		if (n > 0)
			c->n += n / sizeof(*c->ev);
		else if (stopping)
			return NULL;	/* stopped, and nothing is left */
	}
}

/*
 * The worker sleeps K times for 20 us while another thread shares its CPU,
 * and before each sleep arms a timer that signals it a little later, the
 * delay swept over 0-16 us in steps of 250 ns, so that some signals land
 * between the system call's entry and its sleep.  Such a sleep begins with
 * a signal pending and leaves the CPU runnable: it is no block, and must
 * not be reported as one.  The check, on every event (a third thread
 * reads them as they come): the worker never runs user code between a
 * BLOCKED and its UNBLOCKED.
 */
static int signal_storm(unsigned long k)
{
	struct sigaction sa = { .sa_handler = on_usr1 };	/* no SA_RESTART */
	struct timespec nap = { 0, 20000 };
	struct collector c = { .cap = 4 * k + 64 };
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID,
				.sigev_signo = SIGUSR1 };
	struct itimerspec its = { 0 };
	struct kp_act_event *ev;
	pthread_t hog, collector;
	timer_t timer;
	unsigned long i, eintr = 0, nev, false_blocks = 0, order = 0;
	unsigned long blocked = 0, lost = 0;
	struct stream s = { 0 };
	bool after_loss = false;
	int hog_on = 1, err, stop[2];
	unsigned int u = 0;

	c.ev = calloc(c.cap, sizeof(*c.ev));
	storm_user = calloc(k + 1, sizeof(*storm_user));
	if (!c.ev || !storm_user)
		die("calloc");
	if (pipe(stop))
		die("pipe");
	c.stop_fd = stop[0];
	fcntl(dev_fd, F_SETFL, O_NONBLOCK);
	sigaction(SIGUSR1, &sa, NULL);
	if (pthread_create(&collector, NULL, collector_fn, &c))
		die("pthread_create");
	pin(0);
	sev._sigev_un._tid = gettid();	/* sigev_notify_thread_id */
	if (timer_create(CLOCK_MONOTONIC, &sev, &timer))
		die("timer_create");
	err = act_register(1);
	if (err) {
		errno = err;
		die("KP_ACT_REGISTER");
	}
	if (pthread_create(&hog, NULL, hog_fn, &hog_on))
		die("pthread_create");
	for (i = 0; i < k; i++) {
		its.it_value.tv_nsec = 1 + (i % 64) * 250;
		if (timer_settime(timer, 0, &its, NULL))
			die("timer_settime");
		if (clock_nanosleep(CLOCK_MONOTONIC, 0, &nap, NULL))
			eintr++;
		storm_user[storm_nuser++] = now_ns();
	}
	__atomic_store_n(&hog_on, 0, __ATOMIC_RELAXED);
	pthread_join(hog, NULL);
	timer_delete(timer);
	if (ioctl(dev_fd, KP_ACT_UNREGISTER))
		die("KP_ACT_UNREGISTER");
	/* Every event is queued by now (or counted lost). */
	if (write(stop[1], "x", 1) != 1)
		die("write");
	pthread_join(collector, NULL);
	ev = c.ev;
	nev = c.n;

	for (i = 0; i < nev; i++) {
		if (ev[i].type == KP_ACT_LOST) {
			lost += ev[i].cookie;
			after_loss = true;
			continue;
		}
		if (!stream_feed(&s, &ev[i], after_loss))
			order++;
		after_loss = false;
		if (ev[i].type != KP_ACT_BLOCKED)
			continue;
		blocked++;
		/* The first user-mode time after this BLOCKED ... */
		while (u < storm_nuser && storm_user[u] <= ev[i].time_ns)
			u++;
		/* ... must come after its UNBLOCKED. */
		if (i + 1 < nev && ev[i + 1].type == KP_ACT_UNBLOCKED &&
		    u < storm_nuser && storm_user[u] < ev[i + 1].time_ns)
			false_blocks++;
	}
	printf("{\"sleeps\": %lu, \"eintr\": %lu, \"blocked\": %lu, "
	       "\"false_blocks\": %lu, \"out_of_order\": %lu, \"lost\": %lu}\n",
	       k, eintr, blocked, false_blocks, order, lost);
	return !false_blocks && !order ? 0 : 1;
}

/* ---- --preempt K ---- */

/* The calling thread's switches away while runnable (RUSAGE_THREAD). */
static unsigned long thread_nivcsw(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru))
		die("getrusage");
	return (unsigned long)ru.ru_nivcsw;
}

/*
 * Where the worker saw its nivcsw move: the preemption(s), switch out and
 * back in, happened after lo and before hi (lo is the clock read two
 * iterations back: a preemption right after one count's read is seen by
 * the next).
 */
struct pwindow {
	uint64_t lo, hi;
};

/*
 * The worker (this thread) registers, with KP_ACT_REG_PREEMPT unless
 * no_flag, and shares CPU 0 with a thread that spins: it runs (spins, or
 * calls sched_yield() with yield) until its own count of switches away
 * while runnable (getrusage()'s ru_nivcsw) has moved K times.  A third
 * thread, on CPU 1, collects the events.  With the flag, every PREEMPTED
 * must be followed by its RESUMED (same seq, later), each pair must fall
 * where the worker saw its count move, each move must hold a pair, and
 * there are no more PREEMPTED than switches away while runnable.  Without
 * it, there is none.
 */
static int preempt_run(unsigned long k, bool yield, bool no_flag)
{
	struct collector c = { .cap = 4 * k + 4096 };
	struct pwindow *win = calloc(k + 1, sizeof(*win));
	unsigned long nwin = 0, seen = 0, n_before, n_reg, n_cur, n_after;
	unsigned long preempted = 0, resumed = 0, blocked = 0, unblocked = 0;
	unsigned long lost = 0, foreign = 0, order = 0, strays = 0, missed = 0;
	uint64_t t_prev2, t_prev, t, t_start, t_end, p_time = 0;
	uint64_t p_seq = 0, off_ns = 0;
	struct stream bs = { 0 };
	bool p_open = false;
	pid_t me = gettid();
	pthread_t hog, collector;
	int hog_on = 1, err, stop[2];
	unsigned long i, j;
	long first;
	bool *hit;

	c.ev = calloc(c.cap, sizeof(*c.ev));
	if (!c.ev || !win)
		die("calloc");
	if (pipe(stop))
		die("pipe");
	c.stop_fd = stop[0];
	fcntl(dev_fd, F_SETFL, O_NONBLOCK);
	if (pthread_create(&collector, NULL, collector_fn, &c))
		die("pthread_create");
	pin(0);
	if (pthread_create(&hog, NULL, hog_fn, &hog_on))
		die("pthread_create");

	n_before = thread_nivcsw();
	err = act_register_flags(1, no_flag ? 0 : KP_ACT_REG_PREEMPT);
	if (err) {
		errno = err;
		die("KP_ACT_REGISTER");
	}
	/*
	 * A preemption before the first count is no move; one after it is
	 * seen by the first or second iteration, whose windows start here.
	 */
	t_prev2 = t_prev = now_ns();
	n_reg = thread_nivcsw();
	t_start = now_ns();
	t = t_start;
	while (seen < k) {
		if (yield)
			sched_yield();
		n_cur = thread_nivcsw();
		t = now_ns();
		if (n_cur != n_reg + seen) {
			win[nwin++] = (struct pwindow){ t_prev2, t };
			seen = n_cur - n_reg;
		}
		t_prev2 = t_prev;
		t_prev = t;
	}
	/* A preemption after the last count (read before t_prev2) is none. */
	t_end = t_prev2;
	__atomic_store_n(&hog_on, 0, __ATOMIC_RELAXED);
	pthread_join(hog, NULL);
	if (ioctl(dev_fd, KP_ACT_UNREGISTER))
		die("KP_ACT_UNREGISTER");
	n_after = thread_nivcsw();
	/* Every event is queued by now (or counted lost). */
	if (write(stop[1], "x", 1) != 1)
		die("write");
	pthread_join(collector, NULL);

	hit = calloc(nwin + 1, sizeof(*hit));
	if (!hit)
		die("calloc");
	for (i = 0; i < c.n; i++) {
		struct kp_act_event *e = &c.ev[i];

		if (e->type == KP_ACT_LOST) {
			lost += e->cookie;
			continue;
		}
		if ((pid_t)e->tid != me || e->cookie != 1) {
			foreign++;
			continue;
		}
		switch (e->type) {
		case KP_ACT_BLOCKED:
		case KP_ACT_UNBLOCKED:
			if (!stream_feed(&bs, e, false))
				order++;
			if (e->type == KP_ACT_BLOCKED)
				blocked++;
			else
				unblocked++;
			/* Never while preempted: a preempted thread is queued. */
			if (p_open)
				order++;
			break;
		case KP_ACT_PREEMPTED:
			preempted++;
			if (p_open || e->seq != p_seq + 1)
				order++;
			p_open = true;
			p_seq = e->seq;
			p_time = e->time_ns;
			break;
		case KP_ACT_RESUMED:
			resumed++;
			if (!p_open || e->seq != p_seq || e->time_ns < p_time) {
				order++;
				break;
			}
			p_open = false;
			off_ns += e->time_ns - p_time;
			/*
			 * A pair lies where the count moved: matched to the
			 * first window that holds it and has no pair yet
			 * (the windows are in order of start and end).
			 */
			for (j = 0, first = -1L; j < nwin; j++) {
				if (win[j].lo >= p_time || e->time_ns >= win[j].hi)
					continue;
				if (first < 0)
					first = (long)j;
				if (!hit[j])
					break;
			}
			if (j < nwin)
				hit[j] = true;
			else if (first < 0 && p_time > t_start && p_time < t_end)
				strays++;
			break;
		default:
			order++;	/* a type nobody asked for */
		}
	}
	for (j = 0; j < nwin && preempted; j++)
		missed += !hit[j];
	printf("{\"flag\": %s, \"yield\": %s, \"target\": %lu, "
	       "\"nivcsw_loop\": %lu, \"nivcsw\": %lu, \"preempted\": %lu, "
	       "\"resumed\": %lu, \"blocked\": %lu, \"unblocked\": %lu, "
	       "\"strays\": %lu, \"missed\": %lu, \"out_of_order\": %lu, "
	       "\"lost\": %lu, \"foreign\": %lu, \"off_cpu_ns\": %llu}\n",
	       no_flag ? "false" : "true", yield ? "true" : "false", k, seen,
	       n_after - n_before, preempted, resumed, blocked, unblocked,
	       strays, missed, order, lost, foreign,
	       (unsigned long long)off_ns);
	free(hit);
	free(win);
	free(c.ev);
	if (no_flag)
		return !preempted && !resumed && !order ? 0 : 1;
	return preempted >= k && preempted == resumed &&
	       preempted <= n_after - n_before && !strays && !missed &&
	       !order && !lost && !foreign ? 0 : 1;
}

/* ---- --overflow K ---- */

static unsigned long overflow_done;

static void *sleeper_fn(void *arg)
{
	unsigned long k = *(unsigned long *)arg, i;
	/* Long enough to block each time, even on a slow (debug) kernel. */
	struct timespec nap = { 0, 200000 };

	if (act_register(2))
		die("KP_ACT_REGISTER");
	for (i = 0; i < k; i++) {
		clock_nanosleep(CLOCK_MONOTONIC, 0, &nap, NULL);
		__atomic_store_n(&overflow_done, i + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

/*
 * A worker sleeps K times (two events each) while the reader first lets
 * the queue fill (waiting, by count, for twice as many sleeps as it holds
 * events) and
 * then takes one event per sleep the worker completes, so that the queue
 * stays full: each event finds it full or finds the one slot just freed.
 * Whatever is dropped, the stream stays well formed.
 */
static int overflow(unsigned long k)
{
	unsigned long lost = 0, order = 0, events = 0, seen = 2 * QUEUE_EVENTS;
	struct stream s = { 0 };
	bool after_loss = false;
	struct kp_act_event e;
	pthread_t t;

	if (pthread_create(&t, NULL, sleeper_fn, &k))
		die("pthread_create");
	fcntl(dev_fd, F_SETFL, O_NONBLOCK);
	for (;;) {
		unsigned long done = __atomic_load_n(&overflow_done, __ATOMIC_ACQUIRE);
		ssize_t n;

		if (done < k && done <= seen) {
			sched_yield();
			continue;
		}
		seen = done;
		n = read(dev_fd, &e, sizeof(e));
		if (n < 0 && errno == EAGAIN && done == k)
			break;
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n != sizeof(e))
			die("read");
		events++;
		if (e.type == KP_ACT_LOST) {
			lost += e.cookie;
			after_loss = true;
			continue;
		}
		if (!stream_feed(&s, &e, after_loss))
			order++;
		after_loss = false;
	}
	pthread_join(t, NULL);
	printf("{\"sleeps\": %lu, \"events\": %lu, \"lost\": %lu, "
	       "\"out_of_order\": %lu}\n", k, events, lost, order);
	return lost && !order ? 0 : 1;
}

/* ---- --fork-check ---- */

/*
 * A child that inherited the descriptor may not use it: it could learn
 * about threads of a program it cannot ptrace (its parent after an exec
 * of a setuid program, say).
 */
static int fork_check(void)
{
	struct kp_act_event e;
	int st, p[2];
	char c;
	pid_t pid;

	if (act_register(3))
		die("KP_ACT_REGISTER");
	if (pipe(p))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		struct pollfd pfd = { .fd = dev_fd, .events = POLLIN };
		int reg = act_register(4), unreg = 0, rd = 0;

		if (ioctl(dev_fd, KP_ACT_UNREGISTER))
			unreg = errno;
		if (read(dev_fd, &e, sizeof(e)) < 0)
			rd = errno;
		poll(&pfd, 1, 0);
		printf("{\"child_register\": \"%s\", \"child_unregister\": \"%s\", "
		       "\"child_read\": \"%s\", \"child_poll_err\": %s",
		       errname(reg), errname(unreg), errname(rd),
		       pfd.revents & POLLERR ? "true" : "false");
		fflush(stdout);
		_exit(0);
	}
	/* The parent blocks (an event) until the child is done. */
	close(p[1]);
	if (read(p[0], &c, 1) < 0)
		die("read");
	waitpid(pid, &st, 0);
	fcntl(dev_fd, F_SETFL, O_NONBLOCK);
	printf(", \"parent_read\": %s}\n",
	       read(dev_fd, &e, sizeof(e)) == sizeof(e) ? "true" : "false");
	return 0;
}

/* ---- --open-files N ---- */

/* memory.current of our memory cgroup, or -1. */
static long long memcg_current(void)
{
	char line[4096], path[4200];
	long long v = -1;
	FILE *f = fopen("/proc/self/cgroup", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = 0;
			snprintf(path, sizeof(path), "/sys/fs/cgroup%s/memory.current",
				 line + 3);
			break;
		}
	fclose(f);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%lld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/*
 * Open up to N files; say how many opened, why the next did not, and how
 * much our memory cgroup grew meanwhile.
 */
static int open_files(unsigned long n)
{
	long long before = memcg_current(), after;
	unsigned long i;
	int err = 0;

	for (i = 0; i < n; i++)
		if (open(KP_ACT_DEVICE, O_RDWR) < 0) {
			err = errno;
			break;
		}
	after = memcg_current();
	printf("{\"opened\": %lu, \"errno\": \"%s\", \"memcg_delta\": %lld}\n",
	       i, errname(err), before < 0 || after < 0 ? -1 : after - before);
	return 0;
}

/* ---- --hold N ---- */

static pthread_mutex_t hold_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hold_cond = PTHREAD_COND_INITIALIZER;
static unsigned long hold_ok, hold_done;
static int hold_err;
static bool hold_release;

static void *holder_fn(void *arg)
{
	int err = act_register((uintptr_t)arg);

	pthread_mutex_lock(&hold_lock);
	if (err && !hold_err)
		hold_err = err;
	hold_ok += !err;
	hold_done++;
	pthread_cond_broadcast(&hold_cond);
	while (!hold_release)
		pthread_cond_wait(&hold_cond, &hold_lock);
	pthread_mutex_unlock(&hold_lock);
	return NULL;
}

/*
 * N threads register and sleep until standard input ends: registered
 * sleepers for a benchmark, or a limit to hit.
 */
static int hold(unsigned long n)
{
	pthread_attr_t attr;
	pthread_t *t = calloc(n, sizeof(*t));
	unsigned long i, started;
	char buf[64];

	if (!t)
		die("calloc");
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (started = 0; started < n; started++)
		if (pthread_create(&t[started], &attr, holder_fn,
				   (void *)(uintptr_t)started))
			break;
	pthread_mutex_lock(&hold_lock);
	while (hold_done < started)
		pthread_cond_wait(&hold_cond, &hold_lock);
	printf("{\"threads\": %lu, \"registered\": %lu, \"errno\": \"%s\"}\n",
	       started, hold_ok, errname(hold_err));
	fflush(stdout);
	pthread_mutex_unlock(&hold_lock);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&hold_lock);
	hold_release = true;
	pthread_cond_broadcast(&hold_cond);
	pthread_mutex_unlock(&hold_lock);
	for (i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	free(t);
	return hold_ok == n ? 0 : 1;
}

/* ---- --efault ---- */

/* Wake thread tid once it sleeps in read() on fd. */
struct waker {
	pid_t tid;
	int fd;
};

static void *waker_fn(void *arg)
{
	struct waker *w = arg;

	wait_in_read(w->tid);
	if (write(w->fd, "x", 1) != 1)
		die("write");
	return NULL;
}

/*
 * A read() that cannot copy its events out takes none: the next read()
 * returns them (here the BLOCKED and UNBLOCKED of one block).
 */
static int efault(void)
{
	struct kp_act_event e[4];
	void *bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct waker w = { .tid = gettid() };
	pthread_t t;
	ssize_t n;
	int err = 0, p[2];
	char c;

	if (bad == MAP_FAILED)
		die("mmap");
	if (pipe(p))
		die("pipe");
	w.fd = p[1];
	if (act_register(5))
		die("KP_ACT_REGISTER");
	/* One block for certain: BLOCKED and UNBLOCKED. */
	if (pthread_create(&t, NULL, waker_fn, &w))
		die("pthread_create");
	if (read(p[0], &c, 1) != 1)
		die("read");
	/* Before the join, which may block too. */
	if (ioctl(dev_fd, KP_ACT_UNREGISTER))
		die("KP_ACT_UNREGISTER");
	pthread_join(t, NULL);
	fcntl(dev_fd, F_SETFL, O_NONBLOCK);
	if (read(dev_fd, bad, sizeof(e)) < 0)
		err = errno;
	n = read(dev_fd, e, sizeof(e));
	printf("{\"first_read\": \"%s\", \"then\": %zd, \"type\": %u, "
	       "\"seq\": %llu}\n", errname(err), n > 0 ? n / (ssize_t)sizeof(e[0]) : n,
	       n > 0 ? e[0].type : 0, n > 0 ? (unsigned long long)e[0].seq : 0);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: act_watch [--threads N] [--cycles K] [--unregistered]\n"
		"       act_watch --register-cycles R | --signal-storm K | --overflow K\n"
		"       act_watch --fork-check | --open-files N | --hold N | --efault\n"
		"       act_watch --register-exec -- COMMAND [ARG...]\n"
		"       act_watch --preempt K [--yield] [--no-flag]\n"
		"Scheduler activations from %s: N registered threads block K\n"
		"times each in read(); the unregistered main thread wakes each one\n"
		"when it reads its BLOCKED event.  Prints the counts and the\n"
		"notification latency as JSON (see module/uapi/kthread_perf_act.h).\n"
		"  --register-cycles R  register and unregister R times (EBUSY, ENOENT)\n"
		"  --signal-storm K     K short sleeps, each with a signal timed to\n"
		"                       land near its start: no sleep cut short before\n"
		"                       it began is a BLOCKED\n"
		"  --overflow K         K sleeps while the queue overflows: the stream\n"
		"                       stays well formed (no UNBLOCKED alone)\n"
		"  --fork-check         a forked child may not use the inherited file\n"
		"  --open-files N       open N files: how many opened, the errno of the\n"
		"                       first refused, the memory cgroup's growth\n"
		"  --hold N             N threads register and sleep until stdin ends\n"
		"  --efault             a read() that cannot copy out takes nothing\n"
		"  --register-exec      register this thread, then exec COMMAND with\n"
		"                       the file still open\n"
		"  --preempt K          register with KP_ACT_REG_PREEMPT and run on\n"
		"                       CPU 0 beside a spinning thread until preempted\n"
		"                       K times: a PREEMPTED and RESUMED pair for each\n"
		"                       preemption, in order, and no other\n"
		"    --yield            ... calling sched_yield() in the loop\n"
		"    --no-flag          ... registered without the flag: no such event\n",
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

static int watch(bool with_bystander)
{
	unsigned long blocked = 0, unblocked = 0, lost = 0, total;
	unsigned long foreign = 0, order = 0;
	struct worker bystander = { .id = -1 };
	struct kp_act_event ev[64];
	struct stream *streams;
	uint64_t *lat;
	unsigned int i, nlat = 0;

	total = (unsigned long)nr_workers * cycles;
	workers = calloc(nr_workers, sizeof(*workers));
	streams = calloc(nr_workers, sizeof(*streams));
	lat = calloc(total, sizeof(*lat));
	if (!workers || !streams || !lat)
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
			if (!stream_feed(&streams[e->cookie], e, false))
				order++;
			if (e->type == KP_ACT_BLOCKED) {
				w->blocked++;
				blocked++;
				if (nlat < total)
					lat[nlat++] = t > e->time_ns ? t - e->time_ns : 0;
				if (write(w->pipe[1], "x", 1) != 1)
					die("write");
			} else if (e->type == KP_ACT_UNBLOCKED) {
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

int main(int argc, char **argv)
{
	enum { WATCH, CYCLES, STORM, OVERFLOW, FORK, OPEN, HOLD, EFAULT_, EXEC,
	       PREEMPT };
	static const struct option opts[] = {
		{ "threads", required_argument, NULL, 't' },
		{ "cycles", required_argument, NULL, 'c' },
		{ "unregistered", no_argument, NULL, 'u' },
		{ "register-cycles", required_argument, NULL, 'r' },
		{ "signal-storm", required_argument, NULL, 's' },
		{ "overflow", required_argument, NULL, 'o' },
		{ "fork-check", no_argument, NULL, 'f' },
		{ "open-files", required_argument, NULL, 'n' },
		{ "hold", required_argument, NULL, 'H' },
		{ "efault", no_argument, NULL, 'e' },
		{ "register-exec", no_argument, NULL, 'x' },
		{ "preempt", required_argument, NULL, 'p' },
		{ "yield", no_argument, NULL, 'y' },
		{ "no-flag", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long num = 0;
	bool with_bystander = false, yield = false, no_flag = false;
	int opt, mode = WATCH, err;

	while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (opt) {
		case 't':
			nr_workers = parse_num("--threads", optarg, 1024);
			break;
		case 'c':
			cycles = parse_num("--cycles", optarg, 1000000);
			break;
		case 'u':
			with_bystander = true;
			break;
		case 'r':
			mode = CYCLES;
			num = parse_num("--register-cycles", optarg, 10000000);
			break;
		case 's':
			mode = STORM;
			num = parse_num("--signal-storm", optarg, 10000000);
			break;
		case 'o':
			mode = OVERFLOW;
			num = parse_num("--overflow", optarg, 10000000);
			break;
		case 'f':
			mode = FORK;
			break;
		case 'n':
			mode = OPEN;
			num = parse_num("--open-files", optarg, 1000000);
			break;
		case 'H':
			mode = HOLD;
			num = parse_num("--hold", optarg, MAX_THREADS);
			break;
		case 'e':
			mode = EFAULT_;
			break;
		case 'x':
			mode = EXEC;
			break;
		case 'p':
			mode = PREEMPT;
			num = parse_num("--preempt", optarg, 100000);
			break;
		case 'y':
			yield = true;
			break;
		case 'N':
			no_flag = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (mode == EXEC && optind == argc) {
		fprintf(stderr, "act_watch: --register-exec needs a command\n");
		return 2;
	}
	if ((yield || no_flag) && mode != PREEMPT) {
		fprintf(stderr, "act_watch: --yield and --no-flag go with --preempt\n");
		return 2;
	}
	if (mode != EXEC && optind < argc) {
		fprintf(stderr, "act_watch: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}

	if (mode == OPEN)
		return open_files(num);
	/* Kept open across --register-exec's exec. */
	dev_fd = open(KP_ACT_DEVICE, O_RDWR | (mode == EXEC ? 0 : O_CLOEXEC));
	if (dev_fd < 0)
		die(KP_ACT_DEVICE " (is kthread_perf.ko loaded?)");
	switch (mode) {
	case CYCLES:
		return register_cycles(num);
	case STORM:
		return signal_storm(num);
	case OVERFLOW:
		return overflow(num);
	case FORK:
		return fork_check();
	case HOLD:
		return hold(num);
	case EFAULT_:
		return efault();
	case PREEMPT:
		return preempt_run(num, yield, no_flag);
	case EXEC:
		err = act_register(6);
		if (err) {
			errno = err;
			die("KP_ACT_REGISTER");
		}
		execvp(argv[optind], argv + optind);
		die(argv[optind]);
	}
	return watch(with_bystander);
}
