"""The scaling chart: the audit's metric against each model's parameter count, on a log scale."""
from django.utils.translation import gettext as _

from labelstudio_app.core import charts


def human_count(n: float) -> str:
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= size:
            v = n / size
            return f"{v:.0f}{unit}" if v >= 10 or v == int(v) else f"{v:.1f}{unit}"
    return f"{n:.0f}"


def scaling_chart(points: list[dict], *, metric: str) -> dict:
    """`points`: [{name, parameters, value}] with parameters > 0 and value in [0, 1]."""
    pts = [(p["parameters"], min(1.0, max(0.0, float(p["value"]))), p["name"]) for p in points
           if p.get("parameters") and p.get("value") is not None]
    return charts.lines([{"name": metric, "points": pts}], title=_("Metric against parameter count (log scale)"),
                        x_label=_("parameters (log scale)"), y_label=metric, x_log=True, y_range=(0.0, 1.0),
                        x_format=human_count, point_labels=True, height=320,
                        empty=_("No model with a known parameter count has answers yet."))
