// SPDX-License-Identifier: GPL-2.0
/*
 * Module mode on the host, without the module: this program defines
 * open() and ioctl() (they take the place of libc's for libcoro.a), so
 * that /dev/kthread_perf is a pipe whose read end libcoro's listener
 * reads, whose registrations the test records, and into which the test
 * writes the events the kernel would post.
 *
 *   t_fakedev late
 *	Run 1 on 2 workers registers its lwps, then ends (they are freed).
 *	During run 2, once its listener is up, the test posts a BLOCKED
 *	event with the cookie of each of run 1's registrations: events that
 *	arrive late, as the kernel's can (pthread_join() returns before the
 *	exit tracepoint ends a registration).  They must name nothing:
 *	before, the cookie was a freed lwp's address, which the listener
 *	read and swapped (ASan: heap-use-after-free; without it, the
 *	address, reused by run 2's lwp, took that running lwp's worker).
 *
 *   t_fakedev preempt
 *	The adaptive mutex and PREEMPTED/RESUMED (CORO_MUTEX_WATCH=auto, so
 *	each lwp registers with KP_ACT_REG_PREEMPT).  A coroutine holds a
 *	mutex and runs on without a scheduling point; the test posts
 *	PREEMPTED for its lwp, and a contender on the other worker must
 *	park at once, without spinning.  After RESUMED, with the owner
 *	running, a second contender spins (asking the device once on the
 *	way) and parks only after its bounded spin.
 *
 *   t_fakedev watcher K
 *	A spare woken on the device (module mode's listener) runs the
 *	worker it takes.  One worker; K times, coroutine A queues a
 *	sibling B, then, in a stint of coroutine code on its lwp, has the
 *	test post a BLOCKED for that lwp and spins until B has run: a spare
 *	claims A's lwp, takes the worker and runs B itself, on the thread
 *	whose claim won; at its next scheduling point A's lwp finds its
 *	worker taken and becomes a spare on the device.  Each round waits
 *	until that lwp has joined the spares, so the spares are reused: the
 *	run starts no thread after round 1, on a machine of any speed.  The
 *	host's stand-in for tests/vm's t_act_module watcher, for ASan and
 *	TSan.
 *
 *   t_fakedev reblock
 *	Two readers of the device at once: a spare has claimed the lwp of
 *	coroutine A for its BLOCKED 1, and before it checks for the
 *	UNBLOCKED 1, A's lwp wakes and blocks again (UNBLOCKED 1, BLOCKED
 *	2), which a second reader reads while the claim stands.  The claim
 *	is given back (A woke), and BLOCKED 2 must still take the worker
 *	for B, queued behind A.  Before the takes were serialised, the
 *	second reader saw the claimed word (ACT_TAKEN), took it for a
 *	block in scheduler code and dropped BLOCKED 2; the first gave the
 *	claim back, and the worker stayed with a blocked lwp for good (in
 *	a guest: coro_bench's block mode on one worker hung every time).
 *
 *   t_fakedev gone
 *	The device stops delivering events (it hangs up: EPOLLHUP, as the
 *	module's EPOLLERR for a file that is not the reader's): the spares
 *	leave it, a monitor thread watches instead, said once.  Coroutine A
 *	blocks in a plain read() that its sibling B, queued behind it on
 *	the one worker, answers: the monitor must take the worker for B to
 *	run (a plain thread releases A after 60 s, and the test fails).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "coro.h"
#include "check.h"
#include "internal.h"
#include "current.h"
#include "activations.h"
#include "kthread_perf_act.h"

/* ---- the fake device ---------------------------------------------------- */

#define MAX_REGS 256

static int dev_rd = -1, dev_wr = -1;
static pthread_mutex_t reg_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct { pid_t tid; uint64_t cookie; bool on; } regs[MAX_REGS];
static int nregs;

