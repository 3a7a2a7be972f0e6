# SPDX-License-Identifier: GPL-2.0
"""PNG plots through gnuplot (Debian's gnuplot-nox).

Three kinds: lines (a metric against a swept numeric parameter, one line
per model, median with min..max error bars), clustered bars (a metric per
category -- a scenario, a work or sync mode -- and model, with min..max
bars where there are repeats) and wait-latency distributions (the CDF of
each model's histogram on a log time axis).  Tick labels carry SI units
(`40 µs`, `50 M ops/s`, `10 k`), written out here rather than left to
gnuplot's `1x10^7`.  The value axis goes logarithmic when the values span
more than a decade and a half, the parameter axis when numeric values span
two decades or more.  The data of every plot is kept beside it as NAME.dat,
the script as NAME.gp.
"""

import atexit
import math
import os
import select
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
        cairo, _ = _session().draw("set terminal pngcairo")
        _terminal = ("pngcairo size 960,600 enhanced font 'sans,11'"
                     if cairo else "png size 960,600 enhanced")
    return _terminal


def quote(s):
    return '"%s"' % str(s).replace("\\", "\\\\").replace('"', '\\"')


def _gnuplot(png, script):
    full = "set encoding utf8\nset terminal %s\nset output %s\n%s\n" \
        "unset output\n" % (terminal(), quote(png), script)
    gp = os.path.splitext(png)[0] + ".gp"
    with open(gp, "w", encoding="utf-8") as f:
        f.write(full)
    if deferring():
        with open(os.path.join(os.path.dirname(png), DEFERRED), "a") as f:
            f.write(gp + "\n")
        return
    ok, said = _session().draw(full)
    if not ok or not os.path.getsize(png):
        raise RunError("gnuplot failed on %s: %s" % (png, said.strip()[-300:]))


