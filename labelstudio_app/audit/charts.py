"""Geometry of the scaling chart (metric against parameter count, log scale). Pure: the template draws the SVG,
so every label goes through Django's escaping and nothing needs inline styles or scripts."""
import math

WIDTH, HEIGHT = 560, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 20, 16, 44


def human_count(n: float) -> str:
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= size:
            v = n / size
            return f"{v:.0f}{unit}" if v >= 10 or v == int(v) else f"{v:.1f}{unit}"
    return f"{n:.0f}"


def scaling_chart(points: list[dict]) -> dict:
    """`points`: [{name, parameters, value}] with parameters > 0 and value in [0, 1]."""
    pts = sorted((p for p in points if p.get("parameters")), key=lambda p: p["parameters"])
    chart = {"width": WIDTH, "height": HEIGHT, "left": LEFT, "top": TOP, "plot_right": WIDTH - RIGHT,
             "plot_bottom": HEIGHT - BOTTOM, "points": [], "polyline": "", "x_ticks": [], "y_ticks": []}
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    for v in (0, 0.25, 0.5, 0.75, 1.0):
        y = TOP + plot_h * (1 - v)
        chart["y_ticks"].append({"y": round(y, 1), "label": f"{v:.2f}", "label_y": round(y + 4, 1)})
    if not pts:
        return chart
    lo, hi = math.log10(pts[0]["parameters"]), math.log10(pts[-1]["parameters"])
    lo, hi = (math.floor(lo), math.ceil(hi)) if hi > lo else (lo - 1, hi + 1)
    if hi == lo:
        hi = lo + 1

    def x_of(n: float) -> float:
        return LEFT + plot_w * (math.log10(n) - lo) / (hi - lo)

    for decade in range(math.floor(lo), math.ceil(hi) + 1):
        n = 10 ** decade
        if lo <= decade <= hi:
            chart["x_ticks"].append({"x": round(x_of(n), 1), "label": human_count(n)})
    for p in pts:
        value = min(1.0, max(0.0, float(p["value"])))
        x, y = x_of(p["parameters"]), TOP + plot_h * (1 - value)
        chart["points"].append({"x": round(x, 1), "y": round(y, 1), "label_y": round(y - 8, 1), "name": p["name"],
                                "value": f"{value:.3f}", "size": human_count(p["parameters"])})
    chart["polyline"] = " ".join(f"{p['x']},{p['y']}" for p in chart["points"])
    chart["x_label_y"] = HEIGHT - 22
    return chart
