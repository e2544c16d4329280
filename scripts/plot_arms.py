#!/usr/bin/env python3
"""One figure from flotilla results: a per-arm figure with its 95% interval, as SVG.

    scripts/plot_arms.py RESULTS_DIR OUT.svg [--metric KEY]
    scripts/plot_arms.py sweep.csv   OUT.svg [--metric COLUMN] [--x COLUMN] [--no-title]

A results directory (`flotilla sim --out DIR`): the arms' figure from summary.json,
checked against payments.csv. Intervals are within the run: the Wilson interval for
`success_rate` (summary.json's `success_ci95`), and mean ± 1.96 standard errors over
payments.csv's rows for `ttc_ms_mean` (settled payments) and `tto_ms_mean` (every
payment). Other keys are drawn without an interval.

A sweep.csv (one row per point × seed × arm: the point's parameters as columns, `arm`,
`seed`, and every numeric per-arm figure): the mean over seeds with a Student t 95%
interval, per arm, or per arm and value of `--x` (a parameter column; numeric values
are drawn as lines). The interval is across seeds.

It prints the numbers it draws as a table (arm, x, n, mean, low, high) on stdout.
Standard library only: no pandas, no matplotlib; docs/results-format.md documents
every file and column.
"""
import argparse
import csv
import json
import math
import os
import sys

# Okabe-Ito, as the report's arms (yellow last).
COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9",
           "#000000", "#F0E442"]
DASHES = ["", "9 4", "3 3", "12 4 3 4"]
READS_VERSIONS = (1, 2)

# Student t 97.5% quantiles for 1..30 degrees of freedom.
T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
        2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
        2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]


def t975(df):
    """The 97.5% quantile of Student's t with df degrees of freedom."""
    if df <= len(T975):
        return T975[df - 1]
    z = 1.959963984540054
    # Cornish-Fisher expansion: within 1e-4 of the exact value past 30.
    return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2)


def mean_ci(values, t_interval):
    """(n, mean, low, high): a t interval (across seeds) or a normal one (many rows)."""
    n = len(values)
    if n == 0:
        return 0, float("nan"), float("nan"), float("nan")
    m = sum(values) / n
    if n == 1:
        return 1, m, float("nan"), float("nan")
    sd = math.sqrt(sum((v - m) ** 2 for v in values) / (n - 1))
    half = (t975(n - 1) if t_interval else 1.959963984540054) * sd / math.sqrt(n)
    return n, m, m - half, m + half


def fail(msg):
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(1)


def number(text, where):
    try:
        v = float(text)
    except ValueError:
        fail(f"{where}: `{text}` is not a number")
    if not math.isfinite(v):
        fail(f"{where}: `{text}` is not a finite number")
    return v


def from_run(d, metric):
    """Rows (arm, x=None, n, mean, low, high) from a results directory."""
    run = json.load(open(os.path.join(d, "run.json")))
    if run.get("format") != "flotilla-results" or run.get("format_version") not in READS_VERSIONS:
        fail(f"{d}/run.json: results format {run.get('format')} version "
             f"{run.get('format_version')}; this script reads versions {READS_VERSIONS}")
    summary = json.load(open(os.path.join(d, "summary.json")))
    arms = [a["name"] for a in summary["arms"]]
    by_arm = {a: {"n": 0, "ok": 0, "ttc": [], "tto": []} for a in arms}
    path = os.path.join(d, "payments.csv")
    with open(path, newline="") as f:
        for i, r in enumerate(csv.DictReader(f), start=2):
            arm = by_arm.get(r["arm"])
            if arm is None:
                fail(f"{path}: line {i}, column `arm`: `{r['arm']}` is not an arm of summary.json")
            arm["n"] += 1
            if r["payment_outcome"] == "Success":
                arm["ok"] += 1
                arm["ttc"].append(number(r["ttc_ms"], f"{path}: line {i}, column `ttc_ms`"))
            if r.get("tto_ms", "") != "":
                arm["tto"].append(number(r["tto_ms"], f"{path}: line {i}, column `tto_ms`"))
    rows = []
    for a in summary["arms"]:
        name, got = a["name"], by_arm[a["name"]]
        # payments.csv and summary.json must tell the same story.
        if got["n"] != a["payments"] or got["ok"] != a["succeeded"]:
            fail(f"{path}: arm `{name}` has {got['n']} rows, {got['ok']} settled; "
                 f"summary.json says {a['payments']}, {a['succeeded']}")
        if metric not in a or not isinstance(a[metric], (int, float)):
            keys = sorted(k for k, v in a.items() if isinstance(v, (int, float)))
            fail(f"{d}/summary.json: arms have no numeric `{metric}`; try one of {', '.join(keys)}")
        if metric == "success_rate":
            lo, hi = a["success_ci95"]
            rows.append((name, None, got["n"], a[metric], lo, hi))
        elif metric in ("ttc_ms_mean", "tto_ms_mean"):
            values = got["ttc" if metric == "ttc_ms_mean" else "tto"]
            n, m, lo, hi = mean_ci(values, t_interval=False)
            rows.append((name, None, n, a[metric], lo, hi))
        else:
            rows.append((name, None, got["n"], a[metric], float("nan"), float("nan")))
    return rows, f"{summary['scenario']}, seed {summary['seed']}: within-run 95% intervals"