int open(const char *path, int flags, ...)
{
	int p[2];
	va_list ap;
	mode_t mode = 0;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	if (strcmp(path, KP_ACT_DEVICE))
		return (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode);
	if (pipe2(p, O_CLOEXEC | (flags & O_NONBLOCK)))
		return -1;
	dev_rd = p[0];
	dev_wr = p[1];
	return p[0];
}

int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;
	pid_t tid = gettid();
	int i, ret = 0;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd != dev_rd || dev_rd < 0)
		return (int)syscall(SYS_ioctl, fd, req, arg);
	pthread_mutex_lock(&reg_mtx);
	if (req == KP_ACT_REGISTER) {
		CHECK(nregs < MAX_REGS);
		regs[nregs].tid = tid;
		memcpy(&regs[nregs].cookie, arg, sizeof(uint64_t));
		regs[nregs++].on = true;
	} else if (req == KP_ACT_UNREGISTER) {
		for (i = 0; i < nregs && !(regs[i].on && regs[i].tid == tid);
		     i++)
			;
		if (i < nregs)
			regs[i].on = false;
		else
			ret = -ENOENT;
	} else {
		ret = -ENOTTY;
	}
	pthread_mutex_unlock(&reg_mtx);
	if (ret) {
		errno = -ret;
		return -1;
	}
	return 0;
}

static void post(uint32_t type, pid_t tid, uint64_t cookie, uint64_t seq)
{
	struct kp_act_event e = { .type = type, .tid = (uint32_t)tid,
				  .cookie = cookie };

#if KP_ACT_IOC_MAGIC == 0xB9
	e.seq = seq;
#else
	(void)seq;
#endif
	CHECK(write(dev_wr, &e, sizeof(e)) == sizeof(e));
}

/* ---- late ---------------------------------------------------------------- */

static int first_run_regs;
static long yields;

static void *yielder(void *arg)
{
	int i;

	for (i = 0; i < 50; i++) {
		__atomic_add_fetch(&yields, 1, __ATOMIC_RELAXED);
		coro_yield();
	}
	return arg;
}

/* Every other thread of the process asleep (S), seen twice in a row. */
static bool others_asleep(void)
{
	char path[300], buf[256], *p;
	struct dirent *d;
	bool all = true;
	DIR *dir;
	int fd;
	ssize_t n;

	dir = opendir("/proc/self/task");
	CHECK(dir);
	while (all && (d = readdir(dir))) {
		if (d->d_name[0] == '.' || atoi(d->d_name) == gettid())
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/stat",
			 d->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;	/* ended */
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = 0;
		p = strrchr(buf, ')');
		all = p && p[1] == ' ' && p[2] == 'S';
	}
	closedir(dir);
	return all;
}

/* Run 2's first coroutine: the late events, while it runs. */
static void *poster(void *arg)
{
	uint64_t end = now_ns() + 60000000000ULL;
	int i, queued = 1, quiet = 0;

	for (i = 0; i < first_run_regs; i++)
		post(KP_ACT_BLOCKED, regs[i].tid, regs[i].cookie, 1);
	/* Until the listener has read them and gone back to poll(). */
	while (quiet < 2) {
		CHECK(now_ns() < end);
		CHECK(syscall(SYS_ioctl, dev_rd, FIONREAD, &queued) == 0);
		quiet = !queued && others_asleep() ? quiet + 1 : 0;
	}
	return arg;
}

