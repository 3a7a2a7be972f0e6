// SPDX-License-Identifier: GPL-2.0
/*
 * The module mode's listener, on the host: no module, no run.  Events go
 * into a pipe that stands in for /dev/kthread_perf; the lwps are structs
 * whose words the test sets, and a spare is a struct on the spares list
 * (no thread), so that what the listener decides can be read back.
 *
 *   t_act_unit cookies   slots and generations: a cookie of an ended
 *                        registration, of a reused slot, out of range or
 *                        an address names nothing (defect: the cookie was
 *                        the lwp's address, used after the lwp was freed)
 *   t_act_unit stale     events of ended registrations are ignored
 *   t_act_unit seq       BLOCKED n is acted on only while UNBLOCKED n has
 *                        not been read, also when it arrives after the
 *                        claim (the take is given back and counted)
 *   t_act_unit nothread  as nobody with RLIMIT_NPROC 1: a take that finds
 *                        no thread is given back, or the vproc waits for
 *                        the next spare; never abort()
 *   t_act_unit offcpu    an lwp's off_cpu follows PREEMPTED/RESUMED and
 *                        BLOCKED/UNBLOCKED by seq; PREEMPTED takes
 *                        nothing; LOST forgets the preemptions
 *   t_act_unit proc      the /proc fallback: the calling thread is on its
 *                        CPU, a thread asleep in read() is not
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <grp.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "coro.h"
#include "check.h"
#include "act_register.h"
#include "activations.h"
#include "idle.h"
#include "lwp.h"
#include "monitor.h"
#include "kthread_perf_act.h"

static int pfd[2];
static struct coro_sched *s;

static struct coro_sched *fake_module_sched(void)
{
	struct coro_sched_attr a = { .workers = 2, .activations = "off" };
	struct coro_sched *x;

	unsetenv("CORO_ACTIVATIONS");
	x = coro_sched_create(&a);
	CHECK(x);
	CHECK(pipe2(pfd, O_NONBLOCK | O_CLOEXEC) == 0);
	x->act_mode = ACT_MODULE;
	x->act_fd = pfd[0];
	return x;
}

static uint64_t reg(struct lwp *l)
{
	uint64_t cookie;

	pthread_mutex_lock(&s->lwp_mtx);
	CHECK(act_slot_get(s, l, &cookie) == 0);
	pthread_mutex_unlock(&s->lwp_mtx);
	return cookie;
}

static void unreg(struct lwp *l)
{
	pthread_mutex_lock(&s->lwp_mtx);
	act_slot_put(s, l->act_slot);
	pthread_mutex_unlock(&s->lwp_mtx);
}

static struct lwp *named(uint64_t cookie)
{
	struct act_slot *sl;

	pthread_mutex_lock(&s->lwp_mtx);
	sl = act_cookie_slot(s, cookie);
	pthread_mutex_unlock(&s->lwp_mtx);
	return sl ? sl->lwp : NULL;
}

static void post(uint32_t type, uint64_t cookie, uint64_t seq)
{
	struct kp_act_event e = {
		.type = type, .tid = 1, .cookie = cookie, .seq = seq,
	};

	CHECK(write(pfd[1], &e, sizeof(e)) == sizeof(e));
}

static uint64_t in_coro(unsigned int vp)
{
	return 7ULL << 32 | (uint64_t)vp << 2 | ACT_IN_CORO;
}

static uint64_t word(struct lwp *l)
{
	return __atomic_load_n(&l->act_word, __ATOMIC_ACQUIRE);
}

static struct lwp *fake_lwp(pid_t tid)
{
	struct lwp *l = lwp_new(s);

	CHECK(l);
	l->tid = tid;
	return l;
}

/* A spare without a thread: handed a vproc, it keeps it in ->vp. */
static struct lwp *fake_spare(void)
{
	struct lwp *sp = fake_lwp(99);

	pthread_mutex_lock(&s->lwp_mtx);
	sp->next_spare = s->spares;
	s->spares = sp;
	pthread_mutex_unlock(&s->lwp_mtx);
	return sp;
}

