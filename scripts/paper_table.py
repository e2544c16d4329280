#!/usr/bin/env python3
"""The Boomerang paper's table from a sweep of scenarios/boomerang-paper.sweep.toml.

Usage: python3 scripts/paper_table.py SWEEP_DIR... [--markdown] [--by-point | --by-tenth]

Reads every finished run's summary.json under each SWEEP_DIR/runs/ (so a sweep still
under way, or stopped, gives the table of the seeds done); arms are matched by name
across the directories (boomerang-paper.sweep.toml's and
boomerang-paper-redundant-retry.sweep.toml's together give the three curves).
--by-tenth prints, instead, each arm's success over the run: every finished run's
payments.csv cut into ten equal slices by payment number (a closed-loop sender's
transfers are numbered in order, so slice 1 is every sender's first tenth), the
success % of each slice as the mean over seeds, per point of the sweep.
--by-point prints, instead, each grid point of one sweep on its own (its
payments_per_sender and receivers from the point's scenario.toml), every arm with
its figures (boomerang-paper-long.sweep.toml; a directory of `flotilla sim` runs laid
out as DIR/runs/p0000-sS/ reads the same way). Per r and seed:
- success: success_rate;
- TTC: ttc_ms_mean (successful transfers; a paper arm's clock stops when v parts have
  reached the receiver, as the paper's does);
- throughput: the paper's, sum of settled volume / sum of per-transfer runtime, in the
  graph's capacity units (1,000 sat) per second: succeeded_msat / 1e6 over
  tto_ms_mean x payments / 1e3 (a paper arm's time to outcome is the paper's runtime:
  the transfer's first send until every part's reserve outcome is known).
Then the mean over seeds with a 95% Student t-interval, and the paired per-seed TTC
reduction of redundancy against retry at the same r. The redundant-retry curve
(paper-redundant-10-retry-R) gets its own table against the paper's. Standard
library only.
"""

import csv
import glob
import json
import math
import os
import re
import sys
import tomllib
from collections import defaultdict

# 97.5% Student t quantiles by degrees of freedom (two-sided 95% intervals).
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365,
        8: 2.306, 9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179, 14: 2.145, 19: 2.093,
        29: 2.045}

# The paper's numbers per r (its authors' result files, tse-group/boomerang
# testbed/analysis/results/12_N100, mean of 10 scenarios of 50,000 transfers):
# success %, TTC of successful transfers (s), throughput (units/s = volume settled /
# total runtime), for retry and for redundancy.
PAPER = {
    0: ((69.0, 0.527, 21.1), (69.1, 0.527, 21.3)),
    2: ((69.9, 0.532, 26.0), (70.3, 0.475, 28.0)),
    4: ((71.3, 0.538, 31.0), (72.1, 0.450, 34.8)),
    6: ((72.4, 0.544, 35.2), (73.7, 0.432, 42.1)),
    8: ((73.0, 0.550, 37.4), (74.8, 0.418, 48.0)),
    10: ((73.6, 0.554, 40.4), (75.6, 0.407, 52.7)),
    15: ((74.0, 0.564, 43.0), (76.8, 0.386, 62.7)),
    20: ((74.2, 0.571, 44.6), (77.4, 0.370, 69.3)),
    25: ((74.2, 0.577, 44.6), (77.9, 0.359, 75.0)),
    30: ((74.2, 0.582, 44.5), (78.3, 0.349, 79.2)),
    40: ((74.0, 0.589, 43.3), (78.7, 0.334, 84.7)),
    50: ((73.9, 0.594, 42.3), (78.9, 0.324, 87.8)),
    75: ((73.5, 0.602, 38.8), (79.1, 0.307, 89.7)),
    100: ((73.1, 0.606, 36.2), (79.1, 0.301, 87.8)),
    125: ((72.7, 0.610, 33.4), (79.0, 0.305, 80.1)),
    150: ((72.4, 0.613, 31.3), (78.9, 0.312, 70.8)),
}