static int late(void)
{
	struct coro_sched_attr a = { .workers = 2, .activations = "module" };
	struct coro_stats st;
	struct coro_sched *s;
	int i;

	unsetenv("CORO_ACTIVATIONS");
	s = coro_sched_create(&a);
	CHECK(s);
	CHECK(!strcmp(coro_sched_activations(s), "module"));
	for (i = 0; i < 8; i++)
		CHECK(coro_detach(coro_create(s, yielder, NULL, 0)) == 0);
	CHECK(coro_sched_run(s) == 0);
	first_run_regs = nregs;
	/*
	 * The caller's thread, and worker 1's unless the run ended before
	 * that lwp started (a loaded host): either way, late events to test.
	 */
	CHECK(first_run_regs == 1 || first_run_regs == 2);

	CHECK(coro_detach(coro_create(s, poster, NULL, 0)) == 0);
	for (i = 0; i < 8; i++)
		CHECK(coro_detach(coro_create(s, yielder, NULL, 0)) == 0);
	CHECK(coro_sched_run(s) == 0);
	coro_sched_stats(s, &st);
	CHECK_EQ(yields, 16 * 50);
	printf("late: %d BLOCKED events of run 1's ended registrations read "
	       "in run 2: %llu ignored, %llu taken\n", first_run_regs,
	       (unsigned long long)s->act_stale_events,
	       (unsigned long long)st.taken);
	CHECK_EQ(st.taken, 0);
	CHECK_EQ(s->act_stale_events, first_run_regs);
	for (i = 0; i < nregs; i++)
		CHECK(!regs[i].on);	/* every lwp unregistered itself */
	printf("ok late events of ended registrations name no lwp\n");
	coro_sched_destroy(s);
	return 0;
}

/* ---- preempt ------------------------------------------------------------ */

static coro_mutex_t pm = CORO_MUTEX_INITIALIZER;
static struct lwp *holder_lwp;	/* atomic */
static pid_t holder_tid;	/* atomic */
static int phase;		/* atomic */
static uint64_t wait_end;

static void set_phase(int p)
{
	__atomic_store_n(&phase, p, __ATOMIC_RELEASE);
}

/* Wait for phase p, yielding (a coroutine) or spinning (not). */
static void wait_phase(int p, bool yield)
{
	while (__atomic_load_n(&phase, __ATOMIC_ACQUIRE) != p) {
		CHECK(now_ns() < wait_end);
		if (yield)
			coro_yield();
	}
}

static void wait_parked(void)
{
	while (__atomic_load_n(&pm.state, __ATOMIC_ACQUIRE) != 2)
		CHECK(now_ns() < wait_end);
}

/* Holds pm twice, each time running on without a scheduling point. */
static void *holder(void *arg)
{
	coro_mutex_lock(&pm);
	__atomic_store_n(&holder_tid, gettid(), __ATOMIC_RELAXED);
	__atomic_store_n(&holder_lwp, lwp_current(), __ATOMIC_RELEASE);
	set_phase(1);
	wait_phase(3, false);	/* the contender parked, RESUMED read */
	coro_mutex_unlock(&pm);
	wait_phase(4, true);
	coro_mutex_lock(&pm);
	set_phase(5);
	wait_parked();		/* the second contender, after its spin */
	coro_mutex_unlock(&pm);
	return arg;
}

static void *contender(void *arg)
{
	wait_phase(2, true);	/* the owner's lwp is off its CPU */
	coro_mutex_lock(&pm);
	coro_mutex_unlock(&pm);
	set_phase(4);
	wait_phase(5, true);	/* the owner runs */
	coro_mutex_lock(&pm);
	coro_mutex_unlock(&pm);
	return arg;
}

/* The kernel's part, from a plain thread. */
static void *preempt_poster(void *arg)
{
	struct lwp *l;
	uint64_t cookie = 0;
	pid_t tid;
	int i;

	wait_phase(1, false);
	l = __atomic_load_n(&holder_lwp, __ATOMIC_ACQUIRE);
	tid = __atomic_load_n(&holder_tid, __ATOMIC_RELAXED);
	pthread_mutex_lock(&reg_mtx);
	for (i = 0; i < nregs; i++)
		if (regs[i].on && regs[i].tid == tid)
			cookie = regs[i].cookie;
	pthread_mutex_unlock(&reg_mtx);
	CHECK(cookie);
	post(KP_ACT_PREEMPTED, tid, cookie, 1);
	while (!__atomic_load_n(&l->off_cpu, __ATOMIC_RELAXED))
		CHECK(now_ns() < wait_end);	/* the listener read it */
	set_phase(2);
	wait_parked();
	post(KP_ACT_RESUMED, tid, cookie, 1);
	while (__atomic_load_n(&l->off_cpu, __ATOMIC_RELAXED))
		CHECK(now_ns() < wait_end);
	set_phase(3);
	return arg;
}

