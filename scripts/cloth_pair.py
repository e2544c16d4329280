#!/usr/bin/env python3
"""Pairs CLoTH's payments with flotilla's, payment by payment.

    scripts/cloth_pair.py CLOTH_OUT FLOTILLA_OUT [--arm ARM] [--list N] [--json]
                          [--graph CLOTH_GRAPH_DIR]

CLOTH_OUT is the directory CLoTH wrote `payments_output.csv` into (columns id,
sender_id, receiver_id, amount, start_time, end_time, mpp, is_success,
no_balance_count, offline_node_count, timeout_exp, attempts, route, total_fee; a
payment CLoTH split in two is one row). FLOTILLA_OUT is a `flotilla sim --out`
directory of a run on CLoTH's payments file (`workload.kind = "cloth"`), whose
`payments.csv` numbers payments in file order, so flotilla's `payment` is CLoTH's `id`.

Prints, for the arm (default: the first in payments.csv): each simulator's success
with its 95% Wilson interval, the 2x2 table of outcomes, the exact McNemar test on
the payments that succeed in one simulator only, Newcombe's 95% interval for the
paired difference, the mean time to complete of the payments both settle, and those payments (up to --list, default 20, each way) with
CLoTH's failure class (timeout, no_path, no_balance, offline; classified as CLoTH's
own batch-means.py does) and flotilla's failure_reason. --json prints the same as one
JSON object.

--graph names the directory of CLoTH's snapshot (nodes_ln.csv, channels_ln.csv,
edges_ln.csv, or the same without `_ln`). Each payment that succeeds in CLoTH only is
then explained from flotilla's attempts (attempts.jsonl or .gz) and the snapshot's
starting balances: `reserve_at_first_hop` / `reserve_at_hop` (an attempt failed at
the sender's own channel / a later hop, whose side started with at least the HTLC's
amount but less than the amount plus the reserve flotilla's scenario.toml sets),
`reserve_at_sender` (no attempt left: each of the sender's channels lacks amount +
reserve, one holds the amount), or `other` (neither, judged from the starting
balances: the side's balance had moved by then). Standard library only.
"""
import argparse
import csv
import json
import math
import os
import gzip
import sys
import tomllib

Z = 1.959963984540054


def wilson(k, n):
    """95% Wilson score interval for k successes out of n."""
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    d = 1 + Z * Z / n
    c = (p + Z * Z / (2 * n)) / d
    h = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / d
    return (max(0.0, c - h), min(1.0, c + h))


def mcnemar_exact(b, c):
    """Two-sided exact McNemar p-value: binomial(b + c, 1/2) at min(b, c)."""
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2.0**n
    return min(1.0, 2 * tail)


def newcombe(a, b, c, d):
    """Newcombe's 95% interval (method 10) for p1 - p2 of paired proportions, where
    a = both succeed, b = first only, c = second only, d = neither."""
    n = a + b + c + d
    if n == 0:
        return (0.0, 0.0)
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson(a + b, n)
    l2, u2 = wilson(a + c, n)
    num = a * d - b * c
    den = math.sqrt((a + b) * (c + d) * (a + c) * (b + d))
    if den == 0:
        phi = 0.0
    else:
        phi = (max(num - n / 2, 0) if num > 0 else num) / den
    dl = math.sqrt(
        max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2)
    )
    du = math.sqrt(
        max(0.0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2)
    )
    return (p1 - p2 - dl, p1 - p2 + du)


def cloth_class(row):
    if row["is_success"] == "1":
        return "success"
    if row["timeout_exp"] == "1":
        return "timeout"
    if row["route"] == "-1":
        return "no_path"
    if int(row["offline_node_count"]) > int(row["no_balance_count"]):
        return "offline"
    return "no_balance"


def fail(msg):
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(2)


def read_csv(path, need):
    try:
        f = open(path, newline="")
    except OSError as e:
        fail(f"{path}: {e.strerror}")
    with f:
        rows = list(csv.DictReader(f))
    if rows:
        missing = [c for c in need if c not in rows[0]]
        if missing:
            fail(f"{path}: missing column {missing[0]}")
    return rows


