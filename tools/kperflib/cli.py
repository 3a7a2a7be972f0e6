# SPDX-License-Identifier: GPL-2.0
"""kperf's command line: run, compare, sweep, report, merge (SPEC.md 6).

Exit status: 0 on success, 2 on bad usage (one line naming the problem),
1 on a runtime failure, 130 when interrupted.  A command that needs the
klt model runs where the module can be loaded: on the host when it can,
else the whole command re-runs itself inside one tools/vm guest, so every
model of a compare, sweep or report is measured on the same kernel.
"""

import argparse
import json
import os
import signal
import subprocess
import sys

from . import (blockcalls, env, kernels, klt, merge, plot, report, runner,
               stats, sweep, table)
from .measure import Progress, measure, with_module
from .models import (Config, MODELS, PARAMS, RunError,
                     UsageError, check_config, check_value,
                     flag, parse_value)

PROG = "kperf"
DEFAULT_RUN_TIMEOUT = 600


# ------------------------------------------------------------ converters
# argparse calls these while it parses, so a malformed or out-of-range
# number is bad usage (exit 2) before anything else happens.  UsageError
# passes through argparse unchanged and keeps the one-line message.

def workload_value(name):
    """Converter of one workload option: its syntax and its model-free
    range (thread_count, workers, stack_size depend on the model and are
    checked once the models are known)."""
    def convert(text):
        v = parse_value(name, text)
        if name not in ("thread_count", "workers", "stack_size"):
            check_value(name, v, runner.defs_limits())
        return v
    convert.__name__ = name
    return convert


def positive_int(option):
    def convert(text):
        try:
            v = parse_value("work_target", text)
        except UsageError:
            v = None
        if v is None or v < 1:
            raise UsageError("--%s: needs a positive integer, not '%s'"
                             % (option, text))
        return v
    convert.__name__ = option
    return convert


def positive_seconds(text):
    try:
        v = float(text)
    except ValueError:
        v = 0
    if not v > 0:
        raise UsageError("--run-timeout: needs a positive number of "
                         "seconds, not '%s'" % text)
    return v


class Parser(argparse.ArgumentParser):
    """argparse that reports bad usage as one line and exit status 2."""

    def error(self, message):
        raise UsageError("%s: %s (try --help)" % (self.prog, message))


# (parameter, metavar, help) of every workload option, in SPEC order.
WORKLOAD_OPTIONS = (
    ("thread_count", "N", "workers (coroutines for coro); default 4"),
    ("work_mode", "M", "normal, yield, sleep, pingpong, barrier, spawn or "
     "block; default normal"),
    ("sync_mode", "S", "atomic, spinlock, mutex or percpu; default atomic"),
    ("work_target", "N", "operations per worker; default 1e6"),
    ("yield_interval", "N", "operations between two waits; default 1000"),
    ("sleep_us", "N", "sleep length in sleep mode, 0 = one tick; default 0"),
    ("bind_cpu_count", "N", "bind worker i to the (i mod N)-th CPU: "
                            "klt of the online CPUs, pthread and coro of "
                            "those kperf may run on (its cpuset, "
                            "taskset); 0 = unbound (default)"),
    ("latency_sample", "N", "time every N-th wait of each worker, 0 = "
                            "none (no clock read for waits); default: "
                            "the models' own, 1 (every wait)"),
)
CORO_OPTIONS = (
    ("workers", "M", "coro only: OS threads under the coroutines; "
                     "1 = many-to-one (default), M > 1 many-to-many"),
    ("stack_size", "BYTES", "coro only: coroutine stack size (64K, 1M ok)"),
)


def add_workload(p):
    g = p.add_argument_group("workload options (SPEC.md section 2)")
    for name, metavar, text in WORKLOAD_OPTIONS + CORO_OPTIONS:
        g.add_argument("--" + flag(name), metavar=metavar,
                       type=workload_value(name), help=text)


