// SPDX-License-Identifier: GPL-2.0
/* Activations without the module: the sysmon-style monitor (monitor.c). */
#ifndef CORO_MONITOR_H
#define CORO_MONITOR_H

#include "act_word.h"

HIDDEN unsigned int monitor_scan(struct coro_sched *s, bool now);
HIDDEN void *monitor_main(void *arg);
HIDDEN bool proc_off_cpu(pid_t tid);

#endif /* CORO_MONITOR_H */
