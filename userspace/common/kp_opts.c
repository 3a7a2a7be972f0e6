// SPDX-License-Identifier: GPL-2.0
/*
 * kthread_perf: the command line of the user-space models (SPEC.md
 * section 5), spelled after the sysfs files and checked against the same
 * ranges the module enforces (workload/kp_defs.h), so that a configuration
 * one model accepts every model accepts.
 *
 * One table describes every value option, the common ones and a binary's
 * extras alike: getopt_long() parses from it, --help and --limits print
 * from it.
 */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
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

/*
 * A value option: a field of struct kp_config (offset, size) or, for a
 * binary's extra, a u64 of its own (ext); a number in min..max or one of
 * names.
 */
struct opt {
	const char *name;	/* without the leading "--" */
	const char *metavar;
	const char *help;
	size_t offset, size;
	u64 min, max;
	enum kp_bound bound;
	const char *const *names;
	u32 nr_names;
	u64 *ext;
	u64 ext_def;
};

#define CFG(field) .offset = offsetof(struct kp_config, field), \
	.size = sizeof(((struct kp_config *)0)->field)
#define NUM(nm, h, field, lo, hi, bnd) { .name = nm, .metavar = "N", \
	.help = h, CFG(field), .min = lo, .max = hi, .bound = bnd }
#define CHOICE(nm, mv, h, field, list, nr) { .name = nm, .metavar = mv, \
	.help = h, CFG(field), .names = list, .nr_names = nr }

/* The common options, in --help order, with the module's ranges. */
static const struct opt common_opts[] = {
	NUM("thread-count", "workers", thread_count, 1, 0,
	    KP_BOUND_MAX_THREADS),
	CHOICE("work-mode", "M", "what every yield_interval operations do",
	       work_mode, work_mode_names, KP_WORK_NR),
	CHOICE("sync-mode", "S", "how one operation updates the counter",
	       sync_mode, sync_mode_names, KP_SYNC_NR),
	NUM("work-target", "operations per worker", work_target, 1,
	    KP_WORK_TARGET_MAX, KP_BOUND_FIXED),
	NUM("yield-interval", "operations between waits", yield_interval, 1,
	    KP_YIELD_INTERVAL_MAX, KP_BOUND_FIXED),
	NUM("sleep-us", "sleep per wait in us; 0 = one tick", sleep_us, 0,
	    KP_SLEEP_US_MAX, KP_BOUND_FIXED),
	NUM("bind-cpu-count", "bind worker i to the (i mod N)-th CPU this "
	    "process may run on (online, in its affinity mask: cpuset, "
	    "taskset); 0 = unbound", bind_cpu_count, 0, 0,
	    KP_BOUND_ONLINE_CPUS),
	NUM("latency-sample", "time every N-th wait of each worker; 0 = none, "
	    "no clock read", latency_sample, 0, KP_LATENCY_SAMPLE_MAX,
	    KP_BOUND_FIXED),
};
#define NR_COMMON (sizeof(common_opts) / sizeof(common_opts[0]))

/* getopt_long() values of the options that take none. */
enum { OPT_HELP = 'h', OPT_JSON = 256, OPT_LIMITS, OPT_VALUE };

/* The table of this binary: the common options, then its extras. */
static struct opt *opts;
static size_t nr_opts;
static u32 max_threads;

static u64 opt_max(const struct opt *o)
{
	if (o->names)
		return o->nr_names - 1;
	return kp_bound_max(o->bound, o->max, max_threads,
			    kp_allowed_cpu_count());
}

static u64 opt_get(const struct opt *o, const struct kp_config *cfg)
{
	const char *field = (const char *)cfg + o->offset;
	u32 v32;
	u64 v64;

	if (o->ext)
		return *o->ext;
	if (o->size == sizeof(u32)) {
		memcpy(&v32, field, sizeof(v32));
		return v32;
	}
	memcpy(&v64, field, sizeof(v64));
	return v64;
}

static void opt_set(const struct opt *o, struct kp_config *cfg, u64 v)
{
	char *field = (char *)cfg + o->offset;
	u32 v32 = (u32)v;

	if (o->ext)
		*o->ext = v;
	else if (o->size == sizeof(u32))
		memcpy(field, &v32, sizeof(v32));
	else
		memcpy(field, &v, sizeof(v));
}

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

/* The names of a choice, comma-separated, into buf. */
static const char *choice_list(const struct opt *o, char *buf, size_t size)
{
	u32 i;

	buf[0] = '\0';
	for (i = 0; i < o->nr_names; i++) {
		strncat(buf, o->names[i], size - strlen(buf) - 1);
		if (i + 1 < o->nr_names)
			strncat(buf, ", ", size - strlen(buf) - 1);
	}
	return buf;
}

static u64 parse_value(const struct opt *o, const char *option, const char *s)
{
	char list[128];
	u32 i;

	if (!o->names)
		return parse_u64(option, s, o->min, opt_max(o));
	for (i = 0; i < o->nr_names; i++)
		if (!strcmp(s, o->names[i]))
			return i;
	kp_usage_error(option, "unknown mode '%s' (one of %s)", s,
		       choice_list(o, list, sizeof(list)));
}

