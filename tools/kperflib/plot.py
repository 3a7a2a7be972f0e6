# SPDX-License-Identifier: GPL-2.0
"""PNG plots through gnuplot (Debian's gnuplot-nox).

Two kinds: lines (a metric against a swept parameter, one line per model,
median with min..max error bars) and clustered bars (a metric per scenario
and model).  Axes are labelled with units; the value axis goes logarithmic
when the values span more than a decade and a half, the parameter axis when
numeric values span two decades or more.  The data of every plot is kept
beside it as NAME.dat.
"""

import os
import shutil
import subprocess
import sys

from .models import RunError

_terminal = None

# Inside a tools/vm guest that kperf started, plots are left to the host
# kperf (gnuplot under TCG takes seconds a plot): the guest writes NAME.gp
# and NAME.dat and lists the script in DIR/DEFERRED; the host then runs
# run_deferred(DIR).  The host hands its terminal down in KPERF_PLOT_TERMINAL.
DEFERRED = ".kperf-deferred-plots"


def deferring():
    return os.environ.get("KPERF_DEFER_PLOTS") == "1"


def terminal():
    """pngcairo when this gnuplot has it, else png (libgd)."""
    global _terminal
    if _terminal is None and os.environ.get("KPERF_PLOT_TERMINAL"):
        _terminal = os.environ["KPERF_PLOT_TERMINAL"]
    if _terminal is None:
        if not shutil.which("gnuplot"):
            raise RunError("gnuplot is not installed (apt-get install "
                           "gnuplot-nox); the CSV and JSON are written")
        res = subprocess.run(["gnuplot", "-e", "set terminal pngcairo"],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        _terminal = ("pngcairo size 960,600 enhanced font 'sans,11'"
                     if res.returncode == 0 else
                     "png size 960,600 enhanced")
    return _terminal


def quote(s):
    return '"%s"' % str(s).replace("\\", "\\\\").replace('"', '\\"')


def _gnuplot(png, script):
    full = "set terminal %s\nset output %s\n%s\nunset output\n" % (
        terminal(), quote(png), script)
    gp = os.path.splitext(png)[0] + ".gp"
    with open(gp, "w") as f:
        f.write(full)
    if deferring():
        with open(os.path.join(os.path.dirname(png), DEFERRED), "a") as f:
            f.write(gp + "\n")
        return
    res = subprocess.run(["gnuplot"], input=full, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if res.returncode != 0 or not os.path.getsize(png):
        raise RunError("gnuplot failed on %s: %s"
                       % (png, res.stdout.strip()[-300:]))


def run_deferred(out):
    """Draw the plots a guest left in out; return how many failed."""
    listing = os.path.join(out, DEFERRED)
    try:
        with open(listing) as f:
            scripts = [line.strip() for line in f if line.strip()]
    except OSError:
        return 0
    failed = 0
    for gp in scripts:
        res = subprocess.run(["gnuplot", gp], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        if res.returncode != 0:
            failed += 1
            print("kperf: gnuplot %s failed: %s" % (gp, res.stdout.strip()[-300:]),
                  file=sys.stderr)
    os.unlink(listing)
    return failed


def _spans(vals, factor):
    vals = [v for v in vals if v is not None]
    return bool(vals) and min(vals) > 0 and max(vals) / min(vals) >= factor


def lines(png, title, xlabel, ylabel, series, categorical=False):
    """series: {name: [(x, median, lo, hi), ...]}; x numeric or a label."""
    png = os.path.abspath(png)
    dat = os.path.splitext(png)[0] + ".dat"
    names = [n for n in series if series[n]]
    if not names:
        raise RunError("nothing measured")
    with open(dat, "w") as f:
        for name in names:
            f.write("# %s: x median min max\n" % name)
            for x, med, lo, hi in series[name]:
                if med is None:
                    continue
                f.write("%s %r %r %r\n" % (quote(x) if categorical else x,
                                           med, lo, hi))
            f.write("\n\n")
    ys = [p[2] for n in names for p in series[n]] + \
         [p[3] for n in names for p in series[n]]
    xs = [] if categorical else [p[0] for n in names for p in series[n]]
    s = ["set title %s" % quote(title),
         "set xlabel %s" % quote(xlabel),
         "set ylabel %s" % quote(ylabel),
         "set grid",
         "set key outside right top",
         "set pointsize 1.3"]
    if _spans(ys, 30):
        s.append("set logscale y")
        s.append("set format y '10^{%L}'")
    if _spans(xs, 100):
        s.append("set logscale x")
    if categorical:
        s.append("set offsets 0.5, 0.5, 0, 0")
        using = "0:2:3:4:xticlabels(1)"
    else:
        s.append("set offsets graph 0.03, graph 0.03, 0, 0")
        using = "1:2:3:4"
    plots = ["%s index %d using %s with yerrorlines lw 2 title %s"
             % (quote(dat), i, using, quote(name))
             for i, name in enumerate(names)]
    s.append("plot " + ", \\\n     ".join(plots))
    _gnuplot(png, "\n".join(s))


def bars(png, title, ylabel, categories, names, values):
    """Clustered bars: values[category][name] -> number or None."""
    if all(values[c].get(n) is None for c in categories for n in names):
        raise RunError("nothing measured")
    png = os.path.abspath(png)
    dat = os.path.splitext(png)[0] + ".dat"
    with open(dat, "w") as f:
        f.write("# scenario %s\n" % " ".join(names))
        for c in categories:
            row = [values[c].get(n) for n in names]
            f.write("%s %s\n" % (quote(c), " ".join(
                "-" if v is None else repr(v) for v in row)))
    ys = [values[c].get(n) for c in categories for n in names]
    s = ["set title %s" % quote(title),
         "set ylabel %s" % quote(ylabel),
         "set datafile missing '-'",
         "set style data histogram",
         "set style histogram cluster gap 1",
         "set style fill solid 0.85 border -1",
         "set boxwidth 0.9",
         "set grid ytics",
         "set key outside right top",
         "set yrange [*:*]"]
    if _spans(ys, 30):
        s.append("set logscale y")
        s.append("set format y '10^{%L}'")
        s.append("set yrange [%g:*]" % (min(v for v in ys if v) / 3))
    else:
        s.append("set yrange [0:*]")
    plots = ["%s using %d%s title %s" % (quote(dat), i + 2,
                                         ":xtic(1)" if i == 0 else "",
                                         quote(n))
             for i, n in enumerate(names)]
    s.append("plot " + ", \\\n     ".join(plots))
    _gnuplot(png, "\n".join(s))
