#!/usr/bin/env python3
"""The Boomerang paper's table from a sweep of scenarios/boomerang-paper.sweep.toml.

Usage: python3 scripts/paper_table.py SWEEP_DIR [--markdown]

Reads every finished run's summary.json under SWEEP_DIR/runs/ (so a sweep still under
way, or stopped, gives the table of the seeds done). Per r and seed:
- success: success_rate;
- TTC: ttc_ms_mean (successful transfers; a paper arm's clock stops when v parts have
  reached the receiver, as the paper's does);
- throughput: the paper's, sum of settled volume / sum of per-transfer runtime, in the
  graph's capacity units (1,000 sat) per second: succeeded_msat / 1e6 over
  tto_ms_mean x payments / 1e3 (a paper arm's time to outcome is the paper's runtime:
  the transfer's first send until every part's reserve outcome is known).
Then the mean over seeds with a 95% Student t-interval, and the paired per-seed TTC
reduction of redundancy against retry at the same r. Standard library only.
"""

import glob
import json
import math
import os
import re
import sys
from collections import defaultdict

# Two-sided 97.5% Student t quantiles by degrees of freedom.
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365,
        8: 2.306, 9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179, 14: 2.145, 19: 2.093,
        29: 2.045}

# The paper's numbers (its Fig. 5 data, 10 scenarios) at the r the issue quotes.
PAPER = {
    "retry": {0: (69.0, 0.527, 21.1), 25: (None, None, 44.6), 75: (74.2, 0.602, None)},
    "redundancy": {25: (77.9, 0.359, 75.0), 75: (79.1, 0.307, 89.7)},
}


def t975(df):
    if df <= 0:
        return float("nan")
    keys = sorted(k for k in T975 if k <= df)
    return T975[keys[-1]] if keys else T975[1]


def mean_ci(xs):
    n = len(xs)
    if n == 0:
        return (float("nan"), float("nan"))
    m = sum(xs) / n
    if n < 2:
        return (m, float("nan"))
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (n - 1))
    return (m, t975(n - 1) * sd / math.sqrt(n))


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: paper_table.py SWEEP_DIR [--markdown]")
    rows = []
    pattern = os.path.join(sys.argv[1], "runs", "p*-s*", "summary.json")
    for f in sorted(glob.glob(pattern)):
        seed = re.search(r"-s(\d+)", f).group(1)
        for a in json.load(open(f))["arms"]:
            rows.append(dict(a, seed=seed, arm=a["name"]))
    by = defaultdict(dict)  # (kind, r) -> seed -> row
    for row in rows:
        m = re.fullmatch(r"paper-(retry|redundant)-(\d+)", row["arm"])
        if not m:
            continue
        kind = "retry" if m.group(1) == "retry" else "redundancy"
        by[(kind, int(m.group(2)))][row["seed"]] = row
    # r = 0: one strategy, both curves.
    for key in list(by):
        if key == ("retry", 0):
            by[("redundancy", 0)] = by[key]

    def fig(row):
        pay = float(row["payments"])
        runtime_s = float(row["tto_ms_mean"]) * pay / 1e3
        thr = float(row["succeeded_msat"]) / 1e6 / runtime_s if runtime_s > 0 else 0.0
        ttc = row.get("ttc_ms_mean")
        ttc = float(ttc) / 1e3 if ttc is not None else float("nan")
        return 100.0 * float(row["success_rate"]), ttc, thr

    rs = sorted({r for (_, r) in by})
    out = []
    head = ("r", "retry success %", "retry TTC s", "retry thr", "redund. success %",
            "redund. TTC s", "redund. thr", "TTC reduction %")
    out.append(head)
    peaks = {}
    for r in rs:
        cells = [str(r)]
        figs = {}
        for kind in ("retry", "redundancy"):
            seeds = by.get((kind, r), {})
            vals = [fig(row) for row in seeds.values()]
            figs[kind] = seeds
            for i in range(3):
                m, h = mean_ci([v[i] for v in vals])
                prec = 1 if i != 1 else 3
                cells.append(f"{m:.{prec}f} ± {h:.{prec}f}" if vals else "")
                if i == 2 and vals:
                    peaks.setdefault(kind, []).append((m, h, r))
        common = sorted(set(figs["retry"]) & set(figs["redundancy"]))
        red = [1 - fig(figs["redundancy"][s])[1] / fig(figs["retry"][s])[1] for s in common]
        m, h = mean_ci([100 * x for x in red])
        cells.append(f"{-m:.1f} ± {h:.1f}" if red and r > 0 else "")
        out.append(tuple(cells))
    md = "--markdown" in sys.argv
    if md:
        print("| " + " | ".join(out[0]) + " |")
        print("|" + "---|" * len(out[0]))
        for row in out[1:]:
            print("| " + " | ".join(row) + " |")
    else:
        w = [max(len(r[i]) for r in out) for i in range(len(out[0]))]
        for row in out:
            print("  ".join(c.rjust(w[i]) for i, c in enumerate(row)))
    print()
    for kind in ("retry", "redundancy"):
        if kind in peaks:
            m, h, r = max(peaks[kind])
            print(f"peak {kind} throughput: {m:.1f} ± {h:.1f} units/s at r = {r}")
    if "retry" in peaks and "redundancy" in peaks:
        a = max(peaks["redundancy"])[0]
        b = max(peaks["retry"])[0]
        print(f"peak ratio redundancy / retry: {a / b:.2f} (paper: 89.7 / 44.6 = 2.01)")
    seeds = {len(v) for v in by.values()}
    print(f"seeds per arm: {sorted(seeds)}")


if __name__ == "__main__":
    main()