def load_graph(d):
    """CLoTH's snapshot: {(channel id, from node): (balance msat, capacity msat, to
    node)} and each node's outgoing (channel id) list."""
    for names in (("channels_ln.csv", "edges_ln.csv"), ("channels.csv", "edges.csv")):
        if os.path.exists(os.path.join(d, names[1])):
            break
    else:
        fail(f"{d}: no edges_ln.csv or edges.csv")
    cap = {}
    for r in read_csv(os.path.join(d, names[0]), ["id", "capacity"]):
        cap[int(r["id"])] = int(r["capacity"])
    side, out = {}, {}
    cols = ["channel_id", "from_node_id", "to_node_id", "balance"]
    for r in read_csv(os.path.join(d, names[1]), cols):
        ch, a, z = int(r["channel_id"]), int(r["from_node_id"]), int(r["to_node_id"])
        side[(ch, a)] = (int(r["balance"]), cap[ch], z)
        out.setdefault(a, []).append(ch)
    return side, out


def read_attempts(flotilla_out, arm):
    """flotilla's attempts of `arm`: payment -> list of attempt records."""
    for name, opener in (("attempts.jsonl", open), ("attempts.jsonl.gz", gzip.open)):
        path = os.path.join(flotilla_out, name)
        if os.path.exists(path):
            by = {}
            with opener(path, "rt") as f:
                for line in f:
                    r = json.loads(line)
                    if r.get("arm") == arm:
                        by.setdefault(r["payment"], []).append(r)
            return by
    fail(f"{flotilla_out}: no attempts.jsonl(.gz); run without --attempts off")


