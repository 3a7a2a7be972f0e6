// SPDX-License-Identifier: GPL-2.0
/*
 * act_fuzz: a bounded fuzzer of /dev/kthread_perf (SPEC.md section 9; the
 * ABI is module/uapi/kthread_perf_act.h, v2).
 *
 * --procs processes of --threads threads each run random sequences of the
 * device's calls, drawn from --seed (printed; each thread's sequence of
 * choices is a function of the seed, its process and its index): open,
 * dup, close (also while another thread sits in read or poll), register
 * (valid; twice; bad flags, bad reserved word, bad pointers; unknown ioctl
 * numbers), unregister, read (sizes 0, 1, odd, whole records, huge; bad
 * buffers; blocking and O_NONBLOCK files), poll, fork (the child's calls on
 * the inherited descriptor must fail with EPERM, its poll report
 * EPOLLERR), exec (a registered thread, the leader or not, execs /bin/true
 * or this program, which checks that its old file refuses it and that its
 * registration ended), threads that exit registered, and blocking calls
 * (nanosleep, pipe reads, floods of pipe ping-pong drained by a helper
 * meanwhile) so that events flow and queues overflow.  --try-unload tries
 * delete_module() all along, with a file held open: it must be refused.
 *
 * Every call's result is checked against what the ABI documents, from a
 * model of each process's files, descriptors and registrations; every
 * event read is checked: known type, a cookie this process registered on
 * this file, its thread's tid, not before the registration began nor after
 * its unregister returned, and per registration BLOCKED n, UNBLOCKED n,
 * BLOCKED n+1 ... with no UNBLOCKED alone and no gap that a LOST record
 * does not account for.  Blocking calls are bounded by per-thread timer
 * signals; a watchdog reports a call that does not return.
 *
 * Stops after --iterations calls in all or --seconds, whichever comes first.
 * Prints a JSON summary on stdout.  Exit status 0 when every result was a
 * documented one, 1 on a violation (stderr names the call and the seed),
 * 2 on bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kthread_perf_act.h"

#define PROG		"act_fuzz"
#define MAX_PROCS	16
#define MAX_THREADS	64
#define NSLOTS		8	/* descriptor slots per process */
#define ERRNO_MAX	150
#define BUF_SIZE	(1u << 20)
#define EV_SIZE		sizeof(struct kp_act_event)
/* Timestamps of the kernel and of clock_gettime() may differ this much. */
#define CLOCK_SLACK_NS	2000000ull
#define COOKIE_MAGIC	0xa5ull

/* ---- what is counted ---- */

enum kind {
	K_OPEN, K_CLOSE, K_DUP, K_REGISTER, K_REGISTER_BAD_FLAGS,
	K_REGISTER_BAD_RESERVED, K_REGISTER_BAD_PTR, K_IOCTL_UNKNOWN,
	K_UNREGISTER, K_READ, K_READ_SHORT, K_READ_BAD_BUF, K_READ_HUGE,
	K_POLL, K_FORK, K_EXEC, K_SPAWN, K_CLOSE_RACE, K_BLOCK, K_FLOOD,
	K_MAX
};

static const char *const kind_name[K_MAX] = {
	"open", "close", "dup", "register", "register_bad_flags",
	"register_bad_reserved", "register_bad_ptr", "ioctl_unknown",
	"unregister", "read", "read_short", "read_bad_buf", "read_huge",
	"poll", "fork", "exec", "spawn_exit", "close_race", "block", "flood",
};

/* Per process, in memory shared with the parent. */
struct stats {
	uint64_t calls[K_MAX];
	uint64_t ns[K_MAX];	/* time the threads spent in each kind of op */
	uint64_t errs[K_MAX][ERRNO_MAX];
	uint64_t iterations;
	uint64_t blocked, unblocked, lost_records, lost_events, gaps;
	uint64_t events_unordered;	/* checked without order (see taint) */
	int violation;
	char msg[1024];
};

/* ---- options ---- */

static uint64_t seed;
static unsigned int nprocs = 3, nthreads = 6;
static uint64_t iterations = 5000;
static double seconds = 30;
static double hang_seconds = 30;
static const char *device = KP_ACT_DEVICE;
static bool verbose;
static bool strict_efault;
static const char *unload_module;
static uint64_t unload_attempts;
static char self_exe[4096];

static uint64_t deadline_ns;
static struct stats *all_stats;

/* ---- the model of one process ---- */

enum slot_state { S_FREE, S_RESERVED, S_OPEN, S_CLOSING };

struct fobj {
	int id;
	int slots;		/* open slots that hold a descriptor of it */
	int closing;		/* slots whose close() is under way */
	unsigned int emptied;	/* times its last slot was closed */
	int inflight;		/* calls under way through a slot of it */
	bool dead;		/* released for certain */
	bool nonblock;
	bool chaos;		/* racy reads and bad buffers go here only */
	int racy_inflight;	/* reads under way without rlock */
	uint64_t taint_end;	/* when events were last taken out of order */
	uint64_t lost_total, gaps;
	pthread_mutex_t rlock;	/* one ordered reader at a time */
	struct fobj *next;	/* all files */
};

struct slot {
	enum slot_state state;
	unsigned int gen;
	int users;
	struct fobj *f;
};

enum reg_state { R_PENDING, R_ACTIVE, R_FAILED, R_UNREGISTERED, R_ENDED };

struct reg {
	uint64_t cookie;
	pid_t tid;
	struct fobj *f;
	enum reg_state state;
	int fail_errno;
	uint64_t t_start, t_end;
	uint64_t last_seq;
	uint32_t last_type;
	bool unordered;		/* some of its events were taken out of order */
};

#define REG_CHUNK	4096
#define REG_CHUNKS	4096

struct fthread {
	int idx;		/* 0..nthreads-1; helpers nthreads + owner */
	pid_t tid;
	uint64_t rng;
	timer_t timer;
	bool timer_ok;
	struct reg *reg;	/* the registration it believes it has */
	char *buf;
	int pipe[2];
	uint64_t budget;
	const char *volatile cur;	/* the call under way, for the watchdog */
	volatile uint64_t cur_start;
	volatile int in_call;
	pthread_t pt;
	/* for helpers */
	int arg_slot;
	unsigned int arg_gen;
	int stop;
};

static struct {
	int index;
	struct stats *st;
	pthread_mutex_t lock;	/* everything below, slots, files, regs */
	struct slot slot[NSLOTS];
	int slot_base;
	struct fobj *files;
	int nfiles;
	int children;
	struct reg *regs[REG_CHUNKS];
	uint64_t nregs;
	int relay[2];
	char *guard;		/* a page, then a PROT_NONE page */
	long page;
	struct fthread *threads[2 * MAX_THREADS];
} P = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* ---- small helpers ---- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A number in [0, n). */
static uint64_t rnd(struct fthread *t, uint64_t n)
{
	return n ? splitmix(&t->rng) % n : 0;
}

static bool chance(struct fthread *t, unsigned int percent)
{
	return rnd(t, 100) < percent;
}

static const char *ename(int e)
{
	const char *s = e ? strerrorname_np(e) : "success";

	return s ? s : "unknown errno";
}

/* A violation: say what, where and with which seed, and end the process. */
static void __attribute__((noreturn, format(printf, 2, 3)))
violation(struct fthread *t, const char *fmt, ...)
{
	char msg[900];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = snprintf(P.st->msg, sizeof(P.st->msg),
		     "process %d thread %d (tid %d): %s", P.index,
		     t ? t->idx : -1, t ? t->tid : (int)getpid(), msg);
	__atomic_store_n(&P.st->violation, 1, __ATOMIC_SEQ_CST);
	dprintf(2, "%s: violation (seed %" PRIu64 "): %.*s\n", PROG, seed,
		n, P.st->msg);
	_exit(1);
}

static void count(enum kind k, int err)
{
	__atomic_fetch_add(&P.st->calls[k], 1, __ATOMIC_RELAXED);
	if (err > 0 && err < ERRNO_MAX)
		__atomic_fetch_add(&P.st->errs[k][err], 1, __ATOMIC_RELAXED);
}

static bool in_list(int e, const int *list)
{
	for (; *list; list++)
		if (*list == e)
			return true;
	return false;
}

#define ERRS(...) ((const int[]){ __VA_ARGS__, 0 })

static void begin(struct fthread *t, const char *what)
{
	t->cur_start = now_ns();
	t->cur = what;
	__atomic_store_n(&t->in_call, 1, __ATOMIC_RELEASE);
	if (verbose)
		dprintf(2, "%s: p%d t%d %s\n", PROG, P.index, t->idx, what);
}

static void end(struct fthread *t)
{
	__atomic_store_n(&t->in_call, 0, __ATOMIC_RELEASE);
	t->cur = NULL;
}

/* ---- timer signals: a bound on every blocking call ---- */

#define TIMER_SIG	(SIGRTMIN + 3)

static void timer_handler(int sig)
{
	(void)sig;
}

static void timer_setup(struct fthread *t)
{
	struct sigevent sev;

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = TIMER_SIG;
	sev._sigev_un._tid = t->tid;
	t->timer_ok = !timer_create(CLOCK_MONOTONIC, &sev, &t->timer);
	if (!t->timer_ok)
		violation(t, "timer_create: %s (not a device call)", ename(errno));
}