static int preempt(void)
{
	struct coro_sched_attr a = { .workers = 2, .activations = "module" };
	struct coro_mutex_stats m;
	struct coro_sched *s;
	pthread_t t;

	unsetenv("CORO_ACTIVATIONS");
	unsetenv("CORO_MUTEX_WATCH");
	wait_end = now_ns() + 60000000000ULL;
	s = coro_sched_create(&a);
	CHECK(s);
	CHECK(coro_detach(coro_create(s, holder, NULL, 0)) == 0);
	CHECK(coro_detach(coro_create(s, contender, NULL, 0)) == 0);
	CHECK(pthread_create(&t, NULL, preempt_poster, NULL) == 0);
	CHECK(coro_sched_run(s) == 0);
	CHECK(pthread_join(t, NULL) == 0);
	coro_sched_mutex_stats(s, &m);
	printf("preempt: watch %d, contended %llu, spins %llu, checks %llu, "
	       "spin_acquired %llu, parks %llu, owner_off_cpu %llu\n",
	       m.watch, (unsigned long long)m.contended,
	       (unsigned long long)m.spins, (unsigned long long)m.checks,
	       (unsigned long long)m.spin_acquired,
	       (unsigned long long)m.parks,
	       (unsigned long long)m.owner_off_cpu);
	CHECK_EQ(m.watch, CORO_WATCH_EVENTS);
	CHECK_EQ(m.contended, 2);
	CHECK_EQ(m.owner_off_cpu, 1);	/* the first: parked at once */
	CHECK_EQ(m.spins, 1);		/* the second: spun ... */
	CHECK_EQ(m.checks, 1);		/* ... asked the device once ... */
	CHECK_EQ(m.spin_acquired, 0);	/* ... and parked after its spin */
	CHECK_EQ(m.parks, 2);
	CHECK(m.spin_ns > 0);
	CHECK_EQ(m.spin_iters, 1000);	/* MUTEX_SPINS: the bound */
	printf("ok a contender parks at once on an owner whose lwp is "
	       "preempted, and spins on one that runs\n");
	coro_sched_destroy(s);
	return 0;
}

/* ---- watcher -------------------------------------------------------- */

static pid_t w_claimer, w_b_tid;
static int w_b_ran;
static long w_rounds;
static struct coro_sched *w_sched;

static void w_hook(struct coro_sched *s, pid_t tid, int after)
{
	(void)s;
	(void)tid;
	if (after)
		__atomic_store_n(&w_claimer, gettid(), __ATOMIC_RELEASE);
}

/* The live registration of thread tid. */
static uint64_t cookie_of(pid_t tid)
{
	uint64_t c = 0;
	bool found = false;
	int i;

	pthread_mutex_lock(&reg_mtx);
	for (i = nregs - 1; i >= 0 && !found; i--) {
		if (regs[i].on && regs[i].tid == tid) {
			c = regs[i].cookie;
			found = true;
		}
	}
	pthread_mutex_unlock(&reg_mtx);
	CHECK(found);
	return c;
}

static void *w_b(void *arg)
{
	__atomic_store_n(&w_b_tid, gettid(), __ATOMIC_RELAXED);
	__atomic_store_n(&w_b_ran, 1, __ATOMIC_RELEASE);
	return arg;
}

/*
 * Queue B, "block" (BLOCKED seq for this lwp) and spin, in coroutine
 * code, until B has run: on another thread, since this one holds the
 * worker.  Fails after 60 s (B never ran: the block was not acted on).
 */
