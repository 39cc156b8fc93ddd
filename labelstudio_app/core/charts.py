"""Charts drawn on the server as SVG at their real size: the geometry here, the markup in `templates/charts/`.

Templates escape every label, and there is no script and no inline style, so the CSP holds and no JS library
needs vendoring. Each chart is a dict with its `template`, a `title`, an `empty` text when there is nothing to
draw, and a `table` (the same numbers for screen readers and for copying);
`{% include "charts/chart.html" with chart=c %}` renders all three.
Text is 12 px and never scaled down: a chart keeps its width and scrolls sideways on a narrow screen.
"""
import math

from django.utils.translation import gettext as _

LABEL_CHARS = 28  # labels longer than this are cut (the full label stays in the hover title and the table)


def text_width(text: str, size: int = 12) -> float:
    """Rough rendered width: a CJK character is about one em, a Latin one about 0.6 em."""
    return sum(size if ord(ch) > 0x2E80 else 0.6 * size for ch in text)


def short(label: str, chars: int = LABEL_CHARS) -> str:
    return label if len(label) <= chars else label[:chars - 1] + "…"


def fmt(v: float | None, pct: bool = False) -> str:
    if v is None:
        return "—"
    if pct:
        return f"{100 * v:.0f}%"
    if float(v).is_integer() or abs(v) >= 100:
        return f"{v:.0f}"
    return f"{v:.4g}"


def nice_ticks(lo: float, hi: float, count: int = 5, integer: bool = False) -> list[float]:
    """Round tick values covering [lo, hi] (1, 2 or 5 times a power of ten apart; whole numbers if `integer`)."""
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / max(1, count - 1)
    raw = max(raw, 1) if integer else raw
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first = math.floor(lo / step) * step
    ticks, t = [], first
    while t <= hi + step * 1e-9:
        ticks.append(round(t, 12))
        t += step
    if ticks[-1] < hi:
        ticks.append(round(t, 12))
    return ticks


def _interval(r: dict, pct: bool) -> str:
    if r.get("low") is None or r.get("high") is None:
        return ""
    return f"{fmt(r['low'], pct)} – {fmt(r['high'], pct)}"


def forest(rows: list[dict], *, title: str, lo: float = 0.0, hi: float = 1.0, ref: float | None = 0.5,
           pct: bool = True, value_name: str | None = None, empty: str | None = None) -> dict:
    """One row per entry: its point estimate with the 95% interval as a bar (rows: label, value, low, high, n)."""
    rows = [r for r in rows if r.get("value") is not None]
    label_w = min(260, 16 + max([text_width(short(str(r["label"]))) for r in rows] or [60]))
    plot_w, row_h, top = 440, 30, 12
    width, height = int(label_w + plot_w + 110), top + row_h * max(1, len(rows)) + 34
    axis_y = height - 28

    def x(v):
        return round(label_w + (min(max(v, lo), hi) - lo) / (hi - lo or 1) * plot_w, 1)

    ticks = [{"x": x(t), "label": fmt(t, pct)} for t in (nice_ticks(lo, hi) if not pct else (0, .25, .5, .75, 1))
             if lo <= t <= hi]
    out = []
    for i, r in enumerate(rows):
        y = top + i * row_h + row_h / 2
        interval = _interval(r, pct)
        n = f"n={r['n']}" if r.get("n") is not None else ""
        out.append({"label": str(r["label"]), "short": short(str(r["label"])), "y": round(y, 1),
                    "text_y": round(y + 4, 1), "x": x(r["value"]), "value": fmt(r["value"], pct),
                    "interval": interval, "n": n,
                    "x_low": x(r["low"]) if interval else None, "x_high": x(r["high"]) if interval else None})
    return {"template": "charts/forest.html", "title": title, "width": width, "height": height,
            "label_w": label_w, "plot_right": label_w + plot_w, "note_x": label_w + plot_w + 10, "top": top,
            "axis_y": axis_y, "tick_y": axis_y + 16, "ticks": ticks, "rows": out,
            "ref_x": x(ref) if ref is not None and lo <= ref <= hi else None,
            "empty": None if rows else (empty or _("No data yet.")),
            "table": {"head": ["", value_name or _("Value"),
                               # xgettext:no-python-format ("% i" is no placeholder; msgfmt refused "95% 区间")
                               _("95% interval"), "n"],
                      "rows": [[r["label"], r["value"], r["interval"], r["n"].removeprefix("n=")] for r in out]}}


