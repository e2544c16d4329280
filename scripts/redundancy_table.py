#!/usr/bin/env python3
"""The tables of docs/redundancy.md from a sweep directory.

    scripts/redundancy_table.py SWEEP_DIR [--baseline mpp-retry]

For every point of the sweep (its parameters printed first) and every arm: success
rate (mean over seeds), the paired difference in success with the baseline arm (mean
of each seed's payment-by-payment difference, Student t 95% interval over seeds), the
payments only this arm / only the baseline settled (summed over seeds), time to
complete mean / p50 / p99, mean TTC ÷ the oracle's, success among feasible payments,
fee ppm, liquidity-seconds per payment and parts sent per payment (each part holds one
HTLC slot on every hop of its path). Then, per point, the issue's targets for the best
redundant arm against the best MPP arm (best = highest mean success; ties to the
faster): Δ success and its interval, p99 ratio, and the share of the MPP-to-oracle
gap in mean TTC that the redundant arm closes. A "paired" line repeats the mean-TTC
comparison over only the payments both arms settled (from each run's payments.csv), the
gap measured to the oracle's mean over the MPP arm's settled payments. With --paths,
each arm's path lengths and HTLC slot-hops per payment from the attempts files.

Below each table, the paired comparison pooled over the seeds: the payments only
this arm / only the baseline settled over every seed's payments and the exact McNemar
p of those counts (payments of different seeds are independent pairs, so the pooled
test uses every payment; the interval over seeds is the more conservative figure).

Standard library only; reads sweep.csv (docs/sweeps.md) and, for the paired and
path lines, the runs' payments.csv and attempts.jsonl.gz (docs/results-format.md).
"""
import argparse
import csv
import gzip
import json
import math
import os
import statistics
import sys

# Student t quantiles (0.975) for n - 1 degrees of freedom, n = 2..30.
T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201,
        2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074,
        2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045]


def t_interval(xs):
    n = len(xs)
    m = statistics.fmean(xs)
    if n < 2:
        return m, float("nan"), float("nan")
    t = T975[min(n - 2, len(T975) - 1)]
    h = t * statistics.stdev(xs) / math.sqrt(n)
    return m, m - h, m + h