def add_common(p):
    g = p.add_argument_group("where and how long")
    w = g.add_mutually_exclusive_group()
    w.add_argument("--vm", action="store_true",
                   help="run inside tools/vm even if the host could load "
                        "the module")
    w.add_argument("--host", action="store_true",
                   help="never start a VM; fail if klt is needed and the "
                        "host cannot load the module")
    g.add_argument("--run-timeout", metavar="S", type=positive_seconds,
                   default=DEFAULT_RUN_TIMEOUT,
                   help="give up on one run after S seconds (default %d)"
                        % DEFAULT_RUN_TIMEOUT)
    g.add_argument("--vm-timeout", metavar="S", type=int,
                   help="time limit of the whole VM boot (default: scaled "
                        "to the command)")
    g.add_argument("--kernel", metavar="VERSION",
                   help="run every model in a tools/vm guest of kernel "
                        "VERSION (/boot/vmlinuz-VERSION), with the module "
                        "built for it")


def add_json_common(p, text):
    """--json (its help: text) and the where-and-how-long options."""
    p.add_argument("--json", action="store_true", help=text)
    add_common(p)


def build_parser():
    top = Parser(prog=PROG, description=(
        "Measure kernel threads (klt), POSIX threads (pthread) and "
        "coroutines (coro) on the same workload."),
        epilog="Run `kperf COMMAND --help` for a command's options.  Commands "
               "that need klt run on the host when it can load "
               "kthread_perf.ko, else inside one tools/vm guest.")
    top.add_argument("--version", action="version",
                     version="%s %s" % (PROG, env.release_version()),
                     help="print the version (the tree's VERSION file; "
                          "git describe beside it in a git tree) and exit")
    sub = top.add_subparsers(dest="command", metavar="COMMAND",
                             parser_class=Parser)

    p = sub.add_parser("run", help="run one model once",
                       description="Run one model once and print its "
                                   "result (a table, or SPEC.md's JSON).")
    p.add_argument("model", metavar="MODEL", help="klt, pthread or coro")
    add_workload(p)
    add_json_common(p, "print the result as one JSON object")

    p = sub.add_parser("compare", help="every model on the same workload",
                       description="Run klt, pthread and coro on identical "
                                   "options and print one table with the "
                                   "ratios between them.")
    add_workload(p)
    p.add_argument("--repeat", metavar="R", default="1",
                   type=positive_int("repeat"),
                   help="runs per model; the table shows medians (default 1)")
    p.add_argument("--plot", metavar="FILE.png",
                   help="also draw the wait-latency distribution of every "
                        "model (CDF, log time axis) into FILE.png, its data "
                        "and gnuplot script beside it")
    add_json_common(p, "print a JSON array of every result")

    p = sub.add_parser("sweep", help="vary one parameter",
                       description="Vary one parameter over values, repeat "
                                   "each point, write CSV, JSON and a PNG "
                                   "plot (median with min..max bars).",
                       epilog="PARAM: %s.  Files: DIR/PARAM.csv (one row per "
                              "value x model x repeat), DIR/PARAM-summary.csv"
                              ", DIR/PARAM.json, DIR/PARAM.png."
                              % ", ".join(PARAMS))
    p.add_argument("param", metavar="PARAM", help="the parameter to vary")
    p.add_argument("--values", metavar="a,b,c", required=True,
                   help="comma-separated values of PARAM")
    add_workload(p)
    p.add_argument("--models", metavar="LIST", default=None,
                   help="comma-separated models (default klt,pthread,coro; "
                        "coro for workers and stack-size)")
    p.add_argument("--repeat", metavar="R", default="3",
                   type=positive_int("repeat"),
                   help="runs per point (default 3)")
    p.add_argument("--out", metavar="DIR", default="kperf-sweep",
                   help="output directory (default ./kperf-sweep)")
    add_common(p)

    p = sub.add_parser("report", help="the reference report's experiments",
                       description="Run the reference report's experiment "
                                   "set (its Tables 7-14, Figures 1-6) plus "
                                   "sync modes, wait latency and "
                                   "many-to-many coroutines; write "
                                   "DIR/report.md with tables and PNGs.")
    p.add_argument("--out", metavar="DIR", default="kperf-report",
                   help="output directory (default ./kperf-report)")
    p.add_argument("--quick", action="store_true",
                   help="scaled-down work, one run per point: minutes "
                        "under TCG")
    p.add_argument("--repeat", metavar="R", default=None,
                   type=positive_int("repeat"),
                   help="runs per point (default 3, 1 with --quick)")
    p.add_argument("--work-target", metavar="N", default=None,
                   type=workload_value("work_target"),
                   help="base work target per thread (default 1e6, 1e5 "
                        "with --quick); scaled tables use 5x and 10x")
    p.add_argument("--models", metavar="LIST", default=None,
                   help="measure only these models (default all three; "
                        "without klt the report stays on the host)")
    p.add_argument("--latency-sample", metavar="N", default=None,
                   type=workload_value("latency_sample"),
                   help="time every N-th wait in every run, 0 = none "
                        "(default: the models' own, every wait)")
    p.add_argument("--kernels", metavar="A,B",
                   help="run the report in a guest of each kernel (into "
                        "DIR/A, DIR/B) and write DIR/report.md with them "
                        "side by side")
    add_common(p)

    p = sub.add_parser("merge", help="one report from several machines",
                       description="Build one report from result "
                                   "directories written on several machines "
                                   "or kernels (report, sweep, or *.json "
                                   "saved from --json), told apart by each "
                                   "result's system block; write "
                                   "DIR/report.md.")
    p.add_argument("dirs", metavar="DIR", nargs="+",
                   help="result directories")
    p.add_argument("--out", metavar="DIR", default="kperf-merge",
                   help="output directory (default ./kperf-merge)")
    return top


