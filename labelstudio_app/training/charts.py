"""The loss curve as an SVG drawn on the server (no JavaScript, no inline style)."""
import math
from dataclasses import dataclass

WIDTH, HEIGHT, PAD = 640, 220, 36


@dataclass
class LossChart:
    width: int
    height: int
    points: str  # the polyline's "x,y x,y ..."
    y_max: str
    y_min: str
    x_max: int
    x_min: int
    last: tuple | None
    count: int


def loss_chart(history: list, *, width: int = WIDTH, height: int = HEIGHT) -> LossChart | None:
    """None without points; else the scaled polyline plus axis labels."""
    pts = [(int(s), float(v)) for s, v in history or [] if not math.isnan(float(v))]
    if not pts:
        return None
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    dx, dy = (x1 - x0) or 1, (y1 - y0) or 1
    inner_w, inner_h = width - 2 * PAD, height - 2 * PAD
    coords = " ".join(f"{PAD + (x - x0) / dx * inner_w:.1f},{PAD + (y1 - y) / dy * inner_h:.1f}" for x, y in pts)
    return LossChart(width, height, coords, f"{y1:.4g}", f"{y0:.4g}", x1, x0, pts[-1], len(pts))