static void block_until_b_ran(uint64_t seq)
{
	uint64_t end = now_ns() + 60000000000ULL;

	__atomic_store_n(&w_b_ran, 0, __ATOMIC_RELAXED);
	CHECK(coro_detach(coro_create(w_sched, w_b, NULL, 0)) == 0);
	post(KP_ACT_BLOCKED, gettid(), cookie_of(gettid()), seq);
	while (!__atomic_load_n(&w_b_ran, __ATOMIC_ACQUIRE))
		CHECK(now_ns() < end);
	CHECK(__atomic_load_n(&w_b_tid, __ATOMIC_RELAXED) != gettid());
}

/* How many spares wait for a vproc (w_sched's list). */
static int spares_waiting(void)
{
	struct lwp *l;
	int n = 0;

	pthread_mutex_lock(&w_sched->lwp_mtx);
	for (l = w_sched->spares; l; l = l->next_spare)
		n++;
	pthread_mutex_unlock(&w_sched->lwp_mtx);
	return n;
}

/*
 * From round 2 on, A first waits until two spares wait (the previous
 * round's taken lwp has joined them), so that the next taker is never
 * the last: then no take starts a thread, however slow the machine.
 */
static void *w_a(void *arg)
{
	uint64_t end;
	long k;

	for (k = 1; k <= w_rounds; k++) {
		end = now_ns() + 60000000000ULL;
		while (k > 1 && spares_waiting() < 2)
			CHECK(now_ns() < end);
		block_until_b_ran((uint64_t)k);
		CHECK_EQ(__atomic_load_n(&w_b_tid, __ATOMIC_RELAXED),
			 __atomic_load_n(&w_claimer, __ATOMIC_ACQUIRE));
		coro_checkpoint();	/* the worker was taken: requeued */
	}
	return arg;
}

static int watcher(long k)
{
	struct coro_sched_attr a = { .workers = 1, .activations = "module" };
	struct coro_stats st;

	unsetenv("CORO_ACTIVATIONS");
	w_rounds = k;
	w_sched = coro_sched_create(&a);
	CHECK(w_sched);
	CHECK(!strcmp(coro_sched_activations(w_sched), "module"));
	act_test_claim_hook = w_hook;
	CHECK(coro_detach(coro_create(w_sched, w_a, NULL, 0)) == 0);
	CHECK_EQ(coro_sched_run(w_sched), 0);
	act_test_claim_hook = NULL;
	coro_sched_stats(w_sched, &st);
	printf("watcher: %ld blocks posted, %llu taken, %llu OS threads\n", k,
	       (unsigned long long)st.taken,
	       (unsigned long long)st.os_threads);
	CHECK_EQ(st.taken, k);
	/* The run's first lwp, the spare started with it, and at most one
	 * started by round 1's take (the only taker that can be the last
	 * spare waiting: w_a()). */
	CHECK(st.os_threads <= 3);
	printf("ok the watcher ran each worker it took, %ld times\n", k);
	coro_sched_destroy(w_sched);
	return 0;
}

/* ---- reblock -------------------------------------------------------- */

static int r_claims;

/*
 * At the first claim, A's lwp "wakes and blocks again", and a second
 * reader reads that while the claim stands (the claimer's own thread
 * stands in for it: deterministic).
 */
static void r_hook(struct coro_sched *s, pid_t tid, int after)
{
	uint64_t c;

	if (after || __atomic_fetch_add(&r_claims, 1, __ATOMIC_RELAXED))
		return;
	c = cookie_of(tid);
	post(KP_ACT_UNBLOCKED, tid, c, 1);
	post(KP_ACT_BLOCKED, tid, c, 2);
	act_listen_once(s);
}

static void *r_a(void *arg)
{
	block_until_b_ran(1);	/* fails if BLOCKED 2 was dropped */
	coro_checkpoint();	/* the worker was taken: requeued */
	return arg;
}