/* Interrupt this thread after ms, and every 10 ms after that. */
static void arm(struct fthread *t, long ms)
{
	struct itimerspec its = {
		.it_value = { ms / 1000, (ms % 1000) * 1000000 + 1 },
		.it_interval = { 0, 10000000 },
	};

	timer_settime(t->timer, 0, &its, NULL);
}

static void disarm(struct fthread *t)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	timer_settime(t->timer, 0, &its, NULL);
}

/* ---- slots: descriptors at fixed numbers, so none is reused under a
 * thread that still means the old file.  All under P.lock. ---- */

struct ref {
	int slot;
	unsigned int gen;
	struct fobj *f;
	int fd;
};

static int slot_fd(int i)
{
	return P.slot_base + i;
}

/* The file is released for certain: no descriptor, call or child holds it. */
static void maybe_dead(struct fobj *f)
{
	if (!f->dead && !f->slots && !f->closing && !f->inflight && !P.children)
		f->dead = true;
}

static void recheck_dead(void)
{
	struct fobj *f;

	for (f = P.files; f; f = f->next)
		maybe_dead(f);
}

/* Take a reference on a random open slot (or slot `want`, gen `gen`). */
static bool slot_get(struct fthread *t, struct ref *r, int want, unsigned int gen)
{
	int i, k, open[NSLOTS], n = 0;

	pthread_mutex_lock(&P.lock);
	for (i = 0; i < NSLOTS; i++)
		if (P.slot[i].state == S_OPEN)
			open[n++] = i;
	if (want >= 0) {
		n = 0;
		if (P.slot[want].state == S_OPEN && P.slot[want].gen == gen)
			open[n++] = want;
	}
	if (!n) {
		pthread_mutex_unlock(&P.lock);
		return false;
	}
	k = open[rnd(t, n)];
	P.slot[k].users++;
	P.slot[k].f->inflight++;
	r->slot = k;
	r->gen = P.slot[k].gen;
	r->f = P.slot[k].f;
	r->fd = slot_fd(k);
	pthread_mutex_unlock(&P.lock);
	return true;
}

/* Under P.lock: was the slot closed since the reference was taken? */
static bool slot_changed(const struct ref *r)
{
	const struct slot *s = &P.slot[r->slot];

	return s->state != S_OPEN || s->gen != r->gen;
}

static void slot_put_locked(struct ref *r)
{
	P.slot[r->slot].users--;
	r->f->inflight--;
	maybe_dead(r->f);
}

static void slot_put(struct ref *r)
{
	pthread_mutex_lock(&P.lock);
	slot_put_locked(r);
	pthread_mutex_unlock(&P.lock);
}

/* Reserve a free slot (closed, nobody still using its number). */
static int slot_reserve(struct fthread *t)
{
	int i, k, freel[NSLOTS], n = 0;

	pthread_mutex_lock(&P.lock);
	for (i = 0; i < NSLOTS; i++)
		if (P.slot[i].state == S_FREE && !P.slot[i].users)
			freel[n++] = i;
	k = n ? freel[rnd(t, n)] : -1;
	if (k >= 0)
		P.slot[k].state = S_RESERVED;
	pthread_mutex_unlock(&P.lock);
	return k;
}

/* Under P.lock: slot k, reserved, now holds f. */
static void slot_fill_locked(int k, struct fobj *f)
{
	P.slot[k].state = S_OPEN;
	P.slot[k].gen++;
	P.slot[k].f = f;
	f->slots++;
}

/* ---- registrations ---- */

static struct reg *reg_new(struct fthread *t, struct fobj *f)
{
	uint64_t n;
	struct reg *r;

	pthread_mutex_lock(&P.lock);
	n = P.nregs;
	if (n / REG_CHUNK >= REG_CHUNKS)
		violation(t, "too many registrations for the model (%" PRIu64 ")", n);
	if (!P.regs[n / REG_CHUNK]) {
		P.regs[n / REG_CHUNK] = calloc(REG_CHUNK, sizeof(struct reg));
		if (!P.regs[n / REG_CHUNK])
			violation(t, "out of memory (not a device call)");
	}
	r = &P.regs[n / REG_CHUNK][n % REG_CHUNK];
	r->cookie = COOKIE_MAGIC << 56 | (uint64_t)P.index << 40 | n;
	r->tid = t->tid;
	r->f = f;
	r->state = R_PENDING;
	r->t_start = now_ns();
	P.nregs = n + 1;
	pthread_mutex_unlock(&P.lock);
	return r;
}

/* Under P.lock. */
static struct reg *reg_find(uint64_t cookie)
{
	uint64_t n = cookie & ((1ull << 40) - 1);

	if (cookie >> 56 != COOKIE_MAGIC ||
	    ((cookie >> 40) & 0xffff) != (uint64_t)P.index || n >= P.nregs)
		return NULL;
	return &P.regs[n / REG_CHUNK][n % REG_CHUNK];
}

enum reg_status { NONE, ON, MAYBE };

/* Under P.lock: is t registered?  MAYBE: on a file whose last descriptor
 * is closed but which may not be released yet. */
static enum reg_status reg_status(struct fthread *t)
{
	struct reg *r = t->reg;

	if (!r)
		return NONE;
	if (r->f->dead) {
		r->state = R_ENDED;
		t->reg = NULL;
		return NONE;
	}
	return r->f->slots ? ON : MAYBE;
}

static const char *status_name(enum reg_status s)
{
	return s == NONE ? "not registered" : s == ON ?
		"registered on a live file" : "registered on a file being released";
}

/* ---- events ---- */

/* Check n events read from f.  Under P.lock. */
static void check_events(struct fthread *t, struct fobj *f,
			 const struct kp_act_event *ev, size_t n,
			 const char *call, bool racy)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct kp_act_event *e = &ev[i];
		struct reg *r;
		bool gap = false;

		switch (e->type) {
		case KP_ACT_LOST:
			if (e->tid || e->seq || !e->cookie)
				violation(t, "%s: LOST record %zu with tid %u seq %llu count %llu (tid and seq 0, count > 0)",
					  call, i, e->tid, (unsigned long long)e->seq,
					  (unsigned long long)e->cookie);
			f->lost_total += e->cookie;
			P.st->lost_records++;
			P.st->lost_events += e->cookie;
			continue;
		case KP_ACT_BLOCKED:
			P.st->blocked++;
			break;
		case KP_ACT_UNBLOCKED:
			P.st->unblocked++;
			break;
		default:
			violation(t, "%s: event %zu has unknown type %u", call, i,
				  e->type);
		}
		r = reg_find(e->cookie);
		if (!r)
			violation(t, "%s: event %zu (type %u tid %u) has cookie %#llx, which no thread of this process registered",
				  call, i, e->type, e->tid,
				  (unsigned long long)e->cookie);
		if (r->f != f)
			violation(t, "%s: event %zu of a registration on file %d read from file %d",
				  call, i, r->f->id, f->id);
		if (r->state == R_FAILED)
			violation(t, "%s: event %zu of a registration that failed with %s",
				  call, i, ename(r->fail_errno));
		if ((pid_t)e->tid != r->tid)
			violation(t, "%s: event %zu has tid %u, its registration's thread is %d",
				  call, i, e->tid, r->tid);
		if (!e->seq)
			violation(t, "%s: event %zu (type %u) has seq 0", call, i,
				  e->type);
		if (e->time_ns + CLOCK_SLACK_NS < r->t_start)
			violation(t, "%s: event %zu of tid %u at %llu ns, %llu ns before its KP_ACT_REGISTER began",
				  call, i, e->tid, (unsigned long long)e->time_ns,
				  (unsigned long long)(r->t_start - e->time_ns));
		if (r->state == R_UNREGISTERED &&
		    e->time_ns > r->t_end + CLOCK_SLACK_NS)
			violation(t, "%s: event %zu (type %u seq %llu) of tid %u at %llu ns, %llu ns after its KP_ACT_UNREGISTER returned",
				  call, i, e->type, (unsigned long long)e->seq,
				  e->tid, (unsigned long long)e->time_ns,
				  (unsigned long long)(e->time_ns - r->t_end));
		/*
		 * The order of a registration's events is checked only when
		 * this reader saw all of them in the order they were taken:
		 * not by a reader without rlock, nor while one is under way,
		 * nor when events were taken out of order since it began (by
		 * such a reader, or by a read that failed with EFAULT).
		 */
		if (f->taint_end >= r->t_start)
			r->unordered = true;
		if (racy || r->unordered || f->racy_inflight) {
			P.st->events_unordered++;
			if (e->seq > r->last_seq ||
			    (e->seq == r->last_seq && e->type == KP_ACT_UNBLOCKED)) {
				r->last_seq = e->seq;
				r->last_type = e->type;
			}
			continue;
		}
		if (e->type == KP_ACT_UNBLOCKED) {
			if (r->last_type != KP_ACT_BLOCKED || e->seq != r->last_seq)
				violation(t, "%s: event %zu: UNBLOCKED seq %llu of tid %u follows %s seq %llu (no UNBLOCKED without its BLOCKED)",
					  call, i, (unsigned long long)e->seq, e->tid,
					  r->last_type == KP_ACT_BLOCKED ? "BLOCKED" :
					  r->last_type ? "UNBLOCKED" : "nothing",
					  (unsigned long long)r->last_seq);
		} else {
			if (e->seq <= r->last_seq)
				violation(t, "%s: event %zu: BLOCKED seq %llu of tid %u after seq %llu (seq goes forward)",
					  call, i, (unsigned long long)e->seq, e->tid,
					  (unsigned long long)r->last_seq);
			gap = e->seq != r->last_seq + 1 ||
			      r->last_type == KP_ACT_BLOCKED;
		}
		if (gap) {
			f->gaps++;
			P.st->gaps++;
			if (f->gaps > f->lost_total)
				violation(t, "%s: event %zu: BLOCKED seq %llu of tid %u after %s seq %llu: %" PRIu64 " gaps on this file, only %" PRIu64 " events counted LOST",
					  call, i, (unsigned long long)e->seq, e->tid,
					  r->last_type == KP_ACT_BLOCKED ? "BLOCKED" :
					  r->last_type ? "UNBLOCKED" : "nothing",
					  (unsigned long long)r->last_seq, f->gaps,
					  f->lost_total);
		}
		r->last_seq = e->seq;
		r->last_type = e->type;
	}
}

