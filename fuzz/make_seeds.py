#!/usr/bin/env python3
"""Writes the hand-made seeds of every fuzz target into fuzz/seeds/<target>/.

Run from the repository root after `cargo build --release` (it uses the flotilla
binary to make the graph files and invoices). The seeds are committed; the corpus a
fuzzing run grows goes to fuzz/corpus/ and is not, except a few of its inputs kept as
seeds/<target>/corpus-N, and inputs that once crashed a target, kept as
seeds/<target>/crash-NAME; this script leaves both alone, and every other seed it
does not make (the `wire` seeds, `network/corpus2-N`). It removes nothing, and writes
nothing until every seed has been made.
"""
import os
import random
import shutil
import struct
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEEDS = os.path.join(ROOT, "fuzz", "seeds")
BIN = os.path.join(ROOT, "target", "release", "flotilla")


# Every seed made, by (target, name), with whether a committed copy is kept instead:
# written only once all of them were made, so a failure half-way changes nothing.
MADE = {}


def put(target, name, data, keep_committed=False):
    if isinstance(data, str):
        data = data.encode()
    MADE[(target, name)] = (data, keep_committed)


def write_seeds():
    """Writes every made seed, except a keep_committed one that exists already."""
    for (target, name), (data, keep_committed) in sorted(MADE.items()):
        d = os.path.join(SEEDS, target)
        path = os.path.join(d, name)
        if keep_committed and os.path.isfile(path):
            continue
        os.makedirs(d, exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)


def scenario_files():
    """The shipped scenarios: the .toml files directly in scenarios/ (not its graph
    directories, nor the sweep files, which are another format)."""
    d = os.path.join(ROOT, "scenarios")
    return [f for f in sorted(os.listdir(d))
            if f.endswith(".toml") and not f.endswith(".sweep.toml")
            and os.path.isfile(os.path.join(d, f))]


def run(*args):
    return subprocess.run([BIN, *args], check=True, capture_output=True, text=True).stdout


def bigsize(v):
    if v < 0xFD:
        return bytes([v])
    if v <= 0xFFFF:
        return b"\xfd" + struct.pack(">H", v)
    if v <= 0xFFFFFFFF:
        return b"\xfe" + struct.pack(">I", v)
    return b"\xff" + struct.pack(">Q", v)


def tu(v):
    b = v.to_bytes(8, "big").lstrip(b"\x00")
    return b


def rec(t, value):
    return bigsize(t) + bigsize(len(value)) + value


def forward_payload(scid, amt, cltv):
    return rec(2, tu(amt)) + rec(4, tu(cltv)) + rec(6, struct.pack(">Q", scid))


def final_payload(amt, cltv, secret=None, total=None, redundant=None, keysend=None):
    out = rec(2, tu(amt)) + rec(4, tu(cltv))
    if secret is not None:
        out += rec(8, secret + tu(total))
    if redundant is not None:
        pid, index, lock, due = redundant
        out += rec(65537, pid + struct.pack(">H", index) + bytes([lock]) + tu(due))
    if keysend is not None:
        out += rec(5482373484, keysend)
    return out


# The `network` target's input, spelled out (see `network` in src/lib.rs): a header
# (channels, balances, node configs, onion mode), then one operation after another.
def net_header(cheating=False, real_onions=False):
    h = b""
    for _ in range(7):
        # Capacity 10,000 + 65,535 × 200 sat; both policies free, CLTV delta 18,
        # minimum 1 msat, enabled.
        h += b"\xff\xff" + b"\x00" * 10
    h += bytes([128] * 7)  # every channel split in the middle
    for i in range(5):
        # 12 HTLCs, MPP timeout 60 s, offline timeout 100 ms, behaviour.
        h += bytes([11, 59]) + b"\x00" * 4 + bytes([200 if cheating and i == 4 else 0])
    return h + bytes([0 if real_onions else 255])


def op_boomerang(amount, k, refund_at_once):
    return bytes([0]) + struct.pack(">I", amount - 1_000) + bytes([4, k - 1, int(refund_at_once)])


def op_payment(amount, kind):
    # kind: 0 keysend, 1 sender_hash, 2 h2tlc, 3 MPP (naming no amount).
    return bytes([0]) + struct.pack(">I", amount - 1_000) + bytes([kind]) + (b"\x00" if kind == 3 else b"")


def op_part(payment, path, kind="boomerang", size=0):
    # A part over PATHS[path] with CLTV 18. Boomerang: A/k, or with `size` 2 the wrong
    # A/3 + 1. Others: `size` 0 the whole amount, 1 half, 2 a third + 1; MPP and keysend
    # parts name the payment's amount as their total.
    if kind == "boomerang":
        amount = b"\x00" if size == 0 else bytes([255, size])
        return bytes([1, payment, path]) + amount + b"\x00"
    return bytes([1, payment, path, size, 0]) + (b"\x00" if kind == "mpp" else b"")