static int reblock(void)
{
	struct coro_sched_attr a = { .workers = 1, .activations = "module" };
	struct coro_stats st;

	unsetenv("CORO_ACTIVATIONS");
	w_sched = coro_sched_create(&a);
	CHECK(w_sched);
	act_test_claim_hook = r_hook;
	CHECK(coro_detach(coro_create(w_sched, r_a, NULL, 0)) == 0);
	CHECK_EQ(coro_sched_run(w_sched), 0);
	act_test_claim_hook = NULL;
	coro_sched_stats(w_sched, &st);
	printf("reblock: %d claims, %llu given back, %llu taken\n",
	       r_claims, (unsigned long long)w_sched->act_stale,
	       (unsigned long long)st.taken);
	CHECK_EQ(r_claims, 2);
	CHECK_EQ(w_sched->act_stale, 1);
	CHECK_EQ(st.taken, 1);
	printf("ok a block read while another reader's claim stood took "
	       "the worker\n");
	coro_sched_destroy(w_sched);
	return 0;
}

/* ---- gone ----------------------------------------------------------- */

static int gone_pipe[2];
static int gone_b_ran, gone_released;
static struct coro_sched *gone_sched;

/* The byte, if the run has not moved on within 60 s (then the test fails). */
static void *gone_releaser(void *arg)
{
	uint64_t end = now_ns() + 60000000000ULL;

	while (!__atomic_load_n(&gone_b_ran, __ATOMIC_ACQUIRE) &&
	       now_ns() < end)
		usleep(1000);
	if (!__atomic_load_n(&gone_b_ran, __ATOMIC_ACQUIRE)) {
		__atomic_store_n(&gone_released, 1, __ATOMIC_RELEASE);
		CHECK(write(gone_pipe[1], "x", 1) == 1);
	}
	return arg;
}

static void *gone_b(void *arg)
{
	__atomic_store_n(&gone_b_ran, 1, __ATOMIC_RELEASE);
	CHECK(write(gone_pipe[1], "x", 1) == 1);
	return arg;
}

static void *gone_a(void *arg)
{
	char c;

	CHECK(coro_detach(coro_create(gone_sched, gone_b, NULL, 0)) == 0);
	/* The device hangs up: the spares on it see EPOLLHUP. */
	CHECK(close(dev_wr) == 0);
	dev_wr = -1;
	CHECK(read(gone_pipe[0], &c, 1) == 1);	/* B, queued behind, writes */
	return arg;
}

static int gone(void)
{
	struct coro_sched_attr a = { .workers = 1, .activations = "module" };
	struct coro_sched *s;
	struct coro_stats st;
	pthread_t th;

	unsetenv("CORO_ACTIVATIONS");
	CHECK(pipe(gone_pipe) == 0);
	s = coro_sched_create(&a);
	CHECK(s);
	gone_sched = s;
	CHECK(!strcmp(coro_sched_activations(s), "module"));
	CHECK(pthread_create(&th, NULL, gone_releaser, NULL) == 0);
	CHECK(coro_detach(coro_create(s, gone_a, NULL, 0)) == 0);
	CHECK_EQ(coro_sched_run(s), 0);
	pthread_join(th, NULL);
	coro_sched_stats(s, &st);
	printf("gone: B ran %s, %llu taken\n",
	       gone_released ? "only after the 60 s release" :
	       "while A was blocked", (unsigned long long)st.taken);
	CHECK(!gone_released);
	CHECK(st.taken >= 1);
	printf("ok the device gone, a monitor thread takes the blocked "
	       "worker\n");
	coro_sched_destroy(s);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "late"))
		return late();
	if (argc == 2 && !strcmp(argv[1], "preempt"))
		return preempt();
	if (argc == 3 && !strcmp(argv[1], "watcher"))
		return watcher(strtol(argv[2], NULL, 0));
	if (argc == 2 && !strcmp(argv[1], "gone"))
		return gone();
	if (argc == 2 && !strcmp(argv[1], "reblock"))
		return reblock();
	fprintf(stderr, "usage: t_fakedev late | preempt | watcher K | gone | "
		"reblock\n");
	return 2;
}