/* ---- the operations ---- */

static void op_open(struct fthread *t)
{
	int flags = (chance(t, 80) ? O_RDWR : O_RDONLY) |
		(chance(t, 40) ? O_NONBLOCK : 0) |
		(chance(t, 50) ? O_CLOEXEC : 0);
	struct fobj *f;
	int fd, e, k;

	begin(t, "open");
	fd = open(device, flags);
	e = fd < 0 ? errno : 0;
	end(t);
	count(K_OPEN, e);
	if (fd < 0) {
		if (in_list(e, ERRS(EMFILE, ENFILE, ENOMEM)))
			return;
		violation(t, "open(%s, %#x) failed with %s (documented: EMFILE, ENFILE)",
			  device, flags, ename(e));
	}
	k = slot_reserve(t);
	if (k < 0) {
		/* No free slot: the file is closed at once (its release). */
		begin(t, "close of a file just opened");
		if (close(fd))
			violation(t, "close of a file just opened: %s", ename(errno));
		end(t);
		return;
	}
	if (dup3(fd, slot_fd(k), flags & O_CLOEXEC) < 0)
		violation(t, "dup3 into slot %d: %s (not a device call)", k,
			  ename(errno));
	close(fd);
	f = calloc(1, sizeof(*f));
	if (!f)
		violation(t, "out of memory (not a device call)");
	pthread_mutex_init(&f->rlock, NULL);
	f->nonblock = flags & O_NONBLOCK;
	f->chaos = chance(t, 40);
	pthread_mutex_lock(&P.lock);
	f->id = P.nfiles++;
	f->next = P.files;
	P.files = f;
	slot_fill_locked(k, f);
	pthread_mutex_unlock(&P.lock);
}

/* Close slot `want` (gen) or a random open one. */
static void close_slot(struct fthread *t, enum kind kind, int want,
		       unsigned int gen)
{
	int i, k, open[NSLOTS], n = 0, rc, e;
	struct fobj *f;
	char what[64];

	pthread_mutex_lock(&P.lock);
	for (i = 0; i < NSLOTS; i++)
		if (P.slot[i].state == S_OPEN &&
		    (want < 0 || (i == want && P.slot[i].gen == gen)))
			open[n++] = i;
	if (!n) {
		pthread_mutex_unlock(&P.lock);
		return;
	}
	k = open[rnd(t, n)];
	f = P.slot[k].f;
	P.slot[k].state = S_CLOSING;
	P.slot[k].gen++;
	if (!--f->slots)
		f->emptied++;
	f->closing++;
	pthread_mutex_unlock(&P.lock);

	snprintf(what, sizeof(what), "close(slot %d, file %d)", k, f->id);
	begin(t, what);
	rc = close(slot_fd(k));
	e = rc ? errno : 0;
	end(t);
	count(kind, e);
	if (rc)
		violation(t, "%s failed with %s", what, ename(e));
	pthread_mutex_lock(&P.lock);
	P.slot[k].state = S_FREE;
	P.slot[k].f = NULL;
	f->closing--;
	maybe_dead(f);
	pthread_mutex_unlock(&P.lock);
}

static void op_dup(struct fthread *t)
{
	struct ref r;
	int k, rc, e, cloexec = chance(t, 50) ? O_CLOEXEC : 0;

	if (!slot_get(t, &r, -1, 0))
		return;
	k = slot_reserve(t);
	if (k < 0) {
		slot_put(&r);
		return;
	}
	begin(t, "dup3");
	rc = dup3(r.fd, slot_fd(k), cloexec);
	e = rc < 0 ? errno : 0;
	end(t);
	count(K_DUP, e);
	pthread_mutex_lock(&P.lock);
	if (rc >= 0) {
		slot_fill_locked(k, r.f);
	} else {
		P.slot[k].state = S_FREE;
		if (e != EBADF || !slot_changed(&r))
			violation(t, "dup3(slot %d) failed with %s", r.slot, ename(e));
	}
	slot_put_locked(&r);
	pthread_mutex_unlock(&P.lock);
}

enum reg_variant { RV_VALID, RV_FLAGS, RV_RESERVED, RV_PTR };

static void op_register(struct fthread *t, enum reg_variant v)
{
	static const enum kind kinds[] = { K_REGISTER, K_REGISTER_BAD_FLAGS,
		K_REGISTER_BAD_RESERVED, K_REGISTER_BAD_PTR };
	struct kp_act_register a, *arg = &a;
	enum reg_status st;
	struct reg *r, *old;
	char what[160];
	const char *how = "";
	struct ref ref;
	unsigned int emptied = 0;
	int rc, e;

	if (!slot_get(t, &ref, -1, 0))
		return;
	r = reg_new(t, ref.f);
	memset(&a, 0, sizeof(a));
	a.cookie = r->cookie;
	switch (v) {
	case RV_VALID:
		break;
	case RV_FLAGS:
		a.flags = (uint32_t)(1u << rnd(t, 32)) | (uint32_t)rnd(t, 1u << 16) << 16;
		/* At least one bit the module does not know. */
		if (!(a.flags & ~KP_ACT_REG_FLAGS))
			a.flags |= 1u << 31;
		break;
	case RV_RESERVED:
		a.reserved = (uint32_t)(1u << rnd(t, 32));
		break;
	case RV_PTR:
		switch (rnd(t, 4)) {
		case 0:
			arg = NULL;
			how = "NULL";
			break;
		case 1:
			arg = (void *)(uintptr_t)8;
			how = "address 8";
			break;
		case 2:	/* the guard page itself */
			arg = (void *)(P.guard + P.page);
			how = "a PROT_NONE page";
			break;
		default:	/* the cookie readable, the flags not */
			arg = (void *)(P.guard + P.page - 8);
			memcpy(arg, &a.cookie, 8);
			how = "a struct that straddles a PROT_NONE page";
			break;
		}
		break;
	}
	snprintf(what, sizeof(what),
		 "KP_ACT_REGISTER(slot %d, file %d, flags %#x, reserved %#x%s%s)",
		 ref.slot, ref.f->id, a.flags, a.reserved, *how ? ", " : "", how);

	pthread_mutex_lock(&P.lock);
	st = reg_status(t);
	old = t->reg;
	if (old)
		emptied = old->f->emptied;
	pthread_mutex_unlock(&P.lock);

	begin(t, what);
	rc = ioctl(ref.fd, KP_ACT_REGISTER, arg);
	e = rc ? errno : 0;
	end(t);
	count(kinds[v], e);

	pthread_mutex_lock(&P.lock);
	/*
	 * Another thread may have closed the old file's last descriptor
	 * since st was read, and so ended the registration before the call.
	 */
	if (st == ON && old->f->emptied != emptied)
		st = MAYBE;
	if (!rc) {
		if (v != RV_VALID)
			violation(t, "%s succeeded (documented: %s)", what,
				  v == RV_PTR ? "EFAULT" : "EINVAL");
		if (st == ON)
			violation(t, "%s succeeded although the thread is registered on file %d, still open (documented: EBUSY)",
				  what, old->f->id);
		if (st == MAYBE) {
			/* So the old file was released, and that ended it. */
			old->state = R_ENDED;
		}
		r->state = R_ACTIVE;
		t->reg = r;
	} else {
		r->state = R_FAILED;
		r->fail_errno = e;
		if (e == EBADF && slot_changed(&ref))
			goto out;
		if (in_list(e, ERRS(EDQUOT, ENOSPC, ENOMEM)))
			goto out;
		if (e == EBUSY && st != NONE)
			goto out;
		if (e == EBUSY)
			violation(t, "%s failed with EBUSY but the thread is not registered",
				  what);
		if ((v == RV_FLAGS || v == RV_RESERVED) && e == EINVAL)
			goto out;
		if (v == RV_PTR && e == EFAULT)
			goto out;
		violation(t, "%s failed with %s (the thread is %s; documented: %s)",
			  what, ename(e), status_name(st),
			  v == RV_VALID ? (st == NONE ? "success, EDQUOT, ENOSPC" :
					   "EBUSY") :
			  v == RV_PTR ? "EFAULT" : "EINVAL");
	}
out:
	slot_put_locked(&ref);
	pthread_mutex_unlock(&P.lock);
}