def op_deliver(link=0, times=1):
    return bytes([3, link]) * times


def op_advance(secs_index):
    return bytes([5, secs_index, 0, 0])


def op_claim_held(payment, held=0, true_scalar=True):
    # (Its bytes after `held` are read only if a part is held.)
    return bytes([7, payment, held, 0 if true_scalar else 2, 0])


def op_cancel(payment):
    return bytes([9, payment])


def op_refund(payment, guess=False):
    return bytes([10, payment]) + (b"\xff" + bytes(range(32)) if guess else b"\x00")


def network_seeds():
    """Schedules for Boomerang (k equal parts, the receiver's claims, a cheating
    receiver claiming k + 1, the sender's refunds), sender cancels and invoice cancels,
    each named for what it reaches (crates/flotilla-sim/tests/fuzz_seeds.rs checks)."""
    a = 20_000_000
    # k = 2 of 3 parts to an honest receiver: it claims two, fails the third.
    put("network", "boomerang-honest", net_header() + op_boomerang(a, 2, True)
        + op_part(0, 0) + op_part(0, 1) + op_part(0, 2) + op_deliver(0, 40))
    # A cheating receiver claims all four parts of k = 2; the sender refunds as each
    # settle arrives, with fulfils still on their way when it first learns P(0).
    put("network", "boomerang-overclaim-refund-at-once", net_header(cheating=True)
        + op_boomerang(a, 2, True) + b"".join(op_part(0, i) for i in range(4))
        + op_deliver(0, 60))
    # The same, refunding when the schedule says: a guessed secret first (refused),
    # then P(0).
    put("network", "boomerang-overclaim-refund-later", net_header(cheating=True)
        + op_boomerang(a, 2, False) + b"".join(op_part(0, i) for i in range(3))
        + op_deliver(0, 60) + op_refund(0, guess=True) + op_refund(0))
    # k = 3: the receiver holds one part and claims it directly with its true scalar
    # before the rest arrive, then the k claim takes three more.
    put("network", "boomerang-direct-claim", net_header()
        + op_boomerang(3 * 7_000_000, 3, True) + op_part(0, 0) + op_deliver(0, 4)
        + op_claim_held(0) + b"".join(op_part(0, i) for i in (1, 2, 3)) + op_deliver(0, 60))
    # A wrong-sized part is refused; then the sender cancels while its parts are on
    # their way: they fail on arrival.
    put("network", "boomerang-cancel-overtakes", net_header() + op_boomerang(a, 2, True)
        + op_part(0, 0, size=2) + op_part(0, 1) + op_part(0, 2) + op_cancel(0)
        + op_deliver(0, 40))
    # A sender_hash payment: one part held, then the cancel fails it at once.
    put("network", "redundant-cancel-held", net_header() + op_payment(a, 1)
        + op_part(0, 0, "sender_hash") + op_deliver(0, 4) + op_cancel(0) + op_deliver(0, 40))
    # An MPP invoice cancelled with one part of two held: the second is refused.
    put("network", "mpp-invoice-cancel", net_header() + op_payment(a, 3) + op_part(0, 0, "mpp", 1)
        + op_deliver(0, 4) + op_cancel(0) + op_part(0, 1, "mpp", 1) + op_deliver(0, 40))


