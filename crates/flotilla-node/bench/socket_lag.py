#!/usr/bin/env python3
"""How long each peer message sat between its sender's `sendto` and its receiver's
`recvfrom`, from an strace log of live nodes on loopback.

Record the log with the payments bench (8 one-hop payments are plenty):

    strace -f -tt -s 64 -e trace=sendto,recvfrom -e signal=none -o TRACE \
        python3 crates/flotilla-node/bench/payments_per_sec.py BINARY \
        --payments 8 --hops 1 --concurrency 1

then `socket_lag.py TRACE`. BOLT 8 frames are encrypted, so their first bytes are
as good as unique: a `recvfrom` whose data starts with a `sendto`'s first 30 bytes
is that message arriving (when the receiver reads two frames at once, the second
is matched to nothing and left out). The control socket's JSON is skipped. Prints
one line per matched message and a summary; a healthy loopback shows well under a
millisecond for every message. Standard library only.
"""
import re
import sys

LINE = re.compile(r'(\d+)\s+(\d+):(\d+):([\d.]+) (sendto|recvfrom)\((\d+), "((?:[^"\\]|\\.)*)"')


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: socket_lag.py STRACE_LOG")
    sends, recvs = [], []
    with open(sys.argv[1]) as f:
        for line in f:
            m = LINE.match(line)
            if not m:
                continue
            pid, h, mi, s, call, fd, data = m.groups()
            if data.startswith("{") or not data:
                continue
            ms = (int(h) * 3600 + int(mi) * 60 + float(s)) * 1000
            (sends if call == "sendto" else recvs).append((ms, pid, fd, data[:30]))
    lags = []
    for s in sends:
        for r in recvs:
            if r[3] == s[3] and r[0] >= s[0] - 1:
                lags.append((r[0] - s[0], s))
                break
    for lag, (ms, pid, fd, _) in sorted(lags, key=lambda x: x[1][0]):
        print(f"{ms % 100000:10.1f} ms  thread {pid} fd {fd}  lag {lag:.2f} ms")
    v = sorted(lag for lag, _ in lags)
    if not v:
        sys.exit("no peer messages matched")
    slow = [x for x in v if x > 5]
    print(f"messages={len(v)} median_ms={v[len(v) // 2]:.2f} max_ms={v[-1]:.2f} "
          f"over_5ms={len(slow)} ms_lost_over_5ms={sum(slow):.1f}")


if __name__ == "__main__":
    main()