# ---------------------------------------------------------------- options

def config_from(args, base=None):
    """The Config the workload options describe (unset: base's values)."""
    cfg = base or Config()
    for name in PARAMS:
        value = getattr(args, name, None)
        if value is not None:
            cfg = cfg.with_param(name, value)
    return cfg


def parse_models(text):
    models = [m.strip() for m in text.split(",") if m.strip()]
    if not models:
        raise UsageError("--models: no model given")
    for m in models:
        if m not in MODELS:
            raise UsageError("unknown model '%s' (one of %s)"
                             % (m, ", ".join(MODELS)))
    return models


def reject_coro_only(args, model):
    for name in ("workers", "stack_size"):
        if getattr(args, name, None) is not None and model != "coro":
            raise UsageError("--%s applies to the coro model only"
                             % flag(name))


# ------------------------------------------------------------- placement

def needs_klt(args):
    if args.command == "run":
        return args.model == "klt"
    if args.command in ("sweep", "report"):
        return "klt" in args.models
    return True


def vm_timeout(args):
    if args.vm_timeout:
        return args.vm_timeout
    if args.command == "report":
        return 2400 if args.quick else 6 * 3600
    if args.command == "sweep":
        points = len(args.values_parsed) * args.repeat_n * len(args.models)
        return int(300 + points * min(args.run_timeout, 300))
    return int(300 + 3 * args.run_timeout)


def output_dir(args):
    """Where the command writes files: --out, or --plot's directory."""
    if getattr(args, "out", None):
        return args.out
    if getattr(args, "plot", None):
        return os.path.dirname(os.path.abspath(args.plot))
    return None


def rw_options(args):
    """tools/vm options that let the guest write the command's files."""
    out = output_dir(args)
    if not out:
        return []
    os.makedirs(out, exist_ok=True)
    return ["--rw", os.path.abspath(out)]


def placement(args, argv):
    """None to run here, or the tools/vm command line to re-run in."""
    if args.kernel is not None:
        return kernel_placement(args, argv)
    if not needs_klt(args):
        return None
    ok, why = klt.host_can_load(runner.ROOT)
    if args.host:
        if not ok:
            raise RunError("--host: klt needs kthread_perf.ko and this kernel "
                           "cannot load it (%s)" % why)
        return None
    if ok and not args.vm:
        return None
    vm = os.path.join(runner.ROOT, "tools", "vm")
    if not os.access(vm, os.X_OK):
        raise RunError("klt needs a kernel that can load the module (%s), "
                       "and %s is missing: an installed kperf runs klt "
                       "only on a host that can load the installed module "
                       "(root, make modules_install or DKMS); run "
                       "tools/kperf from the source tree to use a VM"
                       % (why, vm))
    cmd = [vm, "--timeout", str(vm_timeout(args))] + rw_options(args)
    rest = [a for a in argv if a != "--vm"]
    cmd += ["--", os.path.join(runner.ROOT, "tools", "kperf")] + rest + \
        ["--host"]
    if not args.vm:
        sys.stderr.write("kperf: %s; running inside tools/vm\n" % why)
    return cmd