static int cookies(void)
{
	struct lwp *a = fake_lwp(1), *b = fake_lwp(2), *c = fake_lwp(3);
	struct lwp *many[100];
	uint64_t ca, cb, cc, cm[100];
	int i;

	ca = reg(a);
	cb = reg(b);
	CHECK(named(ca) == a && named(cb) == b);
	CHECK(ca != cb);
	CHECK(named(ca + (1ULL << 32)) == NULL);	/* a later generation */
	CHECK(named(ca - (1ULL << 32)) == NULL);	/* an earlier one */
	CHECK(named((ca & ~0xffffffffULL) | 1000) == NULL);	/* no slot */
	CHECK(named((uint64_t)(uintptr_t)a) == NULL);	/* an address */
	CHECK(named(0) == NULL);
	unreg(a);
	CHECK(named(ca) == NULL);		/* ended */
	cc = reg(c);				/* the same slot, reused */
	CHECK_EQ((uint32_t)cc, (uint32_t)ca);
	CHECK(cc != ca);
	CHECK(named(ca) == NULL && named(cc) == c && named(cb) == b);
	for (i = 0; i < 100; i++) {		/* the table grows */
		many[i] = fake_lwp(10 + i);
		cm[i] = reg(many[i]);
	}
	for (i = 0; i < 100; i++)
		CHECK(named(cm[i]) == many[i]);
	CHECK(named(cc) == c && named(cb) == b);
	printf("ok cookies: slot and generation; ended, reused, out of "
	       "range and address cookies name no lwp\n");
	return 0;
}

/* Events of ended registrations touch nothing. */
static int stale(void)
{
	struct lwp *old = fake_lwp(1), *now = fake_lwp(2);
	struct lwp *sp = fake_spare();
	uint64_t c_old, c_now;

	c_old = reg(old);
	unreg(old);
	c_now = reg(now);			/* the slot old had */
	__atomic_store_n(&now->act_word, in_coro(1), __ATOMIC_RELEASE);
	post(KP_ACT_BLOCKED, c_old, 1);
	post(KP_ACT_BLOCKED, c_old + 5, 1);	/* out of range */
	post(KP_ACT_BLOCKED, (uint64_t)(uintptr_t)old, 1);
	act_listen_once(s);
	CHECK_EQ(s->act_stale_events, 3);
	CHECK_EQ(word(now), in_coro(1));
	CHECK(sp->vp == NULL);
	CHECK_EQ(s->act_takes, 0);
	/* Its own BLOCKED takes it. */
	post(KP_ACT_BLOCKED, c_now, 1);
	act_listen_once(s);
	CHECK_EQ(ACT_STATE(word(now)), ACT_TAKEN);
	CHECK(sp->vp == &s->vps[1]);
	CHECK_EQ(s->act_takes, 1);
	printf("ok stale: 3 events of an ended registration ignored, the "
	       "slot's new registration taken on its own\n");
	return 0;
}

/* seq test: what the hook does after the claim won. */
static enum { HOOK_NONE, HOOK_WAKE, HOOK_WAKE_NOTICED } hook_does;
static uint64_t hook_cookie, hook_seq;
static struct lwp *hook_lwp;
static int hook_calls;

static void hook(struct coro_sched *x, pid_t tid, int after)
{
	CHECK(x == s && tid == hook_lwp->tid);
	hook_calls++;
	if (after || hook_does == HOOK_NONE)
		return;
	/* The thread is woken now, after the claim: UNBLOCKED n is queued. */
	post(KP_ACT_UNBLOCKED, hook_cookie, hook_seq);
	if (hook_does == HOOK_WAKE_NOTICED)	/* and it reached a yield */
		CHECK_EQ(ACT_STATE(__atomic_exchange_n(&hook_lwp->act_word,
				   ACT_IN_SCHED, __ATOMIC_ACQ_REL)), ACT_TAKEN);
}

