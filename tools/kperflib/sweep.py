# SPDX-License-Identifier: GPL-2.0
"""kperf sweep: one parameter over values, every point repeated.

Writes DIR/PARAM.csv (a row per run, as it comes), DIR/PARAM.json
(rewritten per run), DIR/PARAM-summary.csv and DIR/PARAM.png, and prints
a table of median throughputs.
"""

import csv
import os
import sys

from . import env, plot, runner, stats, table
from .measure import (CSV_FIELDS, Progress, ResultsJson, csv_row, measure,
                      with_module)
from .models import PARAM_LABELS, check_config


SUMMARY_METRICS = ("throughput", "elapsed_ns", "nvcsw", "nivcsw", "waits",
                   "mean_wait_ns", "cpu_eff")


class SweepWriter:
    """PARAM.csv grows a row per run; PARAM.json is rewritten per run."""

    def __init__(self, out, param, meta):
        self.out, self.param, self.meta = out, param, meta
        os.makedirs(out, exist_ok=True)
        self.csv_path = os.path.join(out, param + ".csv")
        self.json = ResultsJson(os.path.join(out, param + ".json"))
        self.json_path = self.json.path
        self.csv_file = open(self.csv_path, "w", newline="")
        self.csv = csv.DictWriter(self.csv_file, CSV_FIELDS)
        self.csv.writeheader()
        self.csv_file.flush()

    def add(self, value, model, i, res):
        self.csv.writerow(csv_row(self.param, value, model, i, res))
        self.csv_file.flush()
        self.json.add({"value": value, "model": model, "repeat": i + 1,
                       "result": res}, self.meta)

    def dump(self, summary):
        self.json.write(dict(self.meta, summary=summary))

    def close(self):
        self.csv_file.close()


def sweep_summary(param, values, models, by_point):
    """Rows of {value, model, metric: {median, min, max, n}}."""
    rows = []
    for v in values:
        for m in models:
            runs = by_point.get((v, m), [])
            if not runs:
                continue
            row = {"value": v, "model": m}
            for metric in SUMMARY_METRICS:
                row[metric] = stats.summarize(runs, metric)
            rows.append(row)
    return rows


def write_summary_csv(path, param, rows):
    fields = ["param", "value", "model", "n"]
    for metric in SUMMARY_METRICS:
        fields += [metric + "_median", metric + "_min", metric + "_max"]
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fields)
        w.writeheader()
        for r in rows:
            d = {"param": param, "value": r["value"], "model": r["model"],
                 "n": r["throughput"]["n"]}
            for metric in SUMMARY_METRICS:
                s = r[metric]
                for k in ("median", "min", "max"):
                    d[metric + "_" + k] = None if s is None else s[k]
            w.writerow(d)


# Parameters whose values are names, not numbers: drawn as bars.
CATEGORICAL = ("work_mode", "sync_mode")
# The unit of a numeric parameter's values (plot.UNITS), for tick labels.
PARAM_UNITS = {"sleep_us": "us", "stack_size": "B"}


def sweep_plot(png, param, values, models, by_point, title):
    """Throughput by value: bars per model for a categorical parameter,
    lines (median, min..max) for a numeric one."""
    spread = {(v, m): stats.summarize(by_point.get((v, m), []), "throughput")
              for v in values for m in models}
    if param in CATEGORICAL:
        plot.bars(png, title, "throughput", [str(v) for v in values], models,
                  {str(v): {m: spread[(v, m)] and (
                      spread[(v, m)]["median"], spread[(v, m)]["min"],
                      spread[(v, m)]["max"]) for m in models}
                   for v in values})
        return
    series = {m: [(v, s["median"], s["min"], s["max"])
                  for v in values for s in [spread[(v, m)]] if s]
              for m in models}
    plot.lines(png, title, PARAM_LABELS[param], "throughput", series,
               xunit=PARAM_UNITS.get(param, ""))


def sweep_points(args):
    """Configurations of a sweep, each checked against the limits of
    every model it runs on before anything runs."""
    pts = []
    for v in args.values_parsed:
        cfg = args.cfg.with_param(args.param, v)
        for m in args.models:
            check_config(cfg, runner.limits(m))
        pts.append((v, cfg))
    return pts


def cmd_sweep(args):
    param, models, repeat = args.param, args.models, args.repeat_n
    points = sweep_points(args)
    where = env.describe()
    meta = {"param": param, "values": args.values_parsed, "models": models,
            "repeat": repeat, "base_config": args.cfg.workload(),
            "environment": where}
    meta["base_config"].update(workers=args.cfg.workers)
    writer = SweepWriter(args.out, param, meta)
    by_point = {}
    progress = Progress(len(points) * len(models) * repeat)
    interrupted = False

    def body():
        for v, cfg in points:
            def sink(m, i, res, v=v):
                by_point.setdefault((v, m), []).append(res)
                writer.add(v, m, i, res)
            measure(models, cfg, repeat, args.run_timeout, progress,
                    label="%s=%s " % (param, v), sink=sink)

    try:
        with_module(models, body)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        writer.close()
    summary = sweep_summary(param, args.values_parsed, models, by_point)
    writer.dump(summary)
    sum_path = os.path.join(args.out, param + "-summary.csv")
    write_summary_csv(sum_path, param, summary)
    if interrupted:
        sys.stderr.write("kperf: interrupted; %d runs kept in %s and %s\n"
                         % (len(writer.json.encoded), writer.csv_path,
                            writer.json_path))
        return 130
    png = os.path.join(args.out, param + ".png")
    sweep_plot(png, param, args.values_parsed, models, by_point,
               "Throughput by %s (%s)" % (
                   param.replace("_", " "), args.cfg.describe(param)))
    header = [param] + models
    rows = []
    for v in args.values_parsed:
        row = [str(v)]
        for m in models:
            row.append(table.fmt_spread("throughput", stats.summarize(
                by_point.get((v, m), []), "throughput")))
        rows.append(row)
    print("kperf sweep %s: %s; throughput in ops/s%s" % (
        param, args.cfg.describe(param),
        ", median of %d (min..max)" % repeat if repeat > 1 else ""))
    print("measured on %s" % env.sentence(where))
    print()
    print(table.text(header, rows), end="")
    print()
    for p in (writer.csv_path, sum_path, writer.json_path, png):
        print("wrote %s" % p)
    return 0