def paired_bars(rows: list[dict], *, title: str, labels: tuple[str, str], lo: float = 1.0, hi: float = 5.0,
                empty: str | None = None) -> dict:
    """Per row two bars (a, b: {mean, low, high}) with interval whiskers, and a legend that never overlaps."""
    rows = [r for r in rows if r["a"].get("mean") is not None or r["b"].get("mean") is not None]
    label_w = min(220, 16 + max([text_width(str(r["label"])) for r in rows] or [60]))
    plot_w, group_h, top = 440, 50, 34
    width, height = int(label_w + plot_w + 70), top + group_h * max(1, len(rows)) + 30
    axis_y = height - 26

    def x(v):
        return round(label_w + (min(max(v, lo), hi) - lo) / (hi - lo) * plot_w, 1)

    legend, lx = [], label_w
    for j, name in enumerate(labels):
        legend.append({"x": lx, "text_x": lx + 16, "name": short(name, 40), "series": "ab"[j]})
        lx += 16 + text_width(short(name, 40)) + 24
    out = []
    for i, r in enumerate(rows):
        y0 = top + i * group_h
        bars = []
        for j, side in enumerate("ab"):
            m = r[side]
            if m.get("mean") is None:
                continue
            y = y0 + 4 + j * 20
            bars.append({"series": side, "name": labels[j], "y": y, "mid_y": y + 8, "text_y": y + 12,
                         "x0": x(lo), "w": round(x(m["mean"]) - x(lo), 1), "value": f"{m['mean']:.2f}",
                         "interval": _interval(m, False),
                         "x_low": x(m["low"]) if m.get("low") is not None else None,
                         "x_high": x(m["high"]) if m.get("high") is not None else None})
        out.append({"label": str(r["label"]), "text_y": y0 + 26, "bars": bars})
    ticks = [{"x": x(t), "label": fmt(t)} for t in nice_ticks(lo, hi) if lo <= t <= hi]
    head = ["", *labels, *(_("%(name)s 95%%") % {"name": name} for name in labels)]
    table = []
    for r in rows:
        table.append([r["label"], *(fmt(r[s].get("mean")) for s in "ab"), *(_interval(r[s], False) for s in "ab")])
    return {"template": "charts/bars.html", "title": title, "width": width, "height": height, "label_w": label_w,
            "plot_right": label_w + plot_w, "note_x": label_w + plot_w + 8, "axis_y": axis_y, "tick_y": axis_y + 16,
            "top": top, "legend": legend, "rows": out, "ticks": ticks,
            "empty": None if rows else (empty or _("No data yet.")), "table": {"head": head, "rows": table}}


def heatmap(labels: list[str], matrix, *, title: str, empty: str | None = None) -> dict:
    """Row player's win rate against the column player; empty where they never met."""
    k = len(labels)
    cell, top = 58, 120
    label_w = min(240, 16 + max([text_width(short(n, 22)) for n in labels] or [60]))
    width, height = int(label_w + cell * k + 10), top + cell * k + 10
    columns = []
    for j, name in enumerate(labels):
        cx = round(label_w + j * cell + cell / 2, 1)
        columns.append({"x": cx, "y": top - 8, "name": name, "short": short(name, 18)})
    out, table = [], []
    for i, name in enumerate(labels):
        y = top + i * cell
        cells, trow = [], [name]
        for j in range(k):
            v = matrix[i][j]
            missing = v is None or (isinstance(v, float) and math.isnan(v))
            trow.append("" if missing else fmt(v, True))
            if missing:
                cells.append({"x": label_w + j * cell, "fill": "#f3f4f6", "value": None, "col": labels[j]})
                continue
            t = min(1.0, abs(v - 0.5) * 2)
            hi_c, mid_c = int(255 - 170 * t), int(255 - 110 * t)
            cells.append({"x": label_w + j * cell, "text_x": round(label_w + j * cell + cell / 2 - 1, 1),
                          "fill": f"#{hi_c:02x}{mid_c:02x}ff" if v >= 0.5 else f"#ff{mid_c:02x}{hi_c:02x}",
                          "value": fmt(v, True), "col": labels[j]})
        out.append({"name": name, "short": short(name, 22), "y": y, "text_y": round(y + cell / 2 + 4, 1),
                    "cells": cells})
        table.append(trow)
    return {"template": "charts/heatmap.html", "title": title, "width": width, "height": height,
            "label_w": label_w, "cell": cell - 2, "columns": columns, "rows": out,
            "empty": None if k else (empty or _("No data yet.")), "table": {"head": ["", *labels], "rows": table}}


