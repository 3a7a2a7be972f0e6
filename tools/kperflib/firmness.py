# SPDX-License-Identifier: GPL-2.0
"""How firm a report's numbers are (issue 21): for every configuration,
how many runs each model had, how far apart they were, and whether the
models' order by throughput held from one repeat to the next.  The
models ran alternately (repeat i of every model, then repeat i + 1), so
repeat i of each is one round; a round that orders them differently from
another says that the difference between them is within the noise of
this machine (under TCG, of how the host ran the guest's vCPUs), not a
property of the thread models."""

import statistics


def _throughputs(ctx, model, cfg):
    return [r.get("throughput") for r in ctx.results.get((model, cfg), [])]


def order(ctx, cfg, models, i):
    """The models by their repeat i's throughput, fastest first; None when
    one of them has no repeat i."""
    vals = {}
    for m in models:
        t = _throughputs(ctx, m, cfg)
        if len(t) <= i or t[i] is None:
            return None
        vals[m] = t[i]
    return tuple(sorted(models, key=lambda m: -vals[m]))


def spread_pct(values):
    """(max - min) / median, in percent; None for fewer than 2 values."""
    values = [v for v in values if v is not None]
    if len(values) < 2:
        return None
    med = statistics.median(values)
    return 100.0 * (max(values) - min(values)) / med if med else None


def configs(ctx):
    """Measured configurations, in the order they were asked for, each
    with the models measured in it."""
    seen = []
    for model, cfg in ctx.wanted:
        if ctx.results.get((model, cfg)) and cfg not in [c for c, _ in seen]:
            seen.append((cfg, []))
        for c, ms in seen:
            if c == cfg and ctx.results.get((model, cfg)) and model not in ms:
                ms.append(model)
    return seen


def assess(ctx):
    """[{cfg, models, repeats, spread: (model, pct) | None, orders:
    {order: count}}] for every measured configuration."""
    rows = []
    for cfg, models in configs(ctx):
        repeats = min(len(ctx.results[(m, cfg)]) for m in models)
        orders = {}
        for i in range(repeats):
            o = order(ctx, cfg, models, i)
            if o:
                orders[o] = orders.get(o, 0) + 1
        worst = None
        for m in models:
            p = spread_pct(_throughputs(ctx, m, cfg))
            if p is not None and (worst is None or p > worst[1]):
                worst = (m, p)
        rows.append({"cfg": cfg, "models": models, "repeats": repeats,
                     "spread": worst, "orders": orders})
    return rows


def unsteady(rows):
    """The rows whose models changed order between repeats."""
    return [r for r in rows if len(r["orders"]) > 1]


def label(cfg):
    """cfg.describe(), and what only coro_bench takes."""
    s = cfg.describe()
    if cfg.workers != 1:
        s += ", %d coro workers" % cfg.workers
    if cfg.stack_size:
        s += ", %d-byte stacks" % cfg.stack_size
    return s


def _order_cell(r):
    if len(r["models"]) < 2:
        return "(one model)"
    if r["repeats"] < 2:
        return " > ".join(next(iter(r["orders"]), ())) + " (one run)"
    if len(r["orders"]) == 1:
        return " > ".join(next(iter(r["orders"]))) + " in every repeat"
    return "**changes**: " + "; ".join(
        "%s (%d of %d)" % (" > ".join(o), n, r["repeats"])
        for o, n in sorted(r["orders"].items(), key=lambda x: -x[1]))


def warning(ctx):
    """One line for the report's header, or None."""
    rows = assess(ctx)
    bad = unsteady(rows)
    if not bad:
        return None
    return ("**Warning:** in %d of %d configurations the models' order by "
            "throughput changed between repeats (section 13): read those "
            "rows as ties on this machine, not as properties of the thread "
            "models." % (len(bad), len(rows)))


def sec_firmness(ctx):
    rows = assess(ctx)
    out = ["## 13. How firm these numbers are\n\n"
           "Each configuration's runs: how many per model, the largest "
           "spread of one model's throughput over its runs ((max - min) / "
           "median), and the models' order by throughput in each repeat "
           "(the models ran alternately, so repeat i of each is one "
           "round).  A configuration whose order changes between repeats "
           "is within this machine's noise.\n\n"]
    if ctx.repeat < 2:
        out.append("This report ran each point once: no spread was "
                   "measured and no order could be checked.  Run it with "
                   "`--repeat 3` (the default without `--quick`) to see "
                   "how firm its rows are.\n\n")
    if ctx.planning or not rows:
        return "".join(out)
    table_rows = []
    for r in rows:
        sp = r["spread"]
        table_rows.append([label(r["cfg"]), str(r["repeats"]),
                           "%s %.0f %%" % (sp[0], sp[1]) if sp else "-",
                           _order_cell(r)])
    out.append(ctx.table("Repeats, spread and order of the models, per "
                         "configuration",
                         ["configuration", "repeats", "largest spread",
                          "order by throughput"], table_rows))
    bad = unsteady(rows)
    out.append("%d of %d configurations kept one order in every repeat.\n"
               % (len(rows) - len(bad), len(rows)))
    return "".join(out)