# The paper's redundant-retry curve (10 extra parts in flight, R retries): success %,
# TTC (s), throughput (units/s), from the same result files (redundantretry-02-amp-2,
# u = R, 10 scenarios of 50,000 transfers).
PAPER_RR = {
    0: (69.0, 0.527, 21.0), 2: (70.3, 0.475, 27.9), 4: (72.1, 0.450, 35.2),
    6: (73.8, 0.432, 41.9), 8: (74.8, 0.418, 48.1), 10: (75.6, 0.407, 53.1),
    15: (76.8, 0.409, 61.8), 20: (77.7, 0.411, 68.5), 25: (78.3, 0.414, 74.1),
    30: (78.7, 0.417, 77.4), 40: (79.4, 0.423, 82.8), 50: (79.8, 0.428, 86.4),
    75: (80.4, 0.439, 90.7), 100: (80.7, 0.450, 91.6), 125: (81.0, 0.460, 92.0),
    150: (81.0, 0.469, 90.6),
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


def fig(row):
    """success %, TTC s, throughput units/s, settled units, runtime s."""
    pay = float(row["payments"])
    runtime_s = float(row["tto_ms_mean"]) * pay / 1e3
    thr = float(row["succeeded_msat"]) / 1e6 / runtime_s if runtime_s > 0 else 0.0
    ttc = row.get("ttc_ms_mean")
    ttc = float(ttc) / 1e3 if ttc is not None else float("nan")
    return (100.0 * float(row["success_rate"]), ttc, thr, float(row["succeeded_msat"]) / 1e6,
            runtime_s)


def pooled(seeds):
    vol = sum(fig(r)[3] for r in seeds.values())
    rt = sum(fig(r)[4] for r in seeds.values())
    return vol / rt if rt > 0 else float("nan")


def pm(xs, prec):
    """Mean ± 95% half-width; the mean alone for a single seed."""
    if not xs:
        return "–"
    m, h = mean_ci(xs)
    return f"{m:.{prec}f}" if math.isnan(h) else f"{m:.{prec}f} ± {h:.{prec}f}"


def print_table(out, markdown):
    if markdown:
        print("| " + " | ".join(out[0]) + " |")
        print("|" + "---|" * len(out[0]))
        for row in out[1:]:
            print("| " + " | ".join(row) + " |")
    else:
        w = [max(len(r[i]) for r in out) for i in range(len(out[0]))]
        for row in out:
            print("  ".join(c.rjust(w[i]) for i, c in enumerate(row)))


def by_point(sweep, markdown):
    """Each grid point of one sweep on its own: every arm's figures over its seeds."""
    points = defaultdict(lambda: defaultdict(dict))  # point -> arm -> seed -> row
    labels = {}
    for f in sorted(glob.glob(os.path.join(sweep, "runs", "p*-s*", "summary.json"))):
        m = re.search(r"/(p\d+)-s(\d+)/summary.json$", f)
        point, seed = m.group(1), m.group(2)
        if point not in labels:
            sc = tomllib.load(open(os.path.join(os.path.dirname(f), "scenario.toml"), "rb"))
            cl = sc.get("workload", {}).get("closed_loop", {})
            labels[point] = (f"{cl.get('payments_per_sender', 0)} per sender, receivers "
                             f"{cl.get('receivers', 'capacity')}")
            # Name the graph when it is not the scenario's own (the fee-free copy).
            graph = os.path.basename(sc.get("graph", {}).get("file", "").rstrip("/"))
            if graph and graph != "boomerang-ws100":
                labels[point] += f", graph {graph}"

        for a in json.load(open(f))["arms"]:
            points[point][a["name"]][seed] = a
    out = [("point", "arm", "seeds", "success %", "paper", "TTC s", "paper",
            "thr. units/s (pooled)", "paper")]
    for point in sorted(points):
        for arm, seeds in points[point].items():
            m = re.fullmatch(r"paper-(retry|redundant)-(\d+)", arm)
            pr = PAPER.get(int(m.group(2))) if m else None
            pr = pr[0 if m.group(1) == "retry" else 1] if pr else None
            out.append((labels[point], arm, str(len(seeds)),
                        pm([fig(x)[0] for x in seeds.values()], 1),
                        f"{pr[0]:.1f}" if pr else "",
                        pm([fig(x)[1] for x in seeds.values()], 3),
                        f"{pr[1]:.3f}" if pr else "",
                        f"{pooled(seeds):.1f}", f"{pr[2]:.1f}" if pr else ""))
    print_table(out, markdown)
    # The paper's retry succeeds less often than its redundancy (by 3.7 points at
    # r = 25, 5.6 at r = 75): the same difference here, paired per seed.
    print()
    for point in sorted(points):
        arms = points[point]
        for r in (25, 75):
            ret, red = arms.get(f"paper-retry-{r}"), arms.get(f"paper-redundant-{r}")
            if not ret or not red:
                continue
            both = sorted(set(ret) & set(red))
            d = [fig(ret[k])[0] - fig(red[k])[0] for k in both]
            paper = PAPER[r][0][0] - PAPER[r][1][0]
            print(f"{labels[point]}: success retry - redundancy at r = {r}: {pm(d, 1)} points"
                  f" over {len(both)} seed(s) (paper {paper:+.1f})")


def by_tenth(sweep, markdown):
    """Each arm's success % in each tenth of the run, mean over seeds, per point."""
    tenths = defaultdict(lambda: defaultdict(list))  # point -> arm -> [per-seed tenths]
    for f in sorted(glob.glob(os.path.join(sweep, "runs", "p*-s*", "payments.csv"))):
        if not os.path.exists(os.path.join(os.path.dirname(f), "summary.json")):
            continue  # still running
        point = re.search(r"/(p\d+)-s\d+/payments.csv$", f).group(1)
        by_arm = defaultdict(list)
        with open(f, newline="") as fh:
            for row in csv.DictReader(fh):
                by_arm[row["arm"]].append((int(row["payment"]), row["payment_outcome"] == "Success"))
        for arm, rows in by_arm.items():
            rows.sort()
            n = len(rows)
            tenths[point][arm].append([
                100.0 * sum(ok for _, ok in rows[i * n // 10:(i + 1) * n // 10])
                / max(1, (i + 1) * n // 10 - i * n // 10)
                for i in range(10)])
    out = [("point", "arm", "seeds") + tuple(f"{i + 1}/10" for i in range(10))]
    for point in sorted(tenths):
        for arm, seeds in tenths[point].items():
            out.append((point, arm, str(len(seeds))) + tuple(
                f"{sum(s[i] for s in seeds) / len(seeds):.1f}" for i in range(10)))
    print_table(out, markdown)


def main():
    dirs = [a for a in sys.argv[1:] if not a.startswith("--")]
    if not dirs:
        sys.exit("usage: paper_table.py SWEEP_DIR... [--markdown] [--by-point | --by-tenth]")
    markdown = "--markdown" in sys.argv
    if "--by-tenth" in sys.argv:
        for d in dirs:
            by_tenth(d, markdown)
        return
    if "--by-point" in sys.argv:
        for d in dirs:
            by_point(d, markdown)
        return
    rows = []
    for d in dirs:
        for f in sorted(glob.glob(os.path.join(d, "runs", "p*-s*", "summary.json"))):
            seed = re.search(r"-s(\d+)", f).group(1)
            for a in json.load(open(f))["arms"]:
                rows.append(dict(a, seed=seed, arm=a["name"]))
    by = defaultdict(dict)  # (kind, r) -> seed -> row
    for row in rows:
        m = re.fullmatch(r"paper-redundant-10-retry-(\d+)", row["arm"])
        if m:
            by[("redundant-retry", int(m.group(1)))][row["seed"]] = row
            continue
        m = re.fullmatch(r"paper-(retry|redundant)-(\d+)", row["arm"])
        if not m:
            continue
        kind = "retry" if m.group(1) == "retry" else "redundancy"
        by[(kind, int(m.group(2)))][row["seed"]] = row
    # r = 0: one strategy, both curves.
    for key in list(by):
        if key == ("retry", 0):
            by[("redundancy", 0)] = by[key]

    rs = sorted({r for (k, r) in by if k != "redundant-retry"})
    head = ("r", "success retry", "paper", "success redund.", "paper", "TTC retry s", "paper",
            "TTC redund. s", "paper", "TTC change %", "paper", "thr. retry", "paper",
            "thr. redund.", "paper")
    out = [head]
    thr_pooled = {"retry": {}, "redundancy": {}}
    for r in rs:
        pr = PAPER.get(r)
        ret, red = by.get(("retry", r), {}), by.get(("redundancy", r), {})
        cells = [str(r)]
        cells += [pm([fig(x)[0] for x in ret.values()], 1), f"{pr[0][0]:.1f}" if pr else ""]
        cells += [pm([fig(x)[0] for x in red.values()], 1), f"{pr[1][0]:.1f}" if pr else ""]
        cells += [pm([fig(x)[1] for x in ret.values()], 3), f"{pr[0][1]:.3f}" if pr else ""]
        cells += [pm([fig(x)[1] for x in red.values()], 3), f"{pr[1][1]:.3f}" if pr else ""]
        common = sorted(set(ret) & set(red))
        change = [100 * (fig(red[k])[1] / fig(ret[k])[1] - 1) for k in common]
        cells += [pm(change, 1) if r > 0 else "",
                  f"{100 * (pr[1][1] / pr[0][1] - 1):.1f}" if pr and r > 0 else ""]
        for kind, seeds, j in (("retry", ret, 0), ("redundancy", red, 1)):
            t = pooled(seeds) if seeds else float("nan")
            thr_pooled[kind][r] = t
            cells += [f"{t:.1f}", f"{pr[j][2]:.1f}" if pr else ""]
        out.append(tuple(cells))
    if len(out) > 1:
        print_table(out, markdown)
        print()
    peaks = {}
    for kind in ("retry", "redundancy"):
        t = {r: v for r, v in thr_pooled[kind].items() if not math.isnan(v)}
        if t:
            r = max(t, key=t.get)
            peaks[kind] = r
            print(f"peak {kind} throughput (pooled over seeds): {t[r]:.1f} units/s at r = {r}")
    if len(peaks) == 2:
        a = thr_pooled["redundancy"][peaks["redundancy"]]
        b = thr_pooled["retry"][peaks["retry"]]
        ret = by[("retry", peaks["retry"])]
        red = by[("redundancy", peaks["redundancy"])]
        per_seed = [fig(red[k])[2] / fig(ret[k])[2] for k in sorted(set(ret) & set(red))
                    if fig(ret[k])[2] > 0]
        print(f"peak ratio redundancy / retry: {a / b:.2f} pooled; per seed {pm(per_seed, 2)}"
              f" (paper: 89.7 / 44.6 = 2.01)")
    seeds = {len(v) for v in by.values()}
    print(f"seeds per arm: {sorted(seeds)}")
    rr = sorted(r for (k, r) in by if k == "redundant-retry")
    if rr:
        print()
        print("redundant-retry (paper-redundant-10-retry-R):")
        print()
        out = [("R", "success %", "paper", "TTC s", "paper", "thr. units/s (pooled)", "paper")]
        for r in rr:
            seeds_r = by[("redundant-retry", r)]
            pr = PAPER_RR.get(r)
            out.append((str(r), pm([fig(x)[0] for x in seeds_r.values()], 1),
                        f"{pr[0]:.1f}" if pr else "",
                        pm([fig(x)[1] for x in seeds_r.values()], 3),
                        f"{pr[1]:.3f}" if pr else "",
                        f"{pooled(seeds_r):.1f}", f"{pr[2]:.1f}" if pr else ""))
        print_table(out, markdown)
        t = {r: pooled(by[("redundant-retry", r)]) for r in rr}
        top = max(t, key=t.get)
        print()
        print(f"peak redundant-retry throughput (pooled): {t[top]:.1f} units/s at R = {top}"
              f" (paper: 92.0 at R = 125)")

if __name__ == "__main__":
    main()
