from django import template

from labelstudio_app.audit.charts import human_count

register = template.Library()


@register.filter
def pct(value) -> str:
    """0.8123 -> '81.2%'; missing -> '—'."""
    if value is None or value == "":
        return "—"
    return f"{100 * float(value):.1f}%"


@register.filter
def index(sequence, i):
    try:
        return sequence[int(i)]
    except (IndexError, TypeError, ValueError):
        return ""


@register.filter
def params(value) -> str:
    """494000000 -> '494M'; missing -> '—'."""
    return human_count(value) if value else "—"
