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
    eval_points: str = ""  # the held-out (eval) loss polyline, on the same axes
    eval_last: tuple | None = None


def loss_chart(history: list, *, eval_history: list | None = None, width: int = WIDTH,
               height: int = HEIGHT) -> LossChart | None:
    """None without points; else the scaled polyline(s) plus axis labels. `eval_history` (the eval loss on the
    held-out rows) is drawn on the same axes as the training loss, so the two can be read against each other."""
    def clean(points):
        return [(int(s), float(v)) for s, v in points or [] if not math.isnan(float(v))]

    pts, evals = clean(history), clean(eval_history)
    if not pts and not evals:
        return None
    both = pts + evals
    xs, ys = [p[0] for p in both], [p[1] for p in both]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    dx, dy = (x1 - x0) or 1, (y1 - y0) or 1
    inner_w, inner_h = width - 2 * PAD, height - 2 * PAD

    def line(points):
        return " ".join(f"{PAD + (x - x0) / dx * inner_w:.1f},{PAD + (y1 - y) / dy * inner_h:.1f}" for x, y in points)

    return LossChart(width, height, line(pts), f"{y1:.4g}", f"{y0:.4g}", x1, x0, pts[-1] if pts else None, len(pts),
                     eval_points=line(evals), eval_last=evals[-1] if evals else None)