static void op_ioctl_unknown(struct fthread *t)
{
	static const unsigned long cmds[] = {
		_IOW('k', 1, __u64),		/* ABI v1's register */
		_IO('k', 2),			/* ABI v1's unregister */
		_IOW(KP_ACT_IOC_MAGIC, 0x01, __u64),	/* wrong size */
		_IOR(KP_ACT_IOC_MAGIC, 0x01, struct kp_act_register),
		_IOW(KP_ACT_IOC_MAGIC, 0x02, struct kp_act_register),
		_IO(KP_ACT_IOC_MAGIC, 0x00),
		_IO(KP_ACT_IOC_MAGIC, 0x03),
		_IOWR(KP_ACT_IOC_MAGIC, 0x7f, struct kp_act_register),
	};
	struct kp_act_register a = { .cookie = 1 };
	unsigned long cmd = cmds[rnd(t, sizeof(cmds) / sizeof(cmds[0]))];
	struct ref ref;
	char what[64];
	int rc, e;

	if (!slot_get(t, &ref, -1, 0))
		return;
	snprintf(what, sizeof(what), "ioctl(slot %d, %#lx)", ref.slot, cmd);
	begin(t, what);
	rc = ioctl(ref.fd, cmd, &a);
	e = rc ? errno : 0;
	end(t);
	count(K_IOCTL_UNKNOWN, e);
	pthread_mutex_lock(&P.lock);
	if (!(e == ENOTTY || (e == EBADF && slot_changed(&ref))))
		violation(t, "%s returned %d, %s (documented: ENOTTY)", what, rc,
			  ename(e));
	slot_put_locked(&ref);
	pthread_mutex_unlock(&P.lock);
}

static void op_unregister(struct fthread *t)
{
	enum reg_status st;
	struct reg *old;
	struct ref ref;
	char what[80];
	uint64_t t_end;
	int rc, e;
	bool mine;

	if (!slot_get(t, &ref, -1, 0))
		return;
	pthread_mutex_lock(&P.lock);
	st = reg_status(t);
	old = t->reg;
	mine = st == ON && old->f == ref.f;
	pthread_mutex_unlock(&P.lock);
	snprintf(what, sizeof(what), "KP_ACT_UNREGISTER(slot %d, file %d)",
		 ref.slot, ref.f->id);
	begin(t, what);
	rc = ioctl(ref.fd, KP_ACT_UNREGISTER, 0);
	e = rc ? errno : 0;
	t_end = now_ns();
	end(t);
	count(K_UNREGISTER, e);
	pthread_mutex_lock(&P.lock);
	if (!rc) {
		if (!mine)
			violation(t, "%s succeeded but the thread is %s%s (documented: ENOENT)",
				  what, status_name(st),
				  st == NONE ? "" : " on another file");
		old->state = R_UNREGISTERED;
		old->t_end = t_end;
		t->reg = NULL;
	} else if (!(e == EBADF && slot_changed(&ref))) {
		if (mine)
			violation(t, "%s failed with %s, the thread registered on this file",
				  what, ename(e));
		if (e != ENOENT)
			violation(t, "%s failed with %s (documented: ENOENT)",
				  what, ename(e));
	}
	slot_put_locked(&ref);
	pthread_mutex_unlock(&P.lock);
}

enum read_variant { RD_NORMAL, RD_SHORT, RD_BAD_BUF, RD_HUGE, RD_DRAIN };

/*
 * A read of slot `want` (any slot when -1); `racy` skips the reader lock.
 * Returns what read() did (-errno on failure), -EBADF when the slot was
 * not open.
 */
static ssize_t do_read(struct fthread *t, enum read_variant v, int want,
		       unsigned int gen, bool racy)
{
	static const enum kind kinds[] = { K_READ, K_READ_SHORT,
		K_READ_BAD_BUF, K_READ_HUGE, K_READ };
	char *buf = t->buf;
	size_t cnt, valid = BUF_SIZE;	/* bytes the kernel may write */
	const char *how = "buffer valid";
	struct ref ref;
	char what[200];
	ssize_t rc;
	long ms = 0;
	int e;

	if (!slot_get(t, &ref, want, gen))
		return -EBADF;
	/* Order is checked on the other files: only serial reads there. */
	if (!ref.f->chaos) {
		racy = false;
		if (v == RD_BAD_BUF && !strict_efault)
			v = RD_NORMAL;
	}
	switch (v) {
	case RD_DRAIN:
		cnt = EV_SIZE * 256;
		break;
	case RD_NORMAL:
		cnt = EV_SIZE * (1 + rnd(t, chance(t, 50) ? 4 : 64));
		if (chance(t, 30))
			cnt += 1 + rnd(t, EV_SIZE - 1);	/* odd sizes */
		break;
	case RD_SHORT:
		cnt = rnd(t, EV_SIZE);		/* 0 .. 23 */
		break;
	case RD_HUGE:
		cnt = chance(t, 70) || !ref.f->chaos ? BUF_SIZE :
			SIZE_MAX >> rnd(t, 2);
		if (cnt > BUF_SIZE)
			how = "count beyond the buffer";
		break;
	default:
		cnt = EV_SIZE * (1 + rnd(t, 8));
		switch (rnd(t, 3)) {
		case 0:
			buf = NULL;
			valid = 0;
			how = "NULL";
			break;
		case 1:
			buf = P.guard + P.page;
			valid = 0;
			how = "a PROT_NONE page";
			break;
		default:	/* one record fits before the guard page */
			buf = P.guard + P.page - EV_SIZE;
			valid = EV_SIZE;
			how = "one record before a PROT_NONE page";
			break;
		}
		break;
	}
	if (racy) {
		pthread_mutex_lock(&P.lock);
		ref.f->racy_inflight++;
		pthread_mutex_unlock(&P.lock);
	} else {
		pthread_mutex_lock(&ref.f->rlock);
	}
	if (!ref.f->nonblock)
		ms = v == RD_DRAIN ? 2 : 1 + (long)rnd(t, chance(t, 80) ? 20 : 150);
	snprintf(what, sizeof(what),
		 "read(slot %d, file %d%s, count %zu, %s%s)", ref.slot,
		 ref.f->id, ref.f->nonblock ? " O_NONBLOCK" : "", cnt, how,
		 racy ? ", concurrent readers" : "");
	begin(t, what);
	if (ms)
		arm(t, ms);
	rc = read(ref.fd, buf, cnt);
	e = rc < 0 ? errno : 0;
	if (ms)
		disarm(t);
	end(t);
	count(kinds[v], e);

	pthread_mutex_lock(&P.lock);
	if ((racy && rc > 0) || (e == EFAULT && (!strict_efault || ref.f->chaos)))
		ref.f->taint_end = now_ns();
	if (rc >= 0) {
		if (cnt < EV_SIZE && !(rc == 0 && cnt == 0))
			violation(t, "%s returned %zd (documented: EINVAL)", what, rc);
		if (cnt >= EV_SIZE && (rc == 0 || rc % EV_SIZE || (size_t)rc > cnt))
			violation(t, "%s returned %zd bytes (whole records of %zu bytes, at least one)",
				  what, rc, EV_SIZE);
		if ((size_t)rc > valid)
			violation(t, "%s returned %zd bytes into %zu writable ones",
				  what, rc, valid);
		if (rc > 0)
			check_events(t, ref.f, (const struct kp_act_event *)buf,
				     (size_t)rc / EV_SIZE, what, racy);
	} else if (e == EBADF && slot_changed(&ref)) {
		/* closed under us: fine */
	} else if (cnt < EV_SIZE) {
		if (!(e == EINVAL || (v == RD_BAD_BUF && e == EFAULT)))
			violation(t, "%s failed with %s (documented: EINVAL)",
				  what, ename(e));
	} else if (e == EAGAIN) {
		if (!ref.f->nonblock)
			violation(t, "%s of a blocking file failed with EAGAIN", what);
	} else if (e == EINTR) {
		if (ref.f->nonblock)
			violation(t, "%s of an O_NONBLOCK file failed with EINTR", what);
	} else if (e == EFAULT) {
		if (v != RD_BAD_BUF && !(v == RD_HUGE && cnt > BUF_SIZE))
			violation(t, "%s failed with EFAULT", what);
	} else if (!(e == EINVAL && v == RD_HUGE && cnt > BUF_SIZE)) {
		violation(t, "%s failed with %s (documented: EAGAIN, EINTR, EINVAL, EFAULT)",
			  what, ename(e));
	}
	if (racy)
		ref.f->racy_inflight--;
	slot_put_locked(&ref);
	pthread_mutex_unlock(&P.lock);
	if (!racy)
		pthread_mutex_unlock(&ref.f->rlock);
	return rc < 0 ? -e : rc;
}

static void do_poll(struct fthread *t, int want, unsigned int gen)
{
	struct pollfd pfd;
	struct ref ref;
	char what[100];
	int timeout, rc, e;
	short bad;

	if (!slot_get(t, &ref, want, gen))
		return;
	timeout = chance(t, 30) ? 0 : chance(t, 70) ? 1 + (int)rnd(t, 20) : -1;
	if (want >= 0)
		timeout = -1;
	pfd.fd = ref.fd;
	pfd.events = POLLIN | (chance(t, 20) ? POLLOUT : 0);
	pfd.revents = 0;
	snprintf(what, sizeof(what), "poll(slot %d, file %d, events %#x, timeout %d)",
		 ref.slot, ref.f->id, pfd.events, timeout);
	begin(t, what);
	if (timeout < 0)
		arm(t, 1 + (long)rnd(t, 100));
	rc = poll(&pfd, 1, timeout);
	e = rc < 0 ? errno : 0;
	if (timeout < 0)
		disarm(t);
	end(t);
	count(K_POLL, e);
	pthread_mutex_lock(&P.lock);
	bad = pfd.revents & ~(POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM);
	if (rc == 1 && (pfd.revents & POLLNVAL) && slot_changed(&ref))
		bad = 0;
	if (rc < 0 && !(e == EINTR && timeout < 0))
		violation(t, "%s failed with %s", what, ename(e));
	if (rc > 1 || (rc == 1 && !pfd.revents) || (rc == 0 && pfd.revents))
		violation(t, "%s returned %d with revents %#x", what, rc, pfd.revents);
	if (rc == 1 && bad)
		violation(t, "%s reported revents %#x to the file's own process",
			  what, pfd.revents);
	slot_put_locked(&ref);
	pthread_mutex_unlock(&P.lock);
}