def mcnemar_p(b, c):
    """Exact two-sided McNemar p: b and c discordant pairs, binomial(b + c, 1/2)."""
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def num(row, key):
    v = row.get(key, "")
    return float(v) if v not in ("", None) else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sweep_dir")
    ap.add_argument("--baseline", default="mpp-retry")
    ap.add_argument("--paths", action="store_true",
                    help="also each arm's path lengths and HTLC slot-hops per point, "
                         "from every run's attempts.jsonl.gz")
    a = ap.parse_args()
    path = os.path.join(a.sweep_dir, "sweep.csv")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit(f"error: {path}: no rows")
    fixed = {"point", "seed", "arm"}
    first_figure = list(rows[0].keys()).index("attempts_mean")
    params = [k for k in list(rows[0].keys())[:first_figure] if k not in fixed]
    points = {}
    for r in rows:
        points.setdefault(int(r["point"]), {}).setdefault(r["arm"], []).append(r)
    for p in sorted(points):
        arms = points[p]
        any_row = next(iter(arms.values()))[0]
        shown = [f"{k}={any_row[k]}" for k in params if k != "sender.arms"]
        print(f"point {p}: " + ", ".join(shown))
        head = (f"{'arm':<36} {'success':>7} {'Δ pp':>6} {'95% CI':>13} {'only +/-':>9} "
                f"{'TTC ms':>6} {'p50':>5} {'p99':>5} {'÷orcl':>5} {'|feas':>6} "
                f"{'ppm':>5} {'liq s·sat':>10} {'parts':>5}")
        print(head)
        print("-" * len(head))
        summary = {}
        pooled = {}
        for arm, rs in arms.items():
            sr = statistics.fmean(num(r, "success_rate") for r in rs)
            d = [num(r, "vs_baseline.success_diff") * 100 for r in rs
                 if r.get("vs_baseline.success_diff", "") != ""]
            if d:
                dm, lo, hi = t_interval(d)
                dtxt = f"{dm:>+6.2f} {lo:>+6.2f}…{hi:<+6.2f}"
                b = sum(int(num(r, "vs_baseline.only_this_settled")) for r in rs)
                c = sum(int(num(r, "vs_baseline.only_baseline_settled")) for r in rs)
                only = f"{b:>4}/{c:<4}"
                pooled[arm] = (b, c, mcnemar_p(b, c))
            else:
                dm, lo, hi = 0.0, 0.0, 0.0
                dtxt = f"{'—':>6} {'':>13}"
                only = f"{'':>9}"
            f = {k: statistics.fmean(num(r, k) for r in rs) for k in (
                "ttc_ms_mean", "ttc_ms_p50", "ttc_ms_p99", "ttc_mean_vs_oracle",
                "success_rate_feasible", "fee_ppm_mean", "liquidity_seconds_mean",
                "oracle_ttc_ms_mean")}
            parts = statistics.fmean(num(r, "parts_sent") / num(r, "payments") for r in rs)
            summary[arm] = (sr, dm, lo, hi, f)
            print(f"{arm:<36} {sr * 100:>6.1f}% {dtxt} {only} "
                  f"{f['ttc_ms_mean']:>6.0f} {f['ttc_ms_p50']:>5.0f} {f['ttc_ms_p99']:>5.0f} "
                  f"{f['ttc_mean_vs_oracle']:>5.2f} {f['success_rate_feasible'] * 100:>5.1f}% "
                  f"{f['fee_ppm_mean']:>5.0f} {f['liquidity_seconds_mean']:>10.0f} {parts:>5.2f}")
        if pooled:
            print("pooled over the seeds (every payment a pair): " + "; ".join(
                f"{a} {b}/{c} p={p:.2g}" for a, (b, c, p) in pooled.items()))
        mpp = [a for a in summary if a.startswith("mpp-")]
        red = [a for a in summary if a.startswith("redundant-")]
        if mpp and red:
            key = lambda a: (-round(summary[a][0], 4), summary[a][4]["ttc_ms_mean"])
            bm, br = min(mpp, key=key), min(red, key=key)
            m, r = summary[bm], summary[br]
            oracle = m[4]["oracle_ttc_ms_mean"]
            gap = m[4]["ttc_ms_mean"] - oracle
            closed = (m[4]["ttc_ms_mean"] - r[4]["ttc_ms_mean"]) / gap if gap > 0 else float("nan")
            split = [a for a in red if "-split-" in a]
            worst = min(split, key=lambda a: summary[a][3]) if split else None
            print(f"best MPP {bm}, best redundant {br}: Δ success vs {a.baseline} "
                  f"{r[1]:+.2f} pp ({r[2]:+.2f}…{r[3]:+.2f}); p99 {r[4]['ttc_ms_p99']:.0f} vs "
                  f"{m[4]['ttc_ms_p99']:.0f} ms ({r[4]['ttc_ms_p99'] / m[4]['ttc_ms_p99']:.2f}×); "
                  f"mean TTC {r[4]['ttc_ms_mean']:.0f} vs {m[4]['ttc_ms_mean']:.0f} ms, oracle "
                  f"{oracle:.0f} ms: gap closed {closed * 100:.0f}%")
            if worst:
                w = summary[worst]
                print(f"split arm with the lowest interval: {worst} Δ {w[1]:+.2f} pp "
                      f"({w[2]:+.2f}…{w[3]:+.2f})")
            # Every redundant arm against the best MPP arm: the p99 and mean-TTC targets.
            print(f"against {bm}: " + "; ".join(
                f"{x} p99 {summary[x][4]['ttc_ms_p99'] / m[4]['ttc_ms_p99']:.2f}×, gap closed "
                f"{(m[4]['ttc_ms_mean'] - summary[x][4]['ttc_ms_mean']) / gap * 100 if gap > 0 else float('nan'):.0f}%"
                for x in red))
            if a.paths:
                path_lengths(a.sweep_dir, p, arms, oracle)
            # Paired with every MPP arm, the best first: the faster MPP arm may not be
            # the one with the higher success.
            for mm in [bm] + [x for x in mpp if x != bm]:
                o = summary[mm][4]["oracle_ttc_ms_mean"]
                paired = paired_ttc(a.sweep_dir, p, arms, mm, red)
                if paired:
                    print(f"paired with {mm} (payments both settled, every seed): " + "; ".join(
                        f"{x} {n} payments, mean TTC {rt:.0f} vs {mt:.0f} ms ({rt / mt:.2f}×), "
                        f"gap closed {(mt - rt) / (mt - o) * 100 if mt > o else float('nan'):.0f}%"
                        for x, (n, mt, rt) in paired.items()))
        print()
    cancel_comparison(points, params)


