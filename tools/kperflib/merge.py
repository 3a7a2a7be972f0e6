# SPDX-License-Identifier: GPL-2.0
"""kperf merge: one report from results written on several machines or kernels.

Reads every result object found in the given directories (a report's
results.json, a sweep's PARAM.json, `compare --json` or `run --json` output
saved as *.json) and groups them by where they were measured: the `system`
block every result carries (SPEC.md section 5: kernel, machine, cpu_model,
online_cpus, accel, hostname, preempt).  A result written before that block
existed is grouped by its `kernel` field and the directory it was found in,
which the report says.

The report puts the systems side by side, per configuration that appears on
more than one of them: the throughput ratios between the models (klt/pthread,
coro/pthread), each model's median throughput and its wait latency.  Only
medians of runs of one system are compared, never single runs across
systems.

kperf report --kernels A,B runs the report once in a guest of each kernel
(report_kernels) and merges the directories it wrote.
"""

import json
import os
import subprocess
import sys

from . import stats, table
from .models import Config, RunError, UsageError, WORKLOAD_PARAMS

# The system block's fields, in the order a reader wants them.
SYSTEM_FIELDS = ("kernel", "preempt", "machine", "cpu_model", "online_cpus",
                 "accel", "hostname")
RATIOS = (("klt", "pthread"), ("coro", "pthread"), ("coro-mn", "pthread"))
MODEL_ORDER = ("klt", "pthread", "coro", "coro-mn")


def load_results(path):
    """The result objects in one JSON file (a list, a sweep's {"runs": []}
    or one object); [] when the file holds none."""
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return []
    if isinstance(doc, dict) and isinstance(doc.get("runs"), list):
        doc = doc["runs"]
    if isinstance(doc, dict):
        doc = [doc]
    if not isinstance(doc, list):
        return []
    return [r for r in doc if isinstance(r, dict) and "model" in r and
            isinstance(r.get("config"), dict) and "throughput" in r]


def scan(directory):
    """Every result under directory (recursively), in a stable order."""
    found = []
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".json"):
                found += load_results(os.path.join(root, name))
    return found


def system_of(res, directory):
    """(key, block, told_by): the system block that tells res apart."""
    block = res.get("system")
    if isinstance(block, dict) and block:
        block = {k: block[k] for k in block}
        return tuple(sorted((k, str(v)) for k, v in block.items())), block, \
            "system"
    block = {"kernel": res.get("kernel", "?"),
             "source": os.path.basename(os.path.normpath(directory))}
    return tuple(sorted(block.items())), block, "kernel and directory"


def label_of(block, parts=("kernel",)):
    """A column label: the named fields of the system block, " @ " apart."""
    out = [str(block.get("kernel", "?"))]
    for field in parts[1:]:
        value = block.get(field)
        if value and str(value) not in out:
            out.append(str(value))
    return " @ ".join(out)


def model_of(res):
    """The model column: coro on more than one worker is coro-mn."""
    m = res["model"]
    if m == "coro" and (res["config"].get("workers") or 1) > 1:
        return "coro-mn"
    return m


def config_of(res):
    """The workload configuration a result ran (workers aside: the model
    says how many OS threads)."""
    c = res["config"]
    kw = {k: c[k] for k in WORKLOAD_PARAMS if k in c}
    try:
        return Config(**kw)
    except TypeError:
        return None


class Merged:
    """Results grouped by system, then by (configuration, model)."""

    def __init__(self):
        self.systems = []           # keys, first-seen order
        self.blocks = {}            # key -> block
        self.told_by = {}           # key -> "system" | "kernel and directory"
        self.dirs = {}              # key -> [directory]
        self.results = {}           # key -> {(cfg, model): [result]}
        self.configs = []           # first-seen order

    def add(self, res, directory):
        cfg = config_of(res)
        if cfg is None:
            return
        key, block, told = system_of(res, directory)
        if key not in self.blocks:
            self.systems.append(key)
            self.blocks[key] = block
            self.told_by[key] = told
            self.dirs[key] = []
            self.results[key] = {}
        if directory not in self.dirs[key]:
            self.dirs[key].append(directory)
        if cfg not in self.configs:
            self.configs.append(cfg)
        self.results[key].setdefault((cfg, model_of(res)), []).append(res)

    def labels(self):
        """Unique column labels, one per system: the kernel, with the host
        and then the directory only where the kernel alone is ambiguous."""
        for parts in (("kernel",), ("kernel", "hostname"),
                      ("kernel", "hostname", "source")):
            out = [label_of(self.blocks[k], parts) for k in self.systems]
            if len(set(out)) == len(out):
                return out
        seen = {}
        for i, label in enumerate(out):
            seen[label] = seen.get(label, 0) + 1
            if seen[label] > 1:
                out[i] = "%s #%d" % (label, seen[label])
        return out

    def get(self, key, cfg, model):
        return self.results[key].get((cfg, model), [])

    def med(self, key, cfg, model, metric):
        return stats.median(self.get(key, cfg, model), metric)

    def models(self):
        have = {m for key in self.systems for (_, m) in self.results[key]}
        return [m for m in MODEL_ORDER if m in have]

    def shared_configs(self):
        """Configurations measured on more than one system (all of them
        when there is only one system)."""
        need = min(2, len(self.systems))
        return [c for c in self.configs
                if sum(1 for k in self.systems
                       if any(cc == c for (cc, _) in self.results[k])) >= need]


