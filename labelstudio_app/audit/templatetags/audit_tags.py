from django import template

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