/* ---- threads ---- */

static void thread_init(struct fthread *t)
{
	t->tid = gettid();
	if (pipe2(t->pipe, O_CLOEXEC))
		violation(t, "pipe2: %s (not a device call)", ename(errno));
	timer_setup(t);
}

static void thread_fini(struct fthread *t)
{
	timer_delete(t->timer);
	close(t->pipe[0]);
	close(t->pipe[1]);
}

static struct fthread *helper(struct fthread *t)
{
	struct fthread *h = P.threads[nthreads + t->idx];

	memset(h, 0, sizeof(*h));
	h->idx = nthreads + t->idx;
	h->rng = t->rng ^ 0x5555aaaa5555aaaaull;
	splitmix(&t->rng);
	h->buf = t->buf + BUF_SIZE;
	return h;
}

/* ---- blocking: so that registered threads' events flow ---- */

static void op_block(struct fthread *t)
{
	struct timespec ts = { 0, 0 };
	char c = 'x';
	ssize_t rc;

	count(K_BLOCK, 0);
	switch (rnd(t, 3)) {
	case 0:
		ts.tv_nsec = 10000 + (long)rnd(t, 500000);
		begin(t, "nanosleep");
		nanosleep(&ts, NULL);
		end(t);
		break;
	case 1:	/* a pipe that another thread may have emptied */
		begin(t, "read of the relay pipe");
		if (write(P.relay[1], &c, 1) != 1)
			violation(t, "write to the relay pipe: %s", ename(errno));
		arm(t, 50);
		rc = read(P.relay[0], &c, 1);
		disarm(t);
		end(t);
		if (rc != 1 && errno != EINTR)
			violation(t, "read of the relay pipe: %s", ename(errno));
		break;
	default:	/* an empty pipe, until the timer's signal */
		begin(t, "read of an empty pipe");
		arm(t, 1 + (long)rnd(t, 5));
		rc = read(t->pipe[0], &c, 1);
		disarm(t);
		end(t);
		if (rc >= 0 || errno != EINTR)
			violation(t, "read of an empty pipe returned %zd (%s)", rc,
				  ename(errno));
		break;
	}
}

/* Read slot (want, gen) until it is empty (or gone). */
static void drain(struct fthread *t, int want, unsigned int gen)
{
	int i;

	for (i = 0; i < 1000; i++)
		if (do_read(t, RD_DRAIN, want, gen, false) <= 0)
			break;
}

static void *drainer_fn(void *p)
{
	struct fthread *t = p;
	int i;

	thread_init(t);
	for (i = 0; i < 5000 && !__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE); i++)
		if (do_read(t, RD_DRAIN, t->arg_slot, t->arg_gen, false) == -EBADF)
			break;
	drain(t, t->arg_slot, t->arg_gen);
	thread_fini(t);
	return NULL;
}

/*
 * Many short sleeps in a row, so that a queue overflows.  When the thread
 * is registered on an open file, a helper then drains that file while the
 * thread goes on sleeping (the queue fills and frees again and again), and
 * the thread blocks a few more times and drains it: the events on both
 * sides of the drops are read in order (gaps, LOST, no lone UNBLOCKED).
 */
struct pingpong {
	int to[2], from[2];
	unsigned int n;
};

static void *pong_fn(void *p)
{
	struct pingpong *pp = p;
	unsigned int i;
	char c;

	for (i = 0; i < pp->n; i++)
		if (read(pp->to[0], &c, 1) != 1 || write(pp->from[1], &c, 1) != 1)
			break;
	return NULL;
}

/* n blocks in a row: reads of a pipe that a partner thread (not
 * registered) writes once it has read our byte; faster than timed sleeps. */
static void flood(struct fthread *t, unsigned int n)
{
	struct pingpong pp = { .n = n };
	unsigned int i;
	pthread_t pt;
	char c = 'f';

	if (pipe2(pp.to, O_CLOEXEC) || pipe2(pp.from, O_CLOEXEC))
		violation(t, "pipe2: %s (not a device call)", ename(errno));
	if (pthread_create(&pt, NULL, pong_fn, &pp))
		violation(t, "pthread_create: %s", ename(errno));
	begin(t, "a flood of blocking pipe reads");
	for (i = 0; i < n; i++)
		if (write(pp.to[1], &c, 1) != 1 || read(pp.from[0], &c, 1) != 1)
			violation(t, "the flood's pipe: %s", ename(errno));
	end(t);
	pthread_join(pt, NULL);
	close(pp.to[0]);
	close(pp.to[1]);
	close(pp.from[0]);
	close(pp.from[1]);
}

static void op_flood(struct fthread *t)
{
	struct timespec ts = { 0, 20000 };
	struct fthread *h;
	unsigned int i, gen = 0;
	int k, slot = -1;

	count(K_FLOOD, 0);
	flood(t, 300 + (unsigned int)rnd(t, 1700));
	pthread_mutex_lock(&P.lock);
	if (reg_status(t) == ON)
		for (k = 0; k < NSLOTS; k++)
			if (P.slot[k].state == S_OPEN && P.slot[k].f == t->reg->f) {
				slot = k;
				gen = P.slot[k].gen;
				break;
			}
	pthread_mutex_unlock(&P.lock);
	if (slot < 0)
		return;
	h = helper(t);
	h->arg_slot = slot;
	h->arg_gen = gen;
	if (pthread_create(&h->pt, NULL, drainer_fn, h))
		violation(t, "pthread_create: %s", ename(errno));
	flood(t, 100 + (unsigned int)rnd(t, 400));
	__atomic_store_n(&h->stop, 1, __ATOMIC_RELEASE);
	begin(t, "pthread_join of a drainer");
	pthread_join(h->pt, NULL);
	end(t);
	for (i = 0; i < 5; i++)
		nanosleep(&ts, NULL);
	drain(t, slot, gen);
}

/* ---- fork: the child's calls on an inherited descriptor ---- */

static void child_say(const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(msg) - 1)
		n = sizeof(msg) - 1;
	if (write(2, msg, n) < 0)
		_exit(1);
}

/*
 * In a process that did not open fd (a child, or after execve): each call
 * fails with EPERM, poll reports POLLERR.  Returns 0, 4 when fd is not open
 * (EBADF), or exits 1 naming the call.
 */
static int foreign_checks(int fd, const char *who)
{
	struct kp_act_register a = { .cookie = 7 };
	struct kp_act_event ev[2];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int rc, badf = 0;

	alarm(20);	/* a read that blocks instead of failing */
	rc = ioctl(fd, KP_ACT_REGISTER, &a);
	if (rc && errno == EBADF)
		return 4;
	if (!rc || errno != EPERM) {
		child_say("%s: violation (seed %" PRIu64 "): %s: KP_ACT_REGISTER on a file another process (or program) opened returned %d, %s (documented: EPERM)\n",
			  PROG, seed, who, rc, ename(rc ? errno : 0));
		_exit(1);
	}
	rc = ioctl(fd, KP_ACT_UNREGISTER, 0);
	if (!rc || errno != EPERM) {
		child_say("%s: violation (seed %" PRIu64 "): %s: KP_ACT_UNREGISTER on a file another process opened returned %d, %s (documented: EPERM)\n",
			  PROG, seed, who, rc, ename(rc ? errno : 0));
		_exit(1);
	}
	rc = (int)read(fd, ev, sizeof(ev));
	if (rc >= 0 || errno != EPERM) {
		child_say("%s: violation (seed %" PRIu64 "): %s: read of a file another process opened returned %d, %s (documented: EPERM)\n",
			  PROG, seed, who, rc, ename(rc < 0 ? errno : 0));
		_exit(1);
	}
	rc = poll(&pfd, 1, 0);
	if (rc == 1 && (pfd.revents & POLLNVAL))
		badf = 4;
	else if (rc != 1 || !(pfd.revents & POLLERR)) {
		child_say("%s: violation (seed %" PRIu64 "): %s: poll of a file another process opened returned %d, revents %#x (documented: POLLERR)\n",
			  PROG, seed, who, rc, pfd.revents);
		_exit(1);
	}
	alarm(0);
	return badf;
}

