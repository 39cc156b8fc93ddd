"""Charts drawn on the server as SVG: attributes only (no inline style, the CSP forbids it), no JS, no CDN.

Every text that reaches the SVG goes through `escape`; the markup itself is built here, so marking the
result safe is sound. Colours are attributes; CSS classes (static/css/app.css, review section) add the rest.
"""
import math

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

ACCENT, MUTED, LINE, A_COL, B_COL = "#2563eb", "#6b7280", "#e3e6eb", "#2563eb", "#d97706"


def _fmt(v: float, pct: bool) -> str:
    return f"{100 * v:.0f}%" if pct else f"{v:.0f}" if abs(v) >= 100 else f"{v:.2f}"


def _svg(width: int, height: int, body: list[str], title: str) -> SafeString:
    head = (f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
            f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>')
    return mark_safe(head + "".join(body) + "</svg>")


def forest(rows: list[dict], *, title: str, lo: float = 0.0, hi: float = 1.0, ref: float | None = 0.5,
           pct: bool = True) -> SafeString:
    """One row per entry: label, point estimate and interval (rows: label, value, low, high, n)."""
    rows = [r for r in rows if r.get("value") is not None]
    label_w, plot_w, row_h, top = 220, 420, 26, 22
    width, height = label_w + plot_w + 90, top + row_h * max(1, len(rows)) + 24

    def x(v):
        v = min(max(v, lo), hi)
        return label_w + (v - lo) / (hi - lo or 1) * plot_w

    body = [f'<line x1="{label_w}" x2="{label_w + plot_w}" y1="{height - 20}" y2="{height - 20}" stroke="{LINE}"/>']
    for tick in (lo, (lo + hi) / 2, hi):
        body.append(f'<text x="{x(tick):.1f}" y="{height - 6}" font-size="11" fill="{MUTED}" '
                    f'text-anchor="middle">{escape(_fmt(tick, pct))}</text>')
    if ref is not None and lo <= ref <= hi:
        body.append(f'<line x1="{x(ref):.1f}" x2="{x(ref):.1f}" y1="{top - 12}" y2="{height - 20}" stroke="{MUTED}" '
                    f'stroke-dasharray="4 3"/>')
    for i, r in enumerate(rows):
        y = top + i * row_h + row_h / 2
        label = str(r["label"])
        label = label if len(label) <= 28 else label[:27] + "…"
        body.append(f'<text x="{label_w - 8}" y="{y + 4:.1f}" font-size="12" text-anchor="end">{escape(label)}</text>')
        if r.get("low") is not None and r.get("high") is not None:
            body.append(f'<line x1="{x(r["low"]):.1f}" x2="{x(r["high"]):.1f}" y1="{y:.1f}" y2="{y:.1f}" '
                        f'stroke="{ACCENT}" stroke-width="2"/>')
        body.append(f'<circle cx="{x(r["value"]):.1f}" cy="{y:.1f}" r="5" fill="{ACCENT}"/>')
        note = _fmt(r["value"], pct) + (f"  n={r['n']}" if r.get("n") is not None else "")
        body.append(f'<text x="{label_w + plot_w + 8}" y="{y + 4:.1f}" font-size="11" fill="{MUTED}">{escape(note)}</text>')
    return _svg(width, height, body, title)


def paired_bars(rows: list[dict], *, title: str, labels: tuple[str, str], lo: float = 1.0, hi: float = 5.0) -> SafeString:
    """Per dimension two bars (A, B) with interval whiskers; rows: label, a{mean,low,high}, b{…}."""
    label_w, plot_w, group_h, top = 140, 420, 46, 28
    width, height = label_w + plot_w + 60, top + group_h * max(1, len(rows)) + 10

    def x(v):
        return label_w + (min(max(v, lo), hi) - lo) / (hi - lo) * plot_w

    body = []
    for j, (name, colour) in enumerate(zip(labels, (A_COL, B_COL))):
        body.append(f'<rect x="{label_w + j * 120}" y="6" width="10" height="10" fill="{colour}"/>'
                    f'<text x="{label_w + j * 120 + 14}" y="15" font-size="11">{escape(name)}</text>')
    for i, r in enumerate(rows):
        y0 = top + i * group_h
        body.append(f'<text x="{label_w - 8}" y="{y0 + 22}" font-size="12" text-anchor="end">{escape(str(r["label"]))}</text>')
        for j, (side, colour) in enumerate((("a", A_COL), ("b", B_COL))):
            m = r[side]
            if m.get("mean") is None:
                continue
            y = y0 + 4 + j * 18
            body.append(f'<rect x="{label_w}" y="{y}" width="{x(m["mean"]) - label_w:.1f}" height="14" fill="{colour}" '
                        f'fill-opacity="0.8"/>')
            body.append(f'<line x1="{x(m["low"]):.1f}" x2="{x(m["high"]):.1f}" y1="{y + 7}" y2="{y + 7}" stroke="#111827"/>')
            body.append(f'<text x="{label_w + plot_w + 6}" y="{y + 11}" font-size="11" fill="{MUTED}">'
                        f'{escape(format(m["mean"], ".2f"))}</text>')
    return _svg(width, height, body, title)


def heatmap(labels: list[str], matrix, *, title: str) -> SafeString:
    """Row player's win rate against the column player; empty where they never met."""
    k = len(labels)
    cell, label_w, top = 54, 170, 110
    width, height = label_w + cell * k + 10, top + cell * k + 10
    body = []
    for j, name in enumerate(labels):
        short = name if len(name) <= 18 else name[:17] + "…"
        cx = label_w + j * cell + cell / 2
        body.append(f'<text x="{cx:.1f}" y="{top - 6}" font-size="11" transform="rotate(-40 {cx:.1f} {top - 6})">'
                    f'{escape(short)}</text>')
    for i, name in enumerate(labels):
        short = name if len(name) <= 22 else name[:21] + "…"
        y = top + i * cell
        body.append(f'<text x="{label_w - 6}" y="{y + cell / 2 + 4:.1f}" font-size="11" text-anchor="end">{escape(short)}</text>')
        for j in range(k):
            v = matrix[i][j]
            xx = label_w + j * cell
            if v is None or (isinstance(v, float) and math.isnan(v)):
                body.append(f'<rect x="{xx}" y="{y}" width="{cell - 2}" height="{cell - 2}" fill="#f3f4f6"/>')
                continue
            t = min(1.0, abs(v - 0.5) * 2)
            hi_c, mid_c = int(255 - 170 * t), int(255 - 110 * t)
            fill = f"#{hi_c:02x}{mid_c:02x}ff" if v >= 0.5 else f"#ff{mid_c:02x}{hi_c:02x}"
            body.append(f'<rect x="{xx}" y="{y}" width="{cell - 2}" height="{cell - 2}" fill="{fill}"/>'
                        f'<text x="{xx + cell / 2 - 1:.1f}" y="{y + cell / 2 + 4:.1f}" font-size="12" '
                        f'text-anchor="middle">{escape(format(100 * v, ".0f"))}%</text>')
    return _svg(width, height, body, title)