static int seq(void)
{
	struct lwp *l = fake_lwp(5);
	struct lwp *sp = fake_spare();
	uint64_t c = reg(l);

	hook_lwp = l;
	hook_cookie = c;
	act_test_claim_hook = hook;

	/* BLOCKED 1 and UNBLOCKED 1 read together: no claim at all. */
	__atomic_store_n(&l->act_word, in_coro(0), __ATOMIC_RELEASE);
	post(KP_ACT_BLOCKED, c, 1);
	post(KP_ACT_UNBLOCKED, c, 1);
	act_listen_once(s);
	CHECK_EQ(hook_calls, 0);
	CHECK_EQ(word(l), in_coro(0));

	/* BLOCKED 2; UNBLOCKED 2 posted after the claim: given back. */
	hook_does = HOOK_WAKE;
	hook_seq = 2;
	post(KP_ACT_BLOCKED, c, 2);
	act_listen_once(s);
	CHECK_EQ(hook_calls, 2);
	CHECK_EQ(word(l), in_coro(0));
	CHECK(sp->vp == NULL);
	CHECK_EQ(s->act_takes, 0);
	CHECK_EQ(s->act_stale, 1);

	/* An old BLOCKED again (1, 2): nothing. */
	post(KP_ACT_BLOCKED, c, 1);
	post(KP_ACT_BLOCKED, c, 2);
	act_listen_once(s);
	CHECK_EQ(hook_calls, 2);

	/* BLOCKED 3, still blocked after the claim: the take stands. */
	hook_does = HOOK_NONE;
	post(KP_ACT_BLOCKED, c, 3);
	post(KP_ACT_UNBLOCKED, c, 2);		/* late, of an earlier block */
	act_listen_once(s);
	CHECK_EQ(hook_calls, 4);
	CHECK_EQ(ACT_STATE(word(l)), ACT_TAKEN);
	CHECK(sp->vp == &s->vps[0]);
	CHECK_EQ(s->act_takes, 1);
	CHECK_EQ(s->act_stale, 1);

	/* BLOCKED 4 woken after the claim, but l noticed the claim first
	 * (it let its vproc go): the take stands, with a new spare. */
	sp = fake_spare();
	__atomic_store_n(&l->act_word, in_coro(1), __ATOMIC_RELEASE);
	hook_does = HOOK_WAKE_NOTICED;
	hook_seq = 4;
	post(KP_ACT_UNBLOCKED, c, 3);
	post(KP_ACT_BLOCKED, c, 4);
	act_listen_once(s);
	CHECK_EQ(hook_calls, 6);
	CHECK(sp->vp == &s->vps[1]);
	CHECK_EQ(s->act_takes, 2);
	CHECK_EQ(s->act_stale, 1);
	CHECK_EQ(s->handoffs, 2);

	/* A BLOCKED in scheduler code (idle): no claim. */
	__atomic_store_n(&l->act_word, ACT_IN_SCHED, __ATOMIC_RELEASE);
	post(KP_ACT_UNBLOCKED, c, 4);
	post(KP_ACT_BLOCKED, c, 5);
	act_listen_once(s);
	CHECK_EQ(hook_calls, 6);
	act_test_claim_hook = NULL;
	printf("ok seq: a BLOCKED whose UNBLOCKED came after the claim is "
	       "given back (1 stale take avoided), a current one taken (2)\n");
	return 0;
}

static void become_nobody_without_threads(void)
{
	struct rlimit r;

	if (geteuid() == 0) {
		CHECK(setgroups(0, NULL) == 0);
		CHECK(setgid(65534) == 0);
		CHECK(setuid(65534) == 0);
	}
	CHECK(getrlimit(RLIMIT_NPROC, &r) == 0);
	r.rlim_cur = 1;
	CHECK(setrlimit(RLIMIT_NPROC, &r) == 0);
}

static int nothread(void)
{
	struct lwp *l = fake_lwp(5), *sp;
	uint64_t c = reg(l);

	become_nobody_without_threads();
	/* No spare, none can be started: l keeps its vproc. */
	__atomic_store_n(&l->act_word, in_coro(1), __ATOMIC_RELEASE);
	post(KP_ACT_BLOCKED, c, 1);
	act_listen_once(s);
	CHECK_EQ(word(l), in_coro(1));
	CHECK_EQ(s->act_takes, 0);
	CHECK_EQ(s->thread_failures, 1);
	CHECK(s->orphans == NULL);

	/* l noticed the claim (let vproc 1 go): the next spare gets it. */
	hook_lwp = l;
	hook_cookie = c;
	hook_does = HOOK_WAKE_NOTICED;
	hook_seq = 2;
	act_test_claim_hook = hook;
	post(KP_ACT_BLOCKED, c, 2);
	act_listen_once(s);
	act_test_claim_hook = NULL;
	CHECK_EQ(s->thread_failures, 2);
	CHECK(s->orphans == &s->vps[1]);
	CHECK_EQ(s->act_takes, 1);
	sp = fake_lwp(6);
	lwp_spare_wait(sp);			/* returns at once */
	CHECK(sp->vp == &s->vps[1]);
	CHECK(s->orphans == NULL);
	printf("ok nothread: a take without a thread given back, or its "
	       "vproc held for the next spare; no abort\n");
	return 0;
}

static int off(struct lwp *l)
{
	return __atomic_load_n(&l->off_cpu, __ATOMIC_RELAXED);
}