def from_sweep(path, metric, x):
    """Rows (arm, x, n, mean, low, high) from a sweep.csv: means over seeds."""
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        cols = reader.fieldnames or []
        for need in ["arm", "seed", metric] + ([x] if x else []):
            if need not in cols:
                fail(f"{path}: no `{need}` column (columns: {', '.join(cols)})")
        groups, order = {}, []
        for i, r in enumerate(reader, start=2):
            key = (r["arm"], r[x] if x else None)
            if key not in groups:
                groups[key] = []
                order.append(key)
            if r[metric] != "":
                groups[key].append(number(r[metric], f"{path}: line {i}, column `{metric}`"))
    rows = []
    for arm, xv in order:
        n, m, lo, hi = mean_ci(groups[(arm, xv)], t_interval=True)
        rows.append((arm, xv, n, m, lo, hi))
    seeds = max((r[2] for r in rows), default=0)
    return rows, f"{os.path.basename(path)}: mean over {seeds} seeds, t 95% intervals"


def nice_ticks(lo, hi, count=6):
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(s * mag for s in (1, 2, 2.5, 5, 10) if s * mag >= raw)
    first = math.ceil(lo / step) * step
    ticks, t = [], first
    while t <= hi + step * 1e-9:
        ticks.append(round(t, 12))
        t += step
    return ticks


def label(v):
    if v == 0:
        return "0"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.6g}"


