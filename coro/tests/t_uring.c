// SPDX-License-Identifier: GPL-2.0
/*
 * coro_uring_read() and coro_uring_write().  Usage:
 * t_uring [WORKERS [READERS [READS [seccomp]]]] (defaults 1, 8, 200;
 * seccomp: io_uring_setup() fails with EPERM, as under a container's
 * filter, so that the fallback is the one a failed ring takes).
 *
 * "exact": READERS coroutines each read READS bytes, one at a time, half
 * from pipes fed by a plain thread, half from socketpairs fed by a
 * coroutine with coro_uring_write(); every byte is checked in order.  A
 * ticker coroutine yields all along, and no byte is written before the
 * ticker has moved 100 times since its reader asked for it: on one
 * worker, a read that held the OS thread would stop the ticker and the
 * run (the test's time limit fails it).  Through the ring no OS thread
 * is handed over (handoffs 0); with CORO_URING=off the fallback, the
 * wrapper, hands one over per read that found no data.
 *
 * "idle": a read in flight, a sleeper, a coroutine waiting on a
 * semaphore and nothing else: the worker waits in the ring, the timer
 * ends the wait on time, a plain thread's coro_sem_post() wakes it
 * through the eventfd, and the woken coroutine's write completes the
 * read.
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdbool.h>
#include <pthread.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "coro.h"
#include "check.h"

#define TICKS_PER_BYTE 100
#define FEED_LIMIT_NS 20000000000ull	/* 20 s for one byte: a hang */

struct reader {
	unsigned int id;
	int fd[2];			/* [0] read, [1] written */
	bool by_thread;			/* fed by the plain thread */
	unsigned int asked;		/* bytes asked for (atomic) */
	uint64_t ask_tick;		/* ticks when it last asked (atomic) */
	unsigned int sent;		/* bytes written to it */
	unsigned int got;		/* bytes read, all checked */
};

static struct reader *rd;
static unsigned int nreaders, nreads;
static uint64_t ticks;			/* atomic */
static unsigned int readers_left;	/* atomic */

static unsigned char byte_of(unsigned int id, unsigned int k)
{
	return (unsigned char)(id * 31u + k * 7u + 1u);
}

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	unsigned int k;

	for (k = 0; k < nreads; k++) {
		unsigned char c = 0;

		__atomic_store_n(&r->ask_tick,
				 __atomic_load_n(&ticks, __ATOMIC_RELAXED),
				 __ATOMIC_RELAXED);
		__atomic_store_n(&r->asked, k + 1, __ATOMIC_RELEASE);
		CHECK(coro_uring_read(r->fd[0], &c, 1) == 1);
		CHECK_EQ(c, byte_of(r->id, k));
		r->got++;
	}
	__atomic_sub_fetch(&readers_left, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *ticker_main(void *arg)
{
	(void)arg;
	while (__atomic_load_n(&readers_left, __ATOMIC_ACQUIRE)) {
		__atomic_add_fetch(&ticks, 1, __ATOMIC_RELAXED);
		coro_yield();
	}
	return NULL;
}

/*
 * r waits for its next byte, and the ticker has moved TICKS_PER_BYTE
 * times since it asked: its read is in flight while its worker runs.
 */
static bool wants_byte(struct reader *r)
{
	return __atomic_load_n(&r->asked, __ATOMIC_ACQUIRE) == r->sent + 1 &&
	       __atomic_load_n(&ticks, __ATOMIC_RELAXED) >=
	       __atomic_load_n(&r->ask_tick, __ATOMIC_RELAXED) + TICKS_PER_BYTE;
}

/* Feed the readers of one kind; the coroutine writes through the ring. */
static void feed(bool by_thread)
{
	unsigned int i, left = 0;
	uint64_t since = now_ns();

	for (i = 0; i < nreaders; i++)
		if (rd[i].by_thread == by_thread)
			left += nreads;
	while (left) {
		bool any = false;

		for (i = 0; i < nreaders; i++) {
			struct reader *r = &rd[i];
			unsigned char c;

			if (r->by_thread != by_thread || r->sent == nreads ||
			    !wants_byte(r))
				continue;
			c = byte_of(r->id, r->sent);
			if (by_thread)
				CHECK(write(r->fd[1], &c, 1) == 1);
			else
				CHECK(coro_uring_write(r->fd[1], &c, 1) == 1);
			r->sent++;
			left--;
			any = true;
		}
		if (any)
			since = now_ns();
		CHECK(now_ns() - since < FEED_LIMIT_NS);
		if (by_thread)
			sched_yield();
		else
			coro_yield();
	}
}

static void *feeder_thread(void *arg)
{
	(void)arg;
	feed(true);
	return NULL;
}

static void *feeder_coro(void *arg)
{
	(void)arg;
	feed(false);
	return NULL;
}

static void exact(unsigned int workers, bool ring)
{
	struct coro_sched_attr attr = { .workers = workers, .activations = "off" };
	struct coro_stats st;
	coro_sched_t *s;
	pthread_t feeder;
	unsigned int i;
	uint64_t got = 0;

	rd = calloc(nreaders, sizeof(*rd));
	CHECK(rd);
	s = coro_sched_create(&attr);
	CHECK(s);
	readers_left = nreaders;
	for (i = 0; i < nreaders; i++) {
		rd[i].id = i;
		rd[i].by_thread = !(i & 1);
		if (rd[i].by_thread)
			CHECK(pipe(rd[i].fd) == 0);
		else
			CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, rd[i].fd) == 0);
		CHECK(coro_create(s, reader_main, &rd[i], 0));
	}
	CHECK(coro_create(s, ticker_main, NULL, 0));
	CHECK(coro_create(s, feeder_coro, NULL, 0));
	CHECK(pthread_create(&feeder, NULL, feeder_thread, NULL) == 0);
	CHECK(coro_sched_run(s) == 0);
	CHECK(pthread_join(feeder, NULL) == 0);
	coro_sched_stats(s, &st);
	for (i = 0; i < nreaders; i++) {
		CHECK_EQ(rd[i].got, nreads);
		CHECK_EQ(rd[i].sent, nreads);
		got += rd[i].got;
		close(rd[i].fd[0]);
		close(rd[i].fd[1]);
	}
	CHECK_EQ(got, (uint64_t)nreaders * nreads);
	/* Each reader's bytes come one after another, TICKS_PER_BYTE apart. */
	CHECK(ticks >= (uint64_t)nreads * TICKS_PER_BYTE);
	printf("%u workers, %s: %llu bytes read, %llu ticks, %llu hand-offs, "
	       "%llu OS threads\n", workers, ring ? "ring" : "fallback",
	       (unsigned long long)got, (unsigned long long)ticks,
	       (unsigned long long)st.handoffs,
	       (unsigned long long)st.os_threads);
	if (ring)
		CHECK_EQ(st.handoffs, 0);
	else
		CHECK(st.handoffs >= 1);
	coro_sched_destroy(s);
	free(rd);
	printf("ok exact %u readers x %u reads on %u workers, the ticker "
	       "moving while each read was in flight\n", nreaders, nreads,
	       workers);
}