/* The child's own file works: the thread was not registered by fork. */
static int own_file_checks(const char *who)
{
	struct kp_act_register a = { .cookie = 9 };
	int fd, rc;

	fd = open(device, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOMEM)
			return 3;
		child_say("%s: violation (seed %" PRIu64 "): %s: open(%s): %s\n",
			  PROG, seed, who, device, ename(errno));
		_exit(1);
	}
	rc = ioctl(fd, KP_ACT_REGISTER, &a);
	if (rc && (errno == EDQUOT || errno == ENOSPC || errno == ENOMEM)) {
		close(fd);
		return 3;
	}
	if (rc) {
		child_say("%s: violation (seed %" PRIu64 "): %s: KP_ACT_REGISTER on its own new file failed with %s (%s)\n",
			  PROG, seed, who, ename(errno),
			  errno == EBUSY ? "a registration survived" : "documented: success");
		_exit(1);
	}
	if (ioctl(fd, KP_ACT_UNREGISTER, 0)) {
		child_say("%s: violation (seed %" PRIu64 "): %s: KP_ACT_UNREGISTER after a registration: %s\n",
			  PROG, seed, who, ename(errno));
		_exit(1);
	}
	close(fd);
	return 0;
}

/* Wait for child pid of op `what`; the status it may exit with. */
static int wait_child(struct fthread *t, pid_t pid, const char *what)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			violation(t, "%s: waitpid: %s", what, ename(errno));
	if (WIFSIGNALED(st))
		violation(t, "%s: the child was killed by signal %d%s", what,
			  WTERMSIG(st), WTERMSIG(st) == SIGALRM ?
			  " (a call on a foreign file blocked instead of failing)" : "");
	if (WEXITSTATUS(st) == 1)
		violation(t, "%s: the child found a violation (above)", what);
	return WEXITSTATUS(st);
}

static void op_fork(struct fthread *t)
{
	struct ref ref;
	bool have;
	pid_t pid;
	int rc;

	have = slot_get(t, &ref, -1, 0);
	pthread_mutex_lock(&P.lock);
	P.children++;
	pthread_mutex_unlock(&P.lock);
	begin(t, "fork, then calls on the inherited descriptor");
	pid = fork();
	if (pid == 0) {
		rc = have ? foreign_checks(ref.fd, "forked child") : 0;
		if (!rc && chance(t, 50))
			rc = own_file_checks("forked child");
		_exit(rc);
	}
	if (pid < 0) {
		count(K_FORK, errno);
		rc = 3;
	} else {
		count(K_FORK, 0);
		rc = wait_child(t, pid, "fork");
	}
	end(t);
	pthread_mutex_lock(&P.lock);
	P.children--;
	if (!P.children)
		recheck_dead();
	if (rc == 4 && !(have && slot_changed(&ref)))
		violation(t, "fork: the child's inherited descriptor of slot %d was not open",
			  have ? ref.slot : -1);
	if (rc != 0 && rc != 3 && rc != 4)
		violation(t, "fork: the child exited %d", rc);
	if (have)
		slot_put_locked(&ref);
	pthread_mutex_unlock(&P.lock);
}

/* ---- exec ---- */

struct exec_arg {
	int fd;
	int variant;
};

static void exec_now(int fd, int variant)
{
	char fdstr[16], seedstr[24];

	snprintf(fdstr, sizeof(fdstr), "%d", fd);
	snprintf(seedstr, sizeof(seedstr), "%" PRIu64, seed);
	if (variant == 0)
		execl("/bin/true", "true", (char *)NULL);
	else
		execl(self_exe, PROG, "--exec-check", fdstr, "--device", device,
		      "--seed", seedstr, (char *)NULL);
	child_say("%s: exec: %s\n", PROG, ename(errno));
	_exit(5);
}

/* In the child: a second thread registers, then execs (it is not the leader). */
static void *exec_thread(void *p)
{
	struct exec_arg *x = p;
	struct kp_act_register a = { .cookie = 11 };
	struct timespec ts = { 0, 200000 };

	if (ioctl(x->fd, KP_ACT_REGISTER, &a) &&
	    errno != EDQUOT && errno != ENOSPC && errno != ENOMEM) {
		child_say("%s: violation (seed %" PRIu64 "): exec child's second thread: KP_ACT_REGISTER: %s\n",
			  PROG, seed, ename(errno));
		_exit(1);
	}
	nanosleep(&ts, NULL);
	exec_now(x->fd, 1);
	return NULL;
}

static void op_exec(struct fthread *t)
{
	struct kp_act_register a = { .cookie = 10 };
	int variant = (int)rnd(t, 3);
	struct timespec ts = { 0, 100000 };
	struct exec_arg x;
	pthread_t pt;
	pid_t pid;
	int fd, rc;

	pthread_mutex_lock(&P.lock);
	P.children++;
	pthread_mutex_unlock(&P.lock);
	begin(t, variant == 0 ? "exec of /bin/true by a registered thread" :
	      variant == 1 ? "exec of act_fuzz by a registered thread" :
	      "exec of act_fuzz by a registered thread that is not the leader");
	pid = fork();
	if (pid == 0) {
		fd = open(device, O_RDWR);
		if (fd < 0)
			_exit(errno == EMFILE || errno == ENFILE ||
			      errno == ENOMEM ? 3 : 6);
		if (ioctl(fd, KP_ACT_REGISTER, &a))
			_exit(errno == EDQUOT || errno == ENOSPC ||
			      errno == ENOMEM ? 3 : 7);
		nanosleep(&ts, NULL);	/* an event or two */
		if (variant < 2)
			exec_now(fd, variant);
		x.fd = fd;
		x.variant = variant;
		if (pthread_create(&pt, NULL, exec_thread, &x))
			_exit(3);
		/* Registered, and reading its own file (whose events its own
		 * blocks there make), until the exec kills it. */
		for (;;)
			if (read(fd, t->buf, 4 * EV_SIZE) < 0)
				nanosleep(&ts, NULL);
	}
	if (pid < 0) {
		count(K_EXEC, errno);
		rc = 3;
	} else {
		count(K_EXEC, 0);
		rc = wait_child(t, pid, t->cur);
	}
	end(t);
	pthread_mutex_lock(&P.lock);
	P.children--;
	if (!P.children)
		recheck_dead();
	pthread_mutex_unlock(&P.lock);
	if (rc == 6 || rc == 7)
		violation(t, "exec child: %s failed (exit %d)",
			  rc == 6 ? "open" : "KP_ACT_REGISTER", rc);
	if (rc != 0 && rc != 3)
		violation(t, "exec child exited %d", rc);
}

/* The program exec'd by op_exec: its old file refuses it, and its thread's
 * registration ended with the exec, so it may register on a new file. */
static int exec_check(int fd)
{
	int rc = foreign_checks(fd, "after execve");

	if (rc == 4) {
		child_say("%s: violation (seed %" PRIu64 "): after execve: the descriptor %d is not open\n",
			  PROG, seed, fd);
		return 1;
	}
	return own_file_checks("after execve");
}

/* ---- threads that exit registered, and closes under a reader ---- */

static void *spawn_fn(void *p)
{
	struct fthread *t = p;
	struct timespec ts = { 0, 0 };
	int i, n;

	thread_init(t);
	op_register(t, RV_VALID);
	n = 1 + (int)rnd(t, 6);
	for (i = 0; i < n; i++) {
		ts.tv_nsec = 20000 + (long)rnd(t, 300000);
		begin(t, "nanosleep");
		nanosleep(&ts, NULL);
		end(t);
	}
	if (chance(t, 25))
		op_unregister(t);
	thread_fini(t);
	return NULL;	/* the registration ends with the thread */
}

static void *reader_fn(void *p)
{
	struct fthread *t = p;

	thread_init(t);
	if (chance(t, 50))
		do_read(t, RD_NORMAL, t->arg_slot, t->arg_gen, true);
	else
		do_poll(t, t->arg_slot, t->arg_gen);
	thread_fini(t);
	return NULL;
}

static void op_spawn(struct fthread *t)
{
	struct fthread *h = helper(t);

	count(K_SPAWN, 0);
	begin(t, "pthread_join of a thread that exits registered");
	if (pthread_create(&h->pt, NULL, spawn_fn, h))
		violation(t, "pthread_create: %s", ename(errno));
	pthread_join(h->pt, NULL);
	end(t);
}

/* Is thread tid asleep (state S) in this process? */
static bool sleeping(pid_t tid)
{
	char path[64], buf[256], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 'S';
}

static void op_close_race(struct fthread *t)
{
	struct fthread *h = helper(t);
	struct timespec ts = { 0, 100000 };
	struct ref ref;
	int i;

	if (!slot_get(t, &ref, -1, 0))
		return;
	slot_put(&ref);		/* we only wanted its number and gen */
	h->arg_slot = ref.slot;
	h->arg_gen = ref.gen;
	if (pthread_create(&h->pt, NULL, reader_fn, h))
		violation(t, "pthread_create: %s", ename(errno));
	/* Until the reader sleeps in its call (bounded). */
	for (i = 0; i < 40; i++) {
		if (__atomic_load_n(&h->in_call, __ATOMIC_ACQUIRE) && h->tid &&
		    sleeping(h->tid))
			break;
		nanosleep(&ts, NULL);
	}
	close_slot(t, K_CLOSE_RACE, ref.slot, ref.gen);
	begin(t, "pthread_join of a reader whose file was closed");
	pthread_join(h->pt, NULL);
	end(t);
}

/* ---- a process ---- */

static void do_read_normal(struct fthread *t)
{
	do_read(t, RD_NORMAL, -1, 0, chance(t, 10));
}

static void do_read_short(struct fthread *t)
{
	do_read(t, RD_SHORT, -1, 0, false);
}

