#!/usr/bin/env python3
"""The realism ladder's table from scripts/ladder_run.sh's output (docs/boomerang.md).

Usage: python3 scripts/ladder_table.py OUT [--markdown]

OUT/<rung>/s<seed>/summary.json (and OUT/<rung>+retry25/ for the rungs whose retry
budget is a scenario-wide setting) hold each rung's runs. Every rung compares retry
with redundancy at r = 25 and r = 75:
- rungs 0-4: paper-retry-R[-learning] against paper-redundant-R[-learning];
- rungs 5-8: flotilla's redundant-boomerang-0-retry with a budget of 25 + R paths
  (sender.max_attempts = 50 in <rung>+retry25/, 100 in <rung>/) against
  redundant-boomerang-1 (50 parts: r = 25) and redundant-boomerang-3 (100: r = 75).
Per rung, r and seed: success (success_rate), mean TTC of successful transfers
(ttc_ms_mean; a paper arm's clock stops when v parts reached the receiver, every
other arm's when the sender learns the last settle), busy-time throughput
(throughput_busy_sat_per_sec: settled volume over the sum of every transfer's busy
time, first send until every part's outcome is back: the paper's definition, which a
closed loop turns into transfers per second), and the paper's own throughput
(settled volume over the sum of times to outcome, tto_ms_mean x payments: a paper
arm's time to outcome is the paper's runtime, which ends when v parts have reached
the receiver, before the settles travel back). Then over seeds: the mean with a 95% Student t half-width, and, paired per
seed, the TTC change of redundancy against retry (%) and the two throughput ratios
redundancy / retry. Also each arm's mean number of transfers in flight (sum
of times to outcome over the run's span, first start to last outcome), the load
the open loop of rung 1 matches to the closed loop of rung 0. Standard library only.
"""

import glob
import json
import math
import os
import re
import sys
import tomllib
from collections import defaultdict

T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365,
        8: 2.306, 9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179, 14: 2.145, 19: 2.093,
        29: 2.045}

RUNGS = [
    ("0-paper", "0 the paper's model"),
    ("1-open-loop", "1 open loop, same mean load"),
    ("2-symmetric", "2 symmetric per-hop delays"),
    ("3-refused", "3 surplus refused by the receiver"),
    ("3b-cancel-path", "3b surplus chased by cancel_htlc"),
    ("4-learning", "4 learning router"),
    ("5-flotilla-arms", "5 flotilla's retry and redundancy"),
    ("6-bolt-limits", "6 BOLT reserve and HTLC limits"),
    ("7-mainnet", "7 mainnet graph and amounts"),
    ("8-full-commitment", "8 full commitment exchange"),
    ("8b-full-cancel-path", "8b full exchange, surplus chased by cancel_htlc"),
]


def t975(df):
    keys = sorted(k for k in T975 if k <= df)
    return T975[keys[-1]] if keys else float("nan")


def mean_ci(xs):
    xs = [x for x in xs if not math.isnan(x)]
    n = len(xs)
    if n == 0:
        return float("nan"), float("nan")
    m = sum(xs) / n
    if n < 2:
        return m, float("nan")
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (n - 1))
    return m, t975(n - 1) * sd / math.sqrt(n)


def role(arm, retry25_dir):
    """(kind, r) of an arm name, or None."""
    m = re.fullmatch(r"paper-(retry|redundant)-(\d+)(-learning)?", arm)
    if m:
        return ("retry" if m.group(1) == "retry" else "redund", int(m.group(2)))
    if arm == "redundant-boomerang-0-retry":
        return ("retry", 25 if retry25_dir else 75)
    m = re.fullmatch(r"redundant-boomerang-(\d+(?:\.\d+)?)", arm)
    if m:
        return ("redund", round(25 * float(m.group(1))))
    return None


