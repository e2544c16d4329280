#!/usr/bin/env python3
"""Senders whose own channels refuse tiny parts while they should hold plenty.

Usage: python3 scripts/paper_stuck_check.py RUN_DIR GRAPH_DIR [ARM]

RUN_DIR is a `flotilla sim` results directory of scenarios/boomerang-paper.toml made
WITH the attempts file (attempts.jsonl.gz); GRAPH_DIR the CLoTH graph it ran on
(scenarios/graphs/boomerang-ws100). For ARM (default paper-retry-0), a sender is
"dead" when fewer than 20% of its transfers under 10 units (10,000 sat) in the second
half of the run succeed. For each dead sender's channel this prints, among the parts the
channel refused at the sender's own first hop in the second half of its transfers
(`temporary_channel_failure` at hop 0), the one refused with the most room: the
sender's side as the settled parts account for it at that moment (the graph's initial
balance, minus every part settled by then that crossed the channel away from the
sender, plus every one that crossed towards it), against the part's amount. A
channel that refuses a few sats while the settled flows leave it hundreds of units
holds liquidity that no settled or failed part accounts for: HTLCs that were never
resolved. docs/boomerang.md ("The retry-success miss") has what it found.
Standard library only.
"""

import csv
import gzip
import json
import os
import sys
from collections import Counter, defaultdict


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: paper_stuck_check.py RUN_DIR GRAPH_DIR [ARM]")
    run, graph = sys.argv[1], sys.argv[2]
    arm = sys.argv[3] if len(sys.argv) > 3 else "paper-retry-0"
    pay = {int(r["payment"]): r for r in csv.DictReader(open(os.path.join(run, "payments.csv")))
           if r["arm"] == arm}
    if not pay:
        sys.exit(f"{run}: no payments of arm {arm}")
    atts = [a for a in map(json.loads, gzip.open(os.path.join(run, "attempts.jsonl.gz"), "rt"))
            if a["arm"] == arm]
    sides = defaultdict(dict)  # channel id -> node id -> initial balance (msat)
    for e in csv.DictReader(open(os.path.join(graph, "edges.csv"))):
        sides[e["channel_id"]][e["from_node_id"]] = int(e["balance"])
    n = len(pay)
    small = defaultdict(list)
    for p, r in pay.items():
        if p >= n // 2 and int(r["amount_msat"]) < 10_000_000:
            small[r["source"]].append(r["payment_outcome"] == "Success")
    dead = sorted(s for s, v in small.items() if sum(v) < 0.2 * len(v))
    # Settled parts move balances when they resolve: per channel direction, (time,
    # msat); attempts carry simulated milliseconds since the run's start.
    moved = defaultdict(list)  # (channel, to) -> [(resolved at, msat)]
    for a in atts:
        if a["outcome"] == "settled":
            t = a["resolved_ms"]
            for h in a["hops"]:
                moved[(h["scid"], h["to"])].append((t, h["amount_msat"]))
    print(f"{arm}: {len(dead)} of {len(small)} senders settle < 20% of their transfers under "
          f"10 units in the second half of the run")
    for d in dead:
        peers, refusals = {}, defaultdict(list)
        for a in atts:
            if pay[a["payment"]]["source"] != d:
                continue
            h = a["hops"][0]
            peers[h["scid"]] = h["to"]
            t = a["sent_ms"]
            if a["outcome"] == "failed" and a["failed_hop"] == 0 and a["payment"] >= n // 2 \
                    and a["failure_code"] == "temporary_channel_failure":
                refusals[h["scid"]].append((t, h["amount_msat"]))
        # The sender's node id: the one side every channel of its has in common.
        me = Counter(i for scid in peers for i in sides[scid]).most_common(1)[0][0]
        print(f"sender {d[:16]} (node {me}), second half of its transfers:")
        for scid, to in sorted(peers.items(), key=lambda x: int(x[0])):
            def balance(at):
                out = sum(m for t, m in moved[(scid, to)] if t <= at)
                back = sum(m for t, m in moved[(scid, d)] if t <= at)
                return sides[scid][me] - out + back
            rs = refusals.get(scid)
            if not rs:
                print(f"  channel {scid:>4}: refused nothing")
                continue
            # The refusal with the most room left by the settled flows.
            t, amt, bal = max(((t, a, balance(t)) for t, a in rs), key=lambda x: x[2] - x[1])
            print(f"  channel {scid:>4}: {len(rs)} parts refused; at {t / 1000:.1f} s one of "
                  f"{amt / 1e6:.3f} units while the settled flows left {bal / 1e6:.1f} units")


if __name__ == "__main__":
    main()