static void do_read_bad_buf(struct fthread *t)
{
	do_read(t, RD_BAD_BUF, -1, 0, false);
}

static void do_read_huge(struct fthread *t)
{
	do_read(t, RD_HUGE, -1, 0, false);
}

static void op_close(struct fthread *t)
{
	close_slot(t, K_CLOSE, -1, 0);
}

static void op_register_valid(struct fthread *t)
{
	op_register(t, RV_VALID);
}

static void op_register_flags(struct fthread *t)
{
	op_register(t, RV_FLAGS);
}

static void op_register_reserved(struct fthread *t)
{
	op_register(t, RV_RESERVED);
}

static void op_register_ptr(struct fthread *t)
{
	op_register(t, RV_PTR);
}

static void op_poll(struct fthread *t)
{
	do_poll(t, -1, 0);
}

/* What a thread does, with weights in thousandths. */
static const struct {
	unsigned int weight;
	enum kind kind;
	void (*fn)(struct fthread *t);
} ops[] = {
	{ 80, K_OPEN, op_open },
	{ 60, K_CLOSE, op_close },
	{ 40, K_DUP, op_dup },
	{ 140, K_REGISTER, op_register_valid },
	{ 25, K_REGISTER_BAD_FLAGS, op_register_flags },
	{ 15, K_REGISTER_BAD_RESERVED, op_register_reserved },
	{ 25, K_REGISTER_BAD_PTR, op_register_ptr },
	{ 15, K_IOCTL_UNKNOWN, op_ioctl_unknown },
	{ 80, K_UNREGISTER, op_unregister },
	{ 120, K_READ, do_read_normal },
	{ 20, K_READ_SHORT, do_read_short },
	{ 20, K_READ_BAD_BUF, do_read_bad_buf },
	{ 10, K_READ_HUGE, do_read_huge },
	{ 60, K_POLL, op_poll },
	{ 160, K_BLOCK, op_block },
	{ 10, K_FLOOD, op_flood },
	{ 20, K_FORK, op_fork },
	{ 6, K_EXEC, op_exec },
	{ 44, K_SPAWN, op_spawn },
	{ 50, K_CLOSE_RACE, op_close_race },
};

static void *fuzz_thread(void *p)
{
	struct fthread *t = p;
	uint64_t i, t0;
	unsigned int w, k;

	thread_init(t);
	for (i = 0; i < t->budget && now_ns() < deadline_ns; i++) {
		__atomic_fetch_add(&P.st->iterations, 1, __ATOMIC_RELAXED);
		w = (unsigned int)rnd(t, 1000);
		for (k = 0; w >= ops[k].weight; k++)
			w -= ops[k].weight;
		t0 = now_ns();
		ops[k].fn(t);
		__atomic_fetch_add(&P.st->ns[ops[k].kind], now_ns() - t0,
				   __ATOMIC_RELAXED);
	}
	thread_fini(t);
	return NULL;	/* exits registered, perhaps */
}

static void *watchdog(void *unused)
{
	struct timespec ts = { 0, 100000000 };
	uint64_t limit = (uint64_t)(hang_seconds * 1e9), now, start;
	unsigned int i;
	const char *what;

	(void)unused;
	for (;;) {
		nanosleep(&ts, NULL);
		now = now_ns();
		for (i = 0; i < 2 * nthreads; i++) {
			struct fthread *t = P.threads[i];

			if (!__atomic_load_n(&t->in_call, __ATOMIC_ACQUIRE))
				continue;
			start = t->cur_start;
			what = t->cur;
			if (what && now > start && now - start > limit)
				violation(t, "%s has not returned after %g s",
					  what, hang_seconds);
		}
	}
	return NULL;
}

static void run_process(int index, uint64_t budget)
{
	struct sigaction sa;
	struct fthread *t;
	pthread_t wd;
	unsigned int i;
	char *bufs;

	P.index = index;
	P.st = &all_stats[index];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = timer_handler;	/* no SA_RESTART: calls see EINTR */
	sigaction(TIMER_SIG, &sa, NULL);
	P.page = sysconf(_SC_PAGESIZE);
	P.guard = mmap(NULL, 2 * P.page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (P.guard == MAP_FAILED || mprotect(P.guard + P.page, P.page, PROT_NONE))
		violation(NULL, "mmap: %s (not a device call)", ename(errno));
	if (pipe2(P.relay, O_CLOEXEC))
		violation(NULL, "pipe2: %s (not a device call)", ename(errno));
	/* Two buffers per thread: its own and its helper's. */
	bufs = mmap(NULL, (size_t)2 * nthreads * BUF_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (bufs == MAP_FAILED)
		violation(NULL, "mmap: %s (not a device call)", ename(errno));
	for (i = 0; i < 2 * nthreads; i++) {
		P.threads[i] = calloc(1, sizeof(struct fthread));
		if (!P.threads[i])
			violation(NULL, "out of memory");
	}
	for (i = 0; i < nthreads; i++) {
		uint64_t s = seed ^ ((uint64_t)index << 32 | i);

		t = P.threads[i];
		t->idx = (int)i;
		splitmix(&s);
		t->rng = splitmix(&s);
		t->buf = bufs + (size_t)2 * i * BUF_SIZE;
		t->budget = budget / nthreads + (i < budget % nthreads);
	}
	if (pthread_create(&wd, NULL, watchdog, NULL))
		violation(NULL, "pthread_create: %s", ename(errno));
	for (i = 0; i < nthreads; i++)
		if (pthread_create(&P.threads[i]->pt, NULL, fuzz_thread, P.threads[i]))
			violation(NULL, "pthread_create: %s", ename(errno));
	for (i = 0; i < nthreads; i++)
		pthread_join(P.threads[i]->pt, NULL);
	/* The last closes: each file's registrations end with it. */
	for (i = 0; i < NSLOTS; i++)
		if (P.slot[i].state == S_OPEN && close(slot_fd(i)))
			violation(NULL, "close(slot %u) at the end: %s", i,
				  ename(errno));
	_exit(0);
}

/* ---- the parent ---- */

static void usage(FILE *to)
{
	fprintf(to,
		"Usage: %s [options]\n"
		"\n"
		"Fuzz /dev/kthread_perf (the scheduler-activations ABI, SPEC.md section 9):\n"
		"several processes of many threads run random sequences of open, dup,\n"
		"close, register (valid and invalid), unregister, read, poll, fork, exec,\n"
		"thread exit and blocking calls, and check every result and event\n"
		"against the ABI (module/uapi/kthread_perf_act.h).\n"
		"\n"
		"  --seed N          seed of the random choices (default: from the clock;\n"
		"                    printed on stderr and in the summary)\n"
		"  --procs N         processes (default 3, at most %d)\n"
		"  --threads N       threads per process (default 6, at most %d)\n"
		"  --iterations N    calls in all, over every thread (default 5000)\n"
		"  --seconds S       stop after S seconds (default 30)\n"
		"  --hang-seconds S  a call that has not returned after S seconds is a\n"
		"                    violation (default 30)\n"
		"  --device PATH     the device (default %s)\n"
		"  --strict-efault   bad-buffer reads on every file, and their EFAULT is\n"
		"                    no excuse for events out of order: the records such\n"
		"                    a read took must be accounted as LOST in place, and\n"
		"                    no UNBLOCKED may follow a BLOCKED lost that way\n"
		"  --try-unload MOD  while the processes run, try delete_module(MOD,\n"
		"                    O_NONBLOCK) every 50 ms with a file of the device\n"
		"                    held open: each must fail with EWOULDBLOCK (needs\n"
		"                    CAP_SYS_MODULE)\n"
		"  -v, --verbose     print every call on stderr\n"
		"  -h, --help        show this help\n"
		"\n"
		"Prints a JSON summary on stdout: iterations, calls and errors by kind,\n"
		"events.  Exit status: 0 when every result was documented, 1 on a\n"
		"violation (stderr names the call and the seed), 2 on bad usage.\n",
		PROG, MAX_PROCS, MAX_THREADS, KP_ACT_DEVICE);
}

static void __attribute__((noreturn)) bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", PROG);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (try --help)\n");
	exit(2);
}

static uint64_t parse_u64(const char *s, const char *opt, uint64_t min,
			  uint64_t max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (!*s || *s == '-')
		bad_usage("%s needs a non-negative integer", opt);
	v = strtoull(s, &end, 0);
	if (errno || *end || v < min || v > max)
		bad_usage("bad value for %s", opt);
	return v;
}

static double parse_secs(const char *s, const char *opt)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 1e6)
		bad_usage("%s needs a positive number of seconds", opt);
	return v;
}

/* A process that SIGKILL did not end: each task's state and kernel stack. */
static void show_stuck(pid_t pid)
{
	char cmd[160];

	fprintf(stderr, "%s: process %d outlived SIGKILL by 30 s; its tasks:\n",
		PROG, (int)pid);
	snprintf(cmd, sizeof(cmd),
		 "for t in /proc/%d/task/*; do grep -H '^State' $t/status; cat $t/stack; done >&2",
		 (int)pid);
	if (system(cmd) == -1)
		fprintf(stderr, "%s: system: %s\n", PROG, strerror(errno));
}

