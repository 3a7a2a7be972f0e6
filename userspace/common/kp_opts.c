// SPDX-License-Identifier: GPL-2.0
/*
 * kthread_perf: the command line of the user-space models (SPEC.md
 * section 5), spelled after the sysfs files and checked against the same
 * ranges the module enforces, so that a configuration one model accepts
 * every model accepts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_bench_common.h"

static const char *const work_mode_names[] = KP_WORK_MODE_NAMES;
static const char *const sync_mode_names[] = KP_SYNC_MODE_NAMES;

const char *kp_work_mode_name(u32 mode)
{
	return mode < KP_WORK_NR ? work_mode_names[mode] : "?";
}

const char *kp_sync_mode_name(u32 mode)
{
	return mode < KP_SYNC_NR ? sync_mode_names[mode] : "?";
}

/* The numeric options every model has, in --help order. */
enum { OPT_THREAD_COUNT, OPT_WORK_TARGET, OPT_YIELD_INTERVAL, OPT_SLEEP_US,
       OPT_BIND_CPU_COUNT, OPT_NR };

/*
 * An unsigned decimal integer and nothing else: no sign, no blanks, no
 * base prefix, no suffix.  Anything else is a usage error naming option.
 */
static u64 parse_u64(const char *option, const char *s, u64 min, u64 max)
{
	unsigned long long v;
	char *end;

	if (*s == '-' && s[1] >= '0' && s[1] <= '9')
		kp_usage_error(option, "'%s' is negative (expected %llu..%llu)",
			       s, (unsigned long long)min,
			       (unsigned long long)max);
	if (*s < '0' || *s > '9')
		kp_usage_error(option, "'%s' is not a number", s);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end)
		kp_usage_error(option, "'%s' is not a number", s);
	if (errno == ERANGE || v < min || v > max)
		kp_usage_error(option, "%s is out of range %llu..%llu", s,
			       (unsigned long long)min,
			       (unsigned long long)max);
	return v;
}

static u32 parse_choice(const char *option, const char *s,
			const char *const *names, u32 nr)
{
	char list[128] = "";
	u32 i;

	for (i = 0; i < nr; i++)
		if (!strcmp(s, names[i]))
			return i;
	for (i = 0; i < nr; i++) {
		strncat(list, names[i], sizeof(list) - strlen(list) - 1);
		if (i + 1 < nr)
			strncat(list, ", ", sizeof(list) - strlen(list) - 1);
	}
	kp_usage_error(option, "unknown mode '%s' (one of %s)", s, list);
}

static void usage(const struct kp_cli *cli, u32 max_threads)
{
	const struct kp_cli_opt *x;
	char flag[64];

	printf("Usage: %s [OPTION]...\n", cli->prog);
	if (cli->summary)
		printf("%s\n", cli->summary);
	printf("\nWorkload (SPEC.md section 2; defaults as the module's sysfs):\n"
	       "  --thread-count N     workers, 1..%u (default %u)\n"
	       "  --work-mode M        normal, yield, sleep, pingpong, block (default normal)\n"
	       "  --sync-mode S        atomic, spinlock, mutex, percpu (default atomic)\n"
	       "  --work-target N      operations per worker, 1..%llu (default %llu)\n"
	       "  --yield-interval N   operations between waits, 1..%llu (default %llu)\n"
	       "  --sleep-us N         sleep per wait in us, 0..%llu; 0 = one tick (default 0)\n"
	       "  --bind-cpu-count N   bind worker i to the (i mod N)-th online CPU,\n"
	       "                       0..%u online CPUs; 0 = unbound (default 0)\n",
	       max_threads, KP_THREAD_COUNT_DEFAULT,
	       KP_WORK_TARGET_MAX, KP_WORK_TARGET_DEFAULT,
	       KP_YIELD_INTERVAL_MAX, KP_YIELD_INTERVAL_DEFAULT,
	       KP_SLEEP_US_MAX, kp_online_cpu_count());
	for (x = cli->extra; x && x->name; x++) {
		snprintf(flag, sizeof(flag), "--%s %s", x->name,
			 x->metavar ? x->metavar : "N");
		printf("  %-20s %s, %llu..%llu (default %llu)\n", flag,
		       x->help ? x->help : "", (unsigned long long)x->min,
		       (unsigned long long)x->max, (unsigned long long)x->def);
	}
	printf("\nOutput:\n"
	       "  --json               print one JSON object (SPEC.md section 5)\n"
	       "  --limits             print the range of every number option as JSON\n"
	       "  -h, --help           print this help and exit\n"
	       "\nExit status: 0 done, 1 runtime failure or count mismatch, 2 bad usage.\n"
	       "SIGINT stops the run early; it is then reported without the count check.\n");
}

/*
 * --limits: every numeric option's range as one JSON object, keys spelled
 * as the sysfs files ("thread_count": [1, 1024]).  kperf asks the binary
 * instead of restating the ranges, so it refuses a value before any run.
 */
