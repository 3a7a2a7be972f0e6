// SPDX-License-Identifier: GPL-2.0
/*
 * FIFO lists of coroutines linked through their next member: the run
 * queues (runq.c) and the wait queues of mutex.c, cond.c, sem.c and
 * barrier.c.  The caller holds whatever lock guards the list.
 * (*) A list's head may be read without it, to see whether the list is
 * empty (t_prio waits so for a coroutine to park on a mutex): the store
 * that makes it non-empty is atomic, which costs nothing on x86 or arm64.
 */
#ifndef CORO_QUEUE_H
#define CORO_QUEUE_H

#include "internal.h"

static inline void queue_append(struct coro **head, struct coro **tail,
				struct coro *c)
{
	c->next = NULL;
	if (*tail)
		(*tail)->next = c;
	else
		__atomic_store_n(head, c, __ATOMIC_RELAXED);	/* (*) */
	*tail = c;
}

static inline struct coro *queue_pop(struct coro **head, struct coro **tail)
{
	struct coro *c = *head;

	if (c) {
		*head = c->next;
		if (!*head)
			*tail = NULL;
		c->next = NULL;
	}
	return c;
}

/* ---- wait queues ---- */
static inline void waitq_push(struct coro_waitq *q, struct coro *c)
{
	queue_append(&q->head, &q->tail, c);
}

static inline struct coro *waitq_pop(struct coro_waitq *q)
{
	return queue_pop(&q->head, &q->tail);
}

#endif /* CORO_QUEUE_H */