def kernel_placement(args, argv):
    """--kernel V: the tools/vm command line that re-runs this command in a
    guest of V, with the module built for V (KPERF_MODULE)."""
    if needs_klt(args):
        os.environ["KPERF_MODULE"] = kernels.module_for(
            runner.ROOT, args.kernel, klt.module_vermagic)
    cmd = [os.path.join(runner.ROOT, "tools", "vm"), "--kernel", args.kernel,
           "--timeout", str(vm_timeout(args))] + rw_options(args)
    rest = [a for a in merge.strip_options(argv, ("--kernel",))
            if a != "--vm"]
    return cmd + ["--", os.path.join(runner.ROOT, "tools", "kperf")] + \
        rest + ["--host"]


def run_in_vm(cmd, out=None):
    """Run cmd (tools/vm ...); then draw the plots the guest left in out."""
    environ = dict(os.environ)
    environ.update(env.vm_environment())
    if out:
        try:
            environ["KPERF_PLOT_TERMINAL"] = plot.terminal()
            environ["KPERF_DEFER_PLOTS"] = "1"
        except RunError:
            pass            # no gnuplot here: the guest says so itself
    proc = subprocess.Popen(cmd, env=environ)
    try:
        status = proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        proc.wait()
        raise
    finally:
        if out and plot.run_deferred(out):
            status = 1
    return status


# ------------------------------------------------------------------- run

def run_table(res):
    h = res.get("latency_hist") or {}
    rows = [
        ["model", res["model"]],
        ["kernel", res.get("kernel", "-")],
        ["workers (OS threads)", table.fmt_int(res["config"].get("workers"))],
        ["total ops", table.fmt_int(res["total_ops"])],
        ["counter", table.fmt_int(res["counter"])],
        ["elapsed", table.fmt_ns(res["elapsed_ns"])],
        ["throughput (ops/s)", table.fmt_int(res["throughput"])],
        ["user time", table.fmt_ns(res.get("user_ns"))],
        ["system time", table.fmt_ns(res.get("sys_ns"))],
        ["CPU time", table.fmt_ns(res.get("cputime_ns"))],
        ["voluntary switches", table.fmt_int(res.get("nvcsw"))],
        ["involuntary switches", table.fmt_int(res.get("nivcsw"))],
        ["waits", table.fmt_int(res.get("waits"))],
    ]
    if h.get("samples"):
        rows += [["wait latency min/mean/max", "%s / %s / %s" % (
            table.fmt_ns(h["min_ns"]), table.fmt_ns(h["mean_ns"]),
            table.fmt_ns(h["max_ns"]))],
            ["wait latency %s" % "/".join(
                label for _, _, label in stats.PERCENTILES),
             " / ".join(table.fmt_ns(stats.value(res, m))
                        for m in stats.PERCENTILE_METRICS)]]
    return table.text(["metric", "value"], rows)


def cmd_run(args):
    model = args.model
    cfg = args.cfg
    res = with_module([model], lambda: runner.run(
        model, cfg, args.run_timeout,
        progress=None if args.json else Progress(1).live))
    if args.json:
        print(json.dumps(res))
    else:
        print("kperf run %s: %s" % (model, cfg.describe()))
        print(run_table(res), end="")
    return 0


# --------------------------------------------------------------- compare

COMPARE_METRICS = ("throughput", "elapsed_ns", "total_ops", "cputime_ns",
                   "user_ns", "sys_ns", "nvcsw", "nivcsw", "waits",
                   "mean_wait_ns") + stats.PERCENTILE_METRICS + \
    ("max_wait_ns",)
RATIOS = (("coro", "pthread"), ("coro-mn", "pthread"), ("coro", "klt"),
          ("coro-mn", "klt"), ("klt", "pthread"))
