// SPDX-License-Identifier: GPL-2.0
/*
 * kthread_perf: where a result came from (SPEC.md section 5): the "system"
 * block (kernel, machine, CPU model, online CPUs, accelerator, hostname,
 * preemption model), "cmdline", "start_time" and "version", and the JSON
 * string escaping they need.
 *
 * The accelerator is the machine's own view, never a guess from the host:
 * the hypervisor's CPUID signature (leaf 0x40000000) says "KVMKVMKVM" in a
 * KVM guest and "TCGTCGTCGTCG" in a QEMU TCG guest; anything else (bare
 * metal, another hypervisor) is "none".
 *
 * In a tools/vm TCG guest the block also has "tcg_thread": "single" when
 * QEMU runs all vCPUs on one host thread, "multi" when each has its own, as
 * tools/vm tells the guest in KPERF_VM_TCG_THREAD_USED (the guest cannot see
 * it).  Elsewhere the member is absent.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "kp_bench_common.h"
#include "kp_version.h"

static int saved_argc;
static char **saved_argv;
static char start_time[32];

void kp_system_record_start(int argc, char **argv)
{
	time_t now = time(NULL);
	struct tm tm;

	saved_argc = argc;
	saved_argv = argv;
	if (gmtime_r(&now, &tm))
		strftime(start_time, sizeof(start_time), "%Y-%m-%dT%H:%M:%SZ",
			 &tm);
}

void kp_json_string(FILE *f, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
		} else if (c == '\n') {
			fputs("\\n", f);
		} else if (c == '\t') {
			fputs("\\t", f);
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
		} else {
			fputc(c, f);
		}
	}
	fputc('"', f);
}

const char *kp_system_accel(void)
{
#if defined(__x86_64__) || defined(__i386__)
	unsigned int a, b, c, d;
	char sig[13];

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 31)))
		return "none";	/* no hypervisor bit: bare metal */
	__cpuid(0x40000000, a, b, c, d);
	memcpy(sig, &b, 4);
	memcpy(sig + 4, &c, 4);
	memcpy(sig + 8, &d, 4);
	sig[12] = '\0';
	if (!strcmp(sig, "KVMKVMKVM"))
		return "kvm";
	if (!strcmp(sig, "TCGTCGTCGTCG"))
		return "tcg";
#endif
	return "none";
}

/* The first "model name" of /proc/cpuinfo, or "unknown". */
static void cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];

	snprintf(buf, len, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (!colon || strncmp(line, "model name", 10))
			continue;
		colon++;
		colon += strspn(colon, " \t");
		colon[strcspn(colon, "\n")] = '\0';
		snprintf(buf, len, "%s", colon);
		break;
	}
	fclose(f);
}

/* The preemption model as uname -v names it. */
static const char *preempt_model(const char *version)
{
	if (strstr(version, "PREEMPT_RT"))
		return "PREEMPT_RT";
	if (strstr(version, "PREEMPT_DYNAMIC"))
		return "PREEMPT_DYNAMIC";
	if (strstr(version, "PREEMPT"))
		return "PREEMPT";
	return "none";
}

void kp_system_print_json(FILE *f)
{
	struct utsname u;
	const char *tcg_thread;
	char model[256];
	int i;

	if (uname(&u))
		memset(&u, 0, sizeof(u));
	cpu_model(model, sizeof(model));
	fputs(" \"system\": {\"kernel\": ", f);
	kp_json_string(f, u.release);
	fputs(", \"machine\": ", f);
	kp_json_string(f, u.machine);
	fputs(", \"cpu_model\": ", f);
	kp_json_string(f, model);
	fprintf(f, ", \"online_cpus\": %u, \"accel\": \"%s\", \"hostname\": ",
		kp_online_cpu_count(), kp_system_accel());
	kp_json_string(f, u.nodename);
	fprintf(f, ", \"preempt\": \"%s\"", preempt_model(u.version));
	tcg_thread = getenv("KPERF_VM_TCG_THREAD_USED");
	if (tcg_thread && (!strcmp(tcg_thread, "single") ||
			   !strcmp(tcg_thread, "multi")))
		fprintf(f, ", \"tcg_thread\": \"%s\"", tcg_thread);
	fputs("},\n \"cmdline\": [", f);
	for (i = 0; i < saved_argc; i++) {
		if (i)
			fputs(", ", f);
		kp_json_string(f, saved_argv[i]);
	}
	fputs("],\n \"start_time\": ", f);
	kp_json_string(f, start_time);
	fputs(", \"version\": ", f);
	kp_json_string(f, KP_VERSION);
}