/* ---- idle: the worker waits in the ring ------------------------------ */

static int idle_fd[2];
static coro_sem_t idle_sem = CORO_SEM_INITIALIZER(0);
static uint64_t slept_ns;		/* atomic: the sleeper's wait */
static uint64_t idle_read_ns;

static void *idle_reader(void *arg)
{
	uint64_t t0 = now_ns();
	char c = 0;

	(void)arg;
	CHECK(coro_uring_read(idle_fd[0], &c, 1) == 1);
	CHECK(c == 'w');
	idle_read_ns = now_ns() - t0;
	errno = 0;
	CHECK(coro_uring_read(-1, &c, 1) == -1 && errno == EBADF);
	return NULL;
}

static void *idle_sleeper(void *arg)
{
	uint64_t t0 = now_ns();

	(void)arg;
	coro_sleep_ns(20000000);
	__atomic_store_n(&slept_ns, now_ns() - t0, __ATOMIC_RELEASE);
	return NULL;
}

static void *idle_writer(void *arg)
{
	(void)arg;
	coro_sem_wait(&idle_sem);
	CHECK(coro_uring_write(idle_fd[1], "w", 1) == 1);
	return NULL;
}

static void *idle_poster(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&slept_ns, __ATOMIC_ACQUIRE))
		usleep(1000);
	usleep(50000);		/* the worker is back in the ring */
	coro_sem_post(&idle_sem);
	return NULL;
}

static void idle(unsigned int workers)
{
	struct coro_sched_attr attr = { .workers = workers, .activations = "off" };
	coro_sched_t *s = coro_sched_create(&attr);
	pthread_t poster;
	char c = 0;

	CHECK(s);
	CHECK(pipe(idle_fd) == 0);
	CHECK(coro_create(s, idle_reader, NULL, 0));
	CHECK(coro_create(s, idle_sleeper, NULL, 0));
	CHECK(coro_create(s, idle_writer, NULL, 0));
	CHECK(pthread_create(&poster, NULL, idle_poster, NULL) == 0);
	CHECK(coro_sched_run(s) == 0);
	CHECK(pthread_join(poster, NULL) == 0);
	printf("%u workers: sleeper woke after %.1f ms, read returned after "
	       "%.1f ms\n", workers, slept_ns / 1e6, idle_read_ns / 1e6);
	CHECK(slept_ns >= 20000000u && slept_ns < 2000000000u);
	CHECK(idle_read_ns >= slept_ns);
	/* Outside a coroutine: read() itself. */
	CHECK(write(idle_fd[1], "p", 1) == 1);
	CHECK(coro_uring_read(idle_fd[0], &c, 1) == 1 && c == 'p');
	close(idle_fd[0]);
	close(idle_fd[1]);
	coro_sched_destroy(s);
	printf("ok idle in the ring on %u workers: timer, eventfd wake-up, "
	       "completion\n", workers);
}

/* io_uring_setup() fails with EPERM from now on, in every thread. */
static void deny_io_uring(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(*f), f };

	CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
	CHECK(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0);
}

int main(int argc, char **argv)
{
	unsigned int workers = arg_workers(argc, argv, 1);
	const char *env = getenv("CORO_URING");
	bool ring = !env || strcmp(env, "off");

	nreaders = argc > 2 ? (unsigned int)strtoul(argv[2], NULL, 0) : 8;
	nreads = argc > 3 ? (unsigned int)strtoul(argv[3], NULL, 0) : 200;
	CHECK(workers >= 1 && nreaders >= 2 && nreads >= 1);
	if (argc > 4 && !strcmp(argv[4], "seccomp")) {
		deny_io_uring();
		ring = false;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	exact(workers, ring);
	if (ring)
		idle(workers);
	return 0;
}