def merge_dirs(dirs):
    m = Merged()
    seen = set()
    for d in dirs:
        if not os.path.isdir(d):
            raise UsageError("%s is not a directory" % d)
        if os.path.realpath(d) in seen:
            continue
        seen.add(os.path.realpath(d))
        found = scan(d)
        if not found:
            raise RunError("%s holds no kperf results (*.json with runs)" % d)
        for res in found:
            m.add(res, d)
    return m


def measured(rows, keep=1):
    """rows less those with nothing measured (every cell after the first
    keep ones is "-")."""
    return [r for r in rows if any(c != "-" for c in r[keep:])]


def measured_columns(header, rows, keep=1):
    """header and rows less the columns with nothing measured."""
    cols = [i for i in range(len(header))
            if i < keep or any(r[i] != "-" for r in rows)]
    return [header[i] for i in cols], [[r[i] for i in cols] for r in rows]


def render(m, command):
    labels = m.labels()
    models = m.models()
    cfgs = m.shared_configs()
    out = ["# kthread_perf: results side by side\n",
           "Merged by `%s` from %d director%s: %d system%s, %d "
           "configuration%s measured on %s.  Cells are medians of the runs "
           "one system made; ratios are taken within a system, so they "
           "compare across machines and kernels where absolute numbers do "
           "not.\n" % (command, sum(len(v) for v in m.dirs.values()),
                       "y" if sum(len(v) for v in m.dirs.values()) == 1
                       else "ies", len(m.systems),
                       "s" if len(m.systems) > 1 else "", len(cfgs),
                       "s" if len(cfgs) != 1 else "",
                       "more than one of them" if len(m.systems) > 1
                       else "it")]
    if any(t != "system" for t in m.told_by.values()):
        out.append("Some results carry no `system` block; they are told "
                   "apart by their `kernel` field and the directory they "
                   "came from.\n")

    rows = []
    for key, label in zip(m.systems, labels):
        b = m.blocks[key]
        rows.append([label] + [str(b.get(f, "-")) for f in SYSTEM_FIELDS] +
                    [", ".join(m.dirs[key]),
                     str(sum(len(v) for v in m.results[key].values()))])
    out.append("## Systems\n\n" + table.markdown(
        ["system"] + list(SYSTEM_FIELDS) + ["directories", "runs"], rows))

    header = ["configuration"]
    for label in labels:
        for a, b in RATIOS:
            if a in models and b in models:
                header.append("%s/%s %s" % (a, b, label))
    rows = []
    for cfg in cfgs:
        row = [cfg.describe()]
        for key in m.systems:
            for a, b in RATIOS:
                if a in models and b in models:
                    row.append(table.fmt_ratio(stats.ratio(
                        m.med(key, cfg, a, "throughput"),
                        m.med(key, cfg, b, "throughput"))))
        rows.append(row)
    header, rows = measured_columns(header, measured(rows))
    out.append("\n## Throughput ratios between the models\n\n" +
               table.markdown(header, rows))

    rows = []
    for cfg in cfgs:
        for model in models:
            row = [cfg.describe(), model]
            for key in m.systems:
                row.append(table.fmt_spread("throughput", stats.summarize(
                    m.get(key, cfg, model), "throughput")))
            rows.append(row)
    out.append("\n## Throughput (ops/s)\n\n" + table.markdown(
        ["configuration", "model"] + labels, measured(rows, 2)))

    rows = []
    for cfg in cfgs:
        if cfg.work_mode == "normal":
            continue
        for model in models:
            row = [cfg.describe(), model]
            for key in m.systems:
                row.append(table.fmt_metric("mean_wait_ns", m.med(
                    key, cfg, model, "mean_wait_ns")))
                row.append(table.fmt_metric("max_wait_ns", m.med(
                    key, cfg, model, "max_wait_ns")))
            rows.append(row)
    if rows:
        header = ["configuration", "model"]
        for label in labels:
            header += ["mean wait %s" % label, "max wait %s" % label]
        out.append("\n## Wait latency\n\n" +
                   table.markdown(header, measured(rows, 2)))
    return "\n".join(out)


def write(m, out, command):
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "report.md")
    with open(path, "w") as f:
        f.write(render(m, command))
    return path


def cmd_merge(args):
    m = merge_dirs(args.dirs)
    path = write(m, args.out, "kperf merge " + " ".join(args.dirs))
    print(path)
    return 0


def strip_options(argv, names):
    """argv less each --NAME VALUE / --NAME=VALUE of names."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
            continue
        if a in names:
            skip = True
            continue
        if any(a.startswith(n + "=") for n in names):
            continue
        out.append(a)
    return out


def report_kernels(args, argv, kperf):
    """kperf report --kernels A,B: the report in a guest of each kernel,
    into OUT/A and OUT/B, then one report side by side in OUT/report.md."""
    rest = strip_options(argv, ("--kernels", "--out", "--kernel"))
    dirs = []
    for k in args.kernels_list:
        d = os.path.join(args.out, k)
        sys.stderr.write("kperf: report on kernel %s into %s\n" % (k, d))
        # Their "wrote DIR/K/report.md" lines go to stderr: stdout names
        # the merged report only.
        sys.stdout.flush()
        rc = subprocess.call([kperf] + rest + ["--out", d, "--kernel", k],
                             stdout=sys.stderr)
        if rc != 0:
            raise RunError("the report on kernel %s failed (exit %d); its "
                           "partial results are in %s" % (k, rc, d))
        dirs.append(d)
    m = merge_dirs(dirs)
    path = write(m, args.out, "kperf " + " ".join(argv))
    print(path)
    return 0