def node_seeds():
    """The live node's targets: setup messages and logged inputs (node_setup), and
    payment schedules with a hostile peer (node_engine; layout in fuzz/src/node.rs)."""
    pick = {32777: 0, 32779: 1, 32781: 2, 32783: 3, 32785: 4, 32791: 5}

    def setup(t, payload, log=""):
        return bytes([pick[t], len(payload) % 256 if len(payload) < 256 else 255]) + payload + log.encode()

    put("node_setup", "open", setup(32777, b"\x01" * 32 + struct.pack(">QQ", 1_000_000, 5_000)))
    put("node_setup", "accept", setup(32779, b"\x01" * 32 + b"\x02" * 32))
    put("node_setup", "reject", setup(32781, b"\x01" * 32 + struct.pack(">H", 6) + b"no, ta"))
    put("node_setup", "reestablish", setup(32785, struct.pack(">Q", 42)))
    params = b"\x01\x1e" + struct.pack(">HQIQQ", 30, 0, 10_000, 354, 1)
    put("node_setup", "open-params", setup(32777, b"\x01" * 32 + struct.pack(">QQ", 1_000_000, 5_000) + params))
    put("node_setup", "accept-params", setup(32779, b"\x01" * 32 + b"\x02" * 32 + params))
    # An unsigned node announcement (its layout, a zero signature).
    node_id = bytes.fromhex("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
    put("node_setup", "node-announce", setup(32791, node_id + struct.pack(">I", 7) + b"carol".ljust(32, b"\0")
        + struct.pack(">H", 2) + b"\x02\x00" + b"\0" * 64))
    key = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
    put("node_setup", "log-open", setup(32785, struct.pack(">Q", 1), '{"k": "open", "channel_id": "'
        + "01" * 32 + '", "peer": "' + key + '", "capacity_sat": 1000, "local_msat": 1000000, "remote_msat": 0}'))
    put("node_setup", "log-pay", setup(32785, struct.pack(">Q", 1), '{"k": "pay", "id": 1, "hash": "'
        + "02" * 32 + '", "secret": "' + "03" * 32 + '", "keysend": null, "target": "' + key
        + '", "amount_msat": 5000, "max_parts": 4, "final_cltv_delta": 18}'))
    put("node_setup", "log-online", setup(32785, struct.pack(">Q", 1), '{"k": "online", "peer": "' + key + '", "online": false}'))

    def channels():
        # Capacity 1,010,000 sat each, half of it pushed to the acceptor (500,000 × 1000 msat).
        return struct.pack(">IIIIII", 1_000_000, 500_000, 1_000_000, 500_000, 1_000_000, 500_000)

    def invoice(at, i, amount, lock=3):
        # lock: 0 h2tlc, 1 sender_hash, 2 or 3 an ordinary invoice.
        return bytes([0, at]) + bytes([i]) * 32 + bytes([i + 100]) * 32 + struct.pack(">I", amount) + bytes([lock])

    def pay(frm, inv, max_parts=4, rho=1, base_parts=1):
        # rho: ρ = rho / 2; base_parts: k = 1 + base_parts (redundant invoices only).
        return bytes([1, frm, 1, inv, 1, max_parts, 0, rho, base_parts])

    def keysend(frm, to, i, amount):
        return bytes([1, frm, 0, to]) + bytes([i]) * 64 + struct.pack(">I", amount) + bytes([1, 0, 0, 0])

    def deliver(n):
        return b"".join(bytes([3, k % 7]) for k in range(n))

    fire = b"".join(bytes([6, i]) for i in (0, 1, 2, 0, 1, 2))
    put("node_engine", "pay-0-to-2", channels() + invoice(1, 1, 10_000_000) + pay(0, 0)
        + deliver(80) + fire + deliver(40))
    put("node_engine", "pay-2-to-0-and-keysend", channels() + invoice(0, 2, 3_000_000) + pay(1, 0, 2)
        + deliver(30) + keysend(0, 1, 9, 2_000_000) + deliver(80))
    put("node_engine", "mallory-garbage", channels() + invoice(1, 3, 10_000_000) + pay(0, 0)
        + deliver(10) + bytes([7, 20]) + bytes(range(1, 21)) + bytes([7, 5, 0x80, 0x03, 1, 2, 3])
        + deliver(80))
    put("node_engine", "mallory-pays-corrupted", channels() + invoice(1, 4, 20_000_000) + pay(2, 0)
        + bytes([8, 0, 0, 0, 0, 40, 3]) + deliver(20) + bytes([8, 1, 0, 0, 0, 0, 0]) + deliver(60))
    put("node_engine", "redundant-h2tlc", channels() + invoice(1, 6, 12_000_000, lock=0) + pay(0, 0)
        + deliver(120) + fire + deliver(60))
    put("node_engine", "redundant-sender-hash", channels() + invoice(0, 7, 8_000_000, lock=1) + pay(1, 0)
        + deliver(120) + fire + deliver(60))
    put("node_engine", "offline-and-replay", channels() + invoice(1, 5, 7_000_000) + pay(0, 0)
        + bytes([9, 0, 0, 0, 30, 0, 0, 1]) + deliver(40) + bytes([9, 0, 0, 1, 0, 0, 1, 0]) + deliver(60))


def main():
    tmp = tempfile.mkdtemp()
    try:
        make_all(tmp)
    finally:
        shutil.rmtree(tmp)
    write_seeds()


def make_all(tmp):
    fixtures = os.path.join(ROOT, "crates", "flotilla-graph", "tests", "fixtures")

    # Graph importers.
    run("graph", "generate", "watts-strogatz", "--nodes", "6", "--k", "2", "-o", f"{tmp}/ws.json")
    run("graph", "generate", "watts-strogatz", "--nodes", "6", "--k", "2", "--to", "simln", "-o", f"{tmp}/sim.json")
    run("graph", "generate", "watts-strogatz", "--nodes", "5", "--k", "2", "--to", "cloth", "-o", f"{tmp}/cloth")
    put("graph_describegraph", "generated.json", open(f"{tmp}/ws.json", "rb").read())
    put("graph_describegraph", "lncli.json", open(f"{fixtures}/lncli-describegraph.json", "rb").read())
    put("graph_describegraph", "empty.json", '{"nodes":[],"edges":[]}')
    put("graph_listchannels", "cln.json", open(f"{fixtures}/listchannels.json", "rb").read())
    put("graph_listchannels", "empty.json", '{"channels":[]}')
    put("graph_simln", "generated.json", open(f"{tmp}/sim.json", "rb").read())
    put("graph_simln", "empty.json", '{"sim_network":[]}')
    cloth = [open(f"{tmp}/cloth/{n}.csv", "rb").read() for n in ("nodes", "channels", "edges")]
    put("graph_cloth", "generated", b"\xff".join(cloth))
    put("graph_cloth", "headers", b"id\n\xffid,edge1_id,edge2_id,node1_id,node2_id,capacity\n\xff"
        b"id,channel_id,counter_edge_id,from_node_id,to_node_id,balance,fee_base,fee_proportional,min_htlc,timelock\n")

    # Scenarios.
    for f in scenario_files():
        put("scenario", f, open(os.path.join(ROOT, "scenarios", f), "rb").read())
    put("scenario", "default-printed.toml", run("sim", "--print-default-scenario"))

    # Invoices.
    for i, args in enumerate([
        ["--amount-msat", "50000", "--description", "coffee"],
        ["--amount-msat", "1", "--description", "one msat", "--network", "regtest"],
        ["--amount-msat", "2500000000", "--description", "mpp", "--expiry-secs", "60"],
    ]):
        out = run("invoice", "create", "--seed", str(i + 1), "--timestamp", "1700000000", *args)
        inv = next(w for w in out.split() if w.startswith("ln"))
        # Every invoice gets a fresh random payment hash: a committed one is as good,
        # and keeping it keeps the seeds the same from run to run.
        put("invoice", f"created-{i}", inv, keep_committed=True)

    # Hop payloads.
    put("tlv_payload", "forward", forward_payload(0x0A0B0C0D0E0F0102, 100_000, 800_040))
    put("tlv_payload", "final-mpp", final_payload(50_000, 800_018, secret=b"\x11" * 32, total=150_000))
    put("tlv_payload", "final-redundant", final_payload(
        50_000, 800_018, secret=b"\x11" * 32, total=100_000, redundant=(b"\x22" * 32, 3, 2, 100_000)))
    put("tlv_payload", "final-keysend", final_payload(7_000, 800_018, keysend=b"\x33" * 32))
    put("tlv_payload", "unknown-odd", final_payload(1, 1) + rec(77, b"xyz"))

    # Onions: mode byte, then per mode.
    def framed(hops):
        out = bytes([len(hops) - 1])
        for p in hops:
            out += bytes([len(p) % 256 if len(p) < 256 else 255]) + p[:255] + b"\x00"
        return out

    hops2 = [forward_payload(0x0101010101010101, 10_000, 800_058), final_payload(10_000, 800_018, secret=b"\x44" * 32, total=10_000)]
    put("onion_peel", "built-2-hops", b"\x01" + framed(hops2) + b"\xff")
    put("onion_peel", "built-1-hop-redundant", b"\x01" + framed([final_payload(
        5_000, 800_018, secret=b"\x44" * 32, total=9_000, redundant=(b"\x55" * 32, 1, 1, 9_000))]) + b"\xff")
    put("onion_peel", "wire-packet", b"\x00" + bytes([0]) + bytes(range(256)) * 5)
    put("onion_peel", "failure", b"\x02\x03\x01\x05\x01" + b"\x00" * 8 + b"\x01\x00\x00\x00\x10")

    # The network schedule and the router: structured random bytes.
    rng = random.Random(8)
    for i in range(6):
        head = bytes(rng.randrange(256) for _ in range(7 * 14 + 7 + 5 * 7))
        # Register a few payments, send parts, then deliver and advance a lot.
        ops = b""
        for k in range(3):
            ops += bytes([0, rng.randrange(256), rng.randrange(256), rng.randrange(256), rng.randrange(256), k + i, 1])
        for _ in range(12):
            ops += bytes([1, rng.randrange(3), rng.randrange(5), rng.randrange(4), 0, 0, 0, 0, rng.randrange(3), 0])
        for _ in range(40):
            ops += bytes([rng.choice([3, 4, 5, 6, 7, 8]), rng.randrange(256), rng.randrange(256), rng.randrange(256)])
        put("network", f"schedule-{i}", head + b"\x20" + ops)
    network_seeds()
    node_seeds()
    for i in range(6):
        put("router", f"random-{i}", bytes(rng.randrange(256) for _ in range(400)))


if __name__ == "__main__":
    main()
