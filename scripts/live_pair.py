#!/usr/bin/env python3
"""Pair a `flotilla live` run with a `flotilla sim` run of the same scenario.

    scripts/live_pair.py LIVE_DIR SIM_DIR [--arm mpp-retry] [--json]

Both directories hold a payments.csv; rows pair by (arm, payment). Prints how many
payments had the same outcome (settled or failed, and the failure reason), the same
number of parts sent and the same fee, then every payment whose outcome differs.

It also fits the live network's time per message latency: run the simulator once with
`--set network.latency.model=constant --set network.latency.ms=1`, so that each
settled payment's simulated TTC in ms is the number of message latencies on its
critical path (the sim has no processing time); the least-squares line of the live
TTC against it, over payments settled in both runs with the same parts and fee (the
same routes, as far as the outputs tell), has the live time per message latency as
its slope and the constant cost of a `pay` request (control socket, invoice decoding,
route search) as its intercept. Standard library only.
"""

import argparse
import csv
import json
import signal
import sys


def load(path, arm):
    rows = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if arm and r["arm"] != arm:
                continue
            rows[int(r["payment"])] = r
    return rows


def outcome(r):
    if r["payment_outcome"] == "Success":
        return "settled"
    return "failed:" + (r["failure_reason"] or "?")


def fit(xs, ys):
    n = len(xs)
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return None
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    inter = my - slope * mx
    ss_res = sum((y - inter - slope * x) ** 2 for x, y in zip(xs, ys))
    ss_tot = sum((y - my) ** 2 for y in ys)
    r2 = 1 - ss_res / ss_tot if ss_tot else 1.0
    return slope, inter, r2


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("live")
    ap.add_argument("sim")
    ap.add_argument("--arm", default="mpp-retry")
    ap.add_argument("--json", action="store_true", help="one JSON object on stdout")
    ap.add_argument(
        "--per-hop",
        action="store_true",
        help="SIM_DIR ran at 1 ms per message (constant) in the full commitment mode: "
        "also show the live TTC of single-part payments by hop count (simulated TTC / 4)",
    )
    a = ap.parse_args()
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    live = load(f"{a.live}/payments.csv", a.arm)
    sim = load(f"{a.sim}/payments.csv", a.arm)
    if not live or not sim:
        sys.exit(f"error: no rows for arm {a.arm!r} in one of the runs")
    if set(live) != set(sim):
        sys.exit(
            f"error: the runs hold different payments ({len(live)} live, {len(sim)} simulated)"
        )
    same_outcome = same_settled = same_parts = same_fee = 0
    first_route_diff = None
    mismatches = []
    xs, ys = [], []
    for i in sorted(live):
        lv, sm = live[i], sim[i]
        for k in ("source", "destination", "amount_msat"):
            if lv[k] != sm[k]:
                sys.exit(f"error: payment {i}: {k} differs ({lv[k]} live, {sm[k]} simulated)")
        o_l, o_s = outcome(lv), outcome(sm)
        routes_differ = (lv["parts_sent"], lv["fee_msat"]) != (sm["parts_sent"], sm["fee_msat"])
        if o_l == o_s:
            same_outcome += 1
        if (o_l == "settled") == (o_s == "settled"):
            same_settled += 1
        if o_l != o_s:
            p_l, p_s = int(lv["parts_sent"]), int(sm["parts_sent"])
            if p_s == 0 and p_l > 0:
                why = "sim sent nothing: its arm's shared beliefs ruled every route out"
            elif p_l == 0 and p_s > 0:
                why = "live sent nothing: the sender's own channels could not carry it"
            else:
                why = "both tried, on networks whose balances already differed"
            mismatches.append(
                {
                    "payment": i,
                    "amount_sat": int(lv["amount_msat"]) // 1000,
                    "source": lv["source"][:10],
                    "destination": lv["destination"][:10],
                    "live": o_l,
                    "sim": o_s,
                    "live_parts_sent": int(lv["parts_sent"]),
                    "sim_parts_sent": int(sm["parts_sent"]),
                    "why": why,
                    "first_route_difference": first_route_diff,
                }
            )
        if routes_differ and first_route_diff is None:
            first_route_diff = i
        if lv["parts_sent"] == sm["parts_sent"]:
            same_parts += 1
        if lv["fee_msat"] == sm["fee_msat"]:
            same_fee += 1
        if (
            o_l == o_s == "settled"
            and lv["parts_sent"] == sm["parts_sent"]
            and lv["fee_msat"] == sm["fee_msat"]
        ):
            xs.append(float(sm["ttc_ms"]))
            ys.append(float(lv["ttc_ms"]))
    n = len(live)
    f = fit(xs, ys)
    by_hops = {}
    if a.per_hop:
        for i in live:
            lv, sm = live[i], sim[i]
            if (
                outcome(lv) == outcome(sm) == "settled"
                and lv["parts_sent"] == sm["parts_sent"] == "1"
                and lv["fee_msat"] == sm["fee_msat"]
            ):
                # A settled hop costs four message latencies in the full mode: the add,
                # the commitment exchange that locks it in (1.5 round trips) less the
                # overlap, and the fulfil (docs/commitment.md).
                hops = round(float(sm["ttc_ms"]) / 4)
                by_hops.setdefault(hops, []).append(float(lv["ttc_ms"]))
    report = {
        "payments": n,
        "same_outcome": same_outcome,
        "same_settled_or_failed": same_settled,
        "first_route_difference": first_route_diff,
        "same_parts_sent": same_parts,
        "same_fee": same_fee,
        "settled_live": sum(outcome(r) == "settled" for r in live.values()),
        "settled_sim": sum(outcome(r) == "settled" for r in sim.values()),
        "mismatches": mismatches,
        "live_ttc_ms_by_hops": {
            str(h): {"payments": len(v), "median": sorted(v)[len(v) // 2]}
            for h, v in sorted(by_hops.items())
        },
        "ttc_fit": None
        if f is None
        else {
            "payments": len(xs),
            "live_ms_per_sim_ms": f[0],
            "intercept_ms": f[1],
            "r2": f[2],
        },
    }
    if a.json:
        print(json.dumps(report, indent=2))
        return
    print(
        f"{n} payments: same outcome {same_outcome} ({same_outcome / n:.1%}; settled or "
        f"failed alike {same_settled}, {same_settled / n:.1%}), same parts sent {same_parts}, "
        f"same fee {same_fee}; settled live {report['settled_live']}, simulated "
        f"{report['settled_sim']}; first payment with other parts or fee: {first_route_diff}"
    )
    if f is not None:
        print(
            f"TTC fit over {len(xs)} payments with the same parts and fee: "
            f"live = {f[1]:.1f} ms + {f[0]:.2f} x simulated (r2 {f[2]:.2f})"
        )
    for h, v in sorted(by_hops.items()):
        print(f"  {h} hop(s): {len(v)} single-part payments, live TTC median {sorted(v)[len(v) // 2]:.1f} ms")
    if mismatches:
        print(f"\n{len(mismatches)} outcomes differ:")
        print(
            f"{'payment':>7} {'amount sat':>10} {'source':10} {'destination':11} "
            f"{'live':18} {'sim':18} {'parts':>7}  why"
        )
        for m in mismatches:
            print(
                f"{m['payment']:>7} {m['amount_sat']:>10} {m['source']:10} {m['destination']:11} "
                f"{m['live']:18} {m['sim']:18} {m['live_parts_sent']:>3}/{m['sim_parts_sent']:<3}  {m['why']}"
            )


if __name__ == "__main__":
    main()