def in_flight(run_dir, arms):
    """Mean transfers in flight per arm. A closed loop keeps one per sender in flight
    (while a sender has transfers left): its sender count. An open loop at rate λ
    holds λ x the mean time to outcome (Little's law)."""
    sc = tomllib.load(open(os.path.join(run_dir, "scenario.toml"), "rb"))
    w = sc.get("workload", {})
    if w.get("kind") in ("closed_loop", "closed-loop"):
        n = w.get("closed_loop", {}).get("senders", 100)
        return {a["name"]: float(n) for a in arms}
    rate = float(w.get("arrivals_per_sec", 10.0))
    return {a["name"]: rate * float(a["tto_ms_mean"] or 0) / 1e3 for a in arms}


def load(out):
    # (rung, kind, r) -> seed -> dict(success, ttc, thr, flight)
    data = defaultdict(dict)
    for rung, _ in RUNGS:
        for sub, r25 in ((rung, False), (rung + "+retry25", True)):
            for f in sorted(glob.glob(os.path.join(out, sub, "s*", "summary.json"))):
                seed = int(re.search(r"/s(\d+)/summary.json$", f).group(1))
                arms = json.load(open(f))["arms"]
                flight = in_flight(os.path.dirname(f), arms)
                for a in arms:
                    key = role(a["name"], r25)
                    if key is None:
                        continue
                    ttc = a.get("ttc_ms_mean")
                    data[(rung,) + key][seed] = dict(
                        success=100.0 * float(a["success_rate"]),
                        ttc=float(ttc) / 1e3 if ttc is not None else float("nan"),
                        thr=float(a.get("throughput_busy_sat_per_sec") or 0.0) / 1e3,
                        tto_thr=(float(a["succeeded_msat"]) / 1e3
                                 / (float(a["tto_ms_mean"] or 0) * float(a["payments"]) / 1e3)
                                 if float(a["tto_ms_mean"] or 0) > 0 else 0.0),
                        flight=flight.get(a["name"], float("nan")),
                    )
    return data


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: ladder_table.py OUT [--markdown]")
    data = load(sys.argv[1])

    def pm(xs, prec, sign=False):
        m, h = mean_ci(xs)
        if math.isnan(m):
            return "–"
        f = f"{{:{'+' if sign else ''}.{prec}f}}"
        return f.format(m) + ("" if math.isnan(h) else f" ± {h:.{prec}f}")

    head = ("rung", "r", "seeds", "success retry %", "success redund. %", "TTC retry s",
            "TTC redund. s", "TTC change %", "busy thr. retry ksat/s",
            "busy thr. redund. ksat/s", "busy thr. ratio", "paper thr. ratio",
            "in flight retry/redund.")
    rows = [head]
    for rung, label in RUNGS:
        for r in (25, 75):
            ret = data.get((rung, "retry", r), {})
            red = data.get((rung, "redund", r), {})
            if not ret and not red:
                continue
            both = sorted(set(ret) & set(red))
            col = lambda d, k: [v[k] for v in d.values()]
            change = [100 * (red[s]["ttc"] / ret[s]["ttc"] - 1) for s in both]
            ratio = [red[s]["thr"] / ret[s]["thr"] for s in both if ret[s]["thr"] > 0]
            pratio = [red[s]["tto_thr"] / ret[s]["tto_thr"] for s in both
                      if ret[s]["tto_thr"] > 0]
            fl = f"{mean_ci(col(ret, 'flight'))[0]:.0f} / {mean_ci(col(red, 'flight'))[0]:.0f}"
            rows.append((label, str(r), f"{len(ret)}/{len(red)}",
                         pm(col(ret, "success"), 1), pm(col(red, "success"), 1),
                         pm(col(ret, "ttc"), 3), pm(col(red, "ttc"), 3),
                         pm(change, 1, True), pm(col(ret, "thr"), 1), pm(col(red, "thr"), 1),
                         pm(ratio, 2), pm(pratio, 2), fl))
    if "--markdown" in sys.argv:
        print("| " + " | ".join(rows[0]) + " |")
        print("|" + "---|" * len(rows[0]))
        for row in rows[1:]:
            print("| " + " | ".join(row) + " |")
    else:
        w = [max(len(row[i]) for row in rows) for i in range(len(head))]
        for row in rows:
            print("  ".join(c.ljust(w[i]) if i == 0 else c.rjust(w[i])
                            for i, c in enumerate(row)))


if __name__ == "__main__":
    main()