def path_lengths(sweep_dir, point, arms, oracle_ms):
    """Per arm, over every seed's attempts.jsonl.gz: the mean hops of the parts that
    settled, the mean over settled payments of the longest settled part's hops (what
    the last settle waits for), and the hops of every part sent per payment (each hop
    of a part's path is one HTLC slot while the part lives there: an upper bound on the
    slots it took, since a failed part stops at the failing hop). Alongside, the
    oracle's mean time over 200 ms: its longest path's hops under the default latency
    model (50-150 ms per message, 200 ms a hop there and back); with another latency
    model that figure is not hops."""
    hops, longest, sent, payments = {}, {}, {}, {}
    for seed in sorted({r["seed"] for rs in arms.values() for r in rs}):
        path = os.path.join(sweep_dir, "runs", f"p{point:04d}-s{seed}", "attempts.jsonl.gz")
        if not os.path.exists(path):
            return
        last = {}
        with gzip.open(path, "rt") as f:
            for line in f:
                r = json.loads(line)
                arm, n = r["arm"], len(r["hops"])
                sent[arm] = sent.get(arm, 0) + n
                if r["outcome"] == "settled":
                    hops.setdefault(arm, []).append(n)
                    key = (arm, seed, r["payment"])
                    last[key] = max(last.get(key, 0), n)
        for (arm, _, _), n in last.items():
            longest.setdefault(arm, []).append(n)
    for arm, rs in arms.items():
        payments[arm] = sum(int(num(r, "payments")) for r in rs)
    print(f"paths (settled parts' hops; longest settled part per settled payment; hops of "
          f"every part sent per payment); the oracle's mean time / 200 ms (a hop there and "
          f"back at the default latency) = {oracle_ms / 200:.2f} hops:")
    for arm in arms:
        if arm in hops:
            print(f"    {arm:<40} {statistics.fmean(hops[arm]):5.2f} "
                  f"{statistics.fmean(longest[arm]):5.2f} {sent[arm] / payments[arm]:6.2f}")


def paired_ttc(sweep_dir, point, arms, mpp_arm, red):
    """Mean TTC of each redundant arm and of `mpp_arm` over the payments both settled
    (from each run's payments.csv), so that an arm which fails the slow payments does
    not look faster for it. {arm: (payments, mpp mean ms, arm mean ms)}; {} when the
    runs' payments.csv files are not there."""
    ttc = {}
    for seed in sorted({r["seed"] for r in arms[mpp_arm]}):
        path = os.path.join(sweep_dir, "runs", f"p{point:04d}-s{seed}", "payments.csv")
        if not os.path.exists(path):
            return {}
        with open(path, newline="") as f:
            for r in csv.DictReader(f):
                if r["payment_outcome"] == "Success":
                    ttc.setdefault(r["arm"], {})[(seed, r["payment"])] = float(r["ttc_ms"])
    out = {}
    base = ttc.get(mpp_arm, {})
    for x in red:
        both = [k for k in ttc.get(x, {}) if k in base]
        if both:
            out[x] = (len(both), statistics.fmean(base[k] for k in both),
                      statistics.fmean(ttc[x][k] for k in both))
    return out


def cancel_comparison(points, params):
    """With the grid over `sender.cancel_surplus`: each redundant arm's figures with the
    cancel (`path`, `instant`) against the same arm without it (`off`) at the same other
    parameters, as the mean over seeds of each seed's ratio or difference."""
    key = "sender.cancel_surplus"
    if key not in params:
        return
    others = [k for k in params if k not in (key, "sender.arms")]
    by_setting = {}
    for p, arms in points.items():
        any_row = next(iter(arms.values()))[0]
        setting = tuple(any_row[k] for k in others)
        by_setting.setdefault(setting, {})[any_row[key]] = p
    if not any("off" in m and len(m) > 1 for m in by_setting.values()):
        return
    print("cancel of surplus parts: each redundant arm with the cancel against itself "
          "without it (mean over seeds of each seed's difference in success, pp, and "
          "ratio of mean TTC, p99 TTC, liquidity-seconds and parts sent)")
    print(f"{'':<8} {'arm':<36} {'cancel':>7} {'Δ succ':>7} "
          f"{'TTC ×':>6} {'p99 ×':>6} {'liq ×':>6} {'parts ×':>7}")
    for n, (setting, modes) in enumerate(sorted(by_setting.items())):
        off = modes.get("off")
        if off is None:
            continue
        print(f"setting {n}: " + ", ".join(f"{k}={v}" for k, v in zip(others, setting)))
        for mode, p in sorted(modes.items()):
            if mode == "off":
                continue
            for arm, rs in points[p].items():
                if not arm.startswith("redundant-") or arm not in points[off]:
                    continue
                base = {r["seed"]: r for r in points[off][arm]}
                pairs = [(r, base[r["seed"]]) for r in rs if r["seed"] in base]
                ratio = lambda k: statistics.fmean(
                    num(a, k) / num(b, k) for a, b in pairs if num(b, k) > 0)
                dsucc = statistics.fmean(
                    (num(a, "success_rate") - num(b, "success_rate")) * 100 for a, b in pairs)
                print(f"{'':<8} {arm:<36} {mode:>7} {dsucc:>+7.2f} "
                      f"{ratio('ttc_ms_mean'):>6.3f} {ratio('ttc_ms_p99'):>6.3f} "
                      f"{ratio('liquidity_seconds_mean'):>6.3f} {ratio('parts_sent'):>7.3f}")
    print()


if __name__ == "__main__":
    main()