def reserve_of(flotilla_out):
    """The reserve flotilla's run applied, as a function of capacity (msat)."""
    path = os.path.join(flotilla_out, "scenario.toml")
    try:
        with open(path, "rb") as f:
            ch = tomllib.load(f).get("network", {}).get("channel", {})
    except OSError as e:
        fail(f"{path}: {e.strerror}")
    ppm = ch.get("channel_reserve_ppm", 10000)
    dust = ch.get("dust_limit_sat", 354) * 1000
    if ppm == 0:
        return lambda c: 0
    return lambda c: min(max(c * ppm // 1_000_000, dust), c)


def explain(pid, sender, amount, attempts, side, out, reserve):
    """Why payment `pid` failed in flotilla: see --graph in the module docs."""
    for r in attempts:
        h = r.get("failed_hop")
        if r.get("outcome") != "failed" or h is None:
            continue
        node = sender
        for i, hop in enumerate(r["hops"]):
            ch = int(hop["scid"])
            if (ch, node) not in side:
                break
            bal, cap, to = side[(ch, node)]
            if i == h:
                a = hop["amount_msat"]
                if a <= bal < a + reserve(cap):
                    return "reserve_at_first_hop" if i == 0 else "reserve_at_hop"
                break
            node = to
    own = [side[(ch, sender)] for ch in out.get(sender, []) if (ch, sender) in side]
    if not attempts and own:
        if all(b - reserve(c) < amount for b, c, _ in own) and any(b >= amount for b, _, _ in own):
            return "reserve_at_sender"
    return "other"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cloth_out")
    ap.add_argument("flotilla_out")
    ap.add_argument("--arm")
    ap.add_argument("--list", type=int, default=20)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--graph")
    a = ap.parse_args()

    cpath = os.path.join(a.cloth_out, "payments_output.csv")
    fpath = os.path.join(a.flotilla_out, "payments.csv")
    cloth = {}
    for r in read_csv(cpath, ["id", "is_success", "timeout_exp", "route", "attempts"]):
        cloth[int(r["id"])] = r
    frows = read_csv(fpath, ["arm", "payment", "payment_outcome", "failure_reason"])
    arm = a.arm or (frows[0]["arm"] if frows else None)
    flot = {int(r["payment"]): r for r in frows if r["arm"] == arm}
    if not flot:
        fail(f"{fpath}: no payments of arm {arm!r}")
    ids = sorted(set(cloth) & set(flot))
    if len(ids) != len(cloth) or len(ids) != len(flot):
        fail(
            f"the runs do not hold the same payments: CLoTH {len(cloth)}, "
            f"flotilla {len(flot)}, in both {len(ids)}"
        )

    both = cloth_only = flot_only = neither = 0
    only_cloth, only_flot = [], []
    for i in ids:
        cs = cloth[i]["is_success"] == "1"
        fs = flot[i]["payment_outcome"] == "Success"
        if cs and fs:
            both += 1
        elif cs:
            cloth_only += 1
            only_cloth.append(i)
        elif fs:
            flot_only += 1
            only_flot.append(i)
        else:
            neither += 1
    n = len(ids)
    kc, kf = both + cloth_only, both + flot_only
    out = {
        "arm": arm,
        "payments": n,
        "cloth_success": kc / n,
        "cloth_ci95": wilson(kc, n),
        "flotilla_success": kf / n,
        "flotilla_ci95": wilson(kf, n),
        "both": both,
        "cloth_only": cloth_only,
        "flotilla_only": flot_only,
        "neither": neither,
        "mcnemar_p": mcnemar_exact(cloth_only, flot_only),
        "diff_flotilla_minus_cloth_ci95": [-x for x in reversed(newcombe(both, cloth_only, flot_only, neither))],
        "succeed_in_cloth_only": [
            {
                "id": i,
                "amount_msat": int(cloth[i]["amount"]),
                "flotilla_failure": flot[i]["failure_reason"],
                "flotilla_attempts": int(flot[i]["attempts"]),
            }
            for i in only_cloth
        ],
        "succeed_in_flotilla_only": [
            {
                "id": i,
                "amount_msat": int(cloth[i]["amount"]),
                "cloth_failure": cloth_class(cloth[i]),
                "cloth_attempts": int(cloth[i]["attempts"]),
            }
            for i in only_flot
        ],
    }
    if a.graph:
        side, outs = load_graph(a.graph)
        attempts = read_attempts(a.flotilla_out, arm)
        reserve = reserve_of(a.flotilla_out)
        why = {}
        for r in out["succeed_in_cloth_only"]:
            i = r["id"]
            r["why"] = explain(
                i,
                int(cloth[i]["sender_id"]),
                r["amount_msat"],
                attempts.get(i, []),
                side,
                outs,
                reserve,
            )
            why[r["why"]] = why.get(r["why"], 0) + 1
        out["why_cloth_only"] = why
    # Time to complete over the payments both settle: CLoTH's end_time - start_time
    # (ms, the sender learning of the success), flotilla's ttc_ms.
    tc = [int(cloth[i]["end_time"]) - int(cloth[i]["start_time"]) for i in ids
          if cloth[i]["is_success"] == "1" and flot[i]["payment_outcome"] == "Success"]
    tf = [float(flot[i]["ttc_ms"]) for i in ids
          if cloth[i]["is_success"] == "1" and flot[i]["payment_outcome"] == "Success"]
    out["ttc_ms_mean_both_settled"] = {
        "cloth": sum(tc) / len(tc) if tc else None,
        "flotilla": sum(tf) / len(tf) if tf else None,
    }
    fails_c = {}
    fails_f = {}
    for i in ids:
        c = cloth_class(cloth[i])
        if c != "success":
            fails_c[c] = fails_c.get(c, 0) + 1
        if flot[i]["payment_outcome"] != "Success":
            r = flot[i]["failure_reason"] or "unknown"
            fails_f[r] = fails_f.get(r, 0) + 1
    out["cloth_failures"] = fails_c
    out["flotilla_failures"] = fails_f
    if a.json:
        print(json.dumps(out, indent=1))
        return

    pc = lambda x: f"{100 * x:.2f}%"
    print(f"arm {arm}: {n} payments paired by id")
    lo, hi = out["cloth_ci95"]
    print(f"CLoTH     success {pc(kc / n)}  95% CI {pc(lo)}–{pc(hi)}  failures {fails_c}")
    lo, hi = out["flotilla_ci95"]
    print(f"flotilla  success {pc(kf / n)}  95% CI {pc(lo)}–{pc(hi)}  failures {fails_f}")
    print(f"both succeed {both}, CLoTH only {cloth_only}, flotilla only {flot_only}, neither {neither}")
    lo, hi = out["diff_flotilla_minus_cloth_ci95"]
    print(
        f"flotilla − CLoTH {100 * (kf - kc) / n:+.2f} pp, 95% CI {100 * lo:+.2f}…{100 * hi:+.2f} pp "
        f"(Newcombe), exact McNemar p = {out['mcnemar_p']:.3g}"
    )
    t = out["ttc_ms_mean_both_settled"]
    if t["cloth"] is not None:
        print(f"time to complete, mean over the {len(tc)} both settle: CLoTH {t['cloth']:.0f} ms, flotilla {t['flotilla']:.0f} ms")
    if "why_cloth_only" in out:
        print(f"why they fail in flotilla: {out['why_cloth_only']}")
    for title, rows, key in [
        ("succeed in CLoTH only", out["succeed_in_cloth_only"], "flotilla_failure"),
        ("succeed in flotilla only", out["succeed_in_flotilla_only"], "cloth_failure"),
    ]:
        if rows:
            print(f"{title} (id amount_msat {key}):")
            for r in rows[: a.list]:
                print(f"  {r['id']} {r['amount_msat']} {r[key]} {r.get('why', '')}".rstrip())
            if len(rows) > a.list:
                print(f"  … {len(rows) - a.list} more")


if __name__ == "__main__":
    main()