/* delete_module() while a file is open: refused, the module stays. */
static int try_unload(void)
{
	long rc = syscall(SYS_delete_module, unload_module, O_NONBLOCK);
	int e = rc ? errno : 0;

	unload_attempts++;
	if (rc == 0 || (e != EWOULDBLOCK && e != EBUSY)) {
		fprintf(stderr, "%s: violation (seed %" PRIu64 "): delete_module(%s, O_NONBLOCK) with %s open returned %ld, %s (expected EWOULDBLOCK)%s\n",
			PROG, seed, unload_module, device, rc, ename(e),
			e == EPERM ? ": --try-unload needs CAP_SYS_MODULE" : "");
		unload_module = NULL;	/* once */
		return 1;
	}
	return 0;
}

static void print_summary(double elapsed, int violations)
{
	struct stats sum;
	unsigned int p, k, e;
	bool first;

	memset(&sum, 0, sizeof(sum));
	for (p = 0; p < nprocs; p++) {
		struct stats *s = &all_stats[p];

		for (k = 0; k < K_MAX; k++) {
			sum.calls[k] += s->calls[k];
			sum.ns[k] += s->ns[k];
			for (e = 0; e < ERRNO_MAX; e++)
				sum.errs[k][e] += s->errs[k][e];
		}
		sum.iterations += s->iterations;
		sum.blocked += s->blocked;
		sum.unblocked += s->unblocked;
		sum.lost_records += s->lost_records;
		sum.lost_events += s->lost_events;
		sum.gaps += s->gaps;
		sum.events_unordered += s->events_unordered;
	}
	printf("{\"seed\": %" PRIu64 ", \"procs\": %u, \"threads\": %u, "
	       "\"iterations\": %" PRIu64 ", \"seconds\": %.3f, "
	       "\"iterations_per_second\": %.1f, \"violations\": %d,\n",
	       seed, nprocs, nthreads, sum.iterations, elapsed,
	       elapsed > 0 ? (double)sum.iterations / elapsed : 0.0, violations);
	printf(" \"calls\": {");
	for (k = 0; k < K_MAX; k++)
		printf("%s\"%s\": %" PRIu64, k ? ", " : "", kind_name[k],
		       sum.calls[k]);
	printf("},\n \"thread_seconds\": {");
	for (k = 0; k < K_MAX; k++)
		printf("%s\"%s\": %.3f", k ? ", " : "", kind_name[k],
		       (double)sum.ns[k] / 1e9);
	printf("},\n \"errors\": {");
	first = true;
	for (k = 0; k < K_MAX; k++) {
		bool any = false;

		for (e = 1; e < ERRNO_MAX; e++) {
			if (!sum.errs[k][e])
				continue;
			if (!any)
				printf("%s\"%s\": {", first ? "" : ", ", kind_name[k]);
			else
				printf(", ");
			if (strerrorname_np((int)e))
				printf("\"%s\": %" PRIu64, strerrorname_np((int)e),
				       sum.errs[k][e]);
			else
				printf("\"E%u\": %" PRIu64, e, sum.errs[k][e]);
			any = true;
			first = false;
		}
		if (any)
			printf("}");
	}
	printf("},\n \"unload_attempts\": %" PRIu64, unload_attempts);
	printf(",\n \"events\": {\"blocked\": %" PRIu64 ", \"unblocked\": %" PRIu64
	       ", \"lost_records\": %" PRIu64 ", \"lost_events\": %" PRIu64
	       ", \"gaps\": %" PRIu64 ", \"checked_unordered\": %" PRIu64 "}}\n",
	       sum.blocked, sum.unblocked, sum.lost_records, sum.lost_events,
	       sum.gaps, sum.events_unordered);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "procs", required_argument, NULL, 'p' },
		{ "threads", required_argument, NULL, 't' },
		{ "iterations", required_argument, NULL, 'i' },
		{ "seconds", required_argument, NULL, 'S' },
		{ "hang-seconds", required_argument, NULL, 'H' },
		{ "device", required_argument, NULL, 'd' },
		{ "exec-check", required_argument, NULL, 'x' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "strict-efault", no_argument, NULL, 'E' },
		{ "try-unload", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	pid_t pids[MAX_PROCS];
	bool seeded = false, killed = false, done[MAX_PROCS] = { false };
	int c, exec_fd = -1, violations = 0, left, st, holder;
	uint64_t t0, kill_at;
	struct rlimit rl;
	unsigned int p;
	ssize_t n;

	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			seed = parse_u64(optarg, "--seed", 0, UINT64_MAX);
			seeded = true;
			break;
		case 'p':
			nprocs = (unsigned int)parse_u64(optarg, "--procs", 1, MAX_PROCS);
			break;
		case 't':
			nthreads = (unsigned int)parse_u64(optarg, "--threads", 1,
							   MAX_THREADS);
			break;
		case 'i':
			iterations = parse_u64(optarg, "--iterations", 1, 1ull << 40);
			break;
		case 'S':
			seconds = parse_secs(optarg, "--seconds");
			break;
		case 'H':
			hang_seconds = parse_secs(optarg, "--hang-seconds");
			break;
		case 'd':
			device = optarg;
			break;
		case 'x':
			exec_fd = (int)parse_u64(optarg, "--exec-check", 0, 1 << 20);
			break;
		case 'v':
			verbose = true;
			break;
		case 'E':
			strict_efault = true;
			break;
		case 'u':
			if (!*optarg)
				bad_usage("%s needs a module name", "--try-unload");
			unload_module = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "%s: bad usage (try --help)\n", PROG);
			return 2;
		}
	}
	if (optind < argc)
		bad_usage("unexpected argument '%s'", argv[optind]);
	if (exec_fd >= 0)
		return exec_check(exec_fd);
	for (c = 0, p = 0; p < sizeof(ops) / sizeof(ops[0]); p++)
		c += (int)ops[p].weight;
	if (c != 1000) {
		fprintf(stderr, "%s: the weights of the ops add up to %d, not 1000\n",
			PROG, c);
		return 1;
	}

	if (!seeded) {
		uint64_t s = now_ns() ^ ((uint64_t)getpid() << 32);

		seed = splitmix(&s) & ((1ull << 53) - 1);	/* exact in JSON */
	}
	fprintf(stderr, "%s: seed %" PRIu64 " (--seed %" PRIu64 " repeats the choices)\n",
		PROG, seed, seed);
	n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	if (n <= 0) {
		fprintf(stderr, "%s: /proc/self/exe: %s\n", PROG, strerror(errno));
		return 1;
	}
	self_exe[n] = 0;
	/* The slots' descriptors sit high, below the limit. */
	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur < 128) {
		fprintf(stderr, "%s: RLIMIT_NOFILE is below 128\n", PROG);
		return 1;
	}
	P.slot_base = (int)(rl.rlim_cur > 600 + NSLOTS ? 600 : rl.rlim_cur - NSLOTS - 1);
	/* Held open while unloads are tried: the module must stay. */
	holder = open(device, O_RDWR | O_CLOEXEC);
	if (holder < 0) {
		fprintf(stderr, "%s: cannot open %s: %s (is the module loaded?)\n",
			PROG, device, strerror(errno));
		return 1;
	}
	if (!unload_module)
		close(holder);

	all_stats = mmap(NULL, sizeof(struct stats) * nprocs, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (all_stats == MAP_FAILED) {
		fprintf(stderr, "%s: mmap: %s\n", PROG, strerror(errno));
		return 1;
	}
	t0 = now_ns();
	deadline_ns = t0 + (uint64_t)(seconds * 1e9);
	fflush(NULL);
	for (p = 0; p < nprocs; p++) {
		pids[p] = fork();
		if (pids[p] < 0) {
			fprintf(stderr, "%s: fork: %s\n", PROG, strerror(errno));
			return 1;
		}
		if (!pids[p])
			run_process((int)p, iterations / nprocs + (p < iterations % nprocs));
	}
	/* Bounded: a process still there well after its time is killed. */
	kill_at = deadline_ns + (uint64_t)((hang_seconds + 30) * 1e9);
	for (left = (int)nprocs; left > 0;) {
		struct timespec ts = { 0, 50000000 };

		for (p = 0; p < nprocs; p++) {
			if (done[p] || waitpid(pids[p], &st, WNOHANG) != pids[p])
				continue;
			done[p] = true;
			left--;
			if (WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
			    !all_stats[p].violation)
				continue;
			violations++;
			if (!all_stats[p].violation)
				fprintf(stderr, "%s: process %u ended with %s %d without a report (seed %" PRIu64 ")\n",
					PROG, p, WIFSIGNALED(st) ? "signal" : "status",
					WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st),
					seed);
		}
		if (left && now_ns() > kill_at && !killed) {
			for (p = 0; p < nprocs; p++)
				if (!done[p]) {
					fprintf(stderr, "%s: process %u did not finish %g s after its time; killed (seed %" PRIu64 ")\n",
						PROG, p, hang_seconds + 30, seed);
					kill(pids[p], SIGKILL);
				}
			killed = true;
			kill_at += 30000000000ull;
		} else if (left && now_ns() > kill_at) {
			/* Unkillable: stuck in the kernel.  Say where, and stop. */
			for (p = 0; p < nprocs; p++)
				if (!done[p])
					show_stuck(pids[p]);
			violations += left;
			break;
		}
		if (left && unload_module)
			violations += try_unload();
		if (left)
			nanosleep(&ts, NULL);
	}
	if (unload_module)
		close(holder);
	print_summary((double)(now_ns() - t0) / 1e9, violations);
	return violations ? 1 : 0;
}