# compare's columns (SPEC 6): coro on one worker (many-to-one) and coro-mn
# on --workers OS threads, default the online CPUs (many-to-many).
COMPARE_MODELS = ("klt", "pthread", "coro", "coro-mn")


def compare_configs(args, cfg):
    """{column: Config}: coro-mn is the coro model on more workers; block
    mode adds the other ways coroutines make the blocking call
    (blockcalls.py), decided once the module is loaded or not."""
    mn = cfg.workers if getattr(args, "workers", None) is not None \
        else env.online_cpus()
    cfgs = {"klt": cfg, "pthread": cfg, "coro": cfg.with_param("workers", 1),
            "coro-mn": cfg.with_param("workers", mn)}
    if cfg.work_mode == "block":
        cfgs.update(blockcalls.variant_cfgs(cfg, mn,
                                            blockcalls.module_opens()))
    return cfgs


def compare_rows(results, metrics=COMPARE_METRICS):
    rows = []
    for metric in metrics:
        fn, unit, label = stats.METRICS[metric]
        row = ["%s%s" % (label, " (%s)" % unit if unit == "ops/s" else "")]
        for m in results:
            row.append(table.fmt_spread(metric, stats.summarize(results[m],
                                                                metric)))
        rows.append(row)
    return rows


def ratio_rows(results):
    rows = []
    med = {m: stats.median(results[m], "throughput") for m in results}
    ratios = RATIOS + tuple((m, "pthread") for m in results if "/" in m)
    for a, b in ratios:
        if a in med and b in med:
            rows.append(["%s/%s" % (a, b),
                         table.fmt_ratio(stats.ratio(med[a], med[b]))])
    return rows


def cmd_compare(args):
    cfg = args.cfg

    def run():
        cfgs = compare_configs(args, cfg)
        progress = Progress(len(cfgs) * args.repeat_n, enabled=not args.json)
        return cfgs, measure(tuple(cfgs), cfgs, args.repeat_n,
                             args.run_timeout, progress)

    cfgs, results = with_module(COMPARE_MODELS, run)
    models = tuple(cfgs)
    if args.plot:
        plot_distribution(args.plot, cfg, results)
    if args.json:
        print(json.dumps([r for m in models for r in results[m]]))
        return 0
    where = env.describe()
    mn = cfgs["coro-mn"].workers
    print("kperf compare: %s; coro on 1 worker, coro-mn on %d worker%s" % (
        cfg.describe(), mn, "s" if mn > 1 else ""))
    if cfg.work_mode == "block":
        print(blockcalls.compare_note(results))
    print("measured on %s" % env.sentence(where))
    if args.repeat_n > 1:
        print("median of %d runs per model (min..max)" % args.repeat_n)
    print()
    print(table.text(["metric"] + list(models), compare_rows(results)), end="")
    print()
    print(table.text(["throughput ratio", "value"], ratio_rows(results)),
          end="")
    if args.plot:
        print("\nwrote %s" % args.plot)
    return 0


def plot_distribution(png, cfg, results):
    """compare --plot: every column's wait-latency CDF in one figure."""
    plot.distribution(png, "Wait-latency distribution (%s)" % cfg.describe(),
                      {m: stats.merged_buckets(results[m]) for m in results})


def check_plot(args):
    """compare --plot FILE: a .png in a writable directory, of a workload
    that times its waits (bad usage otherwise)."""
    path = args.plot
    if path is None:
        return
    d = os.path.dirname(os.path.abspath(path))
    if not path.lower().endswith(".png"):
        raise UsageError("--plot: '%s' must end in .png" % path)
    if os.path.isdir(path):
        raise UsageError("--plot: '%s' is a directory" % path)
    if not os.path.isdir(d):
        raise UsageError("--plot: no directory '%s' for %s" % (d, path))
    if not os.access(d, os.W_OK | os.X_OK):
        raise UsageError("--plot: cannot write into '%s'" % d)
    if args.cfg.work_mode == "normal":
        raise UsageError("--plot: work mode normal has no waits to plot "
                         "(give --work-mode)")
    if args.cfg.latency_sample == 0:
        raise UsageError("--plot: --latency-sample 0 times no wait")


# ------------------------------------------------------------------ main

