#!/usr/bin/env python3
"""Draws a soak run's memory curve as a small SVG.

    scripts/rss_svg.py RSS_CSV OUT_SVG [TITLE]

RSS_CSV is what scripts/soak.sh writes (`elapsed_s,rss_kb,hwm_kb,rows_bytes`, one
sample a second). When the run's payments.csv sits next to it, the SVG plots resident
memory (MiB) against payments finished (rows written ÷ average row length); otherwise
against wall time. The peak is marked. Standard library only.
"""
import csv
import os
import sys


def main():
    src, dst = sys.argv[1], sys.argv[2]
    title = sys.argv[3] if len(sys.argv) > 3 else "resident memory during the soak"
    samples = list(csv.DictReader(open(src)))
    payments = os.path.join(os.path.dirname(src), "payments.csv")
    by_payments = "rows_bytes" in samples[0] and os.path.exists(payments)
    if by_payments:
        with open(payments) as f:
            header = len(f.readline())
            count = sum(1 for _ in f)
        per_row = (os.path.getsize(payments) - header) / max(count, 1)
        rows, done = [], 0.0
        for r in samples:
            # The part files are joined into payments.csv at the end (rows_bytes drops to
            # 0 then): the count of finished payments never goes back.
            done = max(done, int(r["rows_bytes"]) / per_row)
            rows.append((done, int(r["rss_kb"]) / 1024))
        x_label, x_scale, x_unit = "payments finished (thousands)", 1000, "{:.0f}"
    else:
        rows = [(float(r["elapsed_s"]), int(r["rss_kb"]) / 1024) for r in samples]
        x_label, x_scale, x_unit = "wall time (min)", 60, "{:.0f}"
    rows = [r for r in rows if r[1] > 1]
    t_max = max(t for t, _ in rows)
    if by_payments:
        t_max = max(t_max, count)
    m_max = max(m for _, m in rows)
    y_top = max(50, ((int(m_max) // 50) + 1) * 50)
    w, h, left, right, top, bottom = 640, 300, 60, 20, 40, 45
    pw, ph = w - left - right, h - top - bottom

    def x(t):
        return left + pw * t / t_max

    def y(m):
        return top + ph * (1 - m / y_top)

    # At most ~600 points: the curve is drawn through every k-th sample.
    step = max(1, len(rows) // 600)
    pts = " ".join(f"{x(t):.1f},{y(m):.1f}" for t, m in rows[::step] + [rows[-1]])
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        f'viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">',
        f'<rect width="{w}" height="{h}" fill="white"/>',
        f'<text x="{w / 2}" y="20" text-anchor="middle" font-size="14">{title}</text>',
    ]
    for i in range(6):
        m = y_top * i / 5
        out.append(f'<line x1="{left}" y1="{y(m):.1f}" x2="{w - right}" y2="{y(m):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y(m) + 4:.1f}" text-anchor="end">{m:.0f}</text>')
    for i in range(6):
        t = t_max * i / 5
        label = x_unit.format(t / x_scale)
        out.append(f'<text x="{x(t):.1f}" y="{h - bottom + 16}" text-anchor="middle">{label}</text>')
    out.append(f'<text x="{left + pw / 2}" y="{h - 8}" text-anchor="middle">{x_label}</text>')
    out.append(f'<text x="14" y="{top + ph / 2}" text-anchor="middle" '
               f'transform="rotate(-90 14 {top + ph / 2})">RSS (MiB)</text>')
    out.append(f'<polyline points="{pts}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>')
    tp, mp = max(rows, key=lambda r: r[1])
    out.append(f'<circle cx="{x(tp):.1f}" cy="{y(mp):.1f}" r="3" fill="#d62728"/>')
    out.append(f'<text x="{min(x(tp), w - right - 90):.1f}" y="{y(mp) - 8:.1f}" fill="#d62728">'
               f'peak {mp:.0f} MiB</text>')
    out.append("</svg>")
    open(dst, "w").write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