static void usage(const struct kp_cli *cli)
{
	const struct kp_config def = KP_CONFIG_DEFAULT;
	char flag[64], list[128];
	size_t i;

	printf("Usage: %s [OPTION]...\n", cli->prog);
	if (cli->summary)
		printf("%s\n", cli->summary);
	printf("\nWorkload (SPEC.md section 2; defaults as the module's sysfs):\n");
	for (i = 0; i < nr_opts; i++) {
		const struct opt *o = &opts[i];
		u64 d = o->ext ? o->ext_def : opt_get(o, &def);

		if (i == NR_COMMON)
			printf("\n%s:\n", cli->prog);
		snprintf(flag, sizeof(flag), "--%s %s", o->name, o->metavar);
		printf("  %-20s %s\n  %-20s ", flag, o->help, "");
		if (o->names)
			printf("%s (default %s)\n",
			       choice_list(o, list, sizeof(list)), o->names[d]);
		else
			printf("%llu..%llu (default %llu)\n",
			       (unsigned long long)o->min,
			       (unsigned long long)opt_max(o),
			       (unsigned long long)d);
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
static void print_limits(void)
{
	const char *sep = "{";
	const char *c;
	size_t i;

	for (i = 0; i < nr_opts; i++) {
		if (opts[i].names)
			continue;
		printf("%s\"", sep);
		for (c = opts[i].name; *c; c++)
			putchar(*c == '-' ? '_' : *c);
		printf("\": [%llu, %llu]", (unsigned long long)opts[i].min,
		       (unsigned long long)opt_max(&opts[i]));
		sep = ", ";
	}
	printf("}\n");
}

/* The table of this binary and getopt_long()'s from it. */
static struct option *build_table(const struct kp_cli *cli)
{
	static const struct option fixed[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "limits", no_argument, NULL, OPT_LIMITS },
		{ "help", no_argument, NULL, OPT_HELP },
	};
	const size_t nr_fixed = sizeof(fixed) / sizeof(fixed[0]);
	const struct kp_cli_opt *x;
	struct option *lo;
	size_t i, n = NR_COMMON;

	for (x = cli->extra; x && x->name; x++)
		n++;
	opts = calloc(n, sizeof(*opts));
	lo = calloc(n + nr_fixed + 1, sizeof(*lo));
	if (!opts || !lo)
		kp_die("out of memory for the options");
	memcpy(opts, common_opts, sizeof(common_opts));
	for (i = NR_COMMON, x = cli->extra; x && x->name; x++, i++) {
		opts[i].name = x->name;
		opts[i].metavar = x->metavar ? x->metavar : "N";
		opts[i].help = x->help ? x->help : "";
		opts[i].min = x->min;
		opts[i].max = x->max;
		opts[i].ext = x->value;
		opts[i].ext_def = x->def;
		*x->value = x->def;
	}
	nr_opts = n;
	for (i = 0; i < n; i++)
		lo[i] = (struct option){ opts[i].name, required_argument, NULL,
					 OPT_VALUE + (int)i };
	memcpy(lo + n, fixed, sizeof(fixed));
	return lo;
}

/*
 * The option as the user typed it, up to any "=": getopt_long() takes
 * abbreviations, which the models refuse as unknown.
 */
static const char *typed_option(const char *arg, char *buf, size_t size)
{
	size_t len = strcspn(arg, "=");

	if (len >= size)
		len = size - 1;
	memcpy(buf, arg, len);
	buf[len] = '\0';
	return buf;
}

/* Whether the typed option is exactly --NAME of lo (no abbreviation). */
static bool is_exact(const char *typed, const struct option *lo)
{
	return typed[0] == '-' && typed[1] == '-' && !strcmp(typed + 2, lo->name);
}

/* A no-value option given "=value": its name, or NULL. */
static const struct option *no_value_option(const struct option *lo,
					       const char *typed, const char *arg)
{
	if (!strchr(arg, '='))
		return NULL;
	for (; lo->name; lo++)
		if (lo->has_arg == no_argument && is_exact(typed, lo))
			return lo;
	return NULL;
}

void kp_parse_args(const struct kp_cli *cli, int argc, char **argv,
		   struct kp_opts *o)
{
	const struct kp_config def = KP_CONFIG_DEFAULT;
	struct option *lo;
	char typed[128];
	int c, idx, tok;

	kp_set_prog(cli->prog);
	kp_system_record_start(argc, argv);
	max_threads = cli->max_threads ? cli->max_threads : KP_MAX_THREADS_DEFAULT;
	o->cfg = def;
	o->json = false;
	lo = build_table(cli);

	opterr = 0;
	optind = 1;
	for (;;) {
		tok = optind;
		idx = -1;
		c = getopt_long(argc, argv, "+:h", lo, &idx);
		if (c == -1)
			break;
		typed_option(tok < argc ? argv[tok] : "", typed, sizeof(typed));
		if (c == '?' && no_value_option(lo, typed, argv[tok]))
			kp_usage_error(typed, "takes no value");
		if (c == '?' || (idx >= 0 && !is_exact(typed, &lo[idx])))
			kp_usage_error(NULL, "unknown option '%s'", typed);
		/* A value that looks like an option means it is missing. */
		if (c == ':' || (c >= OPT_VALUE && optarg == argv[tok + 1] &&
				 !strncmp(optarg, "--", 2)))
			kp_usage_error(typed, "missing value");
		switch (c) {
		case OPT_HELP:
			usage(cli);
			exit(0);
		case OPT_LIMITS:
			print_limits();
			exit(0);
		case OPT_JSON:
			o->json = true;
			break;
		default:
			opt_set(&opts[c - OPT_VALUE], &o->cfg,
				parse_value(&opts[c - OPT_VALUE], typed, optarg));
			break;
		}
	}
	free(lo);
	if (optind < argc)
		kp_usage_error(NULL, "unexpected argument '%s'", argv[optind]);

	if (kp_work_paired(o->cfg.work_mode) && (o->cfg.thread_count & 1))
		kp_usage_error("--thread-count",
			       "%s pairs workers and needs an even count, got %u",
			       kp_work_mode_name(o->cfg.work_mode),
			       o->cfg.thread_count);
}
