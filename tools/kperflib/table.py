# SPDX-License-Identifier: GPL-2.0
"""Number formatting and tables, as plain text for terminals and Markdown.

A table is a header row and data rows of strings; the first column is
left-aligned, the others right-aligned (they are numbers).
"""


def fmt_int(v):
    if v is None:
        return "-"
    if isinstance(v, float) and v != int(v) and abs(v) < 1000:
        return "%.1f" % v
    return "{:,}".format(int(round(v)))


def fmt_ns(v):
    """A duration in ns, in the unit that reads best."""
    if v is None:
        return "-"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if abs(v) >= scale:
            return "%.3g %s" % (v / scale, unit) if v / scale < 1000 \
                else "%.0f %s" % (v / scale, unit)
    return "%d ns" % round(v)


def fmt_ratio(v):
    if v is None:
        return "-"
    if v >= 100:
        return "%.0fx" % v
    if v >= 10:
        return "%.1fx" % v
    if v >= 0.1:
        return "%.2fx" % v
    return "%.3gx" % v


def fmt_pct(v):
    return "-" if v is None else "%.1f%%" % v


def fmt_metric(metric, v):
    """Format a value of a stats.METRICS metric."""
    if metric.endswith("_ns"):
        return fmt_ns(v)
    if metric == "cpu_eff":
        return fmt_pct(v)
    return fmt_int(v)


def fmt_spread(metric, s):
    """median, and the min..max range when repeats differ."""
    if s is None:
        return "-"
    text = fmt_metric(metric, s["median"])
    if s["n"] > 1 and s["min"] != s["max"]:
        text += " (%s..%s)" % (fmt_metric(metric, s["min"]),
                               fmt_metric(metric, s["max"]))
    return text


def text(header, rows):
    """An aligned plain-text table."""
    cols = list(zip(*([header] + rows))) if rows else [[h] for h in header]
    widths = [max(len(str(c)) for c in col) for col in cols]

    def line(cells):
        out = []
        for i, c in enumerate(cells):
            c = str(c)
            out.append(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]))
        return "  ".join(out).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), sep] + [line(r) for r in rows]) + "\n"


def markdown(header, rows):
    """A GitHub-flavoured Markdown table."""
    def esc(c):
        return str(c).replace("|", "\\|")

    out = ["| " + " | ".join(esc(h) for h in header) + " |",
           "|" + "|".join([":---"] + ["---:"] * (len(header) - 1)) + "|"]
    for r in rows:
        out.append("| " + " | ".join(esc(c) for c in r) + " |")
    return "\n".join(out) + "\n"
