#!/usr/bin/env python3
"""Payments per second between live flotilla nodes on loopback.

Starts `flotilla node run` processes (one hop: 2 nodes; four hops: 5 nodes in a
line), opens channels, then sends keysend payments through the control socket from
C concurrent clients and reports payments/s. Every state change is durable (SQLite,
synchronous = FULL). Standard library only.

After each cell it prints where the time went, per node, from `info --json`'s
`engine.durable` (inputs applied, commits, inputs per commit, mean commit time,
mean apply time per input) and how many HTLCs rode each `commitment_signed` the
node received; and the control socket's round trip (a `peers` request, which
touches neither the engine nor the store).

`--dir D` puts the nodes' data directories under D: on a tmpfs (`/dev/shm`) an
`fsync` costs nothing, which separates the disk's share of the time from the rest.

usage: payments_per_sec.py FLOTILLA_BINARY [--payments N] [--concurrency C ...] [--hops H ...]
                           [--dir D]
"""
import argparse, json, os, shutil, socket, subprocess, sys, tempfile, threading, time


def ask(sock_path, token, request):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock_path)
    f = s.makefile("rwb")
    f.write((json.dumps(dict(token=token, **request)) + "\n").encode())
    f.flush()
    r = json.loads(f.readline())
    s.close()
    if not r["ok"]:
        raise RuntimeError(r["error"])
    return r["result"]


class Node:
    def __init__(self, binary, d):
        self.d = d
        self.proc = subprocess.Popen(
            [binary, "node", "run", "--data-dir", d, "--listen", "127.0.0.1:0"],
            stdout=subprocess.DEVNULL, stderr=open(d + ".log", "w"))
        for _ in range(600):
            try:
                nf = json.load(open(os.path.join(d, "node.json")))
                if nf["pid"] == self.proc.pid:
                    self.sock = nf["control"]["socket"]
                    self.token = open(nf["control"]["token_file"]).read().strip()
                    self.info = ask(self.sock, self.token, {"request": "info"})
                    return
            except Exception:
                pass
            time.sleep(0.1)
        raise RuntimeError("node did not start")

    def __call__(self, **req):
        return ask(self.sock, self.token, req)

    def stop(self):
        try:
            self(request="stop")
        except Exception:
            pass
        self.proc.wait(timeout=20)


# The message counters `info` keeps, by name.
ADD, COMMIT_SIGNED = "update_add_htlc", "commitment_signed"


def report_profile(nodes):
    t = time.time()
    for _ in range(50):
        nodes[0](request="peers")
    rtt = (time.time() - t) / 50 * 1000
    for i, n in enumerate(nodes):
        info = n(request="info")
        got = info.get("messages", {}).get("received", {})
        adds, sigs = got.get(ADD, 0), got.get(COMMIT_SIGNED, 0)
        per_sig = f"{adds / sigs:.2f}" if sigs else "-"
        d = info.get("engine", {}).get("durable")
        if d is None:
            print(f"  node {i}: received adds={adds} commitment_signed={sigs} "
                  f"htlcs_per_commitment_signed={per_sig}", flush=True)
            continue
        commits = max(d["commits"], 1)
        inputs = max(d["inputs"], 1)
        print(f"  node {i}: inputs={d['inputs']} commits={d['commits']} "
              f"inputs_per_commit={d['inputs_per_commit']:.2f} "
              f"commit_ms={d['commit_us'] / commits / 1000:.2f} "
              f"apply_us_per_input={d['apply_us'] / inputs:.0f} "
              f"release_us_per_commit={d['release_us'] / commits:.0f} "
              f"received adds={adds} commitment_signed={sigs} "
              f"htlcs_per_commitment_signed={per_sig}", flush=True)
    print(f"  control socket round trip (peers): {rtt:.2f} ms", flush=True)


def run(binary, hops, payments, concurrency, base=None):
    tmp = tempfile.mkdtemp(dir=base)
    nodes = [Node(binary, os.path.join(tmp, f"n{i}")) for i in range(hops + 1)]
    try:
        for a, b in zip(nodes, nodes[1:]):
            a(request="connect", peer=b.info["uri"])
            a(request="open-channel", peer=b.info["node_id"], capacity_sat=10_000_000)
        target = nodes[-1].info["node_id"]
        for _ in range(300):
            if nodes[0](request="info")["engine"]["known_channels"] == hops:
                break
            time.sleep(0.1)
        # One payment to warm up routing and the streams.
        nodes[0](request="keysend", peer=target, amount_msat=1000, max_parts=1)
        done, failed = [0], [0]
        lock = threading.Lock()
        per = payments // concurrency

        def worker():
            for _ in range(per):
                r = nodes[0](request="keysend", peer=target, amount_msat=1000, max_parts=1)
                with lock:
                    done[0] += 1
                    failed[0] += r["status"] != "succeeded"

        t0 = time.time()
        ts = [threading.Thread(target=worker) for _ in range(concurrency)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        dt = time.time() - t0
        report_profile(nodes)
        return done[0], failed[0], dt
    finally:
        for n in nodes:
            n.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("binary")
    p.add_argument("--payments", type=int, default=320)
    p.add_argument("--concurrency", type=int, nargs="+", default=[1, 32])
    p.add_argument("--hops", type=int, nargs="+", default=[1, 4])
    p.add_argument("--dir", default=None, help="where the data directories go")
    a = p.parse_args()
    for hops in a.hops:
        for c in a.concurrency:
            n, failed, dt = run(a.binary, hops, a.payments, c, a.dir)
            print(f"hops={hops} concurrency={c} payments={n} failed={failed} "
                  f"seconds={dt:.2f} payments_per_s={n / dt:.1f}", flush=True)


if __name__ == "__main__":
    main()