static int offcpu(void)
{
	struct lwp *l = fake_lwp(7), *m = fake_lwp(8);
	uint64_t c = reg(l), d = reg(m);

	__atomic_store_n(&l->act_word, in_coro(0), __ATOMIC_RELEASE);
	CHECK_EQ(off(l), 0);
	post(KP_ACT_PREEMPTED, c, 1);
	act_listen_once(s);
	CHECK_EQ(off(l), 1);
	CHECK_EQ(off(m), 0);		/* another lwp's state is its own */
	CHECK_EQ(word(l), in_coro(0));	/* a preempted lwp keeps its vproc */
	CHECK_EQ(s->act_takes, 0);
	post(KP_ACT_RESUMED, c, 1);
	act_listen_once(s);
	CHECK_EQ(off(l), 0);
	/* Read together, in order: the last one counts. */
	post(KP_ACT_PREEMPTED, c, 2);
	post(KP_ACT_RESUMED, c, 2);
	post(KP_ACT_PREEMPTED, c, 3);
	act_listen_once(s);
	CHECK_EQ(off(l), 1);
	post(KP_ACT_RESUMED, c, 2);	/* stale: 3 is current */
	act_listen_once(s);
	CHECK_EQ(off(l), 1);
	/* LOST: RESUMED 3 may be gone; the preemption is forgotten. */
	post(KP_ACT_LOST, 5, 0);
	act_listen_once(s);
	CHECK_EQ(off(l), 0);
	/* A block is off the CPU too (m in scheduler code: no take). */
	post(KP_ACT_BLOCKED, d, 1);
	act_listen_once(s);
	CHECK_EQ(off(m), 1);
	post(KP_ACT_UNBLOCKED, d, 1);
	act_listen_once(s);
	CHECK_EQ(off(m), 0);
	/* A new registration of the slot starts on its CPU. */
	post(KP_ACT_PREEMPTED, d, 1);
	act_listen_once(s);
	CHECK_EQ(off(m), 1);
	unreg(m);
	d = reg(m);
	CHECK_EQ(off(m), 0);
	printf("ok offcpu: off_cpu follows PREEMPTED/RESUMED and "
	       "BLOCKED/UNBLOCKED by seq; LOST forgets preemptions\n");
	return 0;
}

static int sleeper_fd;

static void *sleeper(void *arg)
{
	char c;

	__atomic_store_n((pid_t *)arg, gettid(), __ATOMIC_RELEASE);
	CHECK(read(sleeper_fd, &c, 1) == 1);
	return NULL;
}

/* Thread tid's /proc state letter. */
static char task_state(pid_t tid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	CHECK(n > 0);
	buf[n] = 0;
	p = strrchr(buf, ')');
	CHECK(p && p[1] == ' ');
	return p[2];
}

static int proc(void)
{
	uint64_t end = now_ns() + 60000000000ULL;
	pid_t tid = 0;
	pthread_t t;
	int p[2], i;

	if (access("/proc/self/schedstat", R_OK)) {
		printf("skip proc: no /proc/self/schedstat (CONFIG_SCHED_INFO)\n");
		return 0;
	}
	/* Running: it is reading its own counts. */
	for (i = 0; i < 100; i++)
		CHECK(!proc_off_cpu(gettid()));
	CHECK(pipe(p) == 0);
	sleeper_fd = p[0];
	CHECK(pthread_create(&t, NULL, sleeper, &tid) == 0);
	while (!__atomic_load_n(&tid, __ATOMIC_ACQUIRE) ||
	       task_state(tid) != 'S')
		CHECK(now_ns() < end);
	CHECK(proc_off_cpu(tid));
	CHECK(write(p[1], "x", 1) == 1);
	CHECK(pthread_join(t, NULL) == 0);
	CHECK(!proc_off_cpu(tid));	/* gone: it cannot tell */
	printf("ok proc: the caller is on its CPU, a sleeping thread is "
	       "not\n");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(void);
	} tests[] = {
		{ "cookies", cookies }, { "stale", stale }, { "seq", seq },
		{ "nothread", nothread }, { "offcpu", offcpu },
		{ "proc", proc },
	};
	size_t i;

	for (i = 0; argc == 2 && i < sizeof(tests) / sizeof(tests[0]); i++) {
		if (strcmp(argv[1], tests[i].name))
			continue;
		s = fake_module_sched();
		return tests[i].fn();
	}
	fprintf(stderr, "usage: t_act_unit "
		"cookies|stale|seq|nothread|offcpu|proc\n");
	return 2;
}