def esc(s):
    return (str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def svg(rows, metric, x, title, subtitle):
    """The figure: per-arm dots (no x), or lines over a numeric x, with interval bars."""
    arms = list(dict.fromkeys(r[0] for r in rows))
    xs = list(dict.fromkeys(r[1] for r in rows))
    numeric_x = x is not None and all(_is_num(v) for v in xs)
    if numeric_x:
        xs = sorted(xs, key=float)
    w, h = 900, 520
    top = (64 if title else 24) + 22 * math.ceil(len(arms) / 3)
    left, right, bottom = 90, 30, 70
    vals = [v for r in rows for v in r[3:6] if math.isfinite(v)]
    lo, hi = (min(vals), max(vals)) if vals else (0, 1)
    pad = (hi - lo) * 0.08 or abs(hi) * 0.1 or 1
    lo, hi = lo - pad, hi + pad
    ticks = nice_ticks(lo, hi)
    lo, hi = min(lo, ticks[0]), max(hi, ticks[-1])

    def py(v):
        return top + (1 - (v - lo) / (hi - lo)) * (h - top - bottom)

    if numeric_x:
        xlo, xhi = float(xs[0]), float(xs[-1])
        if xhi == xlo:
            xlo, xhi = xlo - 1, xhi + 1
        xpad = (xhi - xlo) * 0.05

        def px(v, k):
            return left + (float(v) - xlo + xpad) / (xhi - xlo + 2 * xpad) * (w - left - right)
        xticks = [(float(v), label(float(v))) for v in xs]
    else:
        slots = xs if x is not None else arms

        def px(v, k):
            i = slots.index(v if x is not None else arms[k])
            base = left + (i + 0.5) / len(slots) * (w - left - right)
            # Arms side by side within a category, so bars stay apart.
            return base + ((k - (len(arms) - 1) / 2) * 14 if x is not None else 0)
        xticks = [(s, str(s)) for s in slots]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
           f'viewBox="0 0 {w} {h}" font-family="DejaVu Sans, Arial, sans-serif">',
           f'<rect width="{w}" height="{h}" fill="#ffffff"/>']
    if title:
        out.append(f'<text x="{left}" y="28" font-size="19" font-weight="bold">{esc(title)}</text>')
        out.append(f'<text x="{left}" y="50" font-size="13" fill="#444444">{esc(subtitle)}</text>')
    for t in ticks:
        out.append(f'<path d="M{left},{py(t):.1f}H{w - right}" stroke="#dddddd"/>')
        out.append(f'<text x="{left - 8}" y="{py(t) + 4:.1f}" font-size="13" '
                   f'text-anchor="end">{esc(label(t))}</text>')
    for v, text in xticks:
        xx = px(v, (len(arms) - 1) / 2) if numeric_x else (
            left + (xticks.index((v, text)) + 0.5) / len(xticks) * (w - left - right))
        out.append(f'<text x="{xx:.1f}" y="{h - bottom + 20}" font-size="13" '
                   f'text-anchor="middle">{esc(text)}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{w - left - right}" '
               f'height="{h - top - bottom}" fill="none" stroke="#333333"/>')
    out.append(f'<text x="{(left + w - right) / 2}" y="{h - 22}" font-size="15" '
               f'text-anchor="middle">{esc(x if x else "arm")}</text>')
    yl, yy = 22, (top + h - bottom) / 2
    out.append(f'<text x="{yl}" y="{yy:.1f}" font-size="15" text-anchor="middle" '
               f'transform="rotate(-90 {yl} {yy:.1f})">{esc(metric)} (mean, 95% interval)</text>')
    for k, arm in enumerate(arms):
        colour, dash = COLOURS[k % len(COLOURS)], DASHES[(k + k // len(COLOURS)) % len(DASHES)]
        pts = [(px(r[1], k), r) for r in rows if r[0] == arm and math.isfinite(r[3])]
        if numeric_x and len(pts) > 1:
            d = "M" + "L".join(f"{p:.1f},{py(r[3]):.1f}" for p, r in pts)
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            out.append(f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="2"{dash_attr}/>')
        for p, r in pts:
            if math.isfinite(r[4]) and math.isfinite(r[5]):
                out.append(f'<path d="M{p:.1f},{py(r[4]):.1f}V{py(r[5]):.1f}M{p - 4:.1f},'
                           f'{py(r[4]):.1f}h8M{p - 4:.1f},{py(r[5]):.1f}h8" stroke="{colour}" '
                           f'stroke-width="1.6" fill="none"/>')
            out.append(f'<circle cx="{p:.1f}" cy="{py(r[3]):.1f}" r="4.5" fill="{colour}">'
                       f'<title>{esc(arm)}: {r[3]:.6g} (n = {r[2]})</title></circle>')
        lx = left + (k % 3) * 270
        ly = (66 if title else 10) + 22 * (k // 3) + 8
        out.append(f'<path d="M{lx},{ly}h28" stroke="{colour}" stroke-width="2.5"/>')
        out.append(f'<circle cx="{lx + 14}" cy="{ly}" r="4.5" fill="{colour}"/>')
        out.append(f'<text x="{lx + 36}" y="{ly + 5}" font-size="13">{esc(arm)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _is_num(v):
    try:
        return math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source", help="a results directory or a sweep.csv")
    ap.add_argument("out", help="the SVG to write")
    ap.add_argument("--metric", default="success_rate",
                    help="summary.json key or sweep.csv column (default success_rate)")
    ap.add_argument("--x", help="sweep.csv: the parameter column on the x axis")
    ap.add_argument("--no-title", action="store_true", help="no title (for papers)")
    a = ap.parse_args()
    if os.path.isdir(a.source):
        if a.x:
            fail("--x needs a sweep.csv: a single run has one value of every parameter")
        rows, subtitle = from_run(a.source, a.metric)
    elif os.path.isfile(a.source):
        rows, subtitle = from_sweep(a.source, a.metric, a.x)
    else:
        fail(f"{a.source}: no such file or directory")
    if not rows:
        fail(f"{a.source}: no rows")
    title = None if a.no_title else f"{a.metric} by arm" + (f" and {a.x}" if a.x else "")
    with open(a.out, "w") as f:
        f.write(svg(rows, a.metric, a.x, title, subtitle))
    print("arm,x,n,mean,low,high")
    for arm, xv, n, m, lo, hi in rows:
        print(f"{arm},{'' if xv is None else xv},{n},{m:.6g},{lo:.6g},{hi:.6g}")


if __name__ == "__main__":
    main()