def prepare(args):
    """Parse and check every option before anything runs (exit 2 early)."""
    if args.command == "run":
        if args.model not in MODELS:
            raise UsageError("unknown model '%s' (one of %s)"
                             % (args.model, ", ".join(MODELS)))
        reject_coro_only(args, args.model)
    if args.command == "sweep":
        args.param = args.param.replace("-", "_")
        if args.param not in PARAMS:
            raise UsageError("unknown parameter '%s' (one of %s)"
                             % (args.param, ", ".join(PARAMS)))
        if getattr(args, args.param) is not None:
            raise UsageError("--%s is the swept parameter; give its values "
                             "with --values" % flag(args.param))
        vals = [v.strip() for v in args.values.split(",") if v.strip()]
        if not vals:
            raise UsageError("--values: no values given")
        for v in vals:
            if vals.count(v) > 1:
                raise UsageError("--values: '%s' is given twice" % v)
        args.values_parsed = []
        for v in vals:
            try:
                pv = parse_value(args.param, v)
            except UsageError as e:
                raise UsageError("--values: %s" % e)
            if args.param not in ("thread_count", "workers", "stack_size"):
                check_value(args.param, pv, runner.defs_limits())
            args.values_parsed.append(pv)
        if args.models is None:
            args.models = "coro" if args.param in ("workers", "stack_size") \
                else ",".join(MODELS)
        args.models = parse_models(args.models)
    if hasattr(args, "repeat"):
        if args.repeat is None:
            args.repeat = 1 if args.quick else 3
        args.repeat_n = args.repeat
    if args.command == "report":
        args.models = parse_models(args.models or ",".join(MODELS))
        args.work_target_n = args.work_target
    prepare_kernels(args)
    if args.command != "report":
        args.cfg = config_from(args)
        if args.command == "run":
            check_config(args.cfg, runner.limits(args.model))
        elif args.command == "compare":
            for m in MODELS:
                check_config(args.cfg, runner.limits(m))
            check_plot(args)
        else:
            sweep.sweep_points(args)


COMMANDS = {"run": cmd_run, "compare": cmd_compare, "sweep": sweep.cmd_sweep,
            "report": report.main}


def prepare_kernels(args):
    """--kernel V and report's --kernels A,B: kernels tools/vm can boot."""
    if args.kernel is not None:
        if args.host:
            raise UsageError("--kernel runs in a guest; it cannot go with "
                             "--host")
        kernels.check_version(runner.ROOT, args.kernel)
    args.kernels_list = []
    if getattr(args, "kernels", None) is not None:
        if args.kernel is not None:
            raise UsageError("--kernels and --kernel: give one")
        ks = [k.strip() for k in args.kernels.split(",") if k.strip()]
        if len(ks) < 2 or len(set(ks)) != len(ks):
            raise UsageError("--kernels: needs two or more different kernel "
                             "versions, comma-separated")
        for k in ks:
            kernels.check_version(runner.ROOT, k)
        args.kernels_list = ks


def _sigterm(signum, frame):
    raise KeyboardInterrupt


def main(argv):
    # Ctrl-C must work even where a shell started us with SIGINT ignored
    # (a background job); SIGTERM ends a run the same clean way.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _sigterm)
    parser = build_parser()
    try:
        if not argv:
            parser.print_help(sys.stderr)
            return 2
        args = parser.parse_args(argv)
        if args.command is None:
            raise UsageError("no command given (run, compare, sweep, "
                             "report, merge)")
        if args.command == "merge":
            return merge.cmd_merge(args)
        prepare(args)
        if args.kernels_list:
            return merge.report_kernels(
                args, argv, os.path.join(runner.ROOT, "tools", "kperf"))
        cmd = placement(args, argv)
        if cmd:
            return run_in_vm(cmd, output_dir(args))
        return COMMANDS[args.command](args)
    except UsageError as e:
        sys.stderr.write("%s: %s\n" % (PROG, e) if not str(e).startswith(
            PROG) else "%s\n" % e)
        return 2
    except RunError as e:
        sys.stderr.write("%s: %s\n" % (PROG, e))
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("%s: interrupted\n" % PROG)
        return 130
    except BrokenPipeError:
        return 1