static void print_limits(const struct kp_cli *cli, u32 max_threads)
{
	const struct kp_cli_opt *x;
	const char *c;

	printf("{\"thread_count\": [1, %u], \"work_target\": [1, %llu], "
	       "\"yield_interval\": [1, %llu], \"sleep_us\": [0, %llu], "
	       "\"bind_cpu_count\": [0, %u]",
	       max_threads, KP_WORK_TARGET_MAX, KP_YIELD_INTERVAL_MAX,
	       KP_SLEEP_US_MAX, kp_online_cpu_count());
	for (x = cli->extra; x && x->name; x++) {
		printf(", \"");
		for (c = x->name; *c; c++)
			putchar(*c == '-' ? '_' : *c);
		printf("\": [%llu, %llu]", (unsigned long long)x->min,
		       (unsigned long long)x->max);
	}
	printf("}\n");
}

/*
 * Split "--name=value" or take the next argument as the value.  A value
 * that itself looks like an option means the value is missing.
 */
static const char *take_value(const char *option, const char *inline_val,
			      int argc, char **argv, int *i)
{
	if (inline_val)
		return inline_val;
	if (*i + 1 >= argc || !strncmp(argv[*i + 1], "--", 2))
		kp_usage_error(option, "missing value");
	return argv[++*i];
}

void kp_parse_args(const struct kp_cli *cli, int argc, char **argv,
		   struct kp_opts *o)
{
	static const char *const num_names[OPT_NR] = {
		"thread-count", "work-target", "yield-interval", "sleep-us",
		"bind-cpu-count",
	};
	const struct kp_config def = KP_CONFIG_DEFAULT;
	u32 max_threads = cli->max_threads ? cli->max_threads
					   : KP_MAX_THREADS_DEFAULT;
	const struct kp_cli_opt *x;
	char option[128];
	int i, n;

	kp_set_prog(cli->prog);
	kp_system_record_start(argc, argv);
	o->cfg = def;
	o->json = false;
	for (x = cli->extra; x && x->name; x++)
		*x->value = x->def;

	for (i = 1; i < argc; i++) {
		const char *arg = argv[i], *eq, *val;
		size_t len;

		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			usage(cli, max_threads);
			exit(0);
		}
		if (strncmp(arg, "--", 2) || !arg[2])
			kp_usage_error(NULL, "unexpected argument '%s'", arg);
		eq = strchr(arg, '=');
		len = eq ? (size_t)(eq - arg) : strlen(arg);
		if (len >= sizeof(option))
			len = sizeof(option) - 1;
		memcpy(option, arg, len);
		option[len] = '\0';
		val = eq ? eq + 1 : NULL;

		if (!strcmp(option, "--limits")) {
			print_limits(cli, max_threads);
			exit(0);
		}
		if (!strcmp(option, "--json")) {
			if (val)
				kp_usage_error(option, "takes no value");
			o->json = true;
			continue;
		}
		if (!strcmp(option, "--work-mode")) {
			val = take_value(option, val, argc, argv, &i);
			o->cfg.work_mode = parse_choice(option, val,
							work_mode_names,
							KP_WORK_NR);
			continue;
		}
		if (!strcmp(option, "--sync-mode")) {
			val = take_value(option, val, argc, argv, &i);
			o->cfg.sync_mode = parse_choice(option, val,
							sync_mode_names,
							KP_SYNC_NR);
			continue;
		}
		for (n = 0; n < OPT_NR; n++)
			if (!strcmp(option + 2, num_names[n]))
				break;
		if (n < OPT_NR) {
			val = take_value(option, val, argc, argv, &i);
			switch (n) {
			case OPT_THREAD_COUNT:
				o->cfg.thread_count =
					parse_u64(option, val, 1, max_threads);
				break;
			case OPT_WORK_TARGET:
				o->cfg.work_target = parse_u64(option, val, 1,
							       KP_WORK_TARGET_MAX);
				break;
			case OPT_YIELD_INTERVAL:
				o->cfg.yield_interval =
					parse_u64(option, val, 1,
						  KP_YIELD_INTERVAL_MAX);
				break;
			case OPT_SLEEP_US:
				o->cfg.sleep_us = parse_u64(option, val, 0,
							    KP_SLEEP_US_MAX);
				break;
			case OPT_BIND_CPU_COUNT:
				o->cfg.bind_cpu_count =
					parse_u64(option, val, 0,
						  kp_online_cpu_count());
				break;
			}
			continue;
		}
		for (x = cli->extra; x && x->name; x++)
			if (!strcmp(option + 2, x->name))
				break;
		if (x && x->name) {
			val = take_value(option, val, argc, argv, &i);
			*x->value = parse_u64(option, val, x->min, x->max);
			continue;
		}
		kp_usage_error(NULL, "unknown option '%s'", option);
	}

	if (kp_work_paired(o->cfg.work_mode) && (o->cfg.thread_count & 1))
		kp_usage_error("--thread-count",
			       "%s pairs workers and needs an even count, got %u",
			       kp_work_mode_name(o->cfg.work_mode),
			       o->cfg.thread_count);
}