class _Session:
    """One gnuplot process that draws every plot of this kperf process.

    Starting gnuplot costs about a second in a TCG guest, drawing a plot a
    tenth of that, so a report's ten figures share one process: each script
    runs after `reset session` and ends with a marker line that carries
    GPVAL_ERRNO (non-zero when any command of the script failed; gnuplot
    reading a pipe goes on after an error), then `reset errors`.
    """

    MARK = "kperf-gnuplot-done "
    TIMEOUT = 300.0

    def __init__(self):
        self.proc = subprocess.Popen(
            ["gnuplot"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)
        self.pending = b""

    def draw(self, script):
        """Run script; return (ok, what gnuplot said)."""
        said = []
        try:
            self.proc.stdin.write((
                "reset session\n%s\nprint sprintf(\"%s%%d\", GPVAL_ERRNO)\n"
                "reset errors\n" % (script, self.MARK)).encode())
            self.proc.stdin.flush()
            fd = self.proc.stderr.fileno()
            while True:
                while b"\n" in self.pending:
                    raw, self.pending = self.pending.split(b"\n", 1)
                    line = raw.decode(errors="replace")
                    if line.startswith(self.MARK):
                        return (line[len(self.MARK):].strip() == "0",
                                "\n".join(said))
                    said.append(line)
                ready, _, _ = select.select([fd], [], [], self.TIMEOUT)
                chunk = os.read(fd, 65536) if ready else b""
                if not chunk:
                    break
                self.pending += chunk
        except OSError as e:
            said.append(str(e))
        self.close()
        return False, "\n".join(said) or "gnuplot ended or did not answer"

    def close(self):
        global _gp
        if _gp is self:
            _gp = None
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


_gp = None


def _session():
    global _gp
    if _gp is None:
        _gp = _Session()
        atexit.register(_gp.close)
    return _gp


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
        with open(gp, encoding="utf-8") as f:
            ok, said = _session().draw(f.read())
        if not ok:
            failed += 1
            print("kperf: gnuplot %s failed: %s" % (gp, said.strip()[-300:]),
                  file=sys.stderr)
    os.unlink(listing)
    return failed


# Units ------------------------------------------------------------------

# (unit, scale): a value v of the data is v * scale units.  Times are kept
# in ns in the results and labelled in seconds with a prefix.
UNITS = {"ns": ("s", 1e-9), "us": ("s", 1e-6), "ops/s": ("ops/s", 1),
         "B": ("B", 1), "": ("", 1), "%": ("%", 1)}
SI = ((1e9, "G"), (1e6, "M"), (1e3, "k"), (1, ""), (1e-3, "m"), (1e-6, "µ"),
      (1e-9, "n"))
BINARY = ((1 << 30, "Gi"), (1 << 20, "Mi"), (1 << 10, "Ki"), (1, ""))


def si(v, unit=""):
    """v (already in unit) as a short SI label: 4e-05, "s" -> "40 µs";
    5e7, "ops/s" -> "50 M ops/s"; 10000, "" -> "10 k"; bytes binary."""
    if unit == "%":
        return "%g %%" % round(v, 3)
    if v == 0:
        return "0"
    prefixes = BINARY if unit == "B" else SI
    for scale, prefix in prefixes:
        if abs(v) >= scale * 0.9995:
            break
    text = "%g" % round(v / scale, 3 if abs(v / scale) < 10 else 2)
    # A symbol takes its prefix directly (µs, KiB), a compound unit after
    # a space (50 M ops/s), a bare count with none (10 k).
    if unit in ("s", "B"):
        return "%s %s%s" % (text, prefix, unit)
    return ("%s %s %s" % (text, prefix, unit)).replace("  ", " ").strip()


def label(v, unit):
    """A data value v with unit (a key of UNITS) as its SI label."""
    u, scale = UNITS.get(unit, (unit, 1))
    return si(v * scale, u)


def nice_ticks(lo, hi, log):
    """Tick values covering lo..hi: 1-2-5 steps, or decades on a log axis
    (with 2 and 5 between when it spans at most two decades)."""
    if log:
        a = math.floor(math.log10(lo) + 1e-9)
        b = math.ceil(math.log10(hi) - 1e-9)
        b = max(b, a + 1)
        mults = (1, 2, 5) if b - a <= 2 else (1,)
        return [m * 10.0 ** e for e in range(a, b + 1) for m in mults
                if m * 10.0 ** e <= 10.0 ** b]
    if hi <= lo:
        hi = lo + (abs(lo) or 1)
    raw = (hi - lo) / 5.0
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first = math.floor(lo / step) * step
    n = int(math.ceil((hi - first) / step - 1e-9))
    return [first + i * step for i in range(n + 1)]


def tics(axis, values, unit, text=None):
    """gnuplot command: the axis's tics at values, labelled in SI (or by
    text(v)).  A tic label is a format string to gnuplot: % doubled."""
    text = text or (lambda v: label(v, unit))
    return "set %stics (%s)" % (axis, ", ".join(
        "%s %r" % (quote(text(v).replace("%", "%%")), v) for v in values))


def value_axis(axis, vals, unit, from_zero=True):
    """Commands for a value axis over vals: log when they span more than
    a decade and a half, a range that ends on ticks, SI labels."""
    vals = [v for v in vals if v is not None]
    if not vals:
        return []
    log = _spans(vals, 30)
    lo, hi = min(vals), max(vals)
    if not log and from_zero:
        lo = min(lo, 0)
    ticks = nice_ticks(lo, hi, log)
    out = ["set logscale %s" % axis] if log else []
    out.append("set %srange [%r:%r]" % (axis, ticks[0], ticks[-1]))
    out.append(tics(axis, ticks, unit))
    return out


def _spans(vals, factor):
    vals = [v for v in vals if v is not None]
    return bool(vals) and min(vals) > 0 and max(vals) / min(vals) >= factor


def _write_blocks(dat, names, rows_of, header):
    """One gnuplot index block per name."""
    with open(dat, "w") as f:
        for name in names:
            f.write("# %s: %s\n" % (name, header))
            for row in rows_of(name):
                f.write(" ".join(str(c) for c in row) + "\n")
            f.write("\n\n")


# Plots ------------------------------------------------------------------

def lines(png, title, xlabel, ylabel, series, xunit="", yunit="ops/s"):
    """series: {name: [(x, median, lo, hi), ...]}, x numeric; one line per
    name with min..max error bars.  Categorical x: bars()."""
    png = os.path.abspath(png)
    dat = os.path.splitext(png)[0] + ".dat"
    names = [n for n in series if series[n]]
    if not names:
        raise RunError("nothing measured")
    _write_blocks(dat, names, lambda n: [
        (x, repr(med), repr(lo), repr(hi)) for x, med, lo, hi in series[n]
        if med is not None], "x median min max")
    ys = [p[i] for n in names for p in series[n] for i in (2, 3)]
    xs = sorted({p[0] for n in names for p in series[n]})
    s = ["set title %s" % quote(title),
         "set xlabel %s" % quote(xlabel),
         "set ylabel %s" % quote(ylabel),
         "set grid",
         "set key outside right top",
         "set pointsize 1.3",
         "set offsets graph 0.03, graph 0.03, 0, 0"]
    s += value_axis("y", ys, yunit)
    if _spans(xs, 100):
        s.append("set logscale x")
    s.append(tics("x", xs, xunit))
    plots = ["%s index %d using 1:2:3:4 with yerrorlines lw 2 title %s"
             % (quote(dat), i, quote(name)) for i, name in enumerate(names)]
    s.append("plot " + ", \\\n     ".join(plots))
    _gnuplot(png, "\n".join(s))


def _spread(v):
    """(median, lo, hi) of a bar's value: a number or such a tuple."""
    if v is None:
        return None
    if isinstance(v, (tuple, list)):
        return tuple(v)
    return (v, v, v)


def bars(png, title, ylabel, categories, names, values, yunit="ops/s"):
    """Clustered bars: values[category][name] -> a number, a (median, min,
    max) tuple (drawn with min..max error bars), or None."""
    cells = {(c, n): _spread(values[c].get(n)) for c in categories
             for n in names}
    if all(v is None for v in cells.values()):
        raise RunError("nothing measured")
    errors = any(v and v[1] != v[2] for v in cells.values())
    png = os.path.abspath(png)
    dat = os.path.splitext(png)[0] + ".dat"
    with open(dat, "w") as f:
        f.write("# category %s (median min max each)\n" % " ".join(names))
        for c in categories:
            f.write("%s %s\n" % (quote(c), " ".join(
                "- - -" if cells[(c, n)] is None else
                "%r %r %r" % cells[(c, n)] for n in names)))
    ys = [x for v in cells.values() if v for x in v]
    s = ["set title %s" % quote(title),
         "set ylabel %s" % quote(ylabel),
         "set datafile missing '-'",
         "set style data histogram",
         "set style histogram %s gap 1" % ("errorbars lw 1" if errors
                                           else "cluster"),
         "set style fill solid 0.85 border -1",
         "set boxwidth 0.9",
         "set grid ytics",
         "set key outside right top"]
    axis = value_axis("y", ys, yunit)
    if axis and axis[0].startswith("set logscale"):
        # bars grow from the bottom of a log axis: start a decade below
        lo = min(v for v in ys if v) / 3
        axis = [axis[0], "set yrange [%r:*]" % nice_ticks(lo, lo * 10,
                                                           True)[0]] + [
            tics("y", nice_ticks(lo, max(ys), True), yunit)]
    s += axis
    using = "%d:%d:%d" if errors else "%d"
    plots = []
    for i, n in enumerate(names):
        cols = (3 * i + 2, 3 * i + 3, 3 * i + 4)
        plots.append("%s using %s%s title %s" % (
            quote(dat), using % (cols if errors else cols[:1]),
            ":xtic(1)" if i == 0 else "", quote(n)))
    s.append("plot " + ", \\\n     ".join(plots))
    _gnuplot(png, "\n".join(s))


def cdf_points(buckets):
    """[(ns, fraction of samples <= ns)] of [(lo_ns, hi_ns, count)]: from
    the first non-empty bucket's lower bound to the last one's upper."""
    total = sum(n for _, _, n in buckets)
    if not total:
        return []
    used = [(lo, hi, n) for lo, hi, n in buckets]
    first = next(i for i, b in enumerate(used) if b[2])
    last = max(i for i, b in enumerate(used) if b[2])
    pts = [(max(used[first][0], 1), 0.0)]
    seen = 0
    for lo, hi, n in used[first:last + 1]:
        seen += n
        pts.append((hi, seen / total))
    return pts


def distribution(png, title, series, styles=None):
    """Wait-latency CDFs, all in one plot on a log time axis: series is
    {name: [(lo_ns, hi_ns, count)]}; styles {name: gnuplot line style}."""
    png = os.path.abspath(png)
    dat = os.path.splitext(png)[0] + ".dat"
    pts = {n: cdf_points(b) for n, b in series.items()}
    names = [n for n in series if pts[n]]
    if not names:
        raise RunError("no wait was timed (work mode normal, or "
                       "latency_sample 0)")
    _write_blocks(dat, names, lambda n: pts[n], "ns fraction<=ns")
    xs = [x for n in names for x, _ in pts[n]]
    ticks = nice_ticks(min(xs), max(xs), True)
    s = ["set title %s" % quote(title),
         "set xlabel 'wait latency (log scale)'",
         "set ylabel 'waits at most this long'",
         "set grid",
         "set key outside right top",
         "set logscale x",
         "set xrange [%r:%r]" % (ticks[0], ticks[-1]),
         tics("x", ticks, "ns"),
         "set yrange [0:1]",
         tics("y", (0, 0.25, 0.5, 0.75, 0.9, 1), "%",
              lambda v: si(100 * v, "%"))]
    plots = ["%s index %d using 1:2 with lines lw 2 %s title %s"
             % (quote(dat), i, (styles or {}).get(name, ""), quote(name))
             for i, name in enumerate(names)]
    s.append("plot " + ", \\\n     ".join(plots))
    _gnuplot(png, "\n".join(s))