def lines(series: list[dict], *, title: str, x_label: str, y_label: str, x_log: bool = False,
          y_range: tuple[float, float] | None = None, x_format=None, point_labels: bool = False,
          empty: str | None = None, width: int = 720, height: int = 300) -> dict:
    """Line series on shared axes with a grid and hover values. series: {name, points: [(x, y) or (x, y, label)],
    dashed?}; `x_log` puts x on a log scale (x > 0); `point_labels` writes each value above its point."""
    clean = []
    for s in series:
        pts = [p for p in s["points"] if p[1] is not None and not math.isnan(float(p[1]))
               and (not x_log or p[0] > 0)]
        if pts:
            clean.append({**s, "points": sorted(pts, key=lambda p: p[0])})
    left, right, top, bottom = 64, 20, 34, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    x_format = x_format or (lambda v: str(int(v)) if float(v).is_integer() else fmt(v))
    chart = {"template": "charts/lines.html", "title": title, "width": width, "height": height, "left": left,
             "top": top, "plot_right": width - right, "plot_bottom": height - bottom, "x_label": x_label,
             "y_label": y_label, "x_label_y": height - 8, "series": [], "x_ticks": [], "y_ticks": [],
             "legend": [], "empty": None, "table": {"head": [x_label], "rows": []}}
    if not clean:
        chart["empty"] = empty or _("No data yet.")
        return chart
    xs = [float(p[0]) for s in clean for p in s["points"]]
    ys = [float(p[1]) for s in clean for p in s["points"]]
    if x_log:
        lo_x, hi_x = math.floor(math.log10(min(xs))), math.ceil(math.log10(max(xs)))
        hi_x = hi_x if hi_x > lo_x else lo_x + 1
        x_ticks = [10 ** d for d in range(lo_x, hi_x + 1)]
    else:
        x_ticks = nice_ticks(min(xs), max(xs), 6, integer=all(x.is_integer() for x in xs))
        lo_x, hi_x = x_ticks[0], x_ticks[-1]
    y_ticks = nice_ticks(*(y_range or (min(ys), max(ys))), 5)
    if y_range:
        y_ticks = [t for t in y_ticks if y_range[0] <= t <= y_range[1]]
    lo_y, hi_y = (y_range or (y_ticks[0], y_ticks[-1]))

    def px(v):
        v = math.log10(v) if x_log else v
        return round(left + plot_w * (v - lo_x) / ((hi_x - lo_x) or 1), 1)

    def py(v):
        return round(top + plot_h * (1 - (min(max(v, lo_y), hi_y) - lo_y) / ((hi_y - lo_y) or 1)), 1)

    chart["x_ticks"] = [{"x": px(t), "label": x_format(t)} for t in x_ticks]
    chart["y_ticks"] = [{"y": py(t), "label": fmt(t), "label_y": py(t) + 4} for t in y_ticks]
    lx = left
    for i, s in enumerate(clean):
        pts = s["points"]
        every = max(1, len(pts) // 60)  # hover markers for at most ~60 points a series
        marks = [{"x": px(p[0]), "y": py(p[1]), "label_y": py(p[1]) - 8, "value": fmt(p[1]),
                  "title": f"{p[2] + ' · ' if len(p) > 2 else ''}{x_format(p[0])} · {fmt(p[1])}"}
                 for k, p in enumerate(pts) if k % every == 0 or k == len(pts) - 1]
        # Past ~20 points the markers stay invisible (the line reads better) but still show their value on hover.
        chart["series"].append({"name": s["name"], "index": i, "dashed": s.get("dashed", False), "marks": marks,
                                "dense": len(pts) > 20,
                                "polyline": " ".join(f"{px(p[0])},{py(p[1])}" for p in pts)})
        chart["legend"].append({"x": lx, "text_x": lx + 20, "name": s["name"], "index": i,
                                "dashed": s.get("dashed", False)})
        lx += 20 + text_width(s["name"]) + 24
        chart["table"]["head"].append(s["name"])
    chart["point_labels"] = point_labels
    named = any(len(p) > 2 for s in clean for p in s["points"])
    by_x: dict = {}
    for i, s in enumerate(clean):
        for p in s["points"]:
            key = (p[0], p[2] if named and len(p) > 2 else "")
            by_x.setdefault(key, [""] * len(clean))[i] = fmt(p[1])
    chart["table"]["head"] = ([""] if named else []) + chart["table"]["head"]
    chart["table"]["rows"] = [([name] if named else []) + [x_format(x), *vals]
                              for (x, name), vals in sorted(by_x.items())]
    return chart
